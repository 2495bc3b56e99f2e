--
-- 17_write_moment: with crm_grade.as_of empty, T is the moment of the write,
-- so an order stamped at or before its INSERT counts at once, even when it
-- was stamped after its (long) transaction began: by the database's clock
-- (clock_timestamp()) or by the application's (a literal taken after BEGIN).
-- An order stamped after the write does not count yet.
--
-- T is the real clock here, so nothing below prints a time: only counts,
-- amounts and booleans.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
RESET crm_grade.as_of;
SELECT current_setting('crm_grade.as_of') = '' AS as_of_empty;
\set c1701 'SELECT orders_total, total_amount, amount_12m, orders_12m FROM crm_grade.customer_grades WHERE customer = 1701'

CREATE SCHEMA t17;
CREATE TABLE t17.orders (
	id			serial PRIMARY KEY,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
);
CREATE INDEX ON t17.orders (customer_id);
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1701, 100, now() - interval '10 days');
SELECT crm_grade.attach_orders('t17.orders', 'customer_id', 'amount', 'ordered_at');
:c1701;	-- 1 order, 100

--------------------------------------------------------------------------
-- inside a long transaction
--------------------------------------------------------------------------
BEGIN;
SELECT pg_sleep(0.2);
-- stamped by the database's clock, well after the transaction began
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1701, 1000, clock_timestamp());
SELECT ordered_at > now() AS stamped_after_begin FROM t17.orders WHERE amount = 1000;
:c1701;	-- 2 orders, 1100
-- stamped by the application: a literal taken after BEGIN, between the
-- transaction's start and the INSERT
SELECT pg_sleep(0.2);
SELECT (now() + interval '100 milliseconds')::text AS app_stamp \gset
SELECT pg_sleep(0.1);
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1701, 10000, :'app_stamp');
SELECT ordered_at > now() AND ordered_at < clock_timestamp() AS between_begin_and_insert
  FROM t17.orders WHERE amount = 10000;
:c1701;	-- 3 orders, 11100
-- a new customer's first order, stamped by the database's clock
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1702, 5, clock_timestamp());
SELECT orders_total, total_amount, amount_12m FROM crm_grade.customer_grades WHERE customer = 1702;	-- 1, 5
-- stamped after its statement began: the row is made after a pause
INSERT INTO t17.orders (customer_id, amount, ordered_at)
SELECT 1701, 100000, clock_timestamp() FROM pg_sleep(0.1)
RETURNING ordered_at > statement_timestamp() AS stamped_after_statement_start;
:c1701;	-- 4 orders, 111100
-- an UPDATE that restamps an order by the clock keeps it counted
SELECT pg_sleep(0.1);
UPDATE t17.orders SET ordered_at = clock_timestamp(), amount = 2000 WHERE amount = 1000;
:c1701;	-- 4 orders, 112100
-- an order stamped an hour after the write does not count yet
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1701, 7, clock_timestamp() + interval '1 hour');
:c1701;	-- still 4 orders, 112100
SELECT valid_until <= (SELECT ordered_at FROM t17.orders WHERE amount = 7) AS regraded_when_it_comes
  FROM crm_grade.customer_grades WHERE customer = 1701;
SELECT * FROM crm_grade.verify();
COMMIT;

-- after commit, the same
:c1701;
SELECT orders_total, total_amount, amount_12m FROM crm_grade.customer_grades WHERE customer = 1702;
SELECT graded_at >= (SELECT max(ordered_at) FROM t17.orders WHERE ordered_at <= now()) AS graded_after_every_counted_order
  FROM crm_grade.customer_grades WHERE customer = 1701;
SELECT * FROM crm_grade.verify();
-- an order stamped a second after its write counts once that second has
-- passed and regrade() has run: 1703 is the only customer due
INSERT INTO t17.orders (customer_id, amount, ordered_at) VALUES (1703, 3, clock_timestamp() + interval '1 second');
SELECT orders_total, total_amount FROM crm_grade.customer_grades WHERE customer = 1703;	-- 0, 0
SELECT * FROM crm_grade.verify();
SELECT pg_sleep(1.5);
SELECT crm_grade.regrade();
SELECT orders_total, total_amount FROM crm_grade.customer_grades WHERE customer = 1703;	-- 1, 3
:c1701;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t17.orders');
DROP SCHEMA t17 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
