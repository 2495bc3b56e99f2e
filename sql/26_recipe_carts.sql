--
-- 26_recipe_carts: README recipe "Carts in the orders table".  The shop
-- creates a cart as an order row with no amount and no time, fills it,
-- and checks it out by setting a status; abandoned carts are deleted by
-- a nightly job.  With filter => status, crm_grade never refuses a cart
-- (INSERT, COPY with carts among orders), counts an order from its
-- checkout on, and ignores abandoned carts.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_12m FROM crm_grade.customer_grades WHERE customer BETWEEN 2601 AND 2699 ORDER BY customer'

CREATE SCHEMA carts;
CREATE TABLE carts.orders (
	id serial PRIMARY KEY,
	customer_id int NOT NULL,
	status text NOT NULL DEFAULT 'cart' CHECK (status IN ('cart', 'placed', 'paid', 'shipped', 'cancelled')),
	total numeric(12,2),
	placed_at timestamptz,
	paid_at timestamptz
);
CREATE INDEX ON carts.orders (customer_id);

-- The recipe.
SELECT crm_grade.attach_orders('carts.orders', 'customer_id', 'total', 'placed_at', 'paid_at',
							   filter => $$status IN ('placed', 'paid', 'shipped')$$);

-- The shop's writes: carts come and go without crm_grade having a say.
INSERT INTO carts.orders (customer_id) VALUES (2601), (2602), (2603);
UPDATE carts.orders SET total = 120000 WHERE customer_id = 2601;
COPY carts.orders (customer_id, status, total, placed_at, paid_at) FROM stdin;
2604	cart	\N	\N	\N
2604	paid	550000	2026-06-01 10:00:00+00	2026-06-02 10:00:00+00
2605	cart	99	\N	\N
\.
:grades;
-- checkout: the cart becomes an order
UPDATE carts.orders SET status = 'placed', placed_at = '2026-06-10 10:00+00' WHERE customer_id = 2601;
UPDATE carts.orders SET status = 'paid', paid_at = '2026-06-12 10:00+00' WHERE customer_id = 2601;
-- a checkout without a total is an order crm_grade cannot grade: refused, the cart stays a cart
UPDATE carts.orders SET status = 'placed', placed_at = '2026-06-10 11:00+00' WHERE customer_id = 2602;
-- cancelled after checkout: no longer counted
UPDATE carts.orders SET status = 'cancelled' WHERE customer_id = 2604 AND status = 'paid';
-- the nightly job deletes abandoned carts
DELETE FROM carts.orders WHERE status = 'cart';
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('carts.orders');
DROP SCHEMA carts CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
