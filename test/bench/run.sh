#!/usr/bin/env bash
# make bench: what crm_grade's triggers cost on writes, measured against an identical plain table
# in ONE run with alternating repetitions, on a throw-away pg_virtualenv cluster.
#
#   (b) bulk:   INSERT ... SELECT of BENCH_ROWS orders over BENCH_CUSTOMERS customers,
#               into bench.orders (attached) and bench.orders_plain, same rows, alternating
#   (a) single: pgbench, one INSERT per transaction, BENCH_CLIENTS clients, BENCH_SECONDS per run,
#               alternating attached / plain for BENCH_ROUNDS rounds
# then crm_grade.verify() must return no row.  (b) runs first so that (a) inserts for customers
# that already have a history, as in production.
#
# Settings (environment):
#   BENCH_SECONDS    seconds per pgbench run                  (default 20)
#   BENCH_ROWS       rows per bulk load                       (default 300000)
#   BENCH_CUSTOMERS  customer keys 1..N                       (default 30000)
#   BENCH_ROUNDS     alternating rounds of each measurement   (default 3)
#   BENCH_CLIENTS    pgbench clients (and threads)            (default 2)
#   BENCH_AA=1       A/A run: leave bench.orders plain too, to see the measurement noise
#   BENCH_FSYNC=on   durable commits (pg_virtualenv's default is fsync=off)
# With the defaults the whole run takes about 3 to 5 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench

BENCH_SECONDS=${BENCH_SECONDS:-20}
BENCH_ROWS=${BENCH_ROWS:-300000}
BENCH_CUSTOMERS=${BENCH_CUSTOMERS:-30000}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
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

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { echo "$EPOCHREALTIME"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mean() { awk -v f="$1" '{ s += $1; n++ } END { if (n) printf f, s / n }'; }

if [ "$BENCH_AA" = 1 ]; then ATTACH=false; SIDE_A="A/A plain"; else ATTACH=true; SIDE_A="attached"; fi

mkdir -p "$BENCH/results"
REPORT="$BENCH/results/bench-$(date -u +%Y%m%dT%H%M%SZ).txt"

echo "setting up bench.orders (attach: $ATTACH) and bench.orders_plain"
"${PSQL[@]}" -v attach="$ATTACH" -f "$BENCH/setup.sql" >/dev/null

# Attached side first in odd rounds, plain first in even rounds.
order_of() { if [ $(($1 % 2)) -eq 1 ]; then echo "bench.orders bench.orders_plain"; else echo "bench.orders_plain bench.orders"; fi; }
first_of() { if [ $(($1 % 2)) -eq 1 ]; then echo attached; else echo plain; fi; }

# (b) bulk loads -------------------------------------------------------------------------------
declare -A BULK
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for tbl in $(order_of "$r"); do
        sql "CHECKPOINT" >/dev/null
        t0=$(now)
        "${PSQL[@]}" -v tbl="$tbl" -v rows="$BENCH_ROWS" -v customers="$BENCH_CUSTOMERS" \
            -v seed="0.$r" -f "$BENCH/bulk.sql"
        t1=$(now)
        BULK[$r,$tbl]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
        echo "bulk round $r: $tbl ${BULK[$r,$tbl]} s"
    done
done
sql "VACUUM ANALYZE" >/dev/null

# (a) single-row INSERT transactions ------------------------------------------------------------
PGBENCH="pgbench -n -c $BENCH_CLIENTS -j $BENCH_CLIENTS -T $BENCH_SECONDS -f $BENCH/insert.pgbench"
# pgbench_tps SECONDS TABLE SEED: prints the tps (without initial connection time).
pgbench_tps() {
    local out tps failed_tx
    out=$(pgbench -n -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T "$1" -f "$BENCH/insert.pgbench" \
              --random-seed="$3" -D tbl="$2" -D customers="$BENCH_CUSTOMERS" 2>&1) || {
        echo "$out" >&2; echo "bench: pgbench failed on $2" >&2; return 1; }
    tps=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\).*/\1/p' <<<"$out")
    failed_tx=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' <<<"$out")
    if [ -z "$tps" ] || [ "${failed_tx:-0}" != 0 ]; then
        echo "$out" >&2; echo "bench: pgbench on $2 reported no tps or failed transactions" >&2; return 1
    fi
    awk -v t="$tps" 'BEGIN { printf "%.1f", t }'
}
WARMUP=$(( BENCH_SECONDS / 4 > 2 ? BENCH_SECONDS / 4 : 2 ))
for tbl in bench.orders bench.orders_plain; do
    tps=$(pgbench_tps "$WARMUP" "$tbl" 0)
    echo "pgbench warm-up: $tbl $tps tps in $WARMUP s (not counted)"
done
declare -A TPS
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    for tbl in $(order_of "$r"); do
        sql "CHECKPOINT" >/dev/null
        TPS[$r,$tbl]=$(pgbench_tps "$BENCH_SECONDS" "$tbl" "$r")
        echo "pgbench round $r: $tbl ${TPS[$r,$tbl]} tps"
    done
done

# verify ---------------------------------------------------------------------------------------
# Order times reach back two years, so while the benchmark runs a few orders leave the 12-month
# window: those customers are stale until crm_grade.regrade() (the pg_cron job) runs.  So: verify;
# if it disagrees, show the rows, run regrade() and verify again.  The second count must be 0.
VERIFY_SQL="SELECT count(*) FROM crm_grade.verify()"
verify_count() {
    sql "DROP TABLE IF EXISTS bench.verify_result;
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
ROWS_A=$(sql "SELECT count(*) FROM bench.orders")
ROWS_P=$(sql "SELECT count(*) FROM bench.orders_plain")

# report ---------------------------------------------------------------------------------------
# print_rounds ARRAY UNIT MEAN_FORMAT: one line per round, then the means, with attached/plain.
print_rounds() {
    local -n vals=$1
    local row='  %-7s %-9s %14s %14s %16s\n' r a p
    # shellcheck disable=SC2059
    printf "$row" round first "$SIDE_A $2" "plain $2" attached/plain
    for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        a=${vals[$r,bench.orders]} p=${vals[$r,bench.orders_plain]}
        # shellcheck disable=SC2059
        printf "$row" "$r" "$(first_of "$r")" "$a" "$p" "$(ratio "$a" "$p")"
    done
    a=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do echo "${vals[$r,bench.orders]}"; done | mean "$3")
    p=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do echo "${vals[$r,bench.orders_plain]}"; done | mean "$3")
    # shellcheck disable=SC2059
    printf "$row" mean "" "$a" "$p" "$(ratio "$a" "$p")"
    # Each round's two runs are adjacent in time, so the median of the round ratios resists a
    # machine whose load changes during the run better than the ratio of the means does.
    # shellcheck disable=SC2059
    printf "$row" median "" "" "" "$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do
        ratio "${vals[$r,bench.orders]}" "${vals[$r,bench.orders_plain]}"; echo; done |
        sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')"
}
{
    echo
    echo "crm_grade benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  machine : nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "  server  : PostgreSQL $(sql 'SHOW server_version'), throw-away pg_virtualenv cluster (fsync=$(sql 'SHOW fsync'), shared_buffers=$(sql 'SHOW shared_buffers'))"
    echo "  command : ${BENCH_COMMAND:-bash $BENCH/run.sh}  BENCH_SECONDS=$BENCH_SECONDS BENCH_ROWS=$BENCH_ROWS BENCH_CUSTOMERS=$BENCH_CUSTOMERS BENCH_ROUNDS=$BENCH_ROUNDS BENCH_CLIENTS=$BENCH_CLIENTS$([ "$BENCH_AA" = 1 ] && echo " BENCH_AA=1")"
    echo
    echo "(a) single-row INSERT transactions: $PGBENCH -D tbl=... (after a ${WARMUP} s warm-up on each)"
    print_rounds TPS tps "%.1f"
    echo
    echo "(b) bulk INSERT ... SELECT of $BENCH_ROWS orders over customers 1..$BENCH_CUSTOMERS, one statement (seconds, incl. commit)"
    print_rounds BULK s "%.2f"
    echo
    echo "  rows at the end: bench.orders $ROWS_A, bench.orders_plain $ROWS_P"
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
} | tee "$REPORT"
echo "report saved to $REPORT"

if [ "$ATTACH" = true ] && [ "$DISAGREE" != 0 ]; then
    echo "bench: crm_grade.verify() found $DISAGREE disagreements" >&2
    exit 1
fi
