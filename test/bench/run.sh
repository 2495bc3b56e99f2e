#!/usr/bin/env bash
# make bench: what crm_grade's triggers cost on writes, measured in ONE run on a throw-away
# pg_virtualenv cluster against an identical PLAIN table and against an identical table with the
# PL/pgSQL trigger a DBA would write instead (plpgsql_baseline.sql), in alternating repetitions.
#
#   (b) bulk, first, each a fresh load (all three tables truncated before each round):
#       INSERT ... SELECT of BENCH_BULK_ROWS orders over BENCH_BULK_CUSTOMERS customers (bulk.sql),
#       then COPY of the same rows from a file written once from that load (copy.sql);
#       BENCH_BULK_ROUNDS rounds of each
#   (a) single-row transactions with pgbench, BENCH_CLIENTS clients, BENCH_SECONDS per run, after
#       a warm-up of each side, BENCH_ROUNDS rounds of each: INSERT of an order (insert.pgbench),
#       UPDATE of an order's amount (update.pgbench), DELETE + INSERT of an order
#       (delete_insert.pgbench), INSERT of a contact (contact.pgbench)
# Sides: attached (bench.orders, bench.contacts), plain (..._plain), plpgsql (..._plpgsql).  In odd
# rounds they run attached, plain, plpgsql; in even rounds plpgsql, plain, attached.  (b) runs
# first so that (a) writes for customers that already have a history (the last COPY's rows), as in
# production.  Each write reports tps (or time) attached / plain, plpgsql / plain, and crm_grade's
# extra time per row as a share of the PL/pgSQL trigger's,
#     (1/tps_attached - 1/tps_plain) / (1/tps_plpgsql - 1/tps_plain)   (bulk: from the times),
# per round and its median (target <= 0.33).  Then crm_grade.verify() must return no row (after
# one regrade() if needed) and bench.plpgsql_check() likewise (after the baseline's nightly job,
# which may only fix the windowed fields), or the script exits non-zero.  Last, if an executable
# test/bench/maintenance.sh exists, its --in-cluster part runs and its output joins the report.
#
# Settings (environment):
#   BENCH_SECONDS         seconds per pgbench run                            (default 20)
#   BENCH_ROUNDS          alternating rounds of each single-row write          (default 3)
#   BENCH_CLIENTS         pgbench clients (and threads)                        (default 2)
#   BENCH_BULK_ROWS       orders per bulk load                                 (default 1000000)
#   BENCH_BULK_CUSTOMERS  customer keys 1..N, for the bulk loads and pgbench   (default 100000)
#   BENCH_BULK_ROUNDS     alternating rounds of each bulk load                 (default 2, fewer than
#                         BENCH_ROUNDS: a PL/pgSQL load of a million rows takes most of a minute)
#   BENCH_AA=1            A/A run: leave bench.orders and bench.contacts plain too, to see the noise
#   BENCH_FSYNC=on        durable commits (pg_virtualenv's default is fsync=off)
# With the defaults the write part takes about 17 to 21 minutes on 2 cores: 12 of them pgbench
# (4 writes x 3 sides x 3 rounds x 20 s), 4 to 5 the bulk loads, 2 to 4 verify() (twice when
# customers went stale during the run); the report ends with the durations.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench

BENCH_SECONDS=${BENCH_SECONDS:-20}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
BENCH_BULK_ROWS=${BENCH_BULK_ROWS:-1000000}
BENCH_BULK_CUSTOMERS=${BENCH_BULK_CUSTOMERS:-100000}
BENCH_BULK_ROUNDS=${BENCH_BULK_ROUNDS:-2}
BENCH_AA=${BENCH_AA:-0}

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    make
    make install
    if [ -n "${MAKELEVEL:-}" ]; then export BENCH_COMMAND="make bench"; else export BENCH_COMMAND="bash $BENCH/run.sh"; fi
    # pg_virtualenv turns fsync off; BENCH_FSYNC=on measures with durable commits,
    # as a production server has them
    exec pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC \
        -o "fsync=${BENCH_FSYNC:-off}" \
        bash "$ROOT/$BENCH/run.sh" --in-cluster
fi

# ---------------------------------------------------------------------------------------------
# Inside the cluster.

# The single-row writes need the ids 1..BENCH_BULK_ROWS that the last bulk load leaves.
if [ "$BENCH_BULK_ROUNDS" -lt 1 ] || [ "$BENCH_ROUNDS" -lt 1 ] || [ "$BENCH_BULK_ROWS" -lt "$BENCH_CLIENTS" ]; then
    echo "bench: BENCH_ROUNDS and BENCH_BULK_ROUNDS must be at least 1, BENCH_BULK_ROWS at least BENCH_CLIENTS" >&2
    exit 2
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { echo "$EPOCHREALTIME"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mean() { awk -v f="$1" '{ s += $1; n++ } END { if (n) printf f, s / n }'; }
# median of the numbers on stdin ("n/a" lines left out)
median() { grep -v '^n/a$' | sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "n/a"; else printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# share UNIT ATTACHED PLAIN PLPGSQL: crm_grade's extra time per row as a share of the PL/pgSQL
# trigger's, from tps (time per row = 1/tps) or from the times of the same load (unit s)
share() {
    awk -v u="$1" -v a="$2" -v p="$3" -v l="$4" 'BEGIN {
        if (u == "tps") { if (a <= 0 || p <= 0 || l <= 0) { print "n/a"; exit } a = 1 / a; p = 1 / p; l = 1 / l }
        if (l - p > 0) printf "%.2f", (a - p) / (l - p); else print "n/a" }'
}

if [ "$BENCH_AA" = 1 ]; then ATTACH=false; SIDE_A="A/A plain"; else ATTACH=true; SIDE_A="attached"; fi
SIDES=(att plain plpg)
# table_of BASE SIDE: bench.orders, bench.orders_plain, bench.orders_plpgsql (contacts alike)
table_of() { case $2 in att) echo "$1" ;; plain) echo "${1}_plain" ;; plpg) echo "${1}_plpgsql" ;; esac; }
# Odd rounds run attached, plain, plpgsql; even rounds the reverse: each side runs both first and
# last, and plain, the reference of both ratios, always sits next to each of the other two.
order_of() { if [ $(($1 % 2)) -eq 1 ]; then echo "att plain plpg"; else echo "plpg plain att"; fi; }
first_of() { if [ $(($1 % 2)) -eq 1 ]; then echo "$SIDE_A"; else echo plpgsql; fi; }

mkdir -p "$BENCH/results"
REPORT="$BENCH/results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"
# Written by the server (COPY ... TO a file is done by its process, as its OS user), read back
# by COPY ... FROM; removed on the way out.
COPY_FILE=/tmp/crm_grade_bench_copy.$$.csv
trap 'rm -f "$COPY_FILE"' EXIT

# The library is installed from another tree while this runs, perhaps: each new connection loads
# the file on disk, so the report names the build and says if it changed during the run.
LIB="$(sql "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")/crm_grade.so"
lib_mtime() { if [ -e "$LIB" ]; then stat -c %y "$LIB" | cut -c1-19; else echo "nothing"; fi; }
LIB_MTIME=$(lib_mtime)

echo "setting up bench.orders, bench.contacts (attach: $ATTACH), their _plain and _plpgsql twins"
"${PSQL[@]}" -v attach="$ATTACH" -f "$BENCH/setup.sql" >/dev/null
# The PL/pgSQL baseline's nightly job re-aggregates the customers whose orders left the window
# since this moment (no row of any bench table is older).
SINCE=$(sql "SELECT now()")

# (b) bulk loads ---------------------------------------------------------------------------------
T_START=$(now)
# Each round starts from empty tables (and so empty state: crm_grade and the baseline both handle
# TRUNCATE), with the sequences restarted so that every load leaves ids 1..BENCH_BULK_ROWS.
declare -A VAL   # VAL[write,round,side]: tps or seconds
bulk_round() {  # bulk_round WRITE ROUND SCRIPT ARGS...: one timed load per side
    local write=$1 r=$2 script=$3 side tbl t0 t1
    shift 3
    sql "TRUNCATE bench.orders, bench.orders_plain, bench.orders_plpgsql RESTART IDENTITY" >/dev/null
    sql "VACUUM ANALYZE" >/dev/null
    for side in $(order_of "$r"); do
        tbl=$(table_of bench.orders "$side")
        sql "CHECKPOINT" >/dev/null
        t0=$(now)
        "${PSQL[@]}" -v tbl="$tbl" "$@" -f "$BENCH/$script"
        t1=$(now)
        VAL[$write,$r,$side]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        echo "$write round $r: $tbl ${VAL[$write,$r,$side]} s"
    done
}
for ((r = 1; r <= BENCH_BULK_ROUNDS; r++)); do
    bulk_round bulk_insert "$r" bulk.sql -v rows="$BENCH_BULK_ROWS" -v customers="$BENCH_BULK_CUSTOMERS" -v seed="0.$r"
done
# The COPY loads read the rows of the last INSERT ... SELECT load, in their order.
sql "COPY (SELECT customer_id, amount, ordered_at, paid_at FROM bench.orders_plain ORDER BY id)
     TO '$COPY_FILE' (FORMAT csv)" >/dev/null
for ((r = 1; r <= BENCH_BULK_ROUNDS; r++)); do
    bulk_round bulk_copy "$r" copy.sql -v file="$COPY_FILE"
done
sql "VACUUM ANALYZE" >/dev/null
T_BULK=$(now)

# (a) single-row transactions --------------------------------------------------------------------
# Deadlocks between two clients (each locking two customers' state rows in a DELETE + INSERT)
# are possible on the attached and the PL/pgSQL side, if rare: --max-tries retries them, as an
# application would, instead of counting them as failed transactions.
PGBENCH_OPTS="-n -c $BENCH_CLIENTS -j $BENCH_CLIENTS --max-tries=10"
PGBENCH_VARS="-D customers=$BENCH_BULK_CUSTOMERS -D rows=$BENCH_BULK_ROWS -D clients=$BENCH_CLIENTS"
# pgbench_tps SECONDS SCRIPT TABLE SEED: prints the tps (without initial connection time).
pgbench_tps() {
    local out tps failed_tx
    # shellcheck disable=SC2086
    out=$(pgbench $PGBENCH_OPTS -T "$1" -f "$BENCH/$2" --random-seed="$4" -D tbl="$3" $PGBENCH_VARS 2>&1) || {
        echo "$out" >&2; echo "bench: pgbench $2 failed on $3" >&2; return 1; }
    tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' <<<"$out")
    failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
    if [ -z "$tps" ] || [ "${failed_tx:-0}" != 0 ]; then
        echo "$out" >&2; echo "bench: pgbench $2 on $3 reported no tps or failed transactions" >&2; return 1
    fi
    awk -v t="$tps" 'BEGIN { printf "%.1f", t }'
}
# A short warm-up of each side per write (caches, plans): twelve of them at BENCH_SECONDS / 4 would
# add three minutes to the run.
WARMUP=$(( BENCH_SECONDS / 10 > 2 ? BENCH_SECONDS / 10 : 2 ))
# WRITES: name, pgbench script, table base, and the report's title
WRITES=(insert update delete_insert contact)
declare -A SCRIPT=([insert]=insert.pgbench [update]=update.pgbench [delete_insert]=delete_insert.pgbench [contact]=contact.pgbench)
declare -A BASE=([insert]=bench.orders [update]=bench.orders [delete_insert]=bench.orders [contact]=bench.contacts)
declare -A TITLE=(
    [insert]="single-row INSERT of an order"
    [update]="single-row UPDATE of an order's amount (random existing id)"
    [delete_insert]="single-row DELETE + INSERT of an order in one transaction"
    [contact]="single-row INSERT of a contact"
    [bulk_insert]="one INSERT ... SELECT of $BENCH_BULK_ROWS orders over customers 1..$BENCH_BULK_CUSTOMERS"
    [bulk_copy]="one COPY of the same $BENCH_BULK_ROWS orders from a file")
declare -A SHORT=(
    [insert]="INSERT of an order (tps ratios)" [update]="UPDATE of an order's amount (tps ratios)"
    [delete_insert]="DELETE + INSERT of an order (tps ratios)" [contact]="INSERT of a contact (tps ratios)"
    [bulk_insert]="bulk INSERT ... SELECT (time ratios)" [bulk_copy]="bulk COPY (time ratios)")
for w in "${WRITES[@]}"; do
    for side in "${SIDES[@]}"; do
        tbl=$(table_of "${BASE[$w]}" "$side")
        tps=$(pgbench_tps "$WARMUP" "${SCRIPT[$w]}" "$tbl" 0)
        echo "$w warm-up: $tbl $tps tps in $WARMUP s (not counted)"
    done
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        for side in $(order_of "$r"); do
            tbl=$(table_of "${BASE[$w]}" "$side")
            sql "CHECKPOINT" >/dev/null
            VAL[$w,$r,$side]=$(pgbench_tps "$BENCH_SECONDS" "${SCRIPT[$w]}" "$tbl" "$r")
            echo "$w round $r: $tbl ${VAL[$w,$r,$side]} tps"
        done
    done
done

T_SINGLE=$(now)

# verify ---------------------------------------------------------------------------------------
# Order times reach back two years and contact times 90 days, so while the benchmark runs a few
# leave the 12-month or 90-day windows: those customers are stale until crm_grade.regrade() (the
# pg_cron job) runs.  So: verify; if it disagrees, show the rows, run regrade() and verify again.
# The second count must be 0.
VERIFY_SQL="SELECT count(*) FROM crm_grade.verify()"
verify_count() {
    sql "SET client_min_messages = warning;
         DROP TABLE IF EXISTS bench.verify_result;
         CREATE TABLE bench.verify_result AS SELECT * FROM crm_grade.verify();
         SELECT count(*) FROM bench.verify_result"
}
if [ "$ATTACH" = true ]; then
    echo "running $VERIFY_SQL"
    t0=$(now)
    DISAGREE=$(verify_count)
    VERIFY_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
    DISAGREE_FIRST=$DISAGREE
    if [ "$DISAGREE" != 0 ]; then
        VERIFY_ROWS=$("${PSQL[@]}" -c "SELECT * FROM bench.verify_result ORDER BY 1, 2 LIMIT 10")
        echo "$VERIFY_ROWS"
        REGRADED=$(sql "SELECT crm_grade.regrade()")
        echo "crm_grade.regrade() re-evaluated $REGRADED customers; running $VERIFY_SQL again"
        DISAGREE=$(verify_count)
    fi
    GRADED=$(sql "SELECT count(*) FROM crm_grade.customer_grades")
fi

# The same for the PL/pgSQL baseline, with its nightly job in the role of regrade().  Only the
# windowed fields may disagree before the job: the others no passing time can explain.
CHECK_SQL="SELECT count(*) FROM bench.plpgsql_check()"
check_count() {
    sql "SET client_min_messages = warning;
         DROP TABLE IF EXISTS bench.check_result;
         CREATE TABLE bench.check_result AS SELECT * FROM bench.plpgsql_check();
         SELECT count(*), count(*) FILTER (WHERE NOT windowed) FROM bench.check_result"
}
echo "running $CHECK_SQL"
IFS='|' read -r CHECK CHECK_UNWINDOWED <<<"$(check_count)"
CHECK_FIRST=$CHECK
if [ "$CHECK" != 0 ]; then
    CHECK_ROWS=$("${PSQL[@]}" -c "SELECT * FROM bench.check_result ORDER BY windowed, 1, 2, 3 LIMIT 10")
    echo "$CHECK_ROWS"
    REFRESHED=$(sql "SELECT bench.plpgsql_refresh('$SINCE')")
    echo "bench.plpgsql_refresh() re-aggregated $REFRESHED customers; running $CHECK_SQL again"
    IFS='|' read -r CHECK _ <<<"$(check_count)"
fi
T_CHECK=$(now)
PLPG_CUSTOMERS=$(sql "SELECT count(*) FROM bench.plpgsql_state")
declare -A ROWS
for t in bench.orders bench.orders_plain bench.orders_plpgsql bench.contacts bench.contacts_plain bench.contacts_plpgsql; do
    ROWS[$t]=$(sql "SELECT count(*) FROM $t")
done

# report ---------------------------------------------------------------------------------------
# print_rounds WRITE ROUNDS UNIT MEAN_FORMAT: one line per round, then the means (ratios and
# share of the means) and the medians of the rounds' ratios and shares.
print_rounds() {
    local w=$1 n=$2 u=$3 f=$4 r a p l
    local row='  %-7s %-9s %14s %14s %14s %15s %14s %12s\n'
    # shellcheck disable=SC2059
    printf "$row" round first "$SIDE_A $u" "plain $u" "plpgsql $u" attached/plain plpgsql/plain "extra share"
    for ((r = 1; r <= n; r++)); do
        a=${VAL[$w,$r,att]} p=${VAL[$w,$r,plain]} l=${VAL[$w,$r,plpg]}
        # shellcheck disable=SC2059
        printf "$row" "$r" "$(first_of "$r")" "$a" "$p" "$l" "$(ratio "$a" "$p")" "$(ratio "$l" "$p")" "$(share "$u" "$a" "$p" "$l")"
    done
    a=$(for ((r = 1; r <= n; r++)); do echo "${VAL[$w,$r,att]}"; done | mean "$f")
    p=$(for ((r = 1; r <= n; r++)); do echo "${VAL[$w,$r,plain]}"; done | mean "$f")
    l=$(for ((r = 1; r <= n; r++)); do echo "${VAL[$w,$r,plpg]}"; done | mean "$f")
    # shellcheck disable=SC2059
    printf "$row" mean "" "$a" "$p" "$l" "$(ratio "$a" "$p")" "$(ratio "$l" "$p")" "$(share "$u" "$a" "$p" "$l")"
    # Each round's runs are adjacent in time, so the median of the round ratios resists a
    # machine whose load changes during the run better than the ratio of the means does.
    MED_A[$w]=$(for ((r = 1; r <= n; r++)); do ratio "${VAL[$w,$r,att]}" "${VAL[$w,$r,plain]}"; echo; done | median)
    MED_L[$w]=$(for ((r = 1; r <= n; r++)); do ratio "${VAL[$w,$r,plpg]}" "${VAL[$w,$r,plain]}"; echo; done | median)
    MED_S[$w]=$(for ((r = 1; r <= n; r++)); do share "$u" "${VAL[$w,$r,att]}" "${VAL[$w,$r,plain]}" "${VAL[$w,$r,plpg]}"; echo; done | median)
    # shellcheck disable=SC2059
    printf "$row" median "" "" "" "" "${MED_A[$w]}" "${MED_L[$w]}" "${MED_S[$w]}"
}
declare -A MED_A MED_L MED_S
{
    echo
    echo "crm_grade benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  machine : nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "  server  : PostgreSQL $(sql 'SHOW server_version'), throw-away pg_virtualenv cluster (fsync=$(sql 'SHOW fsync'), shared_buffers=$(sql 'SHOW shared_buffers'))"
    if [ "$ATTACH" = true ]; then
        echo "  crm_grade: $(sql "SELECT extversion FROM pg_extension WHERE extname = 'crm_grade'"), $LIB of $LIB_MTIME"
        [ "$(lib_mtime)" = "$LIB_MTIME" ] ||
            echo "  WARNING: $LIB was replaced during the run (now of $(lib_mtime)): the figures mix builds"
    fi
    echo "  command : ${BENCH_COMMAND:-bash $BENCH/run.sh}  BENCH_SECONDS=$BENCH_SECONDS BENCH_ROUNDS=$BENCH_ROUNDS BENCH_CLIENTS=$BENCH_CLIENTS BENCH_BULK_ROWS=$BENCH_BULK_ROWS BENCH_BULK_CUSTOMERS=$BENCH_BULK_CUSTOMERS BENCH_BULK_ROUNDS=$BENCH_BULK_ROUNDS$([ "$BENCH_AA" = 1 ] && echo " BENCH_AA=1")"
    echo
    echo "Sides: $SIDE_A (bench.orders, bench.contacts$([ "$ATTACH" = true ] && echo ": crm_grade attached")), plain (..._plain),"
    echo "plpgsql (..._plpgsql: the PL/pgSQL trigger a DBA writes instead, $BENCH/plpgsql_baseline.sql)."
    echo "extra share = crm_grade's extra time per row as a share of the PL/pgSQL trigger's:"
    echo "  (1/tps_attached - 1/tps_plain) / (1/tps_plpgsql - 1/tps_plain), bulk: (t_attached - t_plain) / (t_plpgsql - t_plain);"
    echo "  target <= 0.33.  Medians are of the rounds' ratios and shares."
    echo
    echo "(a) single-row transactions: pgbench $PGBENCH_OPTS -T $BENCH_SECONDS -f ... -D tbl=... $PGBENCH_VARS"
    echo "    (after a ${WARMUP} s warm-up on each side), higher tps is better"
    for w in "${WRITES[@]}"; do
        echo
        echo "(a) ${TITLE[$w]}, $BENCH/${SCRIPT[$w]}"
        print_rounds "$w" "$BENCH_ROUNDS" tps "%.1f"
    done
    echo
    echo "(b) bulk loads into freshly truncated tables (seconds, incl. commit), lower is better"
    for w in bulk_insert bulk_copy; do
        echo
        echo "(b) ${TITLE[$w]}"
        print_rounds "$w" "$BENCH_BULK_ROUNDS" s "%.2f"
    done
    echo
    echo "Summary: medians of the rounds (extra share target <= 0.33)"
    printf '  %-44s %15s %14s %12s\n' "" attached/plain plpgsql/plain "extra share"
    for w in "${WRITES[@]}" bulk_insert bulk_copy; do
        printf '  %-44s %15s %14s %12s\n' "${SHORT[$w]}" "${MED_A[$w]}" "${MED_L[$w]}" "${MED_S[$w]}"
    done
    echo
    echo "  rows at the end: bench.orders ${ROWS[bench.orders]}, bench.orders_plain ${ROWS[bench.orders_plain]}, bench.orders_plpgsql ${ROWS[bench.orders_plpgsql]};"
    echo "                   bench.contacts ${ROWS[bench.contacts]}, bench.contacts_plain ${ROWS[bench.contacts_plain]}, bench.contacts_plpgsql ${ROWS[bench.contacts_plpgsql]}"
    if [ "$ATTACH" = true ]; then
        echo "  customers graded: $GRADED"
        if [ "$DISAGREE_FIRST" != 0 ]; then
            echo "  $VERIFY_SQL  ->  $DISAGREE_FIRST right after the run (took $VERIFY_S s); first rows:"
            while IFS= read -r line; do echo "      $line"; done <<<"$VERIFY_ROWS"
            echo "  SELECT crm_grade.regrade()  ->  $REGRADED"
            echo "  $VERIFY_SQL  ->  $DISAGREE after regrade()   (must be 0)"
        else
            echo "  $VERIFY_SQL  ->  $DISAGREE   (must be 0; took $VERIFY_S s)"
        fi
    else
        echo "  A/A run: crm_grade not attached, verify() not run"
    fi
    echo "  PL/pgSQL baseline: $PLPG_CUSTOMERS customers in bench.plpgsql_state"
    if [ "$CHECK_FIRST" != 0 ]; then
        echo "  $CHECK_SQL  ->  $CHECK_FIRST right after the run, $CHECK_UNWINDOWED of them in fields time cannot change (must be 0); first rows:"
        while IFS= read -r line; do echo "      $line"; done <<<"$CHECK_ROWS"
        echo "  SELECT bench.plpgsql_refresh(<start of the run>)  ->  $REFRESHED   (the nightly job)"
        echo "  $CHECK_SQL  ->  $CHECK after the nightly job   (must be 0)"
    else
        echo "  $CHECK_SQL  ->  $CHECK   (must be 0)"
    fi
    awk -v a="$T_START" -v b="$T_BULK" -v s="$T_SINGLE" -v c="$T_CHECK" 'BEGIN {
        printf "  durations: bulk loads %.0f s, single-row writes %.0f s, verify and check %.0f s (%.1f min in all)\n",
               b - a, s - b, c - s, (c - a) / 60 }'
} | tee "$REPORT"

# The maintenance benchmark, if present, runs last in the same cluster and prints its own section.
# The write part's tables are detached first (verified above): otherwise their customers would
# take part in its back-fills, regrade_all() and verify(), and its back-fill would be measured
# against a CREATE TABLE AS of its own orders only.
MAINT_RC=0
if [ -x "$BENCH/maintenance.sh" ]; then
    if [ "$ATTACH" = true ]; then
        sql "SELECT crm_grade.detach('bench.orders'); SELECT crm_grade.detach('bench.contacts')" >/dev/null
    fi
    bash "$BENCH/maintenance.sh" --in-cluster 2>&1 | tee -a "$REPORT" || MAINT_RC=$?
fi
echo "report saved to $REPORT"

STATUS=0
if [ "$ATTACH" = true ] && [ "$DISAGREE" != 0 ]; then
    echo "bench: crm_grade.verify() found $DISAGREE disagreements" >&2
    STATUS=1
fi
if [ "$CHECK_UNWINDOWED" != 0 ] || [ "$CHECK" != 0 ]; then
    echo "bench: bench.plpgsql_check() found $CHECK_UNWINDOWED disagreements in fields time cannot change, $CHECK after the nightly job" >&2
    STATUS=1
fi
if [ "$MAINT_RC" != 0 ]; then
    echo "bench: $BENCH/maintenance.sh --in-cluster failed (exit status $MAINT_RC)" >&2
    STATUS=1
fi
exit "$STATUS"
