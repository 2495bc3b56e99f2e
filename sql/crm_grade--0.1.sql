-- crm_grade install script, assembled from src/sql/*.sql by the Makefile.
\echo Use "CREATE EXTENSION crm_grade" to load this file. \quit
--
-- Configuration, state and history.  All of it is registered with
-- pg_extension_config_dump so that pg_dump/pg_restore bring it back;
-- application tables are never members of the extension.
--

-- Stored grading policies.  Presets are marked builtin, cannot be changed
-- and are left out of dumps (CREATE EXTENSION recreates them).
CREATE TABLE @extschema@.policy (
	name		text PRIMARY KEY,
	definition	jsonb NOT NULL,
	description	text,
	builtin		boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.policy IS 'grading policies; presets are builtin, your own rows are validated on INSERT/UPDATE';

-- The active policy: no row means the default preset ''abc''.  Nothing is
-- inserted here by the install script, so a restored row never collides.
CREATE TABLE @extschema@.active_policy (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	name		text NOT NULL
);

-- Attached application tables.  regclass/regtype are dumped as names and
-- resolved again on restore.
CREATE TABLE @extschema@.source (
	tbl					regclass PRIMARY KEY,
	kind				text NOT NULL CHECK (kind IN ('orders', 'customers', 'contacts', 'opportunities')),
	key_type			regtype NOT NULL,
	customer_column		name NOT NULL,
	amount_column		name,
	time_column			name,
	paid_at_column		name,
	owner_column		name,
	created_at_column	name,
	attributes_column	name,
	attached_at			timestamptz NOT NULL DEFAULT now()
);

-- One row per customer.  The key is stored as the text form of the
-- application's key; the typed views cast it back.  Accumulator columns hold
-- what the triggers maintain incrementally; the rest is derived by the C
-- evaluator.  valid_until is the earliest moment time alone changes the row.
CREATE TABLE @extschema@.customer_state (
	customer			text PRIMARY KEY,
	-- customer master
	in_master			boolean NOT NULL DEFAULT false,
	owner				text,
	created_at			timestamptz,
	attributes			jsonb,
	-- order accumulators (as of graded_at)
	total_amount		numeric NOT NULL DEFAULT 0,
	orders_total		bigint NOT NULL DEFAULT 0,
	amount_12m			numeric NOT NULL DEFAULT 0,
	orders_12m			bigint NOT NULL DEFAULT 0,
	first_order_at		timestamptz,
	last_order_at		timestamptz,
	order_months		integer[] NOT NULL DEFAULT '{}',
	pay_days_sum		bigint NOT NULL DEFAULT 0,
	pay_count			bigint NOT NULL DEFAULT 0,
	oldest_window_at	timestamptz,
	next_order_at		timestamptz,
	-- derived order metrics
	avg_order_value_12m	numeric,
	active_months_12m	integer NOT NULL DEFAULT 0,
	repurchase_rate		numeric,
	avg_payment_days	numeric,
	mean_interorder_days numeric,
	-- contacts and opportunities (filled by later versions)
	last_contact_at		timestamptz,
	contacts_90d		integer,
	last_outcome		text,
	next_action_at		timestamptz,
	open_opportunities	integer,
	-- grading
	first_seen_at		timestamptz,
	grade				text,
	grade_rank			integer,
	score				numeric,
	lifecycle			text,
	risk				text,
	next_follow_up_at	timestamptz,
	policy				text,
	graded_at			timestamptz,
	valid_until			timestamptz
) WITH (fillfactor = 80);
CREATE INDEX customer_state_valid_until ON @extschema@.customer_state (valid_until);
CREATE INDEX customer_state_owner ON @extschema@.customer_state (owner);

-- Every grade (and later lifecycle and risk) change, with its reason.
CREATE TABLE @extschema@.history (
	id				bigserial PRIMARY KEY,
	customer		text NOT NULL,
	changed_at		timestamptz NOT NULL,
	old_grade		text,
	new_grade		text,
	old_lifecycle	text,
	new_lifecycle	text,
	old_risk		text,
	new_risk		text,
	reason			text NOT NULL
);
CREATE INDEX history_customer ON @extschema@.history (customer, changed_at);

-- Non-working days for follow-up scheduling.
CREATE TABLE @extschema@.holiday (
	day		date PRIMARY KEY,
	name	text
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.policy'::regclass, 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.active_policy'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_state'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.history'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.history_id_seq'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.holiday'::regclass, '');
--
-- C functions.
--

-- The moment "now" means for every computation: crm_grade.as_of, or now().
CREATE FUNCTION @extschema@.as_of() RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_as_of' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.as_of() IS 'the moment crm_grade treats as now: setting crm_grade.as_of, or now()';

-- The validated value of crm_grade.timezone.
CREATE FUNCTION @extschema@._timezone() RETURNS text
	AS 'MODULE_PATHNAME', 'crm_grade_timezone' LANGUAGE C STABLE PARALLEL SAFE;

-- Start (exclusive) of the 12-month window ending at the given moment,
-- with the month arithmetic done in crm_grade.timezone.
CREATE FUNCTION @extschema@._window_start(timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_window_start' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- year * 12 + month - 1 of a moment in crm_grade.timezone.
CREATE FUNCTION @extschema@._month_index(timestamptz) RETURNS integer
	AS 'MODULE_PATHNAME', 'crm_grade_month_index' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The sorted month indexes base + i for each bit i set in bits.
CREATE FUNCTION @extschema@._months_from_bits(bits bigint, base integer) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'crm_grade_months_from_bits' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Evaluate one customer: takes a record whose columns are named like
-- customer_state's accumulator columns, returns the complete state row with
-- derived metrics, grade and valid_until.
CREATE FUNCTION @extschema@._evaluate(acc record, as_of timestamptz, policy_name text, policy jsonb)
	RETURNS @extschema@.customer_state
	AS 'MODULE_PATHNAME', 'crm_grade_evaluate' LANGUAGE C STABLE PARALLEL SAFE;

-- Validate a policy definition; raises an error naming the JSON path.
CREATE FUNCTION @extschema@.check_policy(definition jsonb, name text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_check_policy' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.check_policy(jsonb, text) IS 'raises an error naming the bad field if the definition is not a valid policy';

-- Trigger functions placed on attached application tables.
CREATE FUNCTION @extschema@.orders_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_orders_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.customers_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_customers_trigger' LANGUAGE C;

-- BEFORE INSERT OR UPDATE OR DELETE on crm_grade.policy: validate, and keep
-- presets and the active policy in place.
CREATE FUNCTION @extschema@._policy_trigger() RETURNS trigger
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
CREATE TRIGGER policy_check BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._policy_trigger();

-- Changes to the policies tell every backend to reload the active policy.
CREATE FUNCTION @extschema@._policy_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_policy_invalidate' LANGUAGE C;
CREATE TRIGGER policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_invalidate();
CREATE TRIGGER active_policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.active_policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_invalidate();
--
-- Attaching application tables.  Identifiers are always passed through
-- format('%I') or regclass output, never spliced.
--

-- The base type of a column, or an error naming the table and column.
CREATE FUNCTION @extschema@._column_type(tbl regclass, col name, role text) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	typ oid;
BEGIN
	IF col IS NULL THEN
		RAISE EXCEPTION 'the % column of % must not be NULL', role, tbl
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Name the column of the table that holds the ' || role || '.';
	END IF;
	SELECT a.atttypid INTO typ FROM pg_attribute a
	 WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'column "%" of relation % does not exist', col, tbl
			USING ERRCODE = 'undefined_column',
				  HINT = 'Give the name of the ' || role || ' column exactly as it is spelled in ' || tbl::text || '; names are case-sensitive.';
	END IF;
	-- look through domains
	WHILE (SELECT t.typtype = 'd' FROM pg_type t WHERE t.oid = typ) LOOP
		SELECT t.typbasetype INTO typ FROM pg_type t WHERE t.oid = typ;
	END LOOP;
	RETURN typ::regtype;
END $$;

-- Check that a column exists and has a type usable for its role.
CREATE FUNCTION @extschema@._check_column(tbl regclass, col name, role text, kind text) RETURNS regtype
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	typ regtype := @extschema@._column_type(tbl, col, role);
	ok regtype[];
	what text;
BEGIN
	CASE kind
		WHEN 'key' THEN
			ok := '{smallint,integer,bigint,text,"character varying",uuid}';
			what := 'a customer key must be smallint, integer, bigint, text, varchar or uuid';
		WHEN 'number' THEN
			ok := '{smallint,integer,bigint,numeric,real,"double precision"}';
			what := 'an amount must be smallint, integer, bigint, numeric, real or double precision';
		WHEN 'time' THEN
			ok := '{"timestamp with time zone","timestamp without time zone",date}';
			what := 'a time must be timestamptz, timestamp or date';
		WHEN 'jsonb' THEN
			ok := '{jsonb}';
			what := 'attributes must be jsonb';
		ELSE
			RETURN typ;
	END CASE;
	IF NOT typ = ANY (ok) THEN
		RAISE EXCEPTION 'column "%" of relation % has type %, which crm_grade cannot use as the %', col, tbl, typ, role
			USING ERRCODE = 'datatype_mismatch',
				  DETAIL = what || '.',
				  HINT = 'Attach a column of a usable type, or add one (for example a generated column with a cast).';
	END IF;
	RETURN typ;
END $$;

-- The family a key type belongs to: keys of one family compare by their text form.
CREATE FUNCTION @extschema@._key_family(t regtype) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN t IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype) THEN 'integer'
				WHEN t IN ('text'::regtype, 'character varying'::regtype) THEN 'text'
				ELSE t::text END
$$;

-- Check the table itself and that its key agrees with the other sources.
CREATE FUNCTION @extschema@._check_source(tbl regclass, key_type regtype) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	other record;
BEGIN
	IF tbl IS NULL THEN
		RAISE EXCEPTION 'the table to attach must not be NULL'
			USING ERRCODE = 'null_value_not_allowed', HINT = 'Pass the table as ''schema.table''::regclass.';
	END IF;
	IF (SELECT c.relkind FROM pg_class c WHERE c.oid = tbl) NOT IN ('r', 'p') THEN
		RAISE EXCEPTION 'relation % is not a table', tbl
			USING ERRCODE = 'wrong_object_type', HINT = 'crm_grade attaches to ordinary and partitioned tables, not views or foreign tables.';
	END IF;
	IF (SELECT c.relnamespace = '@extschema@'::regnamespace FROM pg_class c WHERE c.oid = tbl) THEN
		RAISE EXCEPTION 'relation % belongs to crm_grade itself', tbl
			USING ERRCODE = 'wrong_object_type', HINT = 'Attach your application''s own tables.';
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

-- Refuse rows that are already there and that the triggers would refuse:
-- NULL keys, amounts and times, NaN or infinite amounts, infinite times.
CREATE FUNCTION @extschema@._check_rows(tbl regclass, cols name[], roles text[]) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	i int;
	bad bigint;
	typ regtype;
	cond text;
BEGIN
	FOR i IN 1 .. coalesce(array_length(cols, 1), 0) LOOP
		EXECUTE format('SELECT count(*) FROM %s WHERE %I IS NULL', tbl, cols[i]) INTO bad;
		IF bad > 0 THEN
			RAISE EXCEPTION 'column "%" of relation % holds % NULL value(s)', cols[i], tbl, bad
				USING ERRCODE = 'not_null_violation',
					  DETAIL = 'crm_grade needs the ' || roles[i] || ' of every row.',
					  HINT = format('Fix or remove those rows (SELECT * FROM %s WHERE %I IS NULL), then attach again.', tbl, cols[i]);
		END IF;
		typ := @extschema@._column_type(tbl, cols[i], roles[i]);
		cond := CASE
			WHEN typ IN ('numeric'::regtype, 'real'::regtype, 'double precision'::regtype)
				THEN format('%1$I::pg_catalog.float8 IN (''NaN'', ''Infinity'', ''-Infinity'')', cols[i])
			WHEN typ IN ('timestamp with time zone'::regtype, 'timestamp without time zone'::regtype, 'date'::regtype)
				THEN format('NOT pg_catalog.isfinite(%I)', cols[i])
			END;
		CONTINUE WHEN cond IS NULL;
		EXECUTE format('SELECT count(*) FROM %s WHERE %s', tbl, cond) INTO bad;
		IF bad > 0 THEN
			RAISE EXCEPTION 'column "%" of relation % holds % value(s) that are not finite', cols[i], tbl, bad
				USING ERRCODE = CASE WHEN cond LIKE 'NOT%' THEN 'datetime_field_overflow' ELSE 'numeric_value_out_of_range' END,
					  DETAIL = 'crm_grade needs a finite ' || roles[i] || ' in every row.',
					  HINT = format('Fix or remove those rows (SELECT * FROM %s WHERE %s), then attach again.', tbl, cond);
		END IF;
	END LOOP;
END $$;

-- (Re)create crm_grade's triggers on an attached table.  Trigger arguments
-- are column names, which survive pg_dump/pg_restore (attribute numbers
-- would not).
CREATE FUNCTION @extschema@._create_triggers(tbl regclass, func text, args text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	arglist text := (SELECT string_agg(quote_literal(a), ', ') FROM unnest(args) a);
BEGIN
	PERFORM @extschema@._drop_triggers(tbl);
	EXECUTE format('CREATE TRIGGER crm_grade_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS crm_grade_new '
				   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.%I(%s)', tbl, func, arglist);
	EXECUTE format('CREATE TRIGGER crm_grade_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS crm_grade_old NEW TABLE AS crm_grade_new '
				   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.%I(%s)', tbl, func, arglist);
	EXECUTE format('CREATE TRIGGER crm_grade_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS crm_grade_old '
				   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.%I(%s)', tbl, func, arglist);
	EXECUTE format('CREATE TRIGGER crm_grade_truncate AFTER TRUNCATE ON %s '
				   'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.%I(%s)', tbl, func, arglist);
END $$;

CREATE FUNCTION @extschema@._drop_triggers(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t name;
BEGIN
	FOR t IN SELECT g.tgname FROM pg_trigger g
			   WHERE g.tgrelid = tbl AND NOT g.tgisinternal
				 AND g.tgname IN ('crm_grade_insert', 'crm_grade_update', 'crm_grade_delete', 'crm_grade_truncate') LOOP
		EXECUTE format('DROP TRIGGER %I ON %s', t, tbl);
	END LOOP;
END $$;

-- Create or replace the views that show customers with the application's
-- key type.  They are created here, not by CREATE EXTENSION, so they are not
-- extension members: pg_dump writes them out with their casts, and a restore
-- brings back the same column types.
CREATE FUNCTION @extschema@._build_views() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	keytype regtype;
	current regtype;
BEGIN
	-- the customer master's key type wins; otherwise the widest key attached
	SELECT s.key_type INTO keytype FROM @extschema@.source s
	 ORDER BY s.kind = 'customers' DESC,
			  array_position('{bigint,integer,smallint,text,"character varying",uuid}'::regtype[], s.key_type)
	 LIMIT 1;
	IF keytype IS NULL THEN
		RETURN;
	END IF;
	SELECT a.atttypid::regtype INTO current FROM pg_attribute a
	 WHERE a.attrelid = to_regclass('@extschema@.customer_grades') AND a.attname = 'customer';
	IF current IS DISTINCT FROM keytype AND current IS NOT NULL THEN
		DROP VIEW @extschema@.customer_grades;
		IF to_regclass('@extschema@.grade_history') IS NOT NULL THEN
			DROP VIEW @extschema@.grade_history;
		END IF;
	END IF;
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.customer_grades AS
		SELECT s.customer::%1$s AS customer, s.grade, s.score, s.lifecycle, s.risk, s.owner,
			   s.amount_12m, s.orders_12m, s.total_amount, s.orders_total,
			   s.first_order_at, s.last_order_at, s.last_contact_at, s.next_follow_up_at,
			   s.next_follow_up_at < @extschema@.as_of() AS follow_up_overdue,
			   s.policy, s.graded_at,
			   s.avg_order_value_12m, s.active_months_12m, s.repurchase_rate,
			   s.avg_payment_days, s.mean_interorder_days,
			   floor(extract(epoch FROM @extschema@.as_of() - s.first_order_at) / 86400)::integer AS tenure_days,
			   floor(extract(epoch FROM @extschema@.as_of() - s.last_order_at) / 86400)::integer AS days_since_last_order,
			   s.grade_rank, s.valid_until
		  FROM @extschema@.customer_state s$v$, keytype);
	EXECUTE format($v$
		CREATE OR REPLACE VIEW @extschema@.grade_history AS
		SELECT h.customer::%1$s AS customer, h.changed_at, h.old_grade, h.new_grade,
			   h.old_lifecycle, h.new_lifecycle, h.old_risk, h.new_risk, h.reason
		  FROM @extschema@.history h$v$, keytype);
	COMMENT ON VIEW @extschema@.customer_grades IS 'one row per customer: grade, metrics and follow-up, keyed by the application''s customer key';
	COMMENT ON COLUMN @extschema@.customer_grades.customer IS 'the application''s customer key, with its own type';
	COMMENT ON COLUMN @extschema@.customer_grades.grade IS 'grade given by the active policy';
	COMMENT ON COLUMN @extschema@.customer_grades.amount_12m IS 'sum of order amounts (refunds subtracted) in the 12 months up to graded_at';
	COMMENT ON COLUMN @extschema@.customer_grades.orders_12m IS 'orders (refunds excluded) in the 12 months up to graded_at';
	COMMENT ON COLUMN @extschema@.customer_grades.total_amount IS 'sum of all order amounts, refunds subtracted';
	COMMENT ON COLUMN @extschema@.customer_grades.orders_total IS 'number of orders, refunds excluded';
	COMMENT ON COLUMN @extschema@.customer_grades.follow_up_overdue IS 'next_follow_up_at has passed';
	COMMENT ON COLUMN @extschema@.customer_grades.graded_at IS 'the moment (crm_grade.as_of) the row was last evaluated';
	COMMENT ON COLUMN @extschema@.customer_grades.valid_until IS 'earliest moment at which time alone changes the row; crm_grade.regrade() picks it up then';
	COMMENT ON VIEW @extschema@.grade_history IS 'every grade change with its reason';
END $$;

-- Common part of attach_*: record the source, place triggers, build views,
-- back-fill everyone in one set-based pass.
CREATE FUNCTION @extschema@._attach(src @extschema@.source, func text, args text[]) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	n bigint;
BEGIN
	PERFORM @extschema@._check_source(src.tbl, src.key_type);
	IF src.kind = 'customers' AND EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.kind = 'customers' AND s.tbl <> src.tbl) THEN
		RAISE EXCEPTION 'a customer master is already attached: %',
			(SELECT s.tbl FROM @extschema@.source s WHERE s.kind = 'customers')
			USING ERRCODE = 'duplicate_object', HINT = 'Detach it first with crm_grade.detach().';
	END IF;
	-- updates, deletes and regrade() read a customer's rows through an index
	-- whose first column is the key; without one each of them scans the table
	IF NOT EXISTS (SELECT 1 FROM pg_index i
					WHERE i.indrelid = src.tbl AND i.indisvalid
					  AND i.indkey[0] = (SELECT a.attnum FROM pg_attribute a
										  WHERE a.attrelid = src.tbl AND a.attname = src.customer_column)) THEN
		RAISE WARNING 'relation % has no index on column "%"', src.tbl, src.customer_column
			USING DETAIL = 'crm_grade reads a customer''s rows through such an index when rows are updated or deleted and when regrade() runs; without one, each of those scans the whole table.',
				  HINT = format('CREATE INDEX ON %s (%I);', src.tbl, src.customer_column);
	END IF;
	DELETE FROM @extschema@.source s WHERE s.tbl = src.tbl;
	INSERT INTO @extschema@.source VALUES (src.*);
	PERFORM @extschema@._create_triggers(src.tbl, func, args);
	PERFORM @extschema@._build_views();
	IF (SELECT c.reltuples FROM pg_class c WHERE c.oid = src.tbl) >= 100000 THEN
		RAISE NOTICE 'crm_grade: back-filling about % rows of %',
			(SELECT c.reltuples::bigint FROM pg_class c WHERE c.oid = src.tbl), src.tbl;
	END IF;
	n := (@extschema@._refresh_all('attach')).evaluated;
	RETURN n;
END $$;

CREATE FUNCTION @extschema@.attach_orders(orders regclass, customer_column name, amount_column name,
										  ordered_at_column name, paid_at_column name DEFAULT NULL)
	RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	src @extschema@.source;
BEGIN
	PERFORM @extschema@._check_source(orders, NULL);
	src.tbl := orders;
	src.kind := 'orders';
	src.key_type := @extschema@._check_column(orders, customer_column, 'customer key', 'key');
	src.customer_column := customer_column;
	PERFORM @extschema@._check_column(orders, amount_column, 'amount', 'number');
	src.amount_column := amount_column;
	PERFORM @extschema@._check_column(orders, ordered_at_column, 'order time', 'time');
	src.time_column := ordered_at_column;
	IF paid_at_column IS NOT NULL THEN
		PERFORM @extschema@._check_column(orders, paid_at_column, 'payment time', 'time');
		src.paid_at_column := paid_at_column;
	END IF;
	src.attached_at := now();
	PERFORM @extschema@._check_rows(orders, ARRAY[customer_column, amount_column, ordered_at_column],
									'{"customer key","amount","order time"}');
	RETURN @extschema@._attach(src, 'orders_trigger',
							   ARRAY[customer_column, amount_column, ordered_at_column, coalesce(paid_at_column, '')]);
END $$;
COMMENT ON FUNCTION @extschema@.attach_orders(regclass, name, name, name, name) IS 'grade customers from an order table: installs C triggers and back-fills state; returns customers graded';

CREATE FUNCTION @extschema@.attach_customers(customers regclass, key_column name, owner_column name DEFAULT NULL,
											 created_at_column name DEFAULT NULL, attributes_column name DEFAULT NULL)
	RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	src @extschema@.source;
BEGIN
	PERFORM @extschema@._check_source(customers, NULL);
	src.tbl := customers;
	src.kind := 'customers';
	src.key_type := @extschema@._check_column(customers, key_column, 'customer key', 'key');
	src.customer_column := key_column;
	IF owner_column IS NOT NULL THEN
		PERFORM @extschema@._column_type(customers, owner_column, 'owner');
		src.owner_column := owner_column;
	END IF;
	IF created_at_column IS NOT NULL THEN
		PERFORM @extschema@._check_column(customers, created_at_column, 'creation time', 'time');
		src.created_at_column := created_at_column;
	END IF;
	IF attributes_column IS NOT NULL THEN
		PERFORM @extschema@._check_column(customers, attributes_column, 'attributes', 'jsonb');
		src.attributes_column := attributes_column;
	END IF;
	src.attached_at := now();
	PERFORM @extschema@._check_rows(customers, ARRAY[key_column], '{"customer key"}');
	RETURN @extschema@._attach(src, 'customers_trigger',
							   ARRAY[key_column, coalesce(owner_column, ''), coalesce(created_at_column, ''),
									 coalesce(attributes_column, '')]);
END $$;
COMMENT ON FUNCTION @extschema@.attach_customers(regclass, name, name, name, name) IS 'register the customer master (prospects, owners, attributes); returns customers graded';

CREATE FUNCTION @extschema@.detach(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.source s WHERE s.tbl = detach.tbl) THEN
		RAISE NOTICE 'relation % is not attached to crm_grade, skipping', tbl;
		RETURN;
	END IF;
	PERFORM @extschema@._drop_triggers(tbl);
	DELETE FROM @extschema@.source s WHERE s.tbl = detach.tbl;
	-- what the table contributed leaves every customer's state
	PERFORM @extschema@._refresh_all('detach');
END $$;
COMMENT ON FUNCTION @extschema@.detach(regclass) IS 'remove crm_grade''s triggers from a table and its contribution from every customer';

-- A dropped application table stops being a source: its contribution
-- leaves every customer, as with detach().
CREATE FUNCTION @extschema@._on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_event_trigger_dropped_objects() d
				WHERE d.classid = 'pg_class'::regclass
				  AND d.objid IN (SELECT s.tbl::oid FROM @extschema@.source s)) THEN
		DELETE FROM @extschema@.source s
		 WHERE s.tbl::oid IN (SELECT d.objid FROM pg_event_trigger_dropped_objects() d
							   WHERE d.classid = 'pg_class'::regclass);
		RAISE NOTICE 'crm_grade: a dropped table was attached; re-grading customers without it';
		PERFORM @extschema@._refresh_all('detach');
	END IF;
END $$;
CREATE EVENT TRIGGER crm_grade_sql_drop ON sql_drop EXECUTE FUNCTION @extschema@._on_sql_drop();
--
-- Set-based (re)computation of customers from every attached table.  One
-- generated statement serves back-fill, regrade(), regrade_all(),
-- use_policy() and the triggers' non-incremental path; the C evaluator
-- (_evaluate) grades each customer inside it.
--

-- A source's time column as timestamptz: timestamp and date columns are
-- read as local time in crm_grade.timezone.
CREATE FUNCTION @extschema@._time_expr(tbl regclass, col name) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF col IS NULL THEN
		RETURN 'NULL::pg_catalog.timestamptz';
	END IF;
	RETURN CASE @extschema@._column_type(tbl, col, 'time')
		WHEN 'timestamp with time zone'::regtype THEN format('%I', col)
		WHEN 'timestamp without time zone'::regtype THEN format('pg_catalog.timezone(@extschema@._timezone(), %I)', col)
		WHEN 'date'::regtype THEN format('pg_catalog.timezone(@extschema@._timezone(), %I::pg_catalog.timestamp)', col)
	END;
END $$;

-- The rows of every attached table of a kind, in a common shape:
--   orders:    c (key as text), a (amount numeric), t (order time), p (payment time)
--   customers: c, owner, created_at, attributes
-- filtered: only customers whose key is in $1 (text[]), through the
-- application's own index on the key column.
CREATE FUNCTION @extschema@._source_rows_sql(kind text, filtered boolean) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s @extschema@.source;
	parts text[] := '{}';
	filter text;
BEGIN
	FOR s IN SELECT * FROM @extschema@.source x WHERE x.kind = _source_rows_sql.kind ORDER BY x.tbl::oid LOOP
		filter := CASE WHEN filtered
			THEN format(' WHERE %I = ANY ($1::pg_catalog.text[]::%s[])', s.customer_column, s.key_type)
			ELSE '' END;
		IF kind = 'orders' THEN
			parts := parts || format('SELECT %I::pg_catalog.text AS c, %I::pg_catalog.numeric AS a, %s AS t, %s AS p FROM %s%s',
									 s.customer_column, s.amount_column,
									 @extschema@._time_expr(s.tbl, s.time_column),
									 @extschema@._time_expr(s.tbl, s.paid_at_column), s.tbl, filter);
		ELSE
			parts := parts || format('SELECT %I::pg_catalog.text AS c, %s AS owner, %s AS created_at, %s AS attributes FROM %s%s',
									 s.customer_column,
									 CASE WHEN s.owner_column IS NULL THEN 'NULL::pg_catalog.text'
										  ELSE format('%I::pg_catalog.text', s.owner_column) END,
									 @extschema@._time_expr(s.tbl, s.created_at_column),
									 CASE WHEN s.attributes_column IS NULL THEN 'NULL::pg_catalog.jsonb'
										  ELSE format('%I', s.attributes_column) END,
									 s.tbl, filter);
		END IF;
	END LOOP;
	IF cardinality(parts) = 0 THEN
		RETURN CASE kind
			WHEN 'orders' THEN 'SELECT NULL::pg_catalog.text AS c, NULL::pg_catalog.numeric AS a, NULL::pg_catalog.timestamptz AS t, NULL::pg_catalog.timestamptz AS p WHERE false'
			ELSE 'SELECT NULL::pg_catalog.text AS c, NULL::pg_catalog.text AS owner, NULL::pg_catalog.timestamptz AS created_at, NULL::pg_catalog.jsonb AS attributes WHERE false'
		END;
	END IF;
	RETURN array_to_string(parts, ' UNION ALL ');
END $$;

-- The refresh statement.  Parameters: $1 text[] customers (NULL when not
-- filtered), $2 the moment T, $3 start of the 12-month window at T, $4 the
-- reason written to history, $5 the month index of $3.  Active months are
-- gathered as a bit mask over the window's (at most 13) months, which a hash
-- aggregate can build without sorting every order.  Returns (evaluated, changed): customers
-- written and customers whose grade changed.
CREATE FUNCTION @extschema@._refresh_sql(filtered boolean) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	cols text;
	only_these text := CASE WHEN filtered THEN ' WHERE s.customer = ANY ($1)' ELSE '' END;
BEGIN
	SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
	  FROM pg_attribute a
	 WHERE a.attrelid = '@extschema@.customer_state'::regclass AND a.attnum > 0
	   AND NOT a.attisdropped AND a.attname <> 'customer';
	RETURN format($q$
WITH o AS (
	SELECT c,
		   coalesce(sum(a) FILTER (WHERE t <= $2), 0) AS total_amount,
		   count(*) FILTER (WHERE t <= $2 AND a >= 0) AS orders_total,
		   coalesce(sum(a) FILTER (WHERE t <= $2 AND t > $3), 0) AS amount_12m,
		   count(*) FILTER (WHERE t <= $2 AND t > $3 AND a >= 0) AS orders_12m,
		   min(t) FILTER (WHERE t <= $2 AND a >= 0) AS first_order_at,
		   max(t) FILTER (WHERE t <= $2 AND a >= 0) AS last_order_at,
		   bit_or(1::bigint << (@extschema@._month_index(t) - $5))
					FILTER (WHERE t <= $2 AND t > $3 AND a >= 0) AS order_month_bits,
		   coalesce(sum(floor(extract(epoch FROM p - t) / 86400))
					FILTER (WHERE t <= $2 AND t > $3 AND a >= 0), 0)::bigint AS pay_days_sum,
		   count(p) FILTER (WHERE t <= $2 AND t > $3 AND a >= 0) AS pay_count,
		   min(t) FILTER (WHERE t <= $2 AND t > $3) AS oldest_window_at,
		   min(t) FILTER (WHERE t > $2) AS next_order_at
	  FROM (%1$s) r
	 GROUP BY c
), m AS (
	SELECT c, min(owner) AS owner, min(created_at) AS created_at, (array_agg(attributes))[1] AS attributes
	  FROM (%2$s) r
	 GROUP BY c
), acc AS (
	SELECT coalesce(o.c, m.c) AS customer, m.c IS NOT NULL AS in_master,
		   m.owner, m.created_at, m.attributes,
		   coalesce(o.total_amount, 0) AS total_amount, coalesce(o.orders_total, 0) AS orders_total,
		   coalesce(o.amount_12m, 0) AS amount_12m, coalesce(o.orders_12m, 0) AS orders_12m,
		   o.first_order_at, o.last_order_at,
		   @extschema@._months_from_bits(o.order_month_bits, $5) AS order_months,
		   coalesce(o.pay_days_sum, 0) AS pay_days_sum, coalesce(o.pay_count, 0) AS pay_count,
		   o.oldest_window_at, o.next_order_at
	  FROM o FULL JOIN m ON m.c = o.c
), pol AS (
	SELECT p.name, p.definition FROM @extschema@.policy p
	 WHERE p.name = coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc')
), ev AS MATERIALIZED (
	SELECT e.*
	  FROM acc LEFT JOIN pol ON true,
		   LATERAL @extschema@._evaluate(acc, $2, pol.name, pol.definition) e
), old AS MATERIALIZED (
	SELECT s.customer, s.grade, s.lifecycle, s.risk FROM @extschema@.customer_state s%3$s
), up AS (
	INSERT INTO @extschema@.customer_state AS s SELECT * FROM ev
	ON CONFLICT (customer) DO UPDATE SET (%4$s) = ROW(%5$s)
	RETURNING s.customer, s.grade, s.lifecycle, s.risk
), gone AS (
	DELETE FROM @extschema@.customer_state s
	 WHERE %6$s NOT EXISTS (SELECT 1 FROM acc WHERE acc.customer = s.customer)
	RETURNING s.customer
), hist AS (
	INSERT INTO @extschema@.history (customer, changed_at, old_grade, new_grade, old_lifecycle,
									 new_lifecycle, old_risk, new_risk, reason)
	SELECT up.customer, $2, old.grade, up.grade, old.lifecycle, up.lifecycle, old.risk, up.risk, $4
	  FROM up LEFT JOIN old ON old.customer = up.customer
	 WHERE (old.grade, old.lifecycle, old.risk) IS DISTINCT FROM (up.grade, up.lifecycle, up.risk)
	RETURNING 1
)
SELECT (SELECT count(*) FROM up) AS evaluated,
	   (SELECT count(*) FROM up LEFT JOIN old ON old.customer = up.customer
		 WHERE old.grade IS DISTINCT FROM up.grade) AS changed
$q$,
		@extschema@._source_rows_sql('orders', filtered),
		@extschema@._source_rows_sql('customers', filtered),
		only_these, cols,
		(SELECT string_agg('EXCLUDED.' || x, ', ') FROM unnest(string_to_array(cols, ', ')) x),
		CASE WHEN filtered THEN 's.customer = ANY ($1) AND' ELSE '' END);
END $$;

-- Re-evaluate every customer from the source tables.  Writers wait for the
-- duration (their triggers update the same rows); readers do not.
CREATE FUNCTION @extschema@._refresh_all(reason text, OUT evaluated bigint, OUT changed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t timestamptz := @extschema@.as_of();
	ws timestamptz := @extschema@._window_start(t);
	started timestamptz := clock_timestamp();
BEGIN
	LOCK TABLE @extschema@.customer_state IN SHARE ROW EXCLUSIVE MODE;
	EXECUTE @extschema@._refresh_sql(false) INTO evaluated, changed
		USING NULL::text[], t, ws, reason, @extschema@._month_index(ws);
	IF evaluated >= 100000 THEN
		RAISE NOTICE 'crm_grade: % customers evaluated in % (%)', evaluated,
			date_trunc('millisecond', clock_timestamp() - started), reason;
	END IF;
END $$;

-- Re-evaluate the given customers (the trigger's slow path and regrade()).
-- Their state rows are created if missing and locked in key order first
-- (byte order, COLLATE "C", the order the C insert path sorts keys in, so
-- writers never deadlock whatever the database's collation); only then
-- does the refresh read the attached tables, with a snapshot taken after the
-- locks were granted, so it sees every committed write of whoever held them.
CREATE FUNCTION @extschema@._refresh_some(customers text[], reason text, OUT evaluated bigint, OUT changed bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t timestamptz := @extschema@.as_of();
	ws timestamptz := @extschema@._window_start(t);
BEGIN
	INSERT INTO @extschema@.customer_state (customer)
	SELECT d.k FROM (SELECT DISTINCT k FROM unnest(customers) k) d ORDER BY d.k COLLATE "C"
	ON CONFLICT (customer) DO NOTHING;
	PERFORM 1 FROM @extschema@.customer_state s
	  WHERE s.customer = ANY (customers)
	  ORDER BY s.customer COLLATE "C"
	  FOR UPDATE;
	EXECUTE @extschema@._refresh_sql(true) INTO evaluated, changed
		USING customers, t, ws, reason, @extschema@._month_index(ws);
END $$;

CREATE FUNCTION @extschema@.regrade(max_customers int DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t timestamptz := @extschema@.as_of();
	batch text[];
	done bigint := 0;
	batch_size int;
BEGIN
	IF max_customers IS NOT NULL AND max_customers < 1 THEN
		RAISE EXCEPTION 'max_customers must be positive, not %', max_customers
			USING ERRCODE = 'invalid_parameter_value', HINT = 'Pass NULL to re-grade every expired customer.';
	END IF;
	LOOP
		batch_size := least(1000, coalesce(max_customers - done, 1000));
		EXIT WHEN batch_size <= 0;
		-- expired rows through the valid_until index; rows a writer or another
		-- regrade() holds are skipped, they are being brought up to date
		SELECT array_agg(x.customer ORDER BY x.customer) INTO batch
		  FROM (SELECT s.customer FROM @extschema@.customer_state s
				 WHERE s.valid_until <= t
				 ORDER BY s.valid_until
				 LIMIT batch_size
				 FOR UPDATE SKIP LOCKED) x;
		EXIT WHEN batch IS NULL;
		PERFORM @extschema@._refresh_some(batch, 'regrade');
		done := done + cardinality(batch);
	END LOOP;
	RETURN done;
END $$;
COMMENT ON FUNCTION @extschema@.regrade(int) IS 're-evaluate customers whose valid_until has passed; schedule it with pg_cron';

CREATE FUNCTION @extschema@.regrade_all() RETURNS bigint
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	SELECT (@extschema@._refresh_all('regrade_all')).evaluated
$$;
COMMENT ON FUNCTION @extschema@.regrade_all() IS 're-evaluate every customer from the attached tables';

CREATE FUNCTION @extschema@.use_policy(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
END $$;
COMMENT ON FUNCTION @extschema@.use_policy(text) IS 'make a stored policy active and re-grade everyone; returns customers whose grade changed';

-- Changing the active policy's definition re-grades everyone at once.
CREATE FUNCTION @extschema@._policy_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows n
				WHERE n.name = coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc')) THEN
		PERFORM @extschema@._refresh_all('policy');
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER policy_regrade AFTER UPDATE ON @extschema@.policy
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_changed();
--
-- verify(): recompute every customer from the attached tables with plain
-- SQL, independently of the C code and of the refresh statement, and list
-- every disagreement with the stored state.
--

-- Does a rules condition hold for metrics given as a jsonb object?
-- A comparison with a NULL (absent) metric is false.
CREATE FUNCTION @extschema@._sql_condition(cond jsonb, metrics jsonb) RETURNS boolean
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

-- The grade a rules policy gives to metrics given as jsonb.
CREATE FUNCTION @extschema@._sql_grade(policy jsonb, metrics jsonb) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT coalesce(
		(SELECT g ->> 'grade'
		   FROM jsonb_array_elements(policy -> 'grades') WITH ORDINALITY AS r(g, i)
		  WHERE @extschema@._sql_condition(g -> 'when', metrics)
		  ORDER BY i LIMIT 1),
		policy ->> 'default')
$$;

CREATE FUNCTION @extschema@.verify()
	RETURNS TABLE (customer text, field text, stored text, recomputed text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t timestamptz := @extschema@.as_of();
	tz text := @extschema@._timezone();
	ws timestamptz;
	pol jsonb;
	polname text;
BEGIN
	-- the window start, written with SQL's own interval arithmetic
	ws := ((t AT TIME ZONE tz) - interval '12 months') AT TIME ZONE tz;
	polname := coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc');
	SELECT p.definition INTO pol FROM @extschema@.policy p WHERE p.name = polname;
	RETURN QUERY EXECUTE format($q$
WITH r AS (%1$s),
m AS (SELECT c, min(owner) AS owner, (array_agg(attributes))[1] AS attributes FROM (%2$s) x GROUP BY c),
keys AS (SELECT c FROM r UNION SELECT c FROM m),
agg AS (
	SELECT k.c,
		   coalesce(sum(r.a) FILTER (WHERE r.t <= $1), 0) AS total_amount,
		   count(*) FILTER (WHERE r.t <= $1 AND r.a >= 0) AS orders_total,
		   coalesce(sum(r.a) FILTER (WHERE r.t <= $1 AND r.t > $2), 0) AS amount_12m,
		   count(*) FILTER (WHERE r.t <= $1 AND r.t > $2 AND r.a >= 0) AS orders_12m,
		   min(r.t) FILTER (WHERE r.t <= $1 AND r.a >= 0) AS first_order_at,
		   max(r.t) FILTER (WHERE r.t <= $1 AND r.a >= 0) AS last_order_at,
		   count(DISTINCT date_trunc('month', r.t AT TIME ZONE $3))
				FILTER (WHERE r.t <= $1 AND r.t > $2 AND r.a >= 0) AS active_months_12m,
		   avg(floor(extract(epoch FROM r.p - r.t) / 86400))
				FILTER (WHERE r.t <= $1 AND r.t > $2 AND r.a >= 0 AND r.p IS NOT NULL) AS avg_payment_days
	  FROM keys k LEFT JOIN r ON r.c = k.c
	 GROUP BY k.c
), met AS (
	SELECT a.*, m.owner, m.attributes,
		   CASE WHEN a.orders_12m > 0 THEN a.amount_12m / a.orders_12m END AS avg_order_value_12m,
		   CASE WHEN a.orders_total >= 2
				THEN floor(extract(epoch FROM a.last_order_at - a.first_order_at) / 86400) / (a.orders_total - 1)
		   END AS mean_interorder_days,
		   CASE WHEN a.first_order_at IS NOT NULL
				THEN a.active_months_12m::numeric / least(12,
					(extract(year FROM $1 AT TIME ZONE $3) * 12 + extract(month FROM $1 AT TIME ZONE $3))
				  - (extract(year FROM a.first_order_at AT TIME ZONE $3) * 12 + extract(month FROM a.first_order_at AT TIME ZONE $3))
				  + 1)
		   END AS repurchase_rate,
		   floor(extract(epoch FROM $1 - a.first_order_at) / 86400) AS tenure_days,
		   floor(extract(epoch FROM $1 - a.last_order_at) / 86400) AS days_since_last_order
	  FROM agg a LEFT JOIN m ON m.c = a.c
), graded AS (
	SELECT met.*,
		   @extschema@._sql_grade($4, jsonb_build_object(
				'total_amount', total_amount, 'orders_total', orders_total,
				'amount_12m', amount_12m, 'orders_12m', orders_12m,
				'avg_order_value_12m', avg_order_value_12m, 'tenure_days', tenure_days,
				'days_since_last_order', days_since_last_order,
				'mean_interorder_days', mean_interorder_days,
				'active_months_12m', active_months_12m, 'repurchase_rate', repurchase_rate,
				'avg_payment_days', avg_payment_days)
				|| CASE WHEN jsonb_typeof(met.attributes) = 'object'
						THEN (SELECT coalesce(jsonb_object_agg('attr.' || e.key, e.value), '{}')
								FROM jsonb_each(met.attributes) e)
						ELSE '{}' END) AS grade
	  FROM met
)
SELECT coalesce(g.c, s.customer), d.field, d.stored, d.recomputed
  FROM graded g
  FULL JOIN @extschema@.customer_state s ON s.customer = g.c
 CROSS JOIN LATERAL (VALUES
		('exists', CASE WHEN s.customer IS NOT NULL THEN 'yes' ELSE 'no' END,
				   CASE WHEN g.c IS NOT NULL THEN 'yes' ELSE 'no' END,
		 (s.customer IS NULL) <> (g.c IS NULL)),
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
		('owner', s.owner, g.owner, s.owner IS DISTINCT FROM g.owner),
		('grade', s.grade, g.grade, s.grade IS DISTINCT FROM g.grade),
		('policy', s.policy, $5, s.policy IS DISTINCT FROM $5)
	) AS d(field, stored, recomputed, differs)
 WHERE d.differs
   AND (d.field = 'exists' OR (s.customer IS NOT NULL AND g.c IS NOT NULL))
 ORDER BY 1, 2
$q$, @extschema@._source_rows_sql('orders', false), @extschema@._source_rows_sql('customers', false))
	USING t, ws, tz, pol, polname;
END $$;
COMMENT ON FUNCTION @extschema@.verify() IS 'recompute every customer with plain SQL and list each disagreement with the stored state; empty means consistent';
--
-- Views without a customer column.  They do not depend on the application's
-- key type, so they are ordinary extension members.  (customer_grades and
-- grade_history are created by the first attach_*: see _build_views.)
--

-- The Pareto view: customers and 12-month revenue per grade, best grade first.
CREATE VIEW @extschema@.grade_summary AS
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
CREATE FUNCTION @extschema@._sample_uniform(seed int, stream int, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ((pg_catalog.hashint8extended(i, seed::bigint OPERATOR(pg_catalog.*) 4096 OPERATOR(pg_catalog.+) stream)
			 OPERATOR(pg_catalog.&) 4503599627370495)::double precision OPERATOR(pg_catalog.+) 0.5)
		   OPERATOR(pg_catalog./) 4503599627370496.0::double precision
$$;

-- A standard normal draw from (seed, stream, i) (Box-Muller); inlined and
-- schema-qualified like _sample_uniform.
CREATE FUNCTION @extschema@._sample_normal(seed int, stream int, i bigint) RETURNS double precision
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
CREATE FUNCTION @extschema@._sample_profile(customers int, orders int, contacts int, seed int)
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
CREATE FUNCTION @extschema@._sample_schema() RETURNS name
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

CREATE FUNCTION @extschema@.create_sample_schema(schema name DEFAULT 'crm') RETURNS void
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
	-- contact_logs and opportunities are attached here once attach_contacts()
	-- and attach_opportunities() exist (after 0.1):
	--   attach_contacts(contact_logs, 'customer_id', 'contacted_at', 'channel', 'outcome', 'next_action_at')
	--   attach_opportunities(opportunities, 'customer_id', 'stage', 'amount', 'stage_changed_at', 'is_open')
END $$;
COMMENT ON FUNCTION @extschema@.create_sample_schema(name) IS 'create the sample CRM tables customers, orders, contact_logs and opportunities in a schema (default crm) and attach them';

CREATE FUNCTION @extschema@.generate_sample(customers int, orders int, contacts int, seed int DEFAULT 1) RETURNS void
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
-- Preset policies (SPEC section 5).  They are inserted before the
-- validation trigger exists, checked explicitly, and marked builtin so that
-- dumps leave them out and nobody changes them in place.
--
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
}$$, 'core / key / normal / potential customers', true);

SELECT @extschema@.check_policy(p.definition, p.name) FROM @extschema@.policy p;

ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_regrade;
