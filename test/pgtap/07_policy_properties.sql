-- Properties of the policies of 0.5 over a generated sample
-- (create_sample_schema + generate_sample, crm_grade.timezone
-- Europe/Berlin, extra orders and refunds on local month starts and a
-- microsecond before them): under weighted_score every score lies in
-- 0..100 and equals the C scorer crm_grade._score() on the customer's
-- metrics, a plain-SQL scorer, and explain()'s total; raising any one
-- metric never lowers the score of a policy whose points all rise (and
-- raising a metric whose points fall never raises it); simulate() of the
-- active policy is the identity under weighted_score, rfm and abc, and
-- simulate() of a candidate is what use_policy() then does; the stored
-- population equals ntile(5) in plain SQL and every R, F, M the tiles of
-- the stored cut-offs; growth_months and the monthly arrays equal a
-- plain-SQL recomputation, before and after a month (and DST) boundary.
-- Deterministic: setseed(), the sample's seed and explicit as_of.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(41);

SET LOCAL statement_timeout = '60s';
SET LOCAL jit = off;
SET LOCAL TimeZone = 'Europe/Berlin';
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SET LOCAL crm_grade.as_of = '2026-03-20 11:00:00+00';
DO $$ BEGIN PERFORM setseed(0.0707); END $$;

CREATE SCHEMA pt;
CREATE FUNCTION pt.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;
CREATE FUNCTION pt.month_index(t timestamptz) RETURNS int LANGUAGE sql STABLE AS
$$ SELECT (extract(year FROM t AT TIME ZONE 'Europe/Berlin') * 12 + extract(month FROM t AT TIME ZONE 'Europe/Berlin') - 1)::int $$;

-- a customer's metrics at T as a jsonb object (NULL metrics left out), from
-- its stored state (T = graded_at after use_policy())
CREATE FUNCTION pt.metrics(s crm_grade.customer_state) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
			'total_amount', s.total_amount, 'orders_total', s.orders_total,
			'amount_12m', s.amount_12m, 'orders_12m', s.orders_12m,
			'avg_order_value_12m', s.avg_order_value_12m, 'avg_payment_days', s.avg_payment_days,
			'repurchase_rate', s.repurchase_rate, 'active_months_12m', s.active_months_12m,
			'mean_interorder_days', s.mean_interorder_days, 'contacts_90d', s.contacts_90d,
			'growth_months', s.growth_months, 'orders_per_month_12m', s.orders_12m::numeric / 12,
			'tenure_days', floor(extract(epoch FROM crm_grade.as_of() - s.first_order_at) / 86400),
			'days_since_last_order', floor(extract(epoch FROM crm_grade.as_of() - s.last_order_at) / 86400)))
		|| coalesce((SELECT jsonb_object_agg('attr.' || k, v) FROM jsonb_each(s.attributes) a(k, v)
					  WHERE jsonb_typeof(v) = 'number'), '{}')
$$;

-- spec-0.5's score in plain SQL: points, dimensions, total, round, clamp
CREATE FUNCTION pt.points(p jsonb, x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
		WHEN x IS NULL THEN 0
		WHEN x <= (p #>> '{0,0}')::numeric THEN (p #>> '{0,1}')::numeric
		WHEN x >= (p -> -1 ->> 0)::numeric THEN (p -> -1 ->> 1)::numeric
		ELSE (SELECT y0 + (y1 - y0) * (x - x0) / (x1 - x0)
				FROM (SELECT (p -> i ->> 0)::numeric AS x0, (p -> i ->> 1)::numeric AS y0,
							 (p -> (i + 1) ->> 0)::numeric AS x1, (p -> (i + 1) ->> 1)::numeric AS y1
						FROM generate_series(0, jsonb_array_length(p) - 2) i) s
			   WHERE x0 <= x AND x < x1)
	END
$$;
CREATE FUNCTION pt.score(def jsonb, metrics jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT greatest(0, least(100, round(sum((d ->> 'weight')::numeric *
			   (SELECT sum((m ->> 'weight')::numeric * pt.points(m -> 'points', (metrics ->> (m ->> 'metric'))::numeric))
				  FROM jsonb_array_elements(d -> 'metrics') m)), 2)))
	  FROM jsonb_array_elements(def -> 'dimensions') d
$$;

-- growth_months and the monthly arrays in plain SQL from the sample's orders
-- (made before the sample's tables)
SET LOCAL check_function_bodies = off;
CREATE FUNCTION pt.months(c bigint, t timestamptz, OUT months int[], OUT amounts numeric[]) LANGUAGE sql STABLE AS $$
	SELECT coalesce(array_agg(mi ORDER BY mi), '{}'), coalesce(array_agg(a ORDER BY mi), '{}')
	  FROM (SELECT pt.month_index(ordered_at) AS mi, sum(amount) AS a FROM pp.orders
			 WHERE customer_id = c AND ordered_at <= t GROUP BY 1) m
$$;
CREATE FUNCTION pt.growth(c bigint, t timestamptz) RETURNS int LANGUAGE sql STABLE AS $$
	WITH m AS (SELECT mi, a FROM pt.months(c, t) x, unnest(x.months, x.amounts) u(mi, a)),
		 l AS (SELECT pt.month_index(t) - 1 AS li, coalesce((SELECT min(mi) FROM m), pt.month_index(t)) AS first)
	SELECT min(g)::int FROM l, generate_series(0, greatest(l.li - l.first + 1, 0)) g
	 WHERE NOT coalesce((SELECT a FROM m WHERE mi = l.li - g), 0) > coalesce((SELECT a FROM m WHERE mi = l.li - g - 1), 0)
$$;
RESET check_function_bodies;

-- the population by spec-0.5's statement
CREATE VIEW pt.plain_population AS
WITH pop AS (SELECT * FROM crm_grade.customer_state WHERE graded_at IS NOT NULL AND orders_12m > 0)
SELECT (SELECT count(*) FROM pop) AS customers,
	   (SELECT coalesce(sum(amount_12m), 0) FROM crm_grade.customer_state WHERE graded_at IS NOT NULL) AS amount_12m_total,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT last_order_at AS v, ntile(5) OVER (ORDER BY last_order_at) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS recency_cutoffs,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT orders_12m AS v, ntile(5) OVER (ORDER BY orders_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS frequency_cutoffs,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT amount_12m AS v, ntile(5) OVER (ORDER BY amount_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS monetary_cutoffs;

-- simulate() of the active policy: only from = to cells, each the grade's
-- customers and amount_12m
CREATE FUNCTION pt.identity(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	def jsonb := (SELECT p.definition FROM crm_grade.policy p
				   WHERE p.name = coalesce((SELECT a.name FROM crm_grade.active_policy a), 'abc'));
BEGIN
	RETURN NEXT is((SELECT count(*) FROM crm_grade.simulate(def) x WHERE x.from_grade IS DISTINCT FROM x.to_grade), 0::bigint,
				   label || ': simulate() of the active policy moves nobody');
	RETURN NEXT ok(NOT EXISTS (SELECT x.to_grade, x.customers, x.amount_12m FROM crm_grade.simulate(def) x
							   EXCEPT SELECT s.grade, count(*), sum(s.amount_12m) FROM crm_grade.customer_state s GROUP BY s.grade)
				   AND NOT EXISTS (SELECT s.grade, count(*), sum(s.amount_12m) FROM crm_grade.customer_state s GROUP BY s.grade
								   EXCEPT SELECT x.to_grade, x.customers, x.amount_12m FROM crm_grade.simulate(def) x),
				   label || ': ... and its cells are the grades'' customers and amount_12m');
END $$;

-- ---------------------------------------------------------------- the sample

SELECT lives_ok($$SELECT crm_grade.create_sample_schema('pp')$$, 'create_sample_schema(pp)');
SELECT lives_ok($$SELECT crm_grade.generate_sample(300, 4000, 300, 7)$$, 'generate_sample(300, 4000, 300, seed 7)');
-- orders and refunds on the local month starts of the last 14 months and
-- a microsecond before them, for 60 customers
INSERT INTO pp.orders (customer_id, amount, ordered_at)
SELECT c.id, CASE WHEN random() < 0.15 THEN -round((random() * 5000)::numeric, 2) ELSE round((random() * 80000)::numeric, 2) END,
	   ((date_trunc('month', crm_grade.as_of() AT TIME ZONE 'Europe/Berlin') - k * interval '1 month') AT TIME ZONE 'Europe/Berlin')
		 - (random() < 0.5)::int * interval '1 microsecond'
  FROM (SELECT id FROM pp.customers ORDER BY random() LIMIT 60) c, generate_series(0, 13) k
 WHERE random() < 0.4;
SELECT is((SELECT count(*) FROM crm_grade.customer_state), 300::bigint, 'every sample customer has a state row');

-- ---------------------------------------------------------------- weighted_score

SELECT lives_ok($$SELECT crm_grade.use_policy('weighted_score')$$, 'use_policy(weighted_score)');
SELECT definition AS ws FROM crm_grade.policy WHERE name = 'weighted_score' \gset
SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE score IS NULL OR score < 0 OR score > 100), 0::bigint,
		  'every score lies within 0..100');
SELECT cmp_ok((SELECT count(DISTINCT grade) FROM crm_grade.customer_state), '>=', 3::bigint,
			  '... and the sample spreads over at least 3 grades');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s WHERE crm_grade._score(:'ws', pt.metrics(s)) IS DISTINCT FROM s.score),
		  0::bigint, 'the stored score is _score(weighted_score, the customer''s metrics)');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s WHERE pt.score(:'ws', pt.metrics(s)) IS DISTINCT FROM s.score),
		  0::bigint, 'the stored score is spec-0.5''s score computed in plain SQL');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s
			WHERE (crm_grade.explain(s.customer::bigint) ->> 'total')::numeric IS DISTINCT FROM s.score),
		  0::bigint, 'explain()''s total is the stored score for every customer');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s
			WHERE s.grade IS DISTINCT FROM coalesce((SELECT b ->> 'grade' FROM jsonb_array_elements(:'ws'::jsonb -> 'bands') WITH ORDINALITY x(b, i)
													  WHERE s.score >= (b ->> 'min')::numeric ORDER BY i LIMIT 1), 'potential')),
		  0::bigint, 'every grade is the first band the stored score reaches');
SELECT * FROM pt.identity('weighted_score');

-- Monotone: weighted_score with avg_payment_days rising (all points of all
-- metrics then rise with x).  Each customer's metrics with one metric of
-- the policy raised (by 10% and 1; a NULL one set to 1) never score lower.
CREATE TABLE pt.mono AS
SELECT jsonb_set(:'ws', '{dimensions,0,metrics,2,points}', '[[0, 0], [30, 20], [60, 60], [90, 100]]') AS def;
SELECT is((SELECT count(*) FROM pt.mono, jsonb_array_elements(def -> 'dimensions') d, jsonb_array_elements(d -> 'metrics') m,
								generate_series(0, jsonb_array_length(m -> 'points') - 2) i
			WHERE (m -> 'points' -> (i + 1) ->> 1)::numeric < (m -> 'points' -> i ->> 1)::numeric),
		  0::bigint, 'the monotone policy''s points never fall');
SELECT lives_ok($$SELECT crm_grade.check_policy((SELECT def FROM pt.mono), 'mono')$$, '... and it is a valid policy');
CREATE TABLE pt.raised AS
SELECT s.customer, m.metric, pt.metrics(s) ? m.metric AS present,
	   crm_grade._score(p.def, pt.metrics(s)) AS before,
	   crm_grade._score(p.def, pt.metrics(s) || jsonb_build_object(m.metric,
			coalesce((pt.metrics(s) ->> m.metric)::numeric * 1.1 + 1, 1))) AS after,
	   crm_grade._score(:'ws', pt.metrics(s)) AS ws_before,
	   crm_grade._score(:'ws', pt.metrics(s) || jsonb_build_object(m.metric,
			coalesce((pt.metrics(s) ->> m.metric)::numeric * 1.1 + 1, 1))) AS ws_after
  FROM crm_grade.customer_state s, pt.mono p,
	   LATERAL (SELECT x ->> 'metric' AS metric FROM jsonb_array_elements(p.def -> 'dimensions') d,
					   jsonb_array_elements(d -> 'metrics') x) m;
SELECT is((SELECT count(DISTINCT metric) FROM pt.raised), 11::bigint, 'every one of the 11 metrics is raised');
SELECT is((SELECT count(*) FROM pt.raised WHERE after < before), 0::bigint,
		  'raising one metric never lowers a score whose points all rise');
SELECT cmp_ok((SELECT count(*) FROM pt.raised WHERE after > before), '>', 300::bigint,
			  '... and raises many (the check can fail)');
-- (a NULL avg_payment_days scores 0: any value scores more)
SELECT is((SELECT count(*) FROM pt.raised WHERE metric = 'avg_payment_days' AND present AND ws_after > ws_before), 0::bigint,
		  'raising avg_payment_days (points falling) never raises a weighted_score');
SELECT cmp_ok((SELECT count(*) FROM pt.raised WHERE metric = 'avg_payment_days' AND ws_after < ws_before), '>', 0::bigint,
			  '... and lowers some');
SELECT is((SELECT count(*) FROM pt.raised WHERE metric <> 'avg_payment_days' AND ws_after < ws_before), 0::bigint,
		  'raising any other metric never lowers a weighted_score');

-- ---------------------------------------------------------------- rfm

SELECT definition AS rfm FROM crm_grade.policy WHERE name = 'rfm' \gset
CREATE TABLE pt.sim AS SELECT * FROM crm_grade.simulate(:'rfm');
CREATE TABLE pt.before AS SELECT customer, grade, amount_12m FROM crm_grade.customer_state;
SELECT lives_ok($$SELECT crm_grade.use_policy('rfm')$$, 'use_policy(rfm)');
SELECT ok(NOT EXISTS (SELECT from_grade, to_grade, customers, amount_12m FROM pt.sim
					  EXCEPT SELECT b.grade, s.grade, count(*), sum(b.amount_12m) FROM pt.before b JOIN crm_grade.customer_state s USING (customer) GROUP BY 1, 2)
	  AND NOT EXISTS (SELECT b.grade, s.grade, count(*), sum(b.amount_12m) FROM pt.before b JOIN crm_grade.customer_state s USING (customer) GROUP BY 1, 2
					  EXCEPT SELECT from_grade, to_grade, customers, amount_12m FROM pt.sim),
	  'simulate(rfm) under weighted_score is what use_policy(rfm) then does');
SELECT ok(NOT EXISTS (SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs FROM crm_grade.population
					  EXCEPT SELECT * FROM pt.plain_population)
	  AND NOT EXISTS (SELECT * FROM pt.plain_population
					  EXCEPT SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs FROM crm_grade.population),
	  'the stored population is ntile(5) over the stored metrics in plain SQL');
SELECT is((SELECT ARRAY[cardinality(recency_cutoffs), cardinality(frequency_cutoffs), cardinality(monetary_cutoffs)]
			 FROM crm_grade.population), '{4,4,4}', '... four cut-offs each');
CREATE TABLE pt.tiles AS
SELECT s.customer, s.score, s.grade,
	   1 + (SELECT count(*) FROM unnest(p.recency_cutoffs) x WHERE s.last_order_at > x) AS r,
	   1 + (SELECT count(*) FROM unnest(p.frequency_cutoffs) x WHERE s.orders_12m > x) AS f,
	   1 + (SELECT count(*) FROM unnest(p.monetary_cutoffs) x WHERE s.amount_12m > x) AS m
  FROM crm_grade.customer_state s, crm_grade.population p WHERE s.orders_12m > 0;
SELECT is((SELECT count(*) FROM pt.tiles WHERE score IS DISTINCT FROM 100 * r + 10 * f + m), 0::bigint,
		  'every score is 100 R + 10 F + M of the tiles of the stored cut-offs');
SELECT is((SELECT count(DISTINCT r) + count(DISTINCT f) + count(DISTINCT m) FROM pt.tiles), 15::bigint,
		  '... and every tile 1..5 of R, F and M occurs');
SELECT is((SELECT count(*) FROM pt.tiles t, crm_grade.explain(t.customer::bigint) e
			WHERE (e #>> '{rfm,r}')::int IS DISTINCT FROM t.r::int OR (e #>> '{rfm,f}')::int IS DISTINCT FROM t.f::int
			   OR (e #>> '{rfm,m}')::int IS DISTINCT FROM t.m::int),
		  0::bigint, 'explain() gives those R, F and M');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.orders_12m = 0 AND s.score IS NOT NULL), 0::bigint,
		  'customers without an order in the window have no score');
SELECT * FROM pt.identity('rfm');

-- ---------------------------------------------------------------- abc, growth_months

SELECT lives_ok($$SELECT crm_grade.use_policy('abc')$$, 'use_policy(abc)');
SELECT * FROM pt.identity('abc');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s
			WHERE s.growth_months IS DISTINCT FROM pt.growth(s.customer::bigint, crm_grade.as_of())),
		  0::bigint, 'growth_months is the plain-SQL recomputation for every customer');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s, pt.months(s.customer::bigint, crm_grade.as_of()) p
			WHERE (s.amount_months, s.month_amounts) IS DISTINCT FROM (p.months, p.amounts)),
		  0::bigint, '... and so are amount_months and month_amounts');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.customer_state WHERE growth_months >= 2), '>', 0::bigint,
			  'some customers grew for two months or more');
-- into April (and summer time): regrade(), then the same
SELECT pt.set_as_of('2026-04-01 09:00:00+02');
SELECT cmp_ok(crm_grade.regrade(), '>', 0::bigint, 'regrade() in the next month re-evaluates customers');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s
			WHERE s.growth_months IS DISTINCT FROM pt.growth(s.customer::bigint, crm_grade.as_of())),
		  0::bigint, 'after the month boundary growth_months is the plain-SQL recomputation again');

-- two months on, without regrade(): use_policy(rfm) re-grades the expired
-- customers and computes the population from their new state
SELECT pt.set_as_of('2026-06-01 10:00:00+02');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()), '>', 0::bigint,
			  'two months later many customers have expired');
SELECT lives_ok($$SELECT crm_grade.use_policy('rfm')$$, 'use_policy(rfm) then');
SELECT ok(NOT EXISTS (SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs FROM crm_grade.population
					  EXCEPT SELECT * FROM pt.plain_population)
	  AND NOT EXISTS (SELECT * FROM pt.plain_population
					  EXCEPT SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs FROM crm_grade.population),
	  '... and the population is ntile(5) over the states it re-graded');

SELECT * FROM finish();
ROLLBACK;
