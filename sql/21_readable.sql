--
-- 21_readable: what a user reads.  An error raised inside crm_grade's work
-- carries one line of context, "crm_grade: " and what it was doing, naming
-- the table; never the SQL crm_grade generated (each case below printed 1
-- to 80 lines of it before).  A caller's own lines still follow
-- crm_grade's.  Every column of every view has a comment, and rates and
-- averages print with a sensible scale (exact in customer_state).
--
\set SHOW_CONTEXT always
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t21;
CREATE TABLE t21.orders (
	id serial PRIMARY KEY,
	cust int NOT NULL,
	amount numeric,
	qty int NOT NULL,
	ordered_at timestamptz
);
CREATE INDEX ON t21.orders (cust);
INSERT INTO t21.orders (cust, amount, qty, ordered_at) VALUES
	(2101, 100, 1, '2026-05-01 10:00+00'),
	(2102, 200, 2, '2026-05-02 10:00+00');
-- A filter that divides: PostgreSQL evaluates it, and a row it cannot
-- evaluate fails as it would in a WHERE clause.
SELECT crm_grade.attach_orders('t21.orders', 'cust', 'amount', 'ordered_at',
							   filter => 'amount / qty > 0');
-- a policy of this test's own, whose changes re-grade everyone
INSERT INTO crm_grade.policy (name, definition)
SELECT 't21', definition FROM crm_grade.policy WHERE name = 'abc';
SELECT crm_grade.use_policy('t21');

-- The trigger: the table and the filter are named.
UPDATE t21.orders SET qty = 0 WHERE cust = 2101;
INSERT INTO t21.orders (cust, amount, qty, ordered_at) VALUES (2103, 5, 0, '2026-05-03');
-- a row crm_grade refuses (SPEC §10) gets the same line
INSERT INTO t21.orders (cust, amount, qty, ordered_at) VALUES (2103, 5, 1, NULL);
-- from a function: its own lines follow crm_grade's
CREATE FUNCTION t21.zero_qty(c int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	UPDATE t21.orders SET qty = 0 WHERE cust = c;
END $$;
SELECT t21.zero_qty(2102);

-- A row that got in while the triggers were disabled: every re-grade
-- names what it was doing and the table it was reading.
ALTER TABLE t21.orders DISABLE TRIGGER USER;
UPDATE t21.orders SET qty = 0 WHERE cust = 2101;
ALTER TABLE t21.orders ENABLE TRIGGER USER;
SELECT crm_grade.regrade_all();
SELECT crm_grade.use_policy('abc');
UPDATE crm_grade.policy SET definition = definition WHERE name = 't21';
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2027-06-15 12:00:00+00';	-- 2101's order leaves the window
SELECT crm_grade.regrade();
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
-- a migration whose re-check fails
ALTER TABLE t21.orders ALTER COLUMN qty TYPE text;
-- attach again: the rows are checked, then back-filled
SELECT crm_grade.detach('t21.orders');
INSERT INTO t21.orders (cust, amount, qty, ordered_at) VALUES (2104, 5, 1, NULL);
SELECT crm_grade.attach_orders('t21.orders', 'cust', 'amount', 'ordered_at');
DELETE FROM t21.orders WHERE cust = 2104;
SELECT crm_grade.attach_orders('t21.orders', 'cust', 'amount', 'ordered_at',
							   filter => 'amount / qty > 0');
SELECT crm_grade.attach_orders('t21.orders', 'cust', 'amount', 'ordered_at',
							   filter => 'qty > 0 AND amount / qty > 0');
-- nothing of the failed attempts stayed
SELECT tbl, filter FROM crm_grade.source WHERE tbl = 't21.orders'::regclass;
SELECT customer, grade, total_amount FROM crm_grade.customer_grades
 WHERE customer IN ('2101', '2102', '2103') ORDER BY customer;

-- crm_grade._raise: PL/pgSQL's way to re-raise with one line.  A bad
-- SQLSTATE becomes XX000; the caught context's crm_grade line is kept.
SELECT crm_grade._raise('22012', 'division by zero', '', NULL, 'op()',
						E'SQL statement "SELECT 1/0"\ncrm_grade: reading t21.orders\nPL/pgSQL function f()');
SELECT crm_grade._raise('nope!', 'a message', 'a detail', 'a hint', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE

-- Views: every column has a comment; rates and averages are rounded in
-- the views only.
SELECT c.relname, a.attname
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'crm_grade'::regnamespace AND c.relkind = 'v'
   AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL;
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'crm_grade'::regnamespace AND c.relkind = 'v'
   AND obj_description(c.oid, 'pg_class') IS NULL;
INSERT INTO t21.orders (cust, amount, qty, ordered_at) VALUES
	(2102, 100, 3, '2026-06-01 10:00+00'), (2102, 100, 3, '2026-06-02 10:00+00');
SELECT customer, avg_order_value_12m, repurchase_rate, mean_interorder_days
  FROM crm_grade.customer_grades WHERE customer = 2102;
SELECT avg_order_value_12m, repurchase_rate, mean_interorder_days
  FROM crm_grade.customer_state WHERE customer = '2102';

-- Every customer consistent.
SELECT * FROM crm_grade.verify();
SELECT crm_grade.use_policy('abc');
DELETE FROM crm_grade.policy WHERE name = 't21';
SELECT crm_grade.detach('t21.orders');
DROP SCHEMA t21 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
