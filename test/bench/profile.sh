#!/usr/bin/env bash
# make bench-profile: where a single-row write to an attached order table spends its time.
# perf samples every CPU (call graphs) while pgbench runs one write per transaction into
# bench.orders (crm_grade attached, BENCH_CUSTOMERS customers with BENCH_ROWS orders loaded
# first) on a throw-away cluster; prints the functions by self time and by time including
# callees, for the postgres processes.  For issue 16: profile first, then choose the levers.
#
# Settings (environment):
#   BENCH_SECONDS    seconds of pgbench under perf   (default 15)
#   BENCH_ROWS       orders loaded first             (default 100000)
#   BENCH_CUSTOMERS  customer keys 1..N              (default 20000)
#   BENCH_CLIENTS    pgbench clients                 (default 2)
#   BENCH_SCRIPT     insert, update or delete_insert (default insert): test/bench/<it>.pgbench
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench
BENCH_SECONDS=${BENCH_SECONDS:-15}
BENCH_ROWS=${BENCH_ROWS:-100000}
BENCH_CUSTOMERS=${BENCH_CUSTOMERS:-20000}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
BENCH_SCRIPT=${BENCH_SCRIPT:-insert}
case "$BENCH_SCRIPT" in
    insert|update|delete_insert) ;;
    *) echo "BENCH_SCRIPT must be insert, update or delete_insert, not $BENCH_SCRIPT" >&2; exit 2 ;;
esac

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    command -v perf >/dev/null || apt-get install -y -q linux-perf >/dev/null
    make
    make install
    exec pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC -o fsync=off \
        bash "$ROOT/$BENCH/profile.sh" --in-cluster
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
mkdir -p "$BENCH/results"
OUT="$BENCH/results/profile-$BENCH_SCRIPT-$(date -u +%Y%m%dT%H%M%SZ)"
"${PSQL[@]}" -v attach=true -f "$BENCH/setup.sql" >/dev/null
"${PSQL[@]}" -v tbl=bench.orders -v rows="$BENCH_ROWS" -v customers="$BENCH_CUSTOMERS" -v seed=0.5 \
    -f "$BENCH/bulk.sql" >/dev/null
"${PSQL[@]}" -c "VACUUM ANALYZE" >/dev/null
pgbench -n -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T 3 -f "$BENCH/insert.pgbench" \
    -D tbl=bench.orders -D customers="$BENCH_CUSTOMERS" >/dev/null
perf record -q -a -g -o "$OUT.data" -- \
    pgbench -n -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T "$BENCH_SECONDS" -f "$BENCH/$BENCH_SCRIPT.pgbench" \
        -D tbl=bench.orders -D customers="$BENCH_CUSTOMERS" -D rows="$BENCH_ROWS" \
        -D clients="$BENCH_CLIENTS" 2>&1 | grep -E '^tps' || true
perf report -i "$OUT.data" --comm postgres --no-children --sort symbol --stdio -g none \
    >"$OUT.self" 2>/dev/null || true
perf report -i "$OUT.data" --comm postgres --children --sort symbol --stdio -g none \
    >"$OUT.children" 2>/dev/null || true
{
    echo "== self time, postgres processes"
    grep -E '^ +[0-9]' "$OUT.self" | sed -n '1,40p'
    echo
    echo "== including callees, postgres processes"
    grep -E '^ +[0-9]' "$OUT.children" | sed -n '1,70p'
} | tee "$OUT.txt"
"${PSQL[@]}" -At -c "SELECT 'verify(): ' || count(*) || ' disagreements' FROM crm_grade.verify()"
