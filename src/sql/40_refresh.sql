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
