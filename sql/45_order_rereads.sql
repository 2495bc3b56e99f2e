--
-- 45_order_rereads: when an order that bounds a minimum, a maximum or a
-- month comes out (an UPDATE's old row, a DELETE), its customer's order
-- tables alone are read again; the contact log and the customer master,
-- whose accumulators the stored state holds exactly, are not.  A customer
-- left without an order row (its state may go) or with a row left out (a
-- data issue to keep) is re-read from every table.  Which tables a
-- statement read shows in their indexes' scan counts (t45.run()); verify()
-- must agree every time.
--
-- T = 2026-06-15 12:00 UTC.  Customers 1..7 in the master; orders:
--   1: 10 Jan, 10 Mar, 10 May 2026;  2: one order;  3: two orders;
--   5: one order;  6: two orders;  7: two orders and a row with a NULL
--   amount written while the triggers were disabled (a data issue).
-- Contacts: one or two for each of 1, 2, 3, 5, 6, 7.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
-- every read through an index, so that the scan counts show it
SET enable_seqscan = off;
\set state 'SELECT customer, orders_total, total_amount, first_order_at::date, last_order_at::date, contacts_90d, last_contact_at::date, in_master, grade, data_issues IS NOT NULL AS issues FROM crm_grade.customer_state ORDER BY customer'

CREATE SCHEMA t45;
CREATE TABLE t45.customers (id int PRIMARY KEY, rep text);
CREATE TABLE t45.orders (
	id		int PRIMARY KEY,
	cust	int NOT NULL,
	amount	numeric,
	at		timestamptz NOT NULL
);
CREATE INDEX orders_cust_idx ON t45.orders (cust);
CREATE TABLE t45.calls (
	id		int PRIMARY KEY,
	cust	int NOT NULL,
	at		timestamptz NOT NULL
);
CREATE INDEX calls_cust_idx ON t45.calls (cust);
-- t45.run(statement): run it, and say how many times crm_grade read each
-- table (the scans of the index it reads the table's customers through)
CREATE FUNCTION t45.scans(OUT orders bigint, OUT calls bigint, OUT master bigint) LANGUAGE sql
	AS $$ SELECT pg_stat_get_xact_numscans('t45.orders_cust_idx'::regclass),
				 pg_stat_get_xact_numscans('t45.calls_cust_idx'::regclass),
				 pg_stat_get_xact_numscans('t45.customers_pkey'::regclass) $$;
CREATE FUNCTION t45.run(statement text, OUT orders_reads bigint, OUT calls_reads bigint,
						OUT master_reads bigint) LANGUAGE plpgsql AS $$
DECLARE
	b	record;
	a	record;
BEGIN
	SELECT * INTO b FROM t45.scans();
	EXECUTE statement;
	SELECT * INTO a FROM t45.scans();
	orders_reads := a.orders - b.orders;
	calls_reads := a.calls - b.calls;
	master_reads := a.master - b.master;
END $$;
INSERT INTO t45.customers SELECT g, 'rep' || g FROM generate_series(1, 7) g;
INSERT INTO t45.orders VALUES
	(1, 1, 100, '2026-01-10 10:00+00'), (2, 1, 200, '2026-03-10 10:00+00'), (3, 1, 300, '2026-05-10 10:00+00'),
	(4, 2, 400, '2026-02-10 10:00+00'),
	(5, 3, 500, '2026-02-10 10:00+00'), (6, 3, 600, '2026-04-10 10:00+00'),
	(7, 5, 700, '2026-02-10 10:00+00'),
	(8, 6, 800, '2026-02-10 10:00+00'), (9, 6, 900, '2026-04-10 10:00+00'),
	(10, 7, 1000, '2026-02-10 10:00+00'), (11, 7, 1100, '2026-04-10 10:00+00');
INSERT INTO t45.calls VALUES
	(1, 1, '2026-06-01 10:00+00'), (2, 1, '2026-06-10 10:00+00'), (3, 2, '2026-06-02 10:00+00'),
	(4, 3, '2026-06-03 10:00+00'), (5, 5, '2026-06-05 10:00+00'), (6, 6, '2026-06-06 10:00+00'),
	(7, 7, '2026-06-07 10:00+00');
SELECT crm_grade.attach_customers('t45.customers', 'id', owner_column => 'rep');
SELECT crm_grade.attach_orders('t45.orders', 'cust', 'amount', 'at');
SELECT crm_grade.attach_contacts('t45.calls', 'cust', 'at');
-- customer 7's row the triggers never saw, then the documented repair
ALTER TABLE t45.orders DISABLE TRIGGER ALL;
INSERT INTO t45.orders VALUES (12, 7, NULL, '2026-03-10 10:00+00');
ALTER TABLE t45.orders ENABLE TRIGGER ALL;
SELECT crm_grade.regrade_all();
:state;

-- customer 1's last order out: its order table read again, alone
SELECT * FROM t45.run($$DELETE FROM t45.orders WHERE id = 3$$);
SELECT * FROM crm_grade.verify();

-- an UPDATE that moves customer 1's first order later: the same
SELECT * FROM t45.run($$UPDATE t45.orders SET at = '2026-04-01 10:00+00' WHERE id = 1$$);
SELECT * FROM crm_grade.verify();

-- customer 2's only order out: no order row is left, so every table is
-- read (twice the order table); its state stays, with its contact and
-- master row, and no orders
SELECT * FROM t45.run($$DELETE FROM t45.orders WHERE id = 4$$);
SELECT * FROM crm_grade.verify();

-- customer 7 has a row left out (a data issue): every table is read,
-- and the issue is kept
SELECT * FROM t45.run($$DELETE FROM t45.orders WHERE id = 10$$);
SELECT * FROM crm_grade.verify();

-- one statement for four customers: 3 and 6 read from their order table
-- alone, 5 (its only order) and 7 (its issue) from every table; the
-- customers re-read from every table come from two lists (5 found by the
-- order read, 7 before it), merged in key order
SELECT * FROM t45.run($$DELETE FROM t45.orders WHERE id IN (5, 7, 8, 11)$$);
:state;
SELECT * FROM crm_grade.verify();

-- the contacts and the master still count after those re-reads: a new
-- contact and a new owner extend the states, and verify() agrees
INSERT INTO t45.calls VALUES (8, 3, '2026-06-14 10:00+00');
UPDATE t45.customers SET rep = 'rep-x' WHERE id = 6;
SELECT customer, contacts_90d, last_contact_at::date, owner FROM crm_grade.customer_state
 WHERE customer IN ('3', '6') ORDER BY customer;
SELECT * FROM crm_grade.verify();

SELECT crm_grade.detach('t45.calls');
SELECT crm_grade.detach('t45.orders');
SELECT crm_grade.detach('t45.customers');
DROP SCHEMA t45 CASCADE;
RESET enable_seqscan;
