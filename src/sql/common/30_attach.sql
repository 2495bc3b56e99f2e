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
	-- a foreign partition cannot take the statement triggers, and its rows
	-- are written where no trigger sees them: refused before any read
	SELECT t.relid INTO other FROM pg_partition_tree(tbl) t JOIN pg_class c ON c.oid = t.relid
	 WHERE c.relkind = 'f' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'relation % has foreign table % among its partitions', tbl, other.relid
			USING ERRCODE = 'wrong_object_type',
				  DETAIL = 'crm_grade grades a row in the transaction that writes it, which cannot see the writes of a foreign table.',
				  HINT = 'Detach the foreign partition first (ALTER TABLE ... DETACH PARTITION), or attach the partitions that are ordinary tables one by one.';
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

-- The open deals of one attached opportunity table (its filter applied,
-- and without the rows the triggers refuse for an infinite or out-of-range
-- time or an over-long key), as a query that _stalled_rows() runs.
CREATE OR REPLACE FUNCTION @extschema@._stalled_source_sql(tbl regclass, columns jsonb, filter text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT format(
		'SELECT %1$I::pg_catalog.text COLLATE pg_catalog."C", %2$s, %3$I::pg_catalog.numeric, %4$s, '
		'%5$L::pg_catalog.regclass FROM %5$s AS crm_grade_row WHERE %6$I AND pg_catalog.isfinite(%4$s) '
		'AND pg_catalog.octet_length(%1$I::pg_catalog.text) OPERATOR(pg_catalog.<=) @extschema@._key_max_bytes() AND %7$s',
		columns ->> 'customer', @extschema@._label_sql(tbl, columns ->> 'stage'), columns ->> 'amount',
		@extschema@._verify_time_sql(tbl, columns ->> 'stage_changed_at'), tbl,
		columns ->> 'is_open', @extschema@._admits_sql(tbl, filter, 'crm_grade_row'))
$$;

-- The open deals of every attached opportunity table, read when
-- stalled_opportunities is read: each table as its owner (_stalled_rows()),
-- for a reader who may read it.
CREATE OR REPLACE FUNCTION @extschema@._stalled_opportunities()
	RETURNS TABLE (c text, stage text, amount numeric, stage_changed_at timestamptz, source regclass)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT r.* FROM @extschema@.source x
	 CROSS JOIN LATERAL @extschema@._stalled_rows(x.tbl)
		   AS r(c text, stage text, amount numeric, stage_changed_at timestamptz, source regclass)
	 WHERE x.kind = 'opportunities'
$$;

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
