--
-- 25_recipe_soft_deleted_customers: README recipe "A customer master with
-- soft deletes".  attach_customers with filter => 'deleted_at IS NULL':
-- a soft-deleted prospect leaves the graded customers, a soft-deleted
-- customer with orders keeps its orders' grade but no longer has an
-- owner from the master, and restoring the row brings both back.  Hard
-- deletes of rows already soft-deleted change nothing.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, owner, amount_12m, orders_total FROM crm_grade.customer_grades WHERE customer BETWEEN 2501 AND 2599 ORDER BY customer'

CREATE SCHEMA accounts;
CREATE TABLE accounts.customers (
	id int PRIMARY KEY,
	name text NOT NULL,
	sales_rep text,
	created_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz
);
CREATE TABLE accounts.orders (
	id serial PRIMARY KEY,
	customer_id int NOT NULL REFERENCES accounts.customers,
	amount numeric(12,2) NOT NULL,
	ordered_at timestamptz NOT NULL
);
CREATE INDEX ON accounts.orders (customer_id);
INSERT INTO accounts.customers (id, name, sales_rep, created_at, deleted_at) VALUES
	(2501, 'Acme', 'alice', '2025-01-01 00:00+00', NULL),
	(2502, 'Beta (prospect)', 'bob', '2026-02-01 00:00+00', NULL),
	(2503, 'Gamma (closed)', 'bob', '2025-03-01 00:00+00', '2026-01-10 00:00+00');
INSERT INTO accounts.orders (customer_id, amount, ordered_at) VALUES
	(2501, 600000, '2026-05-01 10:00+00'),
	(2503, 150000, '2026-01-05 10:00+00');

-- The recipe.
SELECT crm_grade.attach_customers('accounts.customers', 'id', owner_column => 'sales_rep',
								  created_at_column => 'created_at', filter => 'deleted_at IS NULL');
SELECT crm_grade.attach_orders('accounts.orders', 'customer_id', 'amount', 'ordered_at');
:grades;

-- Soft-deleting a prospect and a customer with orders; restoring one.
UPDATE accounts.customers SET deleted_at = '2026-06-01' WHERE id IN (2501, 2502);
:grades;
UPDATE accounts.customers SET deleted_at = NULL, sales_rep = 'carol' WHERE id = 2503;
:grades;
-- a hard delete of a soft-deleted row: nothing changes
DELETE FROM accounts.customers WHERE id = 2502;
-- an update of a soft-deleted row outside the filter: nothing changes
UPDATE accounts.customers SET sales_rep = 'dave' WHERE id = 2501;
:grades;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history
 WHERE id > :hist_start ORDER BY id;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('accounts.orders');
SELECT crm_grade.detach('accounts.customers');
DROP SCHEMA accounts CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
