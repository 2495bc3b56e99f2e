--
-- 01_attach: attach_orders and attach_customers on application tables with
-- every supported key, amount and time type; attaching twice; detach.
--
-- T = 2025-06-15 12:00 UTC throughout, so the 12-month window is
-- (2024-06-15 12:00 UTC, 2025-06-15 12:00 UTC].  Preset policy abc:
-- A: amount_12m >= 500000, B: >= 100000, C: the rest.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

--------------------------------------------------------------------------
-- integer (int4) keys, integer amounts, timestamptz order times
--------------------------------------------------------------------------
CREATE SCHEMA t01_int;
CREATE TABLE t01_int.customers (id int4 PRIMARY KEY, name text NOT NULL);
INSERT INTO t01_int.customers VALUES (1, 'Acme'), (2, 'Bolt'), (3, 'Crane'), (4, 'Dyna');
CREATE TABLE t01_int.orders (
	id			serial PRIMARY KEY,
	customer_id	int4 NOT NULL,
	amount		integer NOT NULL,
	ordered_at	timestamptz NOT NULL
);
INSERT INTO t01_int.orders (customer_id, amount, ordered_at) VALUES
	(1, 900000, '2024-01-01 00:00+00'),		-- before the window: total only
	(1, 300000, '2025-01-10 10:00+00'),
	(1, 250000, '2025-05-01 10:00+00'),		-- Acme: 550000 in 12 months -> A
	(2, 120000, '2025-03-03 09:00+00'),		-- Bolt: 120000 -> B
	(3, 5000, '2025-06-01 00:00+00');		-- Crane: 5000 -> C

-- the back-fill grades the three customers that have orders
SELECT crm_grade.attach_orders('t01_int.orders', 'customer_id', 'amount', 'ordered_at');

-- the view keeps the application's key type, so it joins without casts
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
SELECT c.id, c.name, g.grade, g.amount_12m, g.orders_12m, g.total_amount, g.orders_total
  FROM t01_int.customers c
  JOIN crm_grade.customer_grades g ON g.customer = c.id
 ORDER BY c.id;
SELECT customer, old_grade, new_grade, reason
  FROM crm_grade.grade_history ORDER BY customer;

-- the pinned columns of SPEC section 3, in their order
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
 WHERE a.attrelid = 'crm_grade.customer_grades'::regclass AND a.attnum > 0
   AND a.attname IN ('customer', 'grade', 'score', 'lifecycle', 'risk', 'owner', 'amount_12m',
					 'orders_12m', 'total_amount', 'orders_total', 'first_order_at', 'last_order_at',
					 'last_contact_at', 'next_follow_up_at', 'follow_up_overdue', 'policy', 'graded_at')
 ORDER BY a.attnum;
SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
 WHERE a.attrelid = 'crm_grade.grade_history'::regclass AND a.attnum > 0
   AND a.attname IN ('customer', 'changed_at', 'old_grade', 'new_grade', 'old_lifecycle',
					 'new_lifecycle', 'old_risk', 'new_risk', 'reason')
 ORDER BY a.attnum;

SELECT count(*) AS n_triggers FROM pg_trigger
 WHERE tgrelid = 't01_int.orders'::regclass AND NOT tgisinternal \gset
SELECT :n_triggers > 0 AS has_triggers;

-- attaching again is harmless: same result, no second set of triggers,
-- no history (nothing changed)
SELECT crm_grade.attach_orders('t01_int.orders', 'customer_id', 'amount', 'ordered_at');
SELECT count(*) = :n_triggers AS same_triggers FROM pg_trigger
 WHERE tgrelid = 't01_int.orders'::regclass AND NOT tgisinternal;
SELECT customer, grade, amount_12m, orders_12m, total_amount, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT count(*) AS history_rows FROM crm_grade.grade_history;

-- the triggers work: Crane's second order lifts it to A (5000 + 600000)
INSERT INTO t01_int.orders (customer_id, amount, ordered_at) VALUES (3, 600000, '2025-06-10 08:00+00');
SELECT customer, grade, amount_12m, orders_12m FROM crm_grade.customer_grades WHERE customer = 3;

-- a second order table with numeric amounts
CREATE TABLE t01_int.shop_orders (
	customer_id	int4 NOT NULL,
	total		numeric(12, 2) NOT NULL,
	placed_at	timestamptz NOT NULL
);
INSERT INTO t01_int.shop_orders VALUES
	(3, 99.50, '2025-02-01 00:00+00'),
	(4, 150000.00, '2025-04-01 00:00+00');	-- Dyna only orders here -> B
SELECT crm_grade.attach_orders('t01_int.shop_orders', 'customer_id', 'total', 'placed_at');
SELECT customer, grade, amount_12m, orders_12m, total_amount, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- detach: the triggers go, the table's contribution leaves every customer,
-- the other source stays
SELECT crm_grade.detach('t01_int.shop_orders');
SELECT count(*) AS shop_triggers FROM pg_trigger
 WHERE tgrelid = 't01_int.shop_orders'::regclass AND NOT tgisinternal;
SELECT count(*) = :n_triggers AS orders_triggers_kept FROM pg_trigger
 WHERE tgrelid = 't01_int.orders'::regclass AND NOT tgisinternal;
SELECT customer, grade, amount_12m, orders_12m, total_amount, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
-- rows written to a detached table are not graded
INSERT INTO t01_int.shop_orders VALUES (4, 900000, '2025-06-01 00:00+00');
SELECT count(*) AS dyna FROM crm_grade.customer_grades WHERE customer = 4;
SELECT * FROM crm_grade.verify();
-- detaching what is not attached is a notice, not an error
SELECT crm_grade.detach('t01_int.shop_orders');
SELECT crm_grade.detach('t01_int.customers');

SELECT crm_grade.detach('t01_int.orders');
SELECT count(*) AS customers_left FROM crm_grade.customer_grades;
DROP SCHEMA t01_int CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;

--------------------------------------------------------------------------
-- bigint keys, double precision amounts, timestamp (without time zone)
-- order times, read as local time in crm_grade.timezone
--------------------------------------------------------------------------
SET crm_grade.timezone = 'Asia/Shanghai';		-- UTC+8, T is 2025-06-15 20:00 there
CREATE SCHEMA t01_big;
CREATE TABLE t01_big.customers (id int8 PRIMARY KEY, name text NOT NULL);
INSERT INTO t01_big.customers VALUES (9000000001, 'Ember'), (9000000002, 'Flint');
CREATE TABLE t01_big.orders (
	customer_id	int8 NOT NULL,
	amount		double precision NOT NULL,
	ordered_at	timestamp NOT NULL
);
INSERT INTO t01_big.orders VALUES
	(9000000001, 100000.25, '2025-03-01 02:00:00'),	-- = 2025-02-28 18:00 UTC
	(9000000001, 399999.75, '2025-06-15 20:00:00'),	-- = T exactly: counts
	(9000000002, 1000, '2024-06-15 20:00:00'),		-- = T - 12 months: outside the window
	(9000000002, 250.5, '2025-06-15 20:00:01');		-- after T: does not count yet
SELECT crm_grade.attach_orders('t01_big.orders', 'customer_id', 'amount', 'ordered_at');
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
-- Ember: 100000.25 + 399999.75 = 500000.00 -> A (read as UTC, the second
-- order would lie after T and Ember would be B)
SELECT c.name, g.grade, g.amount_12m, g.orders_12m, g.total_amount, g.orders_total,
	   g.first_order_at, g.last_order_at
  FROM t01_big.customers c
  JOIN crm_grade.customer_grades g ON g.customer = c.id
 ORDER BY c.id;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t01_big.orders');
DROP SCHEMA t01_big CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;

--------------------------------------------------------------------------
-- text keys, numeric amounts, date order times (local midnight in
-- crm_grade.timezone)
--------------------------------------------------------------------------
SET crm_grade.timezone = 'America/New_York';	-- UTC-5 in winter, UTC-4 in summer
CREATE SCHEMA t01_text;
CREATE TABLE t01_text.customers (code text PRIMARY KEY, name text NOT NULL);
INSERT INTO t01_text.customers VALUES ('C-001', 'Gale'), ('C-002', 'Haze');
CREATE TABLE t01_text.orders (
	customer_code	text NOT NULL,
	amount			numeric NOT NULL,
	order_date		date NOT NULL
);
INSERT INTO t01_text.orders VALUES
	('C-001', 80000.50, '2025-01-15'),		-- 2025-01-15 05:00 UTC
	('C-001', 19999.50, '2025-06-15'),		-- 2025-06-15 04:00 UTC: before T, counts
	('C-002', 10, '2024-12-31'),
	('C-002', 99999.99, '2025-06-16'),		-- 2025-06-16 04:00 UTC: after T
	('c-001', 1, '2025-02-01');				-- keys are exact: another customer
SELECT crm_grade.attach_orders('t01_text.orders', 'customer_code', 'amount', 'order_date');
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
SELECT customer, grade, amount_12m, orders_12m, total_amount, orders_total, first_order_at, last_order_at
  FROM crm_grade.customer_grades ORDER BY customer COLLATE "C";
SELECT c.name, g.grade FROM t01_text.customers c
  JOIN crm_grade.customer_grades g ON g.customer = c.code
 ORDER BY c.code COLLATE "C";
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t01_text.orders');
DROP SCHEMA t01_text CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SET crm_grade.timezone = 'UTC';

--------------------------------------------------------------------------
-- varchar keys
--------------------------------------------------------------------------
CREATE SCHEMA t01_varchar;
CREATE TABLE t01_varchar.customers (code varchar(12) PRIMARY KEY, name text NOT NULL);
INSERT INTO t01_varchar.customers VALUES ('V-1', 'Iona');
CREATE TABLE t01_varchar.orders (
	customer_code	varchar(12) NOT NULL,
	amount			numeric(12, 2) NOT NULL,
	ordered_at		timestamptz NOT NULL
);
INSERT INTO t01_varchar.orders VALUES ('V-1', 100000, '2025-06-01 00:00+00');
SELECT crm_grade.attach_orders('t01_varchar.orders', 'customer_code', 'amount', 'ordered_at');
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
SELECT c.name, g.grade, g.amount_12m FROM t01_varchar.customers c
  JOIN crm_grade.customer_grades g ON g.customer = c.code;
SELECT crm_grade.detach('t01_varchar.orders');
DROP SCHEMA t01_varchar CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;

--------------------------------------------------------------------------
-- uuid keys, and a customer master with owner, created_at and attributes
--------------------------------------------------------------------------
CREATE SCHEMA t01_uuid;
CREATE TABLE t01_uuid.customers (
	id			uuid PRIMARY KEY,
	name		text NOT NULL,
	sales_rep	text,
	since		timestamptz,
	profile		jsonb
);
INSERT INTO t01_uuid.customers VALUES
	('a0000000-0000-0000-0000-000000000001', 'Jade', 'alice', '2024-01-01 00:00+00', '{"expansion": 80}'),
	('a0000000-0000-0000-0000-000000000002', 'Kite', 'bob', '2025-05-01 00:00+00', NULL),
	('a0000000-0000-0000-0000-000000000003', 'Lark', NULL, NULL, '{}');
CREATE TABLE t01_uuid.orders (
	customer_id	uuid NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
INSERT INTO t01_uuid.orders VALUES
	('a0000000-0000-0000-0000-000000000001', 200000, '2025-04-01 00:00+00', '2025-04-11 00:00+00'),
	('a0000000-0000-0000-0000-000000000004', 700000, '2025-05-01 00:00+00', NULL);	-- not in the master
SELECT crm_grade.attach_orders('t01_uuid.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
-- the back-fill returns every customer: 2 with orders and 2 prospects
SELECT crm_grade.attach_customers('t01_uuid.customers', 'id', 'sales_rep', 'since', 'profile');
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
-- prospects (no orders) get the default grade; the owner comes from the master
SELECT customer, grade, owner, amount_12m, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT c.name, g.grade, g.owner FROM t01_uuid.customers c
  JOIN crm_grade.customer_grades g ON g.customer = c.id
 ORDER BY c.name;
-- changes to the master are followed
INSERT INTO t01_uuid.customers VALUES ('a0000000-0000-0000-0000-000000000005', 'Mako', 'carol', NULL, NULL);
UPDATE t01_uuid.customers SET sales_rep = 'dave' WHERE name = 'Kite';
DELETE FROM t01_uuid.customers WHERE name = 'Lark';
SELECT customer, grade, owner, amount_12m, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- detaching the master removes its prospects and owners; orders stay
SELECT crm_grade.detach('t01_uuid.customers');
SELECT customer, grade, owner, amount_12m, orders_total
  FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t01_uuid.orders');
SELECT count(*) AS customers_left FROM crm_grade.customer_grades;
DROP SCHEMA t01_uuid CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;

--------------------------------------------------------------------------
-- identifiers that need quoting, a smallint key and a domain amount
--------------------------------------------------------------------------
CREATE SCHEMA "T01 Quoted";
CREATE DOMAIN "T01 Quoted"."Money" AS numeric(14, 2) CHECK (VALUE > -1000000000);
CREATE TABLE "T01 Quoted"."Order Lines" (
	"Customer Id"	smallint NOT NULL,
	"Amount €"		"T01 Quoted"."Money" NOT NULL,
	"Ordered At"	timestamptz NOT NULL
);
INSERT INTO "T01 Quoted"."Order Lines" VALUES (7, 123456.78, '2025-05-05 05:05+00');
SELECT crm_grade.attach_orders('"T01 Quoted"."Order Lines"', 'Customer Id', 'Amount €', 'Ordered At');
INSERT INTO "T01 Quoted"."Order Lines" VALUES (7, 400000, '2025-06-01 00:00+00'), (8, 1, '2025-06-01 00:00+00');
SELECT pg_typeof(customer) FROM crm_grade.customer_grades LIMIT 1;
SELECT customer, grade, amount_12m, orders_12m FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('"T01 Quoted"."Order Lines"');

-- cleanup
DROP SCHEMA "T01 Quoted" CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
