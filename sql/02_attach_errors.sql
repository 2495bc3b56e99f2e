--
-- 02_attach_errors: every way attach_orders / attach_customers refuse a
-- table, each with its SQLSTATE (printed after the error), a message naming
-- the table and column, and a hint.  A refused attach leaves nothing behind.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t02;
CREATE TABLE t02.orders (
	id			serial PRIMARY KEY,
	customer_id	int4,
	amount		numeric,
	ordered_at	timestamptz,
	paid_at		timestamptz,
	note		text,
	props		json,
	flag		boolean
);

-- a column that does not exist (names are case-sensitive)
SELECT crm_grade.attach_orders('t02.orders', 'customer', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'Amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at', 'paid');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a column of a type crm_grade cannot use
SELECT crm_grade.attach_orders('t02.orders', 'ordered_at', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'flag', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'note', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'amount');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at', 'note');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- identifiers are quoted, never spliced into SQL
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount, 1); DROP TABLE t02.orders; --', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT to_regclass('t02.orders') IS NOT NULL AS still_there;

-- NULL arguments
SELECT crm_grade.attach_orders('t02.orders', NULL, 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', NULL, 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders(NULL, 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers(NULL, 'id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.orders', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a table that does not exist is refused by the regclass input itself
SELECT crm_grade.attach_orders('t02.no_such_table', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- not a table
CREATE VIEW t02.orders_view AS SELECT * FROM t02.orders;
CREATE MATERIALIZED VIEW t02.orders_mv AS SELECT * FROM t02.orders;
CREATE SEQUENCE t02.seq;
SELECT crm_grade.attach_orders('t02.orders_view', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.orders_mv', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t02.seq', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.orders_view', 'customer_id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- crm_grade's own tables
SELECT crm_grade.attach_orders('crm_grade.history', 'customer', 'id', 'changed_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('crm_grade.customer_state', 'customer');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- existing rows crm_grade could not grade: NULL key, amount or time,
-- NaN or infinite amount, infinite time
INSERT INTO t02.orders (customer_id, amount, ordered_at) VALUES
	(1, 100, '2025-01-01 00:00+00'),
	(NULL, 100, '2025-01-01 00:00+00');
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t02.orders SET customer_id = 2, amount = NULL WHERE customer_id IS NULL;
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t02.orders SET amount = 200, ordered_at = NULL WHERE amount IS NULL;
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t02.orders SET amount = 'NaN', ordered_at = '2025-02-01 00:00+00' WHERE ordered_at IS NULL;
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t02.orders SET amount = 'Infinity' WHERE customer_id = 2;
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t02.orders SET amount = 200, ordered_at = 'infinity' WHERE customer_id = 2;
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a NULL payment time is fine: not every order is paid
UPDATE t02.orders SET ordered_at = '2025-02-01 00:00+00' WHERE customer_id = 2;

-- none of the refused attaches left anything behind
SELECT count(*) AS sources FROM crm_grade.source;
SELECT count(*) AS triggers FROM pg_trigger
 WHERE tgrelid = 't02.orders'::regclass AND NOT tgisinternal;
SELECT count(*) AS customers FROM crm_grade.customer_state;

-- now the table is clean and attaches
SELECT crm_grade.attach_orders('t02.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');

-- the customer master: bad columns
CREATE TABLE t02.customers (id int4 PRIMARY KEY, rep text, since date, profile jsonb, legacy json, note text);
INSERT INTO t02.customers VALUES (1, 'alice', '2024-01-01', '{}', '{}', 'x');
SELECT crm_grade.attach_customers('t02.customers', 'id', 'owner');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.customers', 'id', 'rep', 'note');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.customers', 'id', 'rep', 'since', 'legacy');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.customers', 'id', 'rep', 'since', 'nope');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_customers('t02.customers', 'profile');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- the customer master: its key must be unique
CREATE TABLE t02.leads (id int4, rep text);
INSERT INTO t02.leads VALUES (5, 'bob'), (NULL, 'carol');
SELECT crm_grade.attach_customers('t02.leads', 'id', 'rep');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a unique index with a predicate, or over more columns, does not make it unique
CREATE UNIQUE INDEX leads_partial ON t02.leads (id) WHERE rep <> 'x';
CREATE UNIQUE INDEX leads_pair ON t02.leads (id, rep);
SELECT crm_grade.attach_customers('t02.leads', 'id', 'rep');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- unique, but NULL keys in existing rows
ALTER TABLE t02.leads ADD UNIQUE (id);
SELECT crm_grade.attach_customers('t02.leads', 'id', 'rep');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a second customer master
SELECT crm_grade.attach_customers('t02.customers', 'id', 'rep', 'since', 'profile');
DELETE FROM t02.leads WHERE id IS NULL;
SELECT crm_grade.attach_customers('t02.leads', 'id', 'rep');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- attaching the same master again is fine
SELECT crm_grade.attach_customers('t02.customers', 'id', 'rep', 'since', 'profile');

-- a key type that does not match the attached tables (integers vs uuid)
CREATE TABLE t02.web_orders (customer_id uuid NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
SELECT crm_grade.attach_orders('t02.web_orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE TABLE t02.crm_people (id text PRIMARY KEY);
SELECT crm_grade.detach('t02.customers');
SELECT crm_grade.attach_customers('t02.crm_people', 'id');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- integer keys of different widths do agree
CREATE TABLE t02.big_orders (customer_id int8 NOT NULL, amount int8 NOT NULL, ordered_at date NOT NULL);
SELECT crm_grade.attach_orders('t02.big_orders', 'customer_id', 'amount', 'ordered_at');

SELECT tbl, kind, key_type FROM crm_grade.source ORDER BY tbl::text COLLATE "C";
SELECT customer, grade, owner, amount_12m, orders_total FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- a column renamed after attaching is followed (see 15_migrations)
ALTER TABLE t02.orders RENAME COLUMN amount TO amount_eur;
INSERT INTO t02.orders (customer_id, amount_eur, ordered_at) VALUES (1, 1, '2025-03-01 00:00+00');
SELECT columns FROM crm_grade.source WHERE tbl = 't02.orders'::regclass;
ALTER TABLE t02.orders RENAME COLUMN amount_eur TO amount;
INSERT INTO t02.orders (customer_id, amount, ordered_at) VALUES (1, 1, '2025-03-01 00:00+00');
SELECT customer, amount_12m, orders_total FROM crm_grade.customer_grades WHERE customer = 1;

-- cleanup
SELECT crm_grade.detach('t02.orders');
SELECT crm_grade.detach('t02.big_orders');
DROP SCHEMA t02 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
