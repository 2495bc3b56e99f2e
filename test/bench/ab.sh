#!/usr/bin/env bash
# make bench-ab BENCH_BASE=<git revision>: the write path of two builds of crm_grade's library,
# side by side on the same tables, for a change that does not touch the catalog (both libraries
# must work with the installed extension's SQL).  One throw-away cluster, make bench's tables
# (setup.sql) with 100,000 orders over 20,000 customers (bulk.sql), then in alternating rounds,
# for each of make bench's single-row writes of orders (insert, update, delete_insert):
#   - the backend's CPU time per committed transaction, one pgbench client, read from
#     /proc/PID/stat between the run's 2nd second and 2 seconds before its end: less noisy than
#     throughput, whose pgbench client shares the CPUs;
#   - throughput with BENCH_CLIENTS clients, as a share of the plain table's.
# The base library is built from BENCH_BASE in a temporary worktree; the working tree's is "head".
# The libraries are swapped by renaming a copy over $libdir/crm_grade.so (each pgbench run's
# sessions load the file there); the working tree's is installed again at the end.
#
# Settings (environment):
#   BENCH_BASE      the revision to compare with                 (required, e.g. 0add215)
#   BENCH_SECONDS   seconds per pgbench run                      (default 12)
#   BENCH_ROUNDS    alternating rounds                            (default 4)
#   BENCH_CLIENTS   pgbench clients for the throughput runs       (default 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench
BENCH_SECONDS=${BENCH_SECONDS:-12}
BENCH_ROUNDS=${BENCH_ROUNDS:-4}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
CUSTOMERS=20000
ROWS=100000
SCRIPTS=(insert update delete_insert)

if [ "${1:-}" != "--in-cluster" ]; then
    [ -n "${BENCH_BASE:-}" ] || { echo "make bench-ab: set BENCH_BASE to a git revision" >&2; exit 2; }
    bash test/install-deps.sh
    make
    make install
    tmp=$(mktemp -d /tmp/crm_grade_ab.XXXXXX)
    trap 'git worktree remove --force "$tmp/base" 2>/dev/null; rm -rf "$tmp"' EXIT
    git worktree add -q --detach "$tmp/base" "$BENCH_BASE"
    make -s -C "$tmp/base" >/dev/null
    cp "$tmp/base/crm_grade.so" "$tmp/base.so"
    cp crm_grade.so "$tmp/head.so"
    export BENCH_BASE_SO="$tmp/base.so" BENCH_HEAD_SO="$tmp/head.so"
    export BENCH_HEAD_DESC="$(git describe --always --dirty)"
    rc=0
    pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC -o fsync=off \
        bash "$ROOT/$BENCH/ab.sh" --in-cluster || rc=$?
    make install >/dev/null
    exit $rc
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
LIB="$(pg_config --pkglibdir)/crm_grade.so"
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
use_lib() { cp "$1" "$LIB.ab" && mv "$LIB.ab" "$LIB"; }
pgb() {  # pgb CLIENTS SCRIPT TABLE: pgbench for BENCH_SECONDS in the background
    pgbench -n -c "$1" -j "$1" -T "$BENCH_SECONDS" -f "$BENCH/$2.pgbench" -D tbl="$3" \
        -D customers=$CUSTOMERS -D rows=$ROWS -D clients="$1"
}
commits() { "${PSQL[@]}" -At -c "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"; }
# cpu_per_tx SCRIPT TABLE: microseconds of backend CPU per committed transaction, one client
cpu_per_tx() {
    local pid c0 c1 x0 x1 bp
    pgb 1 "$1" "$2" >/dev/null 2>&1 &
    bp=$!
    sleep 2
    pid=$("${PSQL[@]}" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'")
    c0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat"); x0=$(commits)
    sleep $((BENCH_SECONDS - 4))
    c1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat"); x1=$(commits)
    wait $bp
    # (the second commits() query is one commit of its own)
    awk -v c=$((c1 - c0)) -v x=$((x1 - x0 - 1)) -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", c / t * 1e6 / x }'
}
tps() { pgb "$BENCH_CLIENTS" "$1" "$2" 2>&1 | sed -nE 's/^tps = ([0-9.]+).*/\1/p'; }

"${PSQL[@]}" -v attach=true -f "$BENCH/setup.sql" >/dev/null
for t in bench.orders bench.orders_plain; do
    "${PSQL[@]}" -v tbl=$t -v rows=$ROWS -v customers=$CUSTOMERS -v seed=0.5 -f "$BENCH/bulk.sql" >/dev/null
done
"${PSQL[@]}" -c "VACUUM ANALYZE" >/dev/null

declare -A CPU TPS
for ((r = 1; r <= BENCH_ROUNDS; r++)); do
    if ((r % 2)); then order="base head plain"; else order="plain head base"; fi
    for s in "${SCRIPTS[@]}"; do
        for side in $order; do
            if [ "$side" = plain ]; then tbl=bench.orders_plain; else tbl=bench.orders; fi
            case $side in base) use_lib "$BENCH_BASE_SO" ;; head) use_lib "$BENCH_HEAD_SO" ;; esac
            CPU[$s,$side,$r]=$(cpu_per_tx "$s" "$tbl")
            TPS[$s,$side,$r]=$(tps "$s" "$tbl")
            echo "round $r $s $side: ${CPU[$s,$side,$r]} us CPU/tx, ${TPS[$s,$side,$r]} tps"
        done
    done
done
use_lib "$BENCH_HEAD_SO"
"${PSQL[@]}" -At -c "SELECT 'verify: ' || count(*) || ' disagreements' FROM crm_grade.verify()"

echo
echo "crm_grade $BENCH_BASE (base) against $BENCH_HEAD_DESC (head); $BENCH_ROUNDS rounds of ${BENCH_SECONDS} s; medians"
printf '%-14s %12s %12s %12s %10s %14s %14s\n' write "base us/tx" "head us/tx" "plain us/tx" head/base "base tps/plain" "head tps/plain"
for s in "${SCRIPTS[@]}"; do
    b=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do echo "${CPU[$s,base,$r]}"; done | median)
    h=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do echo "${CPU[$s,head,$r]}"; done | median)
    p=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do echo "${CPU[$s,plain,$r]}"; done | median)
    rb=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do awk -v a="${TPS[$s,base,$r]}" -v b="${TPS[$s,plain,$r]}" 'BEGIN { print a / b }'; done | median)
    rh=$(for ((r = 1; r <= BENCH_ROUNDS; r++)); do awk -v a="${TPS[$s,head,$r]}" -v b="${TPS[$s,plain,$r]}" 'BEGIN { print a / b }'; done | median)
    printf '%-14s %12s %12s %12s %10s %14s %14s\n' "$s" "$b" "$h" "$p" "$(awk -v a="$h" -v b="$b" 'BEGIN { printf "%.3f", a / b }')" "$rb" "$rh"
done
