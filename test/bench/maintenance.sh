#!/usr/bin/env bash
# make bench-maintenance: what keeping crm_grade's state costs besides the writes, in ONE run:
#
#   (1) back-fill: attach_orders of BENCH_ORDERS orders over BENCH_ORDER_CUSTOMERS customers (as
#       test/bench/backfill.sql builds them) against a plain CREATE TABLE AS ... GROUP BY of the
#       same aggregates, alternating, detached and attached again between rounds (target <= 2x)
#   (2) regrade() with 1%, 5% and 20% of those customers expired (valid_until set in the past as
#       the superuser; "rows": next_order_at too, so that each is re-read from the orders;
#       "threshold": valid_until only, evaluated from the stored state) against regrade_all()
#       (target: 1% expired <= 2% of regrade_all)
#   (3) followups_due(owner) among BENCH_FU_CUSTOMERS customers (a customer master and a contact
#       log, one contact per customer in the last 10 days), with BENCH_FU_SHAPES reps in turn
#       (the reps re-assigned with one UPDATE of the master); Execution Time (EXPLAIN ANALYZE) and
#       wall time in psql (target < 20 ms)
#   (4) backend private memory (RssAnon in /proc/PID/status, sampled every BENCH_POLL s): during
#       one UPDATE of every order of the attached table against an identical plain table, and
#       along BENCH_MEM_INSERTS single-row INSERTs in one psql session (target: bounded by
#       work_mem, flat across the session)
#   (5) crm_grade.verify() over all of it must return no row
#
# Standalone (make bench-maintenance) it installs the extension and runs on a throw-away
# pg_virtualenv cluster.  With --in-cluster it runs in the current database (make bench calls it
# so at its end): crm_grade may already be installed and other tables attached.  It uses the
# schemas bm (orders) and bmf (customers and contacts), customer keys 7000000001.. and
# 8000000001.. (bigint), detaches its tables and drops its schemas at the end.  Customers of
# other attached tables take part in every back-fill, regrade_all() and verify() (shown in the
# report).  It needs a superuser (it expires states by hand and reads /proc/self/status with
# pg_read_file()).
#
# Settings (environment):
#   BENCH_ORDERS           orders for (1), (2) and (4)                     (default 1000000)
#   BENCH_ORDER_CUSTOMERS  their customers                                 (default 100000)
#   BENCH_REPEATS          repetitions of (1) and of (2), median reported  (default 2)
#   BENCH_FU_CUSTOMERS     customers for (3)                               (default 1000000)
#   BENCH_FU_SHAPES        rep counts for (3), in this order               (default "1000 50")
#   BENCH_MEM_INSERTS      single-row INSERTs per table in (4b)            (default 1000000)
#   BENCH_MEM_EVERY        (4b) samples memory every so many INSERTs       (default 100000)
#   BENCH_POLL             seconds between /proc samples                   (default 0.02)
#   BENCH_VERIFY_NESTLOOP  enable_nestloop for verify() (see verify_count)  (default off)
# With the defaults it takes about 15 to 20 minutes on 2 cores (verify() of a million customers
# and the million single-row INSERTs into the attached table are most of it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench
BENCH_ORDERS=${BENCH_ORDERS:-1000000}
BENCH_ORDER_CUSTOMERS=${BENCH_ORDER_CUSTOMERS:-100000}
BENCH_REPEATS=${BENCH_REPEATS:-2}
BENCH_FU_CUSTOMERS=${BENCH_FU_CUSTOMERS:-1000000}
BENCH_FU_SHAPES=${BENCH_FU_SHAPES:-"1000 50"}
BENCH_MEM_INSERTS=${BENCH_MEM_INSERTS:-1000000}
BENCH_MEM_EVERY=${BENCH_MEM_EVERY:-100000}
BENCH_POLL=${BENCH_POLL:-0.02}
BENCH_VERIFY_NESTLOOP=${BENCH_VERIFY_NESTLOOP:-off}

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    make
    make install
    if [ -n "${MAKELEVEL:-}" ]; then export BENCH_COMMAND="make bench-maintenance"; else export BENCH_COMMAND="bash $BENCH/maintenance.sh"; fi
    exec pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC -o fsync=off \
        -o shared_buffers=512MB bash "$ROOT/$BENCH/maintenance.sh" --in-cluster
fi

# ---------------------------------------------------------------------------------------------
# Inside the cluster.

export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }'; }
median() { sort -g | awk -v f="${1:-%.2f}" '{ v[NR] = $1 } END { if (!NR) { print "n/a"; exit }
    printf f, NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mb() { awk -v k="$1" 'BEGIN { if (k == "") print "n/a"; else printf "%.1f MB", k / 1024 }'; }
# tsql SQL: runs one statement in its own session under \timing; sets T_MS (the statement's time
# as psql sees it, without the connection) and T_OUT (its output).
tsql() {
    local out
    out=$("${PSQL[@]}" -At -c '\timing on' -c "$1")
    T_MS=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' <<<"$out" | tail -1)
    T_OUT=$(grep -v '^Time: ' <<<"$out" || true)
}
s_of() { awk -v m="$1" 'BEGIN { printf "%.2f", m / 1000 }'; }

mkdir -p "$BENCH/results"
REPORT="$BENCH/results/maintenance-$(date -u +%Y%m%dT%H%M%SZ).txt"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
T_START=$(now)

# cleanup SCHEMA...: detach the attached tables of those schemas and drop them.
cleanup() {
    local t list
    list=$(printf "'%s'," "$@"); list=${list%,}
    if [ "$(sql "SELECT count(*) FROM pg_extension WHERE extname = 'crm_grade'")" = 1 ]; then
        for t in $(sql "SELECT s.tbl FROM crm_grade.source s JOIN pg_class c ON c.oid = s.tbl
                         JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE n.nspname IN ($list) ORDER BY s.kind DESC"); do
            sql "SELECT crm_grade.detach('$t')" >/dev/null
        done
        # history of our customers (keys 7000000001.. and 8000000001..): detach logged their removal
        sql "DELETE FROM crm_grade.history WHERE customer ~ '^[78][0-9]{9}\$'" >/dev/null
    fi
    sql "DROP SCHEMA IF EXISTS $(IFS=,; echo "$*") CASCADE" >/dev/null
}
HAD_EXTENSION=$(sql "SELECT count(*) FROM pg_extension WHERE extname = 'crm_grade'")
cleanup bm bmf   # a previous run's
sql "CREATE EXTENSION IF NOT EXISTS crm_grade" >/dev/null
OTHER_SOURCES=$(sql "SELECT coalesce(string_agg(tbl::text || ' (' || kind || ')', ', ' ORDER BY tbl::text), '') FROM crm_grade.source")
OTHER_CUSTOMERS=$(sql "SELECT count(*) FROM crm_grade.customer_state")
OTHER_MASTER=$(sql "SELECT coalesce(string_agg(tbl::text, ', '), '') FROM crm_grade.source WHERE kind = 'customers'")
KEY_FAMILIES=$(sql "SELECT coalesce(string_agg(DISTINCT crm_grade._key_family(key_type), ','), '') FROM crm_grade.source")
case "$KEY_FAMILIES" in
    ""|integer) ;;
    *) echo "maintenance: the attached tables ($OTHER_SOURCES) use $KEY_FAMILIES keys; this benchmark's are bigint" >&2
       exit 1 ;;
esac
WORK_MEM=$(sql "SHOW work_mem")
echo "work_mem $WORK_MEM; already attached: ${OTHER_SOURCES:-nothing} ($OTHER_CUSTOMERS customers)"

# ---------------------------------------------------------------------------------------------
# (1) back-fill against CREATE TABLE AS
echo "(1) building $BENCH_ORDERS orders over $BENCH_ORDER_CUSTOMERS customers"
"${PSQL[@]}" <<SQL
CREATE SCHEMA bm;
SELECT setseed(0.42) \g /dev/null
CREATE TABLE bm.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, amount numeric(12,2) NOT NULL,
                        ordered_at timestamptz NOT NULL, paid_at timestamptz);
INSERT INTO bm.orders (customer_id, amount, ordered_at, paid_at)
SELECT 7000000001 + (g % $BENCH_ORDER_CUSTOMERS),
       round((1 + random() * 4999)::numeric, 2),
       now() - random() * interval '730 days',
       CASE WHEN random() < 0.8 THEN now() - random() * interval '700 days' END
  FROM generate_series(1, $BENCH_ORDERS) g;
CREATE INDEX ON bm.orders (customer_id);
-- the same rows in a table crm_grade never sees, for (4)
CREATE TABLE bm.orders_plain (LIKE bm.orders INCLUDING ALL);
INSERT INTO bm.orders_plain SELECT * FROM bm.orders;
VACUUM ANALYZE bm.orders;
VACUUM ANALYZE bm.orders_plain;
SQL
CTAS_SQL="CREATE TABLE bm.plain AS
SELECT customer_id, sum(amount) AS total, count(*) AS n, min(ordered_at), max(ordered_at),
       sum(amount) FILTER (WHERE ordered_at > now() - interval '12 months') AS amount_12m
  FROM bm.orders GROUP BY customer_id"
ATTACH_SQL="SELECT crm_grade.attach_orders('bm.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at')"
declare -A CTAS ATT DET GRADED
for ((r = 1; r <= BENCH_REPEATS; r++)); do
    if [ $((r % 2)) -eq 1 ]; then order="ctas attach"; else order="attach ctas"; fi
    for what in $order; do
        sql "CHECKPOINT" >/dev/null
        if [ "$what" = ctas ]; then
            tsql "$CTAS_SQL"; CTAS[$r]=$T_MS
            sql "DROP TABLE bm.plain" >/dev/null
        else
            tsql "$ATTACH_SQL"; ATT[$r]=$T_MS; GRADED[$r]=$T_OUT
        fi
    done
    echo "    round $r: CREATE TABLE AS $(s_of "${CTAS[$r]}") s, attach_orders $(s_of "${ATT[$r]}") s ($(ratio "${ATT[$r]}" "${CTAS[$r]}")x), ${GRADED[$r]} customers graded"
    if [ "$r" -lt "$BENCH_REPEATS" ]; then
        tsql "SELECT crm_grade.detach('bm.orders')"; DET[$r]=$T_MS
    fi
done
BF_RATIO=$(for ((r = 1; r <= BENCH_REPEATS; r++)); do ratio "${ATT[$r]}" "${CTAS[$r]}"; echo; done | median)
sql "VACUUM ANALYZE crm_grade.customer_state" >/dev/null

# ---------------------------------------------------------------------------------------------
# (2) regrade() of a fraction expired against regrade_all()
echo "(2) regrade() with 1%, 5%, 20% expired against regrade_all()"
FRACTIONS="1 5 20"
# Two ways of expiring, each k% of the customers, by hand as the superuser: "rows", a row has
# moved (next_order_at set in the past as well: a future-dated order now counts), so regrade()
# re-reads every one of them, the costly case; "threshold", only valid_until in the past, as when
# a stage threshold, a follow-up or a month start expires a customer: regrade() evaluates it from
# its stored state.  A real expiry is one or the other.
EXPIRE_KINDS="rows threshold"
declare -A RG RGN RGX
for ((r = 1; r <= BENCH_REPEATS; r++)); do
    sql "CHECKPOINT" >/dev/null
    tsql "SELECT crm_grade.regrade_all()"; RG[$r,all]=$T_MS; RGN[$r,all]=$T_OUT
    echo "    round $r: regrade_all() $(s_of "$T_MS") s, $T_OUT customers"
    for kind in $EXPIRE_KINDS; do
        for k in $FRACTIONS; do
            sql "SELECT crm_grade.regrade()" >/dev/null   # whatever time alone expired meanwhile
            RGX[$r,$kind$k]=$(sql "WITH u AS (
                                UPDATE crm_grade.customer_state SET valid_until = now() - interval '1 second'
                                       $([ "$kind" = rows ] && echo ", next_order_at = now() - interval '1 second'")
                                 WHERE customer ~ '^7[0-9]{9}\$' AND (hashtext(customer) & 2147483647) % 100 < $k
                                RETURNING 1)
                              SELECT count(*) FROM u")
            sql "CHECKPOINT" >/dev/null
            tsql "SELECT crm_grade.regrade()"; RG[$r,$kind$k]=$T_MS; RGN[$r,$kind$k]=$T_OUT
            echo "    round $r: $k% expired, $kind (${RGX[$r,$kind$k]}): regrade() $T_MS ms, $T_OUT customers"
        done
    done
done
RG_ALL=$(for ((r = 1; r <= BENCH_REPEATS; r++)); do echo "${RG[$r,all]}"; done | median %.1f)

# ---------------------------------------------------------------------------------------------
# (4) memory of one backend, attached against plain
echo "(4) backend memory, work_mem $WORK_MEM"
# run_watched NAME SCRIPT: runs SCRIPT (psql) in the background; its first statements write the
# backend's pid to $TMP/NAME.pid; samples "epoch RssAnon_kB VmHWM_kB" into $TMP/NAME.mem every
# BENCH_POLL seconds until psql ends; psql's output is in $TMP/NAME.out.
run_watched() {
    local name=$1 script=$2 bg bpid=""
    rm -f "$TMP/$name.pid" "$TMP/$name.mem"; : >"$TMP/$name.mem"
    "${PSQL[@]}" -At -f "$script" >"$TMP/$name.out" &
    bg=$!
    while [ -z "$bpid" ] && kill -0 "$bg" 2>/dev/null; do
        [ -s "$TMP/$name.pid" ] && bpid=$(<"$TMP/$name.pid")
        sleep 0.01
    done
    while [ -n "$bpid" ] && kill -0 "$bg" 2>/dev/null; do
        awk -v t="$EPOCHREALTIME" '/^RssAnon:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (r != "") print t, r, h }' \
            "/proc/$bpid/status" >>"$TMP/$name.mem" 2>/dev/null || break
        sleep "$BENCH_POLL"
    done
    wait "$bg"
}
pid_lines() {   # the first lines of a watched script: the backend's pid into $TMP/NAME.pid
    printf '%s\n' "\\o $TMP/$1.pid.tmp" "SELECT pg_backend_pid();" "\\o" "\\! mv $TMP/$1.pid.tmp $TMP/$1.pid"
}
mem_first() { awk 'NR == 1 { print $2 }' "$TMP/$1.mem"; }
mem_peak() { awk '$2 > m { m = $2 } END { print m }' "$TMP/$1.mem"; }
mem_last() { awk 'END { print $2 }' "$TMP/$1.mem"; }
hwm_last() { awk 'END { print $3 }' "$TMP/$1.mem"; }
mem_count() { wc -l <"$TMP/$1.mem"; }

# (4a) one UPDATE of every order
declare -A UPD_MS
for tbl in bm.orders bm.orders_plain; do
    name=update-${tbl#bm.}
    { pid_lines "$name"
      echo "SELECT pg_sleep(0.3);"
      echo "\\timing on"
      echo "UPDATE $tbl SET amount = amount + 1;"
      echo "\\timing off"
      echo "SELECT pg_sleep(0.3);"; } >"$TMP/$name.sql"
    sql "CHECKPOINT" >/dev/null
    run_watched "$name" "$TMP/$name.sql"
    UPD_MS[$tbl]=$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$TMP/$name.out")
    echo "    UPDATE $tbl: $(s_of "${UPD_MS[$tbl]}") s, RssAnon $(mb "$(mem_first "$name")") before, peak $(mb "$(mem_peak "$name")") ($(mem_count "$name") samples)"
done
"${PSQL[@]}" -c "VACUUM ANALYZE bm.orders" -c "VACUUM ANALYZE bm.orders_plain" -c "VACUUM ANALYZE crm_grade.customer_state"

# (4b) single-row INSERTs in one session: a generated script, the memory read by the backend itself
# (pg_read_file('/proc/self/status')) every BENCH_MEM_EVERY INSERTs, besides the outside sampling
SAMPLE_SQL="SELECT %d, extract(epoch FROM clock_timestamp()), (regexp_match(s, 'RssAnon:\\\\s+(\\\\d+)'))[1], (regexp_match(s, 'VmHWM:\\\\s+(\\\\d+)'))[1] FROM pg_read_file('/proc/self/status') s;\n"
awk -v n="$BENCH_MEM_INSERTS" -v every="$BENCH_MEM_EVERY" -v cust="$BENCH_ORDER_CUSTOMERS" -v sample="$SAMPLE_SQL" '
BEGIN {
    srand(42)
    printf sample, 0
    for (i = 1; i <= n; i++) {
        age = int(rand() * 63072000); cents = 100 + int(rand() * 499900)
        paid = "NULL"
        if (rand() < 0.8) { d = age - int(rand() * 5184000); if (d < 0) d = 0; paid = "now() - interval '\''" d " s'\''" }
        # %.0f: mawk prints %d no larger than 2^31 - 1
        printf "INSERT INTO :tbl (customer_id, amount, ordered_at, paid_at) VALUES (%.0f, %d.%02d, now() - interval '\''%d s'\'', %s);\n",
            7000000001 + int(rand() * cust), int(cents / 100), cents % 100, age, paid
        if (i % every == 0 || i == n) printf sample, i
    }
}' >"$TMP/inserts.sql"
for tbl in bm.orders bm.orders_plain; do
    name=insert-${tbl#bm.}
    { pid_lines "$name"; echo "\\set tbl $tbl"; echo "\\i $TMP/inserts.sql"; } >"$TMP/$name.sql"
    sql "CHECKPOINT" >/dev/null
    echo "    $BENCH_MEM_INSERTS single-row INSERTs into $tbl ..."
    run_watched "$name" "$TMP/$name.sql"
    grep -E '^[0-9]+\|' "$TMP/$name.out" >"$TMP/$name.samples"
    echo "    ... $(awk -F'|' 'NR == 1 { a = $2 } END { printf "%.1f s, RssAnon at the end %.1f MB", $2 - a, $3 / 1024 }' "$TMP/$name.samples"), outside peak $(mb "$(mem_peak "$name")")"
done
rm -f "$TMP/inserts.sql"

# ---------------------------------------------------------------------------------------------
# (5a) verify the order customers, then take them away
# verify() runs with enable_nestloop=$BENCH_VERIFY_NESTLOOP: in 0.6 the planner estimates a row or
# so for the recomputed customers of its query and nests loops over the materialized CTEs, which
# makes it quadratic in customers (4,000 customers with a contact each: 54 s; off: 1.5 s).
verify_count() {   # verify_count SCHEMA
    PGOPTIONS="$PGOPTIONS -c enable_nestloop=$BENCH_VERIFY_NESTLOOP" \
    sql "DROP TABLE IF EXISTS $1.verify_result;
         CREATE TABLE $1.verify_result AS SELECT * FROM crm_grade.verify();
         SELECT count(*) FROM $1.verify_result"
}
declare -A VERIFY_FIRST VERIFY_CUST VERIFY_ROWS VERIFY_REGRADED VERIFY_FINAL VERIFY_S VERIFY_N
verify_set() {     # verify_set SCHEMA
    local t0
    VERIFY_N[$1]=$(sql "SELECT count(*) FROM crm_grade.customer_state")
    echo "(5) crm_grade.verify() over ${VERIFY_N[$1]} customers"
    t0=$(now)
    VERIFY_FIRST[$1]=$(verify_count "$1")
    VERIFY_S[$1]=$(since "$t0")
    VERIFY_FINAL[$1]=${VERIFY_FIRST[$1]}
    if [ "${VERIFY_FIRST[$1]}" != 0 ]; then
        VERIFY_CUST[$1]=$(sql "SELECT count(DISTINCT customer) FROM $1.verify_result")
        VERIFY_ROWS[$1]=$("${PSQL[@]}" -c "SELECT * FROM $1.verify_result ORDER BY 1, 2 LIMIT 10")
        echo "${VERIFY_ROWS[$1]}"
        VERIFY_REGRADED[$1]=$(sql "SELECT crm_grade.regrade()")
        VERIFY_FINAL[$1]=$(verify_count "$1")
    fi
    echo "    ${VERIFY_FIRST[$1]} disagreements (${VERIFY_S[$1]} s)$([ "${VERIFY_FIRST[$1]}" != 0 ] && echo ", ${VERIFY_FINAL[$1]} after regrade()")"
}
verify_set bm
ORDER_ROWS=$(sql "SELECT count(*) FROM bm.orders")
t0=$(now)
cleanup bm
DETACH_BM_S=$(since "$t0")

# ---------------------------------------------------------------------------------------------
# (3) followups_due(owner) among a million customers
declare -a SHAPES
read -ra SHAPES <<<"$BENCH_FU_SHAPES"
digits() { local m=$(($1 - 1)); echo "${#m}"; }   # width of the rep numbers 0..REPS-1
FU_SKIPPED=""
if [ -n "$OTHER_MASTER" ]; then
    FU_SKIPPED="skipped: a customer master is already attached ($OTHER_MASTER), and there can be only one"
    echo "(3) $FU_SKIPPED"
else
    R0=${SHAPES[0]}
    W0=$(digits "$R0")
    echo "(3) building $BENCH_FU_CUSTOMERS customers of $R0 reps with a contact each"
    "${PSQL[@]}" <<SQL
CREATE SCHEMA bmf;
SELECT setseed(0.17) \g /dev/null
CREATE TABLE bmf.customers (id bigint PRIMARY KEY, rep text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO bmf.customers
SELECT 8000000000 + i, 'rep' || lpad(((i - 1) % $R0)::text, $W0, '0'),
       now() - (10 + i % 400) * interval '1 day' - (i % 7) * interval '1 hour'
  FROM generate_series(1, $BENCH_FU_CUSTOMERS) i;
CREATE TABLE bmf.contacts (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, contacted_at timestamptz NOT NULL,
                           channel text, outcome text, next_action_at timestamptz);
INSERT INTO bmf.contacts (customer_id, contacted_at, channel, outcome)
SELECT 8000000000 + i, now() - random() * interval '10 days', 'phone', 'reached'
  FROM generate_series(1, $BENCH_FU_CUSTOMERS) i;
CREATE INDEX ON bmf.contacts (customer_id);
VACUUM ANALYZE bmf.customers;
VACUUM ANALYZE bmf.contacts;
SQL
    tsql "SELECT crm_grade.attach_customers('bmf.customers', 'id', 'rep', 'created_at')"; FU_ATT_CUST_MS=$T_MS
    echo "    attach_customers $(s_of "$T_MS") s, $T_OUT customers"
    tsql "SELECT crm_grade.attach_contacts('bmf.contacts', 'customer_id', 'contacted_at', 'channel', 'outcome', 'next_action_at')"
    FU_ATT_CONT_MS=$T_MS
    echo "    attach_contacts $(s_of "$T_MS") s, $T_OUT customers"
    sql "VACUUM ANALYZE crm_grade.customer_state" >/dev/null

    declare -A FU_EXEC FU_WALL FU_COLD FU_N FU_ROWS FU_INNER FU_REASSIGN_MS
    for ((si = 0; si < ${#SHAPES[@]}; si++)); do
        R=${SHAPES[$si]}
        W=$(digits "$R")
        if [ "$si" -gt 0 ]; then
            echo "    re-assigning the customers to $R reps"
            sql "CHECKPOINT" >/dev/null
            tsql "UPDATE bmf.customers SET rep = 'rep' || lpad(((id - 8000000001) % $R)::text, $W, '0')"
            FU_REASSIGN_MS[$R]=$T_MS
            echo "    UPDATE of the master's rep column: $(s_of "$T_MS") s"
            sql "VACUUM ANALYZE crm_grade.customer_state" >/dev/null
        fi
        exec_ms=() wall_ms=() cold_ms=() rows=()
        for k in 3 11 27 38 49; do
            owner=$(printf "rep%0${W}d" $(( k * R / 50 )))
            # one new session per rep: a first call (counting the rows), 7 EXPLAIN ANALYZE, 7 plain
            # calls whose rows psql fetches and prints (to /dev/null), each under \timing
            { echo "\\timing on"
              echo "SELECT count(*) FROM crm_grade.followups_due(owner => '$owner');"
              for _ in 1 2 3 4 5 6 7; do echo "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM crm_grade.followups_due(owner => '$owner');"; done
              for _ in 1 2 3 4 5 6 7; do echo "SELECT * FROM crm_grade.followups_due(owner => '$owner') \\g /dev/null"; done
            } >"$TMP/fu.sql"
            "${PSQL[@]}" -At -f "$TMP/fu.sql" >"$TMP/fu.out"
            rows+=("$(sed -n '1p' "$TMP/fu.out")")
            cold_ms+=("$(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$TMP/fu.out" | sed -n '1p')")
            while IFS= read -r ms; do exec_ms+=("$ms"); done < <(sed -nE 's/.*"Execution Time": ([0-9.]+).*/\1/p' "$TMP/fu.out")
            while IFS= read -r ms; do wall_ms+=("$ms"); done < <(sed -nE 's/^Time: ([0-9.]+) ms.*/\1/p' "$TMP/fu.out" | tail -n 7)
        done
        FU_EXEC[$R]=$(printf '%s\n' "${exec_ms[@]}" | median %.1f)
        FU_WALL[$R]=$(printf '%s\n' "${wall_ms[@]}" | median %.1f)
        FU_COLD[$R]=$(printf '%s\n' "${cold_ms[@]}" | median %.1f)
        FU_N[$R]=${#exec_ms[@]}/${#wall_ms[@]}
        FU_ROWS[$R]=$(printf '%s\n' "${rows[@]}" | median %.0f)
        owner=$(printf "rep%0${W}d" $(( 3 * R / 50 )))
        # the plan inside the function, with its times (auto_explain of nested statements)
        cat >"$TMP/inner.sql" <<SQL
LOAD 'auto_explain';
SET auto_explain.log_min_duration = 0;
SET auto_explain.log_analyze = on;
SET auto_explain.log_nested_statements = on;
SET client_min_messages = log;
SELECT * FROM crm_grade.followups_due(owner => '$owner') \g /dev/null
SQL
        FU_INNER[$R]=$("${PSQL[@]}" -At -f "$TMP/inner.sql" 2>&1 >/dev/null |
                       sed -nE 's/\t/  /g; /never executed|CTE Scan on t |rows=1 width=16|SELECT\* 2|rows=0 loops/d
                               s/.*LOG:  (duration: [0-9.]+ ms).*/\1/p; /actual time|Sort Method|Heap Blocks/p' | awk 'NR <= 16')
        echo "    $R reps: followups_due median execution ${FU_EXEC[$R]} ms, wall ${FU_WALL[$R]} ms, ${FU_ROWS[$R]} rows (median of 5 reps)"
    done
fi

# (5b) verify the follow-up customers, then take them away
if [ -z "$FU_SKIPPED" ]; then
    verify_set bmf
    t0=$(now)
    cleanup bmf
    DETACH_BMF_S=$(since "$t0")
fi
[ "$HAD_EXTENSION" = 1 ] || sql "DROP EXTENSION crm_grade" >/dev/null
TOTAL_S=$(since "$T_START")

# ---------------------------------------------------------------------------------------------
# report
{
    echo
    echo "crm_grade maintenance and memory benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "  machine : nproc=$(nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal/ { printf "%.1f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    echo "  server  : PostgreSQL $(sql 'SHOW server_version'), fsync=$(sql 'SHOW fsync'), shared_buffers=$(sql 'SHOW shared_buffers'), work_mem=$WORK_MEM"
    echo "  command : ${BENCH_COMMAND:-bash $BENCH/maintenance.sh --in-cluster}  BENCH_ORDERS=$BENCH_ORDERS BENCH_ORDER_CUSTOMERS=$BENCH_ORDER_CUSTOMERS BENCH_REPEATS=$BENCH_REPEATS BENCH_FU_CUSTOMERS=$BENCH_FU_CUSTOMERS BENCH_FU_SHAPES=\"$BENCH_FU_SHAPES\" BENCH_MEM_INSERTS=$BENCH_MEM_INSERTS BENCH_MEM_EVERY=$BENCH_MEM_EVERY BENCH_POLL=$BENCH_POLL BENCH_VERIFY_NESTLOOP=$BENCH_VERIFY_NESTLOOP"
    echo "  others  : ${OTHER_SOURCES:-no other table attached}; $OTHER_CUSTOMERS other customers (part of every back-fill, regrade_all() and verify() below)"
    echo "  total   : ${TOTAL_S} s"
    echo
    echo "(1) back-fill of $BENCH_ORDERS orders over $BENCH_ORDER_CUSTOMERS customers against CREATE TABLE AS ... GROUP BY (target <= 2x)"
    printf '  %-7s %-8s %12s %16s %9s %12s\n' round first "CTAS s" "attach_orders s" ratio "detach s"
    for ((r = 1; r <= BENCH_REPEATS; r++)); do
        printf '  %-7s %-8s %12s %16s %9s %12s\n' "$r" "$([ $((r % 2)) -eq 1 ] && echo CTAS || echo attach)" \
            "$(s_of "${CTAS[$r]}")" "$(s_of "${ATT[$r]}")" "$(ratio "${ATT[$r]}" "${CTAS[$r]}")x" \
            "$([ -n "${DET[$r]:-}" ] && s_of "${DET[$r]}" || echo -)"
    done
    echo "  median attach_orders / CREATE TABLE AS: ${BF_RATIO}x; customers graded: ${GRADED[1]}"
    echo
    echo "(2) regrade() with a share of the $BENCH_ORDER_CUSTOMERS customers expired, against regrade_all() (target: 1% <= 2%)"
    printf '  %-12s %10s %22s %14s %16s\n' expired customers "regrade() ms (rounds)" "median ms" "of regrade_all"
    printf '  %-12s %10s %22s %14s %16s\n' "regrade_all" "${RGN[1,all]}" \
        "$(for ((r = 1; r <= BENCH_REPEATS; r++)); do printf '%s ' "${RG[$r,all]}"; done)" "$RG_ALL" "100%"
    for kind in $EXPIRE_KINDS; do
        for k in $FRACTIONS; do
            med=$(for ((r = 1; r <= BENCH_REPEATS; r++)); do echo "${RG[$r,$kind$k]}"; done | median %.1f)
            printf '  %-12s %10s %22s %14s %16s\n' "$k% $kind" \
                "$(for ((r = 1; r <= BENCH_REPEATS; r++)); do printf '%s/%s ' "${RGN[$r,$kind$k]}" "${RGX[$r,$kind$k]}"; done)" \
                "$(for ((r = 1; r <= BENCH_REPEATS; r++)); do printf '%s ' "${RG[$r,$kind$k]}"; done)" "$med" "$(pct "$med" "$RG_ALL")"
        done
    done
    echo "  (customers: regrade()'s count / states expired by hand, per round)"
    echo
    if [ -n "$FU_SKIPPED" ]; then
        echo "(3) followups_due(owner): $FU_SKIPPED"
    else
        echo "(3) followups_due(owner => ...) among $BENCH_FU_CUSTOMERS customers, one contact each in the last 10 days (target < 20 ms)"
        echo "  set-up: attach_customers $(s_of "$FU_ATT_CUST_MS") s, attach_contacts $(s_of "$FU_ATT_CONT_MS") s"
        row='  %-6s %14s %9s %15s %14s %10s %13s\n'
        # shellcheck disable=SC2059
        printf "$row" reps customers/rep "rows due" "first call ms" "execution ms" "wall ms" "re-assign s"
        for R in "${SHAPES[@]}"; do
            # shellcheck disable=SC2059
            printf "$row" "$R" "$((BENCH_FU_CUSTOMERS / R))" "${FU_ROWS[$R]}" "${FU_COLD[$R]}" "${FU_EXEC[$R]}" "${FU_WALL[$R]}" \
                "$([ -n "${FU_REASSIGN_MS[$R]:-}" ] && s_of "${FU_REASSIGN_MS[$R]}" || echo -)"
        done
        echo "  (5 reps, one new session each: a first call (count(*), psql \\timing), then 7 EXPLAIN ANALYZE (execution:"
        echo "   median Execution Time) and 7 calls whose rows psql fetches (wall: median of psql \\timing); rows due:"
        echo "   median over the 5 reps; re-assign: the one UPDATE of every master row's rep before that shape)"
        for R in "${SHAPES[@]}"; do
            echo "  $R reps, $(printf "rep%0$(digits "$R")d" $((3 * R / 50)))'s call, the plan inside the function (auto_explain, nested statement first):"
            while IFS= read -r line; do echo "      $line"; done <<<"${FU_INNER[$R]}"
        done
    fi
    echo
    echo "(4) backend private memory (RssAnon of /proc/PID/status; shared buffers are not in it), work_mem=$WORK_MEM"
    printf '  %-44s %14s %14s\n' "" attached plain
    printf '  %-44s %14s %14s\n' "UPDATE of all $BENCH_ORDERS orders: time" "$(s_of "${UPD_MS[bm.orders]}") s" "$(s_of "${UPD_MS[bm.orders_plain]}") s"
    printf '  %-44s %14s %14s\n' "  RssAnon before" "$(mb "$(mem_first update-orders)")" "$(mb "$(mem_first update-orders_plain)")"
    printf '  %-44s %14s %14s\n' "  RssAnon peak (sampled every ${BENCH_POLL} s)" "$(mb "$(mem_peak update-orders)")" "$(mb "$(mem_peak update-orders_plain)")"
    printf '  %-44s %14s %14s\n' "  RssAnon after" "$(mb "$(mem_last update-orders)")" "$(mb "$(mem_last update-orders_plain)")"
    printf '  %-44s %14s %14s\n' "  VmHWM (incl. shared memory touched)" "$(mb "$(hwm_last update-orders)")" "$(mb "$(hwm_last update-orders_plain)")"
    printf '  %-44s %14s %14s\n' "  samples" "$(mem_count update-orders)" "$(mem_count update-orders_plain)"
    echo
    echo "  $BENCH_MEM_INSERTS single-row INSERTs in one psql session (autocommit), RssAnon read by the backend itself:"
    printf '  %-12s %14s %14s %18s %18s\n' "after" "attached" "plain" "attached s/chunk" "plain s/chunk"
    LC_ALL=C join -t'|' -j1 <(LC_ALL=C sort -t'|' -k1,1 "$TMP/insert-orders.samples") \
        <(LC_ALL=C sort -t'|' -k1,1 "$TMP/insert-orders_plain.samples") |
        sort -t'|' -k1,1n | awk -F'|' '{
            printf "  %-12s %14s %14s %18s %18s\n", $1, sprintf("%.1f MB", $3 / 1024), sprintf("%.1f MB", $6 / 1024),
                (NR > 1 ? sprintf("%.1f", $2 - pa) : ""), (NR > 1 ? sprintf("%.1f", $5 - pp) : "")
            pa = $2; pp = $5 }'
    printf '  %-44s %14s %14s\n' "  total time" \
        "$(awk -F'|' 'NR == 1 { a = $2 } END { printf "%.1f s", $2 - a }' "$TMP/insert-orders.samples")" \
        "$(awk -F'|' 'NR == 1 { a = $2 } END { printf "%.1f s", $2 - a }' "$TMP/insert-orders_plain.samples")"
    printf '  %-44s %14s %14s\n' "  RssAnon peak (sampled every ${BENCH_POLL} s)" "$(mb "$(mem_peak insert-orders)")" "$(mb "$(mem_peak insert-orders_plain)")"
    printf '  %-44s %14s %14s\n' "  VmHWM at the end (incl. shared memory)" "$(mb "$(hwm_last insert-orders)")" "$(mb "$(hwm_last insert-orders_plain)")"
    echo
    echo "(5) crm_grade.verify() (must be 0), run with enable_nestloop=$BENCH_VERIFY_NESTLOOP"
    for s in bm bmf; do
        [ -n "${VERIFY_N[$s]:-}" ] || continue
        if [ "$s" = bm ]; then what="the order customers ($ORDER_ROWS orders)"; else what="the follow-up customers"; fi
        echo "  $what, ${VERIFY_N[$s]} customers in all: ${VERIFY_FIRST[$s]} disagreements$([ "${VERIFY_FIRST[$s]}" != 0 ] &&
            echo " (rows) of ${VERIFY_CUST[$s]} customers") (${VERIFY_S[$s]} s)"
        if [ "${VERIFY_FIRST[$s]}" != 0 ]; then
            echo "    (orders are dated up to two years back: customers whose oldest order left the 12-month window"
            echo "     since the last write or regrade() are stale until regrade(), what the pg_cron job does)"
            while IFS= read -r line; do echo "      $line"; done <<<"${VERIFY_ROWS[$s]}"
            echo "    SELECT crm_grade.regrade()  ->  ${VERIFY_REGRADED[$s]}; verify() again  ->  ${VERIFY_FINAL[$s]}"
        fi
    done
    echo "  detach and drop: bm ${DETACH_BM_S} s$([ -n "${DETACH_BMF_S:-}" ] && echo ", bmf ${DETACH_BMF_S} s")"
} | tee "$REPORT"
echo "report saved to $REPORT"

for s in bm bmf; do
    if [ -n "${VERIFY_FINAL[$s]:-}" ] && [ "${VERIFY_FINAL[$s]}" != 0 ]; then
        echo "maintenance: crm_grade.verify() found ${VERIFY_FINAL[$s]} disagreements ($s)" >&2
        exit 1
    fi
done
