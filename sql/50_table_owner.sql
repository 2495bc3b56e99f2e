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

-- stalled_opportunities, read by a superuser, reads the deals as their table's owner too (0.11
-- read them as the view's reader: the owner's predicate ran with a superuser's rights, found by
-- review); a reader whom the table's row-level security restricts sees its own deals alone, and a
-- reader without SELECT on the deals gets 42501
SET ROLE regress_t50_app;
CREATE TABLE t50.deals (id int, customer_id int NOT NULL, stage text NOT NULL, amount numeric,
						moved_at timestamptz NOT NULL, open boolean NOT NULL, rep name NOT NULL DEFAULT current_user);
INSERT INTO t50.deals VALUES (1, 1, 'proposal', 500, '2026-05-01', true, 'regress_t50_rep'),
							 (2, 2, 'lead', 50, '2026-05-02', true, 'someone_else');
CREATE INDEX ON t50.deals (customer_id);
RESET ROLE;
SELECT crm_grade.attach_opportunities('t50.deals', 'customer_id', 'stage', 'amount', 'moved_at', 'open') AS graded;
SET ROLE regress_t50_app;
CREATE INDEX t50_deals_trap ON t50.deals (amount) WHERE t50.pred();
ALTER TABLE t50.deals ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_deals ON t50.deals USING (rep = current_user);
RESET ROLE;
TRUNCATE t50.seen;
\c
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SELECT customer, stage, amount, days_in_stage FROM crm_grade.stalled_opportunities ORDER BY 1;
SELECT DISTINCT who, super FROM t50.seen ORDER BY 1;
SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'regress_t50_app';
-- (a reader whom row-level security restricts plans the read itself, as any query of its own)
DROP INDEX t50.t50_deals_trap;
CREATE ROLE regress_t50_rep;
GRANT USAGE ON SCHEMA crm_grade, t50 TO regress_t50_rep;
GRANT SELECT ON crm_grade.stalled_opportunities, crm_grade.source TO regress_t50_rep;
GRANT EXECUTE ON FUNCTION crm_grade._stalled_opportunities() TO regress_t50_rep;
SET ROLE regress_t50_rep;
SELECT customer, stage FROM crm_grade.stalled_opportunities ORDER BY 1;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
GRANT SELECT ON t50.deals TO regress_t50_rep;
SET ROLE regress_t50_rep;
SELECT customer, stage FROM crm_grade.stalled_opportunities ORDER BY 1;
RESET ROLE;
-- _stalled_rows() is PUBLIC: called straight, with an operator of the caller's first on its
-- search_path, it reads with crm_grade's names alone (0.12's first build parsed the query with
-- the caller's search_path, then ran it as the table's owner: found by review)
ALTER TABLE t50.deals DISABLE ROW LEVEL SECURITY;
CREATE SCHEMA t50_rep AUTHORIZATION regress_t50_rep;
SET ROLE regress_t50_rep;
CREATE TABLE t50_rep.loot (who name);
CREATE FUNCTION t50_rep.le(int, int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO t50_rep.loot VALUES (current_user);
	RETURN $1 OPERATOR(pg_catalog.<=) $2;
END $$;
CREATE OPERATOR t50_rep.<= (LEFTARG = int, RIGHTARG = int, FUNCTION = t50_rep.le);
GRANT USAGE ON SCHEMA t50_rep TO PUBLIC;
GRANT INSERT ON t50_rep.loot TO PUBLIC;
SET search_path = t50_rep, pg_catalog;
SELECT r.c, r.stage FROM crm_grade._stalled_rows('t50.deals')
	AS r(c text, stage text, amount numeric, stage_changed_at timestamptz, source regclass) ORDER BY 1;
RESET search_path;
SELECT count(*) AS operator_calls FROM t50_rep.loot;
RESET ROLE;
DROP SCHEMA t50_rep CASCADE;
SELECT crm_grade.detach('t50.deals');
DROP TABLE t50.deals;
REVOKE ALL ON crm_grade.stalled_opportunities, crm_grade.source FROM regress_t50_rep;
REVOKE ALL ON FUNCTION crm_grade._stalled_opportunities() FROM regress_t50_rep;
REVOKE ALL ON SCHEMA crm_grade, t50 FROM regress_t50_rep;
DROP ROLE regress_t50_rep;

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
-- nor replace one with a function of its own (0.11 let CREATE OR REPLACE TRIGGER through, and
-- TRIGGER privilege is all it takes), nor tie one to an extension whose DROP would take it
CREATE FUNCTION t50.nothing_new() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER crm_grade_insert AFTER INSERT ON t50.orders
	REFERENCING NEW TABLE AS crm_grade_new FOR EACH STATEMENT EXECUTE FUNCTION t50.nothing_new();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
CREATE OR REPLACE TRIGGER crm_grade_replica AFTER INSERT ON t50.parts_us
	FOR EACH ROW EXECUTE FUNCTION t50.nothing_new();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TRIGGER crm_grade_update ON t50.orders DEPENDS ON EXTENSION plpgsql;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TRIGGER crm_grade_update ON t50.orders NO DEPENDS ON EXTENSION plpgsql;
RESET ROLE;
CREATE ROLE regress_t50_trigger;
GRANT USAGE ON SCHEMA t50 TO regress_t50_trigger;
GRANT TRIGGER ON t50.orders TO regress_t50_trigger;
GRANT EXECUTE ON FUNCTION t50.nothing_new() TO regress_t50_trigger;
SET ROLE regress_t50_trigger;
CREATE OR REPLACE TRIGGER crm_grade_delete AFTER DELETE ON t50.orders
	REFERENCING OLD TABLE AS crm_grade_old FOR EACH STATEMENT EXECUTE FUNCTION t50.nothing_new();
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT t.tgname, p.proname FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
 WHERE t.tgrelid = 't50.orders'::regclass AND t.tgname IN ('crm_grade_insert', 'crm_grade_delete') ORDER BY 1;
REVOKE ALL ON t50.orders FROM regress_t50_trigger;
REVOKE ALL ON SCHEMA t50 FROM regress_t50_trigger;
REVOKE ALL ON FUNCTION t50.nothing_new() FROM regress_t50_trigger;
DROP ROLE regress_t50_trigger;
SET ROLE regress_t50_app;
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
