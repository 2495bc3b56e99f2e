-- crm_grade upgrade 0.10 -> 0.11, assembled by the Makefile: this migration of
-- 0.10's catalog, then every definition of 0.11 (src/sql/common), then
-- src/sql/upgrade/0.10--0.11-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.11'" to load this file. \quit

-- The typed views and followups_due() belong to the attachments, not to
-- the extension; they are built again by the post part, as after an
-- attach_*, so that a chain of updates from an older version ends with
-- them current.
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);

-- _lock_before_attach() takes the new key's type and decides itself,
-- under crm_grade's locks too, whether the views are replaced (0.10: a
-- boolean its caller decided before the locks)
DROP FUNCTION IF EXISTS @extschema@._lock_before_attach(regclass, text, boolean);
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
	WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'ALTER TYPE', 'ALTER SCHEMA')
	EXECUTE FUNCTION @extschema@._on_ddl_end();
DROP EVENT TRIGGER IF EXISTS crm_grade_ddl_start;
CREATE EVENT TRIGGER crm_grade_ddl_start ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'ALTER TABLE', 'DROP TABLE', 'DROP SCHEMA', 'DROP OWNED', 'ALTER TYPE', 'ALTER SCHEMA',
				 'DROP TRIGGER', 'ALTER TRIGGER')
	EXECUTE FUNCTION @extschema@._on_ddl_start();
-- DDL in a session_replication_role = replica session (a migration run
-- with foreign keys off, say) must be followed too
ALTER EVENT TRIGGER crm_grade_sql_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER crm_grade_ddl_end ENABLE ALWAYS;
ALTER EVENT TRIGGER crm_grade_ddl_start ENABLE ALWAYS;
--
-- The business calendar (src/business_hours.c): the moments a follow-up may
-- be scheduled at.
--

-- The first moment at or after due that is on a working day (Monday to
-- Friday, not in crm_grade.holiday) within working hours (09:00-18:00,
-- Monday from 12:00, Friday until 12:00) in crm_grade.timezone.  Not
-- executable by PUBLIC: it reads crm_grade.holiday as crm_grade's owner.
CREATE OR REPLACE FUNCTION @extschema@.next_allowed_moment(due timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_next_allowed_moment' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION @extschema@.next_allowed_moment(timestamptz) IS 'the first moment at or after due on a working day (Monday to Friday, not a holiday) within working hours (09:00-18:00, Monday from 12:00, Friday until 12:00) in crm_grade.timezone';

-- The holidays are cached by every backend that reads them: tell it when
-- they change; and move every follow-up the new calendar moves, at once.
-- Each customer keeps the moment it is due before the calendar applies
-- (follow_up_due), so no attached table is read: the follow-ups whose
-- allowed moment is the same stay as they are, which also makes a restore
-- of crm_grade.holiday (with the states it was computed with) change none.
CREATE OR REPLACE FUNCTION @extschema@._holidays_forget() RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_holidays_forget' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION @extschema@._check_states_unchanged() RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_check_states_unchanged' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION @extschema@._holidays_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM @extschema@._holidays_forget();
	-- as writers lock customers: the table first, then the rows
	LOCK TABLE @extschema@.customer_state IN SHARE ROW EXCLUSIVE MODE;
	-- (in REPEATABLE READ, a customer a writer changed after the snapshot
	-- would be judged by its old row: fail, to be retried, instead)
	PERFORM @extschema@._check_states_unchanged();
	UPDATE @extschema@.customer_state s
	   SET next_follow_up_at = @extschema@.next_allowed_moment(s.follow_up_due)
	 WHERE s.follow_up_due IS NOT NULL
	   AND s.next_follow_up_at IS DISTINCT FROM @extschema@.next_allowed_moment(s.follow_up_due);
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS holiday_reschedule ON @extschema@.holiday;
CREATE TRIGGER holiday_reschedule AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.holiday
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._holidays_changed();
DROP TRIGGER IF EXISTS holiday_invalidate ON @extschema@.holiday;
CREATE TRIGGER holiday_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.holiday
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
--
-- Attaching application tables.  Identifiers are always passed through
-- format('%I') or regclass output, never spliced; the column checks are
-- the C ones every trigger call makes (crm_grade._check_columns).
--

-- The family a key type belongs to: keys of one family compare by their text form.
CREATE OR REPLACE FUNCTION @extschema@._key_family(t regtype) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN t IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN 'integer'
				WHEN t IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
				ELSE t::text END
$$;

-- Check the table itself: a table or partitioned table of the application's,
-- owned by the caller, no inheritance, no partition of an attached table
-- (nor the parent of one), and a key of the same family as the other sources.
CREATE OR REPLACE FUNCTION @extschema@._check_source(tbl regclass, key_type regtype) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	rel record;
	other record;
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'the table to attach must not be NULL'
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass the table as ''schema.table''::regclass.';
	END IF;
	SELECT c.relkind, c.relnamespace, c.relowner, c.relispartition, c.relpersistence INTO rel FROM pg_class c WHERE c.oid = tbl;
	IF rel.relkind NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'relation % is not a table', tbl
			USING ERRCODE = 'wrong_object_type', HINT = 'crm_grade attaches to ordinary and partitioned tables, not views or foreign tables.';
	END IF;
	-- a temporary table goes at the end of its session without any event
	-- trigger firing: crm_grade would keep grading rows that are gone
	IF rel.relpersistence = 't' THEN
		RAISE EXCEPTION 'relation % is a temporary table', tbl
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'A temporary table is dropped at the end of its session without crm_grade being told, and its customers would keep its rows.',
				  HINT = 'Attach a permanent (or unlogged) table.';
	END IF;
	IF rel.relnamespace = '@extschema@'::regnamespace THEN
		RAISE EXCEPTION 'relation % belongs to crm_grade itself', tbl
			USING ERRCODE = 'wrong_object_type', HINT = 'Attach your application''s own tables.';
	END IF;
	IF NOT pg_has_role(current_user, rel.relowner, 'USAGE') THEN
		RAISE EXCEPTION 'must be owner of table % to attach it', tbl
			USING ERRCODE = 'insufficient_privilege',
				  HINT = 'Attaching places triggers on the table; its owner or a superuser attaches it.';
	END IF;
	IF rel.relkind = 'r' AND (EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = tbl)
							  OR (NOT rel.relispartition AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = tbl))) THEN
		RAISE EXCEPTION 'relation % is part of an inheritance hierarchy', tbl
			USING ERRCODE = 'feature_not_supported',
				  HINT = 'crm_grade follows declarative partitioning (PARTITION BY), not table inheritance.';
	END IF;
	SELECT s.tbl INTO other FROM @extschema@.source s
	 WHERE s.tbl <> _check_source.tbl
	   AND (s.tbl IN (SELECT a.relid FROM pg_partition_ancestors(_check_source.tbl) a)
			OR s.tbl IN (SELECT t.relid FROM pg_partition_tree(_check_source.tbl) t));
	IF FOUND THEN
		RAISE EXCEPTION 'relation % and % are in the same partition tree, and % is attached', tbl, other.tbl, other.tbl
			USING ERRCODE = 'object_in_use',
				  DETAIL = 'Attaching both would count every row twice.',
				  HINT = 'Attach the partitioned table only: crm_grade follows every partition of it.';
	END IF;
	SELECT s.tbl, s.key_type INTO other FROM @extschema@.source s
	 WHERE s.tbl <> _check_source.tbl
	   AND @extschema@._key_family(s.key_type) <> @extschema@._key_family(_check_source.key_type) LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'customer key of % has type %, but % is attached with a key of type %', tbl, key_type, other.tbl, other.key_type
			USING ERRCODE = 'datatype_mismatch',
				  HINT = 'All attached tables must identify customers with the same kind of key (integers, text or uuid).';
	END IF;
END $$;

-- The type of a column, through any domains.
CREATE OR REPLACE FUNCTION @extschema@._base_type(tbl regclass, col name) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	typ oid;
BEGIN
	SELECT a.atttypid INTO typ FROM pg_attribute a
	 WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	WHILE (SELECT t.typtype = 'd' FROM pg_type t WHERE t.oid = typ) LOOP
		SELECT t.typbasetype INTO typ FROM pg_type t WHERE t.oid = typ;
	END LOOP;
	RETURN typ::regtype;
END $$;

-- SQL for a label column (owner, outcome, stage) as text, for the SQL that
-- reads an attached table as whoever runs it (verify(), the views).  An
-- enum goes through its output function, never through a cast: a role may
-- create a cast from its own enum to text, and a cast in SQL a superuser
-- runs would run that role's function with the superuser's rights.  Other
-- label types are PostgreSQL's own, whose casts no role can replace.
CREATE OR REPLACE FUNCTION @extschema@._label_sql(tbl regclass, col text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN (SELECT t.typtype FROM pg_type t WHERE t.oid = @extschema@._base_type(tbl, col)) = 'e'
				THEN format('pg_catalog.textin(pg_catalog.enum_out(%I))', col)
				ELSE format('%I::pg_catalog.text', col) END
$$;

-- SQL for "the table's filter admits the row" in a query over tbl AS
-- alias: the checked expression evaluated by _filter_admits(), not the
-- filter's text, which that query would parse again (see filter.c).
CREATE OR REPLACE FUNCTION @extschema@._admits_sql(tbl regclass, filter text, alias text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN filter IS NULL THEN 'true'
				ELSE format('@extschema@._filter_admits(%s::pg_catalog.regclass, %L, %I.*)', tbl::oid, filter, alias) END
$$;

-- Refuse rows that are already there and that the triggers would refuse:
-- NULL keys and required values, keys longer than an index entry holds,
-- NaN or infinite amounts, infinite times and times outside the range
-- crm_grade grades (_time_in_range()), among the rows
-- the filter (checked and written by _check_filter) admits.  Every check
-- is counted in one scan of the table (a scan per check cost more than the
-- back-fill's own read of a large table: make bench-maintenance); the
-- first check in the order below that finds rows is the one reported.
CREATE OR REPLACE FUNCTION @extschema@._check_rows(tbl regclass, kind text, columns jsonb, filter text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	role record;
	typ regtype;
	cond text;
	-- the checks, in order: the column, what it holds, the check ('null',
	-- 'long' or 'finite'), the condition
	cols text[] := '{}';
	whats text[] := '{}';
	checks text[] := '{}';
	conds text[] := '{}';
	counts bigint[];
	rows_where text := CASE WHEN filter IS NOT NULL THEN format('(%s) AND ', filter) ELSE '' END;
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	FOR role IN SELECT * FROM (VALUES
			('orders', 'customer', 'customer key', true), ('orders', 'amount', 'amount', true),
			('orders', 'ordered_at', 'order time', true), ('orders', 'paid_at', 'payment time', false),
			('orders', 'order_id', 'order id', true),
			('customers', 'customer', 'customer key', true), ('customers', 'created_at', 'creation time', false),
			('contacts', 'customer', 'customer key', true), ('contacts', 'contacted_at', 'contact time', true),
			('contacts', 'next_action_at', 'next action time', false),
			('opportunities', 'customer', 'customer key', true),
			('opportunities', 'stage_changed_at', 'stage change time', true),
			('opportunities', 'is_open', 'open flag', true))
			AS r(kind, role, what, required)
		WHERE r.kind = _check_rows.kind AND columns ? r.role LOOP
		-- (a column declared NOT NULL cannot hold one: no need to look)
		IF role.required AND NOT coalesce((SELECT a.attnotnull FROM pg_attribute a
											 WHERE a.attrelid = tbl AND a.attname = columns ->> role.role), false) THEN
			cols := cols || (columns ->> role.role);
			whats := whats || role.what;
			checks := checks || 'null'::text;
			conds := conds || format('%I IS NULL', columns ->> role.role);
		END IF;
		typ := @extschema@._base_type(tbl, columns ->> role.role);
		IF role.role = 'customer' AND typ IN ('text'::regtype, 'character varying'::regtype) THEN
			cols := cols || (columns ->> role.role);
			whats := whats || role.what;
			checks := checks || 'long'::text;
			conds := conds || format('pg_catalog.octet_length(%I::pg_catalog.text) > %s',
									 columns ->> role.role, @extschema@._key_max_bytes());
		END IF;
		-- (a numeric is compared as one: cast to float8, a finite one beyond its range fails)
		cond := CASE
			WHEN typ = 'numeric'::regtype
				THEN format('%1$I::pg_catalog.numeric IN (''NaN'', ''Infinity'', ''-Infinity'')', columns ->> role.role)
			WHEN typ IN ('real'::regtype, 'double precision'::regtype)
				THEN format('%1$I::pg_catalog.float8 IN (''NaN'', ''Infinity'', ''-Infinity'')', columns ->> role.role)
			WHEN typ IN ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype)
				THEN format('NOT (pg_catalog.isfinite(%1$I) AND @extschema@._time_in_range(%1$I))', columns ->> role.role)
			END;
		CONTINUE WHEN cond IS NULL;
		cols := cols || (columns ->> role.role);
		whats := whats || role.what;
		checks := checks || 'finite'::text;
		conds := conds || cond;
	END LOOP;
	IF cardinality(conds) = 0 THEN
		RETURN;
	END IF;
	-- the filter after the condition: it is evaluated on the rows the condition finds only, as
	-- in a scan per check (a filter that fails on some row fails in the back-fill's read); the
	-- filter's checked text, as the back-fill reads it.  Planned and run as the table's owner
	-- (_count_as_owner): planning may run the owner's functions, in an index's predicate or
	-- expressions, which must never run with the rights of crm_grade's owner or a superuser.
	counts := @extschema@._count_as_owner(tbl,
		format('SELECT ARRAY[%s] FROM %s AS crm_grade_row',
			   (SELECT string_agg(format('pg_catalog.count(*) FILTER (WHERE %s AND (%s))', c,
										 coalesce(filter, 'true')),
								  ', ' ORDER BY i)
				  FROM unnest(conds) WITH ORDINALITY AS u(c, i)),
			   tbl));
	FOR i IN 1 .. cardinality(conds) LOOP
		CONTINUE WHEN counts[i] = 0;
		cond := rows_where || conds[i];
		IF checks[i] = 'null' THEN
			RAISE EXCEPTION 'column "%" of relation % holds % NULL value(s)', cols[i], tbl, counts[i]
				USING ERRCODE = 'not_null_violation',
					  DETAIL = 'crm_grade needs the ' || whats[i] || ' of every row'
							   || CASE WHEN filter IS NULL THEN '.' ELSE ' its filter admits.' END,
					  HINT = format('Fix or remove those rows (SELECT * FROM %s WHERE %s), or leave them out with a filter, then attach again.', tbl, cond);
		END IF;
		IF checks[i] = 'long' THEN
			RAISE EXCEPTION 'column "%" of relation % holds % customer key(s) longer than % bytes',
				cols[i], tbl, counts[i], @extschema@._key_max_bytes()
				USING ERRCODE = 'program_limit_exceeded',
					  DETAIL = 'crm_grade keeps every customer''s key in a B-tree index, whose entries hold keys of up to '
							   || @extschema@._key_max_bytes() || ' bytes.',
					  HINT = format('Use a shorter customer key (an id), or leave those rows out with a filter (SELECT * FROM %s WHERE %s), then attach again.', tbl, cond);
		END IF;
		RAISE EXCEPTION 'column "%" of relation % holds % value(s) that are not finite%', cols[i], tbl, counts[i],
			CASE WHEN cond LIKE '%_time_in_range%' THEN ' or out of range' ELSE '' END
			USING ERRCODE = CASE WHEN cond LIKE '%isfinite%' THEN 'datetime_field_overflow' ELSE 'numeric_value_out_of_range' END,
				  DETAIL = 'crm_grade needs a finite ' || whats[i] || ' in every row'
						   || CASE WHEN filter IS NULL THEN '.' ELSE ' its filter admits.' END
						   || CASE WHEN cond LIKE '%_time_in_range%'
								   THEN ' It grades moments from 4712 BC to 89999 AD (UTC; a date or local time as read in crm_grade.timezone).'
								   ELSE '' END,
				  HINT = format('Fix or remove those rows (SELECT * FROM %s WHERE %s), then attach again.', tbl, cond);
	END LOOP;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the table, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, 'checking the rows of ' || tbl::text, ctx);
END $$;

-- Warn when a timestamp or date column is read in crm_grade.timezone while
-- this session (the application's, likely) writes local times in another.
CREATE OR REPLACE FUNCTION @extschema@._warn_time_zone(tbl regclass, columns jsonb) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	col record;
	tz text := @extschema@._timezone();
	session_tz text := current_setting('TimeZone');
BEGIN
	-- the same zone under two names (UTC, Etc/UTC) reads the same wall clock
	IF (SELECT bool_and((x AT TIME ZONE tz) = (x AT TIME ZONE session_tz))
		  FROM unnest(ARRAY[now(), now() + interval '3 months', now() + interval '6 months',
							now() + interval '9 months']) x) THEN
		RETURN;
	END IF;
	FOR col IN SELECT j.value AS name, @extschema@._base_type(tbl, j.value) AS typ
				 FROM jsonb_each_text(columns) j
				WHERE j.key IN ('ordered_at', 'paid_at', 'created_at', 'contacted_at', 'next_action_at',
								'stage_changed_at') LOOP
		CONTINUE WHEN col.typ NOT IN ('timestamp without time zone'::regtype, 'date'::regtype);
		RAISE WARNING 'crm_grade reads column "%" of % (%) as local time in crm_grade.timezone %, but this session''s TimeZone is %',
			col.name, tbl, col.typ, tz, session_tz
			USING DETAIL = 'A row written with localtimestamp or current_date in this session would be placed hours off, and an order made now could count as a future one until regrade().',
				  HINT = format('If the application writes local times in %s, a superuser sets crm_grade.timezone to it (ALTER DATABASE %I SET crm_grade.timezone = %L), then runs crm_grade.regrade_all(); or make the column timestamptz.',
								session_tz, current_database(), session_tz);
	END LOOP;
END $$;

-- A key as its type, or NULL when the stored text is not one.
-- grade_history keeps the keys of tables attached earlier, maybe of another
-- kind (any_kind); the state's keys are always of the attached kind, but
-- may not fit a type the views could not be widened to (a view of the
-- user's depending on them): NULL then, never an error for the reader.
CREATE OR REPLACE FUNCTION @extschema@._key_cast_sql(expr text, keytype regtype, any_kind boolean) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE
		WHEN keytype = 'smallint'::regtype THEN format('CASE WHEN %2$s %1$s::pg_catalog.numeric BETWEEN -32768 AND 32767 THEN %1$s::pg_catalog.int2 END',
			expr, CASE WHEN any_kind THEN format('%s ~ ''^-?[0-9]{1,5}$'' AND', expr) ELSE format('length(%s) <= 4 OR', expr) END)
		WHEN keytype = 'integer'::regtype THEN format('CASE WHEN %2$s %1$s::pg_catalog.numeric BETWEEN -2147483648 AND 2147483647 THEN %1$s::pg_catalog.int4 END',
			expr, CASE WHEN any_kind THEN format('%s ~ ''^-?[0-9]{1,10}$'' AND', expr) ELSE format('length(%s) <= 9 OR', expr) END)
		WHEN keytype = 'bigint'::regtype AND any_kind THEN format('CASE WHEN %1$s ~ ''^-?[0-9]{1,19}$'' AND %1$s::pg_catalog.numeric BETWEEN -9223372036854775808 AND 9223372036854775807 THEN %1$s::pg_catalog.int8 END', expr)
		WHEN keytype = 'uuid'::regtype AND any_kind THEN format('CASE WHEN %1$s ~ ''^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'' THEN %1$s::pg_catalog.uuid END', expr)
		ELSE format('%s::%s', expr, keytype)
	END
$$;

-- The open deals of every attached opportunity table (its filter applied,
-- and without the rows the triggers refuse for an infinite or out-of-range
-- time or an over-long key), read at call time with the caller's rights: behind
-- stalled_opportunities.
CREATE OR REPLACE FUNCTION @extschema@._stalled_opportunities()
	RETURNS TABLE (c text, stage text, amount numeric, stage_changed_at timestamptz, source regclass)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	q text;
BEGIN
	SELECT string_agg(format(
			'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C", %2$s, %3$I::pg_catalog.numeric, %4$s, '
			'%5$L::pg_catalog.regclass FROM %5$s AS crm_grade_row WHERE %6$I AND pg_catalog.isfinite(%4$s) '
			'AND pg_catalog.octet_length(%1$I::pg_catalog.text) <= @extschema@._key_max_bytes() AND %7$s',
			x.columns ->> 'customer', @extschema@._label_sql(x.tbl, x.columns ->> 'stage'), x.columns ->> 'amount',
			@extschema@._verify_time_sql(x.tbl, x.columns ->> 'stage_changed_at'), x.tbl,
			x.columns ->> 'is_open', @extschema@._admits_sql(x.tbl, x.filter, 'crm_grade_row')),
			' UNION ALL ' ORDER BY x.tbl::oid)
	  INTO q FROM @extschema@.source x WHERE x.kind = 'opportunities';
	IF q IS NOT NULL THEN
		RETURN QUERY EXECUTE q;
	END IF;
END $$;

-- The views' key type: the widest of the attached tables' keys (bigint
-- before integer before smallint, text before varchar), with a table of
-- key type add_type attached and the tables dropped detached (each NULL:
-- none), so that every customer fits; NULL with nothing attached.
CREATE OR REPLACE FUNCTION @extschema@._views_key_type(add_type regtype, dropped regclass[]) RETURNS regtype
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT x.t FROM (SELECT s.key_type AS t FROM @extschema@.source s
					  WHERE s.tbl <> ALL (coalesce(dropped, '{}'))
					 UNION ALL SELECT add_type WHERE add_type IS NOT NULL) x
	 ORDER BY array_position('{bigint,integer,smallint,text,"character varying",uuid}'::regtype[], x.t)
	 LIMIT 1
$$;

-- Will attaching a table with a key of add_type (re-attaching one of
-- dropped), or detaching the tables dropped (a DROP: ddl.c), replace the
-- views (_build_views())?
CREATE OR REPLACE FUNCTION @extschema@._views_change(add_type regtype, dropped regclass[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce((SELECT a.atttypid::regtype FROM pg_attribute a
					  WHERE a.attrelid = to_regclass('@extschema@.customer_grades') AND a.attname = 'customer')
					<> @extschema@._views_key_type(add_type, dropped), false)
$$;

-- followups_due()'s as_of: crm_grade.as_of's moment when NULL; an infinite
-- one is refused (every follow-up would be due "infinitely" overdue, or none
-- would: neither is a day's list), and so is one outside the times crm_grade
-- grades, whose local day may end beyond timestamptz's range.
CREATE OR REPLACE FUNCTION @extschema@._followups_as_of(as_of timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF as_of IS NULL THEN
		RETURN @extschema@.as_of();
	END IF;
	IF NOT @extschema@._time_in_range(as_of) THEN
		PERFORM @extschema@._raise('22008',
			format('as_of of followups_due() is %s: %s',
				   CASE WHEN isfinite(as_of) THEN 'outside the times crm_grade grades' ELSE 'not a finite time' END, as_of),
			'crm_grade grades moments from 4712 BC to 89999 AD.',
			'Pass the moment whose day''s list you want, such as now() or ''2026-01-31 12:00+08'', or NULL for crm_grade.as_of''s (the current moment by default).',
			'followups_due()', NULL);
	END IF;
	RETURN as_of;
END $$;

-- Create or replace the views that show customers with the application's
-- key type: the widest of the attached keys (bigint before integer before
-- smallint, text before varchar), so that every customer fits.  They are
-- created here, not by CREATE EXTENSION, so they are not extension members:
-- pg_dump writes them out with their casts, and a restore brings back the
-- same column types.
CREATE OR REPLACE FUNCTION @extschema@._build_views() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	keytype regtype;
	current regtype;
	doc record;
BEGIN
	keytype := @extschema@._views_key_type(NULL, NULL);
	IF keytype IS NULL THEN
		RETURN;
	END IF;
	SELECT a.atttypid::regtype INTO current FROM pg_attribute a
	 WHERE a.attrelid = to_regclass('@extschema@.customer_grades') AND a.attname = 'customer';
	-- nothing to do when they are there with the key type already: a view
	-- replaced is locked ACCESS EXCLUSIVE, which waits for its readers, and a
	-- DROP or detach() that holds crm_grade's locks and an application
	-- table's would deadlock with a reader of the view that goes on to read
	-- that table (their definitions change only with the key type, or with
	-- a new version, whose update drops them first)
	IF current = keytype
	   AND to_regclass('@extschema@.grade_history') IS NOT NULL
	   AND to_regclass('@extschema@.data_issues') IS NOT NULL
	   AND to_regclass('@extschema@.stalled_opportunities') IS NOT NULL
	   AND to_regprocedure('@extschema@.followups_due(timestamptz, text)') IS NOT NULL THEN
		RETURN;
	END IF;
	IF current IS DISTINCT FROM keytype AND current IS NOT NULL THEN
		DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
			@extschema@.stalled_opportunities;
		DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);
	END IF;
	-- the day's work list, keyed like the views (SPEC 8.6): due before the
	-- end of as_of's day in crm_grade.timezone, the best grade first, then
	-- the highest risk, then the longest overdue.  The end of the day is
	-- computed once (an InitPlan), and an owner's list is its own branch,
	-- "owner = $2": a single "($2 IS NULL OR owner = $2)" is planned with
	-- the parameter unknown and cannot use the (owner, next_follow_up_at)
	-- index, so every call read all customers.  Without an owner, the same
	-- index is read owner by owner (a skip scan: the next owner is one
	-- index probe), then for the customers without one, so that no index
	-- on next_follow_up_at alone costs every state write an entry; those
	-- branches run only without an owner.  OFFSET 0 keeps each owner's
	-- scan a scan of the index: flattened into a join, it was planned with
	-- the day's end unknown, as a hash join over every customer.  JIT is
	-- off: its compile time, chosen for the all-customers estimate, exceeds
	-- what any list costs.
	EXECUTE format($v$
		CREATE OR REPLACE FUNCTION @extschema@.followups_due(as_of timestamptz DEFAULT NULL, owner text DEFAULT NULL)
			RETURNS TABLE (customer %1$s, owner text, grade text, lifecycle text, risk text,
						   next_follow_up_at timestamptz, overdue_by interval, last_contact_at timestamptz,
						   last_outcome text, next_action_at timestamptz, amount_12m numeric)
			LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $f$
			WITH RECURSIVE t AS MATERIALIZED (
				SELECT a.at, (pg_catalog.date_trunc('day', a.at AT TIME ZONE a.tz) + interval '1 day') AT TIME ZONE a.tz AS day_end
				  FROM (SELECT @extschema@._followups_as_of(followups_due.as_of) AS at, @extschema@._timezone() AS tz) a),
			owners AS (
				(SELECT s.owner FROM @extschema@.customer_state s
				  WHERE followups_due.owner IS NULL AND s.owner IS NOT NULL ORDER BY s.owner LIMIT 1)
				UNION ALL
				SELECT (SELECT s.owner FROM @extschema@.customer_state s
						 WHERE s.owner > o.owner ORDER BY s.owner LIMIT 1)
				  FROM owners o WHERE o.owner IS NOT NULL)
			SELECT %2$s, s.owner, s.grade, s.lifecycle, s.risk, s.next_follow_up_at,
				   greatest((SELECT t.at FROM t) - s.next_follow_up_at, interval '0'), s.last_contact_at,
				   s.last_outcome, s.next_action_at, s.amount_12m
			  FROM (SELECT s.* FROM @extschema@.customer_state s
					 WHERE s.owner = followups_due.owner AND s.next_follow_up_at < (SELECT t.day_end FROM t)
					UNION ALL
					SELECT s.* FROM owners o CROSS JOIN LATERAL
						   (SELECT s.* FROM @extschema@.customer_state s
							 WHERE s.owner = o.owner AND s.next_follow_up_at < (SELECT t.day_end FROM t)
							OFFSET 0) s
					 WHERE o.owner IS NOT NULL
					UNION ALL
					SELECT s.* FROM @extschema@.customer_state s
					 WHERE followups_due.owner IS NULL AND s.owner IS NULL
					   AND s.next_follow_up_at < (SELECT t.day_end FROM t)) s
			 ORDER BY s.grade_rank, CASE s.risk WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
					  s.next_follow_up_at, s.customer
		$f$
	$v$, keytype, @extschema@._key_cast_sql('s.customer', keytype, false));
	-- open opportunities whose stage has not changed for more than 14 days:
	-- the deals are read when the view is read (_stalled_opportunities()),
	-- so that the view depends on no application table
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.stalled_opportunities AS
		SELECT %1$s AS customer, s.owner, o.stage, o.amount, o.stage_changed_at,
			   floor(extract(epoch FROM @extschema@.as_of() - o.stage_changed_at) / 86400)::integer AS days_in_stage,
			   o.source
		  FROM @extschema@._stalled_opportunities() o
		  LEFT JOIN @extschema@.customer_state s ON s.customer = o.c
		 WHERE floor(extract(epoch FROM @extschema@.as_of() - o.stage_changed_at) / 86400) > 14$v$,
		@extschema@._key_cast_sql('o.c', keytype, false));
	-- it reads customers' states: like every such function, not PUBLIC's
	REVOKE ALL ON FUNCTION @extschema@.followups_due(timestamptz, text) FROM PUBLIC;
	COMMENT ON FUNCTION @extschema@.followups_due(timestamptz, text) IS 'whom to call on as_of''s day (default now), for one owner or all: due or overdue follow-ups, best grade first, then highest risk, then longest overdue';
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.customer_grades AS
		SELECT %1$s AS customer, s.grade, s.score, s.lifecycle, s.risk, s.owner,
			   s.amount_12m, s.orders_12m, s.total_amount, s.orders_total,
			   s.first_order_at, s.last_order_at, s.last_contact_at, s.next_follow_up_at,
			   coalesce(s.next_follow_up_at < @extschema@.as_of(), false) AS follow_up_overdue,
			   s.policy, s.graded_at,
			   round(s.avg_order_value_12m, 2) AS avg_order_value_12m, s.active_months_12m,
			   round(s.repurchase_rate, 4) AS repurchase_rate,
			   round(s.avg_payment_days, 1) AS avg_payment_days,
			   round(s.mean_interorder_days, 1) AS mean_interorder_days,
			   floor(extract(epoch FROM @extschema@.as_of() - s.first_order_at) / 86400)::integer AS tenure_days,
			   floor(extract(epoch FROM @extschema@.as_of() - s.last_order_at) / 86400)::integer AS days_since_last_order,
			   s.grade_rank, s.valid_until,
			   s.contacts_90d,
			   floor(extract(epoch FROM @extschema@.as_of() - s.last_contact_at) / 86400)::integer AS days_since_last_contact,
			   s.last_outcome, s.next_action_at, s.growth_months
		  FROM @extschema@.customer_state s$v$, @extschema@._key_cast_sql('s.customer', keytype, false));
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.grade_history AS
		SELECT %1$s AS customer, h.changed_at, h.old_grade, h.new_grade,
			   h.old_lifecycle, h.new_lifecycle, h.old_risk, h.new_risk, h.reason
		  FROM @extschema@.history h$v$, @extschema@._key_cast_sql('h.customer', keytype, true));
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.data_issues AS
		SELECT i ->> 'source' AS source, %1$s AS customer, i ->> 'column' AS column_name,
			   i ->> 'value' AS value, i ->> 'problem' AS problem, s.graded_at AS seen_at
		  FROM @extschema@.customer_state s, pg_catalog.jsonb_array_elements(s.data_issues) i
		 WHERE s.data_issues IS NOT NULL$v$, @extschema@._key_cast_sql('s.customer', keytype, false));
	-- what \d+ and a BI tool's catalog show for each view and column
	COMMENT ON VIEW @extschema@.customer_grades IS 'one row per customer: grade, metrics and follow-up, keyed by the application''s customer key';
	COMMENT ON VIEW @extschema@.grade_history IS 'every grade change with its reason; customer is NULL for keys of a kind no longer attached';
	COMMENT ON VIEW @extschema@.stalled_opportunities IS 'open opportunities whose stage has not changed for more than 14 days (read from the attached opportunity tables)';
	COMMENT ON VIEW @extschema@.data_issues IS 'values crm_grade read but could not use: left out of the metrics, never blocking a write';
	FOR doc IN SELECT * FROM (VALUES
			('customer_grades', 'customer', 'the application''s customer key, with its own type'),
			('customer_grades', 'grade', 'grade given by the active policy'),
			('customer_grades', 'score', 'score policy: the total at graded_at, 0..100, 2 decimals; rfm policy: the cell 100 R + 10 F + M; NULL under a rules policy'),
			('customer_grades', 'lifecycle', 'relationship stage: prospect, intent, active, dormant or churned'),
			('customer_grades', 'risk', 'churn risk: low, medium or high'),
			('customer_grades', 'owner', 'the sales rep, from the customer master''s owner column'),
			('customer_grades', 'amount_12m', 'sum of order amounts (refunds subtracted) in the 12 months up to graded_at'),
			('customer_grades', 'orders_12m', 'orders (refunds excluded) in the 12 months up to graded_at'),
			('customer_grades', 'total_amount', 'sum of all order amounts, refunds subtracted'),
			('customer_grades', 'orders_total', 'number of orders, refunds excluded'),
			('customer_grades', 'first_order_at', 'time of the first order (refunds excluded)'),
			('customer_grades', 'last_order_at', 'time of the latest order (refunds excluded)'),
			('customer_grades', 'last_contact_at', 'time of the latest contact'),
			('customer_grades', 'next_follow_up_at', 'when the customer is next to be contacted: the cadence of its grade and stage after the last contact, or a promised next action, on the business calendar; NULL when churned'),
			('customer_grades', 'follow_up_overdue', 'next_follow_up_at has passed (false without one: churned customers)'),
			('customer_grades', 'policy', 'name of the policy that gave the grade'),
			('customer_grades', 'graded_at', 'the moment (crm_grade.as_of) the row was last evaluated'),
			('customer_grades', 'avg_order_value_12m', 'amount_12m / orders_12m, rounded to 2 decimals (exact in crm_grade.customer_state); NULL without an order in the window'),
			('customer_grades', 'active_months_12m', 'calendar months (in crm_grade.timezone) holding an order in the 12-month window'),
			('customer_grades', 'repurchase_rate', 'active_months_12m over the calendar months since the first order (at most 12), at most 1; rounded to 4 decimals'),
			('customer_grades', 'avg_payment_days', 'mean days from order to payment over the window''s paid orders, rounded to 1 decimal'),
			('customer_grades', 'mean_interorder_days', 'days from the first to the latest order over orders_total - 1, rounded to 1 decimal; NULL under 2 orders'),
			('customer_grades', 'tenure_days', 'whole days from the first order to now (crm_grade.as_of)'),
			('customer_grades', 'days_since_last_order', 'whole days from the latest order to now (crm_grade.as_of)'),
			('customer_grades', 'grade_rank', 'position of the grade in the active policy, 1 = best: sort by it'),
			('customer_grades', 'valid_until', 'earliest moment at which time alone changes the row; crm_grade.regrade() picks it up then'),
			('customer_grades', 'contacts_90d', 'contacts in the 90 days (of 24 hours) up to graded_at'),
			('customer_grades', 'days_since_last_contact', 'whole days from the latest contact to now (crm_grade.as_of)'),
			('customer_grades', 'last_outcome', 'outcome of the latest contact, as the contact log holds it'),
			('customer_grades', 'next_action_at', 'the next step the latest contact promised (NULL: none)'),
			('customer_grades', 'growth_months', 'complete calendar months in a row, up to last month, whose order amount exceeds the month before''s'),
			('grade_history', 'customer', 'the application''s customer key (NULL for keys of a kind no longer attached)'),
			('grade_history', 'changed_at', 'the moment (crm_grade.as_of) of the change'),
			('grade_history', 'old_grade', 'grade before the change (NULL: the customer was new)'),
			('grade_history', 'new_grade', 'grade after the change (NULL: the customer left)'),
			('grade_history', 'old_lifecycle', 'lifecycle stage before the change'),
			('grade_history', 'new_lifecycle', 'lifecycle stage after the change'),
			('grade_history', 'old_risk', 'churn risk before the change'),
			('grade_history', 'new_risk', 'churn risk after the change'),
			('grade_history', 'reason', 'what caused the change: order, order_updated, regrade, policy, attach, ...'),
			('stalled_opportunities', 'customer', 'the application''s customer key'),
			('stalled_opportunities', 'owner', 'the customer''s owner, from the customer master'),
			('stalled_opportunities', 'stage', 'the opportunity''s stage, as its table holds it'),
			('stalled_opportunities', 'amount', 'the opportunity''s amount'),
			('stalled_opportunities', 'stage_changed_at', 'when its stage last changed'),
			('stalled_opportunities', 'days_in_stage', 'whole days since then, up to now (crm_grade.as_of); more than 14'),
			('stalled_opportunities', 'source', 'the attached table the opportunity is in'),
			('data_issues', 'source', 'the attached table the value came from'),
			('data_issues', 'customer', 'the application''s customer key'),
			('data_issues', 'column_name', 'the column (or attributes key) holding the value'),
			('data_issues', 'value', 'the value as text'),
			('data_issues', 'problem', 'why crm_grade could not use it'),
			('data_issues', 'seen_at', 'the moment (crm_grade.as_of) the customer was last evaluated')) AS d(v, col, text) LOOP
		EXECUTE format('COMMENT ON COLUMN @extschema@.%I.%I IS %L', doc.v, doc.col, doc.text);
	END LOOP;
END $$;

-- A key column changed type (ALTER TABLE ... TYPE): record it and rebuild
-- the views.  A change to another family of keys is refused.
CREATE OR REPLACE FUNCTION @extschema@._key_type_changed(tbl regclass, key_type regtype) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM @extschema@._check_source(tbl, key_type);
	UPDATE @extschema@.source s SET key_type = _key_type_changed.key_type WHERE s.tbl = _key_type_changed.tbl;
	BEGIN
		PERFORM @extschema@._build_views();
	EXCEPTION WHEN dependent_objects_still_exist THEN
		RAISE WARNING 'crm_grade keeps its views with their old key type: other objects depend on them'
			USING DETAIL = SQLERRM,
				  HINT = 'Drop the objects that depend on crm_grade.customer_grades, crm_grade.grade_history or crm_grade.data_issues, then run SELECT crm_grade._build_views(); and create them again.';
	END;
END $$;

-- Common part of attach_*: check, record the source, place the triggers,
-- build the views, back-fill everyone in one pass.
CREATE OR REPLACE FUNCTION @extschema@._attach(tbl regclass, kind text, columns jsonb, filter text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
	keytype regtype;
	keycol name := columns ->> 'customer';
BEGIN
	PERFORM @extschema@._check_source(tbl, NULL);
	keytype := @extschema@._check_columns(tbl, kind, columns);
	-- the filter as PostgreSQL writes it once checked: stored, and used as is
	filter := @extschema@._check_filter(tbl, filter);
	PERFORM @extschema@._check_source(tbl, keytype);
	-- the table (CREATE TRIGGER), the views if replaced, and the re-grade's
	-- locks, together, before any of them is taken alone
	PERFORM @extschema@._lock_before_attach(tbl, 'create', keytype);
	IF kind = 'customers' THEN
		IF EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.kind = 'customers' AND s.tbl <> _attach.tbl) THEN
			RAISE EXCEPTION 'a customer master is already attached: %',
				(SELECT s.tbl FROM @extschema@.source s WHERE s.kind = 'customers')
				USING ERRCODE = 'duplicate_object', HINT = 'Detach it first with crm_grade.detach().';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM pg_index i
						WHERE i.indrelid = tbl AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
						  AND i.indnkeyatts = 1 AND i.indexprs IS NULL
						  AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a
											  WHERE a.attrelid = tbl AND a.attname = keycol)) THEN
			RAISE EXCEPTION 'the key column "%" of customer master % is not unique', keycol, tbl
				USING ERRCODE = 'invalid_table_definition',
					  DETAIL = 'A customer master has one row per customer; crm_grade needs a unique index or constraint on the key alone.',
					  HINT = format('ALTER TABLE %s ADD UNIQUE (%I);', tbl, keycol);
		END IF;
	END IF;
	PERFORM @extschema@._check_rows(tbl, kind, columns, filter);
	PERFORM @extschema@._warn_time_zone(tbl, columns);
	-- updates, deletes and regrade() read a customer's rows through an index
	-- whose first column is the key; without one each of them scans the table
	IF NOT EXISTS (SELECT 1 FROM pg_index i
					WHERE i.indrelid = tbl AND i.indisvalid
					  AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a
										  WHERE a.attrelid = tbl AND a.attname = keycol)) THEN
		RAISE WARNING 'relation % has no index on column "%"', tbl, keycol
			USING DETAIL = 'crm_grade reads a customer''s rows through such an index when rows are updated or deleted and when regrade() runs; without one, each of those scans the whole table.',
				  HINT = format('CREATE INDEX ON %s (%I);', tbl, keycol);
	END IF;
	DELETE FROM @extschema@.source s WHERE s.tbl = _attach.tbl;
	INSERT INTO @extschema@.source (tbl, kind, key_type, columns, filter) VALUES (tbl, kind, keytype, columns, filter);
	PERFORM @extschema@._place_triggers(tbl, kind);
	PERFORM @extschema@._build_views();
	IF (SELECT c.reltuples FROM pg_class c WHERE c.oid = tbl) >= 100000 THEN
		RAISE NOTICE 'crm_grade: back-filling about % rows of %',
			(SELECT c.reltuples::bigint FROM pg_class c WHERE c.oid = tbl), tbl;
	END IF;
	RETURN (@extschema@._refresh_all('attach')).evaluated;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the attach, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, format('attach_%s(%s)', kind, tbl), ctx);
END $$;

-- attach_*() and detach() are for crm_grade's owner (or a superuser): they
-- write crm_grade's configuration, place triggers whose function works
-- with crm_grade's rights and rebuild the views, as the caller.  A role
-- granted EXECUTE on one of them alone gets this error first, not a
-- "permission denied" for an internal function halfway through.
CREATE OR REPLACE FUNCTION @extschema@._check_attacher(what text) RETURNS void
LANGUAGE plpgsql STABLE CALLED ON NULL INPUT SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	-- (the owner itself: a member of the owner's role is not enough, the
	-- work is done as the caller and needs the owner's rights on crm_grade's
	-- tables and views; SET ROLE to the owner first)
	IF NOT (SELECT r.rolsuper OR r.oid = (SELECT e.extowner FROM pg_extension e WHERE e.extname = 'crm_grade')
			  FROM pg_roles r WHERE r.rolname = current_user) THEN
		-- (through _raise: one line of context, the call's; none when what is
		-- NULL, for a caller that adds its own)
		PERFORM @extschema@._raise('42501',
			'permission denied: only crm_grade''s owner attaches and detaches tables',
			'They write crm_grade''s configuration, place triggers that work with crm_grade''s rights and rebuild its views.',
			'Run it as crm_grade''s owner (the role that ran CREATE EXTENSION; a member can SET ROLE to it) or a superuser; granting EXECUTE on the function alone is not enough.',
			what, NULL);
	END IF;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.attach_orders(orders regclass, customer_column name, amount_column name,
													 ordered_at_column name, paid_at_column name DEFAULT NULL,
													 filter text DEFAULT NULL, order_id_column name DEFAULT NULL)
	RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT @extschema@._check_attacher(format('attach_orders(%s)', orders));
	SELECT @extschema@._attach(orders, 'orders',
		jsonb_strip_nulls(jsonb_build_object('customer', customer_column, 'amount', amount_column,
											 'ordered_at', ordered_at_column, 'paid_at', paid_at_column,
											 'order_id', order_id_column)),
		filter)
$$;
COMMENT ON FUNCTION @extschema@.attach_orders(regclass, name, name, name, name, text, name) IS 'grade customers from an order table (the rows filter admits; rows sharing order_id_column are lines of one order): installs C triggers and back-fills state; returns customers graded';

CREATE OR REPLACE FUNCTION @extschema@.attach_customers(customers regclass, key_column name, owner_column name DEFAULT NULL,
														created_at_column name DEFAULT NULL, attributes_column name DEFAULT NULL,
														filter text DEFAULT NULL)
	RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT @extschema@._check_attacher(format('attach_customers(%s)', customers));
	SELECT @extschema@._attach(customers, 'customers',
		jsonb_strip_nulls(jsonb_build_object('customer', key_column, 'owner', owner_column,
											 'created_at', created_at_column, 'attributes', attributes_column)),
		filter)
$$;
COMMENT ON FUNCTION @extschema@.attach_customers(regclass, name, name, name, name, text) IS 'register the customer master (prospects, owners, attributes; the rows filter admits); returns customers graded';

CREATE OR REPLACE FUNCTION @extschema@.attach_contacts(contacts regclass, customer_column name, contacted_at_column name,
													   channel_column name DEFAULT NULL, outcome_column name DEFAULT NULL,
													   next_action_at_column name DEFAULT NULL, filter text DEFAULT NULL)
	RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT @extschema@._check_attacher(format('attach_contacts(%s)', contacts));
	SELECT @extschema@._attach(contacts, 'contacts',
		jsonb_strip_nulls(jsonb_build_object('customer', customer_column, 'contacted_at', contacted_at_column,
											 'channel', channel_column, 'outcome', outcome_column,
											 'next_action_at', next_action_at_column)),
		filter)
$$;
COMMENT ON FUNCTION @extschema@.attach_contacts(regclass, name, name, name, name, name, text) IS 'grade customers from a contact log too (the rows filter admits): last contact, contacts in 90 days, outcomes and promised next actions; returns customers graded';

CREATE OR REPLACE FUNCTION @extschema@.attach_opportunities(opportunities regclass, customer_column name,
															stage_column name, amount_column name,
															stage_changed_at_column name, is_open_column name,
															filter text DEFAULT NULL)
	RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT @extschema@._check_attacher(format('attach_opportunities(%s)', opportunities));
	SELECT @extschema@._attach(opportunities, 'opportunities',
		jsonb_strip_nulls(jsonb_build_object('customer', customer_column, 'stage', stage_column,
											 'amount', amount_column, 'stage_changed_at', stage_changed_at_column,
											 'is_open', is_open_column)),
		filter)
$$;
COMMENT ON FUNCTION @extschema@.attach_opportunities(regclass, name, name, name, name, name, text) IS 'grade customers from an opportunity table too (the rows filter admits): open deals make a customer without orders one with intent; stalled ones are listed in crm_grade.stalled_opportunities; returns customers graded';

CREATE OR REPLACE FUNCTION @extschema@.detach(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	PERFORM @extschema@._check_attacher(NULL);
	IF NOT EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.tbl = detach.tbl) THEN
		IF EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.tbl IN (SELECT a.relid FROM pg_partition_ancestors(detach.tbl) a)) THEN
			RAISE NOTICE 'relation % is not attached to crm_grade, skipping', tbl
				USING DETAIL = format('It is a partition of attached table %s, which crm_grade follows as a whole.',
									  (SELECT s.tbl FROM @extschema@.source s
									    WHERE s.tbl IN (SELECT a.relid FROM pg_partition_ancestors(detach.tbl) a) LIMIT 1)),
					  HINT = 'ALTER TABLE ... DETACH PARTITION takes it out of grading; crm_grade.detach() of the partitioned table stops grading all of it.';
		ELSE
			RAISE NOTICE 'relation % is not attached to crm_grade, skipping', tbl;
		END IF;
		RETURN;
	END IF;
	-- the table (DROP TRIGGER), the views if replaced, and the re-grade's
	-- locks, together, before any of them is taken alone
	PERFORM @extschema@._lock_before_attach(tbl, 'drop', NULL);
	PERFORM @extschema@._remove_triggers(tbl);
	DELETE FROM @extschema@.source s WHERE s.tbl = detach.tbl;
	PERFORM @extschema@._build_views();
	-- what the table contributed leaves every customer's state
	PERFORM @extschema@._refresh_all('detach');
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the detach, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, format('detach(%s)', tbl), ctx);
END $$;
COMMENT ON FUNCTION @extschema@.detach(regclass) IS 'remove crm_grade''s triggers from a table and its contribution from every customer';
--
-- Policy changes.  Re-evaluation itself is C (crm_grade._refresh_all,
-- regrade, regrade_all in 20_c_functions.sql).
--

CREATE OR REPLACE FUNCTION @extschema@.use_policy(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'the policy name must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'SELECT name FROM crm_grade.policy lists the stored policies.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.policy p WHERE p.name = use_policy.name) THEN
		RAISE EXCEPTION 'policy "%" does not exist', name
			USING ERRCODE = 'undefined_object',
				  HINT = 'SELECT name FROM crm_grade.policy lists the stored policies.';
	END IF;
	INSERT INTO @extschema@.active_policy (singleton, name) VALUES (true, use_policy.name)
	ON CONFLICT (singleton) DO UPDATE SET name = EXCLUDED.name;
	RETURN (@extschema@._refresh_all('policy')).changed;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the policy, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, format('use_policy(%L)', name), ctx);
END $$;
COMMENT ON FUNCTION @extschema@.use_policy(text) IS 'make a stored policy active and re-grade everyone; returns customers whose grade changed';

-- Changing the active policy's definition re-grades everyone at once.
CREATE OR REPLACE FUNCTION @extschema@._policy_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows n
				WHERE n.name = coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc')) THEN
		PERFORM @extschema@._refresh_all('policy');
	END IF;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the policy change, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, 're-grading after a change to the active policy', ctx);
END $$;
DROP TRIGGER IF EXISTS policy_regrade ON @extschema@.policy;
CREATE TRIGGER policy_regrade AFTER UPDATE ON @extschema@.policy
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_changed();
--
-- verify(): recompute every customer from the attached tables with plain
-- SQL, independently of the C code and of the refresh statement, and list
-- every disagreement with the stored state.
--

-- Does a rules condition hold for metrics given as a jsonb object?
-- A comparison with a NULL (absent) metric is false.
CREATE OR REPLACE FUNCTION @extschema@._sql_condition(cond jsonb, metrics jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	m numeric;
	v numeric;
BEGIN
	IF cond ? 'all' THEN
		RETURN coalesce(bool_and(@extschema@._sql_condition(c, metrics)), true)
		  FROM jsonb_array_elements(cond -> 'all') c;
	ELSIF cond ? 'any' THEN
		RETURN coalesce(bool_or(@extschema@._sql_condition(c, metrics)), false)
		  FROM jsonb_array_elements(cond -> 'any') c;
	END IF;
	m := (metrics ->> (cond ->> 'metric'))::numeric;
	v := (cond ->> 'value')::numeric;
	IF m IS NULL THEN
		RETURN false;
	END IF;
	RETURN CASE cond ->> 'op'
		WHEN '>=' THEN m >= v WHEN '>' THEN m > v
		WHEN '<=' THEN m <= v WHEN '<' THEN m < v
		WHEN '=' THEN m = v WHEN '<>' THEN m <> v
	END;
END $$;

-- Evaluate a policy of any kind (spec 0.5) on metrics given as jsonb, in
-- one walk of its definition: the grade, its rank (1 = best, the default
-- last) and the score (rules: NULL; rfm: 100 * R + 10 * F + M, NULL for the
-- lapsed and the default).  rebased, for a score policy: metrics whose
-- values differ at the stored graded_at (the day counts); the score is then
-- the one at graded_at, the grade and rank still those of metrics.  rfm
-- reads last_order_at and the population's cut-offs.  The numeric
-- arithmetic is the spec's, in its order.
CREATE OR REPLACE FUNCTION @extschema@._sql_evaluate(policy jsonb, metrics jsonb, rebased jsonb,
		last_order_at timestamptz, recency_cutoffs timestamptz[], frequency_cutoffs bigint[],
		monetary_cutoffs numeric[], OUT grade text, OUT grade_rank integer, OUT score numeric)
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	kind text := policy ->> 'kind';
	list jsonb;
	item jsonb;
	pts jsonb;
	n integer;
	np integer;
	k integer;
	name text;
	rebase boolean;
	w numeric;
	x numeric;
	p numeric;
	xk numeric;
	yk numeric;
	dim numeric;
	dim_at numeric;
	total numeric := 0;
	total_at numeric := 0;
	r integer;
	f integer;
	m integer;
	o12 numeric;
BEGIN
	IF kind = 'score' THEN
		list := policy -> 'dimensions';
		FOR i IN 0 .. jsonb_array_length(list) - 1 LOOP
			dim := 0;
			dim_at := 0;
			FOR j IN 0 .. jsonb_array_length(list -> i -> 'metrics') - 1 LOOP
				item := list -> i -> 'metrics' -> j;
				name := item ->> 'metric';
				w := (item ->> 'weight')::numeric;
				pts := item -> 'points';
				np := jsonb_array_length(pts);
				rebase := coalesce(rebased ? name, false);
				-- points(x), at the moment (1) and, rebased, at graded_at (2)
				FOR moment IN 1 .. CASE WHEN rebase THEN 2 ELSE 1 END LOOP
					x := CASE moment WHEN 1 THEN (metrics ->> name)::numeric ELSE (rebased ->> name)::numeric END;
					IF x IS NULL THEN
						p := 0;
					ELSIF x <= (pts -> 0 ->> 0)::numeric THEN
						p := (pts -> 0 ->> 1)::numeric;
					ELSIF x >= (pts -> (np - 1) ->> 0)::numeric THEN
						p := (pts -> (np - 1) ->> 1)::numeric;
					ELSE
						-- the segment with x_k <= x < x_(k+1)
						k := 0;
						WHILE x >= (pts -> (k + 1) ->> 0)::numeric LOOP
							k := k + 1;
						END LOOP;
						xk := (pts -> k ->> 0)::numeric;
						yk := (pts -> k ->> 1)::numeric;
						p := yk + ((pts -> (k + 1) ->> 1)::numeric - yk) * (x - xk)
								  / ((pts -> (k + 1) ->> 0)::numeric - xk);
					END IF;
					IF moment = 1 THEN
						dim := dim + w * p;
					END IF;
					IF moment = 2 OR NOT rebase THEN
						dim_at := dim_at + w * p;
					END IF;
				END LOOP;
			END LOOP;
			w := (list -> i ->> 'weight')::numeric;
			total := total + w * dim;
			total_at := total_at + w * dim_at;
		END LOOP;
		total := least(100, greatest(0, round(total, 2)));
		score := CASE WHEN rebased IS NULL THEN total ELSE least(100, greatest(0, round(total_at, 2))) END;
		list := policy -> 'bands';
		n := jsonb_array_length(list);
		FOR i IN 0 .. n - 1 LOOP
			IF total >= (list -> i ->> 'min')::numeric THEN
				grade := list -> i ->> 'grade';
				grade_rank := i + 1;
				RETURN;
			END IF;
		END LOOP;
		grade := policy ->> 'default';
		grade_rank := n + 1;
		RETURN;
	END IF;

	IF kind = 'rfm' THEN
		list := policy -> 'segments';
		n := jsonb_array_length(list);
		o12 := (metrics ->> 'orders_12m')::numeric;
		IF o12 > 0 THEN
			-- 1 + the number of cut-offs strictly below the value
			r := 1;
			FOR i IN 1 .. coalesce(array_length(recency_cutoffs, 1), 0) LOOP
				IF last_order_at > recency_cutoffs[i] THEN
					r := r + 1;
				END IF;
			END LOOP;
			f := 1;
			FOR i IN 1 .. coalesce(array_length(frequency_cutoffs, 1), 0) LOOP
				IF o12 > frequency_cutoffs[i] THEN
					f := f + 1;
				END IF;
			END LOOP;
			m := 1;
			x := (metrics ->> 'amount_12m')::numeric;
			FOR i IN 1 .. coalesce(array_length(monetary_cutoffs, 1), 0) LOOP
				IF x > monetary_cutoffs[i] THEN
					m := m + 1;
				END IF;
			END LOOP;
			-- the first segment whose ranges (missing: 1 to 5) hold R, F and M
			FOR i IN 0 .. n - 1 LOOP
				item := list -> i;
				IF r BETWEEN coalesce((item -> 'r' ->> 0)::numeric, 1) AND coalesce((item -> 'r' ->> 1)::numeric, 5)
				   AND f BETWEEN coalesce((item -> 'f' ->> 0)::numeric, 1) AND coalesce((item -> 'f' ->> 1)::numeric, 5)
				   AND m BETWEEN coalesce((item -> 'm' ->> 0)::numeric, 1) AND coalesce((item -> 'm' ->> 1)::numeric, 5) THEN
					grade := item ->> 'grade';
					grade_rank := i + 1;
					score := 100 * r + 10 * f + m;
					RETURN;
				END IF;
			END LOOP;
		ELSIF (metrics ->> 'orders_total')::numeric > 0 AND policy ->> 'lapsed' IS NOT NULL THEN
			grade := policy ->> 'lapsed';
			grade_rank := n + 1;
			RETURN;
		END IF;
		grade := policy ->> 'default';
		grade_rank := n + CASE WHEN policy ->> 'lapsed' IS NOT NULL THEN 2 ELSE 1 END;
		RETURN;
	END IF;

	-- rules: the first whose condition holds
	list := policy -> 'grades';
	n := jsonb_array_length(list);
	FOR i IN 0 .. n - 1 LOOP
		IF @extschema@._sql_condition(list -> i -> 'when', metrics) THEN
			grade := list -> i ->> 'grade';
			grade_rank := i + 1;
			RETURN;
		END IF;
	END LOOP;
	grade := policy ->> 'default';
	grade_rank := n + 1;
END $$;

-- growth_months (spec 0.5): the consecutive months, counting back from
-- last_month, whose amount is greater than the month before's, from the
-- months holding orders (ascending indexes) and their amounts; a month
-- left out has amount 0.
CREATE OR REPLACE FUNCTION @extschema@._verify_growth(months integer[], amounts numeric[], last_month integer)
	RETURNS integer
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	k integer := coalesce(array_length(months, 1), 0);
	mi integer := last_month;
	g integer := 0;
	cur numeric;
	prev numeric;
BEGIN
	LOOP
		-- k: the last listed month at or before mi
		WHILE k > 0 AND months[k] > mi LOOP
			k := k - 1;
		END LOOP;
		IF k > 0 AND months[k] = mi THEN
			cur := amounts[k];
			k := k - 1;
		ELSE
			cur := 0;
		END IF;
		prev := CASE WHEN k > 0 AND months[k] = mi - 1 THEN amounts[k] ELSE 0 END;
		IF NOT cur > prev THEN
			RETURN g;
		END IF;
		g := g + 1;
		mi := mi - 1;
	END LOOP;
END $$;

-- The rows of every attached table of a kind that its filter admits, in a
-- common shape, for verify(): orders c (key as text), a (amount), t (order
-- time), p (payment time), o (the order: a line's order id, else the row
-- itself), dd (order or payment time is a date: payment days are calendar
-- days); customers c, owner, created_at, attributes; and ok, false for
-- rows a trigger would have refused (they got in while triggers were
-- disabled), which count for nothing, as crm_grade leaves them out.
-- timestamp and date columns are read as local time in crm_grade.timezone.
-- Rows with a NULL key or one longer than _key_max_bytes() are left out.
CREATE OR REPLACE FUNCTION @extschema@._verify_source_sql(tbl regclass, kind text, columns jsonb, filter text)
	RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	tm text;
	pd text;
	-- a key longer than an index entry holds has no customer (rows left
	-- out, as NULL keys are)
	keyok text := format('pg_catalog.octet_length(%I::pg_catalog.text) <= @extschema@._key_max_bytes()',
						 columns ->> 'customer');
BEGIN
	filter := @extschema@._admits_sql(tbl, filter, 'crm_grade_row');
	IF kind = 'orders' THEN
		tm := @extschema@._verify_time_sql(tbl, columns ->> 'ordered_at');
		pd := @extschema@._verify_time_sql(tbl, columns ->> 'paid_at');
		RETURN format(
			'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C" AS c, %2$I::pg_catalog.numeric AS a, %3$s AS t, %4$s AS p, '
			'%6$s AS o, %7$L::pg_catalog.bool AS dd, '
			'coalesce(pg_catalog.isfinite(%3$s) '
			'AND %2$I::pg_catalog.numeric::pg_catalog.text NOT IN (''NaN'', ''Infinity'', ''-Infinity'') '
			'AND (%4$s IS NULL OR pg_catalog.isfinite(%4$s)) AND %6$s IS NOT NULL, false) AS ok '
			'FROM %5$s AS crm_grade_row WHERE %1$I IS NOT NULL AND %9$s AND %8$s',
			columns ->> 'customer', columns ->> 'amount', tm, pd, tbl,
			CASE WHEN columns ? 'order_id'
				 THEN format('%L || %I::pg_catalog.text', tbl::oid::text || ':', columns ->> 'order_id')
				 ELSE 'tableoid::pg_catalog.text || ctid::pg_catalog.text' END,
			'date'::regtype IN (@extschema@._base_type(tbl, columns ->> 'ordered_at'),
								@extschema@._base_type(tbl, columns ->> 'paid_at')),
			filter, keyok);
	END IF;
	IF kind = 'opportunities' THEN
		RETURN format(
			'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C" AS c, %2$s AS t, %3$I AS open, '
			'coalesce(pg_catalog.isfinite(%2$s) AND %3$I IS NOT NULL, false) AS ok '
			'FROM %4$s AS crm_grade_row WHERE %1$I IS NOT NULL AND %6$s AND %5$s',
			columns ->> 'customer', @extschema@._verify_time_sql(tbl, columns ->> 'stage_changed_at'),
			columns ->> 'is_open', tbl, filter, keyok);
	END IF;
	IF kind = 'contacts' THEN
		RETURN format(
			'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C" AS c, %2$s AS t, %3$s AS outcome, %4$s AS na, '
			'coalesce(pg_catalog.isfinite(%2$s) AND (%4$s IS NULL OR pg_catalog.isfinite(%4$s)), false) AS ok '
			'FROM %5$s AS crm_grade_row WHERE %1$I IS NOT NULL AND %7$s AND %6$s',
			columns ->> 'customer', @extschema@._verify_time_sql(tbl, columns ->> 'contacted_at'),
			CASE WHEN columns ? 'outcome' THEN @extschema@._label_sql(tbl, columns ->> 'outcome') ELSE 'NULL::pg_catalog.text' END,
			@extschema@._verify_time_sql(tbl, columns ->> 'next_action_at'), tbl, filter, keyok);
	END IF;
	tm := @extschema@._verify_time_sql(tbl, columns ->> 'created_at');
	RETURN format(
		'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C" AS c, %2$s AS owner, %3$s AS created_at, %4$s AS attributes, '
		'coalesce(pg_catalog.isfinite(%3$s), true) AS ok FROM %5$s AS crm_grade_row WHERE %1$I IS NOT NULL AND %7$s AND %6$s',
		columns ->> 'customer',
		CASE WHEN columns ? 'owner' THEN format('@extschema@._owner_text(%s)', @extschema@._label_sql(tbl, columns ->> 'owner'))
			 ELSE 'NULL::pg_catalog.text' END,
		tm,
		CASE WHEN columns ? 'attributes' THEN format('%I', columns ->> 'attributes') ELSE 'NULL::pg_catalog.jsonb' END,
		tbl, filter, keyok);
END $$;

-- The rows verify() reads of one attached table of a kind: _verify_source_sql()'s,
-- read as the table's owner (_rows_as_owner(): planning a query over a
-- table may run its owner's functions, in an index's predicate or
-- expressions), with their columns; tbl NULL: no row, with the same columns.
CREATE OR REPLACE FUNCTION @extschema@._verify_read_sql(tbl regclass, kind text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT format('SELECT * FROM @extschema@._rows_as_owner(%s::pg_catalog.oid::pg_catalog.regclass) AS r(%s)',
				  coalesce(tbl::oid::text, 'NULL'),
				  CASE kind
					WHEN 'orders' THEN 'c pg_catalog.text COLLATE pg_catalog."C", a pg_catalog.numeric, t pg_catalog.timestamptz, p pg_catalog.timestamptz, o pg_catalog.text, dd pg_catalog.bool, ok pg_catalog.bool'
					WHEN 'contacts' THEN 'c pg_catalog.text COLLATE pg_catalog."C", t pg_catalog.timestamptz, outcome pg_catalog.text, na pg_catalog.timestamptz, ok pg_catalog.bool'
					WHEN 'opportunities' THEN 'c pg_catalog.text COLLATE pg_catalog."C", t pg_catalog.timestamptz, open pg_catalog.bool, ok pg_catalog.bool'
					ELSE 'c pg_catalog.text COLLATE pg_catalog."C", owner pg_catalog.text, created_at pg_catalog.timestamptz, attributes pg_catalog.jsonb, ok pg_catalog.bool'
				  END)
$$;

-- Every attached table's rows of a kind (none attached: no row).
CREATE OR REPLACE FUNCTION @extschema@._verify_rows_sql(kind text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(string_agg(@extschema@._verify_read_sql(x.tbl, x.kind), ' UNION ALL ' ORDER BY x.tbl::oid),
					@extschema@._verify_read_sql(NULL, _verify_rows_sql.kind))
	  FROM @extschema@.source x WHERE x.kind = _verify_rows_sql.kind
$$;

-- The first attached table whose rows verify() cannot read (its filter
-- or a column raises an error), to name it when verify() fails.
CREATE OR REPLACE FUNCTION @extschema@._unreadable_source() RETURNS regclass
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s record;
	n bigint;
BEGIN
	FOR s IN SELECT x.tbl, x.kind FROM @extschema@.source x ORDER BY x.tbl::oid LOOP
		BEGIN
			EXECUTE format('SELECT count(*) FROM (%s) x', @extschema@._verify_read_sql(s.tbl, s.kind)) INTO n;
		EXCEPTION WHEN OTHERS THEN
			RETURN s.tbl;
		END;
	END LOOP;
	RETURN NULL;
END $$;

-- The business calendar again, in plain SQL (SPEC 8 step 4), for verify():
-- the first moment at or after due on a working day (Monday to Friday, not
-- a holiday) between 09:00 (Monday 12:00) and 18:00 (Friday 12:00) on the
-- wall clock of tz.  (Where a zone changes its clock inside working hours
-- on a weekday, which no zone in use does, the C calendar is the finer.)
CREATE OR REPLACE FUNCTION @extschema@._verify_next_allowed(due timestamptz, tz text) RETURNS timestamptz
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	l timestamp := due AT TIME ZONE tz;
	d date := l::date;
	dow int;
	opens time;
	closes time;
BEGIN
	IF due IS NULL OR NOT isfinite(due) THEN
		RETURN due;
	END IF;
	FOR i IN 0..366 LOOP
		dow := extract(isodow FROM d);
		opens := CASE dow WHEN 1 THEN time '12:00' ELSE time '09:00' END;
		closes := CASE dow WHEN 5 THEN time '12:00' ELSE time '18:00' END;
		IF dow <= 5 AND NOT EXISTS (SELECT 1 FROM @extschema@.holiday h WHERE h.day = d) THEN
			IF i > 0 THEN
				RETURN (d + opens) AT TIME ZONE tz;
			ELSIF l::time <= closes THEN
				RETURN greatest(due, (d + opens) AT TIME ZONE tz);
			END IF;
		END IF;
		d := d + 1;
	END LOOP;
	RETURN NULL;
END $$;

-- A time column as timestamptz, in SQL's own arithmetic.
CREATE OR REPLACE FUNCTION @extschema@._verify_time_sql(tbl regclass, col text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF col IS NULL THEN
		RETURN 'NULL::pg_catalog.timestamptz';
	END IF;
	-- (a time crm_grade does not grade, _time_in_range(), reads as infinity:
	-- its row is not ok, as the triggers refuse it)
	RETURN CASE @extschema@._base_type(tbl, col)
		WHEN 'timestamp with time zone'::regtype
			THEN format('CASE WHEN NOT @extschema@._time_in_range(%1$I) THEN ''infinity''::pg_catalog.timestamptz '
						'ELSE %1$I END', col)
		WHEN 'timestamp without time zone'::regtype
			THEN format('CASE WHEN NOT @extschema@._time_in_range(%1$I) THEN ''infinity''::pg_catalog.timestamptz '
						'ELSE pg_catalog.timezone(@extschema@._timezone(), %1$I) END', col)
		ELSE format('CASE WHEN NOT @extschema@._time_in_range(%1$I) THEN ''infinity''::pg_catalog.timestamptz '
					'ELSE pg_catalog.timezone(@extschema@._timezone(), %1$I::pg_catalog.timestamp) END', col)
	END;
END $$;

-- attr.NAME in SQL: a JSON number, or a string holding one.
CREATE OR REPLACE FUNCTION @extschema@._verify_attributes(attributes jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN jsonb_typeof(attributes) = 'object' THEN
		(SELECT coalesce(jsonb_object_agg('attr.' || e.key, e.num), '{}')
		   FROM (SELECT x.key, CASE jsonb_typeof(x.value)
						WHEN 'number' THEN x.value
						WHEN 'string' THEN CASE WHEN length(x.value #>> '{}') <= 1000
							AND (x.value #>> '{}') ~ '^[ \t\n\r\f\v]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?[ \t\n\r\f\v]*$'
							THEN to_jsonb((x.value #>> '{}')::numeric) END
					END AS num
				   FROM jsonb_each(attributes) x) e
		  WHERE e.num IS NOT NULL)
		ELSE '{}' END
$$;

-- Recompute every customer from the attached tables with plain SQL, at T
-- and again just before its valid_until, and list every disagreement.
-- (JIT compiling this query costs far more than it saves.  Nested loops are
-- off: the planner expects one row from each recomputed set, and nested
-- loops over them made verify() quadratic in the customers, 54 s for 4,000
-- customers of a master and a contact log, against 1.5 s hashed.)
CREATE OR REPLACE FUNCTION @extschema@.verify()
	RETURNS TABLE (customer text, field text, stored text, recomputed text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off SET enable_nestloop = off AS $$
DECLARE
	t timestamptz := @extschema@.as_of();
	tz text := @extschema@._timezone();
	pol jsonb;
	polname text;
	pop @extschema@.population;
	st text;
	msg text;
	det text;
	hnt text;
BEGIN
	-- the columns' types first: the casts below are then PostgreSQL's own
	PERFORM @extschema@._check_columns(s.tbl, s.kind, s.columns) FROM @extschema@.source s;
	polname := coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc');
	SELECT p.definition INTO pol FROM @extschema@.policy p WHERE p.name = polname;
	-- the population's figures (none without its row): revenue_share_12m
	-- and the RFM cut-offs, as stored
	SELECT * INTO pop FROM @extschema@.population;
	-- an error of the generated SQL leaves with one line of context, not the SQL
	BEGIN
	RETURN QUERY EXECUTE format($q$
WITH everything AS (%1$s),
r AS (SELECT * FROM everything WHERE ok),
m AS (
	SELECT c, min(owner COLLATE "C") AS owner, min(created_at) AS created_at,
		   (array_agg(attributes ORDER BY attributes) FILTER (WHERE attributes IS NOT NULL))[1] AS attributes
	  FROM (%2$s) x WHERE ok GROUP BY c
),
keys AS (SELECT c FROM everything UNION SELECT c FROM (%2$s) x UNION SELECT c FROM (%3$s) x
		 UNION SELECT c FROM (%4$s) x),
con AS (SELECT * FROM (%3$s) x WHERE ok),
opp AS (SELECT * FROM (%4$s) x WHERE ok),
-- each customer at T, and each stored customer just before its valid_until
-- (ten years on when it has none): the stored row must hold at both
ev AS (
	SELECT k.c, 'now' AS pass, $1 AS at FROM keys k
	UNION ALL
	SELECT s.customer, 'valid_until',
		   coalesce(s.valid_until - interval '1 microsecond', greatest($1, s.graded_at) + interval '10 years')
	  FROM @extschema@.customer_state s WHERE s.graded_at IS NOT NULL
),
evw AS (SELECT ev.*, ((ev.at AT TIME ZONE $2) - interval '12 months') AT TIME ZONE $2 AS ws FROM ev),
lines AS (SELECT e.c, e.pass, e.at, r.o, r.a, r.t, r.p, r.dd FROM evw e JOIN r ON r.c = e.c),
-- the orders at each moment: lines dated at or before it, one order per
-- order id (amounts added, the earliest time, paid when the last line was)
ord AS (
	SELECT l.c, l.pass, l.at, sum(l.a) AS a, min(l.t) AS t,
		   CASE WHEN bool_and(l.p IS NOT NULL) THEN max(l.p) END AS p, bool_or(l.dd) AS dd
	  FROM lines l WHERE l.t <= l.at GROUP BY l.c, l.pass, l.at, l.o
),
fut AS (SELECT l.c, l.pass, l.at, min(l.t) AS next_order_at FROM lines l WHERE l.t > l.at GROUP BY l.c, l.pass, l.at),
-- the months (year * 12 + month - 1, local) holding those orders, refunds
-- included, and the plain sum of each (spec 0.5, growth_months).  Years
-- count as astronomers count them, as the C code does: 1 BC is year 0
-- (extract() says -1: it has no year 0), so that months run on without a
-- gap across the start of the era.
mon AS (
	SELECT x.c, x.pass, x.at, array_agg(x.mi ORDER BY x.mi) AS amount_months,
		   array_agg(x.amount ORDER BY x.mi) AS month_amounts
	  FROM (SELECT o.c, o.pass, o.at, o.mi, sum(o.a) AS amount
			  FROM (SELECT o.c, o.pass, o.at, o.a,
						   ((extract(year FROM o.t AT TIME ZONE $2) + (extract(year FROM o.t AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM o.t AT TIME ZONE $2) - 1)::integer AS mi
					  FROM ord o) o
			 GROUP BY o.c, o.pass, o.at, o.mi) x
	 GROUP BY x.c, x.pass, x.at
),
agg AS (
	SELECT e.c, e.pass, e.at,
		   coalesce(sum(r.a), 0) AS total_amount,
		   count(*) FILTER (WHERE r.a >= 0) AS orders_total,
		   coalesce(sum(r.a) FILTER (WHERE r.t > e.ws), 0) AS amount_12m,
		   count(*) FILTER (WHERE r.t > e.ws AND r.a >= 0) AS orders_12m,
		   min(r.t) FILTER (WHERE r.a >= 0) AS first_order_at,
		   max(r.t) FILTER (WHERE r.a >= 0) AS last_order_at,
		   coalesce(array_agg(DISTINCT ((extract(year FROM r.t AT TIME ZONE $2) + (extract(year FROM r.t AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM r.t AT TIME ZONE $2) - 1)::integer
								ORDER BY ((extract(year FROM r.t AT TIME ZONE $2) + (extract(year FROM r.t AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM r.t AT TIME ZONE $2) - 1)::integer)
					FILTER (WHERE r.t > e.ws AND r.a >= 0), '{}') AS order_months,
		   coalesce(sum(CASE WHEN r.dd THEN (r.p AT TIME ZONE $2)::date - (r.t AT TIME ZONE $2)::date
							 ELSE floor(extract(epoch FROM r.p - r.t) / 86400) END)
					FILTER (WHERE r.t > e.ws AND r.a >= 0 AND r.p <= e.at), 0)::bigint AS pay_days_sum,
		   count(*) FILTER (WHERE r.t > e.ws AND r.a >= 0 AND r.p <= e.at) AS pay_count,
		   min(r.p) FILTER (WHERE r.t > e.ws AND r.a >= 0 AND r.p > e.at) AS next_paid_at,
		   min(r.t) FILTER (WHERE r.t > e.ws) AS oldest_window_at,
		   min(f.next_order_at) AS next_order_at,
		   min(r.t) AS first_row_at
	  FROM evw e
	  LEFT JOIN ord r ON r.c = e.c AND r.pass = e.pass AND r.at = e.at
	  LEFT JOIN fut f ON f.c = e.c AND f.pass = e.pass AND f.at = e.at
	 GROUP BY e.c, e.pass, e.at
),
-- contacts at each moment: the window is (at - 90 days of 24 hours, at];
-- the latest contact by time, then outcome, then promised action (C's order)
cagg AS (
	SELECT e.c, e.pass, e.at,
		   count(k.t) FILTER (WHERE k.t <= e.at AND k.t > e.at - interval '2160 hours') AS contacts_90d,
		   min(k.t) FILTER (WHERE k.t <= e.at AND k.t > e.at - interval '2160 hours') AS contacts_window_at,
		   min(k.t) FILTER (WHERE k.t > e.at) AS next_contact_at,
		   min(k.t) FILTER (WHERE k.t <= e.at) AS first_contact_at,
		   max(k.t) FILTER (WHERE k.t <= e.at AND lower(k.outcome COLLATE "C") = 'intent') AS last_intent_at,
		   max(k.t) FILTER (WHERE k.t <= e.at AND lower(k.outcome COLLATE "C") = 'complaint') AS last_complaint_at,
		   (array_agg(k.t ORDER BY k.t DESC, lower(k.outcome COLLATE "C") DESC NULLS LAST, k.outcome COLLATE "C" DESC NULLS LAST,
						 k.na DESC NULLS LAST)
				FILTER (WHERE k.t <= e.at))[1] AS last_contact_at,
		   (array_agg(k.outcome ORDER BY k.t DESC, lower(k.outcome COLLATE "C") DESC NULLS LAST, k.outcome COLLATE "C" DESC NULLS LAST,
						 k.na DESC NULLS LAST)
				FILTER (WHERE k.t <= e.at))[1] AS last_outcome,
		   (array_agg(k.na ORDER BY k.t DESC, lower(k.outcome COLLATE "C") DESC NULLS LAST, k.outcome COLLATE "C" DESC NULLS LAST,
						 k.na DESC NULLS LAST)
				FILTER (WHERE k.t <= e.at))[1] AS next_action_at
	  FROM evw e LEFT JOIN con k ON k.c = e.c
	 GROUP BY e.c, e.pass, e.at
),
-- opportunities at each moment, from the time their stage last changed
oagg AS (
	SELECT e.c, e.pass, e.at,
		   count(o.t) FILTER (WHERE o.t <= e.at AND o.open) AS open_opportunities,
		   min(o.t) FILTER (WHERE o.t <= e.at) AS first_opportunity_at,
		   min(o.t) FILTER (WHERE o.t > e.at) AS next_opportunity_at
	  FROM evw e LEFT JOIN opp o ON o.c = e.c
	 GROUP BY e.c, e.pass, e.at
), met AS (
	SELECT a.*, m.c IS NOT NULL AS in_master, m.owner, m.created_at, m.attributes,
		   ca.contacts_90d, ca.contacts_window_at, ca.next_contact_at, ca.first_contact_at,
		   ca.last_intent_at, ca.last_complaint_at, ca.last_contact_at, ca.last_outcome, ca.next_action_at,
		   oa.open_opportunities, oa.first_opportunity_at, oa.next_opportunity_at,
		   least(m.created_at, a.first_row_at, ca.first_contact_at, oa.first_opportunity_at) AS first_seen_at,
		   cardinality(a.order_months) AS active_months_12m,
		   coalesce(mo.amount_months, '{}') AS amount_months, coalesce(mo.month_amounts, '{}') AS month_amounts,
		   @extschema@._verify_growth(mo.amount_months, mo.month_amounts,
				((extract(year FROM a.at AT TIME ZONE $2) + (extract(year FROM a.at AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM a.at AT TIME ZONE $2) - 2)::integer)
				AS growth_months,
		   CASE WHEN a.orders_12m > 0 THEN a.amount_12m / a.orders_12m END AS avg_order_value_12m,
		   CASE WHEN a.pay_count > 0 THEN a.pay_days_sum::numeric / a.pay_count END AS avg_payment_days,
		   CASE WHEN a.orders_total >= 2
				THEN floor(extract(epoch FROM a.last_order_at - a.first_order_at) / 86400) / (a.orders_total - 1)
		   END AS mean_interorder_days,
		   CASE WHEN a.first_order_at IS NOT NULL
				THEN least(1, cardinality(a.order_months)::numeric / least(12,
					((extract(year FROM a.at AT TIME ZONE $2) + (extract(year FROM a.at AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM a.at AT TIME ZONE $2))
				  - ((extract(year FROM a.first_order_at AT TIME ZONE $2) + (extract(year FROM a.first_order_at AT TIME ZONE $2) < 0)::integer) * 12 + extract(month FROM a.first_order_at AT TIME ZONE $2))
				  + 1))
		   END AS repurchase_rate,
		   floor(extract(epoch FROM a.at - a.first_order_at) / 86400) AS tenure_days,
		   floor(extract(epoch FROM a.at - a.last_order_at) / 86400) AS days_since_last_order,
		   floor(extract(epoch FROM a.last_order_at - a.first_order_at) / 86400) AS span_days,
		   floor(extract(epoch FROM a.at - ca.last_contact_at) / 86400) AS days_since_last_contact
	  FROM agg a LEFT JOIN m ON m.c = a.c
	  JOIN cagg ca ON ca.c = a.c AND ca.pass = a.pass AND ca.at = a.at
	  JOIN oagg oa ON oa.c = a.c AND oa.pass = a.pass AND oa.at = a.at
	  LEFT JOIN mon mo ON mo.c = a.c AND mo.pass = a.pass AND mo.at = a.at
), graded AS (
	-- the policy, evaluated once per row; for a score policy, the stored
	-- score is the one at graded_at: the day counts re-based there
	SELECT met.*, pe.grade, pe.grade_rank, pe.score
	  FROM met
	  LEFT JOIN @extschema@.customer_state gs ON $12 = 'score' AND met.pass = 'now' AND gs.customer = met.c
	 CROSS JOIN LATERAL @extschema@._sql_evaluate($3, jsonb_build_object(
				'total_amount', met.total_amount, 'orders_total', met.orders_total,
				'amount_12m', met.amount_12m, 'orders_12m', met.orders_12m,
				'avg_order_value_12m', met.avg_order_value_12m, 'tenure_days', met.tenure_days,
				'days_since_last_order', met.days_since_last_order,
				'mean_interorder_days', met.mean_interorder_days,
				'active_months_12m', met.active_months_12m, 'repurchase_rate', met.repurchase_rate,
				'avg_payment_days', met.avg_payment_days,
				'days_since_last_contact', met.days_since_last_contact, 'contacts_90d', met.contacts_90d,
				'orders_per_month_12m', met.orders_12m::numeric / 12,
				'growth_months', met.growth_months,
				'revenue_share_12m', CASE WHEN $8 > 0 THEN met.amount_12m / $8 END)
				|| @extschema@._verify_attributes(met.attributes),
			CASE WHEN gs.graded_at IS NOT NULL THEN jsonb_build_object(
				'tenure_days', floor(extract(epoch FROM gs.graded_at - met.first_order_at) / 86400),
				'days_since_last_order', floor(extract(epoch FROM gs.graded_at - met.last_order_at) / 86400),
				'days_since_last_contact', floor(extract(epoch FROM gs.graded_at - met.last_contact_at) / 86400))
			END,
			met.last_order_at, $9, $10, $11) pe
), staged AS (
	-- SPEC 6, in order; "within N days" is (at - N days of 24 hours, at]
	SELECT met.c, met.pass, met.at,
		   CASE
			WHEN (lower(met.last_outcome COLLATE "C") = 'lost'
				  AND (met.last_order_at IS NULL OR met.last_contact_at > met.last_order_at))
				 OR (met.orders_total > 0 AND met.days_since_last_order > $5) THEN 'churned'
			WHEN met.orders_total > 0 AND met.days_since_last_order > $6 THEN 'dormant'
			WHEN met.orders_total > 0 THEN 'active'
			WHEN met.open_opportunities > 0 OR met.last_intent_at > met.at - $7 * interval '24 hours' THEN 'intent'
			ELSE 'prospect'
		   END AS lifecycle
	  FROM met
), lived AS (
	-- SPEC 7
	SELECT g.*, st.lifecycle,
		   CASE
			WHEN st.lifecycle IN ('dormant', 'churned')
				 OR g.last_complaint_at > g.at - interval '720 hours'
				 OR (g.orders_total >= 2
					 AND g.days_since_last_order * (g.orders_total - 1) > 2 * g.span_days) THEN 'high'
			-- (in whole numbers: the mean span / (orders - 1) is not rounded into it)
			WHEN g.orders_total >= 2
				 AND 2 * g.days_since_last_order * (g.orders_total - 1) > 3 * g.span_days THEN 'medium'
			ELSE 'low'
		   END AS risk
	  FROM graded g JOIN staged st ON st.c = g.c AND st.pass = g.pass AND st.at = g.at
), cadenced AS (
	-- SPEC 8 step 1: the interval by grade and stage
	SELECT lv.*,
		   CASE
			WHEN lv.lifecycle = 'prospect' THEN interval '7 days'
			WHEN lv.lifecycle = 'intent' THEN interval '3 days'
			WHEN lv.lifecycle = 'dormant' AND lv.at < lv.last_order_at + ($6 + 91) * interval '24 hours'
				THEN interval '30 days'
			WHEN lv.lifecycle = 'active' AND lv.risk = 'high' AND (lv.cad IS NULL OR lv.cad > interval '7 days')
				THEN interval '7 days'
			ELSE lv.cad
		   END AS iv
	  -- (a cadence over 100 years, in a policy never checked, read as 100 years)
	  FROM (SELECT l.*, least((($3 -> 'cadence') ->> l.grade)::interval, interval '100 years') AS cad
			  FROM lived l) lv
), followed AS (
	-- steps 2 to 4: from the last contact (or the first sight), on the local
	-- clock; an earlier promise wins; then the business calendar
	SELECT cd.*,
		   @extschema@._verify_next_allowed(cd.follow_up_due, $2) AS next_follow_up_at
	  FROM (SELECT cd.*,
				   CASE WHEN cd.lifecycle <> 'churned' AND cd.iv IS NOT NULL
							 AND coalesce(cd.last_contact_at, cd.first_seen_at) IS NOT NULL THEN
					least(((coalesce(cd.last_contact_at, cd.first_seen_at) AT TIME ZONE $2) + cd.iv) AT TIME ZONE $2,
						  cd.next_action_at)
				   END AS follow_up_due
			  FROM cadenced cd) cd
), cmp AS (
	SELECT s.customer AS sc, g.c AS gc, g.pass, g.at, s.valid_until, s.graded_at, s.customer IS NOT NULL AS stored_exists,
		   d.field, d.stored, d.recomputed, d.differs
	  FROM (SELECT * FROM followed WHERE pass = 'now') g
	  FULL JOIN @extschema@.customer_state s ON s.customer = g.c
	 CROSS JOIN LATERAL (VALUES
		('total_amount', s.total_amount::text, g.total_amount::text, s.total_amount IS DISTINCT FROM g.total_amount),
		('orders_total', s.orders_total::text, g.orders_total::text, s.orders_total IS DISTINCT FROM g.orders_total),
		('amount_12m', s.amount_12m::text, g.amount_12m::text, s.amount_12m IS DISTINCT FROM g.amount_12m),
		('orders_12m', s.orders_12m::text, g.orders_12m::text, s.orders_12m IS DISTINCT FROM g.orders_12m),
		('first_order_at', s.first_order_at::text, g.first_order_at::text, s.first_order_at IS DISTINCT FROM g.first_order_at),
		('last_order_at', s.last_order_at::text, g.last_order_at::text, s.last_order_at IS DISTINCT FROM g.last_order_at),
		('avg_order_value_12m', s.avg_order_value_12m::text, g.avg_order_value_12m::text,
		 s.avg_order_value_12m IS DISTINCT FROM g.avg_order_value_12m),
		('mean_interorder_days', s.mean_interorder_days::text, g.mean_interorder_days::text,
		 s.mean_interorder_days IS DISTINCT FROM g.mean_interorder_days),
		('active_months_12m', s.active_months_12m::text, g.active_months_12m::text,
		 s.active_months_12m IS DISTINCT FROM g.active_months_12m),
		('repurchase_rate', s.repurchase_rate::text, g.repurchase_rate::text, s.repurchase_rate IS DISTINCT FROM g.repurchase_rate),
		('avg_payment_days', s.avg_payment_days::text, g.avg_payment_days::text,
		 s.avg_payment_days IS DISTINCT FROM g.avg_payment_days),
		('grade', s.grade, g.grade, s.grade IS DISTINCT FROM g.grade),
		('grade_rank', s.grade_rank::text, g.grade_rank::text, s.grade_rank IS DISTINCT FROM g.grade_rank),
		('score', s.score::text, g.score::text, s.score IS DISTINCT FROM g.score),
		('amount_months', s.amount_months::text, g.amount_months::text, s.amount_months IS DISTINCT FROM g.amount_months),
		('month_amounts', s.month_amounts::text, g.month_amounts::text, s.month_amounts IS DISTINCT FROM g.month_amounts),
		('growth_months', s.growth_months::text, g.growth_months::text, s.growth_months IS DISTINCT FROM g.growth_months),
		('order_months', s.order_months::text, g.order_months::text, s.order_months IS DISTINCT FROM g.order_months),
		('pay_days_sum', s.pay_days_sum::text, g.pay_days_sum::text, s.pay_days_sum IS DISTINCT FROM g.pay_days_sum),
		('pay_count', s.pay_count::text, g.pay_count::text, s.pay_count IS DISTINCT FROM g.pay_count),
		('oldest_window_at', s.oldest_window_at::text, g.oldest_window_at::text, s.oldest_window_at IS DISTINCT FROM g.oldest_window_at),
		('next_order_at', s.next_order_at::text, g.next_order_at::text, s.next_order_at IS DISTINCT FROM g.next_order_at),
		('next_paid_at', s.next_paid_at::text, g.next_paid_at::text, s.next_paid_at IS DISTINCT FROM g.next_paid_at),
		('in_master', s.in_master::text, g.in_master::text, s.in_master IS DISTINCT FROM g.in_master),
		('owner', s.owner, g.owner, s.owner IS DISTINCT FROM g.owner),
		('created_at', s.created_at::text, g.created_at::text, s.created_at IS DISTINCT FROM g.created_at),
		('attributes', s.attributes::text, g.attributes::text, s.attributes IS DISTINCT FROM g.attributes),
		('first_seen_at', s.first_seen_at::text, g.first_seen_at::text, s.first_seen_at IS DISTINCT FROM g.first_seen_at),
		('policy', s.policy, $4, s.policy IS DISTINCT FROM $4),
		('lifecycle', s.lifecycle, g.lifecycle, s.lifecycle IS DISTINCT FROM g.lifecycle),
		('risk', s.risk, g.risk, s.risk IS DISTINCT FROM g.risk),
		('next_follow_up_at', s.next_follow_up_at::text, g.next_follow_up_at::text,
		 s.next_follow_up_at IS DISTINCT FROM g.next_follow_up_at),
		('follow_up_due', s.follow_up_due::text, g.follow_up_due::text, s.follow_up_due IS DISTINCT FROM g.follow_up_due),
		('first_row_at', s.first_row_at::text, g.first_row_at::text, s.first_row_at IS DISTINCT FROM g.first_row_at),
		('open_opportunities', s.open_opportunities::text, g.open_opportunities::text,
		 s.open_opportunities IS DISTINCT FROM g.open_opportunities),
		('first_opportunity_at', s.first_opportunity_at::text, g.first_opportunity_at::text,
		 s.first_opportunity_at IS DISTINCT FROM g.first_opportunity_at),
		('next_opportunity_at', s.next_opportunity_at::text, g.next_opportunity_at::text,
		 s.next_opportunity_at IS DISTINCT FROM g.next_opportunity_at),
		('contacts_90d', s.contacts_90d::text, g.contacts_90d::text, s.contacts_90d IS DISTINCT FROM g.contacts_90d),
		('last_contact_at', s.last_contact_at::text, g.last_contact_at::text, s.last_contact_at IS DISTINCT FROM g.last_contact_at),
		('last_outcome', s.last_outcome, g.last_outcome, s.last_outcome IS DISTINCT FROM g.last_outcome),
		('next_action_at', s.next_action_at::text, g.next_action_at::text, s.next_action_at IS DISTINCT FROM g.next_action_at),
		('contacts_window_at', s.contacts_window_at::text, g.contacts_window_at::text, s.contacts_window_at IS DISTINCT FROM g.contacts_window_at),
		('next_contact_at', s.next_contact_at::text, g.next_contact_at::text, s.next_contact_at IS DISTINCT FROM g.next_contact_at),
		('first_contact_at', s.first_contact_at::text, g.first_contact_at::text, s.first_contact_at IS DISTINCT FROM g.first_contact_at),
		('last_intent_at', s.last_intent_at::text, g.last_intent_at::text, s.last_intent_at IS DISTINCT FROM g.last_intent_at),
		('last_complaint_at', s.last_complaint_at::text, g.last_complaint_at::text, s.last_complaint_at IS DISTINCT FROM g.last_complaint_at)
	) AS d(field, stored, recomputed, differs)
), later AS (
	-- the stored row against the customer recomputed just before valid_until
	SELECT g.c, g.at, d.field, d.recomputed
	  FROM followed g
	  JOIN @extschema@.customer_state s ON s.customer = g.c
	 CROSS JOIN LATERAL (VALUES
		('total_amount', g.total_amount::text, s.total_amount IS DISTINCT FROM g.total_amount),
		('orders_total', g.orders_total::text, s.orders_total IS DISTINCT FROM g.orders_total),
		('amount_12m', g.amount_12m::text, s.amount_12m IS DISTINCT FROM g.amount_12m),
		('orders_12m', g.orders_12m::text, s.orders_12m IS DISTINCT FROM g.orders_12m),
		('first_order_at', g.first_order_at::text, s.first_order_at IS DISTINCT FROM g.first_order_at),
		('last_order_at', g.last_order_at::text, s.last_order_at IS DISTINCT FROM g.last_order_at),
		('active_months_12m', g.active_months_12m::text, s.active_months_12m IS DISTINCT FROM g.active_months_12m),
		('repurchase_rate', g.repurchase_rate::text, s.repurchase_rate IS DISTINCT FROM g.repurchase_rate),
		('avg_payment_days', g.avg_payment_days::text, s.avg_payment_days IS DISTINCT FROM g.avg_payment_days),
		('grade', g.grade, s.grade IS DISTINCT FROM g.grade),
		('lifecycle', g.lifecycle, s.lifecycle IS DISTINCT FROM g.lifecycle),
		('risk', g.risk, s.risk IS DISTINCT FROM g.risk),
		('next_follow_up_at', g.next_follow_up_at::text, s.next_follow_up_at IS DISTINCT FROM g.next_follow_up_at),
		('open_opportunities', g.open_opportunities::text, s.open_opportunities IS DISTINCT FROM g.open_opportunities),
		('contacts_90d', g.contacts_90d::text, s.contacts_90d IS DISTINCT FROM g.contacts_90d),
		('last_contact_at', g.last_contact_at::text, s.last_contact_at IS DISTINCT FROM g.last_contact_at),
		('last_outcome', g.last_outcome, s.last_outcome IS DISTINCT FROM g.last_outcome),
		('next_action_at', g.next_action_at::text, s.next_action_at IS DISTINCT FROM g.next_action_at),
		('first_contact_at', g.first_contact_at::text, s.first_contact_at IS DISTINCT FROM g.first_contact_at)
	) AS d(field, recomputed, differs)
	 WHERE g.pass = 'valid_until' AND d.differs
	UNION ALL
	-- growth_months against its value at T (a wrong stored one is reported
	-- once, above): it must not change before valid_until
	SELECT x.c, x.at, 'growth_months', x.later::text
	  FROM (SELECT met.c, min(met.at) FILTER (WHERE met.pass = 'valid_until') AS at,
				   min(met.growth_months) FILTER (WHERE met.pass = 'now') AS now,
				   min(met.growth_months) FILTER (WHERE met.pass = 'valid_until') AS later
			  FROM met GROUP BY met.c) x
	 WHERE x.later <> x.now
)
SELECT x.customer, x.field, x.stored, x.recomputed FROM (
	SELECT coalesce(c.gc, c.sc) AS customer, 'exists' AS field,
		   CASE WHEN c.stored_exists THEN 'yes' ELSE 'no' END AS stored,
		   CASE WHEN c.gc IS NOT NULL THEN 'yes' ELSE 'no' END AS recomputed
	  FROM cmp c
	 WHERE c.field = 'total_amount' AND c.stored_exists <> (c.gc IS NOT NULL)
	UNION ALL
	SELECT c.gc, c.field, c.stored, c.recomputed
	  FROM cmp c
	 WHERE c.gc IS NOT NULL AND c.stored_exists AND c.differs
	UNION ALL
	SELECT s.customer, 'valid_until', s.valid_until::text, 'after graded_at ' || s.graded_at::text
	  FROM @extschema@.customer_state s
	 WHERE s.valid_until <= s.graded_at
	UNION ALL
	SELECT l.c, 'valid_until', s.valid_until::text,
		   format('the row changes before it: at %%s %%s', l.at,
				  string_agg(format('%%s = %%s', l.field, coalesce(l.recomputed, 'NULL')), ', ' ORDER BY l.field))
	  FROM later l JOIN @extschema@.customer_state s ON s.customer = l.c
	 GROUP BY l.c, l.at, s.valid_until
) x
 ORDER BY 1, 2
$q$, @extschema@._verify_rows_sql('orders'), @extschema@._verify_rows_sql('customers'),
	   @extschema@._verify_rows_sql('contacts'), @extschema@._verify_rows_sql('opportunities'))
	USING t, tz, pol, polname, current_setting('crm_grade.churned_days')::int,
		  current_setting('crm_grade.dormant_days')::int, current_setting('crm_grade.intent_days')::int,
		  pop.amount_12m_total, pop.recency_cutoffs, pop.frequency_cutoffs, pop.monetary_cutoffs, pol ->> 'kind';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
								hnt = PG_EXCEPTION_HINT;
		PERFORM @extschema@._raise(st, msg, det, hnt,
								   'verify()' || coalesce(', reading ' || @extschema@._unreadable_source()::text, ''), NULL);
	END;
END $$;
COMMENT ON FUNCTION @extschema@.verify() IS 'recompute every customer with plain SQL, at T and just before its valid_until, and list each disagreement with the stored state; empty means consistent';
--
-- Views without a customer column.  They do not depend on the application's
-- key type, so they are ordinary extension members.  (customer_grades and
-- grade_history are created by the first attach_*: see _build_views.)
--

-- The Pareto view: customers and 12-month revenue per grade, best grade first.
CREATE OR REPLACE VIEW @extschema@.grade_summary AS
WITH g AS (
	SELECT s.grade, min(s.grade_rank) AS grade_rank, count(*) AS customers,
		   sum(s.amount_12m) AS amount_12m
	  FROM @extschema@.customer_state s
	 WHERE s.grade IS NOT NULL
	 GROUP BY s.grade
)
SELECT g.grade, g.customers, g.amount_12m,
	   round(g.amount_12m / nullif(sum(g.amount_12m) OVER (), 0), 4) AS share_12m,
	   round(sum(g.amount_12m) OVER (ORDER BY g.grade_rank, g.grade)
			 / nullif(sum(g.amount_12m) OVER (), 0), 4) AS cumulative_share_12m
  FROM g
 ORDER BY g.grade_rank, g.grade;
COMMENT ON VIEW @extschema@.grade_summary IS 'customers and 12-month revenue per grade, best grade first: the Pareto view';
COMMENT ON COLUMN @extschema@.grade_summary.grade IS 'grade given by the active policy';
COMMENT ON COLUMN @extschema@.grade_summary.customers IS 'customers with this grade';
COMMENT ON COLUMN @extschema@.grade_summary.amount_12m IS 'their 12-month revenue, refunds subtracted';
COMMENT ON COLUMN @extschema@.grade_summary.share_12m IS 'share of all customers'' 12-month revenue';
COMMENT ON COLUMN @extschema@.grade_summary.cumulative_share_12m IS 'share of this grade and every better one';

-- The lifecycle funnel: per calendar month (in crm_grade.timezone) of
-- grade_history, the customers entering each stage, the conversions of
-- prospects and customers with intent into active ones, and the rate of
-- those among everyone who was in the pipeline (prospect or intent) at the
-- start of the month or entered it during the month.  As complete as the
-- history: it starts with the first attach.
CREATE OR REPLACE VIEW @extschema@.lifecycle_funnel AS
WITH h AS (
	SELECT h.customer, h.changed_at, h.old_lifecycle, h.new_lifecycle, h.reason,
		   pg_catalog.date_trunc('month', h.changed_at AT TIME ZONE @extschema@._timezone())::date AS month,
		   lead(h.changed_at) OVER (PARTITION BY h.customer ORDER BY h.changed_at, h.id) AS until
	  FROM @extschema@.history h
), months AS (
	SELECT m::date AS month, (m::timestamp AT TIME ZONE @extschema@._timezone()) AS starts
	  FROM generate_series((SELECT min(h.month) FROM h),
						   pg_catalog.date_trunc('month', @extschema@.as_of() AT TIME ZONE @extschema@._timezone()),
						   interval '1 month') m
), moves AS (
	SELECT h.month,
		   count(*) FILTER (WHERE h.new_lifecycle = 'prospect' AND h.old_lifecycle IS DISTINCT FROM 'prospect') AS prospects,
		   count(*) FILTER (WHERE h.new_lifecycle = 'intent' AND h.old_lifecycle IS DISTINCT FROM 'intent') AS intent,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IS NULL) AS first_seen_active,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IN ('prospect', 'intent')) AS conversions,
		   count(*) FILTER (WHERE h.new_lifecycle = 'dormant' AND h.old_lifecycle IS DISTINCT FROM 'dormant') AS dormant,
		   count(*) FILTER (WHERE h.new_lifecycle = 'churned' AND h.old_lifecycle IS DISTINCT FROM 'churned') AS churned,
		   count(*) FILTER (WHERE h.new_lifecycle = 'active' AND h.old_lifecycle IN ('dormant', 'churned')) AS reactivations
	  FROM h
	 -- a customer's first evaluation by an attach, an update or a full
	 -- re-grade is when crm_grade started to follow it, not a move
	 WHERE NOT (h.old_lifecycle IS NULL AND h.reason IN ('attach', 'upgrade', 'regrade_all', 'policy'))
	 GROUP BY h.month
), pipeline AS (
	SELECT m.month, count(DISTINCT h.customer) AS at_start
	  FROM months m JOIN h ON h.changed_at < m.starts AND (h.until IS NULL OR h.until >= m.starts)
	 WHERE h.new_lifecycle IN ('prospect', 'intent')
	 GROUP BY m.month
)
SELECT m.month,
	   coalesce(p.at_start, 0) AS pipeline_at_start,
	   coalesce(v.prospects, 0) AS prospects,
	   coalesce(v.intent, 0) AS intent,
	   coalesce(v.conversions, 0) + coalesce(v.first_seen_active, 0) AS first_orders,
	   coalesce(v.conversions, 0) AS conversions,
	   round(coalesce(v.conversions, 0)::numeric
			 / nullif(coalesce(p.at_start, 0) + coalesce(v.prospects, 0) + coalesce(v.intent, 0), 0), 4) AS conversion_rate,
	   coalesce(v.dormant, 0) AS dormant,
	   coalesce(v.churned, 0) AS churned,
	   coalesce(v.reactivations, 0) AS reactivations
  FROM months m
  LEFT JOIN moves v ON v.month = m.month
  LEFT JOIN pipeline p ON p.month = m.month
 ORDER BY m.month;
COMMENT ON VIEW @extschema@.lifecycle_funnel IS 'per month of grade_history: customers entering each stage, conversions of prospects and customers with intent, the conversion rate, dormancy, churn and reactivations';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.month IS 'the calendar month, in crm_grade.timezone';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.pipeline_at_start IS 'customers who were prospects or had intent when the month began';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.prospects IS 'customers who became prospects (new ones, mostly)';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.intent IS 'customers who entered the intent stage (an intent contact or an open opportunity, no order)';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.first_orders IS 'customers who became active for the first time: conversions, and customers first seen with an order';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.conversions IS 'prospects and customers with intent who became active';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.conversion_rate IS 'conversions over the pipeline at the start of the month plus those who entered it during the month, 4 decimals';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.dormant IS 'customers who became dormant';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.churned IS 'customers who churned';
COMMENT ON COLUMN @extschema@.lifecycle_funnel.reactivations IS 'dormant or churned customers who ordered again';
--
-- The embedded sample CRM: create_sample_schema() makes ready tables and
-- attaches them, generate_sample() fills them with realistic data for demos
-- and benchmarks.  The tables are created when the functions are called, not
-- by the install script, so they are never members of the extension.
--
-- The generator is set-based and deterministic: every random draw is a hash
-- of (seed, stream, row number), and every date is a whole number of days
-- before the local date of crm_grade.as_of() in crm_grade.timezone.  The same
-- seed on the same day gives the same rows.
--

-- A uniform draw in (0, 1) from (seed, stream, i); streams must be below
-- 2048.  Plain SQL without SET, so that the planner inlines it (a SET clause
-- would make generate_sample several times slower); instead every function
-- and operator is schema-qualified, so no search_path can redirect it.
CREATE OR REPLACE FUNCTION @extschema@._sample_uniform(seed int, stream int, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ((pg_catalog.hashint8extended(i, seed::bigint OPERATOR(pg_catalog.*) 4096 OPERATOR(pg_catalog.+) stream)
			 OPERATOR(pg_catalog.&) 4503599627370495)::double precision OPERATOR(pg_catalog.+) 0.5)
		   OPERATOR(pg_catalog./) 4503599627370496.0::double precision
$$;

-- A standard normal draw from (seed, stream, i) (Box-Muller); inlined and
-- schema-qualified like _sample_uniform.
CREATE OR REPLACE FUNCTION @extschema@._sample_normal(seed int, stream int, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.sqrt(OPERATOR(pg_catalog.-) 2::double precision OPERATOR(pg_catalog.*)
						   pg_catalog.ln(@extschema@._sample_uniform(seed, stream, i)))
		   OPERATOR(pg_catalog.*) pg_catalog.cos(2::double precision OPERATOR(pg_catalog.*) pg_catalog.pi()
						   OPERATOR(pg_catalog.*) @extschema@._sample_uniform(seed, 2048 OPERATOR(pg_catalog.+) stream, i))
$$;

-- One row per sample customer: its segment, value, the span of days (before
-- the local date of T) its orders fall in, and how many orders and contacts
-- it gets.  Order and contact counts are shares of the requested totals by
-- cumulative weight, so they add up exactly; customers with orders get at
-- least one each when there are enough orders to go round.
--   segment  share  last order (days ago)  created (days ago)
--   active    58%   1..60                  150..1049
--   new        8%   1..20                  up to ~155
--   dormant   12%   185..359               last order + 30..729
--   churned   10%   370..699               last order + 30..429
--   prospect  12%   no orders              1..700
CREATE OR REPLACE FUNCTION @extschema@._sample_profile(customers int, orders int, contacts int, seed int)
	RETURNS TABLE (id bigint, segment text, z double precision, ticket double precision,
				   pay_days_mean double precision, created_day int, first_day int, last_day int,
				   n_orders int, order_base bigint, n_contacts int, contact_base bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
WITH c AS (
	SELECT i,
		   @extschema@._sample_uniform(seed, 1, i) AS u_seg,
		   @extschema@._sample_normal(seed, 2, i) AS z0,
		   @extschema@._sample_uniform(seed, 3, i) AS u_gap,
		   @extschema@._sample_uniform(seed, 4, i) AS u_age,
		   @extschema@._sample_uniform(seed, 5, i) AS u_pay
	  FROM generate_series(1, customers::bigint) i
), s AS (
	-- customer value: standard normal, its upper tail bent down smoothly
	-- (z > 2.5 grows logarithmically) so no single customer dwarfs the rest
	SELECT c.*, CASE WHEN z0 > 2.5 THEN 2.5 + ln(z0 - 1.5) ELSE z0 END AS z,
		   CASE WHEN u_seg < 0.12 THEN 'prospect'
				WHEN u_seg < 0.22 THEN 'churned'
				WHEN u_seg < 0.34 THEN 'dormant'
				WHEN u_seg < 0.42 THEN 'new'
				ELSE 'active' END AS segment
	  FROM c
), d AS (
	SELECT s.*,
		   CASE segment
				WHEN 'active' THEN 1 + floor(u_gap * u_gap * 60)
				WHEN 'new' THEN 1 + floor(u_gap * 20)
				WHEN 'dormant' THEN 185 + floor(u_gap * 175)
				WHEN 'churned' THEN 370 + floor(u_gap * 330)
		   END::int AS last_day
	  FROM s
), a AS (
	SELECT d.*,
		   CASE segment
				WHEN 'active' THEN 150 + floor(u_age * 900)
				WHEN 'new' THEN last_day + 5 + floor(u_age * (150 - last_day))
				WHEN 'dormant' THEN last_day + 30 + floor(u_age * 700)
				WHEN 'churned' THEN last_day + 30 + floor(u_age * 400)
				ELSE 1 + floor(u_age * 700)
		   END::int AS created_day
	  FROM d
), w AS (
	-- order weight: value times the length of the span, so a customer's
	-- order rate does not depend on when it started; contacts follow value
	-- more weakly, and prospects are worked harder than their value says
	SELECT a.*, least(created_day, 730) AS first_day,
		   (CASE WHEN segment = 'prospect' THEN 0
				 ELSE exp(1.2 * z) * (least(created_day, 730) - last_day + 30) / 760.0
			END)::numeric AS f,
		   (CASE WHEN segment = 'prospect' THEN 2 ELSE 1 + exp(0.6 * z) END)::numeric AS g
	  FROM a
), t AS (
	SELECT count(*) FILTER (WHERE f > 0) AS ordering,
		   nullif(sum(f), 0) AS total_f, nullif(sum(g), 0) AS total_g
	  FROM w
), r AS (
	-- one order each first, if there are enough; the rest by weight
	SELECT t.*, orders >= ordering AS one_each,
		   orders - CASE WHEN orders >= ordering THEN ordering ELSE 0 END AS rest
	  FROM t
), cum AS (
	SELECT w.*, r.*, sum(f) OVER (ORDER BY i) AS cf, sum(g) OVER (ORDER BY i) AS cg
	  FROM w, r
), n AS MATERIALIZED (
	SELECT cum.*,
		   (CASE WHEN f > 0 AND one_each THEN 1 ELSE 0 END
			+ coalesce(floor(rest * cf / total_f) - floor(rest * (cf - f) / total_f), 0))::int AS n_orders,
		   coalesce(floor(contacts * cg / total_g) - floor(contacts * (cg - g) / total_g), 0)::int AS n_contacts
	  FROM cum
)
SELECT i, segment, z,
	   -- typical order value: together with the order weight, revenue per
	   -- customer is log-normal with sigma 2, so ~5% of customers bring
	   -- most of it
	   3000 * exp(0.8 * z),
	   5 + 35 * u_pay,
	   created_day, CASE WHEN segment <> 'prospect' THEN first_day END, last_day,
	   n_orders, sum(n_orders) OVER (ORDER BY i) - n_orders,
	   n_contacts, sum(n_contacts) OVER (ORDER BY i) - n_contacts
  FROM n
 ORDER BY i
$$;

-- The schema generate_sample() fills: the one whose customers table is the
-- attached customer master, or else crm.
CREATE OR REPLACE FUNCTION @extschema@._sample_schema() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sch name;
BEGIN
	SELECT n.nspname INTO sch
	  FROM @extschema@.source s
	  JOIN pg_class c ON c.oid = s.tbl
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE s.kind = 'customers' AND c.relname = 'customers'
	 LIMIT 1;
	sch := coalesce(sch, 'crm');
	IF to_regclass(format('%I.customers', sch)) IS NULL OR to_regclass(format('%I.orders', sch)) IS NULL
	   OR to_regclass(format('%I.contact_logs', sch)) IS NULL OR to_regclass(format('%I.opportunities', sch)) IS NULL THEN
		RAISE EXCEPTION 'there is no sample schema to fill'
			USING ERRCODE = 'undefined_table',
				  DETAIL = format('Schema %I does not hold the tables customers, orders, contact_logs and opportunities.', sch),
				  HINT = 'Run SELECT crm_grade.create_sample_schema(); first.';
	END IF;
	RETURN sch;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.create_sample_schema(schema name DEFAULT 'crm') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF schema IS NULL THEN
		RAISE EXCEPTION 'schema must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Call crm_grade.create_sample_schema() for schema crm, or name another schema.';
	END IF;
	-- only what is missing is created, so a second call just attaches again
	IF NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = schema) THEN
		EXECUTE format('CREATE SCHEMA %I', schema);
		EXECUTE format('COMMENT ON SCHEMA %I IS %L', schema,
					   'sample CRM made by crm_grade.create_sample_schema(); fill it with crm_grade.generate_sample()');
	END IF;
	IF to_regclass(format('%I.customers', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.customers (
				id			bigint PRIMARY KEY,
				name		text NOT NULL,
				phone		text,
				email		text,
				owner		text,
				created_at	timestamptz NOT NULL DEFAULT now(),
				source		text,
				attributes	jsonb NOT NULL DEFAULT '{}'
			)$t$, schema);
	END IF;
	IF to_regclass(format('%I.orders', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.orders (
				id			bigserial PRIMARY KEY,
				customer_id	bigint NOT NULL REFERENCES %1$I.customers,
				amount		numeric(14,2) NOT NULL,
				ordered_at	timestamptz NOT NULL,
				paid_at		timestamptz
			)$t$, schema);
		EXECUTE format('CREATE INDEX orders_customer_id_idx ON %I.orders (customer_id)', schema);
	END IF;
	IF to_regclass(format('%I.contact_logs', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.contact_logs (
				id				bigserial PRIMARY KEY,
				customer_id		bigint NOT NULL REFERENCES %1$I.customers,
				contacted_at	timestamptz NOT NULL,
				channel			text,
				outcome			text,
				next_action_at	timestamptz,
				note			text
			)$t$, schema);
		EXECUTE format('CREATE INDEX contact_logs_customer_id_idx ON %I.contact_logs (customer_id)', schema);
	END IF;
	IF to_regclass(format('%I.opportunities', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.opportunities (
				id					bigserial PRIMARY KEY,
				customer_id			bigint NOT NULL REFERENCES %1$I.customers,
				stage				text NOT NULL,
				amount				numeric(14,2),
				stage_changed_at	timestamptz NOT NULL,
				is_open				boolean NOT NULL DEFAULT true
			)$t$, schema);
		EXECUTE format('CREATE INDEX opportunities_customer_id_idx ON %I.opportunities (customer_id)', schema);
	END IF;

	PERFORM @extschema@.attach_customers(format('%I.customers', schema)::regclass, 'id', 'owner', 'created_at', 'attributes');
	PERFORM @extschema@.attach_orders(format('%I.orders', schema)::regclass, 'customer_id', 'amount', 'ordered_at', 'paid_at');
	PERFORM @extschema@.attach_contacts(format('%I.contact_logs', schema)::regclass, 'customer_id', 'contacted_at',
										'channel', 'outcome', 'next_action_at');
	PERFORM @extschema@.attach_opportunities(format('%I.opportunities', schema)::regclass, 'customer_id', 'stage',
											 'amount', 'stage_changed_at', 'is_open');
END $$;
COMMENT ON FUNCTION @extschema@.create_sample_schema(name) IS 'create the sample CRM tables customers, orders, contact_logs and opportunities in a schema (default crm) and attach them';

CREATE OR REPLACE FUNCTION @extschema@.generate_sample(customers int, orders int, contacts int, seed int DEFAULT 1) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sch name;
	tz text := @extschema@._timezone();
	t timestamptz := @extschema@.as_of();
	today date;
	arg text;
	val int;
BEGIN
	FOREACH arg IN ARRAY '{customers,orders,contacts,seed}'::text[] LOOP
		val := CASE arg WHEN 'customers' THEN generate_sample.customers WHEN 'orders' THEN generate_sample.orders
						WHEN 'contacts' THEN generate_sample.contacts ELSE generate_sample.seed END;
		IF val IS NULL THEN
			RAISE EXCEPTION 'argument % of generate_sample must not be NULL', arg
				USING ERRCODE = 'null_value_not_allowed',
					  HINT = 'Pass a number, for example crm_grade.generate_sample(10000, 200000, 20000).';
		ELSIF val < 0 AND arg <> 'seed' THEN
			RAISE EXCEPTION 'argument % of generate_sample must not be negative', arg
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('%s is %s.', arg, val),
					  HINT = 'Pass how many rows to generate, 0 or more.';
		END IF;
	END LOOP;
	IF generate_sample.customers = 0 AND (generate_sample.orders > 0 OR generate_sample.contacts > 0) THEN
		RAISE EXCEPTION 'argument customers of generate_sample must be positive when orders or contacts are requested'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('customers is 0, orders %s, contacts %s.', generate_sample.orders, generate_sample.contacts),
				  HINT = 'Orders and contact logs belong to customers: ask for at least one.';
	END IF;

	sch := @extschema@._sample_schema();
	today := (t AT TIME ZONE tz)::date;

	-- replace what an earlier call generated; crm_grade's TRUNCATE triggers
	-- clear the state of those customers
	EXECUTE format('TRUNCATE %1$I.opportunities, %1$I.contact_logs, %1$I.orders, %1$I.customers RESTART IDENTITY', sch);

	-- customers first, in one statement
	EXECUTE format($q$
		INSERT INTO %1$I.customers (id, name, phone, email, owner, created_at, source, attributes)
		SELECT p.id,
			   format('%%s %%s %%s Co., Ltd.',
					  ('{Shanghai,Beijing,Shenzhen,Hangzhou,Suzhou,Chengdu,Wuhan,Nanjing,Guangzhou,Tianjin,Xiamen,Qingdao}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 20, p.id) * 12)::int],
					  ('{Huaxin,Evergreen,Jinyuan,Orient,Tianhe,Zhongda,Hengtai,Starlight,Longmen,Baifu,Ruifeng,Kaida}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 21, p.id) * 12)::int],
					  ('{Machinery,Electronics,Textiles,Logistics,Foods,Chemicals,Medical,Software,Furniture,Packaging,"Auto Parts","Building Materials"}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 22, p.id) * 12)::int]),
			   CASE WHEN @extschema@._sample_uniform($4, 23, p.id) >= 0.05 THEN
					'1' || ('{38,39,50,58,86,88,36,77}'::text[])[1 + floor(@extschema@._sample_uniform($4, 24, p.id) * 8)::int]
						|| lpad(floor(@extschema@._sample_uniform($4, 25, p.id) * 100000000)::text, 8, '0')
			   END,
			   CASE WHEN @extschema@._sample_uniform($4, 26, p.id) >= 0.10 THEN
					format('contact%%s@%%s', p.id,
						   ('{example.com,example.net,example.org}'::text[])[1 + floor(@extschema@._sample_uniform($4, 27, p.id) * 3)::int])
			   END,
			   'rep0' || (1 + floor(@extschema@._sample_uniform($4, 28, p.id) * 8))::int,
			   timezone($6, ($5 - p.created_day - 1) + make_interval(mins => 540 + floor(@extschema@._sample_uniform($4, 29, p.id) * 540)::int)),
			   CASE WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.20 THEN 'referral'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.40 THEN 'exhibition'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.70 THEN 'website'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.85 THEN 'cold_call'
					ELSE 'partner' END,
			   -- qualitative 0..100 scores, loosely following the customer's value
			   jsonb_build_object(
				   'customization', greatest(0, least(100, round(50 + 10 * p.z + 18 * @extschema@._sample_normal($4, 31, p.id)))),
				   'service_level', greatest(0, least(100, round(55 + 8 * p.z + 15 * @extschema@._sample_normal($4, 32, p.id)))),
				   'industry_outlook', greatest(0, least(100, round(50 + 5 * p.z + 20 * @extschema@._sample_normal($4, 33, p.id)))),
				   'expansion', greatest(0, least(100, round(45 + 12 * p.z + 18 * @extschema@._sample_normal($4, 34, p.id)))),
				   'referral', greatest(0, least(100, round(40 + 6 * p.z + 22 * @extschema@._sample_normal($4, 35, p.id)))))
		  FROM @extschema@._sample_profile($1, $2, $3, $4) p
		 ORDER BY p.id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	-- all orders in one statement, so crm_grade grades each customer once.
	-- The last order of a customer falls on its last_day; the others are
	-- spread over its span, each the seasonally likelier of two candidate
	-- days (weights by calendar month: Spring Festival low in February, a
	-- mid-year bump in June, the year-end peak in November and December).
	-- About 1% are refunds (negative), about 80% are paid 0..60 days later.
	EXECUTE format($q$
		INSERT INTO %1$I.orders (customer_id, amount, ordered_at, paid_at)
		SELECT customer_id, amount, ordered_at,
			   CASE WHEN amount > 0 AND u_paid < 0.8 AND paid_at <= $7 THEN paid_at END
		  FROM (
			SELECT r.customer_id, r.ordered_at,
				   CASE WHEN r.refund THEN -round((r.value * (0.2 + 0.8 * r.u_part))::numeric, 2)
						ELSE round(r.value::numeric, 2) END AS amount,
				   r.u_paid,
				   r.ordered_at + make_interval(days => least(60, floor(-r.pay_days_mean * ln(r.u_paydays)))::int,
												mins => floor(r.u_paymin * 480)::int) AS paid_at
			  FROM (
				SELECT c.customer_id, c.pay_days_mean,
					   timezone($6, ($5 - CASE WHEN c.is_last THEN c.last_day
											   WHEN c.u_pick * (w[extract(month FROM $5 - c.d1)::int] + w[extract(month FROM $5 - c.d2)::int])
													< w[extract(month FROM $5 - c.d1)::int] THEN c.d1
											   ELSE c.d2 END)
										+ make_interval(mins => 480 + floor(c.u_min * 720)::int)) AS ordered_at,
					   least(200000, greatest(100, c.ticket * exp(0.6 * c.z_amount))) AS value,
					   NOT c.is_last AND c.u_refund < 0.01 AS refund,
					   c.u_part, c.u_paid, c.u_paydays, c.u_paymin
				  FROM (
					SELECT p.id AS customer_id, p.ticket, p.pay_days_mean, p.last_day, k = p.n_orders AS is_last,
						   p.last_day + floor(@extschema@._sample_uniform($4, 40, j) * (p.first_day - p.last_day + 1))::int AS d1,
						   p.last_day + floor(@extschema@._sample_uniform($4, 41, j) * (p.first_day - p.last_day + 1))::int AS d2,
						   @extschema@._sample_uniform($4, 42, j) AS u_pick,
						   @extschema@._sample_uniform($4, 43, j) AS u_min,
						   @extschema@._sample_normal($4, 44, j) AS z_amount,
						   @extschema@._sample_uniform($4, 45, j) AS u_refund,
						   @extschema@._sample_uniform($4, 46, j) AS u_part,
						   @extschema@._sample_uniform($4, 47, j) AS u_paid,
						   @extschema@._sample_uniform($4, 48, j) AS u_paydays,
						   @extschema@._sample_uniform($4, 49, j) AS u_paymin
					  FROM @extschema@._sample_profile($1, $2, $3, $4) p,
						   generate_series(1, p.n_orders) k,
						   LATERAL (SELECT p.order_base + k AS j) x
					 WHERE p.n_orders > 0
					OFFSET 0	-- draw each number once, not once per use
				  ) c,
				  (SELECT '{0.8,0.35,0.9,1,1,1.3,0.8,0.8,1,1.2,1.8,2.4}'::float8[] AS w) m
			  OFFSET 0
			  ) r
			OFFSET 0
		  ) o
		 ORDER BY ordered_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz, t;

	-- contact logs over each customer's life (dormant and churned customers
	-- mostly around their last orders), outcomes by segment
	EXECUTE format($q$
		INSERT INTO %1$I.contact_logs (customer_id, contacted_at, channel, outcome, next_action_at, note)
		SELECT customer_id, contacted_at, channel, outcome,
			   CASE WHEN outcome IN ('reached', 'intent', 'no_answer') AND u_next < 0.5
					THEN contacted_at + make_interval(days => 1 + floor(u_next * 28)::int) END,
			   CASE outcome
					WHEN 'reached' THEN ('{"checked stock and upcoming needs","sent updated price list","confirmed delivery schedule","introduced new product line"}'::text[])[1 + floor(u_note * 4)::int]
					WHEN 'no_answer' THEN 'no answer, try again'
					WHEN 'intent' THEN ('{"asked for a quotation","wants a product demo","comparing with current supplier"}'::text[])[1 + floor(u_note * 3)::int]
					WHEN 'complaint' THEN ('{"late delivery","quality issue on last batch","invoice error"}'::text[])[1 + floor(u_note * 3)::int]
					ELSE ('{"moved to a competitor","project cancelled","budget cut"}'::text[])[1 + floor(u_note * 3)::int]
			   END
		  FROM (
			SELECT c.customer_id,
				   timezone($6, ($5 - c.day) + make_interval(mins => 540 + floor(c.u_min * 540)::int)) AS contacted_at,
				   CASE WHEN c.u_channel < 0.40 THEN 'phone' WHEN c.u_channel < 0.75 THEN 'wechat'
						WHEN c.u_channel < 0.90 THEN 'email' ELSE 'visit' END AS channel,
				   CASE c.segment
						WHEN 'prospect' THEN CASE WHEN c.u_outcome < 0.30 THEN 'reached' WHEN c.u_outcome < 0.65 THEN 'no_answer'
												  WHEN c.u_outcome < 0.90 THEN 'intent' ELSE 'lost' END
						WHEN 'churned' THEN CASE WHEN c.u_outcome < 0.30 THEN 'reached' WHEN c.u_outcome < 0.70 THEN 'no_answer'
												 WHEN c.u_outcome < 0.80 THEN 'complaint' ELSE 'lost' END
						WHEN 'dormant' THEN CASE WHEN c.u_outcome < 0.40 THEN 'reached' WHEN c.u_outcome < 0.75 THEN 'no_answer'
												 WHEN c.u_outcome < 0.85 THEN 'intent' WHEN c.u_outcome < 0.95 THEN 'complaint' ELSE 'lost' END
						ELSE CASE WHEN c.u_outcome < 0.60 THEN 'reached' WHEN c.u_outcome < 0.80 THEN 'no_answer'
								  WHEN c.u_outcome < 0.92 THEN 'intent' WHEN c.u_outcome < 0.97 THEN 'complaint' ELSE 'lost' END
				   END AS outcome,
				   c.u_next, c.u_note
			  FROM (
				SELECT p.id AS customer_id, p.segment,
					   CASE WHEN p.segment IN ('dormant', 'churned')
							THEN greatest(1, p.last_day - 90) + floor(@extschema@._sample_uniform($4, 60, j) * (least(p.created_day, 730) - greatest(1, p.last_day - 90) + 1))::int
							ELSE 1 + floor(@extschema@._sample_uniform($4, 60, j) * least(p.created_day, 730))::int
					   END AS day,
					   @extschema@._sample_uniform($4, 61, j) AS u_min,
					   @extschema@._sample_uniform($4, 62, j) AS u_channel,
					   @extschema@._sample_uniform($4, 63, j) AS u_outcome,
					   @extschema@._sample_uniform($4, 64, j) AS u_next,
					   @extschema@._sample_uniform($4, 65, j) AS u_note
				  FROM @extschema@._sample_profile($1, $2, $3, $4) p,
					   generate_series(1, p.n_contacts) k,
					   LATERAL (SELECT p.contact_base + k AS j) x
				 WHERE p.n_contacts > 0
				OFFSET 0
			  ) c
		  ) l
		 ORDER BY contacted_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	-- opportunities for about a quarter of the customers: open ones mostly
	-- for prospects and new customers, some stalled for weeks
	EXECUTE format($q$
		INSERT INTO %1$I.opportunities (customer_id, stage, amount, stage_changed_at, is_open)
		SELECT customer_id, stage, amount, stage_changed_at, stage NOT IN ('won', 'lost')
		  FROM (
			SELECT p.id AS customer_id,
				   CASE WHEN p.segment IN ('prospect', 'new') AND @extschema@._sample_uniform($4, 71, p.id) < 0.8
						THEN ('{qualification,needs,proposal,negotiation}'::text[])[1 + floor(@extschema@._sample_uniform($4, 72, p.id) * 4)::int]
						ELSE ('{qualification,needs,proposal,negotiation,won,won,lost,lost}'::text[])[1 + floor(@extschema@._sample_uniform($4, 72, p.id) * 8)::int]
				   END AS stage,
				   round((p.ticket * (2 + 8 * @extschema@._sample_uniform($4, 73, p.id)))::numeric, -2) AS amount,
				   timezone($6, ($5 - least(p.created_day, 1 + floor(@extschema@._sample_uniform($4, 74, p.id) ^ 2 * 120)::int))
								+ make_interval(mins => 540 + floor(@extschema@._sample_uniform($4, 75, p.id) * 540)::int)) AS stage_changed_at
			  FROM @extschema@._sample_profile($1, $2, $3, $4) p
			 WHERE @extschema@._sample_uniform($4, 70, p.id)
				   < CASE p.segment WHEN 'prospect' THEN 0.30 WHEN 'new' THEN 0.35 WHEN 'active' THEN 0.25
									WHEN 'dormant' THEN 0.10 ELSE 0.05 END
		  ) o
		 ORDER BY stage_changed_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	EXECUTE format('ANALYZE %1$I.customers, %1$I.orders, %1$I.contact_logs, %1$I.opportunities', sch);
END $$;
COMMENT ON FUNCTION @extschema@.generate_sample(int, int, int, int) IS 'replace the sample schema''s rows with generated customers, orders and contact logs (deterministic for a seed and a day); revenue is concentrated in few customers, orders are seasonal, some customers are dormant or churned';
--
-- Who may call what (README "Security").  Functions that read or write
-- crm_grade's state or an application's tables are not executable by
-- PUBLIC: the extension's owner calls them, or grants them.  Those that
-- only compute stay PUBLIC: views and verify() call them as the reader.
--
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	@extschema@.as_of(),
	@extschema@._timezone(),
	@extschema@._window_start(timestamptz),
	@extschema@._month_index(timestamptz),
	@extschema@._owner_text(text),
	@extschema@._key_max_bytes(),
	@extschema@._time_in_range(timestamptz),
	@extschema@._time_in_range(timestamp),
	@extschema@._time_in_range(date),
	@extschema@._followups_as_of(timestamptz),
	@extschema@._check_attacher(text),
	@extschema@._filter_admits(regclass, text, record),
	@extschema@.check_policy(jsonb, text),
	@extschema@._score(jsonb, jsonb),
	@extschema@._raise(text, text, text, text, text, text),
	@extschema@._key_family(regtype),
	@extschema@._key_cast_sql(text, regtype, boolean),
	@extschema@._sql_condition(jsonb, jsonb),
	@extschema@._verify_attributes(jsonb),
	@extschema@._sample_uniform(int, int, bigint),
	@extschema@._sample_normal(int, int, bigint)
TO PUBLIC;
-- The trigger function too: PostgreSQL checks EXECUTE on it against whoever
-- creates or attaches a partition of an attached table (the partition gets
-- a copy of its row trigger), and that is the table's owner, not crm_grade's.
-- It refuses to work for any table but an attached one (or a partition of
-- one), for any trigger but the ones attach_*() creates, and for anything
-- called outside the trigger manager.
GRANT EXECUTE ON FUNCTION @extschema@.source_trigger() TO PUBLIC;
--
-- Preset policies (SPEC section 5), for a fresh install and an update
-- alike: inserted with the policy triggers off, checked explicitly, and
-- marked builtin so that dumps leave them out and nobody changes them in
-- place.  A policy of your own that has a new preset's name stops an
-- update (rename it first).
--
DO $$
DECLARE
	clash text;
BEGIN
	SELECT string_agg(format('%I', p.name), ', ') INTO clash FROM @extschema@.policy p
	 WHERE NOT p.builtin AND p.name IN ('abc', 'value_tier', 'four_class', 'weighted_score', 'rfm');
	IF clash IS NOT NULL THEN
		RAISE EXCEPTION 'crm_grade ships preset policies named %, and you have policies of your own with those names', clash
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Rename yours first: UPDATE crm_grade.policy SET name = ''my_'' || name WHERE name IN (...) AND NOT builtin;';
	END IF;
END $$;

ALTER TABLE @extschema@.policy DISABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy DISABLE TRIGGER policy_regrade;

INSERT INTO @extschema@.policy (name, definition, description, builtin) VALUES
('abc', $${
	"kind": "rules", "default": "C",
	"grades": [
		{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 500000}]}},
		{"grade": "B", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}
	],
	"cadence": {"A": "7 days", "B": "14 days", "C": "30 days"}
}$$, 'A: 12-month amount >= 500000; B: >= 100000; C: the rest', true),
('value_tier', $${
	"kind": "rules", "default": "low",
	"grades": [
		{"grade": "high", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 500000},
										   {"metric": "tenure_days", "op": ">=", "value": 365}]}},
		{"grade": "mid", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}
	],
	"cadence": {"high": "30 days", "mid": "45 days", "low": "182 days"}
}$$, 'high: 12-month amount >= 500000 and a customer for a year; mid: >= 100000; low: the rest', true),
('four_class', $${
	"kind": "rules", "default": "potential",
	"grades": [
		{"grade": "core", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000},
										   {"metric": "tenure_days", "op": ">=", "value": 365},
										   {"metric": "repurchase_rate", "op": ">=", "value": 0.8}]}},
		{"grade": "key", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 50000}]}},
		{"grade": "normal", "when": {"all": [{"metric": "orders_total", "op": ">=", "value": 1}]}}
	],
	"cadence": {"core": "7 days", "key": "15 days", "normal": "30 days", "potential": "7 days"}
}$$, 'core / key / normal / potential customers', true),
-- Points: amount_12m 60 at abc's B line (100000) and 100 at its A line
-- (500000); payment within 30 days (the usual net-30 terms) 80 and more;
-- a year's tenure 60 (four_class's line), three years 100; a monthly buyer
-- 80; a repurchase rate of 0.8 (four_class's line) 80.  Qualitative
-- attributes are 0..100 scores already: their points are the identity.
('weighted_score', $${
	"kind": "score", "default": "potential",
	"dimensions": [
		{"name": "financial", "weight": 0.3, "metrics": [
			{"metric": "amount_12m", "weight": 0.5, "points": [[0, 0], [50000, 40], [100000, 60], [500000, 100]]},
			{"metric": "avg_order_value_12m", "weight": 0.25, "points": [[0, 0], [5000, 50], [20000, 80], [50000, 100]]},
			{"metric": "avg_payment_days", "weight": 0.25, "points": [[0, 100], [30, 80], [60, 40], [90, 0]]}]},
		{"name": "cooperation", "weight": 0.3, "metrics": [
			{"metric": "tenure_days", "weight": 0.4, "points": [[0, 0], [365, 60], [730, 80], [1095, 100]]},
			{"metric": "orders_12m", "weight": 0.3, "points": [[0, 0], [1, 20], [4, 50], [12, 80], [24, 100]]},
			{"metric": "repurchase_rate", "weight": 0.3, "points": [[0, 0], [0.5, 50], [0.8, 80], [1, 100]]}]},
		{"name": "demand", "weight": 0.2, "metrics": [
			{"metric": "attr.customization", "weight": 0.5, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.service_level", "weight": 0.5, "points": [[0, 0], [100, 100]]}]},
		{"name": "potential", "weight": 0.2, "metrics": [
			{"metric": "attr.industry_outlook", "weight": 0.4, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.expansion", "weight": 0.3, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.referral", "weight": 0.3, "points": [[0, 0], [100, 100]]}]}
	],
	"bands": [{"grade": "core", "min": 80}, {"grade": "important", "min": 60}, {"grade": "regular", "min": 40}],
	"cadence": {"core": "7 days", "important": "14 days", "regular": "30 days", "potential": "60 days"}
}$$, 'weighted score: financial 0.3, cooperation 0.3, demand 0.2, potential 0.2; core >= 80, important >= 60, regular >= 40', true),
-- The ten-segment R x F map of many public RFM notebooks (M left free),
-- listed from the most valuable down: its order is the grades' rank.
('rfm', $${
	"kind": "rfm",
	"segments": [
		{"grade": "Champions", "r": [5, 5], "f": [4, 5]},
		{"grade": "Loyal", "r": [3, 4], "f": [4, 5]},
		{"grade": "Can't lose them", "r": [1, 2], "f": [5, 5]},
		{"grade": "At risk", "r": [1, 2], "f": [3, 4]},
		{"grade": "Potential loyalists", "r": [4, 5], "f": [2, 3]},
		{"grade": "Need attention", "r": [3, 3], "f": [3, 3]},
		{"grade": "New customers", "r": [5, 5], "f": [1, 1]},
		{"grade": "Promising", "r": [4, 4], "f": [1, 1]},
		{"grade": "About to sleep", "r": [3, 3], "f": [1, 2]},
		{"grade": "Hibernating", "r": [1, 2], "f": [1, 2]}
	],
	"lapsed": "Lost", "default": "Prospects",
	"cadence": {"Champions": "14 days", "Loyal": "14 days", "Can't lose them": "7 days", "At risk": "7 days",
				"Potential loyalists": "14 days", "Need attention": "7 days", "New customers": "7 days",
				"Promising": "14 days", "About to sleep": "7 days", "Hibernating": "30 days",
				"Lost": "60 days", "Prospects": "30 days"}
}$$, 'RFM segments by quintiles of recency, frequency and monetary value over the 12-month window', true)
ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, description = EXCLUDED.description,
	builtin = true;

SELECT @extschema@.check_policy(p.definition, p.name) FROM @extschema@.policy p;

ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_regrade;

-- The views again, and every customer evaluated by 0.11's definitions (this
-- is the last script of any update chain: the re-evaluation of the scripts
-- before it is left to it).  verify() is empty after the update, and each
-- grade that moves is in grade_history as "upgrade".
SELECT @extschema@._build_views();
-- made by this script, the views would be extension members, which pg_dump
-- leaves out: they belong to the attachments, as after a fresh attach_*
DO $$
DECLARE
	v text;
BEGIN
	FOREACH v IN ARRAY ARRAY['customer_grades', 'grade_history', 'data_issues', 'stalled_opportunities'] LOOP
		IF to_regclass('@extschema@.' || v) IS NOT NULL THEN
			EXECUTE format('ALTER EXTENSION crm_grade DROP VIEW @extschema@.%I', v);
		END IF;
	END LOOP;
	IF to_regprocedure('@extschema@.followups_due(timestamptz, text)') IS NOT NULL THEN
		ALTER EXTENSION crm_grade DROP FUNCTION @extschema@.followups_due(timestamptz, text);
	END IF;
END $$;
