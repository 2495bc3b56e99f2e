-- crm_grade demo: a sample CRM, graded by the three kinds of policy and printed.
--
-- Run by `make demo` against a fresh throw-away cluster; it works on any
-- database where you may CREATE EXTENSION:
--     psql -X -v ON_ERROR_STOP=1 -f test/demo.sql

\set ON_ERROR_STOP 1
\pset footer off
SET client_min_messages = warning;

\echo
\echo '== Installing crm_grade and the sample CRM (schema crm) =='
CREATE EXTENSION crm_grade;
SELECT crm_grade.create_sample_schema();

\echo
\echo '== Generating 10000 customers, 200000 orders, 20000 contact logs =='
\echo '   (orders go in with one INSERT; the triggers grade every customer in the same statement)'
\timing on
SELECT crm_grade.generate_sample(10000, 200000, 20000);
\timing off

\echo
\echo '== Where the revenue is: grades by share of the last 12 months (policy abc) =='
SELECT * FROM crm_grade.grade_summary;

\echo
\echo '== The 15 largest customers of the last 12 months =='
\set top15 'SELECT customer, grade, owner, amount_12m, orders_12m, total_amount, last_order_at::date AS last_order_at, round(repurchase_rate, 2) AS repurchase_rate FROM crm_grade.customer_grades ORDER BY amount_12m DESC, customer LIMIT 15'
:top15;

\echo
\echo '== Customers per grade (abc) =='
\set per_grade 'SELECT grade, count(*) AS customers, sum(amount_12m) AS amount_12m FROM crm_grade.customer_grades GROUP BY grade ORDER BY min(grade_rank)'
:per_grade;

\echo
\echo '== Three kinds of policy: what weighted_score (a score) and rfm (RFM segments) would do to abc =='
\echo '   (crm_grade.simulate(): every stored customer evaluated with the candidate, nothing written;'
\echo '    customers per candidate grade, by abc grade now)'
\set QUIET on
CREATE FUNCTION pg_temp.matrix(candidate text)
RETURNS TABLE (to_grade text, "from A" bigint, "from B" bigint, "from C" bigint, customers bigint, amount_12m numeric)
LANGUAGE sql AS $$
    WITH def AS (SELECT definition AS d FROM crm_grade.policy WHERE name = candidate),
    rank AS (   -- the candidate's grades in rank order: bands or segments, then lapsed, then default
        SELECT x->>'grade' AS grade, i FROM def, jsonb_array_elements(coalesce(d->'bands', d->'segments')) WITH ORDINALITY AS t(x, i)
        UNION ALL SELECT d->>'lapsed', 1000 FROM def WHERE d ? 'lapsed'
        UNION ALL SELECT d->>'default', 1001 FROM def)
    SELECT s.to_grade, sum(s.customers) FILTER (WHERE s.from_grade = 'A')::bigint,
           sum(s.customers) FILTER (WHERE s.from_grade = 'B')::bigint,
           sum(s.customers) FILTER (WHERE s.from_grade = 'C')::bigint,
           sum(s.customers)::bigint, sum(s.amount_12m)
      FROM crm_grade.simulate((SELECT d FROM def)) s JOIN rank r ON r.grade = s.to_grade
     GROUP BY s.to_grade, r.i ORDER BY r.i
$$;
\set QUIET off
\timing on
SELECT * FROM pg_temp.matrix('weighted_score');
SELECT * FROM pg_temp.matrix('rfm');
\timing off

-- a few customers to follow under each kind (their abc grade now)
\set QUIET on
CREATE TEMP TABLE side AS
SELECT n, who, customer, amount_12m, orders_12m, grade AS abc
  FROM (SELECT row_number() OVER (ORDER BY amount_12m DESC, customer) AS n, 'largest' AS who,
               customer, amount_12m, orders_12m, grade
          FROM crm_grade.customer_grades ORDER BY amount_12m DESC, customer LIMIT 3) top
UNION ALL
(SELECT 4, 'mid-sized', customer, amount_12m, orders_12m, grade FROM crm_grade.customer_grades
  WHERE amount_12m BETWEEN 20000 AND 60000 ORDER BY customer LIMIT 1)
UNION ALL
(SELECT 5, 'lapsed', customer, amount_12m, orders_12m, grade FROM crm_grade.customer_grades
  WHERE orders_12m = 0 AND orders_total > 0 ORDER BY customer LIMIT 1)
UNION ALL
(SELECT 6, 'prospect', customer, amount_12m, orders_12m, grade FROM crm_grade.customer_grades
  WHERE orders_total = 0 ORDER BY customer LIMIT 1);
ALTER TABLE side ADD weighted_score text, ADD score numeric, ADD rfm text, ADD rfm_cell numeric;
\set QUIET off

\echo
\echo '== Switching to weighted_score (score = weighted points, 0..100, at graded_at): customers whose grade changed =='
\timing on
SELECT crm_grade.use_policy('weighted_score') AS grades_changed;
\timing off
\set QUIET on
UPDATE side SET weighted_score = g.grade, score = g.score
  FROM crm_grade.customer_grades g WHERE g.customer = side.customer;
\set QUIET off
\echo
\echo '== Customers per grade (weighted_score) =='
SELECT grade, count(*) AS customers, min(score) AS min_score, max(score) AS max_score, sum(amount_12m) AS amount_12m
  FROM crm_grade.customer_grades GROUP BY grade ORDER BY min(grade_rank);

\echo
\echo '== Why this score: crm_grade.explain() of the largest customer, dimension by dimension =='
\echo '   (metric = value: points; a dimension scores the weighted sum of its points)'
SELECT customer AS top FROM side WHERE n = 1 \gset
\echo 'customer:' :top
SELECT d->>'name' AS dimension, (d->>'weight')::numeric AS weight,
       round((d->>'points')::numeric, 2) AS points, round((d->>'contribution')::numeric, 2) AS contribution,
       (SELECT string_agg(format('%s = %s: %s', m->>'metric',
                                 coalesce(trim_scale(round((m->>'value')::numeric, 2))::text, 'NULL'),
                                 trim_scale(round((m->>'points')::numeric, 1))), '; ')
          FROM jsonb_array_elements(d->'metrics') m) AS metrics
  FROM crm_grade.explain(:top) e, jsonb_array_elements(e->'dimensions') d;
SELECT e->>'total' AS score, e->'band'->>'grade' AS band, e->'band'->>'min' AS band_min, e->>'valid_until' AS valid_until
  FROM crm_grade.explain(:top) e;

\echo
\echo '== Switching to rfm: customers whose grade changed, and the quintile cut-offs (crm_grade.population) =='
\timing on
SELECT crm_grade.use_policy('rfm') AS grades_changed;
\timing off
\set QUIET on
UPDATE side SET rfm = g.grade, rfm_cell = g.score
  FROM crm_grade.customer_grades g WHERE g.customer = side.customer;
\set QUIET off
SELECT customers, recency_cutoffs::date[] AS recency_cutoffs, frequency_cutoffs, monetary_cutoffs
  FROM crm_grade.population;

\echo
\echo '== Customers per grade (rfm; score = the cell 100 R + 10 F + M) =='
SELECT grade, count(*) AS customers, min(score) AS min_cell, max(score) AS max_cell, sum(amount_12m) AS amount_12m
  FROM crm_grade.customer_grades GROUP BY grade ORDER BY min(grade_rank);

\echo
\echo '== A few customers under abc, weighted_score and rfm: the three largest, a mid-sized one, one lapsed, one prospect =='
SELECT who, customer, amount_12m, orders_12m, abc, weighted_score, score, rfm, rfm_cell FROM side ORDER BY n;

\echo
\echo '== Switching to the four_class policy: customers whose grade changed =='
\timing on
SELECT crm_grade.use_policy('four_class') AS grades_changed;
\timing off

\echo
\echo '== Customers per grade (four_class) =='
:per_grade;

\echo
\echo '== The 15 largest customers under four_class =='
:top15;

\echo
\echo '== Relationship stages and churn risk =='
SELECT lifecycle, count(*) AS customers,
       count(*) FILTER (WHERE risk = 'high') AS high_risk,
       count(*) FILTER (WHERE risk = 'medium') AS medium_risk,
       count(*) FILTER (WHERE follow_up_overdue) AS follow_up_overdue
  FROM crm_grade.customer_grades
 GROUP BY lifecycle
 ORDER BY array_position(ARRAY['prospect', 'intent', 'active', 'dormant', 'churned'], lifecycle);

\echo
\echo '== Whom to call today: the first 15 of the follow-up list of the busiest sales rep =='
\echo '   (crm_grade.followups_due(): due or overdue by the end of today on the business calendar,'
\echo '    best grade first, then highest risk, then longest overdue)'
SELECT owner AS rep FROM crm_grade.followups_due() GROUP BY owner ORDER BY count(*) DESC, owner LIMIT 1 \gset
\echo 'rep:' :rep
SELECT customer, grade, lifecycle, risk, next_follow_up_at, date_trunc('hour', overdue_by) AS overdue_by,
       last_outcome, amount_12m
  FROM crm_grade.followups_due(owner => :'rep')
 LIMIT 15;
SELECT count(*) AS due_today_for_rep FROM crm_grade.followups_due(owner => :'rep');

\echo
\echo '== Stalled deals: open, stage unchanged for more than 14 days (the 10 largest) =='
SELECT customer, owner, stage, amount, stage_changed_at::date, days_in_stage
  FROM crm_grade.stalled_opportunities ORDER BY amount DESC NULLS LAST, customer LIMIT 10;

\echo
\echo '== The lifecycle funnel (grade_history starts when the sample was attached: one month) =='
SELECT * FROM crm_grade.lifecycle_funnel;

\echo
\echo '== Back to the default policy abc, and the stored state against a from-scratch recomputation (0 = consistent) =='
SELECT crm_grade.use_policy('abc') AS grades_changed;
SELECT count(*) AS disagreements FROM crm_grade.verify();
