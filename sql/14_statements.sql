--
-- 14_statements: one statement that touches a customer more than once
-- (upserts, MERGE, writable CTEs, two attached tables, an UPDATE moving
-- orders between customers, the application's own triggers writing more
-- orders) is applied exactly once per row; so are several statements of
-- one transaction, with a savepoint rolled back in between.
--
-- Every expected amount and count below is computed by hand from the rows
-- (noted in the comments), and every section ends with verify() empty.
-- Policy abc: A amount_12m >= 500000, B >= 100000, C the rest.
-- T moves a minute per section (2025-06-15 12:MM UTC); the 12-month window
-- holds every order here except the future-dated ones (July/August 2025).
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, total_amount, orders_total, amount_12m, orders_12m FROM crm_grade.customer_grades ORDER BY customer'

CREATE SCHEMA t14;
CREATE TABLE t14.orders (
	id			int4 PRIMARY KEY,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
);
CREATE INDEX ON t14.orders (customer_id);
CREATE TABLE t14.web_orders (
	id			int4 PRIMARY KEY,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
);
CREATE INDEX ON t14.web_orders (customer_id);
INSERT INTO t14.orders VALUES
	(1, 1401, 100000, '2025-05-01 00:00+00'),
	(2, 1401, 50000, '2025-05-10 00:00+00'),
	(3, 1402, 400000, '2025-04-01 00:00+00'),
	(4, 1403, 1000, '2025-06-01 00:00+00'),
	(5, 1403, 200000, '2025-07-01 00:00+00');	-- future-dated: not counted yet
INSERT INTO t14.web_orders VALUES (1, 1402, 20000, '2025-05-05 00:00+00');
SELECT crm_grade.attach_orders('t14.orders', 'customer_id', 'amount', 'ordered_at');
SELECT crm_grade.attach_orders('t14.web_orders', 'customer_id', 'amount', 'ordered_at');
-- 1401: 100000 + 50000 = 150000 (2) B; 1402: 400000 + 20000 = 420000 (2) B;
-- 1403: 1000 (1) C, its 200000 of July not yet
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- INSERT ... ON CONFLICT DO UPDATE: new orders and updated orders of the
-- same customer in one statement (the update trigger and the insert
-- trigger of the statement both see the customer)
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:01:00+00';
INSERT INTO t14.orders AS o (id, customer_id, amount, ordered_at) VALUES
	(10, 1401, 300000, '2025-06-10 00:00+00'),	-- new order of 1401
	(2, 1401, 60000, '2025-05-10 00:00+00'),	-- 1401's order 2: 50000 -> 60000
	(11, 1404, 5000, '2025-06-11 00:00+00'),	-- new customer 1404
	(12, 1404, 6000, '2025-06-12 00:00+00'),	-- and its second new order
	(3, 1404, 400000, '2025-04-01 00:00+00'),	-- order 3 moves from 1402 to 1404
	(4, 1403, 2000, '2025-06-01 00:00+00'),		-- 1403's order 4: 1000 -> 2000
	(13, 1403, 500000, '2025-06-12 00:00+00')	-- new order of 1403 (who has a future order)
ON CONFLICT (id) DO UPDATE SET customer_id = EXCLUDED.customer_id, amount = EXCLUDED.amount;
-- 1401: 100000 + 60000 + 300000 = 460000 (3) B
-- 1402: 20000 (1) B -> C
-- 1403: 2000 + 500000 = 502000 (2) C -> A, July's 200000 still not counted
-- 1404: 5000 + 6000 + 400000 = 411000 (3) B
:grades;
SELECT customer, old_grade, new_grade FROM crm_grade.grade_history
 WHERE changed_at = '2025-06-15 12:01:00+00' ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- the upsert moves the future order into the past and adds a future order
SET crm_grade.as_of = '2025-06-15 12:02:00+00';
INSERT INTO t14.orders (id, customer_id, amount, ordered_at) VALUES
	(5, 1403, 200000, '2025-06-02 00:00+00'),	-- July -> June: counts now
	(14, 1403, 1, '2025-06-13 00:00+00'),		-- new order of 1403
	(15, 1401, 7, '2025-08-01 00:00+00'),		-- new future order of 1401
	(1, 1401, 100001, '2025-05-01 00:00+00')	-- 1401's order 1: 100000 -> 100001
ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount, ordered_at = EXCLUDED.ordered_at;
-- 1401: 100001 + 60000 + 300000 = 460001 (3) B, order 15 not yet
-- 1403: 502000 + 200000 + 1 = 702001 (4) A
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- INSERT ... ON CONFLICT DO NOTHING
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:03:00+00';
INSERT INTO t14.orders VALUES
	(10, 1401, 999999, '2025-06-10 00:00+00'),	-- conflicts: skipped
	(16, 1401, 40000, '2025-06-14 00:00+00'),	-- new
	(17, 1405, 100, '2025-06-14 00:00+00'),		-- new customer
	(17, 1405, 555, '2025-06-14 00:00+00')		-- conflicts with the row above: skipped
ON CONFLICT DO NOTHING;
-- 1401: 460001 + 40000 = 500001 (4) B -> A; 1405: 100 (1) C
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- MERGE ... WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:04:00+00';
MERGE INTO t14.orders o
USING (VALUES (16, 1401, 0, '2025-06-14 00:00+00'::timestamptz),	-- deletes 1401's 40000
			  (18, 1401, 1000, '2025-06-14 00:00+00'),				-- inserts 1000 for 1401
			  (17, 1405, 0, '2025-06-14 00:00+00'),					-- deletes 1405's only order
			  (19, 1405, 250, '2025-06-14 00:00+00'))				-- and inserts another
	AS s (id, customer_id, amount, ordered_at)
ON o.id = s.id
WHEN MATCHED THEN DELETE
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.customer_id, s.amount, s.ordered_at);
-- 1401: 500001 - 40000 + 1000 = 461001 (4) A -> B; 1405: 250 (1) C
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- MERGE with UPDATE (and DELETE and INSERT)
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:05:00+00';
MERGE INTO t14.orders o
USING (VALUES (18, 1401, 39000, '2025-06-14 00:00+00'::timestamptz),	-- 1000 -> 39000
			  (20, 1401, 100000, '2025-06-15 11:00+00'),			-- new
			  (19, 1405, 150000, '2025-06-14 00:00+00'),			-- 250 -> 150000
			  (14, 1403, 0, '2025-06-13 00:00+00'))					-- amount 0: delete
	AS s (id, customer_id, amount, ordered_at)
ON o.id = s.id
WHEN MATCHED AND s.amount = 0 THEN DELETE
WHEN MATCHED THEN UPDATE SET amount = s.amount
WHEN NOT MATCHED THEN INSERT VALUES (s.id, s.customer_id, s.amount, s.ordered_at);
-- 1401: 461001 - 1000 + 39000 + 100000 = 599001 (5) B -> A
-- 1403: 702001 - 1 = 702000 (3) A; 1405: 150000 (1) C -> B
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- WITH d AS (DELETE ... RETURNING ...) INSERT ...
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:06:00+00';
-- 1404's orders 11 and 12 are replaced by orders 111 and 112 of 20 times the amount
WITH d AS (DELETE FROM t14.orders WHERE id IN (11, 12) RETURNING id, customer_id, amount, ordered_at)
INSERT INTO t14.orders SELECT id + 100, customer_id, amount * 20, ordered_at FROM d;
-- 1404: 400000 + 100000 + 120000 = 620000 (3) B -> A
:grades;
SELECT * FROM crm_grade.verify();
-- moved from one attached table to the other in one statement: 1405 keeps 150000 (1) B
WITH d AS (DELETE FROM t14.orders WHERE id = 19 RETURNING id, customer_id, amount, ordered_at)
INSERT INTO t14.web_orders SELECT id, customer_id, amount, ordered_at FROM d;
SELECT customer, grade, total_amount, orders_total FROM crm_grade.customer_grades WHERE customer = 1405;
SELECT (SELECT count(*) FROM t14.orders WHERE customer_id = 1405) AS in_orders,
	   (SELECT count(*) FROM t14.web_orders WHERE customer_id = 1405) AS in_web_orders;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- a writable CTE inserting into both attached tables for the same customer
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:07:00+00';
WITH a AS (
	INSERT INTO t14.orders VALUES (30, 1406, 300000, '2025-06-15 10:00+00'),
								  (31, 1402, 50000, '2025-06-15 10:00+00')
	RETURNING id, customer_id
)
INSERT INTO t14.web_orders
SELECT id, customer_id, CASE customer_id WHEN 1406 THEN 250000 ELSE 40000 END, '2025-06-15 10:30+00' FROM a;
-- 1406 (new): 300000 + 250000 = 550000 (2) A
-- 1402: 20000 + 50000 + 40000 = 110000 (3) C -> B
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- an UPDATE moving orders between customers
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:08:00+00';
-- 1401's orders 10 (300000) and 20 (100000) go to 1402; 1404's order 111
-- (100000) goes to 1401
UPDATE t14.orders SET customer_id = CASE WHEN id = 111 THEN 1401 ELSE 1402 END
 WHERE id IN (10, 20, 111);
-- 1401: 100001 + 60000 + 39000 + 100000 = 299001 (4) A -> B
-- 1402: 110000 + 300000 + 100000 = 510000 (5) B -> A
-- 1404: 400000 + 120000 = 520000 (2) A
:grades;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE changed_at = '2025-06-15 12:08:00+00' ORDER BY customer;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- several statements of one transaction on the same customer, with a
-- savepoint rolled back in between
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:09:00+00';
\set g1407 'SELECT grade, total_amount, orders_total, amount_12m FROM crm_grade.customer_grades WHERE customer = 1407'
BEGIN;
INSERT INTO t14.orders VALUES (40, 1407, 200000, '2025-06-15 11:00+00');
:g1407;	-- 200000 (1) B
UPDATE t14.orders SET amount = 300000 WHERE id = 40;
:g1407;	-- 300000 (1) B
SAVEPOINT s1;
INSERT INTO t14.orders VALUES (41, 1407, 250000, '2025-06-15 11:00+00');
:g1407;	-- 550000 (2) A
UPDATE t14.orders SET amount = 1 WHERE id = 40;
:g1407;	-- 250001 (2) B
ROLLBACK TO SAVEPOINT s1;
:g1407;	-- back to 300000 (1) B
INSERT INTO t14.orders VALUES (42, 1407, 1000, '2025-06-15 11:00+00');
:g1407;	-- 301000 (2) B
-- an upsert after the rollback: order 42 1000 -> 2000, new order 43 of 200000
INSERT INTO t14.orders VALUES (42, 1407, 2000, '2025-06-15 11:00+00'), (43, 1407, 200000, '2025-06-15 11:30+00')
ON CONFLICT (id) DO UPDATE SET amount = EXCLUDED.amount;
:g1407;	-- 300000 + 2000 + 200000 = 502000 (3) A
SELECT * FROM crm_grade.verify();
-- a savepoint that only created the customer, rolled back: 1408 is gone again
SAVEPOINT s2;
INSERT INTO t14.web_orders VALUES (44, 1408, 5, '2025-06-15 11:00+00');
SELECT count(*) AS customer_1408 FROM crm_grade.customer_grades WHERE customer = 1408;
ROLLBACK TO SAVEPOINT s2;
SELECT count(*) AS customer_1408 FROM crm_grade.customer_grades WHERE customer = 1408;
INSERT INTO t14.web_orders VALUES (45, 1407, 3, '2025-06-15 11:45+00');
COMMIT;
:g1407;	-- 502003 (4) A
SELECT count(*) AS customer_1408 FROM crm_grade.customer_grades WHERE customer = 1408;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- the application's own AFTER triggers on the order table insert more
-- orders (nested statements)
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:10:00+00';
-- a row trigger: every order under id 1000 brings a fee of 10 with id + 1000
CREATE FUNCTION t14.add_fee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO t14.orders VALUES (NEW.id + 1000, NEW.customer_id, 10, NEW.ordered_at);
	RETURN NULL;
END $$;
CREATE TRIGGER app_fee AFTER INSERT ON t14.orders
	FOR EACH ROW WHEN (NEW.id < 1000) EXECUTE FUNCTION t14.add_fee();
INSERT INTO t14.orders VALUES
	(50, 1408, 100000, '2025-06-15 11:00+00'),
	(51, 1408, 5000, '2025-06-15 11:00+00'),
	(52, 1401, 1, '2025-06-15 11:00+00');
-- 1408 (new): 100000 + 5000 + 10 + 10 = 105020 (4) B
-- 1401: 299001 + 1 + 10 = 299012 (6) B
:grades;
SELECT * FROM crm_grade.verify();
DROP TRIGGER app_fee ON t14.orders;

-- statement triggers with a transition table, one firing before
-- crm_grade's (aa_...) and one after it (zz_...): fees of 10 (id + 1000)
-- and of 20 (id + 2000)
CREATE FUNCTION t14.add_fees() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows n WHERE n.id < 1000) THEN
		INSERT INTO t14.orders
		SELECT n.id + TG_ARGV[0]::int, n.customer_id, TG_ARGV[1]::numeric, n.ordered_at
		  FROM new_rows n WHERE n.id < 1000;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER aa_app_fee AFTER INSERT ON t14.orders REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION t14.add_fees(1000, 10);
CREATE TRIGGER zz_app_fee AFTER INSERT ON t14.orders REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION t14.add_fees(2000, 20);
INSERT INTO t14.orders VALUES (53, 1409, 100000, '2025-06-15 11:00+00'), (54, 1408, 1, '2025-06-15 11:00+00');
-- 1409 (new): 100000 + 10 + 20 = 100030 (3) B
-- 1408: 105020 + 1 + 10 + 20 = 105051 (7) B
:grades;
SELECT * FROM crm_grade.verify();
DROP TRIGGER aa_app_fee ON t14.orders;
DROP TRIGGER zz_app_fee ON t14.orders;

-- an order trigger that re-prices another order of the customer (a nested
-- UPDATE), and one that tries to add a fee and an audit row inside an
-- exception block (a subtransaction that rolls back); earlier statements
-- of the transaction wrote too
CREATE TABLE t14.audit (k int PRIMARY KEY);
INSERT INTO t14.audit VALUES (1);
CREATE FUNCTION t14.reprice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE t14.orders SET amount = amount + 1 WHERE id = 50;
	RETURN NULL;
END $$;
CREATE FUNCTION t14.try_fee() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	BEGIN
		INSERT INTO t14.orders VALUES (NEW.id + 1000, NEW.customer_id, 10, NEW.ordered_at);
		INSERT INTO t14.audit VALUES (1);	-- duplicate: undoes the fee
	EXCEPTION WHEN unique_violation THEN
		NULL;
	END;
	RETURN NULL;
END $$;
CREATE TRIGGER app_reprice AFTER INSERT ON t14.orders
	FOR EACH ROW WHEN (NEW.id < 1000) EXECUTE FUNCTION t14.reprice();
CREATE TRIGGER app_try_fee AFTER INSERT ON t14.orders
	FOR EACH ROW WHEN (NEW.id < 1000) EXECUTE FUNCTION t14.try_fee();
BEGIN;
INSERT INTO t14.web_orders VALUES (60, 1401, 1, '2025-06-15 11:00+00');
INSERT INTO t14.web_orders VALUES (61, 1401, 1, '2025-06-15 11:00+00');
INSERT INTO t14.web_orders VALUES (62, 1401, 1, '2025-06-15 11:00+00');
INSERT INTO t14.web_orders VALUES (63, 1401, 1, '2025-06-15 11:00+00');
INSERT INTO t14.orders VALUES (55, 1408, 400000, '2025-06-15 11:00+00');
-- 1408: 105051 + 1 (order 50 re-priced) + 400000 = 505052 (8) A, no fee
SELECT customer, grade, total_amount, orders_total FROM crm_grade.customer_grades WHERE customer = 1408;
SELECT sum(amount) AS total_amount, count(*) AS orders_total FROM t14.orders WHERE customer_id = 1408;
SELECT * FROM crm_grade.verify();
COMMIT;
SELECT * FROM crm_grade.verify();
DROP TRIGGER app_reprice ON t14.orders;
DROP TRIGGER app_try_fee ON t14.orders;

-- every order counted once, in the end too: the stored totals are the sums
-- of the rows (future orders aside)
SELECT g.customer, g.total_amount = o.total AS total_ok, g.orders_total = o.n AS count_ok
  FROM crm_grade.customer_grades g
  JOIN (SELECT customer_id, sum(amount) AS total, count(*) AS n
		  FROM (SELECT customer_id, amount, ordered_at FROM t14.orders
				UNION ALL SELECT customer_id, amount, ordered_at FROM t14.web_orders) u
		 WHERE ordered_at <= '2025-06-15 12:10:00+00'
		 GROUP BY customer_id) o ON o.customer_id = g.customer
 ORDER BY g.customer;
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t14.web_orders');
SELECT crm_grade.detach('t14.orders');
DROP SCHEMA t14 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
