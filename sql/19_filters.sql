--
-- 19_filters: attach an order table as a shop writes it.  Cancelled,
-- refunded-status, cart and soft-deleted rows do not count; a cart with no
-- amount is never refused; an UPDATE moving a row into or out of the
-- filter is an insert or a delete; a row inside the filter must be
-- gradeable.  Filters are checked like a publication's row filter, follow
-- renamed columns, enum types, labels and schemas, block dropping their
-- columns and are re-checked when a column's type changes.  verify()
-- applies the same filter.
--
-- Policy abc: A amount_12m >= 500000, B >= 100000, C the rest.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, total_amount, orders_total FROM crm_grade.customer_grades ORDER BY customer'

CREATE SCHEMA t19;
CREATE TYPE t19.order_status AS ENUM ('cart', 'pending', 'paid', 'cancelled', 'refunded');
CREATE TABLE t19.orders (
	id serial PRIMARY KEY,
	cust int NOT NULL,
	amount numeric,
	status t19.order_status NOT NULL DEFAULT 'cart',
	ordered_at timestamptz,
	deleted_at timestamptz
);
CREATE INDEX ON t19.orders (cust);
INSERT INTO t19.orders (cust, amount, status, ordered_at, deleted_at) VALUES
	(1901, 900000, 'cancelled', '2026-05-01 10:00+00', NULL),	-- a cancelled 900,000: not an A
	(1901, 100, 'paid', '2026-05-02 10:00+00', NULL),
	(1902, 600000, 'paid', '2026-05-03 10:00+00', '2026-05-04'),	-- soft-deleted
	(1902, 200000, 'pending', '2026-05-05 10:00+00', NULL),
	(1903, 700000, 'refunded', '2026-05-06 10:00+00', NULL);
INSERT INTO t19.orders (cust) VALUES (1904);	-- a cart: no amount, no time

-- Without a filter the cart is a graded fact with no amount: refused.
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at');

SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at',
	filter => $$status IN ('paid', 'pending') AND deleted_at IS NULL$$);
-- stored as PostgreSQL writes it
SELECT tbl, filter FROM crm_grade.source WHERE tbl = 't19.orders'::regclass;
:grades;

-- The shop's own writes: carts and drafts are never refused.
INSERT INTO t19.orders (cust) VALUES (1905);
INSERT INTO t19.orders (cust, status) VALUES (1905, 'pending');	-- inside the filter, no amount: refused
COPY t19.orders (cust, amount, status, ordered_at) FROM stdin;
1906	\N	cart	\N
1906	150000	paid	2026-06-01 10:00+00
\.
:grades;

-- Moving rows across the filter: a cart paid is an insert, a soft delete a delete.
UPDATE t19.orders SET amount = 550000, status = 'paid', ordered_at = '2026-06-10 10:00+00' WHERE cust = 1904;
UPDATE t19.orders SET deleted_at = '2026-06-11' WHERE cust = 1902 AND status = 'pending';
UPDATE t19.orders SET status = 'cancelled' WHERE cust = 1906 AND status = 'paid';
-- an update of rows outside the filter changes nothing
UPDATE t19.orders SET amount = 1 WHERE cust = 1903;
:grades;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE customer BETWEEN 1901 AND 1906 ORDER BY changed_at, customer;
SELECT * FROM crm_grade.verify();

-- Filters a publication would refuse, and others that are not one boolean expression.
CREATE FUNCTION t19.is_real(int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE TABLE t19.blocked (cust int);
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'cust IN (SELECT cust FROM t19.blocked)');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 't19.is_real(cust)');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'random() < 0.5');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'ordered_at < now()');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'blocked.cust = 1');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'xmin::text <> ''0''');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'count(*) > 0');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'amount');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'true; DROP TABLE t19.orders');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'true ORDER BY 1');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => '');
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at', filter => 'no_such_column > 0');
-- the attachment is unchanged by the refused ones
SELECT filter FROM crm_grade.source WHERE tbl = 't19.orders'::regclass;

-- Migrations: a rename is followed, dropping a filter column is refused,
-- and a type change the filter no longer fits is refused.
ALTER TABLE t19.orders RENAME COLUMN deleted_at TO removed_at;
SELECT filter FROM crm_grade.source WHERE tbl = 't19.orders'::regclass;
INSERT INTO t19.orders (cust, amount, status, ordered_at, removed_at) VALUES (1907, 100000, 'paid', '2026-06-12 10:00+00', NULL);
ALTER TABLE t19.orders DROP COLUMN removed_at;
ALTER TABLE t19.orders ALTER COLUMN status TYPE text;
-- a type change the filter still fits: re-checked, stored again, everyone re-graded
ALTER TABLE t19.orders ALTER COLUMN removed_at TYPE timestamp;
SELECT filter FROM crm_grade.source WHERE tbl = 't19.orders'::regclass;
:grades;
SELECT * FROM crm_grade.verify();

-- Renaming the enum type, one of its labels or its schema, or moving the
-- type: the stored filter follows, and the shop's writes go on.
ALTER TYPE t19.order_status RENAME TO shop_status;
ALTER TYPE t19.shop_status RENAME VALUE 'pending' TO 'awaiting_payment';
CREATE SCHEMA t19_types;
ALTER TYPE t19.shop_status SET SCHEMA t19_types;
ALTER SCHEMA t19_types RENAME TO t19_enums;
SELECT filter FROM crm_grade.source WHERE tbl = 't19.orders'::regclass;
INSERT INTO t19.orders (cust, amount, status, ordered_at) VALUES (1908, 120000, 'awaiting_payment', '2026-06-13 10:00+00');
:grades;
SELECT * FROM crm_grade.verify();

-- detach, remove the carts and attach again without a filter: every row counts again
SELECT crm_grade.detach('t19.orders');
DELETE FROM t19.orders WHERE amount IS NULL;
SELECT crm_grade.attach_orders('t19.orders', 'cust', 'amount', 'ordered_at');
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t19.orders');
DROP SCHEMA t19 CASCADE;
DROP SCHEMA t19_enums CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
