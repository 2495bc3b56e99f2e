-- Back-fill, regrade_all() and use_policy() on 1,000,000 orders over 100,000 customers, against
-- a plain GROUP BY of the same orders, in one run:
--     pg_virtualenv -t psql -X -f test/bench/backfill.sql
-- (after `make install`).  Prints the times; verify() must find nothing.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bf CASCADE;
CREATE SCHEMA bf;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SELECT setseed(0.42);
CREATE TABLE bf.orders AS
SELECT g AS id, 1 + (g % 100000) AS customer_id,
	   round((1 + random() * 4999)::numeric, 2) AS amount,
	   now() - random() * interval '730 days' AS ordered_at,
	   CASE WHEN random() < 0.8 THEN now() - random() * interval '700 days' END AS paid_at
  FROM generate_series(1, 1000000) g;
CREATE INDEX ON bf.orders (customer_id);
VACUUM ANALYZE bf.orders;
\timing on
\echo '-- a plain GROUP BY with the same kind of aggregates (reference)'
CREATE TABLE bf.plain AS
SELECT customer_id, sum(amount) AS total, count(*) AS n, min(ordered_at), max(ordered_at),
	   sum(amount) FILTER (WHERE ordered_at > now() - interval '12 months') AS amount_12m
  FROM bf.orders GROUP BY customer_id;
\echo '-- attach_orders: back-fill every customer'
SELECT crm_grade.attach_orders('bf.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
\echo '-- regrade_all()'
SELECT crm_grade.regrade_all();
\echo '-- use_policy(four_class)'
SELECT crm_grade.use_policy('four_class');
\echo '-- verify()'
SELECT count(*) AS disagreements FROM crm_grade.verify();
\timing off
SELECT crm_grade.use_policy('abc') \g /dev/null
SELECT crm_grade.detach('bf.orders');
DROP SCHEMA bf CASCADE;
