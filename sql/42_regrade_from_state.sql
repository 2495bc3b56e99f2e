--
-- 42_regrade_from_state: regrade() re-reads the rows only of customers whose
-- rows time has moved (an order leaving the 12-month window, a future-dated
-- order or payment coming due, a contact leaving the 90-day window); a
-- customer that expired for a stage threshold, a follow-up or a month start
-- is evaluated again from its stored state (since 0.7).  How many orders
-- regrade() read shows in the entries the order table's customer index
-- returned, counted within a transaction.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set state 'SELECT customer, orders_12m, amount_12m, lifecycle, risk, next_follow_up_at, valid_until FROM crm_grade.customer_state ORDER BY customer'

CREATE SCHEMA t42;
CREATE TABLE t42.orders (
	id			int PRIMARY KEY,
	cust		int NOT NULL,
	amount		numeric NOT NULL,
	at			timestamptz NOT NULL
);
CREATE INDEX orders_cust_idx ON t42.orders (cust);
CREATE FUNCTION t42.scans() RETURNS bigint LANGUAGE sql
	AS $$ SELECT pg_stat_get_xact_tuples_returned('t42.orders_cust_idx'::regclass) $$;
-- customer 1: orders well inside the window; customer 2: one order that
-- leaves the window on 2026-06-20; customer 3: an order dated after T
INSERT INTO t42.orders VALUES
	(1, 1, 500, '2026-03-01 10:00+00'),
	(2, 1, 700, '2026-04-01 10:00+00'),
	(3, 2, 300, '2025-06-20 10:00+00'),
	(4, 2, 100, '2026-05-01 10:00+00'),
	(5, 3, 900, '2026-02-01 10:00+00'),
	(6, 3, 50, '2026-07-01 10:00+00');
SELECT crm_grade.attach_orders('t42.orders', 'cust', 'amount', 'at');
:state;

-- time moves to 2026-07-01, a month start that expires customers 1 and 3
-- (repurchase_rate's denominator in their first year) and is past customer
-- 2's window exit: only customer 2's two orders are read
SELECT valid_until AS vu1 FROM crm_grade.customer_state WHERE customer = '1' \gset
SELECT set_config('crm_grade.as_of', :'vu1', false) IS NOT NULL AS moved;
BEGIN;
SELECT t42.scans() AS scans0 \gset
SELECT crm_grade.regrade() AS regraded;
SELECT t42.scans() - :scans0 AS order_reads;
COMMIT;
:state;
SELECT count(*) AS disagreements FROM crm_grade.verify();

-- past 2026-06-20 customer 2's oldest order has left the window, and past
-- 2026-07-01 customer 3's future order counts: both are read again
SET crm_grade.as_of = '2026-07-02 00:00:00+00';
BEGIN;
SELECT t42.scans() AS scans0 \gset
SELECT crm_grade.regrade() AS regraded;
SELECT t42.scans() - :scans0 AS order_reads;
COMMIT;
:state;
SELECT count(*) AS disagreements FROM crm_grade.verify();

-- a write to a customer past its valid_until but with no row moved extends
-- the stored state without reading its orders (customer 3 is left to
-- regrade(), which evaluates it from its state too)
SELECT valid_until AS vu1 FROM crm_grade.customer_state WHERE customer = '1' \gset
SELECT set_config('crm_grade.as_of', :'vu1', false) IS NOT NULL AS moved;
BEGIN;
SELECT t42.scans() AS scans0 \gset
INSERT INTO t42.orders VALUES (7, 1, 10, '2026-05-15 10:00+00');
SELECT t42.scans() - :scans0 AS order_reads;
SELECT crm_grade.regrade() AS regraded;
SELECT t42.scans() - :scans0 AS order_reads;
COMMIT;
:state;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT customer, new_grade, new_lifecycle, new_risk, reason FROM crm_grade.history
 WHERE id > :hist_start ORDER BY id;

SELECT crm_grade.detach('t42.orders');
DROP SCHEMA t42 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
