#!/usr/bin/env bash
# DETACH PARTITION ... CONCURRENTLY of a partition of an attached order table.  Its first
# transaction commits with the partition "detach pending": from then on PostgreSQL's scans of the
# table leave the partition out, and so does crm_grade.  While it is pending (the DETACH waits for
# older snapshots, or was cancelled and waits for ... FINALIZE):
#   - writes straight into the partition go on (0.12 refused them with 55000, naming crm_grade's
#     trigger as foreign), and re-grade the customers they touch without the partition's rows;
#   - a TRUNCATE of it re-grades everyone, a DROP of it re-grades its customers (0.12 left them
#     counting the dropped rows);
#   - customers no write touched still count its rows until the DETACH finishes (verify() lists
#     them), when they are graded without it (partition_detached), as after FINALIZE.
# Found by review.  TAP output, run with prove against PGHOST/PGPORT.
set -uo pipefail

db=crm_grade_detach_conc
tmp=$(mktemp -d /tmp/crm_grade_detconc.XXXXXX)
cleanup() {
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	dropdb --if-exists "$db" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PGOPTIONS="-c client_min_messages=warning"

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

dropdb --if-exists "$db" 2>/dev/null
createdb "$db"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" 2>&1 <<'SQL'
CREATE EXTENSION crm_grade;
CREATE TABLE o (id serial, c int NOT NULL, a numeric NOT NULL, t timestamptz NOT NULL)
	PARTITION BY RANGE (t);
CREATE TABLE o24 PARTITION OF o FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE o26 PARTITION OF o FOR VALUES FROM ('2025-01-01') TO ('2027-01-01');
CREATE INDEX ON o (c);
INSERT INTO o (c, a, t) VALUES (61, 777, '2024-06-01'), (61, 5, '2026-02-01'),
	(62, 50, '2024-03-01'), (63, 9, '2026-03-01'), (64, 40, '2024-04-01'), (64, 4, '2026-04-01');
SELECT crm_grade.attach_orders('o', 'c', 'a', 't');
SQL
); rc=$?
ok $rc "a partitioned order table, attached" "$out"

totals() { q "$db" "SELECT string_agg(customer || '=' || total_amount, ' ' ORDER BY customer) FROM crm_grade.customer_state"; }
pending() { q "$db" "SELECT coalesce(bool_or(inhdetachpending), false) FROM pg_inherits WHERE inhrelid = 'o24'::regclass"; }
stale() { q "$db" "SELECT coalesce(string_agg(DISTINCT customer, ' ' ORDER BY customer), '') FROM crm_grade.verify()"; }

# old_snapshot SECONDS: a transaction holding a snapshot that sees o24 attached, in the background
old_snapshot() {
	psql -X -q -d "$db" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT count(*) FROM o" \
		-c "SELECT pg_sleep($1)" -c "COMMIT" >/dev/null 2>&1 &
	sleep 0.5
}
# until_pending: wait (up to 10 s) for the DETACH's first transaction to commit
until_pending() {
	local i
	for i in $(seq 1 100); do [ "$(pending)" = t ] && return 0; sleep 0.1; done
	return 1
}

# 1. The DETACH waits for the old snapshot; writes into the pending partition meanwhile.
old_snapshot 4
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER TABLE o DETACH PARTITION o24 CONCURRENTLY" \
	>"$tmp/detach1.log" 2>&1 &
detach=$!
until_pending; ok $? "the DETACH's first transaction commits: o24 is pending"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "INSERT INTO o24 (c, a, t) VALUES (61, 1, '2024-07-01')" \
	-c "UPDATE o24 SET a = a + 1 WHERE c = 62" 2>&1); rc=$?
ok $rc "an INSERT and an UPDATE straight into the pending partition go on" "$out"
is "$(totals)" "61=5 63=9 64=44" \
	"the customers they touched are graded without the partition's rows; 64 still counts them"
is "$(stale)" "64" "verify() lists the customer no write touched"
wait $detach; rc=$?
ok $rc "the DETACH finishes once the old snapshot is gone" "$(cat "$tmp/detach1.log")"
is "$(totals)" "61=5 63=9 64=4" "the partition's customers are graded without it"
is "$(stale)" "" "verify() is empty after the DETACH"
wait

# 2. A cancelled DETACH leaves the partition pending until FINALIZE.
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
	-c "ALTER TABLE o ATTACH PARTITION o24 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" 2>&1); rc=$?
ok $rc "o24 attached again" "$out"
is "$(totals)" "61=783 62=51 63=9 64=44" "its rows count again"
old_snapshot 3
out=$(psql -X -q -d "$db" -c "SET lock_timeout = '500ms'" \
	-c "ALTER TABLE o DETACH PARTITION o24 CONCURRENTLY" 2>&1)
is "$(echo "$out" | grep -c 'lock timeout')/$(pending)" "1/t" "a DETACH cancelled while it waits leaves o24 pending"
wait
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "DELETE FROM o24 WHERE c = 62" 2>&1); rc=$?
ok $rc "a DELETE from the pending partition goes on" "$out"
is "$(stale)" "61 64" "verify() lists the customers that still count its rows"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "ALTER TABLE o DETACH PARTITION o24 FINALIZE" 2>&1); rc=$?
ok $rc "DETACH ... FINALIZE" "$out"
is "$(totals)/$(stale)" "61=5 63=9 64=4/" "FINALIZE grades the partition's customers without it"

# 3. A pending partition dropped, and one truncated.
for how in "DROP TABLE o24" "TRUNCATE o24"; do
	out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "DROP TABLE IF EXISTS o24" \
		-c "CREATE TABLE o24 PARTITION OF o FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" \
		-c "INSERT INTO o (c, a, t) VALUES (61, 700, '2024-06-01'), (64, 30, '2024-05-01')" 2>&1); rc=$?
	ok $rc "a new o24 with rows of customers 61 and 64" "$out"
	old_snapshot 3
	psql -X -q -d "$db" -c "SET lock_timeout = '500ms'" \
		-c "ALTER TABLE o DETACH PARTITION o24 CONCURRENTLY" >/dev/null 2>&1
	wait
	is "$(pending)/$(stale)" "t/61 64" "o24 pending; its customers still count its rows"
	out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "$how" 2>&1); rc=$?
	ok $rc "$how, while pending" "$out"
	is "$(totals)/$(stale)" "61=5 63=9 64=4/" "$how re-grades its customers without its rows"
done

echo "1..$n"
exit $fail
