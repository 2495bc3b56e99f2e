--
-- 12_partitions: crm_grade grades exactly on every write path of
-- partitioned order tables: through the root and straight into partitions
-- (INSERT, COPY, UPDATE, DELETE, TRUNCATE), rows moved between partitions,
-- partitions created, attached, detached (also CONCURRENTLY) and dropped,
-- two levels of partitions (range over hash), partitions whose columns lie
-- in another order, a partitioned customer master, and a writer with
-- rights on one partition only.  Inheritance is refused, and so is
-- attaching two tables of one partition tree.
--
-- Policy abc (A >= 500000, B >= 100000 in 12 months).  T moves a minute
-- per event from 2025-06-15 12:00 UTC: the 12-month window is
-- (2024-06-15 12:MM, T].  Every section ends with verify() (empty).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_total, total_amount FROM crm_grade.customer_grades ORDER BY customer'
-- the grade changes logged at the current T, in the order they were made
\set changes 'SELECT customer, old_grade, new_grade, reason FROM crm_grade.history WHERE changed_at = crm_grade.as_of() AND old_grade IS DISTINCT FROM new_grade ORDER BY id'

CREATE SCHEMA t12;
-- crm_grade's triggers on the tables of t12 whose names match: the number
-- of statement-level ones, and each (name without "crm_grade_", enabled
-- state O = origin, A = always, R = replica; cloned = PostgreSQL's copy of
-- the root's row trigger)
CREATE FUNCTION t12.crm_triggers(pattern text)
RETURNS TABLE (rel name, statement_triggers bigint, triggers text)
LANGUAGE sql AS $$
	SELECT c.relname,
		   count(t.oid) FILTER (WHERE (t.tgtype & 1) = 0),
		   string_agg(substr(t.tgname, 11) || ':' || t.tgenabled::text
					  || CASE WHEN t.tgparentid <> 0 THEN '(cloned)' ELSE '' END, ' ' ORDER BY t.tgname)
	  FROM pg_class c
	  LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND t.tgname LIKE 'crm\_grade\_%'
	 WHERE c.relnamespace = 't12'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname LIKE pattern
	 GROUP BY c.relname ORDER BY c.relname
$$;

--------------------------------------------------------------------------
-- a range-partitioned order table with a DEFAULT partition, attached at
-- its root; a customer master keeps customers without orders
--------------------------------------------------------------------------
CREATE TABLE t12.customers (id int4 PRIMARY KEY, name text);
INSERT INTO t12.customers VALUES (1201, 'Ada'), (1202, 'Ben'), (1203, 'Cy'), (1204, 'Dee'), (1205, 'Eve');
CREATE TABLE t12.orders (
	id			int4 NOT NULL,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
) PARTITION BY RANGE (ordered_at);
CREATE INDEX ON t12.orders (customer_id);
CREATE TABLE t12.orders_2024h2 PARTITION OF t12.orders FOR VALUES FROM ('2024-07-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE TABLE t12.orders_2025h1 PARTITION OF t12.orders FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2025-07-01 00:00+00');
CREATE TABLE t12.orders_default PARTITION OF t12.orders DEFAULT;
INSERT INTO t12.orders VALUES
	(1, 1201, 300000, '2024-09-01 00:00+00', NULL),
	(2, 1202, 50000, '2024-10-01 00:00+00', NULL),
	(3, 1201, 250000, '2025-02-01 00:00+00', NULL),
	(4, 1203, 120000, '2025-03-01 00:00+00', NULL),
	(5, 1201, 70000, '2023-05-01 00:00+00', NULL),		-- default, outside the window
	(6, 1204, 900000, '2023-01-01 00:00+00', NULL);		-- default, outside the window
-- 12:00 both attached: five customers each time
SELECT crm_grade.attach_customers('t12.customers', 'id');
SELECT crm_grade.attach_orders('t12.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
-- the root and every partition: 5 statement triggers (begin; truncate enabled
-- ALWAYS); the root's replica row trigger, cloned to each partition
SELECT * FROM t12.crm_triggers('orders%');
-- 1201 A (550000; 620000 with the 2023 order), 1202 C, 1203 B, 1204 C
-- (900000 in 2023 only), 1205 C (prospect)
:grades;
SELECT * FROM crm_grade.verify();

-- 12:01 INSERT through the root, routed to each partition:
-- 1202 C -> B (50000 + 60000 = 110000; + 10 in 2023), 1205 C -> B (100000)
SET crm_grade.as_of = '2025-06-15 12:01:00+00';
INSERT INTO t12.orders VALUES
	(7, 1202, 60000, '2025-04-01 00:00+00', NULL),
	(8, 1205, 100000, '2024-12-01 00:00+00', NULL),
	(9, 1202, 10, '2023-06-01 00:00+00', NULL);
SELECT tableoid::regclass AS partition, id FROM t12.orders WHERE id IN (7, 8, 9) ORDER BY id;
:changes;

-- 12:02 INSERT straight into partitions: 1203 B -> A (120000 + 400000);
-- 1206, not in the master, appears with 5 in 2022 (C)
SET crm_grade.as_of = '2025-06-15 12:02:00+00';
INSERT INTO t12.orders_2025h1 VALUES (10, 1203, 400000, '2025-05-01 00:00+00', NULL);
INSERT INTO t12.orders_default VALUES (11, 1206, 5, '2022-01-01 00:00+00', NULL);
:changes;

-- 12:03 COPY straight into a partition, as a dump's data section does:
-- 1204 C -> B (200000), 1206 C -> B (100000; total 100005)
SET crm_grade.as_of = '2025-06-15 12:03:00+00';
COPY t12.orders_2024h2 (id, customer_id, amount, ordered_at, paid_at) FROM STDIN;
12	1204	200000	2024-08-01 00:00:00+00	2024-08-11 00:00:00+00
13	1206	100000	2024-11-11 00:00:00+00	\N
\.
-- and COPY through the root: a refund of 100000 takes 1201 A -> B (450000)
COPY t12.orders FROM STDIN;
14	1201	-100000	2025-06-01 00:00:00+00	\N
\.
:changes;
:grades;
SELECT * FROM crm_grade.verify();

-- 12:04 UPDATE straight on partitions: order 10 down to 300000 takes
-- 1203 A -> B (420000); order 8 moves from 1205 (B -> C, no order left)
-- to 1202 (B, 210000)
SET crm_grade.as_of = '2025-06-15 12:04:00+00';
UPDATE t12.orders_2025h1 SET amount = 300000 WHERE id = 10;
UPDATE t12.orders_2024h2 SET customer_id = 1202 WHERE id = 8;
:changes;

-- 12:05 one UPDATE through the root moves rows across partitions: order 5
-- (70000) from the default partition into 2025h1, inside the window:
-- 1201 B -> A (520000); order 12 (200000) from 2024h2 into the default
-- partition, out of the window: 1204 B -> C
SET crm_grade.as_of = '2025-06-15 12:05:00+00';
UPDATE t12.orders
   SET ordered_at = CASE id WHEN 5 THEN '2025-03-15 00:00+00'::timestamptz ELSE '2023-02-01 00:00+00'::timestamptz END
 WHERE id IN (5, 12);
SELECT tableoid::regclass AS partition, id FROM t12.orders WHERE id IN (5, 12) ORDER BY id;
:changes;

-- 12:06 DELETE straight on a partition: orders 2 and 8 of 1202: B -> C
-- (60000); DELETE through the root: order 3 of 1201 (A -> B, 270000) and
-- order 11 of 1206 (B, 100000)
SET crm_grade.as_of = '2025-06-15 12:06:00+00';
DELETE FROM t12.orders_2024h2 WHERE id IN (2, 8);
DELETE FROM t12.orders WHERE id IN (3, 11);
:changes;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- TRUNCATE of one partition, twice in one transaction, and of the root
--------------------------------------------------------------------------
-- 12:07 truncating 2024h2 (orders 1 and 13): 1201 B -> C (70000 - 100000),
-- 1206 leaves (B -> none: it is in no source any more)
SET crm_grade.as_of = '2025-06-15 12:07:00+00';
TRUNCATE t12.orders_2024h2;
:changes;
:grades;

-- 12:08 two truncations in one transaction, each followed by inserts:
-- the second is re-evaluated too.  1202 keeps 60000 (its 10 in 2023 and
-- the 1 of order 17 are gone), 1204 has only order 15 (1, in 2023),
-- 1205 C -> A (order 18 only)
SET crm_grade.as_of = '2025-06-15 12:08:00+00';
BEGIN;
TRUNCATE t12.orders_default;
INSERT INTO t12.orders_default VALUES (15, 1204, 1, '2023-03-03 00:00+00', NULL);
INSERT INTO t12.orders_2024h2 VALUES (16, 1205, 500000, '2024-12-24 00:00+00', NULL), (17, 1202, 1, '2024-12-24 00:00+00', NULL);
TRUNCATE t12.orders_2024h2;
INSERT INTO t12.orders_2024h2 VALUES (18, 1205, 500000, '2024-12-25 00:00+00', NULL);
COMMIT;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

-- 12:09 TRUNCATE of the root fires the truncate trigger of the root and of
-- each of its three partitions; one re-evaluation serves them all: each of
-- the five customers' state is written once (not four times), and each
-- customer whose grade changes gets one history row: 1203 B -> C,
-- 1205 A -> C.
SET crm_grade.as_of = '2025-06-15 12:09:00+00';
SELECT coalesce(max(id), 0) AS hist_before FROM crm_grade.history \gset
SELECT pg_stat_force_next_flush();
BEGIN;
TRUNCATE t12.orders;
SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables
 WHERE relid = 'crm_grade.customer_state'::regclass;
COMMIT;
SELECT count(*) AS history_rows, count(DISTINCT customer) AS customers, min(reason) AS reason
  FROM crm_grade.history WHERE id > :hist_before;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- a partition created later with CREATE TABLE ... PARTITION OF gets the
-- triggers; writes into it are graded
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:10:00+00';
CREATE TABLE t12.orders_2024h1 PARTITION OF t12.orders FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-07-01 00:00+00');
SELECT * FROM t12.crm_triggers('orders\_2024h1');
-- straight into it: 1201 B (200000)
INSERT INTO t12.orders_2024h1 VALUES (20, 1201, 200000, '2024-06-20 00:00+00', NULL);
-- through the root, into it and the others: 1201 A (+ 350000 = 550000),
-- 1202 B (150000), 1203 B (300000), 1204 B (100000)
INSERT INTO t12.orders VALUES
	(21, 1202, 150000, '2024-06-25 00:00+00', NULL),
	(22, 1203, 300000, '2025-02-02 00:00+00', NULL),
	(23, 1201, 350000, '2025-05-05 00:00+00', NULL),
	(24, 1204, 100000, '2024-08-08 00:00+00', NULL);
-- straight into it: 1202 down to 90000 (C); through the root, order 20
-- moves out of it into 2024h2 (1201 unchanged)
UPDATE t12.orders_2024h1 SET amount = 90000 WHERE id = 21;
UPDATE t12.orders SET ordered_at = '2024-07-20 00:00+00' WHERE id = 20;
SELECT tableoid::regclass AS partition, id FROM t12.orders WHERE id BETWEEN 20 AND 24 ORDER BY id;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- DETACH PARTITION: the detached table loses crm_grade's triggers, its
-- customers are graded without it, and its rows no longer count
--------------------------------------------------------------------------
-- 12:11 2025h1 holds orders 22 (1203, 300000) and 23 (1201, 350000):
-- 1201 A -> B (200000), 1203 B -> C
SET crm_grade.as_of = '2025-06-15 12:11:00+00';
ALTER TABLE t12.orders DETACH PARTITION t12.orders_2025h1;
:changes;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 't12.orders_2025h1'::regclass;
-- 12:11:30 writes into the detached table change nothing (no history)
SET crm_grade.as_of = '2025-06-15 12:11:30+00';
INSERT INTO t12.orders_2025h1 VALUES (25, 1205, 999999, '2025-06-01 00:00+00', NULL);
UPDATE t12.orders_2025h1 SET amount = amount * 2;
DELETE FROM t12.orders_2025h1 WHERE id = 22;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- ATTACH PARTITION of a filled table whose columns lie in another order,
-- with dropped columns: its customers are graded at once
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:12:00+00';
CREATE TABLE t12.orders_2025h1b (
	note		text,
	paid_at		timestamptz,
	legacy_flag	int,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	customer_id	int4 NOT NULL,
	id			int4 NOT NULL
);
INSERT INTO t12.orders_2025h1b (id, customer_id, amount, ordered_at, paid_at, note) VALUES
	(30, 1203, 600000, '2025-03-03 00:00+00', NULL, 'x'),
	(31, 1205, 150000, '2025-04-04 00:00+00', '2025-04-14 00:00+00', 'y');
ALTER TABLE t12.orders_2025h1b DROP COLUMN legacy_flag, DROP COLUMN note;
SELECT a.attname, r.attnum AS root_attnum, a.attnum AS partition_attnum
  FROM pg_attribute a JOIN pg_attribute r ON r.attrelid = 't12.orders'::regclass AND r.attname = a.attname
 WHERE a.attrelid = 't12.orders_2025h1b'::regclass AND a.attnum > 0 ORDER BY r.attnum;
-- 1203 C -> A (600000), 1205 C -> B (150000), reason partition_attached
ALTER TABLE t12.orders ATTACH PARTITION t12.orders_2025h1b FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2025-07-01 00:00+00');
:changes;
SELECT * FROM t12.crm_triggers('orders\_2025h1b');
SELECT * FROM crm_grade.verify();

-- 12:13 straight into it (its own column order): INSERT 1204 B -> A
-- (100000 + 450000); COPY without a column list (paid_at, amount,
-- ordered_at, customer_id, id): 1202 stays C (90000 + 5000); UPDATE
-- 1202 C -> B (+ 10000 = 105000)
SET crm_grade.as_of = '2025-06-15 12:13:00+00';
INSERT INTO t12.orders_2025h1b (id, customer_id, amount, ordered_at) VALUES (32, 1204, 450000, '2025-05-05 00:00+00');
COPY t12.orders_2025h1b FROM STDIN;
\N	5000	2025-05-06 00:00:00+00	1202	33
\.
:grades;
UPDATE t12.orders_2025h1b SET amount = amount + 10000 WHERE id = 33;
:grades;

-- 12:14 through the root, rows move into it (order 24 of 1204, unchanged
-- metrics) and out of it (order 31 of 1205, now 50000: B -> C); straight
-- DELETE of order 30: 1203 A -> C
SET crm_grade.as_of = '2025-06-15 12:14:00+00';
UPDATE t12.orders
   SET ordered_at = CASE id WHEN 24 THEN '2025-01-20 00:00+00'::timestamptz ELSE '2024-12-12 00:00+00'::timestamptz END,
	   amount = CASE id WHEN 31 THEN 50000 ELSE amount END
 WHERE id IN (24, 31);
DELETE FROM t12.orders_2025h1b WHERE id = 30;
SELECT tableoid::regclass AS partition, id, customer_id, amount FROM t12.orders WHERE id IN (24, 31, 32, 33) ORDER BY id;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- DROP TABLE of a partition: everyone is re-evaluated
--------------------------------------------------------------------------
-- 12:15 2024h2 holds order 20 (1201, 200000: B -> C) and 31 (1205, 50000:
-- C, no order left)
SET crm_grade.as_of = '2025-06-15 12:15:00+00';
DROP TABLE t12.orders_2024h2;
:changes;
SELECT customer, new_lifecycle, reason FROM crm_grade.grade_history
 WHERE changed_at = crm_grade.as_of() ORDER BY customer;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- two levels: a range partition that is itself hash-partitioned.
-- Customers 1211.. are in no master; with modulus 2, 1212 and 1215 hash
-- to remainder 0, 1211 and 1213 to remainder 1.
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:20:00+00';
CREATE TABLE t12.sales (customer_id int8 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL)
	PARTITION BY RANGE (ordered_at);
CREATE INDEX ON t12.sales (customer_id);
CREATE TABLE t12.sales_2024 PARTITION OF t12.sales FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2025-01-01 00:00+00');
CREATE TABLE t12.sales_2025 PARTITION OF t12.sales FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00')
	PARTITION BY HASH (customer_id);
CREATE TABLE t12.sales_2025_h0 PARTITION OF t12.sales_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE t12.sales_2025_h1 PARTITION OF t12.sales_2025 FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO t12.sales VALUES (1211, 100000, '2025-02-01 00:00+00'), (1212, 20000, '2024-09-01 00:00+00');
-- a leaf attached on its own (it is empty: five master customers graded)
-- keeps its partitioned ancestors from being attached
SELECT crm_grade.attach_orders('t12.sales_2025_h0', 'customer_id', 'amount', 'ordered_at');
SELECT crm_grade.attach_orders('t12.sales', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t12.sales_2025', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.detach('t12.sales_2025_h0');
-- the root: seven customers (1211 B, 1212 C and the master's five)
SELECT crm_grade.attach_orders('t12.sales', 'customer_id', 'amount', 'ordered_at');
-- now neither the middle level nor a leaf can be attached on its own
SELECT crm_grade.attach_orders('t12.sales_2025', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t12.sales_2025_h1', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t12.sales_2025_h1', 'customer_id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM t12.crm_triggers('sales%');

-- 12:21 straight into a leaf: 1212 C -> A (20000 + 500000)
SET crm_grade.as_of = '2025-06-15 12:21:00+00';
INSERT INTO t12.sales_2025_h0 VALUES (1212, 500000, '2025-03-01 00:00+00');
-- 12:22 into the middle level, routed to both leaves: 1213 B, 1215 C
SET crm_grade.as_of = '2025-06-15 12:22:00+00';
INSERT INTO t12.sales_2025 VALUES (1213, 150000, '2025-03-02 00:00+00'), (1215, 1, '2025-03-03 00:00+00');
-- 12:23 through the root: 1211 B -> A (100000 + 450000)
SET crm_grade.as_of = '2025-06-15 12:23:00+00';
INSERT INTO t12.sales VALUES (1211, 450000, '2024-12-01 00:00+00');
SELECT tableoid::regclass AS partition, customer_id, amount FROM t12.sales ORDER BY customer_id, amount;
:grades;
SELECT * FROM crm_grade.verify();

-- 12:24 through the middle level, a new key moves 1213's row from leaf h1
-- to leaf h0: 1213 leaves, 1215 C -> B (150001)
SET crm_grade.as_of = '2025-06-15 12:24:00+00';
UPDATE t12.sales_2025 SET customer_id = 1215 WHERE customer_id = 1213;
-- 12:25 through the root, 1211's 450000 moves from sales_2024 down into
-- leaf h1 (unchanged metrics)
SET crm_grade.as_of = '2025-06-15 12:25:00+00';
UPDATE t12.sales SET ordered_at = '2025-01-15 00:00+00' WHERE customer_id = 1211 AND amount = 450000;
-- 12:26 DELETE straight from a leaf: 1212 A -> C (20000)
SET crm_grade.as_of = '2025-06-15 12:26:00+00';
DELETE FROM t12.sales_2025_h0 WHERE amount = 500000;
SELECT tableoid::regclass AS partition, customer_id, amount FROM t12.sales ORDER BY customer_id, amount;
:grades;
SELECT * FROM crm_grade.verify();

-- 12:27 TRUNCATE of the middle level empties both leaves: 1211 and 1215
-- leave; 1212 keeps its 20000 in sales_2024
SET crm_grade.as_of = '2025-06-15 12:27:00+00';
TRUNCATE t12.sales_2025;
:changes;
-- 12:28 1211 B (300000, leaf h1), 1212 C -> A (20000 + 490000, sales_2024)
SET crm_grade.as_of = '2025-06-15 12:28:00+00';
INSERT INTO t12.sales VALUES (1211, 300000, '2025-04-04 00:00+00'), (1212, 490000, '2024-10-10 00:00+00');
:changes;
SELECT * FROM crm_grade.verify();

-- 12:29 DETACH PARTITION ... CONCURRENTLY (outside a transaction block;
-- sales has no default partition): 1212's rows are all in sales_2024, so
-- it leaves
SET crm_grade.as_of = '2025-06-15 12:29:00+00';
ALTER TABLE t12.sales DETACH PARTITION t12.sales_2024 CONCURRENTLY;
:changes;
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 't12.sales_2024'::regclass;
INSERT INTO t12.sales_2024 VALUES (1211, 999999, '2024-11-11 00:00+00');
:grades;
SELECT * FROM crm_grade.verify();

-- 12:30 detaching the middle level takes the triggers off it and off both
-- leaves: 1211 leaves
SET crm_grade.as_of = '2025-06-15 12:30:00+00';
ALTER TABLE t12.sales DETACH PARTITION t12.sales_2025;
:changes;
SELECT * FROM t12.crm_triggers('sales%');
-- 12:31 attaching it again, filled, two levels deep: triggers on all three,
-- 1211 back (B), reason partition_attached
SET crm_grade.as_of = '2025-06-15 12:31:00+00';
ALTER TABLE t12.sales ATTACH PARTITION t12.sales_2025 FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00');
:changes;
SELECT * FROM t12.crm_triggers('sales\_2025%');
-- and its leaves are graded again: 1211 B -> A (300000 + 250000)
INSERT INTO t12.sales_2025_h1 VALUES (1211, 250000, '2025-05-05 00:00+00');
:grades;
SELECT * FROM crm_grade.verify();
-- 12:32 dropping the middle level drops its leaves too: 1211 leaves
SET crm_grade.as_of = '2025-06-15 12:32:00+00';
DROP TABLE t12.sales_2025;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- inheritance is refused: at attach, and afterwards for attached tables
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:35:00+00';
CREATE TABLE t12.legacy (customer_id int4, amount numeric, ordered_at timestamptz);
CREATE TABLE t12.legacy_2019 () INHERITS (t12.legacy);
-- a table with an inheritance child, and the child itself
SELECT crm_grade.attach_orders('t12.legacy', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t12.legacy_2019', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- an attached table cannot gain an inheritance child nor become one
CREATE TABLE t12.vip (tier int) INHERITS (t12.customers);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE TABLE t12.prospects (id int4 NOT NULL, name text);
ALTER TABLE t12.prospects INHERIT t12.customers;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t12.customers INHERIT t12.prospects;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- (PostgreSQL itself refuses inheritance from a partitioned table)
CREATE TABLE t12.orders_child () INHERITS (t12.orders);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT to_regclass('t12.vip') AS vip,
	   (SELECT count(*) FROM pg_inherits i
		 WHERE 't12.customers'::regclass IN (i.inhrelid, i.inhparent)) AS customers_inheritance;
SELECT tbl, kind FROM crm_grade.source ORDER BY tbl::text;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- a table attached on its own cannot become a partition of an attached
-- table (its rows would count twice); once detached, it can
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:40:00+00';
CREATE TABLE t12.orders_2024h2b (LIKE t12.orders);
CREATE INDEX ON t12.orders_2024h2b (customer_id);
INSERT INTO t12.orders_2024h2b VALUES (40, 1201, 120000, '2024-08-08 00:00+00', NULL);
-- 1201 C -> B (120000); five customers graded
SELECT crm_grade.attach_orders('t12.orders_2024h2b', 'customer_id', 'amount', 'ordered_at', 'paid_at');
ALTER TABLE t12.orders ATTACH PARTITION t12.orders_2024h2b FOR VALUES FROM ('2024-07-01 00:00+00') TO ('2025-01-01 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT relispartition FROM pg_class WHERE oid = 't12.orders_2024h2b'::regclass;
SELECT customer, grade, amount_12m, orders_total FROM crm_grade.customer_grades WHERE customer = 1201;
SELECT * FROM crm_grade.verify();
-- 12:41 detached from crm_grade: 1201 B -> C
SET crm_grade.as_of = '2025-06-15 12:41:00+00';
SELECT crm_grade.detach('t12.orders_2024h2b');
:changes;
-- 12:42 now a partition: 1201 C -> B once more, reason partition_attached
SET crm_grade.as_of = '2025-06-15 12:42:00+00';
ALTER TABLE t12.orders ATTACH PARTITION t12.orders_2024h2b FOR VALUES FROM ('2024-07-01 00:00+00') TO ('2025-01-01 00:00+00');
:changes;
SELECT * FROM t12.crm_triggers('orders\_2024h2b');
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- a customer master that is hash-partitioned on its (unique) key; with
-- modulus 2, 1203 and 1205 hash to remainder 0, 1201, 1202, 1204 and 1206
-- to remainder 1
--------------------------------------------------------------------------
-- 12:45 the old master goes: 1203 and 1205, without orders, leave
SET crm_grade.as_of = '2025-06-15 12:45:00+00';
SELECT crm_grade.detach('t12.customers');
:changes;
CREATE TABLE t12.cust (id int4 PRIMARY KEY, owner text) PARTITION BY HASH (id);
CREATE TABLE t12.cust_p0 PARTITION OF t12.cust FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE t12.cust_p1 PARTITION OF t12.cust FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO t12.cust VALUES (1201, 'ann'), (1202, 'bob'), (1203, 'ann');
-- 12:46 four customers: 1201, 1202, 1204 with orders, 1203 a prospect
SET crm_grade.as_of = '2025-06-15 12:46:00+00';
SELECT crm_grade.attach_customers('t12.cust', 'id', 'owner');
SELECT * FROM t12.crm_triggers('cust%');
-- 12:47 straight into a partition (1205) and through the root (1206)
SET crm_grade.as_of = '2025-06-15 12:47:00+00';
INSERT INTO t12.cust_p0 VALUES (1205, 'cat');
INSERT INTO t12.cust VALUES (1206, 'dan');
-- 12:48 owners changed straight in a partition and through the root
SET crm_grade.as_of = '2025-06-15 12:48:00+00';
UPDATE t12.cust_p1 SET owner = 'eve' WHERE id = 1201;
UPDATE t12.cust SET owner = 'fay' WHERE id = 1203;
SELECT g.customer, c.tableoid::regclass AS master_partition, g.owner, g.grade, g.orders_total
  FROM crm_grade.customer_grades g LEFT JOIN t12.cust c ON c.id = g.customer ORDER BY g.customer;
SELECT * FROM crm_grade.verify();
-- 12:49 DELETE straight from a partition (1206) and TRUNCATE of the other
-- (1203, 1205): all three leave
SET crm_grade.as_of = '2025-06-15 12:49:00+00';
DELETE FROM t12.cust_p1 WHERE id = 1206;
TRUNCATE t12.cust_p0;
SELECT g.customer, c.tableoid::regclass AS master_partition, g.owner, g.grade, g.orders_total
  FROM crm_grade.customer_grades g LEFT JOIN t12.cust c ON c.id = g.customer ORDER BY g.customer;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- an application role with rights on one partition only: its writes
-- straight into that partition are graded (crm_grade reads through the
-- root as the root's owner)
--------------------------------------------------------------------------
CREATE ROLE regress_t12_writer;
GRANT USAGE ON SCHEMA t12 TO regress_t12_writer;
GRANT SELECT, INSERT, UPDATE ON t12.orders_2025h1b TO regress_t12_writer;
-- 12:50 1202 B -> A (105000 + 400000), back to B (105001), 1201 B -> A
-- (120000 + 400000)
SET crm_grade.as_of = '2025-06-15 12:50:00+00';
SET ROLE regress_t12_writer;
INSERT INTO t12.orders_2025h1b (id, customer_id, amount, ordered_at) VALUES (50, 1202, 400000, '2025-06-01 00:00+00');
-- (the root is not the role's)
INSERT INTO t12.orders (id, customer_id, amount, ordered_at) VALUES (51, 1202, 1, '2025-06-01 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t12.orders_2025h1b SET amount = 1 WHERE id = 50;
COPY t12.orders_2025h1b (id, customer_id, amount, ordered_at) FROM STDIN;
52	1201	400000	2025-06-02 00:00:00+00
\.
RESET ROLE;
:grades;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history
 WHERE changed_at = '2025-06-15 12:50:00+00' ORDER BY id;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- rows applied the way logical replication applies them
-- (session_replication_role = replica): statement triggers stay silent,
-- the root's replica row trigger, cloned to every partition, grades each
-- row once, written straight into a partition or routed through the root;
-- TRUNCATE triggers fire always
--------------------------------------------------------------------------
-- 12:55 1203 (no longer in the master) B (100000), then A (+ 450000);
-- order 61 moves between partitions (unchanged metrics); order 32 down to
-- 100000: 1204 A -> B (200000); order 21 deleted: 1202 B -> C (15001)
SET crm_grade.as_of = '2025-06-15 12:55:00+00';
SET session_replication_role = replica;
INSERT INTO t12.orders_2024h1 VALUES (60, 1203, 100000, '2024-06-21 00:00+00', NULL);
INSERT INTO t12.orders VALUES (61, 1203, 450000, '2025-06-02 00:00+00', NULL);
UPDATE t12.orders SET ordered_at = '2024-12-01 00:00+00' WHERE id = 61;
UPDATE t12.orders_2025h1b SET amount = 100000 WHERE id = 32;
DELETE FROM t12.orders_2024h1 WHERE id = 21;
RESET session_replication_role;
SELECT tableoid::regclass AS partition, id FROM t12.orders WHERE id IN (60, 61) ORDER BY id;
:changes;
:grades;
SELECT * FROM crm_grade.verify();
-- 12:56 TRUNCATE of a partition: 1203 A -> B (450000)
SET crm_grade.as_of = '2025-06-15 12:56:00+00';
SET session_replication_role = replica;
TRUNCATE t12.orders_2024h1;
RESET session_replication_role;
:changes;
:grades;
SELECT * FROM crm_grade.verify();

-- every partition event of this file, by reason
SELECT reason, count(*) FROM crm_grade.history
 WHERE id > :hist_start AND reason LIKE 'partition%' GROUP BY reason ORDER BY reason;

-- cleanup
SELECT crm_grade.detach('t12.sales');
SELECT crm_grade.detach('t12.orders');
SELECT crm_grade.detach('t12.cust');
SET client_min_messages = warning;
DROP SCHEMA t12 CASCADE;
RESET client_min_messages;
DROP ROLE regress_t12_writer;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
