#!/usr/bin/env bash
# pg_dump/pg_restore of a database whose attached orders table is partitioned (range partitions,
# one of them hash-partitioned again, and a default partition), and the documented repair after
# a load with crm_grade's triggers disabled.
#
# (a) A normal restore brings back the state column for column and the history, crm_grade's
#     triggers on every partition at every depth (the row trigger for replicated rows cloned
#     from the root), verify() empty; writes straight into a partition, and a partition created
#     after the restore, are graded.
# (b) A data-only restore with --disable-triggers into a database that already has the schema
#     and crm_grade attached, and a COPY into a partition with its triggers disabled: verify()
#     reports the drift, and the repair the README documents, SELECT crm_grade.regrade_all(),
#     makes verify() empty and the state equal to the original database's.
# TAP output, run with prove against PGHOST/PGPORT.
set -uo pipefail

src=crm_grade_rr_src
dst=crm_grade_rr_dst
dat=crm_grade_rr_data
tmp=$(mktemp -d /tmp/crm_grade_rr.XXXXXX)
dbs=($src $dst $dat)
cleanup() {
	for d in "${dbs[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export PGOPTIONS="-c crm_grade.as_of=2026-06-15T12:00:00+00 -c TimeZone=UTC -c client_min_messages=warning"

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"
state_sql="SELECT * FROM crm_grade.customer_state ORDER BY customer"
# Every crm_grade trigger on the order table's partition tree, level by level.
triggers_sql="SELECT t.relid::regclass AS rel, t.level, g.tgname, g.tgenabled, g.tgparentid <> 0 AS clone,
					 regexp_replace(pg_get_triggerdef(g.oid), '^CREATE TRIGGER \\S+ ', '') AS def
				FROM pg_partition_tree('app.orders') t JOIN pg_trigger g ON g.tgrelid = t.relid
			   WHERE g.tgname LIKE 'crm_grade%' ORDER BY t.relid::regclass::text, g.tgname"

for d in "${dbs[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done

createdb $src
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $src 2>&1 >/dev/null <<'SQL'
CREATE EXTENSION crm_grade;
CREATE SCHEMA app;
CREATE TABLE app.customers (id integer PRIMARY KEY, owner text, created_at timestamptz, attrs jsonb);
CREATE TABLE app.orders (
	id			bigserial,
	customer_id	integer NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
) PARTITION BY RANGE (ordered_at);
CREATE INDEX ON app.orders (customer_id);
CREATE TABLE app.orders_2025 PARTITION OF app.orders FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00');
CREATE TABLE app.orders_2026 PARTITION OF app.orders FOR VALUES FROM ('2026-01-01 00:00+00') TO ('2027-01-01 00:00+00')
	PARTITION BY HASH (customer_id);
CREATE TABLE app.orders_2026_h0 PARTITION OF app.orders_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE app.orders_2026_h1 PARTITION OF app.orders_2026 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
CREATE TABLE app.orders_other PARTITION OF app.orders DEFAULT;

INSERT INTO app.customers
SELECT i, 'rep' || (i % 4), timestamptz '2024-06-01 00:00+00' + i * interval '3 days', jsonb_build_object('tier', i % 3)
  FROM generate_series(1, 30) i;
-- orders in 2024 (default partition), 2025 and 2026 (hash partitions), refunds among them;
-- customers 31..33 are not in the master
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at)
SELECT c, CASE WHEN k = 5 AND c % 7 = 0 THEN -20000 ELSE 15000 * ((c * 11 + k * 5) % 9 + 1) END,
	   timestamptz '2024-09-01 10:00+00' + ((c * 41 + k * 97) % 640) * interval '1 day',
	   CASE WHEN k % 2 = 0 THEN timestamptz '2024-09-01 10:00+00' + ((c * 41 + k * 97) % 640 + c % 11) * interval '1 day' END
  FROM generate_series(1, 33) c, generate_series(1, 2 + c % 5) k;

SELECT crm_grade.attach_customers('app.customers', 'id', 'owner', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('app.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.use_policy('four_class');
INSERT INTO crm_grade.holiday VALUES ('2026-12-25', 'Christmas');
-- writes after attach, through the root and straight into partitions (history rows)
INSERT INTO app.orders (customer_id, amount, ordered_at) VALUES (3, 90000, '2026-06-01 10:00+00');
INSERT INTO app.orders_2025 (customer_id, amount, ordered_at) VALUES (4, 70000, '2025-09-01 10:00+00');
UPDATE app.orders_other SET amount = amount + 1 WHERE customer_id = 5;
INSERT INTO app.customers VALUES (40, 'rep1', '2026-06-01 00:00+00', '{}');
SQL
); rc=$?
ok $rc "a database with an attached partitioned orders table" "$out"
is "$(q $src "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty in the original database"
# The partition tree as the original database has it: 6 relations, each with the 5 statement
# triggers (begin, insert, update, delete, truncate), and the replica row trigger on the root with a clone on every partition.
q $src "SELECT count(*) FROM ($triggers_sql) x" >"$tmp/ntrig"
is "$(q $src "SELECT string_agg(DISTINCT format('%s:%s', tgname, tgenabled), ',')
				 || ' ' || count(DISTINCT rel) || ' ' || count(*) FROM ($triggers_sql) x")" \
	"crm_grade_begin:O,crm_grade_delete:O,crm_grade_insert:O,crm_grade_replica:R,crm_grade_truncate:A,crm_grade_update:O 6 36" \
	"the original database has crm_grade's 6 triggers on each of the 6 tables of the tree"

pg_dump -Fc -d $src -f "$tmp/full.dump"

# ---------------------------------------------------------------------------------------------
# (a) A normal restore.
createdb $dst
out=$(pg_restore -d $dst --exit-on-error "$tmp/full.dump" 2>&1); rc=$?
ok $rc "pg_restore into an empty database" "$out"
same $src $dst "$state_sql" "every customer's state comes back, column for column"
same $src $dst "SELECT * FROM crm_grade.history ORDER BY id" "the history comes back"
same $src $dst "SELECT tbl::text, kind, key_type::text, columns, attached_at FROM crm_grade.source ORDER BY 1" \
	"the attachments come back"
same $src $dst "$triggers_sql" "the same triggers on every partition, at every depth, with the same enabled state"
is "$(q $dst "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty after the restore"

# Writes straight into partitions of the restored database, each followed by verify().
partition_writes=(
	"INSERT INTO app.orders_2025 (customer_id, amount, ordered_at, paid_at) VALUES (1, 600000, '2025-12-01 10:00+00', '2025-12-05 10:00+00')"
	"INSERT INTO app.orders_2026 (customer_id, amount, ordered_at) VALUES (2, 450000, '2026-05-20 10:00+00'), (7, 1000, '2026-05-21 10:00+00')"
	"COPY app.orders_other (customer_id, amount, ordered_at) FROM PROGRAM 'printf \"8\\t55000\\t2024-11-11 11:00+00\\n20\\t1\\t2030-01-01 00:00+00\\n\"'"
	"UPDATE app.orders_2025 SET amount = amount * 2 WHERE customer_id IN (9, 10)"
	"DELETE FROM app.orders_2026_h1 WHERE customer_id IN (SELECT customer_id FROM app.orders_2026_h1 ORDER BY customer_id LIMIT 2)"
	"UPDATE app.orders SET ordered_at = ordered_at + interval '200 days' WHERE customer_id = 11 AND ordered_at < '2025-10-01'"
	"TRUNCATE app.orders_other"
)
drift=0
for w in "${partition_writes[@]}"; do
	if ! out=$(psql -X -q -v ON_ERROR_STOP=1 -d $dst -c "$w" 2>&1) || [ "$(q $dst "SELECT count(*) FROM crm_grade.verify()")" != 0 ]; then
		drift=1
		echo "# after: $w" >&2
		[ -z "$out" ] || echo "# $out" >&2
		q $dst "SELECT customer, field, stored, recomputed FROM crm_grade.verify() LIMIT 10" | sed 's/^/#   /' >&2
	fi
done
ok $drift "writes straight into partitions (INSERT, COPY, UPDATE, DELETE, rows moved across partitions, TRUNCATE) are graded: verify() empty after each"
# Customer 1's 600000 order (2025-12, in the window) makes them key (>= 50000) or core; the
# exact grade is verify()'s business, that it moved is this test's.
is "$(q $dst "SELECT grade <> 'potential' AND amount_12m >= 600000 FROM crm_grade.customer_state WHERE customer = '1'")" \
	"t" "customer 1's order written into a partition is in their state"
q $dst "CREATE TABLE app.orders_2027 PARTITION OF app.orders FOR VALUES FROM ('2027-01-01 00:00+00') TO ('2028-01-01 00:00+00')" >/dev/null
is "$(q $dst "SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'app.orders_2027'::regclass")" \
	"crm_grade_begin:O,crm_grade_delete:O,crm_grade_insert:O,crm_grade_replica:R,crm_grade_truncate:A,crm_grade_update:O" \
	"a partition created after the restore gets crm_grade's triggers"

# ---------------------------------------------------------------------------------------------
# (b) A data-only restore with --disable-triggers into a database that has the schema, and
# crm_grade with the same tables attached (and no rows yet): the rows arrive, the state does not.
createdb $dat
pg_dump --schema-only -d $src -f "$tmp/schema.sql"
out=$( { psql -X -q -v ON_ERROR_STOP=1 -d $dat -f "$tmp/schema.sql" &&
		 psql -X -q -v ON_ERROR_STOP=1 -d $dat \
			-c "SELECT crm_grade.attach_customers('app.customers', 'id', 'owner', 'created_at', 'attrs')" \
			-c "SELECT crm_grade.attach_orders('app.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at')" \
			-c "SELECT crm_grade.use_policy('four_class')"; } 2>&1 >/dev/null); rc=$?
ok $rc "a database with the schema and crm_grade attached, no rows" "$out"
is "$(q $dat "SELECT count(*) FROM crm_grade.customer_state")" "0" "... and no customers"
pg_dump -Fc --data-only -n app -d $src -f "$tmp/app-data.dump"
out=$(pg_restore -d $dat --data-only --disable-triggers --exit-on-error "$tmp/app-data.dump" 2>&1); rc=$?
ok $rc "pg_restore --data-only --disable-triggers of the application's tables" "$out"
is "$(q $dat "SELECT count(*) FILTER (WHERE field = 'exists') > 0 FROM crm_grade.verify()")" \
	"t" "verify() reports the drift: customers whose rows arrived with the triggers disabled"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $dat -c "SELECT crm_grade.regrade_all()" 2>&1 >/dev/null); rc=$?
ok $rc "SELECT crm_grade.regrade_all()" "$out"
is "$(q $dat "SELECT count(*) FROM crm_grade.verify()")" "0" "the documented repair makes verify() empty"
same $src $dat "$state_sql" "after the repair every customer's state equals the original database's, column for column"
# pg_restore --disable-triggers runs ALTER TABLE ... DISABLE TRIGGER ALL and then ENABLE TRIGGER
# ALL on each table it loads: crm_grade's triggers must come out as they were (the replica row
# trigger ENABLE REPLICA, the TRUNCATE trigger ENABLE ALWAYS), or writes are counted twice or
# replicated TRUNCATEs missed.
same $src $dat "$triggers_sql" "after the --disable-triggers restore crm_grade's triggers are enabled as before"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $dat -c "INSERT INTO app.orders (customer_id, amount, ordered_at) VALUES (12, 30000, '2026-06-02 10:00+00'), (13, 30000, '2025-07-02 10:00+00')" 2>&1 >/dev/null)
is "$out$(q $dat "SELECT count(*) FROM crm_grade.verify()")" "0" "after the repair new writes are graded once: verify() is empty"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $dat -c "SET session_replication_role = replica" \
	-c "INSERT INTO app.orders (customer_id, amount, ordered_at) VALUES (14, 700000, '2026-06-03 10:00+00')" 2>&1 >/dev/null)
is "$out$(q $dat "SELECT count(*) FROM crm_grade.verify()")" "0" \
	"after the repair a write in replica mode (as logical replication applies it) is graded: verify() is empty"

# And a load with a partition's triggers disabled in the restored database.
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $dst 2>&1 >/dev/null <<'SQL'
ALTER TABLE app.orders_2026 DISABLE TRIGGER USER;
ALTER TABLE app.orders_2026_h0 DISABLE TRIGGER USER;
ALTER TABLE app.orders_2026_h1 DISABLE TRIGGER USER;
COPY app.orders_2026 (customer_id, amount, ordered_at) FROM PROGRAM 'seq 1 40 | awk ''{ printf "%d\t%d\t2026-03-%02d 09:00+00\n", $1, 40000, $1 % 28 + 1 }''';
-- as they were: statement triggers on, the replica row trigger ENABLE REPLICA, TRUNCATE ALWAYS
ALTER TABLE app.orders_2026 ENABLE TRIGGER crm_grade_insert, ENABLE TRIGGER crm_grade_update, ENABLE TRIGGER crm_grade_delete,
	ENABLE ALWAYS TRIGGER crm_grade_truncate, ENABLE REPLICA TRIGGER crm_grade_replica;
ALTER TABLE app.orders_2026_h0 ENABLE TRIGGER crm_grade_insert, ENABLE TRIGGER crm_grade_update, ENABLE TRIGGER crm_grade_delete,
	ENABLE ALWAYS TRIGGER crm_grade_truncate, ENABLE REPLICA TRIGGER crm_grade_replica;
ALTER TABLE app.orders_2026_h1 ENABLE TRIGGER crm_grade_insert, ENABLE TRIGGER crm_grade_update, ENABLE TRIGGER crm_grade_delete,
	ENABLE ALWAYS TRIGGER crm_grade_truncate, ENABLE REPLICA TRIGGER crm_grade_replica;
SQL
); rc=$?
drift_rows=$(q $dst "SELECT count(DISTINCT customer) FROM crm_grade.verify()")
repair=$(psql -X -q -v ON_ERROR_STOP=1 -d $dst -c "SELECT crm_grade.regrade_all()" 2>&1 >/dev/null)
is "$rc $drift_rows $(q $dst "SELECT count(*) FROM crm_grade.verify()")$repair" "0 40 0" \
	"COPY into a partitioned partition with its triggers disabled: verify() reports all 40 customers, regrade_all() repairs"
echo "1..$n"
exit $fail
