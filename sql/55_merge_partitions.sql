--
-- 55_merge_partitions: a MERGE whose UPDATE sets a column that partitions
-- an attached table.  PostgreSQL 15 leaves a row such a MERGE moves to
-- another partition out of the statement's transition tables (a plain
-- UPDATE that moves it is captured) unless the MERGE also has an INSERT
-- and a DELETE action, so crm_grade would never see the move; 0.11 kept
-- the row where it was, under its old date or customer (found by a
-- workload review).  Such a MERGE is refused (0A000, rolled back); one
-- with both of those actions, or that sets other columns, is graded, and
-- so is an UPDATE that moves the row.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE SCHEMA t55;
CREATE TABLE t55.orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
						 region text NOT NULL DEFAULT 'eu') PARTITION BY RANGE (ordered_at);
CREATE TABLE t55.orders_2025 PARTITION OF t55.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE t55.orders_2026 PARTITION OF t55.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
	PARTITION BY LIST (region);
CREATE TABLE t55.orders_2026_eu PARTITION OF t55.orders_2026 FOR VALUES IN ('eu');
CREATE TABLE t55.orders_2026_us PARTITION OF t55.orders_2026 FOR VALUES IN ('us');
CREATE INDEX ON t55.orders (customer_id);
INSERT INTO t55.orders VALUES (1, 1, 600000, '2026-03-01'), (2, 2, 100, '2026-03-02');
SELECT crm_grade.attach_orders('t55.orders', 'customer_id', 'amount', 'ordered_at') AS graded;
-- setting the partition key (at the top or a lower level) is refused, whether or not a row moves
\set VERBOSITY default
MERGE INTO t55.orders o USING (VALUES (1)) v(id) ON o.id = v.id
	WHEN MATCHED THEN UPDATE SET ordered_at = o.ordered_at - interval '1 year';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
MERGE INTO t55.orders o USING (VALUES (1)) v(id) ON o.id = v.id WHEN MATCHED THEN UPDATE SET region = 'us';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
MERGE INTO t55.orders_2026 o USING (VALUES (1)) v(id) ON o.id = v.id WHEN MATCHED THEN UPDATE SET region = 'us';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT tableoid::regclass, id, ordered_at, region FROM t55.orders ORDER BY id;
-- with an INSERT and a DELETE action too, PostgreSQL records the move as a delete and an insert:
-- graded
MERGE INTO t55.orders o USING (VALUES (2)) v(id) ON o.id = v.id
	WHEN MATCHED AND false THEN DELETE
	WHEN MATCHED THEN UPDATE SET ordered_at = o.ordered_at - interval '1 year', customer_id = 5
	WHEN NOT MATCHED AND false THEN INSERT VALUES (0, 0, 0, '2026-01-01');
SELECT tableoid::regclass, id, customer_id, ordered_at FROM t55.orders WHERE id = 2;
SELECT customer, total_amount, last_order_at FROM crm_grade.customer_state WHERE customer IN ('2', '5') ORDER BY 1;
SELECT * FROM crm_grade.verify();
UPDATE t55.orders SET ordered_at = ordered_at + interval '1 year', customer_id = 2 WHERE id = 2;
-- other columns, inserts and deletes are graded
MERGE INTO t55.orders o USING (VALUES (1, 700000), (3, 50)) v(id, amount) ON o.id = v.id
	WHEN MATCHED THEN UPDATE SET amount = v.amount
	WHEN NOT MATCHED THEN INSERT VALUES (v.id, 3, v.amount, '2026-04-01');
MERGE INTO t55.orders o USING (VALUES (2)) v(id) ON o.id = v.id WHEN MATCHED THEN DELETE;
-- an UPDATE that moves a row is graded
UPDATE t55.orders SET ordered_at = ordered_at - interval '1 year', customer_id = 4 WHERE id = 3;
SELECT customer, total_amount, last_order_at FROM crm_grade.customer_state WHERE customer IN ('1', '2', '3', '4') ORDER BY 1;
SELECT * FROM crm_grade.verify();
-- a table crm_grade does not grade is none of its business
CREATE TABLE t55.other (id int, t timestamptz) PARTITION BY RANGE (t);
CREATE TABLE t55.other_2026 PARTITION OF t55.other FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE t55.other_2025 PARTITION OF t55.other FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO t55.other VALUES (1, '2026-02-01');
MERGE INTO t55.other o USING (VALUES (1)) v(id) ON o.id = v.id WHEN MATCHED THEN UPDATE SET t = '2025-02-01';
SELECT tableoid::regclass, * FROM t55.other;
SELECT crm_grade.detach('t55.orders');
DROP SCHEMA t55 CASCADE;
