--
-- 33_catalog_behind: the library is newer than a database's crm_grade (its
-- customer_state lacks a column the library writes: ALTER EXTENSION ...
-- UPDATE has not run yet).  The application's writes go through with a
-- WARNING (the update grades them); regrade() and the other entry points
-- refuse with a hint.  Then contacts whose outcome is a char(n) column,
-- and a mean interval that is not a whole number (risk compared exactly).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-01-16 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t33;
CREATE TABLE t33.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t33.orders (cust);
CREATE TABLE t33.calls (id serial PRIMARY KEY, cust int NOT NULL, at timestamptz NOT NULL, outcome char(10));
CREATE INDEX ON t33.calls (cust);
SELECT crm_grade.attach_orders('t33.orders', 'cust', 'amount', 'ordered_at');
SELECT crm_grade.attach_contacts('t33.calls', 'cust', 'at', outcome_column => 'outcome');

-- A catalog one column short, as a database not updated yet has it.
ALTER TABLE crm_grade.customer_state DROP COLUMN next_opportunity_at;
INSERT INTO t33.orders (cust, amount, ordered_at) VALUES (3301, 100, '2026-01-01 12:00+00');
SELECT count(*) AS kept FROM t33.orders;
SELECT count(*) AS graded FROM crm_grade.customer_state WHERE customer = '3301';
SELECT crm_grade.regrade();
SELECT crm_grade.regrade_all();
-- the update adds it back (as the last column, where it was)
ALTER TABLE crm_grade.customer_state ADD COLUMN next_opportunity_at timestamptz;
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT customer, orders_total FROM crm_grade.customer_grades WHERE customer = 3301;

-- char(10) outcomes read as text reads them: 'lost      ' is lost.
INSERT INTO t33.orders (cust, amount, ordered_at) VALUES (3302, 100, '2026-01-01 12:00+00');
INSERT INTO t33.calls (cust, at, outcome) VALUES (3302, '2026-01-10 12:00+00', 'lost'), (3303, '2026-01-10 12:00+00', 'Intent');
SELECT customer, lifecycle, last_outcome, length(last_outcome) FROM crm_grade.customer_grades
 WHERE customer IN (3302, 3303) ORDER BY customer;

-- Four orders over 10 days: a mean of 10/3 days.  Medium risk once the
-- days since the last order exceed 1.5 x 10/3 = 5 (from the 6th day: 17
-- Jan 12:00), not at 5 (a rounded mean would say 5 > 4.99...).
INSERT INTO t33.orders (cust, amount, ordered_at) VALUES
	(3304, 10, '2026-01-01 12:00+00'), (3304, 10, '2026-01-04 12:00+00'),
	(3304, 10, '2026-01-08 12:00+00'), (3304, 10, '2026-01-11 12:00+00');
SELECT customer, risk, days_since_last_order, mean_interorder_days, valid_until
  FROM crm_grade.customer_grades WHERE customer = 3304;
SET crm_grade.as_of = '2026-01-17 12:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, risk, days_since_last_order FROM crm_grade.customer_grades WHERE customer = 3304;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t33.calls');
SELECT crm_grade.detach('t33.orders');
DROP SCHEMA t33 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
