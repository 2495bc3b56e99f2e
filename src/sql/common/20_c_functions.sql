--
-- C functions.  (This file and the others in src/sql/common are shared by
-- the install script and the upgrade scripts: every object is created with
-- CREATE OR REPLACE, or dropped first.)
--

-- The moment "now" means for every computation: crm_grade.as_of, or the
-- start of the current statement.
CREATE OR REPLACE FUNCTION @extschema@.as_of() RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_as_of' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.as_of() IS 'the moment crm_grade treats as now: setting crm_grade.as_of, or the start of the current statement';

-- The validated value of crm_grade.timezone.
CREATE OR REPLACE FUNCTION @extschema@._timezone() RETURNS text
	AS 'MODULE_PATHNAME', 'crm_grade_timezone' LANGUAGE C STABLE PARALLEL SAFE;

-- Start (exclusive) of the 12-month window ending at the given moment,
-- with the month arithmetic done in crm_grade.timezone.
CREATE OR REPLACE FUNCTION @extschema@._window_start(timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_window_start' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- year * 12 + month - 1 of a moment in crm_grade.timezone.
CREATE OR REPLACE FUNCTION @extschema@._month_index(timestamptz) RETURNS integer
	AS 'MODULE_PATHNAME', 'crm_grade_month_index' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- An owner as crm_grade keeps it (at most 1,000 bytes: the owner is indexed).
CREATE OR REPLACE FUNCTION @extschema@._owner_text(text) RETURNS text
	AS 'MODULE_PATHNAME', 'crm_grade_owner_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The longest customer key crm_grade grades, in bytes (CRM_KEY_MAX_BYTES:
-- an index entry holds no longer key).  verify() and _check_rows() leave
-- out or refuse the rows the triggers refuse for it.
CREATE OR REPLACE FUNCTION @extschema@._key_max_bytes() RETURNS integer
	AS 'MODULE_PATHNAME', 'crm_grade_key_max_bytes' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Is a time column's value (a date or local time read in crm_grade.timezone)
-- a moment crm_grade grades: from 4712 BC to 89999 AD, UTC (CrmTimeInRange:
-- every moment derived from it stays within timestamptz's range)?  The
-- triggers refuse a row for one that is not, as for an infinite time.
CREATE OR REPLACE FUNCTION @extschema@._time_in_range(timestamptz) RETURNS boolean
	AS 'MODULE_PATHNAME', 'crm_grade_time_in_range' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@._time_in_range(timestamp) RETURNS boolean
	AS 'MODULE_PATHNAME', 'crm_grade_local_time_in_range' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@._time_in_range(date) RETURNS boolean
	AS 'MODULE_PATHNAME', 'crm_grade_local_date_in_range' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- Validate a policy definition; raises an error naming the JSON path.
CREATE OR REPLACE FUNCTION @extschema@.check_policy(definition jsonb, name text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_check_policy' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.check_policy(jsonb, text) IS 'raises an error naming the bad field if the definition is not a valid policy';

-- The trigger crm_grade places on attached tables (and their partitions);
-- its one argument is the kind of source.  Executable by PUBLIC (see
-- 70_security.sql: the owner of an attached partitioned table needs it to
-- add partitions), and it refuses any table that is not attached as that
-- kind and any trigger that is not the one crm_grade placed for the event.
CREATE OR REPLACE FUNCTION @extschema@.source_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_source_trigger' LANGUAGE C;

-- Check the columns given for each role of a kind of source; returns the
-- customer key's base type.
CREATE OR REPLACE FUNCTION @extschema@._check_columns(tbl regclass, kind text, columns jsonb) RETURNS regtype
	AS 'MODULE_PATHNAME', 'crm_grade_check_columns' LANGUAGE C STRICT;

-- A row filter checked against a table (NULL stays NULL), as PostgreSQL writes it.
CREATE OR REPLACE FUNCTION @extschema@._check_filter(tbl regclass, filter text) RETURNS text
	AS 'MODULE_PATHNAME', 'crm_grade_check_filter' LANGUAGE C STRICT;

-- Does an attached table's filter admit r, a row of it?  The checked
-- expression evaluated in C, for SQL that reads the table (see filter.c).
CREATE OR REPLACE FUNCTION @extschema@._filter_admits(tbl regclass, filter text, r record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'crm_grade_filter_admits' LANGUAGE C STABLE STRICT;

-- Raise an error whose whole context is one line, "crm_grade: ", the
-- operation and what the caught error's context said crm_grade was doing:
-- how PL/pgSQL functions re-raise what their generated SQL raised, without
-- that SQL (RAISE would keep it, and add a line).
CREATE OR REPLACE FUNCTION @extschema@._raise(sqlstate text, message text, detail text, hint text,
											 operation text, caught_context text)
	RETURNS void AS 'MODULE_PATHNAME', 'crm_grade_raise' LANGUAGE C VOLATILE;

-- Place (again) crm_grade's triggers on a table and its partitions; remove them.
CREATE OR REPLACE FUNCTION @extschema@._place_triggers(tbl regclass, kind text) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_place_triggers' LANGUAGE C STRICT;
CREATE OR REPLACE FUNCTION @extschema@._remove_triggers(tbl regclass) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_remove_triggers' LANGUAGE C STRICT;

-- _check_rows()'s count of a table's bad rows: analysed as the caller, then
-- planned and run as the table's owner, whose code planning may run (an
-- index's predicate or expressions); only for a caller who owns the table
-- (or a superuser), and for crm_grade checking a new partition itself.
CREATE OR REPLACE FUNCTION @extschema@._count_as_owner(tbl regclass, query text) RETURNS bigint[]
	AS 'MODULE_PATHNAME', 'crm_grade_count_as_owner' LANGUAGE C STRICT;
-- The rows verify() reads of an attached table (_verify_source_sql()),
-- planned and read as the table's owner: verify() run by a superuser never
-- plans a query over an application table with a superuser's rights.
CREATE OR REPLACE FUNCTION @extschema@._rows_as_owner(tbl regclass) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'crm_grade_rows_as_owner' LANGUAGE C STRICT;
-- The open deals of an attached opportunity table (_stalled_source_sql()),
-- read as its owner for a caller who may read the table (with the caller's
-- rights when its row-level security applies to the caller).
CREATE OR REPLACE FUNCTION @extschema@._stalled_rows(tbl regclass) RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'crm_grade_stalled_rows' LANGUAGE C STRICT;

-- attach_*() and detach(): the table and its partitions (in the mode of
-- 'create' or 'drop' of a trigger), and the views when they will be
-- replaced (a table with a key of add_type attached, or this one detached),
-- locked together with the re-grade's locks before anything else, never
-- waiting for one while holding the other (see ddl.c).
CREATE OR REPLACE FUNCTION @extschema@._lock_before_attach(tbl regclass, mode text, add_type regtype) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_lock_before_attach' LANGUAGE C;

-- Re-evaluate every customer from the attached tables, logging each change
-- with the given event; returns customers evaluated and grades changed.
CREATE OR REPLACE FUNCTION @extschema@._refresh_all(event text, OUT evaluated bigint, OUT changed bigint)
	AS 'MODULE_PATHNAME', 'crm_grade_refresh_all' LANGUAGE C STRICT;

CREATE OR REPLACE FUNCTION @extschema@.regrade(max_customers int DEFAULT NULL) RETURNS bigint
	AS 'MODULE_PATHNAME', 'crm_grade_regrade' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.regrade(int) IS 're-evaluate customers whose valid_until has passed; schedule it with pg_cron';

CREATE OR REPLACE FUNCTION @extschema@.regrade_all() RETURNS bigint
	AS 'MODULE_PATHNAME', 'crm_grade_regrade_all' LANGUAGE C;
COMMENT ON FUNCTION @extschema@.regrade_all() IS 're-evaluate every customer from the attached tables';

-- Policies analysts can check: why a customer has its grade, what a
-- candidate policy would do, and the C scorer on its own (for tests).
CREATE OR REPLACE FUNCTION @extschema@.explain(customer anyelement) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'crm_grade_explain' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.explain(anyelement) IS 'why this customer has its grade, stage, risk and follow-up time: its metrics, the rule, points or R/F/M that gave the grade, evaluated at graded_at with the active policy';
CREATE OR REPLACE FUNCTION @extschema@.simulate(definition jsonb)
	RETURNS TABLE (from_grade text, to_grade text, customers bigint, amount_12m numeric)
	AS 'MODULE_PATHNAME', 'crm_grade_simulate' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.simulate(jsonb) IS 'what a candidate policy would do, without applying it: customers and amount_12m moving from each current grade to each of its grades';
CREATE OR REPLACE FUNCTION @extschema@._score(definition jsonb, metrics jsonb) RETURNS numeric
	AS 'MODULE_PATHNAME', 'crm_grade_score_of' LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION @extschema@._score(jsonb, jsonb) IS 'the score a score policy gives to metrics given as a jsonb object (attr.NAME keys for attributes)';

-- Statement trigger on crm_grade's own configuration tables: tell every
-- backend to reload what it cached of them.
CREATE OR REPLACE FUNCTION @extschema@._invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_policy_invalidate' LANGUAGE C;
DROP TRIGGER IF EXISTS policy_invalidate ON @extschema@.policy;
CREATE TRIGGER policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
DROP TRIGGER IF EXISTS active_policy_invalidate ON @extschema@.active_policy;
CREATE TRIGGER active_policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.active_policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
DROP TRIGGER IF EXISTS population_invalidate ON @extschema@.population;
CREATE TRIGGER population_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.population
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
DROP TRIGGER IF EXISTS source_invalidate ON @extschema@.source;
CREATE TRIGGER source_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.source
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();

-- BEFORE INSERT OR UPDATE OR DELETE on crm_grade.policy: validate, and keep
-- presets and the active policy in place.
CREATE OR REPLACE FUNCTION @extschema@._policy_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	active text := coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc');
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.builtin THEN
		RAISE EXCEPTION 'policy "%" is a preset and cannot be changed or deleted', OLD.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('Copy it under a new name: INSERT INTO crm_grade.policy (name, definition) SELECT ''my_%s'', definition FROM crm_grade.policy WHERE name = %L;', OLD.name, OLD.name);
	END IF;
	IF TG_OP = 'DELETE' THEN
		IF OLD.name = active THEN
			RAISE EXCEPTION 'policy "%" is the active policy and cannot be deleted', OLD.name
				USING ERRCODE = 'object_in_use',
					  HINT = 'Make another policy active first with crm_grade.use_policy().';
		END IF;
		RETURN OLD;
	END IF;
	IF NEW.builtin THEN
		RAISE EXCEPTION 'only crm_grade itself ships preset policies'
			USING ERRCODE = 'insufficient_privilege', HINT = 'Leave the builtin column false.';
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.name <> OLD.name AND OLD.name = active THEN
		RAISE EXCEPTION 'policy "%" is the active policy and cannot be renamed', OLD.name
			USING ERRCODE = 'object_in_use',
				  HINT = 'Make another policy active first with crm_grade.use_policy().';
	END IF;
	PERFORM @extschema@.check_policy(NEW.definition, NEW.name);
	RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS policy_check ON @extschema@.policy;
CREATE TRIGGER policy_check BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._policy_trigger();

-- Event triggers that follow the application's migrations (see src/ddl.c).
CREATE OR REPLACE FUNCTION @extschema@._on_sql_drop() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'crm_grade_on_sql_drop' LANGUAGE C;
CREATE OR REPLACE FUNCTION @extschema@._on_ddl_end() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'crm_grade_on_ddl_end' LANGUAGE C;
CREATE OR REPLACE FUNCTION @extschema@._on_ddl_start() RETURNS event_trigger
	AS 'MODULE_PATHNAME', 'crm_grade_on_ddl_start' LANGUAGE C;
DROP EVENT TRIGGER IF EXISTS crm_grade_sql_drop;
CREATE EVENT TRIGGER crm_grade_sql_drop ON sql_drop EXECUTE FUNCTION @extschema@._on_sql_drop();
DROP EVENT TRIGGER IF EXISTS crm_grade_ddl_end;
CREATE EVENT TRIGGER crm_grade_ddl_end ON ddl_command_end
	WHEN TAG IN ('CREATE TABLE', 'CREATE FOREIGN TABLE', 'ALTER TABLE', 'ALTER FOREIGN TABLE', 'ALTER TYPE',
				 'ALTER SCHEMA', 'ALTER EXTENSION')
	EXECUTE FUNCTION @extschema@._on_ddl_end();
DROP EVENT TRIGGER IF EXISTS crm_grade_ddl_start;
CREATE EVENT TRIGGER crm_grade_ddl_start ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'ALTER TABLE', 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'ALTER TYPE', 'ALTER SCHEMA',
				 'DROP TRIGGER', 'ALTER TRIGGER', 'CREATE TRIGGER', 'ALTER EXTENSION')
	EXECUTE FUNCTION @extschema@._on_ddl_start();
-- DDL in a session_replication_role = replica session (a migration run
-- with foreign keys off, say) must be followed too
ALTER EVENT TRIGGER crm_grade_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER crm_grade_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER crm_grade_ddl_start ENABLE ALWAYS;
