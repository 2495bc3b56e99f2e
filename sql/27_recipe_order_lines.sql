--
-- 27_recipe_order_lines: README recipe "Order lines".  A flat sales table
-- (one row per line, each with the customer and the order's time, as ERP
-- exports and many shops keep them) attached with order_id_column: five
-- lines of one 100,000 order are one order of 100,000, and a line
-- returned with a negative quantity lowers the order.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_12m, avg_order_value_12m FROM crm_grade.customer_grades WHERE customer BETWEEN 2701 AND 2799 ORDER BY customer'

CREATE SCHEMA sales;
CREATE TABLE sales.order_lines (
	order_no text NOT NULL,
	line_no int NOT NULL,
	customer_id int NOT NULL,
	product text NOT NULL,
	quantity int NOT NULL,
	unit_price numeric(12,2) NOT NULL,
	line_total numeric(14,2) GENERATED ALWAYS AS (quantity * unit_price) STORED,
	ordered_at timestamptz NOT NULL,
	PRIMARY KEY (order_no, line_no)
);
CREATE INDEX ON sales.order_lines (customer_id);
INSERT INTO sales.order_lines (order_no, line_no, customer_id, product, quantity, unit_price, ordered_at)
SELECT 'SO-1', n, 2701, 'item ' || n, 1, 20000, '2026-05-01 10:00+00' FROM generate_series(1, 5) n;

-- The recipe.
SELECT crm_grade.attach_orders('sales.order_lines', 'customer_id', 'line_total', 'ordered_at',
							   order_id_column => 'order_no');
:grades;

-- A second order, then a line of it returned (quantity -1 on a line of its own).
INSERT INTO sales.order_lines (order_no, line_no, customer_id, product, quantity, unit_price, ordered_at) VALUES
	('SO-2', 1, 2701, 'desk', 2, 3000, '2026-06-01 10:00+00'),
	('SO-2', 2, 2701, 'chair', 4, 500, '2026-06-01 10:00+00');
INSERT INTO sales.order_lines (order_no, line_no, customer_id, product, quantity, unit_price, ordered_at) VALUES
	('SO-2', 3, 2701, 'desk', -1, 3000, '2026-06-05 10:00+00');
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('sales.order_lines');
DROP SCHEMA sales CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
