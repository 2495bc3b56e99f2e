-- A customer's first rows create its state row complete, computed before
-- the row is created, instead of as an empty placeholder written again at
-- once (a second row version with every index entry again).  The counts
-- of this transaction's writes to customer_state show which happened;
-- the states must be those any other path computes (verify()).
SET crm_grade.as_of = '2025-03-10 12:00+00';
CREATE SCHEMA t44;
CREATE TABLE t44.orders (id serial PRIMARY KEY, customer_id int, amount numeric,
						 ordered_at timestamptz, paid_at timestamptz);
CREATE INDEX ON t44.orders (customer_id);
CREATE TABLE t44.customers (id int PRIMARY KEY, owner text);
SELECT crm_grade.attach_orders('t44.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_customers('t44.customers', 'id', 'owner');
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (1, 100, '2025-01-01'), (2, 50, '2025-01-02');
-- (the counts add up until the backend reports them: the differences
-- within one transaction are its own)
CREATE VIEW t44.counts AS
	SELECT n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del
	  FROM pg_stat_xact_user_tables WHERE relid = 'crm_grade.customer_state'::regclass;
\set before 'SELECT * FROM t44.counts \\gset'
\set writes 'SELECT c.ins - :ins AS inserted, c.upd - :upd AS updated, c.del - :del AS deleted FROM t44.counts c;'

-- One statement: 40 new customers (three orders each, one of them a
-- refund) and two existing ones.  Each new customer is inserted once; the
-- existing ones are updated.
BEGIN;
:before
INSERT INTO t44.orders (customer_id, amount, ordered_at, paid_at)
SELECT c, CASE WHEN k = 3 THEN -10 ELSE c * 100 + k END, '2025-02-01'::timestamptz + k * interval '1 day',
	   CASE WHEN k = 1 THEN '2025-02-10'::timestamptz END
  FROM generate_series(100, 139) c, generate_series(1, 3) k
UNION ALL SELECT 1, 5000, '2025-02-05', NULL
UNION ALL SELECT 2, 7000, '2025-02-06', NULL;
:writes
COMMIT;
SELECT count(*) AS customers, sum(orders_total) AS orders, sum(total_amount) AS amount,
	   count(*) FILTER (WHERE graded_at IS NULL OR valid_until IS NULL) AS unfinished
  FROM crm_grade.customer_state WHERE customer::int BETWEEN 100 AND 139;
-- a history row for each new customer's first grade, none twice
SELECT count(*) AS history_rows, count(DISTINCT customer) AS customers
  FROM crm_grade.history WHERE customer::int BETWEEN 100 AND 139;

-- One new customer's first order, one row: inserted once too.
BEGIN;
:before
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (200, 90000, '2025-03-01');
:writes
COMMIT;
SELECT customer, orders_total, total_amount, grade, last_order_at
  FROM crm_grade.customer_state WHERE customer = '200';

-- A new customer whose first row is in the customer master is read from
-- every table (the master's rows are not accumulated): the placeholder
-- and its update, as before.
BEGIN;
:before
INSERT INTO t44.customers VALUES (300, 'ann');
:writes
COMMIT;
SELECT customer, in_master, owner, orders_total FROM crm_grade.customer_state WHERE customer = '300';

-- An UPDATE that moves an order to a customer who has no state yet, and a
-- customer whose first rows a later statement of the same transaction adds
-- to (the state the first statement created is then extended).
BEGIN;
:before
UPDATE t44.orders SET customer_id = 400 WHERE customer_id = 2 AND amount = 50;
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (500, 10, '2025-03-02'), (501, 20, '2025-03-02');
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (500, 30, '2025-03-03');
:writes
COMMIT;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state
 WHERE customer IN ('2', '400', '500', '501') ORDER BY customer;

-- A statement whose new customer is refused (a bad row) leaves nothing.
BEGIN;
:before
SAVEPOINT s;
\set VERBOSITY terse
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (600, 10, '2025-03-02'), (601, 'NaN', '2025-03-02');
\set VERBOSITY default
ROLLBACK TO SAVEPOINT s;
INSERT INTO t44.orders (customer_id, amount, ordered_at) VALUES (600, 10, '2025-03-02');
COMMIT;
SELECT customer, orders_total FROM crm_grade.customer_state WHERE customer IN ('600', '601') ORDER BY customer;

SELECT * FROM crm_grade.verify();
-- and regrade_all(), which reads every table again, changes nothing
CREATE TEMP TABLE states AS SELECT * FROM crm_grade.customer_state;
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT count(*) AS differences FROM (
	(SELECT to_jsonb(s) - 'graded_at' FROM crm_grade.customer_state s
	 EXCEPT SELECT to_jsonb(t) - 'graded_at' FROM states t)
	UNION ALL
	(SELECT to_jsonb(t) - 'graded_at' FROM states t
	 EXCEPT SELECT to_jsonb(s) - 'graded_at' FROM crm_grade.customer_state s)) d;

-- cleanup
SELECT crm_grade.detach('t44.orders');
SELECT crm_grade.detach('t44.customers');
DROP SCHEMA t44 CASCADE;
TRUNCATE crm_grade.history;
