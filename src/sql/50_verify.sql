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
