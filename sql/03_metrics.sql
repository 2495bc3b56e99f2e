--
-- 03_metrics: every order metric of SPEC section 4, one customer per
-- scenario, with values computed by hand (in the comments).
--
-- T = 2025-06-15 12:00 UTC unless a scenario moves it; the 12-month window
-- is (T - 12 months, T]; day counts are floor(seconds / 86400).  Each
-- scenario has its own order table, attached and detached, so regrade()
-- counts only that scenario's customers.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set metrics 'SELECT customer, grade, total_amount, orders_total, amount_12m, orders_12m, avg_order_value_12m, first_order_at, last_order_at, tenure_days, days_since_last_order, mean_interorder_days, active_months_12m, repurchase_rate, avg_payment_days FROM crm_grade.customer_grades ORDER BY customer'
\x on

CREATE SCHEMA t03;

--------------------------------------------------------------------------
-- basic customers, inserted through the triggers (an empty table attached)
--------------------------------------------------------------------------
CREATE TABLE t03.orders (
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
SELECT crm_grade.attach_orders('t03.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');

-- 301: one order 2025-06-01 00:00, paid 10 days later.
--   tenure = days since last order = floor(14.5) = 14; repurchase_rate =
--   1 month / least(12, June..June = 1) = 1; avg_payment_days = 10
INSERT INTO t03.orders VALUES (301, 1000, '2025-06-01 00:00+00', '2025-06-11 00:00+00');

-- 302: orders before and inside the window, a refund, partial payments.
--   2023-12-01 10000 (outside the window; its payment does not count)
--   2024-08-10 09:00 5000 paid 2024-08-20 21:00 -> floor(10.5) = 10 days
--   2024-08-25 3000 unpaid
--   2025-01-05 2000 paid 2025-01-08 06:00 -> floor(3.25) = 3 days
--   2025-03-01 -500 refund: lowers the sums, is no order
-- total 19500, orders_total 4, amount_12m 9500, orders_12m 3, avg 9500/3;
-- first 2023-12-01, last 2025-01-05 (not the refund);
-- tenure floor(562.5) = 562; days since last order floor(161.5) = 161;
-- mean interorder 401 days / 3; active months Aug 2024 and Jan 2025 = 2;
-- repurchase 2 / least(12, Dec 2023..Jun 2025 = 19) = 2/12;
-- avg payment (10 + 3) / 2 = 6.5
INSERT INTO t03.orders VALUES
	(302, 10000, '2023-12-01 00:00+00', '2023-12-02 00:00+00'),
	(302, 5000, '2024-08-10 09:00+00', '2024-08-20 21:00+00'),
	(302, 3000, '2024-08-25 00:00+00', NULL);
INSERT INTO t03.orders VALUES
	(302, 2000, '2025-01-05 00:00+00', '2025-01-08 06:00+00'),
	(302, -500, '2025-03-01 00:00+00', NULL);

-- 303: first year, several orders in one month.
--   2025-02-10, 03-05, 03-20, 05-01, each 100, each paid 1.5 days later
-- avg 100; tenure floor(125.5) = 125; days since last floor(45.5) = 45;
-- mean interorder 80 days / 3; active months Feb, Mar, May = 3;
-- repurchase 3 / (Feb..Jun = 5) = 0.6; avg payment 1
INSERT INTO t03.orders
SELECT 303, 100, d::timestamptz, d::timestamptz + interval '1 day 12 hours'
  FROM unnest(ARRAY['2025-02-10 00:00+00', '2025-03-05 00:00+00', '2025-03-20 00:00+00', '2025-05-01 00:00+00']) d;

-- 304: nothing but a refund: the sums go negative, every order-based metric
-- is NULL (no first order, so no repurchase rate either)
INSERT INTO t03.orders VALUES (304, -500, '2025-03-01 00:00+00', NULL);

:metrics;
SELECT * FROM crm_grade.verify();
-- the same from scratch, through the set-based back-fill
SELECT crm_grade.regrade_all();
:metrics;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t03.orders');

--------------------------------------------------------------------------
-- the window edge: T - 12 months is outside, a microsecond later inside
--------------------------------------------------------------------------
CREATE TABLE t03.edge (customer_id int4 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t03.edge VALUES
	(311, 100, '2024-06-15 12:00:00+00'),			-- = T - 12 months: outside
	(311, 200, '2024-06-15 12:00:00.000001+00');	-- inside
SELECT crm_grade.attach_orders('t03.edge', 'customer_id', 'amount', 'ordered_at');
-- through the trigger too
INSERT INTO t03.edge VALUES (311, 50, '2024-06-15 12:00:00+00');
-- total 350, orders_total 3, amount_12m 200, orders_12m 1; tenure exactly
-- 365 days, last order 365 days minus 1 microsecond ago = 364;
-- mean interorder floor(1 microsecond) = 0 days / 2; one active month (June
-- 2024) out of least(12, Jun 2024..Jun 2025 = 13) = 1/12
:metrics;
SELECT * FROM crm_grade.verify();
-- one microsecond later the 200 leaves the window too; regrade() finds it
SET crm_grade.as_of = '2025-06-15 12:00:00.000001+00';
SELECT crm_grade.regrade();
-- amount_12m 0, orders_12m 0, no average, 0 active months: rate 0/12;
-- tenure floor(365 days + 1 microsecond) = 365, last order exactly 365 days ago
:metrics;
SELECT * FROM crm_grade.verify();
-- a second run has nothing to do
SELECT crm_grade.regrade();
-- regrade()'s batch limit must be positive (NULL: no limit)
SELECT crm_grade.regrade(0);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.regrade(NULL);
SELECT crm_grade.detach('t03.edge');

-- 29 February: T - 12 months is clamped to 28 February, so an order of
-- 2023-02-28 18:00 leaves the window at T = 2024-02-28 18:00 and is inside
-- it again from T = 2024-02-29 00:00 (window start 2023-02-28 00:00) until
-- T = 2024-02-29 18:00
SET crm_grade.as_of = '2024-02-28 17:00:00+00';
CREATE TABLE t03.leap (customer_id int4 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t03.leap VALUES (312, 100, '2023-02-28 18:00+00');
SELECT crm_grade.attach_orders('t03.leap', 'customer_id', 'amount', 'ordered_at');
SELECT customer, amount_12m, orders_12m FROM crm_grade.customer_grades;
SET crm_grade.as_of = '2024-02-28 18:00:00+00';
SELECT crm_grade.regrade();
SELECT customer, amount_12m, orders_12m FROM crm_grade.customer_grades;
SET crm_grade.as_of = '2024-02-29 06:00:00+00';
SELECT crm_grade.regrade();
SELECT customer, amount_12m, orders_12m FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2024-02-29 18:00:00+00';
SELECT crm_grade.regrade();
SELECT customer, amount_12m, orders_12m FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t03.leap');
SET crm_grade.as_of = '2025-06-15 12:00:00+00';

--------------------------------------------------------------------------
-- future-dated orders count once T reaches them
--------------------------------------------------------------------------
CREATE TABLE t03.future (customer_id int4 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t03.future VALUES
	(321, 1000, '2025-05-01 00:00+00'),
	(321, 300000, '2025-07-01 00:00+00');		-- after T
SELECT crm_grade.attach_orders('t03.future', 'customer_id', 'amount', 'ordered_at');
INSERT INTO t03.future VALUES (321, 250000, '2025-08-01 00:00+00');	-- after T, through the trigger
-- only the May order counts: 1000, C
:metrics;
SELECT * FROM crm_grade.verify();

SET crm_grade.as_of = '2025-07-01 00:00:00+00';
-- the stored state is that of its graded_at until regrade() runs
SELECT customer, grade, amount_12m, graded_at FROM crm_grade.customer_grades;
SELECT crm_grade.regrade();
-- the July order counts now (at T exactly): 301000 in 2 orders, B
SELECT customer, grade, total_amount, orders_total, amount_12m, orders_12m, last_order_at, graded_at
  FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();

SET crm_grade.as_of = '2025-08-01 00:00:00+00';
SELECT crm_grade.regrade();
-- 551000 in 3 orders, A; avg 551000/3; tenure May 1 -> Aug 1 = 92 days,
-- last order 0 days ago; mean interorder 92 / 2 = 46; active months May,
-- Jul, Aug = 3 of (May..Aug = 4) = 0.75
:metrics;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t03.future');
SET crm_grade.as_of = '2025-06-15 12:00:00+00';

--------------------------------------------------------------------------
-- calendar months are taken in crm_grade.timezone
--------------------------------------------------------------------------
SET crm_grade.timezone = 'Asia/Shanghai';		-- UTC+8, no daylight saving
CREATE TABLE t03.zone (customer_id int4 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
-- 2025-01-31 16:00 UTC is 2025-02-01 00:00 in Shanghai
INSERT INTO t03.zone VALUES
	(331, 100, '2025-01-31 16:00:00+00'),
	(331, 100, '2025-02-10 00:00:00+00');
SELECT crm_grade.attach_orders('t03.zone', 'customer_id', 'amount', 'ordered_at');
-- in Shanghai both orders are in February: 1 active month of Feb..Jun = 5
SELECT customer, active_months_12m, repurchase_rate FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();
-- 2025-06-30 20:00 UTC is already July in Shanghai: the rate's denominator
-- grows to Feb..Jul = 6, and regrade() knows it is due
SET crm_grade.as_of = '2025-06-30 20:00:00+00';
SELECT crm_grade.regrade();
SELECT customer, active_months_12m, repurchase_rate FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();
-- in UTC the first order is in January: 2 active months of Jan..Jun = 6
SET crm_grade.timezone = 'UTC';
SELECT crm_grade.regrade_all();
SELECT customer, active_months_12m, repurchase_rate FROM crm_grade.customer_grades;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t03.zone');
SET crm_grade.as_of = '2025-06-15 12:00:00+00';

-- more expired customers than regrade() locks at once (1000): one call takes
-- them all, batch after batch from one scan of valid_until's index, and
-- max_customers stops it inside a batch
CREATE TABLE t03.many (customer_id int4 NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t03.many SELECT 400000 + g, 10, '2024-07-01 00:00+00' FROM generate_series(1, 2500) g;
CREATE INDEX ON t03.many (customer_id);
SELECT crm_grade.attach_orders('t03.many', 'customer_id', 'amount', 'ordered_at');
-- every order has left the 12-month window
SET crm_grade.as_of = '2025-07-02 00:00:00+00';
SELECT count(*) AS expired FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of();
SELECT crm_grade.regrade(1500);
SELECT count(*) AS expired FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of();
SELECT crm_grade.regrade();
SELECT count(*) AS expired, sum(amount_12m) AS amount_12m FROM crm_grade.customer_state
 WHERE valid_until <= crm_grade.as_of() OR amount_12m <> 0;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t03.many');
SET crm_grade.as_of = '2025-06-15 12:00:00+00';

-- cleanup
\x off
DROP SCHEMA t03 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
