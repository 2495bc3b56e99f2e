#!/usr/bin/env bash
# make bench-floor: the least any trigger design pays on single-row writes of orders, against
# which crm_grade's cost is judged (issue 16: "measure a C no-op trigger of each kind first").
# One throw-away cluster, identical order tables (setup.sql's DDL), 100,000 orders over 20,000
# customers loaded into each first, then pgbench on each side in alternating rounds, for each of
# make bench's single-row writes of orders (insert.pgbench, update.pgbench, delete_insert.pgbench);
# each side's tps as a share of the plain table's, the median of the rounds:
#   plain         no trigger
#   c_row_noop    a C row trigger (AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW) that does nothing
#   c_stmt_noop   C statement triggers with transition tables (AFTER INSERT REFERENCING NEW TABLE,
#                 and so on) that do nothing: the machinery crm_grade's own triggers use
#   c_row_state   a C row trigger that moves the order into or out of ONE row of a state table
#                 by its primary key, through a plan prepared once (UPDATE ... SET n = n + $3,
#                 total = total + $2 WHERE customer = $1; an UPDATE of an order moves the
#                 difference): the least any per-customer state kept in the same transaction
#                 costs, computing nothing
#   plpgsql_state the same UPDATE from a PL/pgSQL row trigger
#   crm_grade     crm_grade attached (attach_orders)
# The triggers are test/bench/floor/crm_grade_floor.c, built and installed by this script only.
#
# Settings (environment):
#   BENCH_SECONDS   seconds per pgbench run     (default 10)
#   BENCH_ROUNDS    alternating rounds           (default 3)
#   BENCH_CLIENTS   pgbench clients and threads  (default 2)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
BENCH=test/bench
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_CLIENTS=${BENCH_CLIENTS:-2}
CUSTOMERS=20000
SIDES=(plain c_row_noop c_stmt_noop c_row_state plpgsql_state crm_grade)

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    make
    make install
    make -C "$BENCH/floor"
    make -C "$BENCH/floor" install
    exec pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC -o fsync=off \
        bash "$ROOT/$BENCH/floor.sh" --in-cluster
fi

PSQL=(psql -X -q -v ON_ERROR_STOP=1)
median() { sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
table_of() { case $1 in plain) echo bench.orders_plain ;; crm_grade) echo bench.orders ;; *) echo "bench.orders_$1" ;; esac; }

"${PSQL[@]}" -v attach=true -f "$BENCH/setup.sql" >/dev/null
"${PSQL[@]}" >/dev/null <<SQL
CREATE FUNCTION bench.floor_noop() RETURNS trigger LANGUAGE c AS 'crm_grade_floor', 'crm_grade_floor_noop';
CREATE FUNCTION bench.floor_state() RETURNS trigger LANGUAGE c AS 'crm_grade_floor', 'crm_grade_floor_state';
CREATE FUNCTION bench.floor_state_plpgsql() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.customer_id = NEW.customer_id THEN
        UPDATE bench.floor_state_plpgsql SET total = total + NEW.amount - OLD.amount WHERE customer = NEW.customer_id;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE bench.floor_state_plpgsql SET n = n - 1, total = total - OLD.amount WHERE customer = OLD.customer_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE bench.floor_state_plpgsql SET n = n + 1, total = total + NEW.amount WHERE customer = NEW.customer_id;
    END IF;
    RETURN NULL;
END \$\$;
-- the state tables, one row per customer, with crm_grade's fillfactor
CREATE TABLE bench.floor_state (customer bigint PRIMARY KEY, n bigint NOT NULL, total numeric NOT NULL)
    WITH (fillfactor = 80);
CREATE TABLE bench.floor_state_plpgsql (LIKE bench.floor_state INCLUDING ALL) WITH (fillfactor = 80);
CREATE TRIGGER floor AFTER INSERT OR UPDATE OR DELETE ON bench.orders_c_row_noop
    FOR EACH ROW EXECUTE FUNCTION bench.floor_noop();
-- (a trigger with transition tables has one event: three, as crm_grade has)
CREATE TRIGGER floor_ins AFTER INSERT ON bench.orders_c_stmt_noop REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION bench.floor_noop();
CREATE TRIGGER floor_upd AFTER UPDATE ON bench.orders_c_stmt_noop REFERENCING OLD TABLE AS o NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION bench.floor_noop();
CREATE TRIGGER floor_del AFTER DELETE ON bench.orders_c_stmt_noop REFERENCING OLD TABLE AS o
    FOR EACH STATEMENT EXECUTE FUNCTION bench.floor_noop();
CREATE TRIGGER floor AFTER INSERT OR UPDATE OR DELETE ON bench.orders_c_row_state
    FOR EACH ROW EXECUTE FUNCTION bench.floor_state('customer_id', 'amount', 'bench.floor_state');
CREATE TRIGGER floor AFTER INSERT OR UPDATE OR DELETE ON bench.orders_plpgsql_state
    FOR EACH ROW EXECUTE FUNCTION bench.floor_state_plpgsql();
SQL
for side in "${SIDES[@]}"; do
    "${PSQL[@]}" -v tbl="$(table_of "$side")" -v rows=100000 -v customers=$CUSTOMERS -v seed=0.5 \
        -f "$BENCH/bulk.sql" >/dev/null
done
"${PSQL[@]}" >/dev/null <<SQL
INSERT INTO bench.floor_state SELECT customer_id, count(*), sum(amount) FROM bench.orders_c_row_state GROUP BY 1;
INSERT INTO bench.floor_state_plpgsql SELECT customer_id, count(*), sum(amount) FROM bench.orders_plpgsql_state GROUP BY 1;
-- the few keys the load did not draw: every insert finds its state row
INSERT INTO bench.floor_state SELECT k, 0, 0 FROM generate_series(1, $CUSTOMERS) k ON CONFLICT DO NOTHING;
INSERT INTO bench.floor_state_plpgsql SELECT k, 0, 0 FROM generate_series(1, $CUSTOMERS) k ON CONFLICT DO NOTHING;
VACUUM ANALYZE;
SQL

WRITES=(insert update delete_insert)
run() {
    pgbench -n -c "$BENCH_CLIENTS" -j "$BENCH_CLIENTS" -T "$1" -f "$BENCH/$2.pgbench" -D tbl="$3" \
        -D customers=$CUSTOMERS -D rows=100000 -D clients="$BENCH_CLIENTS" 2>&1 | grep -oP '^tps = \K[0-9.]+'
}
declare -A TPS
for w in "${WRITES[@]}"; do
    for side in "${SIDES[@]}"; do run 3 "$w" "$(table_of "$side")" >/dev/null; done
    for r in $(seq 1 "$BENCH_ROUNDS"); do
        order=("${SIDES[@]}")
        if [ $((r % 2)) -eq 0 ]; then order=($(printf '%s\n' "${SIDES[@]}" | tac)); fi
        for side in "${order[@]}"; do
            TPS[$w,$side,$r]=$(run "$BENCH_SECONDS" "$w" "$(table_of "$side")")
        done
    done
done

echo "single-row writes of orders, tps as a share of the plain table's (median of $BENCH_ROUNDS rounds;"
echo "$BENCH_CLIENTS clients, ${BENCH_SECONDS} s per run, fsync=off, $(nproc) cores, PostgreSQL $(psql -XAtc 'SHOW server_version'))"
for w in "${WRITES[@]}"; do
    echo "  $w ($w.pgbench)"
    printf '    %-14s %10s %8s  %s\n' side "tps" "/ plain" rounds
    for side in "${SIDES[@]}"; do
        ratios=() tps=()
        for r in $(seq 1 "$BENCH_ROUNDS"); do
            ratios+=("$(echo "scale=4; ${TPS[$w,$side,$r]} / ${TPS[$w,plain,$r]}" | bc)")
            tps+=("${TPS[$w,$side,$r]}")
        done
        printf '    %-14s %10.0f %8s  %s\n' "$side" "$(printf '%s\n' "${tps[@]}" | median)" \
            "$(printf '%s\n' "${ratios[@]}" | median)" "$(printf '%.2f ' "${ratios[@]}")"
    done
done
# the state tables hold what their order tables hold, and verify() finds nothing, or the
# comparison is void
BAD=$("${PSQL[@]}" -At <<'SQL'
SELECT (SELECT count(*) FROM bench.floor_state s
          FULL JOIN (SELECT customer_id, count(*) AS n, sum(amount) AS total
                       FROM bench.orders_c_row_state GROUP BY 1) o ON o.customer_id = s.customer
         WHERE coalesce(s.n, 0) <> coalesce(o.n, 0) OR coalesce(s.total, 0) <> coalesce(o.total, 0))
     + (SELECT count(*) FROM bench.floor_state_plpgsql s
          FULL JOIN (SELECT customer_id, count(*) AS n, sum(amount) AS total
                       FROM bench.orders_plpgsql_state GROUP BY 1) o ON o.customer_id = s.customer
         WHERE coalesce(s.n, 0) <> coalesce(o.n, 0) OR coalesce(s.total, 0) <> coalesce(o.total, 0))
     + (SELECT count(*) FROM crm_grade.verify())
SQL
)
echo "state tables and crm_grade.verify(): $BAD disagreements"
[ "$BAD" = 0 ]
