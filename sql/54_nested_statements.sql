--
-- 54_nested_statements: an application's AFTER ROW trigger that changes
-- the rows its statement just wrote (a fraud check cancelling an order, a
-- purge deleting a customer's orders).  The nested statement is graded
-- first; the outer statement's own rows are then stale, and its customers
-- are read again from the table.  0.11 graded a new customer (or one the
-- nested statement left without rows) from the outer statement's rows, as
-- if nothing had changed them: the cancelled and deleted orders counted
-- (found by a generated workload).
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE SCHEMA t54;
CREATE TABLE t54.orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric NOT NULL,
						 ordered_at timestamptz NOT NULL, status text NOT NULL DEFAULT 'paid');
CREATE INDEX ON t54.orders (customer_id);
SELECT crm_grade.attach_orders('t54.orders', 'customer_id', 'amount', 'ordered_at',
							   filter => $$status <> 'cancelled'$$) AS graded;
CREATE FUNCTION t54.check_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.amount > 1000000 THEN
		UPDATE t54.orders SET status = 'cancelled' WHERE id = NEW.id;
	ELSIF NEW.amount = 13 THEN
		DELETE FROM t54.orders WHERE id = NEW.id;
	ELSIF NEW.status = 'close' THEN
		DELETE FROM t54.orders WHERE customer_id = NEW.customer_id;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER check_order AFTER INSERT ON t54.orders FOR EACH ROW EXECUTE FUNCTION t54.check_order();
INSERT INTO t54.orders VALUES (1, 1, 100, '2026-06-01');
INSERT INTO t54.orders VALUES (2, 1, 5000000, '2026-06-02');	-- an existing customer's order cancelled
INSERT INTO t54.orders VALUES (3, 2, 5000000, '2026-06-02');	-- a new customer's order cancelled
INSERT INTO t54.orders VALUES (4, 3, 13, '2026-06-02');			-- a new customer's order deleted
INSERT INTO t54.orders VALUES (5, 4, 600000, '2026-06-01');
INSERT INTO t54.orders VALUES (6, 4, 5, '2026-06-02', 'close');	-- an existing customer's orders all deleted
-- several rows in one statement, and COPY, whose rows are graded when it ends
INSERT INTO t54.orders VALUES (7, 5, 200, '2026-06-03'), (8, 5, 5000000, '2026-06-03'), (9, 6, 13, '2026-06-03');
COPY t54.orders (id, customer_id, amount, ordered_at) FROM stdin;
10	7	5000000	2026-06-04
11	8	13	2026-06-04
12	9	300	2026-06-04
\.
SELECT id, customer_id, amount, status FROM t54.orders ORDER BY id;
SELECT customer, total_amount, orders_total, grade FROM crm_grade.customer_state
 WHERE customer IN ('1', '2', '3', '4', '5', '6', '7', '8', '9') ORDER BY 1;
SELECT * FROM crm_grade.verify();
-- in one transaction, with statements before and after
BEGIN;
INSERT INTO t54.orders VALUES (13, 10, 100, '2026-06-05');
INSERT INTO t54.orders VALUES (14, 10, 5000000, '2026-06-05');
DELETE FROM t54.orders WHERE id = 13;
INSERT INTO t54.orders VALUES (15, 11, 13, '2026-06-05');
COMMIT;
SELECT customer, total_amount, orders_total FROM crm_grade.customer_state WHERE customer IN ('10', '11') ORDER BY 1;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t54.orders');
DROP SCHEMA t54 CASCADE;
