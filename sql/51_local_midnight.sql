--
-- 51_local_midnight: a month that begins at a local midnight the clocks
-- pass twice.  America/Havana ends daylight saving time at 01:00, back to
-- 00:00, so 1 November 2026 (a Sunday) begins at 00:00 CDT (04:00 UTC) and
-- its first hour comes again at 00:00 CST (05:00 UTC).  A customer's month
-- figures (growth_months, repurchase_rate) change when the month begins,
-- the first time: 0.10 put valid_until at the second (converting local
-- midnight as PostgreSQL does, to the later moment), an hour late, so
-- verify() disagreed at once and regrade() left stale figures for that
-- hour (found by a generated workload).
--
SET TimeZone = 'America/Havana';
SET crm_grade.timezone = 'America/Havana';
SET crm_grade.as_of = '2026-10-20 12:00+00';
CREATE SCHEMA t51;
CREATE TABLE t51.orders (customer int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t51.orders (customer);
INSERT INTO t51.orders VALUES (1, 100, '2026-09-10 12:00+00'), (1, 200, '2026-10-10 12:00+00');
SELECT crm_grade.attach_orders('t51.orders', 'customer', 'amount', 'ordered_at') AS graded;
SELECT customer, valid_until AT TIME ZONE 'UTC' AS valid_until_utc, growth_months, repurchase_rate
  FROM crm_grade.customer_state WHERE customer = '1';
SELECT * FROM crm_grade.verify();
-- half an hour into November (00:30 CDT): expired, re-graded, consistent
SET crm_grade.as_of = '2026-11-01 04:30+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, growth_months, repurchase_rate FROM crm_grade.customer_state WHERE customer = '1';
SELECT * FROM crm_grade.verify();
-- and in the hour that comes again (00:30 CST)
SET crm_grade.as_of = '2026-11-01 05:30+00';
SELECT crm_grade.regrade() AS regraded;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t51.orders');
DROP SCHEMA t51 CASCADE;
