--
-- 13_partman: an order table partitioned by month and managed by
-- pg_partman 4.x (native partitioning): the partitions
-- partman.create_parent() and partman.run_maintenance() create get
-- crm_grade's triggers and their rows are graded; partitions its retention
-- detaches (retention_keep_table) or drops stop counting.
--
-- partman works from the real clock, so nothing here prints a date or a
-- partition name: M is the start of the current month, partitions are
-- shown as month offsets from M, and T (crm_grade.as_of) is M + 5 months,
-- so that every order below lies inside T's 12-month window (M - 7, M + 5].
-- Policy abc (A >= 500000, B >= 100000).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
SELECT date_trunc('month', now()) AS m0 \gset
SELECT set_config('crm_grade.as_of', (:'m0'::timestamptz + interval '5 months')::text, false) AS as_of \gset
\set grades 'SELECT customer, grade, amount_12m, orders_total FROM crm_grade.customer_grades ORDER BY customer'

CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE SCHEMA t13;
CREATE TABLE t13.customers (id int4 PRIMARY KEY, name text);
INSERT INTO t13.customers VALUES (1301, 'Ada'), (1302, 'Ben'), (1303, 'Cy'), (1304, 'Dee'), (1305, 'Eve');
CREATE TABLE t13.orders (
	id			int4 NOT NULL,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
) PARTITION BY RANGE (ordered_at);
CREATE INDEX ON t13.orders (customer_id);

-- the partitions of t13.orders as month offsets from M (DEFAULT left out)
CREATE FUNCTION t13.partition_months() RETURNS int[]
LANGUAGE sql AS $$
	SELECT array_agg(((extract(year FROM i.child_start_time) - extract(year FROM date_trunc('month', now()))) * 12
					  + extract(month FROM i.child_start_time) - extract(month FROM date_trunc('month', now())))::int
					 ORDER BY i.child_start_time)
	  FROM partman.show_partitions('t13.orders') p,
		   partman.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename,
									   p_parent_table := 't13.orders') i
$$;
-- the partitions of t13.orders (DEFAULT included), and how many carry
-- crm_grade's 5 statement triggers and the clone of its replica trigger
CREATE FUNCTION t13.partitions_with_triggers(OUT partitions bigint, OUT with_crm_grade_triggers bigint)
LANGUAGE sql AS $$
	SELECT count(*), count(*) FILTER (WHERE x.statement_triggers = 5 AND x.replica = 'R')
	  FROM (SELECT c.oid,
				   count(t.oid) FILTER (WHERE (t.tgtype & 1) = 0) AS statement_triggers,
				   max(t.tgenabled::text) FILTER (WHERE t.tgname = 'crm_grade_replica' AND t.tgparentid <> 0) AS replica
			  FROM pg_inherits i
			  JOIN pg_class c ON c.oid = i.inhrelid
			  LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'crm\_grade\_%'
			 WHERE i.inhparent = 't13.orders'::regclass
			 GROUP BY c.oid) x
$$;
-- the partition (name) that holds a given month of t13.orders
CREATE FUNCTION t13.partition_for(months int) RETURNS text
LANGUAGE sql AS $$
	SELECT n.partition_table
	  FROM partman.show_partition_name('t13.orders',
			(date_trunc('month', now()) + make_interval(months => months))::text) n
$$;

--------------------------------------------------------------------------
-- partman creates monthly partitions from M - 4 to M + 2 (premake 2) and
-- a DEFAULT partition; orders land on the 10th of their month
--------------------------------------------------------------------------
SELECT partman.create_parent('t13.orders', 'ordered_at', 'native', 'monthly', p_premake := 2,
							 p_start_partition := (:'m0'::timestamptz - interval '4 months')::text);
SELECT t13.partition_months();
SELECT to_regclass('t13.orders_default') IS NOT NULL AS has_default;
INSERT INTO t13.orders VALUES
	(1, 1301, 300000, :'m0'::timestamptz - interval '4 months' + interval '9 days'),
	(2, 1301, 250000, :'m0'::timestamptz + interval '9 days'),
	(3, 1302, 200000, :'m0'::timestamptz - interval '3 months' + interval '9 days'),
	(4, 1302, 100000, :'m0'::timestamptz - interval '2 months' + interval '9 days'),
	(5, 1303, 50000, :'m0'::timestamptz - interval '1 month' + interval '9 days');
SELECT count(*) AS orders_in_default FROM t13.orders_default;
-- five customers each; 1301 A (550000), 1302 B (300000), 1303 C (50000),
-- 1304 and 1305 C (prospects)
SELECT crm_grade.attach_customers('t13.customers', 'id');
SELECT crm_grade.attach_orders('t13.orders', 'customer_id', 'amount', 'ordered_at');
-- 7 monthly partitions and DEFAULT, all with crm_grade's triggers
SELECT * FROM t13.partitions_with_triggers();
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- orders in the current and future months, through the root and straight
-- into partman's partitions
--------------------------------------------------------------------------
-- through the root into M + 1: 1303 C -> B (110000)
INSERT INTO t13.orders VALUES (6, 1303, 60000, :'m0'::timestamptz + interval '1 month' + interval '9 days');
-- straight into the partition of M + 1: 1304 C -> B (150000)
SELECT t13.partition_for(1) AS part \gset
INSERT INTO t13.:"part" VALUES (7, 1304, 150000, :'m0'::timestamptz + interval '1 month' + interval '9 days');
-- straight into the last premade partition, M + 2: 1305 C -> A (600000)
SELECT t13.partition_for(2) AS part \gset
INSERT INTO t13.:"part" VALUES (8, 1305, 600000, :'m0'::timestamptz + interval '2 months' + interval '9 days');
SELECT count(*) AS orders_in_default FROM t13.orders_default;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- run_maintenance(): the newest data is in M + 2, so partman premakes
-- M + 3 and M + 4 (attached with ATTACH PARTITION), and crm_grade puts
-- its triggers on them
--------------------------------------------------------------------------
SELECT partman.run_maintenance();
SELECT t13.partition_months();
SELECT * FROM t13.partitions_with_triggers();
-- straight into the new partition of M + 3: 1303 B -> A (510000)
SELECT t13.partition_for(3) AS part \gset
INSERT INTO t13.:"part" VALUES (9, 1303, 400000, :'m0'::timestamptz + interval '3 months' + interval '9 days');
-- through the root into the new partition of M + 4: 1304 B -> A (550000)
INSERT INTO t13.orders VALUES (10, 1304, 400000, :'m0'::timestamptz + interval '4 months' + interval '9 days');
SELECT o.id, t13.partition_for(m) = c.relname::text AS in_partition_of_its_month
  FROM t13.orders o JOIN pg_class c ON c.oid = o.tableoid,
	   (VALUES (9, 3), (10, 4)) AS v(id, m)
 WHERE o.id = v.id ORDER BY o.id;
:grades;
SELECT * FROM crm_grade.verify();
-- through the root, order 10 moves from M + 4 back to M + 1 and becomes
-- 100000: 1304 A -> B (250000)
UPDATE t13.orders SET ordered_at = ordered_at - interval '3 months', amount = 100000 WHERE id = 10;
SELECT t13.partition_for(1) = (SELECT c.relname::text FROM t13.orders o JOIN pg_class c ON c.oid = o.tableoid WHERE o.id = 10)
	AS moved_to_m1;
:grades;
SELECT * FROM crm_grade.verify();
-- the newest data is now in M + 3: maintenance premakes M + 5
SELECT partman.run_maintenance();
SELECT t13.partition_months();
SELECT * FROM t13.partitions_with_triggers();

--------------------------------------------------------------------------
-- retention: partitions that ended more than the retention before now
--------------------------------------------------------------------------
-- 3 months, keeping the table: partman DETACHes the partition of M - 4
-- (order 1 of 1301): 1301 A -> B (250000), reason partition_detached
UPDATE partman.part_config SET retention = '3 months', retention_keep_table = true
 WHERE parent_table = 't13.orders';
SELECT partman.run_maintenance();
SELECT t13.partition_months();
SELECT t13.partition_for(-4) AS part \gset
SELECT c.relispartition, (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers_left
  FROM pg_class c WHERE c.oid = ('t13.' || :'part')::regclass;
-- its rows no longer count
INSERT INTO t13.:"part" VALUES (11, 1305, 999999, :'m0'::timestamptz - interval '4 months' + interval '10 days');
:grades;
SELECT * FROM crm_grade.verify();

-- 1 month, dropping the tables: partman DROPs the partitions of M - 3 and
-- M - 2 (orders 3 and 4 of 1302): 1302 B -> C, reason partition_dropped
UPDATE partman.part_config SET retention = '1 month', retention_keep_table = false
 WHERE parent_table = 't13.orders';
SELECT partman.run_maintenance();
SELECT t13.partition_months();
SELECT to_regclass('t13.' || t13.partition_for(-3)) IS NULL AS m3_dropped,
	   to_regclass('t13.' || t13.partition_for(-2)) IS NULL AS m2_dropped;
SELECT * FROM t13.partitions_with_triggers();
:grades;
SELECT * FROM crm_grade.verify();

-- every grade change of this file, in order
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history
 WHERE id > :hist_start AND old_grade IS DISTINCT FROM new_grade ORDER BY id;

-- cleanup
SELECT crm_grade.detach('t13.orders');
SELECT crm_grade.detach('t13.customers');
SET client_min_messages = warning;
DROP SCHEMA t13 CASCADE;
DROP EXTENSION pg_partman;
DROP SCHEMA partman CASCADE;
RESET client_min_messages;
RESET crm_grade.as_of;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
