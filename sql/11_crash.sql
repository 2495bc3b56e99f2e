--
-- 11_crash: what crashed crm_grade 0.1's backend (and restarted the whole
-- cluster) or stored garbage is an ERROR naming table and column, and
-- crm_grade's state stays as it was:
--
--   a. attached columns changed to types crm_grade cannot read while its
--      ddl_command_end event trigger is disabled: every write, and every
--      re-evaluation, is refused (42804); changed back, nothing was lost
--   b. the same ALTERs with the event trigger enabled: refused at the ALTER
--   c. crm_grade.source_trigger() in triggers crm_grade did not make (no
--      transition tables, BEFORE, a row trigger that is not for
--      replication): refused when they fire
--   d. crm_grade's trigger and event trigger functions called directly
--   e. a text amount (0.1 summed 57-digit garbage) is refused at attach
--
-- Run as the superuser: the point is that nothing crashes.  (That the
-- server never restarted during the suite is checked once, at its end.)
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_total FROM crm_grade.customer_grades ORDER BY customer'
-- everything crm_grade stores, as one string, to compare before and after
\set state_sql '(SELECT coalesce(string_agg(s::text, '' | '' ORDER BY s.customer), '''') || '' / history '' || (SELECT coalesce(max(h.id), 0) FROM crm_grade.history h) || '' / sources '' || (SELECT string_agg(x::text, '' | '' ORDER BY x.tbl::text) FROM crm_grade.source x) FROM crm_grade.customer_state s)'
\set columns 'SELECT attrelid::regclass AS tbl, attname, atttypid::regtype FROM pg_attribute WHERE attrelid IN (''t11.orders''::regclass, ''t11.customers''::regclass) AND attnum > 0 AND NOT attisdropped ORDER BY 1, attnum'

CREATE SCHEMA t11;
CREATE TABLE t11.orders (
	id			int4 PRIMARY KEY,
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX ON t11.orders (customer_id);
INSERT INTO t11.orders VALUES
	(1, 1101, 400000, '2025-03-01 00:00+00', '2025-03-11 00:00+00'),
	(2, 1101, 200000, '2025-04-01 00:00+00', NULL),
	(3, 1102, 150000, '2025-04-01 00:00+00', '2025-04-02 00:00+00'),
	(4, 1103, 1000, '2025-05-01 00:00+00', NULL);
CREATE TABLE t11.customers (id int4 PRIMARY KEY, rep text, created_at timestamptz, attrs jsonb);
INSERT INTO t11.customers VALUES
	(1101, 'ann', '2024-01-01 00:00+00', '{"expansion": 80}'),
	(1104, 'cy', '2025-01-01 00:00+00', NULL);
CREATE TYPE t11.rep AS (name text);
-- 1101 A, 1102 B, 1103 C, 1104 C (prospect)
SELECT crm_grade.attach_orders('t11.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_customers('t11.customers', 'id', 'rep', 'created_at', 'attrs');
:grades;

--------------------------------------------------------------------------
-- a. the event trigger that checks ALTERs is disabled: the types change,
-- and every trigger call and every read checks them again
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:01:00+00';
SELECT :state_sql AS state_before \gset
ALTER EVENT TRIGGER crm_grade_ddl_end DISABLE;

-- the amount becomes money (0.1: one INSERT crashed the backend)
ALTER TABLE t11.orders ALTER COLUMN amount TYPE money USING amount::money;
INSERT INTO t11.orders VALUES (10, 1103, 5, '2025-06-01 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t11.orders SET amount = amount + 1::money WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM t11.orders WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
TRUNCATE t11.orders;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- the row trigger of logical replication's apply checks them too
SET session_replication_role = replica;
INSERT INTO t11.orders VALUES (10, 1103, 5, '2025-06-01 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t11.orders SET amount = amount + 1::money WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET session_replication_role;
-- and every re-evaluation reads them
SELECT crm_grade.regrade_all();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.use_policy('four_class');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.verify();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.detach('t11.customers');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN amount TYPE numeric USING amount::numeric;

-- the amount becomes text (0.1 stored a 57-digit garbage sum)
ALTER TABLE t11.orders ALTER COLUMN amount TYPE text;
INSERT INTO t11.orders VALUES (10, 1103, '123456789012345678901234567890123456789012345678901234567', '2025-06-01 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO t11.orders VALUES (10, 1103, 'lots', '2025-06-01 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t11.orders SET amount = amount || '000' WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM t11.orders WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.regrade_all();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN amount TYPE numeric USING amount::numeric;

-- the order time becomes bigint, seconds since 1970 (0.1 read them as
-- microseconds since 2000)
ALTER TABLE t11.orders ALTER COLUMN ordered_at TYPE bigint USING extract(epoch FROM ordered_at)::bigint;
INSERT INTO t11.orders VALUES (10, 1103, 5, 1748736000, NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE t11.orders SET ordered_at = ordered_at + 1 WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM t11.orders WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.verify();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN ordered_at TYPE timestamptz USING to_timestamp(ordered_at);

-- the payment time becomes text
ALTER TABLE t11.orders ALTER COLUMN paid_at TYPE text;
INSERT INTO t11.orders VALUES (10, 1103, 5, '2025-06-01 00:00+00', 'yesterday');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN paid_at TYPE timestamptz USING paid_at::timestamptz;

-- the customer master's creation time, attributes and owner
ALTER TABLE t11.customers ALTER COLUMN created_at TYPE text;
INSERT INTO t11.customers VALUES (1105, 'dee', 'last year', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;
ALTER TABLE t11.customers ALTER COLUMN attrs TYPE text;
UPDATE t11.customers SET attrs = '{"expansion": 90}' WHERE id = 1101;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN attrs TYPE jsonb USING attrs::jsonb;
ALTER TABLE t11.customers ALTER COLUMN rep TYPE t11.rep USING ROW(rep)::t11.rep;
DELETE FROM t11.customers WHERE id = 1104;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.regrade_all();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN rep TYPE text USING (rep).name;

-- the order table's key becomes text while the customer master's stays
-- integer: a key of another family would be garbage in the integer-keyed
-- views (every reader of customer_grades would fail).  Only the SQLSTATE
-- is pinned here; the message must name the table and the column.
ALTER TABLE t11.orders ALTER COLUMN customer_id TYPE text;
DO $$
BEGIN
	INSERT INTO t11.orders VALUES (10, 'abc', 5, '2025-06-01 00:00+00', NULL);
	RAISE EXCEPTION 'the INSERT of customer "abc" was accepted';
EXCEPTION WHEN datatype_mismatch THEN
	RAISE NOTICE 'refused with SQLSTATE %, naming the table: %, and the column: %',
		SQLSTATE, SQLERRM LIKE '%t11.orders%', SQLERRM LIKE '%customer_id%';
END $$;
DO $$
BEGIN
	DELETE FROM t11.orders WHERE id = 4;
	RAISE EXCEPTION 'the DELETE was accepted';
EXCEPTION WHEN datatype_mismatch THEN
	RAISE NOTICE 'refused with SQLSTATE %, naming the table: %, and the column: %',
		SQLSTATE, SQLERRM LIKE '%t11.orders%', SQLERRM LIKE '%customer_id%';
END $$;
ALTER TABLE t11.orders ALTER COLUMN customer_id TYPE int4 USING customer_id::int4;

-- back to the attached types: nothing was written, nothing was lost
:columns;
SELECT :state_sql = :'state_before' AS state_unchanged;
SELECT count(*) AS orders FROM t11.orders;
SELECT * FROM crm_grade.verify();
ALTER EVENT TRIGGER crm_grade_ddl_end ENABLE ALWAYS;
SELECT evtname, evtevent, evtenabled FROM pg_event_trigger WHERE evtname = 'crm_grade_ddl_end';
-- and grading goes on: 12:02 1103 C -> B
SET crm_grade.as_of = '2025-06-15 12:02:00+00';
INSERT INTO t11.orders VALUES (10, 1103, 100000, '2025-06-01 00:00+00', NULL);
:grades;
SELECT * FROM crm_grade.verify();

--------------------------------------------------------------------------
-- b. with the event trigger enabled, the same ALTERs are refused at once
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:03:00+00';
SELECT :state_sql AS state_before \gset
ALTER TABLE t11.orders ALTER COLUMN amount TYPE money USING amount::money;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN amount TYPE text;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN ordered_at TYPE bigint USING extract(epoch FROM ordered_at)::bigint;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.orders ALTER COLUMN paid_at TYPE text;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN created_at TYPE text;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN attrs TYPE text;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t11.customers ALTER COLUMN rep TYPE t11.rep USING ROW(rep)::t11.rep;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a key of another family than the other attached table's
ALTER TABLE t11.orders ALTER COLUMN customer_id TYPE text;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- several subcommands in one statement: the bad one refuses them all
ALTER TABLE t11.orders ADD COLUMN note text, ALTER COLUMN amount TYPE money USING amount::money;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
:columns;
SELECT :state_sql = :'state_before' AS state_unchanged;

--------------------------------------------------------------------------
-- c. triggers calling crm_grade.source_trigger('orders') on the attached
-- table that crm_grade did not make, without the transition tables it
-- reads: refused when they fire, nothing written
--------------------------------------------------------------------------
SET crm_grade.as_of = '2025-06-15 12:04:00+00';
SELECT :state_sql AS state_before \gset
CREATE TRIGGER no_tables AFTER INSERT ON t11.orders
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
INSERT INTO t11.orders VALUES (11, 1103, 5, '2025-06-02 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER no_tables ON t11.orders;
CREATE TRIGGER new_table_only AFTER UPDATE ON t11.orders REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
UPDATE t11.orders SET amount = amount + 1 WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER new_table_only ON t11.orders;
CREATE TRIGGER no_old_table AFTER DELETE ON t11.orders
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
DELETE FROM t11.orders WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER no_old_table ON t11.orders;
CREATE TRIGGER before_row BEFORE INSERT ON t11.orders
	FOR EACH ROW EXECUTE FUNCTION crm_grade.source_trigger('orders');
INSERT INTO t11.orders VALUES (11, 1103, 5, '2025-06-02 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER before_row ON t11.orders;
CREATE TRIGGER before_statement BEFORE DELETE ON t11.orders
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
DELETE FROM t11.orders WHERE id = 4;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER before_statement ON t11.orders;
CREATE TRIGGER before_truncate BEFORE TRUNCATE ON t11.orders
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
TRUNCATE t11.orders;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER before_truncate ON t11.orders;
CREATE VIEW t11.orders_view AS SELECT * FROM t11.orders;
CREATE TRIGGER instead_of INSTEAD OF INSERT ON t11.orders_view
	FOR EACH ROW EXECUTE FUNCTION crm_grade.source_trigger('orders');
INSERT INTO t11.orders_view VALUES (11, 1103, 5, '2025-06-02 00:00+00', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP VIEW t11.orders_view;
-- a row trigger that fires outside replication (its only use is
-- crm_grade_replica, ENABLE REPLICA): refused as a trigger crm_grade did
-- not make (39P01 or 55000; only that it is refused is pinned here)
CREATE TRIGGER origin_row AFTER INSERT OR UPDATE OR DELETE ON t11.orders
	FOR EACH ROW EXECUTE FUNCTION crm_grade.source_trigger('orders');
DO $$
BEGIN
	INSERT INTO t11.orders VALUES (11, 1103, 5, '2025-06-02 00:00+00', NULL);
	RAISE EXCEPTION 'the INSERT was accepted';
EXCEPTION WHEN trigger_protocol_violated OR object_not_in_prerequisite_state THEN
	RAISE NOTICE 'INSERT refused';
END $$;
DO $$
BEGIN
	UPDATE t11.orders SET amount = amount + 1 WHERE id = 4;
	RAISE EXCEPTION 'the UPDATE was accepted';
EXCEPTION WHEN trigger_protocol_violated OR object_not_in_prerequisite_state THEN
	RAISE NOTICE 'UPDATE refused';
END $$;
DO $$
BEGIN
	DELETE FROM t11.orders WHERE id = 4;
	RAISE EXCEPTION 'the DELETE was accepted';
EXCEPTION WHEN trigger_protocol_violated OR object_not_in_prerequisite_state THEN
	RAISE NOTICE 'DELETE refused';
END $$;
DROP TRIGGER origin_row ON t11.orders;
SELECT :state_sql = :'state_before' AS state_unchanged;
SELECT count(*) AS orders FROM t11.orders;
SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = 't11.orders'::regclass ORDER BY 1;

--------------------------------------------------------------------------
-- d. crm_grade's trigger and event trigger functions called directly
--------------------------------------------------------------------------
SELECT crm_grade.source_trigger();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.source_trigger();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._invalidate();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- (PostgreSQL itself refuses to show an event_trigger value; the handlers
-- return without doing anything when not called by an event)
SELECT crm_grade._on_sql_drop();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._on_ddl_end();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._on_ddl_start();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._on_sql_drop() IS NULL AS is_null, crm_grade._on_ddl_end() IS NULL AS is_null,
	   crm_grade._on_ddl_start() IS NULL AS is_null;
SELECT :state_sql = :'state_before' AS state_unchanged;

--------------------------------------------------------------------------
-- e. columns of types crm_grade cannot read are refused at attach
--------------------------------------------------------------------------
CREATE DOMAIN t11.amount_text AS text;
CREATE TABLE t11.odd_orders (
	customer_id	int4 NOT NULL,
	amount_text	text NOT NULL,
	amount_vc	varchar(60) NOT NULL,
	amount_dom	t11.amount_text NOT NULL,
	amount_money money NOT NULL,
	amount_num	numeric NOT NULL,
	key_num		numeric NOT NULL,
	key_text	text NOT NULL,
	at_epoch	bigint NOT NULL,
	at_text		text NOT NULL,
	at_ts		timestamptz NOT NULL
);
CREATE INDEX ON t11.odd_orders (customer_id);
INSERT INTO t11.odd_orders VALUES (1101, '123456789012345678901234567890123456789012345678901234567',
	'123456789012345678901234567890123456789012345678901234567',
	'123456789012345678901234567890123456789012345678901234567', 5, 5,
	123456789012345678901234567890123456789012345678901234567,
	'123456789012345678901234567890123456789012345678901234567',
	1748736000, '2025-06-01', '2025-06-01 00:00+00');
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_text', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_vc', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_dom', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_money', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'key_num', 'amount_num', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_num', 'at_epoch');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_num', 'at_text');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.attach_orders('t11.odd_orders', 'customer_id', 'amount_num', 'at_ts', 'at_text');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a text key is a key (of another family than the attached integer keys)
SELECT crm_grade.attach_orders('t11.odd_orders', 'key_text', 'amount_num', 'at_ts');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT tbl FROM crm_grade.source ORDER BY tbl::text;
SELECT :state_sql = :'state_before' AS state_unchanged;
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t11.orders');
SELECT crm_grade.detach('t11.customers');
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SET client_min_messages = warning;
DROP SCHEMA t11 CASCADE;
RESET client_min_messages;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS event_triggers_not_enabled FROM pg_event_trigger
 WHERE evtname LIKE 'crm\_grade\_%' AND evtenabled <> 'A';
