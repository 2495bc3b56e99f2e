-- crm_grade demo: a sample CRM, graded and printed.
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
\echo '== Stored state against a from-scratch recomputation (0 = consistent) =='
SELECT count(*) AS disagreements FROM crm_grade.verify();
