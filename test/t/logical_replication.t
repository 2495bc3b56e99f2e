#!/usr/bin/env bash
# Rows applied by logical replication are graded on the subscriber (README "Replication, dump
# and restore"): the apply worker runs with session_replication_role = replica and fires no
# statement triggers, so crm_grade's ENABLE REPLICA row trigger (cloned to every partition) and
# its ENABLE ALWAYS TRUNCATE trigger do the grading there.
#
# One cluster (wal_level = logical, as test/run-tests.sh starts it): a publisher database with
# plain customer and order tables, a subscriber database with the same tables, one of them
# partitioned there, attached to crm_grade.  The subscription to a database of the same cluster
# is created with create_slot = false after the slot is made on the publisher (creating it from
# CREATE SUBSCRIPTION would wait for its own transaction).  Proves the initial table sync and
# replicated INSERT, UPDATE (also moving rows across the subscriber's partitions), DELETE and
# TRUNCATE are graded: after each, once the subscriber has caught up, verify() is empty on the
# subscriber and the grades are those computed by hand.  Subscription, slot and publication are
# removed on any exit.  TAP output, run with prove against PGHOST/PGPORT.
set -uo pipefail

pub=crm_grade_lr_pub
sub=crm_grade_lr_sub
slot=crm_grade_lr_slot
T='2026-06-15 12:00+00'
export PGOPTIONS="-c crm_grade.as_of=2026-06-15T12:00:00+00 -c TimeZone=UTC -c client_min_messages=warning"

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

cleanup() {
	# The subscription first (without dropping the slot over a connection), then the slot once
	# its walsender has gone, then the databases.
	if [ "$(psql -X -At -d $sub -c "SELECT count(*) FROM pg_subscription WHERE subname = 'crm_grade_lr'" 2>/dev/null)" = 1 ]; then
		psql -X -q -d $sub -c "ALTER SUBSCRIPTION crm_grade_lr DISABLE" \
			-c "ALTER SUBSCRIPTION crm_grade_lr SET (slot_name = NONE)" \
			-c "DROP SUBSCRIPTION crm_grade_lr" >/dev/null 2>&1
	fi
	local i
	for i in $(seq 1 100); do
		[ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot' AND active" 2>/dev/null)" = 0 ] && break
		sleep 0.1
	done
	psql -X -q -d postgres -c "SELECT pg_drop_replication_slot('$slot') FROM pg_replication_slots WHERE slot_name = '$slot'" >/dev/null 2>&1
	psql -X -q -d $pub -c "DROP PUBLICATION IF EXISTS crm_grade_lr" >/dev/null 2>&1
	dropdb --if-exists $sub 2>/dev/null
	dropdb --if-exists $pub 2>/dev/null
	if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'" 2>/dev/null)" != 0 ]; then
		echo "# cleanup: replication slot $slot is still there" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cleanup

if [ "$(q postgres "SHOW wal_level")" != logical ]; then
	echo "1..1"
	echo "not ok 1 - the cluster runs with wal_level = logical (test/run-tests.sh passes -o wal_level=logical)"
	exit 1
fi

# The publisher: plain tables.  orders2 has the customer in its primary key, so that the
# subscriber can partition it by customer and still find rows by the replica identity.
createdb $pub
q $pub "CREATE SCHEMA app;
	CREATE TABLE app.customers (id integer PRIMARY KEY, owner text, created_at timestamptz, attrs jsonb);
	CREATE TABLE app.orders (id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric NOT NULL,
							 ordered_at timestamptz NOT NULL, paid_at timestamptz);
	CREATE TABLE app.orders2 (id integer, customer_id integer NOT NULL, amount numeric NOT NULL,
							  ordered_at timestamptz NOT NULL, PRIMARY KEY (id, customer_id));
	INSERT INTO app.customers VALUES (1, 'ann', '2025-01-01', '{}'), (2, 'bob', '2025-02-01', '{}'),
		(3, 'ann', '2025-03-01', '{}'), (4, 'bob', '2025-04-01', '{}'), (5, 'cy', '2025-05-01', '{}');
	INSERT INTO app.orders VALUES
		(1, 1, 300000, '2026-01-10 10:00+00', '2026-01-20 10:00+00'),
		(2, 1, 250000, '2026-03-10 10:00+00', NULL),
		(3, 2, 120000, '2026-02-01 10:00+00', NULL),
		(4, 3, 5000, '2025-12-01 10:00+00', NULL),
		(5, 9, 1000, '2024-01-01 10:00+00', NULL);
	INSERT INTO app.orders2 VALUES (1, 5, 600000, '2026-04-01 10:00+00'), (2, 11, 150000, '2026-05-01 10:00+00');
	CREATE PUBLICATION crm_grade_lr FOR TABLE app.customers, app.orders, app.orders2" >/dev/null
# (in a transaction of its own: a slot cannot be made in one that has written)
is "$(q $pub "SELECT slot_name FROM pg_create_logical_replication_slot('$slot', 'pgoutput')")" "$slot" \
	"publication and logical replication slot on the publisher"

# The subscriber: the same tables, orders2 partitioned by customer (range, with a default
# partition), all attached before the subscription so that the initial sync is graded.  The
# apply worker takes the database's settings: the same moment T as this script.
createdb $sub
q $sub "ALTER DATABASE $sub SET crm_grade.as_of = '$T'; ALTER DATABASE $sub SET TimeZone = 'UTC'" >/dev/null
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $sub 2>&1 >/dev/null <<'SQL'
CREATE EXTENSION crm_grade;
CREATE SCHEMA app;
CREATE TABLE app.customers (id integer PRIMARY KEY, owner text, created_at timestamptz, attrs jsonb);
CREATE TABLE app.orders (id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric NOT NULL,
						 ordered_at timestamptz NOT NULL, paid_at timestamptz);
CREATE INDEX ON app.orders (customer_id);
CREATE TABLE app.orders2 (id integer, customer_id integer NOT NULL, amount numeric NOT NULL,
						  ordered_at timestamptz NOT NULL, PRIMARY KEY (id, customer_id)) PARTITION BY RANGE (customer_id);
CREATE INDEX ON app.orders2 (customer_id);
CREATE TABLE app.orders2_low PARTITION OF app.orders2 FOR VALUES FROM (1) TO (6);
CREATE TABLE app.orders2_high PARTITION OF app.orders2 FOR VALUES FROM (6) TO (10);
CREATE TABLE app.orders2_other PARTITION OF app.orders2 DEFAULT;
SELECT crm_grade.attach_customers('app.customers', 'id', 'owner', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('app.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_orders('app.orders2', 'customer_id', 'amount', 'ordered_at');
SQL
); rc=$?
ok $rc "subscriber database with crm_grade attached to its tables (one partitioned)" "$out"

conninfo="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$pub${PGPASSWORD:+ password=$PGPASSWORD}"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $sub -c "CREATE SUBSCRIPTION crm_grade_lr CONNECTION '$conninfo' PUBLICATION crm_grade_lr
	WITH (create_slot = false, slot_name = '$slot')" 2>&1); rc=$?
ok $rc "subscription to the publisher (slot made beforehand)" "$out"

# caught_up NAME: wait (30 s at most) until the subscriber's tables hold what the publisher's do.
digest_sql="SELECT md5(string_agg(r, E'\n' ORDER BY r)) FROM (
	SELECT 'c' || x::text AS r FROM app.customers x UNION ALL
	SELECT 'o' || x::text FROM app.orders x UNION ALL
	SELECT 'p' || x::text FROM app.orders2 x) y"
caught_up() {
	local i want got
	for i in $(seq 1 300); do
		want=$(q $pub "$digest_sql")
		got=$(q $sub "$digest_sql")
		if [ "$want" = "$got" ] &&
		   [ "$(q $sub "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate NOT IN ('r', 's')")" = 0 ]; then
			ok 0 "$1: the subscriber has caught up"
			return 0
		fi
		sleep 0.1
	done
	ok 1 "$1: the subscriber has caught up" \
		"$(q $sub "SELECT 'subscription: ' || string_agg(format('%s pid=%s received=%s', subname, pid, received_lsn), ', ') FROM pg_stat_subscription")"
	return 1
}
# The grade of each customer the subscriber knows, and what verify() says there.
grades() { q $sub "SELECT string_agg(customer || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_grades"; }
verify_empty() {
	local v
	v=$(q $sub "SELECT count(*) FROM crm_grade.verify()")
	is "$v" 0 "$1: verify() is empty on the subscriber"
	[ "$v" = 0 ] || q $sub "SELECT customer, field, stored, recomputed FROM crm_grade.verify() LIMIT 10" | sed 's/^/#   /'
}

# Initial sync.  abc: A from 500000 in the 12 months up to T, B from 100000, else C.
# 1: 550000 A; 2: 120000 B; 3: 5000 C; 4, 5: master only, C; 9: an order of 2024, outside the
# window, C; orders2: 5 gets 600000 A, 11 (not in the master) 150000 B.
caught_up "initial table sync"
verify_empty "initial table sync"
is "$(grades)" "1:A 2:B 3:C 4:C 5:A 9:C 11:B" "initial table sync: every customer graded"
is "$(q $sub "SELECT count(*) FROM pg_trigger WHERE tgname = 'crm_grade_replica' AND tgenabled = 'R'
				AND tgrelid IN ('app.customers'::regclass, 'app.orders'::regclass, 'app.orders2'::regclass,
								'app.orders2_low'::regclass, 'app.orders2_high'::regclass, 'app.orders2_other'::regclass)")" \
	"6" "the replica row trigger is on every subscriber table and partition, ENABLE REPLICA"

# INSERT: 3 gets 200000 (B); 6 (new, not in the master) 50000 (C); 7 in orders2 600000 (A).
h0=$(q $sub "SELECT coalesce(max(id), 0) FROM crm_grade.history")
q $pub "INSERT INTO app.orders VALUES (6, 3, 200000, '2026-06-01 10:00+00', NULL), (7, 6, 50000, '2026-06-02 10:00+00', NULL);
		INSERT INTO app.orders2 VALUES (3, 7, 600000, '2026-06-03 10:00+00')" >/dev/null
caught_up "INSERT"
verify_empty "INSERT"
is "$(grades)" "1:A 2:B 3:B 4:C 5:A 6:C 7:A 9:C 11:B" "INSERT: grades as computed by hand"
is "$(q $sub "SELECT string_agg(customer || ':' || reason, ' ' ORDER BY customer) FROM crm_grade.history WHERE id > $h0")" \
	"3:reactivated 6:first_order 7:first_order" "INSERT: replicated orders are in the history with their reasons"

# UPDATE: 1's 300000 order becomes 10000 (260000: B); orders2's order of 5 moves to customer 8
# (from partition orders2_low to orders2_high on the subscriber): 5 C, 8 A.
q $pub "UPDATE app.orders SET amount = 10000 WHERE id = 1;
		UPDATE app.orders2 SET customer_id = 8 WHERE id = 1" >/dev/null
caught_up "UPDATE"
verify_empty "UPDATE"
is "$(grades)" "1:B 2:B 3:B 4:C 5:C 6:C 7:A 8:A 9:C 11:B" "UPDATE: grades as computed by hand, a row moved across partitions included"
is "$(q $sub "SELECT tableoid::regclass FROM app.orders2 WHERE id = 1")" "app.orders2_high" "UPDATE: the row did move to another partition"

# DELETE: 2's only order (2: C, kept as a master customer); 6's only order (6 leaves: not in the
# master, no rows).  Customer master: 10 added, 4 removed (no orders: it leaves), 1's owner changed.
q $pub "DELETE FROM app.orders WHERE id IN (3, 7);
		INSERT INTO app.customers VALUES (10, 'dee', '2026-06-01', '{}');
		DELETE FROM app.customers WHERE id = 4;
		UPDATE app.customers SET owner = 'cy' WHERE id = 1" >/dev/null
caught_up "DELETE and customer master writes"
verify_empty "DELETE and customer master writes"
is "$(grades)" "1:B 2:C 3:B 5:C 7:A 8:A 9:C 10:C 11:B" "DELETE and customer master writes: grades as computed by hand"
is "$(q $sub "SELECT owner FROM crm_grade.customer_grades WHERE customer = 1")" "cy" "a replicated customer master UPDATE is applied"

# TRUNCATE of the partitioned table: 7, 8 and 11 leave; nothing else moves.
q $pub "TRUNCATE app.orders2" >/dev/null
caught_up "TRUNCATE"
verify_empty "TRUNCATE"
is "$(grades)" "1:B 2:C 3:B 5:C 9:C 10:C" "TRUNCATE: grades as computed by hand"

# A COPY on the publisher, applied as many inserts.
q $pub "COPY app.orders (id, customer_id, amount, ordered_at) FROM PROGRAM 'seq 100 139 | awk ''{ printf \"%d\\t%d\\t%d\\t2026-05-%02d 10:00+00\\n\", \$1, \$1 % 4 + 1, 130000, \$1 % 28 + 1 }'''" >/dev/null
caught_up "COPY"
verify_empty "COPY"
is "$(grades)" "1:A 2:A 3:A 4:A 5:C 9:C 10:C" "COPY: 40 orders of 130000 for customers 1 to 4"

is "$(q $sub "SELECT coalesce(sum(apply_error_count + sync_error_count), -1) FROM pg_stat_subscription_stats WHERE subname = 'crm_grade_lr'")" \
	"0" "the apply worker met no error"
echo "1..$n"
exit $fail
