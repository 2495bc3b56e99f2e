#!/usr/bin/env bash
# make bench-policies: score and RFM policies among BENCH_CUSTOMERS customers (one million by
# default, about three orders each over two years, qualitative attributes in the master), in ONE
# run on a throw-away pg_virtualenv cluster: simulate() of weighted_score and rfm from abc (the
# median of BENCH_ROUNDS calls), use_policy() of each, a population refresh by regrade() under
# rfm, explain() latency; then, with BENCH_VERIFY=1, crm_grade.verify() must return no row.
#
# Settings (environment):
#   BENCH_CUSTOMERS  customers                (default 1000000)
#   BENCH_ROUNDS     calls of simulate() each (default 3)
#   BENCH_VERIFY     1: verify() at the end   (default 0: it takes minutes on a million)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench
BENCH_CUSTOMERS=${BENCH_CUSTOMERS:-1000000}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_VERIFY=${BENCH_VERIFY:-0}

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    make
    make install
    exec pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC -o fsync=off \
        -o shared_buffers=512MB -o work_mem=64MB bash "$ROOT/$BENCH/policies.sh" --in-cluster
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -At -c "$1"; }
now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
timed() { local t0; t0=$(now); sql "$1" >/dev/null; secs "$t0" "$(now)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mkdir -p "$BENCH/results"
REPORT="$BENCH/results/policies-$(date -u +%Y%m%dT%H%M%SZ).txt"

echo "setting up $BENCH_CUSTOMERS customers with orders and attributes"
t0=$(now)
"${PSQL[@]}" <<SQL
CREATE EXTENSION crm_grade;
CREATE SCHEMA bench;
CREATE TABLE bench.customers (id int PRIMARY KEY, rep text NOT NULL, created_at timestamptz NOT NULL, attrs jsonb);
INSERT INTO bench.customers
SELECT i, 'rep' || (i % 50), now() - interval '3 years' + (i % 700) * interval '1 day',
       jsonb_build_object('customization', i % 101, 'service_level', (i * 7) % 101,
                          'industry_outlook', (i * 13) % 101, 'expansion', (i * 17) % 101, 'referral', (i * 19) % 101)
  FROM generate_series(1, $BENCH_CUSTOMERS) i;
CREATE TABLE bench.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL,
                           ordered_at timestamptz NOT NULL, paid_at timestamptz);
INSERT INTO bench.orders (customer_id, amount, ordered_at, paid_at)
SELECT c, round((100 + (c * 31 + k * 17) % 5000 * (1 + c % 10))::numeric, 2),
       now() - ((c * 7 + k * 53) % 730) * interval '1 day' - (k % 24) * interval '1 hour',
       now() - ((c * 7 + k * 53) % 730) * interval '1 day' + ((c + k) % 60) * interval '1 day'
  FROM generate_series(1, $BENCH_CUSTOMERS) c, generate_series(1, c % 7) k;
CREATE INDEX ON bench.orders (customer_id);
SELECT crm_grade.attach_customers('bench.customers', 'id', 'rep', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('bench.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
VACUUM ANALYZE;
SQL
SETUP_S=$(secs "$t0" "$(now)")
ORDERS=$(sql "SELECT count(*) FROM bench.orders")

declare -a SW SR
for i in $(seq "$BENCH_ROUNDS"); do
    SW+=("$(timed "SELECT count(*) FROM crm_grade.simulate((SELECT definition FROM crm_grade.policy WHERE name = 'weighted_score'))")")
    SR+=("$(timed "SELECT count(*) FROM crm_grade.simulate((SELECT definition FROM crm_grade.policy WHERE name = 'rfm'))")")
done
SIM_SCORE=$(median "${SW[@]}")
SIM_RFM=$(median "${SR[@]}")
USE_SCORE=$(timed "SELECT crm_grade.use_policy('weighted_score')")
USE_RFM=$(timed "SELECT crm_grade.use_policy('rfm')")
# a population refresh: regrade() once the figures are older than the setting (0: always)
POP=$(PGOPTIONS="-c crm_grade.population_refresh=0" timed "SELECT crm_grade.regrade()")
# explain(): the median of 20 customers
declare -a EX
for c in $(seq 1 20); do
    id=$(( (c * 48271) % BENCH_CUSTOMERS + 1 ))
    EX+=("$("${PSQL[@]}" -At -c "EXPLAIN (ANALYZE, FORMAT JSON) SELECT crm_grade.explain($id)" |
            sed -nE 's/.*"Execution Time": ([0-9.]+).*/\1/p')")
done
EXPLAIN_MS=$(median "${EX[@]}")
SIM_PLAN=$("${PSQL[@]}" -At -c "EXPLAIN SELECT s FROM crm_grade.customer_state s" | head -1)
VERIFY="not run (BENCH_VERIFY=1 runs it)"
if [ "$BENCH_VERIFY" = 1 ]; then
    t0=$(now)
    n=$(sql "SELECT count(*) FROM crm_grade.verify()")
    VERIFY="$n disagreements in $(secs "$t0" "$(now)") s"
fi

{
    echo "crm_grade policies benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(psql -XAtc 'SHOW server_version')"
    echo "customers: $BENCH_CUSTOMERS, orders: $ORDERS; set-up (tables, attach, back-fill): $SETUP_S s"
    echo "simulate(weighted_score) from abc: $SIM_SCORE s (median of $BENCH_ROUNDS: ${SW[*]})"
    echo "simulate(rfm) from abc, population computed afresh: $SIM_RFM s (median of $BENCH_ROUNDS: ${SR[*]})"
    echo "  plan of its pass over the states: $SIM_PLAN"
    echo "use_policy('weighted_score'): $USE_SCORE s; use_policy('rfm'): $USE_RFM s"
    echo "regrade() refreshing the RFM cut-offs and re-grading from the states: $POP s"
    echo "explain(customer): median $EXPLAIN_MS ms"
    echo "verify(): $VERIFY"
} | tee "$REPORT"
