--
-- 35_rfm_policies: RFM policies (kind "rfm", spec-0.5) and the population
-- they read (crm_grade.population).  The cut-offs stored by use_policy('rfm')
-- against ntile(5) in plain SQL and against values worked out by hand
-- (ties across a tile boundary included); R, F, M and the stored score
-- (100 R + 10 F + M) of every customer by hand; lapsed and default
-- customers; every way a custom rfm policy is refused; a custom policy
-- reading M; and when the population is refreshed: triggers between
-- refreshes use the stored cut-offs, regrade() refreshes only when the row
-- is missing or older than crm_grade.population_refresh and only when the
-- active policy reads it, and a refresh that moves cut-offs re-grades
-- customers from their state (grade_history rows).
--
-- T = 2026-03-15 12:00 UTC; the window is (2025-03-15 12:00, T].
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-03-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set rfm 'SELECT s.customer, s.last_order_at, s.orders_12m, s.amount_12m, s.score, s.grade, s.grade_rank FROM crm_grade.customer_state s ORDER BY s.customer'
-- the cut-offs by the spec's statement, from the stored metrics
\set plain 'WITH pop AS (SELECT * FROM crm_grade.customer_state WHERE graded_at IS NOT NULL AND orders_12m > 0) SELECT (SELECT count(*) FROM pop) AS customers, (SELECT coalesce(sum(amount_12m), 0) FROM crm_grade.customer_state WHERE graded_at IS NOT NULL) AS amount_12m_total, (SELECT coalesce(array_agg(hi ORDER BY tile), ''{}'') FROM (SELECT tile, max(v) AS hi FROM (SELECT last_order_at AS v, ntile(5) OVER (ORDER BY last_order_at) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS recency_cutoffs, (SELECT coalesce(array_agg(hi ORDER BY tile), ''{}'') FROM (SELECT tile, max(v) AS hi FROM (SELECT orders_12m AS v, ntile(5) OVER (ORDER BY orders_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS frequency_cutoffs, (SELECT coalesce(array_agg(hi ORDER BY tile), ''{}'') FROM (SELECT tile, max(v) AS hi FROM (SELECT amount_12m AS v, ntile(5) OVER (ORDER BY amount_12m) AS tile FROM pop) x GROUP BY tile) y WHERE tile < 5) AS monetary_cutoffs'
\set stored 'SELECT customers, amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs FROM crm_grade.population'

CREATE SCHEMA t35;
CREATE TABLE t35.customers (id int PRIMARY KEY);
CREATE TABLE t35.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t35.orders (cust);

-- Twelve customers with orders in the window: the last order d days
-- before T, n orders in the window (the others 1, 2, ... days before the
-- last, 10 each), M in the window in all.
--
--   customer    d   n      M
--     3501    330   5    900
--     3502    300   1     50
--     3503    270   8   7000
--     3504    240   2    300
--     3505    200   2   1200
--     3506    160   3    150
--     3507    120   1   2500
--     3508     90  12  20000
--     3509     60   2    600
--     3510     30   6   4000
--     3511     10   4  10000
--     3512      1   9    800
--
-- ntile(5) over 12 rows: tiles of 3, 3, 2, 2, 2 rows; the cut-offs are the
-- 3rd, 6th, 8th and 10th values in ascending order.
--   R (last_order_at): T-330 T-300 T-270 | T-240 T-200 T-160 | T-120 T-90 | T-60 T-30 | T-10 T-1
--      cut-offs {T-270d, T-160d, T-90d, T-30d}
--   F (orders_12m): 1 1 2 | 2 2 3 | 4 5 | 6 8 | 9 12: cut-offs {2, 3, 5, 8}
--      (2 = 2: 3504, 3505 and 3509 all get F 1, although ntile puts two
--      of them in tile 2: a value counts above a cut-off only when greater)
--   M (amount_12m): 50 150 300 | 600 800 900 | 1200 2500 | 4000 7000 | 10000 20000
--      cut-offs {300, 900, 2500, 7000}
-- tile(v) = 1 + number of cut-offs below v:
--   customer  R F M  score  grade (preset rfm, by R and F)     rank
--     3501    1 3 2   132   At risk              (r 1-2, f 3-4)   4
--     3502    1 1 1   111   Hibernating          (r 1-2, f 1-2)  10
--     3503    1 4 4   144   At risk                               4
--     3504    2 1 1   211   Hibernating                          10
--     3505    2 1 3   213   Hibernating                          10
--     3506    2 2 1   221   Hibernating                          10
--     3507    3 1 3   313   About to sleep       (r 3, f 1-2)     9
--     3508    3 5 5   355   Loyal                (r 3-4, f 4-5)   2
--     3509    4 1 2   412   Promising            (r 4, f 1)       8
--     3510    4 4 4   444   Loyal                                 2
--     3511    5 3 5   535   Potential loyalists  (r 4-5, f 2-3)   5
--     3512    5 5 2   552   Champions            (r 5, f 4-5)     1
-- 3520: orders only before the window: Lost (lapsed, rank 11), no score
-- 3521: in the master, no order: Prospects (default, rank 12), no score
-- 3522: a refund in the window only (no order at all): Prospects
-- amount_12m_total = 47500 - 100 (3522's refund) = 47400; customers 12.
INSERT INTO t35.orders (cust, amount, ordered_at)
SELECT c, CASE WHEN k = 0 THEN m - 10 * (n - 1) ELSE 10 END,
	   '2026-03-15 12:00+00'::timestamptz - (d + k) * interval '1 day'
  FROM (VALUES (3501, 330, 5, 900), (3502, 300, 1, 50), (3503, 270, 8, 7000), (3504, 240, 2, 300),
			   (3505, 200, 2, 1200), (3506, 160, 3, 150), (3507, 120, 1, 2500), (3508, 90, 12, 20000),
			   (3509, 60, 2, 600), (3510, 30, 6, 4000), (3511, 10, 4, 10000), (3512, 1, 9, 800)) v(c, d, n, m),
	   generate_series(0, n - 1) k;
INSERT INTO t35.orders (cust, amount, ordered_at) VALUES
	(3520, 700, '2024-12-01 00:00+00'), (3522, -100, '2026-02-01 00:00+00');
INSERT INTO t35.customers VALUES (3521);
SELECT crm_grade.attach_customers('t35.customers', 'id');
SELECT crm_grade.attach_orders('t35.orders', 'cust', 'amount', 'ordered_at');

-- the setting's default
SELECT current_setting('crm_grade.population_refresh')::interval AS population_refresh;

SELECT crm_grade.use_policy('rfm') > 0 AS changed;
SELECT computed_at, customers, amount_12m_total FROM crm_grade.population;
:stored;
:plain;
SELECT NOT EXISTS ((:plain) EXCEPT (:stored)) AND NOT EXISTS ((:stored) EXCEPT (:plain)) AS population_is_plain_sql;
-- by hand
SELECT recency_cutoffs = (SELECT array_agg('2026-03-15 12:00+00'::timestamptz - d * interval '1 day' ORDER BY d DESC)
							FROM unnest(ARRAY[270, 160, 90, 30]) d) AS r_by_hand,
	   frequency_cutoffs = '{2, 3, 5, 8}' AS f_by_hand,
	   monetary_cutoffs = '{300, 900, 2500, 7000}' AS m_by_hand
  FROM crm_grade.population;
:rfm;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- validation

\set good '{"kind": "rfm", "segments": [{"grade": "top", "r": [4, 5], "f": [4, 5], "m": [4, 5]}, {"grade": "rest", "r": [1, 5]}], "lapsed": "gone", "default": "new", "cadence": {"top": "7 days", "rest": "30 days", "gone": "60 days", "new": "14 days"}}'
SELECT crm_grade.check_policy(:'good', 'good');
-- lapsed is optional; a range may be left out; a description
SELECT crm_grade.check_policy(:'good'::jsonb - 'lapsed' #- '{cadence,gone}', 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,1}', '{"grade": "rest"}'), 'good');
SELECT crm_grade.check_policy(:'good'::jsonb || '{"description": "two segments"}', 'good');

-- keys
SELECT crm_grade.check_policy(:'good'::jsonb || '{"segmnets": []}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb || '{"bands": []}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'segments', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'default', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'cadence', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,q}', '[1, 5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{segments,1,grade}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,1}', '"rest"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- ranges: not [lo, hi], not integers, outside 1..5, lo > hi
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,r}', '[4]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,r}', '4'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,f}', '[4, 5, 5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,f}', '["4", 5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,m}', '[4.5, 5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,1,r}', '[0, 5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,1,r}', '[1, 6]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,0,m}', '[5, 4]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- coverage: the error names a cell no segment covers: "rest" for R 1..4
-- only leaves the cells of R 5 with F or M below 4; 4..5 / 4..5 / 4..5
-- alone leaves all but 8 cells
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments,1,r}', '[1, 4]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments}', '[{"grade": "top", "r": [4, 5], "f": [4, 5], "m": [4, 5]}]')
	#- '{cadence,rest}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a segment every cell of which earlier ones cover: after "rest", and
-- after two that cover it together
SELECT crm_grade.check_policy(jsonb_set(jsonb_set(:'good', '{segments,2}', '{"grade": "never", "r": [5, 5], "m": [1, 1]}'),
	'{cadence,never}', '"7 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments}',
	'[{"grade": "low", "r": [1, 2]}, {"grade": "top", "r": [3, 5]}, {"grade": "rest", "r": [2, 3]}]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- grades: repeated, lapsed = default, lapsed or default a segment's grade
SELECT crm_grade.check_policy(jsonb_set(:'good', '{segments}',
	'[{"grade": "top", "r": [5, 5]}, {"grade": "top", "r": [1, 4]}]') #- '{cadence,rest}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{lapsed}', '"new"') #- '{cadence,gone}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{lapsed}', '"rest"') #- '{cadence,gone}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{default}', '"top"') #- '{cadence,new}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{lapsed}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- cadence: a segment's, lapsed's, default's missing; an unknown grade
-- (lapsed left out, its cadence left in)
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,rest}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,gone}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,new}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'lapsed', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition) VALUES ('t35_bad', jsonb_set(:'good', '{segments,1,r}', '[1, 4]'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS stored FROM crm_grade.policy WHERE name = 't35_bad';

-- ---------------------------------------------------------------- M, and lapsed left out

-- t35_m: "big" for M 5 (3508 and 3511), "mid" for M 3..4 (3503, 3505,
-- 3507, 3510), "small" the rest; without "lapsed", 3520 gets the default
INSERT INTO crm_grade.policy (name, definition) VALUES ('t35_m', '{"kind": "rfm",
	"segments": [{"grade": "big", "m": [5, 5]}, {"grade": "mid", "m": [3, 4]}, {"grade": "small", "r": [1, 5], "f": [1, 5], "m": [1, 2]}],
	"default": "none", "cadence": {"big": "7 days", "mid": "14 days", "small": "30 days", "none": "60 days"}}');
SELECT crm_grade.use_policy('t35_m') > 0 AS changed;
SELECT customer, score, grade, grade_rank FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- refreshes

SELECT crm_grade.use_policy('rfm') > 0 AS changed;
SELECT computed_at FROM crm_grade.population;
SELECT coalesce(max(id), 0) AS hist_rfm FROM crm_grade.history \gset
-- A trigger grades with the stored cut-offs: 3502 orders 99950 at T (2
-- orders, 100000): R 5 (T is above every cut-off), F 1 (2 is not above 2),
-- M 5: 515, New customers (r 5, f 1).  The population row does not move.
INSERT INTO t35.orders (cust, amount, ordered_at) VALUES (3502, 99950, '2026-03-15 12:00+00');
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3502';
SELECT computed_at, customers, amount_12m_total FROM crm_grade.population;
:stored;
-- one hour later, regrade(): the row is younger than a day, no refresh
SET crm_grade.as_of = '2026-03-15 13:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, amount_12m_total FROM crm_grade.population;
-- a refresh every hour (a superuser's setting, an interval): at 14:00
-- regrade() refreshes.  The new cut-offs:
--   R: T-330 T-270 T-240 | T-200 T-160 T-120 | T-90 T-60 | T-30 T-10 | T-1 T(3502)
--      {T-240d, T-120d, T-60d, T-10d}
--   F: 1 2 2 | 2 2 3 | 4 5 | 6 8 | 9 12: {2, 3, 5, 8} as before
--   M: 150 300 600 | 800 900 1200 | 2500 4000 | 7000 10000 | 20000 100000
--      {600, 1200, 4000, 10000}
-- and re-graded from the state:
--   customer  R F M  score  grade
--     3501    1 3 2   132   At risk              (as before)
--     3502    5 1 5   515   New customers        (as before)
--     3503    1 4 4   144   At risk              (as before)
--     3504    1 1 1   111   Hibernating          (was 211)
--     3505    2 1 2   212   Hibernating          (was 213)
--     3506    2 2 1   221   Hibernating          (as before)
--     3507    2 1 3   213   Hibernating          (was 313, About to sleep)
--     3508    3 5 5   355   Loyal                (as before)
--     3509    3 1 1   311   About to sleep       (was 412, Promising)
--     3510    4 4 3   443   Loyal                (was 444)
--     3511    4 3 4   434   Potential loyalists  (was 535)
--     3512    5 5 2   552   Champions            (as before)
-- amount_12m_total 147350 (47400 + 99950).
-- a duration in PostgreSQL's units (s, min, h, d), like checkpoint_timeout: '2 hours' is refused
SET crm_grade.population_refresh = '2 hours';
SET crm_grade.population_refresh = '1h';
-- (only a superuser sets it, or a role granted SET ON PARAMETER)
CREATE ROLE t35_rep;
SET ROLE t35_rep;
SET crm_grade.population_refresh = '1min';
RESET ROLE;
DROP ROLE t35_rep;
SELECT current_setting('crm_grade.population_refresh')::interval AS population_refresh;
SET crm_grade.as_of = '2026-03-15 14:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, customers, amount_12m_total FROM crm_grade.population;
:stored;
SELECT NOT EXISTS ((:plain) EXCEPT (:stored)) AND NOT EXISTS ((:stored) EXCEPT (:plain)) AS population_is_plain_sql;
SELECT recency_cutoffs = (SELECT array_agg('2026-03-15 12:00+00'::timestamptz - d * interval '1 day' ORDER BY d DESC)
							FROM unnest(ARRAY[240, 120, 60, 10]) d) AS r_by_hand,
	   frequency_cutoffs = '{2, 3, 5, 8}' AS f_by_hand,
	   monetary_cutoffs = '{600, 1200, 4000, 10000}' AS m_by_hand
  FROM crm_grade.population;
:rfm;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history WHERE id > :hist_rfm ORDER BY customer, id;
SELECT * FROM crm_grade.verify();
-- a second regrade() at the same moment: nothing to refresh, nothing written
SELECT coalesce(max(id), 0) AS hist_mid FROM crm_grade.history \gset
SELECT crm_grade.regrade() AS regraded;
SELECT computed_at FROM crm_grade.population;
SELECT count(*) AS new_history FROM crm_grade.history WHERE id > :hist_mid;

-- No population row: a trigger grades without cut-offs (R, F, M all 1):
-- 3512 orders again: 111, Hibernating.  regrade() then computes the row
-- (missing) and re-grades everyone from the cut-offs: 3512 (10 orders,
-- 900) gets R 5, F 5 (10 > 8), M 2 (900 > 600, not > 1200): 552 again.
DELETE FROM crm_grade.population;
SET crm_grade.as_of = '2026-03-15 14:30:00+00';
INSERT INTO t35.orders (cust, amount, ordered_at) VALUES (3512, 100, '2026-03-15 14:30+00');
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3512';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, customers FROM crm_grade.population;
SELECT NOT EXISTS ((:plain) EXCEPT (:stored)) AND NOT EXISTS ((:stored) EXCEPT (:plain)) AS population_is_plain_sql;
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3512';
SELECT * FROM crm_grade.verify();

-- A policy that does not read the population leaves the row alone:
-- use_policy(), regrade() and regrade_all() neither refresh nor read it.
SET crm_grade.as_of = '2026-03-15 15:00:00+00';
SELECT crm_grade.use_policy('abc') > 0 AS changed;
SELECT computed_at FROM crm_grade.population;
SET crm_grade.as_of = '2026-03-20 12:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at FROM crm_grade.population;
-- nor does regrade_all()
SELECT crm_grade.regrade_all() IS NOT NULL AS regraded;
SELECT computed_at FROM crm_grade.population;
SELECT NOT EXISTS ((:plain) EXCEPT (:stored)) AND NOT EXISTS ((:stored) EXCEPT (:plain)) AS population_is_plain_sql;
SELECT * FROM crm_grade.verify();

-- A refresh by regrade() comes after the expired customers are re-graded,
-- and is computed from their new state: on 15 April 12:00 3501's first
-- order in the window (15 April 2025 12:00) leaves it (5 orders, 900 ->
-- 4 orders, 890).  Then the population's total is 147440 (47400 + 99950
-- for 3502 + 100 for 3512 - 10) and its figures those of the stored states.
SELECT crm_grade.use_policy('rfm') > 0 AS changed;
SELECT computed_at, amount_12m_total FROM crm_grade.population;
SET crm_grade.as_of = '2026-04-15 12:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT customer, orders_12m, amount_12m, graded_at FROM crm_grade.customer_state WHERE customer = '3501';
SELECT computed_at, customers, amount_12m_total FROM crm_grade.population;
SELECT NOT EXISTS ((:plain) EXCEPT (:stored)) AND NOT EXISTS ((:stored) EXCEPT (:plain)) AS population_is_plain_sql;
RESET crm_grade.population_refresh;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.use_policy('abc') > 0 AS changed;
DELETE FROM crm_grade.policy WHERE name LIKE 't35%';
SELECT crm_grade.detach('t35.orders');
SELECT crm_grade.detach('t35.customers');
DROP SCHEMA t35 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SELECT * FROM crm_grade.verify();
