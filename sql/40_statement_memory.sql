--
-- 40_statement_memory: a statement's rows are streamed from its transition
-- tables, and once what crm_grade keeps of them exceeds work_mem they go to
-- a sort spilled to disk (since 0.7).  With work_mem at its minimum, 64kB,
-- every statement below spills; each must leave the states exactly as a
-- recomputation from the tables (verify() finds nothing), as the same
-- statements do in memory.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set verify 'SELECT count(*) AS disagreements FROM crm_grade.verify()'

CREATE SCHEMA t40;
CREATE TABLE t40.orders (
	id			int PRIMARY KEY,
	cust		int NOT NULL,
	amount		numeric NOT NULL,
	at			timestamptz NOT NULL,
	paid		timestamptz,
	status		text NOT NULL DEFAULT 'ok',
	note		text
);
CREATE INDEX ON t40.orders (cust);
CREATE TABLE t40.calls (
	id			int PRIMARY KEY,
	cust		int NOT NULL,
	called_at	timestamptz NOT NULL,
	outcome		text
);
CREATE INDEX ON t40.calls (cust);
CREATE TABLE t40.customers (
	id			int PRIMARY KEY,
	rep			text
);
SELECT crm_grade.attach_orders('t40.orders', 'cust', 'amount', 'at', 'paid',
							   filter => 'status <> ''cancelled''');
SELECT crm_grade.attach_contacts('t40.calls', 'cust', 'called_at', outcome_column => 'outcome');
SELECT crm_grade.attach_customers('t40.customers', 'id', owner_column => 'rep');
-- temporary files this database made (their statistics are reported at the
-- end of a transaction; pg_stat_force_next_flush() makes the next report
-- immediate)
CREATE FUNCTION t40.temp_files() RETURNS bigint LANGUAGE sql
	AS $$ SELECT temp_files FROM pg_stat_database WHERE datname = current_database() $$;

SET work_mem = '64kB';
SELECT t40.temp_files() AS tf0 \gset
-- 20,000 orders of 500 customers, and 300 more of customer 7 (more than a
-- customer's rows a spilled statement holds at once: it is re-read)
INSERT INTO t40.orders (id, cust, amount, at, paid)
SELECT g, 1 + g % 500, (g % 997) + 0.25,
	   '2026-06-15 12:00+00'::timestamptz - (g % 700) * interval '1 day',
	   CASE WHEN g % 5 <> 0 THEN '2026-06-15 12:00+00'::timestamptz - (g % 600) * interval '1 day' END
  FROM generate_series(1, 20000) g;
INSERT INTO t40.orders (id, cust, amount, at)
SELECT 100000 + g, 7, g, '2026-06-01 00:00+00'::timestamptz - g * interval '1 hour'
  FROM generate_series(1, 300) g;
SELECT pg_stat_force_next_flush();
SELECT t40.temp_files() > :tf0 AS spilled_to_disk;
:verify;
SELECT count(*) AS customers, sum(orders_total) AS orders, sum(total_amount) AS total
  FROM crm_grade.customer_state;

-- every order's amount changed: 20,300 rows out and 20,300 in
UPDATE t40.orders SET amount = amount + 1;
:verify;
-- a column crm_grade does not read: old and new rows alike, nothing applied
SELECT max(id) AS hist_before FROM crm_grade.history \gset
UPDATE t40.orders SET note = 'seen';
SELECT count(*) AS history_rows FROM crm_grade.history WHERE id > :hist_before;
:verify;
-- rows leaving and entering the filter in one statement
UPDATE t40.orders SET status = CASE status WHEN 'ok' THEN 'cancelled' ELSE 'ok' END
 WHERE id % 3 = 0;
UPDATE t40.orders SET status = CASE status WHEN 'ok' THEN 'cancelled' ELSE 'ok' END
 WHERE id % 2 = 0;
:verify;
-- order times moved (first and last orders, windows: re-reads among changes)
UPDATE t40.orders SET at = at - interval '200 days' WHERE id % 7 = 0;
:verify;
-- a quarter of the orders deleted
DELETE FROM t40.orders WHERE id % 4 = 1;
:verify;
-- an upsert: 5,000 rows, half of them new
INSERT INTO t40.orders (id, cust, amount, at)
SELECT g * 2, 1 + g % 450, 10, '2026-05-01 00:00+00'
  FROM generate_series(1, 5000) g
ON CONFLICT (id) DO UPDATE SET amount = excluded.amount + t40.orders.amount;
:verify;
-- contacts, the customer master and orders in one statement
WITH c AS (
	INSERT INTO t40.calls
	SELECT g, 1 + g % 600, '2026-06-01 00:00+00'::timestamptz - g * interval '1 minute',
		   CASE WHEN g % 3 = 0 THEN 'interested' END
	  FROM generate_series(1, 8000) g
	RETURNING 1
), m AS (
	INSERT INTO t40.customers SELECT g, 'rep' || g % 7 FROM generate_series(1, 700) g
	RETURNING 1
), d AS (
	DELETE FROM t40.orders WHERE id % 11 = 0 RETURNING 1
)
SELECT (SELECT count(*) FROM c) AS calls, (SELECT count(*) FROM m) AS customers,
	   (SELECT count(*) FROM d) AS deleted;
:verify;
UPDATE t40.customers SET rep = 'rep' || (id % 5);
UPDATE t40.calls SET outcome = 'complaint' WHERE id % 5 = 0;
DELETE FROM t40.calls WHERE id % 9 = 0;
:verify;
-- COPY: triggers fire outside the executor, the work is applied at once
COPY (SELECT 200000 + g, 1 + g % 800, g % 300, '2026-04-01 00:00+00'::timestamptz + g * interval '1 minute', NULL, 'ok', NULL
		FROM generate_series(1, 10000) g) TO '/tmp/crm_grade_t40_orders.copy';
COPY t40.orders FROM '/tmp/crm_grade_t40_orders.copy';
:verify;
-- a value crm_grade cannot grade, among 10,000 good rows, refuses the statement
UPDATE t40.orders SET paid = CASE WHEN id = 200500 THEN 'infinity' ELSE at END
 WHERE id > 200000;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
:verify;
-- and in a transaction that then rolls back to a savepoint
BEGIN;
SAVEPOINT s;
DELETE FROM t40.orders WHERE cust < 100;
ROLLBACK TO SAVEPOINT s;
UPDATE t40.orders SET amount = amount * 2 WHERE cust >= 400;
COMMIT;
:verify;
SELECT count(*) AS customers, sum(orders_total) AS orders, sum(total_amount) AS total
  FROM crm_grade.customer_state;

-- and regrade_all(), which reads every table again in one pass, in memory,
-- moves nothing
RESET work_mem;
CREATE TEMP TABLE spilled AS
SELECT customer, total_amount, orders_total, amount_12m, orders_12m, first_order_at, last_order_at,
	   order_months, month_amounts, last_contact_at, contacts_90d, last_outcome, owner, grade,
	   lifecycle, next_follow_up_at
  FROM crm_grade.customer_state;
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT count(*) AS differences FROM (
	(SELECT customer, total_amount, orders_total, amount_12m, orders_12m, first_order_at, last_order_at,
			order_months, month_amounts, last_contact_at, contacts_90d, last_outcome, owner, grade,
			lifecycle, next_follow_up_at
	   FROM crm_grade.customer_state
	 EXCEPT SELECT * FROM spilled)
	UNION ALL
	(SELECT * FROM spilled
	 EXCEPT SELECT customer, total_amount, orders_total, amount_12m, orders_12m, first_order_at, last_order_at,
				   order_months, month_amounts, last_contact_at, contacts_90d, last_outcome, owner, grade,
				   lifecycle, next_follow_up_at
	   FROM crm_grade.customer_state)) d;

SELECT crm_grade.detach('t40.orders');
SELECT crm_grade.detach('t40.calls');
SELECT crm_grade.detach('t40.customers');
DROP SCHEMA t40 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
