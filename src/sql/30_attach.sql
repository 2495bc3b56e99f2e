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
