--
-- 18_verify: the two metric corrections of 0.2 (repurchase_rate capped at
-- 1, avg_payment_days counting payments made by T), and what verify()
-- checks besides the metrics: the accumulators and valid_until.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.timezone = 'UTC';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t18;
CREATE TABLE t18.orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric NOT NULL,
						 ordered_at timestamptz NOT NULL, paid_at timestamptz);
CREATE INDEX ON t18.orders (customer_id);
-- 1801: an order in each of the 13 calendar months the window (2025-06-15
-- 12:00, 2026-06-15 12:00] touches (June 2025 .. June 2026): 13 active
-- months, over a denominator of 12, capped at 1 (0.1 stored 13/12)
INSERT INTO t18.orders
SELECT m, 1801, 100, timestamptz '2025-06-20 00:00+00' + make_interval(months => m - 1), NULL
  FROM generate_series(1, 12) m;
INSERT INTO t18.orders VALUES (13, 1801, 100, '2025-06-15 13:00+00', NULL),
							  (14, 1801, 100, '2026-06-01 00:00+00', NULL);
-- 1802: paid 10 days after ordering, and an order paid 30 days after, on
-- 2026-06-20, after T: the mean counts only the first until T reaches it
INSERT INTO t18.orders VALUES
	(20, 1802, 1000, '2026-05-01 00:00+00', '2026-05-11 00:00+00'),
	(21, 1802, 1000, '2026-05-21 00:00+00', '2026-06-20 00:00+00');
SELECT crm_grade.attach_orders('t18.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT customer, active_months_12m, repurchase_rate, avg_payment_days, valid_until
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- at the payment, 1802's valid_until, regrade() takes 1802: (10 + 30) / 2
-- = 20; and 1801, whose 2025-06-15 13:00 order has left the window: 12
-- active months left, a rate of 1 without the cap
SET crm_grade.as_of = '2026-06-20 00:00:00+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, active_months_12m, repurchase_rate, avg_payment_days
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- verify() reports a stored row that disagrees with the recomputation,
-- accumulators included, and a valid_until too late for a change
--------------------------------------------------------------------------
BEGIN;
UPDATE crm_grade.customer_state SET pay_days_sum = pay_days_sum + 1, next_order_at = '2030-01-01'
 WHERE customer = '1802';
SELECT * FROM crm_grade.verify();
ROLLBACK;

-- 1801's oldest order in the window (2025-07-20) leaves it at 2026-07-20;
-- a valid_until a day later would miss that change
SELECT valid_until FROM crm_grade.customer_state WHERE customer = '1801';
BEGIN;
UPDATE crm_grade.customer_state SET valid_until = valid_until + interval '1 day' WHERE customer = '1801';
SELECT customer, field, stored FROM crm_grade.verify();
ROLLBACK;
-- one microsecond earlier than needed is not reported (it only costs a regrade)
BEGIN;
UPDATE crm_grade.customer_state SET valid_until = valid_until - interval '1 microsecond' WHERE customer = '1801';
SELECT count(*) AS reports FROM crm_grade.verify();
ROLLBACK;
-- nor a missing one when nothing would change (none is set for a
-- customer whose state time cannot change)... but for 1801, NULL is wrong
BEGIN;
UPDATE crm_grade.customer_state SET valid_until = NULL WHERE customer = '1801';
SELECT customer, field, stored FROM crm_grade.verify();
ROLLBACK;
-- and a valid_until at or before graded_at is reported as such
BEGIN;
UPDATE crm_grade.customer_state SET valid_until = graded_at WHERE customer = '1802';
SELECT customer, field, stored, recomputed FROM crm_grade.verify();
ROLLBACK;

-- A back-fill writes history rows straight into the table when it is plain, through an
-- INSERT otherwise (here a trigger on it): the same rows either way, the table's own
-- defaults filled in.
BEGIN;
ALTER TABLE crm_grade.history ADD COLUMN note text NOT NULL DEFAULT 'noted';
SELECT max(id) AS plain_start FROM crm_grade.history \gset
SELECT crm_grade.detach('t18.orders');
SELECT crm_grade.attach_orders('t18.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
CREATE TABLE t18.history_seen (customer text, reason text);
CREATE FUNCTION t18.seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO t18.history_seen VALUES (NEW.customer, NEW.reason);
	RETURN NEW;
END $$;
CREATE TRIGGER seen BEFORE INSERT ON crm_grade.history FOR EACH ROW EXECUTE FUNCTION t18.seen();
SELECT max(id) AS trigger_start FROM crm_grade.history \gset
SELECT crm_grade.detach('t18.orders');
SELECT crm_grade.attach_orders('t18.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
CREATE TEMP VIEW written AS
SELECT id > :trigger_start AS with_trigger, id, customer, old_grade, new_grade, old_lifecycle,
	   new_lifecycle, old_risk, new_risk, reason, note
  FROM crm_grade.history WHERE id > :plain_start;
SELECT with_trigger, customer, old_grade, new_grade, old_lifecycle, new_lifecycle, old_risk,
	   new_risk, reason, note
  FROM written ORDER BY id;
SELECT count(*) AS seen_by_trigger FROM t18.history_seen;
SELECT * FROM crm_grade.verify();
ROLLBACK;

-- cleanup
SELECT crm_grade.detach('t18.orders');
DROP SCHEMA t18 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
