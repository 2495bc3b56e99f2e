--
-- 34_score_policies: score policies (kind "score", spec-0.5).  First every
-- way a definition is refused, each error naming the JSON path, with its
-- SQLSTATE.  Then a small policy over orders whose scores are computed by
-- hand in the comments: the points' segments, flat beyond the ends, a NULL
-- metric scoring 0, round(total, 2) deciding a band at 79.99 / 80.00,
-- grade_rank; a score on tenure_days that crosses a band as time passes
-- (valid_until at or before the crossing, the grade moving on the day of
-- it and not before); and the preset weighted_score on a customer with
-- attributes, by hand.
--
-- T = 2026-03-15 12:00 UTC; the window is (2025-03-15 12:00, T].
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-03-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

\set good '{"kind": "score", "default": "D", "dimensions": [{"name": "money", "weight": 0.5, "metrics": [{"metric": "amount_12m", "weight": 0.75, "points": [[0, 0], [1000, 40], [5000, 100]]}, {"metric": "avg_payment_days", "weight": 0.25, "points": [[0, 100], [30, 50], [60, 0]]}]}, {"name": "loyalty", "weight": 0.5, "metrics": [{"metric": "tenure_days", "weight": 1, "points": [[0, 0], [100, 20], [400, 100]]}]}], "bands": [{"grade": "A", "min": 80}, {"grade": "B", "min": 50}, {"grade": "C", "min": 20}], "cadence": {"A": "7 days", "B": "14 days", "C": "30 days", "D": "60 days"}}'

-- ---------------------------------------------------------------- validation

-- valid: the definition, with a description, with bands at 100 and 0, y at
-- 0 and 100, x below zero, attr.NAME, and weights summing to 1 + 1e-10
-- (within 1e-9)
SELECT crm_grade.check_policy(:'good', 'good');
SELECT crm_grade.check_policy(:'good'::jsonb || '{"description": "by hand"}', 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands}',
	'[{"grade": "A", "min": 100}, {"grade": "B", "min": 0}]') #- '{cadence,C}', 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,metrics,0}',
	'{"metric": "attr.referral", "weight": 1, "points": [[-10, 100], [0.5, 0]]}'), 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '0.5000000001'), 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,0,weight}', '0.7500000001'), 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '0.4999999999'), 'good');

-- top level: unknown and missing keys, keys of a rules policy
SELECT crm_grade.check_policy(:'good'::jsonb || '{"bandz": []}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb || '{"grades": []}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'default', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'dimensions', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'bands', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb - 'cadence', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- dimensions: not a non-empty array
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions}', '{"name": "money"}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1}', '"loyalty"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a dimension: unknown and missing keys, its name missing, empty, repeated
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,wieght}', '0.5'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,1,name}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,name}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,name}', '"money"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,1,weight}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,1,metrics}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,metrics}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a metric: unknown and missing keys, unknown metric
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,pionts}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,0,metrics,1,metric}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,0,metrics,1,weight}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{dimensions,0,metrics,1,points}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,metric}', '"payment_days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,metric}', '"attr."'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,metric}', '7'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- weights: dimension weights summing to 1 + 2e-9 and 1 - 2e-9, 1.1 (path
-- "dimensions"); metric weights of a dimension (path "dimensions[0].metrics")
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '0.500000002'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '0.499999998'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '0.6'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,0,weight}', '0.7'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,weight}', '0.250000002'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- not > 0: a zero weight beside 1, a negative one beside 1.2
SELECT crm_grade.check_policy(jsonb_set(jsonb_set(:'good', '{dimensions,0,weight}', '1'), '{dimensions,1,weight}', '0'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(jsonb_set(:'good', '{dimensions,0,metrics,0,weight}', '1.2'),
	'{dimensions,0,metrics,1,weight}', '-0.2'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- not numbers
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,weight}', '"0.5"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,metrics,0,weight}', 'true'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,metrics,0,weight}', 'null'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- points: not an array, fewer than 2 pairs, an element that is not a pair
-- of numbers, x not strictly increasing (equal, then smaller), y outside
-- 0..100
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points}', '{"0": 100}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points}', '[[0, 100]]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '[30, 50, 1]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '[30]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '30'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '{"x": 30, "y": 50}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '["30", 50]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '[30, null]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,2}', '[30, 0]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,2}', '[29.999, 0]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,0,metrics,1,points,1}', '[30, 100.5]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{dimensions,1,metrics,0,points,0}', '[0, -1]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- bands: not a non-empty array, unknown or missing keys, min not a
-- number in 0..100, mins not strictly decreasing (equal, increasing), a
-- grade repeated or equal to the default
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands}', '{"A": 80}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,1}', '"B"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,1,max}', '60'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{bands,1,min}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{bands,1,grade}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,1,grade}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,2,min}', '-1'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,0,min}', '100.01'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,1,min}', '"50"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,2,min}', '50'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,1,min}', '90'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,2,grade}', '"A"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{bands,2,grade}', '"D"') #- '{cadence,C}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- cadence: missing a band's grade, missing the default's, naming an
-- unknown grade
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,B}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,D}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,E}', '"7 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- the policy table refuses them too, naming the row; nothing is stored
INSERT INTO crm_grade.policy (name, definition) VALUES ('t34_bad', jsonb_set(:'good', '{dimensions,0,weight}', '0.6'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition) VALUES ('t34_hand', :'good');
UPDATE crm_grade.policy SET definition = jsonb_set(definition, '{bands,1,min}', '80') WHERE name = 't34_hand';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT name, definition = :'good' AS unchanged FROM crm_grade.policy WHERE name LIKE 't34%';

-- ---------------------------------------------------------------- by hand

-- Policy t34_hand (:good):
--   money   0.5: amount_12m 0.75 [[0, 0], [1000, 40], [5000, 100]]
--                avg_payment_days 0.25 [[0, 100], [30, 50], [60, 0]]
--   loyalty 0.5: tenure_days 1 [[0, 0], [100, 20], [400, 100]]
--   A >= 80, B >= 50, C >= 20, else D (ranks 1, 2, 3, 4)
CREATE SCHEMA t34;
CREATE TABLE t34.customers (id int PRIMARY KEY, attrs jsonb);
CREATE TABLE t34.orders (
	id			serial PRIMARY KEY,
	cust		int NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX ON t34.orders (cust);
INSERT INTO t34.customers VALUES (3406, NULL),
	(3420, '{"customization": 70, "service_level": 90, "industry_outlook": 50, "expansion": 40, "referral": 100}');
-- 3401..3404 have an old order (2024-06-01, outside the window): tenure
-- 652 days, beyond 400, so loyalty = 100 (flat beyond the end) and the
-- total is 50 + 0.5 * money.
INSERT INTO t34.orders (cust, amount, ordered_at, paid_at)
SELECT c, 10, '2024-06-01 00:00+00', NULL FROM generate_series(3401, 3404) c;
INSERT INTO t34.orders (cust, amount, ordered_at, paid_at) VALUES
	-- 3401: amount_12m 3665.78, never paid (avg_payment_days NULL: 0 points)
	--   amount: 40 + 60 * 2665.78 / 4000 = 40 + 39.98670 = 79.98670
	--   money = 0.75 * 79.9867 + 0.25 * 0 = 59.990025
	--   total = 0.5 * 59.990025 + 0.5 * 100 = 79.9950125 -> 80.00: A
	(3401, 3665.78, '2026-01-10 00:00+00', NULL),
	-- 3402: amount_12m 3665.77
	--   amount: 40 + 60 * 2665.77 / 4000 = 79.98655
	--   money = 59.9899125; total = 29.99495625 + 50 = 79.99495625 -> 79.99: B
	(3402, 3665.77, '2026-01-10 00:00+00', NULL),
	-- 3403: amount_12m 7000 (beyond 5000: 100), paid after 70 days (beyond
	-- 60: 0): money = 75; total = 37.5 + 50 = 87.50: A
	(3403, 7000, '2025-06-01 00:00+00', '2025-08-10 00:00+00'),
	-- 3404: amount_12m 1000 (a point: 40), paid 5 days before the order
	-- (avg_payment_days -5, before the first point: 100):
	-- money = 30 + 25 = 55; total = 27.5 + 50 = 77.50: B
	(3404, 1000, '2025-09-01 00:00+00', '2025-08-27 00:00+00'),
	-- 3405: a refund only: amount_12m -500 (before the first point: 0), no
	-- order, tenure and payment NULL: 0.00: D
	(3405, -500, '2026-01-01 00:00+00', NULL),
	-- 3407: first order exactly 100 days before T (tenure 100: 20 points),
	-- 500 (20 points), paid after 45 days (50 - 50 * 15 / 30 = 25):
	-- money = 0.75 * 20 + 0.25 * 25 = 21.25;
	-- total = 10.625 + 10 = 20.625 -> 20.63 (half away from zero): C
	(3407, 500, '2025-12-05 12:00+00', '2026-01-19 12:00+00'),
	-- 3410: 5000 (100) paid at once (0 days: 100): money 100; first order
	-- 60 days before T: tenure points 0.2 * 60 = 12; total = 50 + 6 = 56: B
	(3410, 5000, '2026-01-14 12:00+00', '2026-01-14 12:00+00');
-- 3406: in the master, no order: every metric NULL, 0.00: D
-- 3420: see weighted_score below
INSERT INTO t34.orders (cust, amount, ordered_at, paid_at) VALUES (3420, 500, '2024-03-15 12:00+00', NULL);
INSERT INTO t34.orders (cust, amount, ordered_at, paid_at)
SELECT 3420, 20000, m, m + interval '6 days'
  FROM generate_series('2025-04-01 00:00+00'::timestamptz, '2026-03-01 00:00+00', '1 month') m;
SELECT crm_grade.attach_customers('t34.customers', 'id', attributes_column => 'attrs');
SELECT crm_grade.attach_orders('t34.orders', 'cust', 'amount', 'ordered_at', 'paid_at');

SELECT crm_grade.use_policy('t34_hand') > 0 AS changed;
SELECT c.customer, c.amount_12m, c.tenure_days, c.avg_payment_days, c.score, c.grade, s.grade_rank, c.policy
  FROM crm_grade.customer_grades c JOIN crm_grade.customer_state s ON s.customer = c.customer::text
 WHERE c.customer <> 3420 ORDER BY c.customer;
-- the stored score is numeric rounded to 2 places
SELECT customer, score, scale(score) AS scale FROM crm_grade.customer_state
 WHERE customer IN ('3401', '3402', '3407') ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- weighted_score

-- 3420 at T = 2026-03-15 12:00: 20000 on the 1st of each month April 2025
-- .. March 2026, each paid 6 days later; an order of 500 on 2024-03-15
-- 12:00, outside the window (730 days before T); attributes customization
-- 70, service_level 90, industry_outlook 50, expansion 40, referral 100.
--   amount_12m 240000:        60 + 40 * 140000 / 400000 = 74    x 0.5  = 37
--   avg_order_value_12m 20000: a point                   80    x 0.25 = 20
--   avg_payment_days 6:       100 - 20 * 6 / 30          = 96  x 0.25 = 24
--   financial 81
--   tenure_days 730:          a point                   80    x 0.4  = 32
--   orders_12m 12:            a point                   80    x 0.3  = 24
--   repurchase_rate 12/12 = 1: a point                  100   x 0.3  = 30
--   cooperation 86
--   demand: 0.5 * 70 + 0.5 * 90 = 80
--   potential: 0.4 * 50 + 0.3 * 40 + 0.3 * 100 = 62
--   total = 0.3 * 81 + 0.3 * 86 + 0.2 * 80 + 0.2 * 62
--         = 24.3 + 25.8 + 16 + 12.4 = 78.50: important (rank 2)
SELECT crm_grade.use_policy('weighted_score') > 0 AS changed;
SELECT c.customer, c.amount_12m, c.orders_12m, c.avg_order_value_12m, c.avg_payment_days, c.tenure_days,
	   c.repurchase_rate, c.score, c.grade, s.grade_rank
  FROM crm_grade.customer_grades c JOIN crm_grade.customer_state s ON s.customer = c.customer::text
 WHERE c.customer = 3420;
-- an attribute moves the score at once: referral 100 -> 0 takes 0.2 * 0.3 * 100 = 6:
-- 72.50, still important; expansion 40 -> "100" (a string holding a number)
-- adds 0.2 * 0.3 * 60 = 3.6: 76.10
UPDATE t34.customers SET attrs = attrs || '{"referral": 0}' WHERE id = 3420;
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3420';
UPDATE t34.customers SET attrs = attrs || '{"expansion": "100"}' WHERE id = 3420;
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3420';
SELECT * FROM crm_grade.verify();

SELECT crm_grade.use_policy('t34_hand') > 0 AS changed;

-- Time: 3410's tenure points grow 0.2 a day up to 100 days, then 80 / 300
-- a day.  total >= 80 <=> 20 + 80 * (t - 100) / 300 >= 60 <=> t >= 250:
-- at 249 days 20 + 80 * 149 / 300 = 59.7333..., total 79.8666... -> 79.87 (B);
-- at 250 days exactly 80.00 (A).  250 days after 2026-01-14 12:00 is
-- 2026-09-21 12:00.  valid_until lies at or before that moment.
SELECT '2026-01-14 12:00+00'::timestamptz + interval '250 days' AS crossing;
SELECT customer, score, grade, valid_until > graded_at AS later, valid_until <= '2026-09-21 12:00+00' AS in_time
  FROM crm_grade.customer_state WHERE customer = '3410';
-- Walk the moments given: at each, regrade(), then 3410's stored grade is
-- the grade of that moment's score, and nothing is left expired (a stale
-- grade would show as a row in the second query below).
CREATE TABLE t34.walk (at timestamptz, tenure bigint, grade text, expected text, expired bigint);
CREATE FUNCTION t34.walk(moments timestamptz[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	d bigint;
BEGIN
	FOREACH t IN ARRAY moments LOOP
		PERFORM set_config('crm_grade.as_of', t::text, false);
		PERFORM crm_grade.regrade();
		d := floor(extract(epoch FROM t - '2026-01-14 12:00+00') / 86400);
		INSERT INTO t34.walk
		SELECT t, d, s.grade, CASE WHEN d >= 250 THEN 'A' ELSE 'B' END,
			   (SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= t)
		  FROM crm_grade.customer_state s WHERE s.customer = '3410';
	END LOOP;
END $$;
-- every day at noon up to the day before the crossing
SELECT t34.walk(array_agg(t ORDER BY t))
  FROM generate_series('2026-03-16 12:00+00'::timestamptz, '2026-09-20 12:00+00', '1 day') t;
-- the day before the crossing, everyone re-evaluated: 79.87, B
SELECT crm_grade.regrade_all() IS NOT NULL AS regraded;
SELECT customer, score, grade FROM crm_grade.customer_state WHERE customer = '3410';
-- a microsecond before the crossing: still B; at it: A, 80.00
SELECT t34.walk('{2026-09-21 00:00+00, 2026-09-21 11:59:59.999999+00}');
SELECT customer, grade FROM crm_grade.customer_state WHERE customer = '3410';
SELECT t34.walk('{2026-09-21 12:00+00}');
SELECT customer, score, grade, graded_at FROM crm_grade.customer_state WHERE customer = '3410';
-- and on, every day to the end of September
SELECT t34.walk(array_agg(t ORDER BY t))
  FROM generate_series('2026-09-22 12:00+00'::timestamptz, '2026-09-30 12:00+00', '1 day') t;
SELECT count(*) AS moments, count(*) FILTER (WHERE grade = expected) AS right_grade, sum(expired) AS left_expired
  FROM t34.walk;
SELECT * FROM t34.walk WHERE grade <> expected OR expired > 0 ORDER BY at;
SELECT at, tenure, grade FROM t34.walk WHERE at BETWEEN '2026-09-19 12:00+00' AND '2026-09-22 12:00+00' ORDER BY at;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE customer = 3410 AND old_grade IS DISTINCT FROM new_grade AND changed_at > '2026-03-15 12:00+00'
 ORDER BY changed_at;
SELECT * FROM crm_grade.verify();

-- back to a rules policy: no score
SELECT crm_grade.use_policy('abc') > 0 AS changed;
SELECT count(*) AS scored FROM crm_grade.customer_state WHERE score IS NOT NULL;

-- cleanup
DELETE FROM crm_grade.policy WHERE name LIKE 't34%';
SELECT crm_grade.detach('t34.orders');
SELECT crm_grade.detach('t34.customers');
DROP SCHEMA t34 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SELECT * FROM crm_grade.verify();
