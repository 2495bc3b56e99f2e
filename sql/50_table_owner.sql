--
-- 50_table_owner: what the owner of an attached table can and cannot do.
--
-- Code an application role defined never runs with the
-- rights of crm_grade's owner or of a superuser, even where PostgreSQL
-- runs it without being asked: the planner folds an index's predicate and
-- expressions, so planning any query over a table can call the table
-- owner's IMMUTABLE functions.  crm_grade counts the bad rows of a table
-- it attaches, or of a partition attached to an attached table, with a
-- query planned and run as the table's owner (_count_as_owner()), and
-- verify() reads every table as its owner (_rows_as_owner()); 0.10
-- planned it as the caller of attach_*() (a superuser) and, for ATTACH
-- PARTITION run by the table's owner, as crm_grade's owner: the owner made
-- itself a superuser with one ALTER TABLE (found by review).
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE ROLE regress_t50_app;
CREATE SCHEMA t50 AUTHORIZATION regress_t50_app;
SET ROLE regress_t50_app;
-- who ran the owner's code, and with what rights
CREATE TABLE t50.seen (who name, super boolean);
CREATE FUNCTION t50.note() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO t50.seen SELECT current_user, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user;
	-- what an attacker would run
	IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
		EXECUTE 'ALTER ROLE regress_t50_app SUPERUSER';
	END IF;
END $$;
CREATE FUNCTION t50.pred() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
	PERFORM t50.note();
	RETURN true;
END $$;
CREATE TABLE t50.orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t50.orders VALUES (1, 1, 100, '2026-05-01'), (2, 2, 50, '2026-05-02');
CREATE INDEX ON t50.orders (customer_id);
CREATE INDEX t50_orders_trap ON t50.orders (amount) WHERE t50.pred();
CREATE TABLE t50.parts (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
						region text NOT NULL) PARTITION BY LIST (region);
CREATE TABLE t50.parts_eu PARTITION OF t50.parts FOR VALUES IN ('eu');
CREATE INDEX ON t50.parts (customer_id);
INSERT INTO t50.parts VALUES (1, 3, 70, '2026-05-03', 'eu');
RESET ROLE;
-- a new session: the index's predicate is folded (and the owner's code run)
-- when a backend first plans over the table
\c
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET client_min_messages = warning;
SELECT crm_grade.attach_orders('t50.orders', 'customer_id', 'amount', 'ordered_at') AS graded;
SELECT crm_grade.attach_orders('t50.parts', 'customer_id', 'amount', 'ordered_at') AS graded;
RESET client_min_messages;
-- the table's owner attaches a partition with rows and such an index: the
-- rows are checked (by crm_grade's owner, in the event trigger) as the
-- partition's owner
SET ROLE regress_t50_app;
CREATE TABLE t50.parts_us (LIKE t50.parts);
INSERT INTO t50.parts_us VALUES (2, 4, 80, '2026-05-04', 'us');
CREATE INDEX t50_parts_us_trap ON t50.parts_us (amount) WHERE t50.pred();
ALTER TABLE t50.parts ATTACH PARTITION t50.parts_us FOR VALUES IN ('us');
RESET ROLE;
-- verify(), run by a superuser in a new session, reads each table as its owner too
\c
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT DISTINCT who, super FROM t50.seen ORDER BY 1;
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'regress_t50_app';
SELECT customer, total_amount FROM crm_grade.customer_state WHERE customer IN ('1', '2', '3', '4') ORDER BY 1;
-- the count is for a caller who owns the table: no role runs SQL as another through it
CREATE ROLE regress_t50_other;
GRANT USAGE ON SCHEMA crm_grade TO regress_t50_other;
GRANT EXECUTE ON FUNCTION crm_grade._count_as_owner(regclass, text) TO regress_t50_other;
SET ROLE regress_t50_other;
SELECT crm_grade._count_as_owner(c.oid::regclass, 'SELECT ARRAY[1::bigint]')
  FROM pg_catalog.pg_class c WHERE c.relname = 'orders' AND c.relnamespace = 't50'::regnamespace;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON FUNCTION crm_grade._count_as_owner(regclass, text) FROM regress_t50_other;
-- and it runs one plain SELECT, nothing else, whoever calls it (a utility statement would reach the
-- executor without a plan)
SELECT crm_grade._count_as_owner('t50.orders', 'VACUUM t50.orders');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._count_as_owner('t50.orders', 'SELECT ARRAY[1::bigint]; SELECT ARRAY[2::bigint]');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._count_as_owner('t50.orders', 'WITH d AS (DELETE FROM t50.orders RETURNING 1) SELECT ARRAY[count(*)] FROM d');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade._count_as_owner('t50.orders', 'SELECT ARRAY[count(*)] FROM t50.orders');
REVOKE USAGE ON SCHEMA crm_grade FROM regress_t50_other;
DROP ROLE regress_t50_other;

-- The table's owner cannot take crm_grade's triggers off (or rename them) behind its back:
-- grading would stop without a word (0.10 let it); detach() does it
SET ROLE regress_t50_app;
DROP INDEX t50.t50_orders_trap, t50.t50_parts_us_trap;
DROP TRIGGER crm_grade_insert ON t50.orders;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER IF EXISTS crm_grade_replica ON t50.parts;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TRIGGER crm_grade_update ON t50.orders RENAME TO my_update;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DROP TRIGGER crm_grade_delete ON t50.parts_us;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO t50.orders VALUES (3, 1, 5, '2026-06-01');
-- a trigger of its own with such a name, on a table crm_grade does not grade, is its own business
CREATE TABLE t50.notes (id int);
CREATE FUNCTION t50.nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER crm_grade_insert AFTER INSERT ON t50.notes FOR EACH STATEMENT EXECUTE FUNCTION t50.nothing();
ALTER TRIGGER crm_grade_insert ON t50.notes RENAME TO crm_grade_update;
DROP TRIGGER crm_grade_update ON t50.notes;
RESET ROLE;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t50.orders'), crm_grade.detach('t50.parts');
SELECT count(*) AS crm_grade_triggers_left FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 't50'::regnamespace AND t.tgname LIKE 'crm\_grade\_%';
DROP SCHEMA t50 CASCADE;
DROP ROLE regress_t50_app;
