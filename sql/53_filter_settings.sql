--
-- 53_filter_settings: which rows a filter admits never depends on the
-- session of whoever runs a statement.  crm_grade stores a filter as
-- PostgreSQL writes it and parses that text again in every session that
-- writes, re-grades or checks; 0.11 wrote it with the session's DateStyle,
-- IntervalStyle, extra_float_digits and standard_conforming_strings, and
-- any role's ALTER TYPE ... RENAME (even of its own temporary type)
-- rewrote every filter with its own settings, holding a lock on every
-- filtered table until its transaction ended: an order cut-off of
-- 4 March read as 3 April, or a time zone abbreviation that made every
-- write to the table fail (found by review).  Now the text is written and
-- read with fixed formats, and only a filter that names the renamed enum
-- type or schema is written again, by a role that may rename it.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE ROLE regress_t53_mallory;
CREATE ROLE regress_t53_writer;
CREATE SCHEMA t53;
CREATE TYPE t53.state AS ENUM ('cart', 'paid');
CREATE TABLE t53.orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
						 state t53.state NOT NULL, ratio float8 NOT NULL DEFAULT 0.1, note text NOT NULL DEFAULT '');
CREATE INDEX ON t53.orders (customer_id);
GRANT USAGE ON SCHEMA t53 TO regress_t53_writer;
GRANT INSERT, SELECT ON t53.orders TO regress_t53_writer;
INSERT INTO t53.orders VALUES (1, 10, 500, '2024-03-20 12:00+00', 'paid', 0.1, ''), (2, 11, 700, '2024-03-10 12:00+00', 'paid', 0.1, ''),
							  (3, 12, 100, '2024-03-20 12:00+00', 'paid', 0.30000000000000004, ''),
							  (4, 13, 100, '2024-03-20 12:00+00', 'paid', 0.1, 'a\b');
-- attached from a session with other formats: the text is written in fixed ones
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -15;
SET standard_conforming_strings = off;
SET TimeZone = 'Africa/Harare';
SELECT crm_grade.attach_orders('t53.orders', 'customer_id', 'amount', 'ordered_at', filter =>
	$$ordered_at >= '04/03/2024' AND ordered_at - '2024-03-04'::timestamptz < '20 days 3 hours'::interval
	  AND state <> 'cart' AND ratio <> 0.30000000000000004 AND note <> E'a\\b'$$) AS graded;
RESET DateStyle; RESET IntervalStyle; RESET extra_float_digits; RESET standard_conforming_strings; RESET TimeZone;
SELECT filter FROM crm_grade.source WHERE tbl = 't53.orders'::regclass;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state WHERE customer IN ('10', '11', '12', '13') ORDER BY 1;

-- a role with no right at all renames a type of its own under other settings: no filter is
-- written again, and no attached table is locked by its transaction
SELECT 't53.orders'::regclass::oid AS orders_oid \gset
SET ROLE regress_t53_mallory;
SET DateStyle = 'SQL, MDY';
SET TimeZone = 'Africa/Harare';
BEGIN;
CREATE TYPE pg_temp.e AS ENUM ('a');
ALTER TYPE pg_temp.e RENAME TO e2;
SELECT count(*) AS locks_on_orders FROM pg_catalog.pg_locks
 WHERE relation = :orders_oid AND pid = pg_catalog.pg_backend_pid();
COMMIT;
DROP TYPE pg_temp.e2;
RESET ROLE;
SELECT filter FROM crm_grade.source WHERE tbl = 't53.orders'::regclass;

-- writers in sessions of any formats are graded by the same filter
SET ROLE regress_t53_writer;
SET DateStyle = 'SQL, MDY';
SET IntervalStyle = 'sql_standard';
SET standard_conforming_strings = off;
SET TimeZone = 'Pacific/Kiritimati';
INSERT INTO t53.orders (id, customer_id, amount, ordered_at, state)
VALUES (5, 14, 50, '2024-03-05 12:00+00', 'paid'), (6, 15, 60, '2024-03-03 12:00+00', 'paid'),
	   (7, 16, 70, '2024-03-24 12:00+00', 'paid'), (8, 16, 80, '2024-03-24 02:00+00', 'paid');
RESET ROLE;
RESET DateStyle; RESET IntervalStyle; RESET standard_conforming_strings; RESET TimeZone;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state WHERE customer IN ('14', '15', '16') ORDER BY 1;

-- the enum's owner renames it, a label of it and its schema, under other formats: the filter
-- follows, written in the fixed formats again
SET DateStyle = 'SQL, DMY';
SET standard_conforming_strings = off;
ALTER TYPE t53.state RENAME TO order_state;
ALTER TYPE t53.order_state RENAME VALUE 'cart' TO 'basket';
ALTER SCHEMA t53 RENAME TO t53_shop;
RESET DateStyle; RESET standard_conforming_strings;
SELECT filter FROM crm_grade.source WHERE tbl = 't53_shop.orders'::regclass;
SELECT crm_grade.regrade_all() AS regraded;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state
 WHERE customer IN ('10', '11', '12', '13', '14', '15', '16') ORDER BY 1;
SELECT count(*) AS disagreements FROM crm_grade.verify();

-- a cast through text that follows a setting of the session is refused in a new filter: the
-- writer's extra_float_digits decided whether its own row counted (found by review)
SELECT crm_grade.attach_orders('t53_shop.orders', 'customer_id', 'amount', 'ordered_at',
	filter => $$ratio::text <> '0.3'$$);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t53_shop.orders', 'customer_id', 'amount', 'ordered_at',
	filter => $$note::bytea::text <> '\x01'$$);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a schema another role renames whose name is part of a filter's text ("tio" in "ratio") is not
-- the filter's: nothing stashed, nothing locked
CREATE SCHEMA tio AUTHORIZATION regress_t53_mallory;
SELECT format('GRANT CREATE ON DATABASE %I TO regress_t53_mallory', current_database()) \gexec
SELECT 't53_shop.orders'::regclass::oid AS orders_oid \gset
SET ROLE regress_t53_mallory;
BEGIN;
ALTER SCHEMA tio RENAME TO tio2;
SELECT count(*) AS locks_on_orders FROM pg_catalog.pg_locks
 WHERE relation = :orders_oid AND pid = pg_catalog.pg_backend_pid();
COMMIT;
RESET ROLE;
DROP SCHEMA tio2;
SELECT format('REVOKE CREATE ON DATABASE %I FROM regress_t53_mallory', current_database()) \gexec

-- an enum that belongs to an extension moves with ALTER EXTENSION ... SET SCHEMA: the filter
-- follows (0.12's first build left the old name, and every write failed: found by review)
CREATE SCHEMA t53_ext1;
CREATE SCHEMA t53_ext2;
CREATE EXTENSION citext SCHEMA t53_ext1;
ALTER TYPE t53_shop.order_state SET SCHEMA t53_ext1;
ALTER EXTENSION citext ADD TYPE t53_ext1.order_state;
SELECT filter FROM crm_grade.source WHERE tbl = 't53_shop.orders'::regclass;
ALTER EXTENSION citext SET SCHEMA t53_ext2;
SELECT filter FROM crm_grade.source WHERE tbl = 't53_shop.orders'::regclass;
INSERT INTO t53_shop.orders (id, customer_id, amount, ordered_at, state) VALUES (9, 17, 90, '2024-03-10 12:00+00', 'paid');
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state WHERE customer = '17';
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t53_shop.orders');
ALTER EXTENSION citext DROP TYPE t53_ext2.order_state;
DROP EXTENSION citext;
DROP SCHEMA t53_shop, t53_ext1, t53_ext2 CASCADE;
DROP ROLE regress_t53_mallory;
DROP ROLE regress_t53_writer;
