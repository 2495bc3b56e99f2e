--
-- 36_explain_simulate: explain(customer) and simulate(definition)
-- (spec-0.5).  explain() of one customer under each kind of policy, in
-- full (rules: the rule that matched, or the default; score: dimensions
-- and metrics with their points and contributions, total = the stored
-- score exactly; rfm: R, F, M and the cut-offs they came from); checked
-- for every customer against the stored state and plain SQL; an unknown
-- customer; a text key.  simulate(): the active policy gives the identity
-- matrix; simulating weighted_score and rfm while abc is active gives the
-- matrix a plain-SQL computation gives, and what use_policy() then does;
-- simulate() writes nothing; an invalid candidate is refused naming the
-- path; who may execute both.
--
-- T = 2026-03-15 12:00 UTC; the window is (2025-03-15 12:00, T].
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-03-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
-- the contents of what simulate() must not write
\set written 'SELECT (SELECT md5(coalesce(string_agg(s::text, ''|'' ORDER BY s.customer), '''')) FROM crm_grade.customer_state s) AS state, (SELECT md5(coalesce(string_agg(h::text, ''|'' ORDER BY h.id), '''')) FROM crm_grade.history h) AS history, (SELECT md5(coalesce(string_agg(p::text, ''|''), '''')) FROM crm_grade.population p) AS population, (SELECT coalesce(max(name), ''none: abc'') FROM crm_grade.active_policy) AS active'

CREATE SCHEMA t36;
CREATE TABLE t36.customers (id int PRIMARY KEY, attrs jsonb);
CREATE TABLE t36.orders (
	id			serial PRIMARY KEY,
	cust		int NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX ON t36.orders (cust);
-- 3601: 400000 and 200000 in the window: A under abc
INSERT INTO t36.orders (cust, amount, ordered_at, paid_at) VALUES
	(3601, 400000, '2025-10-01 00:00+00', '2025-10-11 00:00+00'),
	(3601, 200000, '2026-02-01 00:00+00', NULL);
-- 3602: as 3420 of 34_score_policies: weighted_score 78.50 by hand
INSERT INTO t36.customers VALUES
	(3602, '{"customization": 70, "service_level": 90, "industry_outlook": 50, "expansion": 40, "referral": 100}');
INSERT INTO t36.orders (cust, amount, ordered_at, paid_at) VALUES (3602, 500, '2024-03-15 12:00+00', NULL);
INSERT INTO t36.orders (cust, amount, ordered_at, paid_at)
SELECT 3602, 20000, m, m + interval '6 days'
  FROM generate_series('2025-04-01 00:00+00'::timestamptz, '2026-03-01 00:00+00', '1 month') m;
-- 3603 .. 3640: generated
SELECT setseed(0.36);
INSERT INTO t36.customers
SELECT i, CASE WHEN random() < 0.2 THEN NULL
			   ELSE jsonb_strip_nulls(jsonb_build_object(
					'customization', round((random() * 100)::numeric),
					'service_level', CASE WHEN random() < 0.8 THEN round((random() * 100)::numeric, 1) END,
					'industry_outlook', round((random() * 100)::numeric),
					'expansion', round((random() * 100)::numeric),
					'referral', CASE WHEN random() < 0.7 THEN round((random() * 100)::numeric) END)) END
  FROM generate_series(3603, 3645) i;
INSERT INTO t36.orders (cust, amount, ordered_at, paid_at)
SELECT c, amount, at, CASE WHEN random() < 0.7 THEN at + random() * interval '50 days' END
  FROM (SELECT c, round(exp(random() * ln(400000))::numeric, 2) AS amount,
			   '2026-03-15 12:00+00'::timestamptz - random() * interval '600 days' AS at
		  FROM generate_series(3603, 3640) c, generate_series(1, 10) k
		 WHERE k <= 1 + (c * 7) % 10) o;
-- 3641 .. 3645: in the master only
SELECT crm_grade.attach_customers('t36.customers', 'id', attributes_column => 'attrs');
SELECT crm_grade.attach_orders('t36.orders', 'cust', 'amount', 'ordered_at', 'paid_at');
SELECT count(*) AS customers, count(*) FILTER (WHERE orders_12m > 0) AS in_window FROM crm_grade.customer_state;
-- (abc reads no population figures: use_policy('rfm') below refreshes them)
SELECT crm_grade.use_policy('abc') > 0 AS changed;

-- who may execute them (reported, see the report of this test's author)
SELECT p.oid::regprocedure AS function, has_function_privilege('public', p.oid, 'EXECUTE') AS public_executes,
	   p.prosecdef AS security_definer
  FROM pg_proc p WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.proname IN ('explain', 'simulate')
 ORDER BY 1;

-- ---------------------------------------------------------------- explain: rules

SELECT jsonb_pretty(crm_grade.explain(3601));
-- the keys spec-0.5 names are there (a row for each one missing)
CREATE FUNCTION t36.missing_keys(e jsonb, kind_keys text[]) RETURNS SETOF text LANGUAGE sql AS $$
	SELECT k FROM unnest(ARRAY['customer', 'policy', 'kind', 'evaluated_at', 'valid_until', 'grade', 'score', 'metrics',
							   'lifecycle', 'risk', 'follow_up'] || kind_keys) k WHERE NOT e ? k
	UNION ALL
	SELECT 'follow_up.' || k FROM unnest(ARRAY['next_follow_up_at', 'due', 'cadence', 'calendar_shift']) k
	 WHERE NOT e -> 'follow_up' ? k
$$;
SELECT * FROM t36.missing_keys(crm_grade.explain(3601), '{rule}');
SELECT * FROM t36.missing_keys(crm_grade.explain(3641), '{rule,default}');
-- a customer graded by the default
SELECT e -> 'grade' AS grade, e -> 'rule' AS rule, e -> 'default' AS "default", e -> 'score' AS score
  FROM crm_grade.explain(3641) e;
-- for every customer: the grade, the evaluation moment and valid_until as
-- stored, the metrics the policy reads (amount_12m) as stored, the rule's
-- grade
SELECT count(*) AS customers,
	   count(*) FILTER (WHERE e ->> 'grade' = s.grade
						  AND (e ->> 'evaluated_at')::timestamptz = s.graded_at
						  AND (e ->> 'valid_until')::timestamptz IS NOT DISTINCT FROM s.valid_until
						  AND (e #>> '{metrics,amount_12m}')::numeric = s.amount_12m
						  AND e ->> 'kind' = 'rules' AND e ->> 'policy' = 'abc'
						  AND coalesce(e #>> '{rule,grade}', s.grade) = s.grade) AS agreeing
  FROM crm_grade.customer_state s, crm_grade.explain(s.customer::int) e;

-- unknown customer, NULL
SELECT crm_grade.explain(99999);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- simulate

-- the active policy: the identity matrix
SELECT * FROM crm_grade.simulate((SELECT definition FROM crm_grade.policy WHERE name = 'abc'));
SELECT grade, count(*) AS customers, sum(amount_12m) AS amount_12m FROM crm_grade.customer_state GROUP BY grade ORDER BY grade;

-- weighted_score while abc is active, and plain SQL: points, dimension
-- scores, total and bands as spec-0.5 writes them
CREATE FUNCTION t36.points(p jsonb, x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
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
CREATE FUNCTION t36.total(def jsonb, metrics jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT sum((d ->> 'weight')::numeric *
			   (SELECT sum((m ->> 'weight')::numeric * t36.points(m -> 'points', (metrics ->> (m ->> 'metric'))::numeric))
				  FROM jsonb_array_elements(d -> 'metrics') m))
	  FROM jsonb_array_elements(def -> 'dimensions') d
$$;
CREATE FUNCTION t36.band(def jsonb, score numeric) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT coalesce((SELECT b ->> 'grade' FROM jsonb_array_elements(def -> 'bands') WITH ORDINALITY x(b, i)
					  WHERE score >= (b ->> 'min')::numeric ORDER BY i LIMIT 1), def ->> 'default')
$$;
-- each customer's metrics at T (no time has passed since graded_at)
CREATE VIEW t36.metrics AS
SELECT s.customer, s.grade AS from_grade, s.amount_12m,
	   jsonb_strip_nulls(jsonb_build_object('amount_12m', s.amount_12m, 'avg_order_value_12m', s.avg_order_value_12m,
			'avg_payment_days', s.avg_payment_days,
			'tenure_days', floor(extract(epoch FROM crm_grade.as_of() - s.first_order_at) / 86400),
			'orders_12m', s.orders_12m, 'repurchase_rate', s.repurchase_rate))
	   || coalesce((SELECT jsonb_object_agg('attr.' || k, v) FROM jsonb_each(s.attributes) a(k, v)
					 WHERE jsonb_typeof(v) = 'number'), '{}') AS metrics
  FROM crm_grade.customer_state s;
SELECT definition AS ws FROM crm_grade.policy WHERE name = 'weighted_score' \gset
CREATE TABLE t36.plain_ws AS
SELECT customer, from_grade, amount_12m, t36.band(:'ws', greatest(0, least(100, round(t36.total(:'ws', metrics), 2)))) AS to_grade,
	   greatest(0, least(100, round(t36.total(:'ws', metrics), 2))) AS score
  FROM t36.metrics;
:written \gset before_
SELECT * FROM crm_grade.simulate(:'ws');
SELECT from_grade, to_grade, count(*) AS customers, sum(amount_12m) AS amount_12m
  FROM t36.plain_ws GROUP BY 1, 2 ORDER BY 1, 2;
SELECT NOT EXISTS (SELECT from_grade, to_grade, customers, amount_12m FROM crm_grade.simulate(:'ws')
				   EXCEPT SELECT from_grade, to_grade, count(*), sum(amount_12m) FROM t36.plain_ws GROUP BY 1, 2)
   AND NOT EXISTS (SELECT from_grade, to_grade, count(*), sum(amount_12m) FROM t36.plain_ws GROUP BY 1, 2
				   EXCEPT SELECT from_grade, to_grade, customers, amount_12m FROM crm_grade.simulate(:'ws')) AS simulate_is_plain_sql;
-- nothing written
:written \gset after_
SELECT :'before_state' = :'after_state' AS state_unchanged, :'before_history' = :'after_history' AS history_unchanged,
	   :'before_population' = :'after_population' AS population_unchanged, :'after_active' AS active;

-- rfm while abc is active: the cut-offs afresh, in plain SQL, from the
-- stored metrics
CREATE TABLE t36.plain_cutoffs AS
WITH pop AS (SELECT * FROM crm_grade.customer_state WHERE graded_at IS NOT NULL AND orders_12m > 0)
SELECT (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT last_order_at AS v, ntile(5) OVER (ORDER BY last_order_at) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS r,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT orders_12m AS v, ntile(5) OVER (ORDER BY orders_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS f,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT amount_12m AS v, ntile(5) OVER (ORDER BY amount_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS m;
SELECT definition AS rfm FROM crm_grade.policy WHERE name = 'rfm' \gset
CREATE TABLE t36.plain_rfm AS
SELECT s.customer, s.grade AS from_grade, s.amount_12m, r.r, r.f, r.m,
	   CASE WHEN s.orders_12m > 0 THEN 100 * r.r + 10 * r.f + r.m END AS score,
	   CASE WHEN s.orders_12m > 0 THEN
				(SELECT g ->> 'grade' FROM jsonb_array_elements(:'rfm'::jsonb -> 'segments') WITH ORDINALITY x(g, i)
				  WHERE r.r BETWEEN coalesce((g #>> '{r,0}')::int, 1) AND coalesce((g #>> '{r,1}')::int, 5)
					AND r.f BETWEEN coalesce((g #>> '{f,0}')::int, 1) AND coalesce((g #>> '{f,1}')::int, 5)
					AND r.m BETWEEN coalesce((g #>> '{m,0}')::int, 1) AND coalesce((g #>> '{m,1}')::int, 5)
				  ORDER BY i LIMIT 1)
			WHEN s.orders_total > 0 THEN 'Lost' ELSE 'Prospects' END AS to_grade
  FROM crm_grade.customer_state s, t36.plain_cutoffs c,
	   LATERAL (SELECT 1 + (SELECT count(*) FROM unnest(c.r) x WHERE s.last_order_at > x)::int AS r,
					   1 + (SELECT count(*) FROM unnest(c.f) x WHERE s.orders_12m > x)::int AS f,
					   1 + (SELECT count(*) FROM unnest(c.m) x WHERE s.amount_12m > x)::int AS m) r;
SELECT * FROM crm_grade.simulate(:'rfm');
SELECT NOT EXISTS (SELECT from_grade, to_grade, customers, amount_12m FROM crm_grade.simulate(:'rfm')
				   EXCEPT SELECT from_grade, to_grade, count(*), sum(amount_12m) FROM t36.plain_rfm GROUP BY 1, 2)
   AND NOT EXISTS (SELECT from_grade, to_grade, count(*), sum(amount_12m) FROM t36.plain_rfm GROUP BY 1, 2
				   EXCEPT SELECT from_grade, to_grade, customers, amount_12m FROM crm_grade.simulate(:'rfm')) AS simulate_is_plain_sql;
:written \gset after_
SELECT :'before_state' = :'after_state' AS state_unchanged, :'before_history' = :'after_history' AS history_unchanged,
	   :'before_population' = :'after_population' AS population_unchanged, :'after_active' AS active;

-- a candidate of one's own, never stored: weighted_score with a core band
-- from 70
SELECT sum(customers) AS simulated_core_from_70 FROM crm_grade.simulate(jsonb_set(:'ws', '{bands,0,min}', '70'))
 WHERE to_grade = 'core';
SELECT count(*) FILTER (WHERE score >= 70) AS plain_core_from_70 FROM t36.plain_ws;

-- an invalid candidate is refused like an INSERT into crm_grade.policy
SELECT * FROM crm_grade.simulate(jsonb_set(:'ws', '{dimensions,2,metrics,1,points,1}', '[100, 101]'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.simulate(jsonb_set(:'rfm', '{segments,9,r}', '[1, 1]'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.simulate('{"kind": "rules"}');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.simulate(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
:written \gset after_
SELECT :'before_state' = :'after_state' AS state_unchanged, :'before_history' = :'after_history' AS history_unchanged,
	   :'before_population' = :'after_population' AS population_unchanged;

-- ---------------------------------------------------------------- explain: score

-- what simulate() said is what use_policy() does
CREATE TABLE t36.sim AS SELECT * FROM crm_grade.simulate(:'ws');
CREATE TABLE t36.before AS SELECT customer, grade, amount_12m FROM crm_grade.customer_state;
SELECT crm_grade.use_policy('weighted_score') > 0 AS changed;
SELECT NOT EXISTS (SELECT from_grade, to_grade, customers, amount_12m FROM t36.sim
				   EXCEPT SELECT b.grade, s.grade, count(*), sum(b.amount_12m) FROM t36.before b JOIN crm_grade.customer_state s USING (customer) GROUP BY 1, 2)
   AND NOT EXISTS (SELECT b.grade, s.grade, count(*), sum(b.amount_12m) FROM t36.before b JOIN crm_grade.customer_state s USING (customer) GROUP BY 1, 2
				   EXCEPT SELECT from_grade, to_grade, customers, amount_12m FROM t36.sim) AS use_policy_did_what_simulate_said;
-- the stored scores equal the plain-SQL scores
SELECT s.customer, s.score, p.score AS plain FROM crm_grade.customer_state s JOIN t36.plain_ws p USING (customer)
 WHERE s.score IS DISTINCT FROM p.score;
-- and now the identity
SELECT count(*) AS cells, count(*) FILTER (WHERE from_grade <> to_grade) AS moves FROM crm_grade.simulate(:'ws');

-- 3602 in full: financial 81 (37 + 20 + 24), cooperation 86 (32 + 24 +
-- 30), demand 80, potential 62; total 78.50, important
SELECT jsonb_pretty(crm_grade.explain(3602));
SELECT * FROM t36.missing_keys(crm_grade.explain(3602), '{dimensions,total,band}');
-- every metric the policy reads is in "metrics"
SELECT m ->> 'metric' AS missing_metric
  FROM jsonb_array_elements(:'ws'::jsonb -> 'dimensions') d, jsonb_array_elements(d -> 'metrics') m
 WHERE NOT crm_grade.explain(3602) -> 'metrics' ? (m ->> 'metric');
-- for every customer: total = the stored score exactly; every metric's
-- contribution is its weight times its points, a dimension's points the
-- sum of its metrics' contributions, its contribution its weight times
-- its points, and the total their sum rounded to 2 places
CREATE TABLE t36.explained AS SELECT s.customer, s.score, s.grade, crm_grade.explain(s.customer::int) AS e FROM crm_grade.customer_state s;
SELECT count(*) AS customers,
	   count(*) FILTER (WHERE (e ->> 'total')::numeric = score AND (e ->> 'score')::numeric = score) AS total_is_score,
	   count(*) FILTER (WHERE e ->> 'grade' = grade) AS grade_is_grade,
	   count(*) FILTER (WHERE jsonb_array_length(e -> 'dimensions') = 4) AS four_dimensions
  FROM t36.explained;
SELECT x.customer, d ->> 'name' AS dimension, m ->> 'metric' AS metric, m -> 'weight' AS weight, m -> 'points' AS points,
	   m -> 'contribution' AS contribution
  FROM t36.explained x, jsonb_array_elements(x.e -> 'dimensions') d, jsonb_array_elements(d -> 'metrics') m
 WHERE (m ->> 'contribution')::numeric <> (m ->> 'weight')::numeric * (m ->> 'points')::numeric;
SELECT x.customer, d ->> 'name' AS dimension
  FROM t36.explained x, jsonb_array_elements(x.e -> 'dimensions') d
 WHERE (d ->> 'points')::numeric <> (SELECT sum((m ->> 'contribution')::numeric) FROM jsonb_array_elements(d -> 'metrics') m)
	OR (d ->> 'contribution')::numeric <> (d ->> 'weight')::numeric * (d ->> 'points')::numeric;
SELECT x.customer, x.score FROM t36.explained x
 WHERE x.score <> greatest(0, least(100, round((SELECT sum((d ->> 'contribution')::numeric) FROM jsonb_array_elements(x.e -> 'dimensions') d), 2)));
-- and the metric values are the plain ones
SELECT x.customer, m ->> 'metric' AS metric, m -> 'value' AS value, p.metrics -> (m ->> 'metric') AS plain
  FROM t36.explained x JOIN t36.metrics p USING (customer), jsonb_array_elements(x.e -> 'dimensions') d, jsonb_array_elements(d -> 'metrics') m
 WHERE (m ->> 'value')::numeric IS DISTINCT FROM (p.metrics ->> (m ->> 'metric'))::numeric;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- explain: rfm

SELECT crm_grade.use_policy('rfm') > 0 AS changed;
SELECT s.customer, s.score, p.score AS plain, s.grade, p.to_grade AS plain_grade
  FROM crm_grade.customer_state s JOIN t36.plain_rfm p USING (customer)
 WHERE s.score IS DISTINCT FROM p.score OR s.grade IS DISTINCT FROM p.to_grade;
SELECT jsonb_pretty(crm_grade.explain(3601));
SELECT * FROM t36.missing_keys(crm_grade.explain(3601), '{rfm,segment}')
UNION ALL SELECT 'rfm.' || k FROM unnest(ARRAY['r', 'f', 'm', 'cutoffs', 'computed_at']) k WHERE NOT crm_grade.explain(3601) -> 'rfm' ? k;
-- for every customer with an order in the window: r, f, m are the tiles
-- of its metrics among the population's cut-offs, the score 100 r + 10 f
-- + m; the cut-offs and computed_at those stored
SELECT count(*) AS customers,
	   count(*) FILTER (WHERE (e #>> '{rfm,r}')::int = p.r AND (e #>> '{rfm,f}')::int = p.f AND (e #>> '{rfm,m}')::int = p.m
						  AND (e ->> 'score')::numeric = s.score AND e ->> 'grade' = s.grade
						  AND coalesce(e #>> '{segment,grade}', e ->> 'segment') = s.grade
						  AND (e #>> '{rfm,computed_at}')::timestamptz = pop.computed_at
						  AND ARRAY(SELECT x::timestamptz FROM jsonb_array_elements_text(e #> '{rfm,cutoffs,recency}') x) = pop.recency_cutoffs
						  AND ARRAY(SELECT x::bigint FROM jsonb_array_elements_text(e #> '{rfm,cutoffs,frequency}') x) = pop.frequency_cutoffs
						  AND ARRAY(SELECT x::numeric FROM jsonb_array_elements_text(e #> '{rfm,cutoffs,monetary}') x) = pop.monetary_cutoffs) AS agreeing
  FROM crm_grade.customer_state s JOIN t36.plain_rfm p USING (customer), crm_grade.population pop,
	   crm_grade.explain(s.customer::int) e
 WHERE s.orders_12m > 0;
-- lapsed and default customers: no R, F, M
SELECT s.customer, s.grade, e -> 'score' AS score, e #> '{rfm,r}' AS r, e #> '{rfm,f}' AS f, e #> '{rfm,m}' AS m
  FROM crm_grade.customer_state s, crm_grade.explain(s.customer::int) e
 WHERE s.orders_12m = 0 ORDER BY s.customer LIMIT 3;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- a text key

SELECT crm_grade.use_policy('abc') > 0 AS changed;
SELECT crm_grade.detach('t36.orders');
SELECT crm_grade.detach('t36.customers');
CREATE TABLE t36.text_orders (cust text NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO t36.text_orders VALUES ('C-1', 150000, '2026-03-01 00:00+00'), ('C-2', 50, '2026-03-01 00:00+00');
SELECT crm_grade.attach_orders('t36.text_orders', 'cust', 'amount', 'ordered_at');
SELECT e -> 'customer' AS customer, e -> 'grade' AS grade, e #> '{metrics,amount_12m}' AS amount_12m, e #> '{rule,grade}' AS rule
  FROM crm_grade.explain('C-1'::text) e;
SELECT crm_grade.explain('C-3'::text);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT * FROM crm_grade.simulate((SELECT definition FROM crm_grade.policy WHERE name = 'abc'));
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.use_policy('abc') > 0 AS changed;
SELECT crm_grade.detach('t36.text_orders');
DROP SCHEMA t36 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SELECT * FROM crm_grade.verify();
