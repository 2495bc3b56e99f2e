--
-- 22_recipe_cents: README recipe "Amounts in cents".  A shop stores
-- integer cents; a stored generated column gives crm_grade the amount in
-- currency units, so the presets' thresholds (A >= 500,000) mean what
-- they say.  Attached first on the cents by mistake, then fixed by adding
-- the column and attaching again.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_12m, avg_order_value_12m FROM crm_grade.customer_grades WHERE customer BETWEEN 2201 AND 2299 ORDER BY customer'

CREATE SCHEMA cents;
CREATE TABLE cents.orders (
	id bigserial PRIMARY KEY,
	customer_id bigint NOT NULL,
	total_cents bigint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON cents.orders (customer_id);
INSERT INTO cents.orders (customer_id, total_cents, created_at) VALUES
	(2201, 60000000, '2026-05-01 10:00+00'),	-- 600,000.00
	(2202, 1500000, '2026-05-02 10:00+00'),	-- 15,000.00
	(2202, 1250, '2026-05-03 10:00+00');		-- 12.50

-- The mistake: cents read as currency units make everyone an A.
SELECT crm_grade.attach_orders('cents.orders', 'customer_id', 'total_cents', 'created_at');
:grades;

-- The recipe.
ALTER TABLE cents.orders
	ADD COLUMN total numeric(14,2) GENERATED ALWAYS AS (total_cents / 100.0) STORED;
SELECT crm_grade.attach_orders('cents.orders', 'customer_id', 'total', 'created_at');
:grades;

-- The shop keeps writing cents; crm_grade follows the generated column.
INSERT INTO cents.orders (customer_id, total_cents, created_at) VALUES (2203, 49999999, '2026-06-01 10:00+00');
UPDATE cents.orders SET total_cents = total_cents + 1 WHERE customer_id = 2203;
UPDATE cents.orders SET total_cents = 999 WHERE customer_id = 2201;
COPY cents.orders (customer_id, total_cents, created_at) FROM stdin;
2202	-250	2026-06-02 10:00:00+00
\.
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('cents.orders');
DROP SCHEMA cents CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
