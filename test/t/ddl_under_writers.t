#!/usr/bin/env bash
# DDL that re-grades, run again and again under a steady stream of single-statement writers
# (pgbench, 8 clients, one INSERT per transaction): ALTER COLUMN ... TYPE of the amount, and
# DETACH / ATTACH PARTITION and TRUNCATE of a partition.  The DDL waits for the writers, never
# the other way round: no application write fails (0.11, once three tries to take the table found
# it busy, waited for it while holding crm_grade's lock on the states, which every such writer
# needs after its table: deadlocks, application INSERTs cancelled; found by a workload review),
# and verify() is empty at the end.
# TAP output, run with prove against PGHOST/PGPORT.
set -uo pipefail

db=crm_grade_ddl_writers
tmp=$(mktemp -d /tmp/crm_grade_ddlw.XXXXXX)
cleanup() {
	dropdb --if-exists "$db" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PGOPTIONS="-c client_min_messages=warning"
SECONDS_EACH=${DDL_WRITERS_SECONDS:-10}

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<'SQL'
CREATE EXTENSION crm_grade;
CREATE TABLE plain_orders (id bigserial, customer_id int NOT NULL, amount numeric NOT NULL,
						   ordered_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON plain_orders (customer_id);
SELECT crm_grade.attach_orders('plain_orders', 'customer_id', 'amount', 'ordered_at');
CREATE TABLE parted (id bigserial, customer_id int NOT NULL, amount numeric NOT NULL,
					 ordered_at timestamptz NOT NULL DEFAULT now()) PARTITION BY RANGE (ordered_at);
CREATE TABLE parted_old PARTITION OF parted FOR VALUES FROM (MINVALUE) TO ('2020-01-01');
CREATE TABLE parted_new PARTITION OF parted FOR VALUES FROM ('2020-01-01') TO (MAXVALUE);
CREATE INDEX ON parted (customer_id);
INSERT INTO parted (customer_id, amount, ordered_at) VALUES (1, 10, '2019-06-01');
SELECT crm_grade.attach_orders('parted', 'customer_id', 'amount', 'ordered_at');
SQL
); rc=$?
ok $rc "two attached tables, one of them partitioned" "$out"
printf '%s\n' '\set c random(1, 1000)' 'INSERT INTO :tbl (customer_id, amount) VALUES (:c, 10);' >"$tmp/writer.sql"

# run_ddl TABLE DDL...: pgbench writers into TABLE while the DDL statements run in turn until
# they stop; sets FAILED (pgbench's failed transactions), DONE (its transactions) and DDL_ERRORS
run_ddl() {
	local tbl=$1 end
	shift
	pgbench -n --failures-detailed -d "$db" -c 8 -j 2 -T "$SECONDS_EACH" -D tbl="$tbl" -f "$tmp/writer.sql" \
		>"$tmp/pgbench.log" 2>&1 &
	local pid=$!
	sleep 1
	DDL_ERRORS=0
	end=$((SECONDS + SECONDS_EACH - 2))
	while [ $SECONDS -lt $end ]; do
		for stmt in "$@"; do
			psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "$stmt" >>"$tmp/ddl.log" 2>&1 || DDL_ERRORS=$((DDL_ERRORS + 1))
		done
	done
	wait $pid
	FAILED=$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$tmp/pgbench.log")
	DONE=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$tmp/pgbench.log")
}

run_ddl plain_orders "ALTER TABLE plain_orders ALTER COLUMN amount TYPE numeric(20,4)" \
	"ALTER TABLE plain_orders ALTER COLUMN amount TYPE numeric"
is "$FAILED/$DDL_ERRORS/$([ "${DONE:-0}" -gt 0 ] && echo wrote)" "0/0/wrote" \
	"ALTER COLUMN ... TYPE under writers: no write fails, no DDL fails" 
[ "$FAILED$DDL_ERRORS" = 00 ] || sed 's/^/# /' "$tmp/pgbench.log" "$tmp/ddl.log" | grep -i 'deadlock\|error' | head -5

run_ddl parted "ALTER TABLE parted DETACH PARTITION parted_old" \
	"ALTER TABLE parted ATTACH PARTITION parted_old FOR VALUES FROM (MINVALUE) TO ('2020-01-01')" \
	"TRUNCATE parted_old" "INSERT INTO parted_old (customer_id, amount, ordered_at) VALUES (2, 10, '2019-06-01')"
is "$FAILED/$DDL_ERRORS/$([ "${DONE:-0}" -gt 0 ] && echo wrote)" "0/0/wrote" \
	"DETACH / ATTACH PARTITION and TRUNCATE under writers: no write fails, no DDL fails"
[ "$FAILED$DDL_ERRORS" = 00 ] || sed 's/^/# /' "$tmp/pgbench.log" "$tmp/ddl.log" | grep -i 'deadlock\|error' | head -5

is "$(q "$db" "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty after both"

echo "1..$n"
exit $fail
