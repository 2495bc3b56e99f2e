-- Generated workload under the policies of 0.5: weighted_score, then rfm,
-- then each again (use_policy() switching between them).  Orders are
-- inserted one at a time and many customers in one statement, refunded,
-- re-dated (across month starts), moved between customers and deleted;
-- the customer master's attributes (the demand and potential scores of
-- weighted_score) are set, changed to numbers, strings holding numbers and
-- text that is not a number, removed, and master rows deleted; time
-- passes between writes, and as_of jumps by days, weeks and months,
-- across both daylight-saving changes of crm_grade.timezone =
-- Europe/Berlin and many month starts (growth_months), with
-- crm_grade.population_refresh = 1 hour.
--
-- After every phase: rows whose valid_until has not passed already agree
-- with verify(); regrade(max_customers) batches until done; verify() is
-- empty; nothing is left expired; and, in this file's own SQL: under
-- weighted_score every stored score is the C scorer _score() and the
-- plain-SQL score of the customer's stored metrics at its graded_at, and
-- its grade the band of that score; under rfm the population is ntile(5)
-- over the stored metrics and every score 100 R + 10 F + M of the tiles
-- of the stored cut-offs, with the grade of that cell; growth_months is
-- the plain-SQL recomputation at graded_at.  Deterministic: setseed() and
-- explicit as_of.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(85);

SET LOCAL statement_timeout = '60s';
SET LOCAL jit = off;
SET LOCAL TimeZone = 'Europe/Berlin';
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SET LOCAL crm_grade.as_of = '2025-10-20 12:00:00+02';
SET LOCAL crm_grade.population_refresh = '1h';
DO $$ BEGIN PERFORM setseed(0.0808); END $$;

CREATE SCHEMA wp;
CREATE TABLE wp.customers (
	id			integer PRIMARY KEY,
	rep			text,
	attrs		jsonb
);
CREATE TABLE wp.orders (
	id			bigserial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX ON wp.orders (customer_id);

\ir include/generators.sql

CREATE TABLE wp.ops (op text PRIMARY KEY, n int NOT NULL);
CREATE FUNCTION wp.did(op text, n bigint) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wp.ops VALUES (op, least(n, 1)) ON CONFLICT (op) DO UPDATE SET n = wp.ops.n + EXCLUDED.n
$$;
CREATE FUNCTION wp.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;
CREATE FUNCTION wp.rnd_customer() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT gen.rnd_int(1, 160)::int $$;
CREATE FUNCTION wp.any_order() RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT id FROM wp.orders ORDER BY random() LIMIT 1 $$;
-- an attribute value: mostly a 0..100 number, some strings holding one,
-- some text that is not a number
CREATE FUNCTION wp.rnd_attr() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN r < 0.80 THEN to_jsonb(round((random() * 100)::numeric, (random() * 2)::int))
				WHEN r < 0.92 THEN to_jsonb(' ' || gen.rnd_int(0, 100) || ' ')
				ELSE '"high"'::jsonb END
	  FROM (SELECT random() AS r) x
$$;
CREATE FUNCTION wp.rnd_attrs() RETURNS jsonb LANGUAGE sql VOLATILE AS $$
	SELECT coalesce(jsonb_object_agg(k, wp.rnd_attr()) FILTER (WHERE random() < 0.75), '{}')
	  FROM unnest(ARRAY['customization', 'service_level', 'industry_outlook', 'expansion', 'referral']) k
$$;

-- ---------------------------------------------------------------- writes

CREATE FUNCTION wp.write() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	c int := wp.rnd_customer();
	pick bigint;
	t timestamptz;
	n bigint;
BEGIN
	IF r < 0.30 THEN
		t := gen.rnd_time();
		INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at) VALUES (c, gen.rnd_amount(), t, gen.rnd_paid(t));
		PERFORM wp.did('order', 1);
	ELSIF r < 0.38 THEN
		-- many customers in one statement
		INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
		SELECT x.c, gen.rnd_amount(), x.t, gen.rnd_paid(x.t)
		  FROM (SELECT wp.rnd_customer() AS c, gen.rnd_time() AS t FROM generate_series(1, gen.rnd_int(2, 12))) x;
		PERFORM wp.did('bulk orders', 1);
	ELSIF r < 0.46 THEN
		pick := wp.any_order();
		UPDATE wp.orders SET amount = CASE WHEN random() < 0.3 THEN -abs(amount) / 2 ELSE gen.rnd_amount() END WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('amount or refund', n);
	ELSIF r < 0.54 THEN
		-- re-dated, often to a month start (local) or a microsecond before
		pick := wp.any_order();
		UPDATE wp.orders SET ordered_at = CASE WHEN random() < 0.5 THEN gen.rnd_time()
			ELSE ((date_trunc('month', ordered_at AT TIME ZONE 'Europe/Berlin') + gen.rnd_int(0, 1) * interval '1 month')
				  AT TIME ZONE 'Europe/Berlin') - gen.rnd_int(0, 1) * interval '1 microsecond' END
		 WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('re-dated', n);
	ELSIF r < 0.60 THEN
		pick := wp.any_order();
		UPDATE wp.orders SET customer_id = c WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('moved', n);
	ELSIF r < 0.66 THEN
		pick := wp.any_order();
		UPDATE wp.orders SET paid_at = gen.rnd_paid(ordered_at) WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('paid', n);
	ELSIF r < 0.72 THEN
		pick := wp.any_order();
		DELETE FROM wp.orders WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('order deleted', n);
	ELSIF r < 0.86 THEN
		INSERT INTO wp.customers VALUES (c, 'rep' || gen.rnd_int(1, 4), wp.rnd_attrs())
		ON CONFLICT (id) DO UPDATE SET attrs = EXCLUDED.attrs;
		PERFORM wp.did('attributes set', 1);
	ELSIF r < 0.94 THEN
		UPDATE wp.customers
		   SET attrs = CASE WHEN random() < 0.3 THEN attrs - (ARRAY['customization', 'service_level', 'industry_outlook', 'expansion', 'referral'])[gen.rnd_int(1, 5)]
							ELSE coalesce(attrs, '{}') || jsonb_build_object((ARRAY['customization', 'service_level', 'industry_outlook', 'expansion', 'referral'])[gen.rnd_int(1, 5)], wp.rnd_attr()) END
		 WHERE id = c;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('attribute changed', n);
	ELSE
		DELETE FROM wp.customers WHERE id = c;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wp.did('master deleted', n);
	END IF;
END $$;

CREATE FUNCTION wp.run(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..n LOOP
		PERFORM wp.write();
		IF random() < 0.03 THEN
			-- time passes between writes, without regrade()
			PERFORM wp.set_as_of(crm_grade.as_of() + random() * interval '1 day');
		END IF;
	END LOOP;
END $$;

-- ---------------------------------------------------------------- checks in plain SQL

-- a customer's metrics at its graded_at (NULL metrics left out)
CREATE FUNCTION wp.metrics(s crm_grade.customer_state) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
			'amount_12m', s.amount_12m, 'orders_12m', s.orders_12m,
			'avg_order_value_12m', s.avg_order_value_12m, 'avg_payment_days', s.avg_payment_days,
			'repurchase_rate', s.repurchase_rate,
			'tenure_days', floor(extract(epoch FROM s.graded_at - s.first_order_at) / 86400)))
		|| coalesce((SELECT jsonb_object_agg('attr.' || k,
						CASE WHEN jsonb_typeof(v) = 'number' THEN v ELSE to_jsonb((v #>> '{}')::numeric) END)
					   FROM jsonb_each(s.attributes) a(k, v)
					  WHERE jsonb_typeof(v) = 'number'
						 OR (jsonb_typeof(v) = 'string' AND v #>> '{}' ~ '^\s*[+-]?[0-9]+(\.[0-9]*)?\s*$')), '{}')
$$;
CREATE FUNCTION wp.points(p jsonb, x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
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
CREATE FUNCTION wp.score(def jsonb, metrics jsonb) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
	SELECT greatest(0, least(100, round(sum((d ->> 'weight')::numeric *
			   (SELECT sum((m ->> 'weight')::numeric * wp.points(m -> 'points', (metrics ->> (m ->> 'metric'))::numeric))
				  FROM jsonb_array_elements(d -> 'metrics') m)), 2)))
	  FROM jsonb_array_elements(def -> 'dimensions') d
$$;
CREATE FUNCTION wp.month_index(t timestamptz) RETURNS int LANGUAGE sql STABLE AS
$$ SELECT (extract(year FROM t AT TIME ZONE 'Europe/Berlin') * 12 + extract(month FROM t AT TIME ZONE 'Europe/Berlin') - 1)::int $$;
CREATE FUNCTION wp.growth(c int, t timestamptz) RETURNS int LANGUAGE sql STABLE AS $$
	WITH m AS (SELECT wp.month_index(ordered_at) AS mi, sum(amount) AS a FROM wp.orders
				WHERE customer_id = c AND ordered_at <= t GROUP BY 1),
		 l AS (SELECT wp.month_index(t) - 1 AS li, coalesce((SELECT min(mi) FROM m), wp.month_index(t)) AS first)
	SELECT min(g)::int FROM l, generate_series(0, greatest(l.li - l.first + 1, 0)) g
	 WHERE NOT coalesce((SELECT a FROM m WHERE mi = l.li - g), 0) > coalesce((SELECT a FROM m WHERE mi = l.li - g - 1), 0)
$$;
CREATE VIEW wp.plain_population AS
WITH pop AS (SELECT * FROM crm_grade.customer_state WHERE graded_at IS NOT NULL AND orders_12m > 0)
SELECT (SELECT count(*) FROM pop) AS customers,
	   (SELECT coalesce(sum(amount_12m), 0) FROM crm_grade.customer_state WHERE graded_at IS NOT NULL) AS amount_12m_total,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT last_order_at AS v, ntile(5) OVER (ORDER BY last_order_at) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS recency_cutoffs,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT orders_12m AS v, ntile(5) OVER (ORDER BY orders_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS frequency_cutoffs,
	   (SELECT coalesce(array_agg(hi ORDER BY tile), '{}') FROM (SELECT tile, max(v) AS hi FROM (SELECT amount_12m AS v, ntile(5) OVER (ORDER BY amount_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS monetary_cutoffs;

-- Under weighted_score: customers whose stored score is not the C scorer's
-- nor the plain one on their metrics at graded_at, or whose grade is not the
-- band of their score.
CREATE FUNCTION wp.score_disagreements() RETURNS TABLE (customer text, score numeric, c_score numeric, plain numeric, grade text)
LANGUAGE sql STABLE AS $$
	SELECT s.customer, s.score, crm_grade._score(p.definition, wp.metrics(s)), wp.score(p.definition, wp.metrics(s)), s.grade
	  FROM crm_grade.customer_state s, crm_grade.policy p
	 WHERE p.name = 'weighted_score'
	   AND (s.score IS DISTINCT FROM crm_grade._score(p.definition, wp.metrics(s))
			OR s.score IS DISTINCT FROM wp.score(p.definition, wp.metrics(s))
			OR s.grade IS DISTINCT FROM coalesce((SELECT b ->> 'grade' FROM jsonb_array_elements(p.definition -> 'bands') WITH ORDINALITY x(b, i)
												   WHERE s.score >= (b ->> 'min')::numeric ORDER BY i LIMIT 1), p.definition ->> 'default'))
$$;
-- Under rfm: customers whose score is not 100 R + 10 F + M of the tiles of
-- the stored cut-offs, or whose grade is not that cell's segment (lapsed and
-- default ones: no score, Lost or Prospects).
CREATE FUNCTION wp.rfm_disagreements() RETURNS TABLE (customer text, score numeric, plain numeric, grade text, plain_grade text)
LANGUAGE sql STABLE AS $$
	WITH t AS (
		SELECT s.customer, s.score, s.grade, s.orders_12m, s.orders_total,
			   1 + (SELECT count(*) FROM unnest(p.recency_cutoffs) x WHERE s.last_order_at > x)::int AS r,
			   1 + (SELECT count(*) FROM unnest(p.frequency_cutoffs) x WHERE s.orders_12m > x)::int AS f,
			   1 + (SELECT count(*) FROM unnest(p.monetary_cutoffs) x WHERE s.amount_12m > x)::int AS m
		  FROM crm_grade.customer_state s LEFT JOIN crm_grade.population p ON true
	), g AS (
		SELECT t.*, CASE WHEN t.orders_12m > 0 THEN 100 * t.r + 10 * t.f + t.m END AS plain,
			   CASE WHEN t.orders_12m > 0 THEN
						(SELECT x ->> 'grade' FROM crm_grade.policy p, jsonb_array_elements(p.definition -> 'segments') WITH ORDINALITY y(x, i)
						  WHERE p.name = 'rfm'
							AND t.r BETWEEN coalesce((x #>> '{r,0}')::int, 1) AND coalesce((x #>> '{r,1}')::int, 5)
							AND t.f BETWEEN coalesce((x #>> '{f,0}')::int, 1) AND coalesce((x #>> '{f,1}')::int, 5)
							AND t.m BETWEEN coalesce((x #>> '{m,0}')::int, 1) AND coalesce((x #>> '{m,1}')::int, 5)
						  ORDER BY i LIMIT 1)
					WHEN t.orders_total > 0 THEN 'Lost' ELSE 'Prospects' END AS plain_grade
		  FROM t)
	SELECT customer, score, plain, grade, plain_grade FROM g
	 WHERE score IS DISTINCT FROM plain OR grade IS DISTINCT FROM plain_grade
$$;

CREATE TEMP TABLE wp_verify (customer text, field text, stored text, recomputed text);

-- A phase: random writes, as_of moved on, the early check, regrade() in
-- batches, the full check.  8 tests.
CREATE FUNCTION wp.phase(label text, nops int, jump interval) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	batch int;
	done bigint;
	kind text := (SELECT p.definition ->> 'kind' FROM crm_grade.policy p
				   WHERE p.name = coalesce((SELECT a.name FROM crm_grade.active_policy a), 'abc'));
BEGIN
	PERFORM wp.run(nops);
	PERFORM wp.set_as_of(crm_grade.as_of() + jump);
	t := crm_grade.as_of();
	TRUNCATE wp_verify;
	INSERT INTO wp_verify
	SELECT v.* FROM crm_grade.verify() v
	  JOIN crm_grade.customer_state s ON s.customer = v.customer
	 WHERE (s.valid_until IS NULL OR s.valid_until > t) AND s.graded_at <= t;
	RETURN NEXT is((SELECT count(*) FROM wp_verify), 0::bigint,
				   label || ': unexpired rows already agree with verify() before regrade()');
	-- between refreshes (rfm) and between evaluations (weighted_score) the
	-- stored scores are those of the stored metrics
	IF kind = 'score' THEN
		RETURN NEXT is((SELECT count(*) FROM wp.score_disagreements()), 0::bigint,
					   label || ': before regrade(), every stored score and grade is that of the stored metrics');
	ELSE
		RETURN NEXT is((SELECT count(*) FROM wp.rfm_disagreements()), 0::bigint,
					   label || ': before regrade(), every score and grade is that of the stored cut-offs');
	END IF;
	LOOP
		batch := gen.rnd_int(1, 40);
		done := crm_grade.regrade(batch);
		EXIT WHEN done < batch;
	END LOOP;
	TRUNCATE wp_verify;
	INSERT INTO wp_verify SELECT * FROM crm_grade.verify();
	RETURN NEXT is((SELECT count(*) FROM wp_verify), 0::bigint, label || ': verify() is empty');
	IF EXISTS (SELECT 1 FROM wp_verify) THEN
		RETURN NEXT diag((SELECT string_agg(format('%s %s: stored %s, recomputed %s', customer, field, stored, recomputed), E'\n')
							FROM (SELECT * FROM wp_verify ORDER BY 1, 2 LIMIT 15) v));
	END IF;
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= t),
				   0::bigint, label || ': no state row left expired');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.policy IS DISTINCT FROM
						coalesce((SELECT a.name FROM crm_grade.active_policy a), 'abc')),
				   0::bigint, label || ': every customer is graded by the active policy');
	IF kind = 'score' THEN
		RETURN NEXT is((SELECT count(*) FROM wp.score_disagreements()), 0::bigint,
					   label || ': every stored score is _score() and the plain score of the stored metrics, the grade its band');
		IF EXISTS (SELECT 1 FROM wp.score_disagreements()) THEN
			RETURN NEXT diag((SELECT string_agg(format('%s: stored %s, _score %s, plain %s, grade %s', d.customer, d.score, d.c_score, d.plain, d.grade), E'\n')
								FROM (SELECT * FROM wp.score_disagreements() LIMIT 10) d));
		END IF;
		RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state WHERE score IS NULL OR score < 0 OR score > 100),
					   0::bigint, label || ': every score lies within 0..100');
	ELSE
		RETURN NEXT ok(NOT EXISTS (SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs
									 FROM crm_grade.population EXCEPT SELECT * FROM wp.plain_population)
					   AND NOT EXISTS (SELECT * FROM wp.plain_population EXCEPT
									   SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs
										 FROM crm_grade.population),
					   label || ': regrade() refreshed the population: ntile(5) over the stored metrics');
		RETURN NEXT is((SELECT count(*) FROM wp.rfm_disagreements()), 0::bigint,
					   label || ': every score is 100 R + 10 F + M of the stored cut-offs, the grade that cell''s segment');
		IF EXISTS (SELECT 1 FROM wp.rfm_disagreements()) THEN
			RETURN NEXT diag((SELECT string_agg(format('%s: score %s, plain %s, grade %s, plain %s', d.customer, d.score, d.plain, d.grade, d.plain_grade), E'\n')
								FROM (SELECT * FROM wp.rfm_disagreements() LIMIT 10) d));
		END IF;
	END IF;
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s
					 WHERE s.growth_months IS DISTINCT FROM coalesce(wp.growth(s.customer::int, s.graded_at), 0)),
				   0::bigint, label || ': growth_months is the plain recomputation at graded_at');
END $$;

-- a policy switch: use_policy(), then verify(), the scores, and simulate()
-- of the new active policy is the identity.  4 tests.
CREATE FUNCTION wp.switch(pol text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN NEXT lives_ok(format('SELECT crm_grade.use_policy(%L)', pol), 'use_policy(' || pol || ')');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, pol || ': verify() is empty after use_policy()');
	RETURN NEXT is((SELECT count(*) FROM (SELECT d.customer FROM wp.score_disagreements() d WHERE pol = 'weighted_score'
										  UNION ALL SELECT d.customer FROM wp.rfm_disagreements() d WHERE pol = 'rfm') x),
				   0::bigint, pol || ': the scores and grades are those of the stored metrics');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.simulate((SELECT p.definition FROM crm_grade.policy p WHERE p.name = pol)) x
					 WHERE x.from_grade <> x.to_grade), 0::bigint, pol || ': simulate() of the active policy moves nobody');
END $$;

-- ---------------------------------------------------------------- attach

SELECT wp.run(300);
SELECT lives_ok($$SELECT crm_grade.attach_orders('wp.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at')$$,
				'attach the order table');
SELECT lives_ok($$SELECT crm_grade.attach_customers('wp.customers', 'id', owner_column => 'rep', attributes_column => 'attrs')$$,
				'attach the master with its attributes');

-- ---------------------------------------------------------------- weighted_score

SELECT * FROM wp.switch('weighted_score');
SELECT * FROM wp.phase('score: a day', 400, interval '1 day');
SELECT * FROM wp.phase('score: across the autumn DST change and into November', 400, interval '12 days');
SELECT * FROM wp.phase('score: forty days', 400, interval '40 days');

-- ---------------------------------------------------------------- rfm

SELECT * FROM wp.switch('rfm');
SELECT * FROM wp.phase('rfm: three days', 400, interval '3 days');
SELECT * FROM wp.phase('rfm: a month', 400, interval '1 month');
SELECT * FROM wp.phase('rfm: two months', 400, interval '2 months');

-- ---------------------------------------------------------------- and back, and again

SELECT * FROM wp.switch('weighted_score');
SELECT * FROM wp.phase('score again: across the spring DST change and a month start', 400, interval '20 days');
-- weighted_score reads the attributes: those that are not numbers are listed
SELECT cmp_ok((SELECT count(*) FROM crm_grade.data_issues WHERE value = '"high"' OR value = 'high'), '>', 0::bigint,
			  'attributes that are not numbers are listed in data_issues');
SELECT * FROM wp.switch('rfm');
SELECT * FROM wp.phase('rfm again: five months', 400, interval '5 months');

-- ---------------------------------------------------------------- coverage

SELECT is((SELECT array_agg(x.op ORDER BY x.op)
			 FROM unnest(ARRAY['order', 'bulk orders', 'amount or refund', 're-dated', 'moved', 'paid', 'order deleted',
							   'attributes set', 'attribute changed', 'master deleted']) x(op)
			 LEFT JOIN wp.ops o USING (op)
			WHERE coalesce(o.n, 0) < 1),
		  NULL, 'every kind of write ran and changed something');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.history WHERE reason = 'population_refresh'), '>', 0::bigint,
			  'population refreshes re-graded customers');

SELECT * FROM finish();
ROLLBACK;
