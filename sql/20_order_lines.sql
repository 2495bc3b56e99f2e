--
-- 20_order_lines: a table of order lines attached with order_id_column.
-- Lines sharing (customer, order id) are one order: amounts add up, its
-- time is the earliest line's, it counts once, it is paid when its last
-- line is, and lines summing below zero are a refund.  Exact under inserts,
-- updates and deletes of single lines; verify() groups them on its own.
-- Also: payment days between a time and a date column are calendar days in
-- crm_grade.timezone, and attach warns when a timestamp or date column is
-- read in another zone than the session's.
--
-- Policy abc: A amount_12m >= 500000, B >= 100000, C the rest.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set lines 'SELECT customer, grade, orders_total, orders_12m, amount_12m, avg_order_value_12m, first_order_at, avg_payment_days FROM crm_grade.customer_grades ORDER BY customer'

CREATE SCHEMA t20;
CREATE TABLE t20.order_lines (
	order_no text,
	line int,
	cust int NOT NULL,
	amount numeric NOT NULL,
	ordered_at timestamptz NOT NULL,
	paid_at timestamptz,
	UNIQUE (order_no, line)
);
CREATE INDEX ON t20.order_lines (cust);
-- five lines of one 100,000 order: one order of 100,000, not five of 20,000
INSERT INTO t20.order_lines VALUES
	('A1', 1, 2001, 20000, '2026-06-01 10:00+00', '2026-06-03 10:00+00'),
	('A1', 2, 2001, 20000, '2026-06-01 11:00+00', '2026-06-04 10:00+00'),
	('A1', 3, 2001, 20000, '2026-06-01 09:00+00', NULL),
	('A1', 4, 2001, 20000, '2026-06-01 12:00+00', NULL),
	('A1', 5, 2001, 20000, '2026-06-01 12:00+00', NULL),
	('B1', 1, 2002, 300, '2026-05-01 10:00+00', '2026-05-02 10:00+00');
SELECT crm_grade.attach_orders('t20.order_lines', 'cust', 'amount', 'ordered_at', 'paid_at',
							   order_id_column => 'order_no');
:lines;

-- a second order, then a refund order whose lines sum below zero
INSERT INTO t20.order_lines VALUES ('A2', 1, 2001, 450000, '2026-06-02 10:00+00', NULL);
INSERT INTO t20.order_lines VALUES ('R1', 1, 2001, -500, '2026-06-05 10:00+00', NULL),
								   ('R1', 2, 2001, 200, '2026-06-05 10:00+00', NULL);
-- a line added to an order already counted, dated earlier: the order's time moves
INSERT INTO t20.order_lines VALUES ('A1', 6, 2001, 5, '2026-05-30 10:00+00', NULL);
:lines;
-- every line of A1 paid: the order is paid when its last line was
UPDATE t20.order_lines SET paid_at = '2026-06-06 10:00+00' WHERE order_no = 'A1';
-- a line moves to another order of another customer
UPDATE t20.order_lines SET order_no = 'B1', line = 2, cust = 2002 WHERE order_no = 'A2';
-- a refund line deleted: R1 becomes an order of 200
DELETE FROM t20.order_lines WHERE order_no = 'R1' AND line = 1;
:lines;
-- a line dated in the future counts when its time comes
INSERT INTO t20.order_lines VALUES ('C1', 1, 2003, 1000, '2026-06-20 10:00+00', NULL);
SELECT customer, grade, orders_total, valid_until FROM crm_grade.customer_grades WHERE customer = 2003;
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2026-06-21 12:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, grade, orders_total FROM crm_grade.customer_grades WHERE customer = 2003;
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2026-06-15 12:00:00+00';

-- a line without an order id is a graded fact without one: refused
INSERT INTO t20.order_lines VALUES (NULL, 1, 2001, 5, '2026-06-01 10:00+00', NULL);
-- an order id of a type crm_grade cannot read
CREATE TABLE t20.bad_lines (order_ref jsonb, cust int, amount numeric, ordered_at timestamptz);
SELECT crm_grade.attach_orders('t20.bad_lines', 'cust', 'amount', 'ordered_at', order_id_column => 'order_ref');
SELECT crm_grade.detach('t20.order_lines');

-- Payment days: a payment date against an order time counts calendar days
-- (paid the day of the order: 0, not -1), in crm_grade.timezone.
CREATE TABLE t20.orders (cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL, paid_on date);
CREATE INDEX ON t20.orders (cust);
INSERT INTO t20.orders VALUES
	(2011, 100, '2026-06-01 14:00+00', '2026-06-01'),	-- same day: 0
	(2012, 100, '2026-06-01 14:00+00', '2026-06-04'),	-- 3 calendar days
	(2013, 100, '2026-06-01 23:30+00', '2026-06-02');	-- in Berlin (below) the same day
SELECT crm_grade.attach_orders('t20.orders', 'cust', 'amount', 'ordered_at', 'paid_on');
SELECT customer, avg_payment_days FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t20.orders');

-- attach warns when it reads a date or timestamp column in another zone
-- than this session's; the same zone under another name does not warn
SET crm_grade.timezone = 'Europe/Berlin';
SET TimeZone = 'Europe/Berlin';
SELECT crm_grade.attach_orders('t20.orders', 'cust', 'amount', 'ordered_at', 'paid_on');
SELECT customer, avg_payment_days FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t20.orders');
SET TimeZone = 'UTC';
SELECT crm_grade.attach_orders('t20.orders', 'cust', 'amount', 'ordered_at', 'paid_on');
SELECT crm_grade.detach('t20.orders');
SET crm_grade.timezone = 'Etc/UTC';
SELECT crm_grade.attach_orders('t20.orders', 'cust', 'amount', 'ordered_at', 'paid_on');
SET crm_grade.timezone = 'UTC';

-- cleanup
SELECT crm_grade.detach('t20.orders');
DROP SCHEMA t20 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
