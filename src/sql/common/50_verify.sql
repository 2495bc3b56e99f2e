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
