--
-- 37_growth_share: the metrics growth_months and revenue_share_12m
-- (spec-0.5).  Monthly amounts by hand, in crm_grade.timezone =
-- Europe/Berlin, from a table of order lines (attached with
-- order_id_column): no growth, growth for 1, 2 and 3 months, a refund
-- making a month smaller, a month without orders in between, orders on
-- either side of a Berlin month start that UTC puts in the other month, an
-- order whose lines straddle a month start (dated by its earliest line), an
-- order dated after T; the stored monthly arrays; valid_until no later
-- than the next month start; the month crossing by as_of + regrade().
-- revenue_share_12m in a rules policy: the denominator is
-- crm_grade.population's amount_12m_total, stays as stored until a refresh
-- (and is NULL without a population row), and a refresh re-grades.
--
-- T = 2026-04-15 12:00 UTC (14:00 in Berlin); T's month is April, so the
-- last complete month L is March 2026.  Month indexes (year * 12 + month
-- - 1): Nov 2025 24310, Dec 24311, Jan 2026 24312, Feb 24313, Mar 24314,
-- Apr 24315, May 24316.  Berlin's month starts in UTC: 1 March 00:00 CET
-- = 28 Feb 23:00 UTC; 1 April 00:00 CEST = 31 March 22:00 UTC; 1 May
-- 00:00 CEST = 30 April 22:00 UTC.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-04-15 12:00:00+00';
SET crm_grade.timezone = 'Europe/Berlin';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set growth 'SELECT s.customer, s.amount_12m, s.amount_months, s.month_amounts, s.growth_months, s.grade FROM crm_grade.customer_state s ORDER BY s.customer'

CREATE SCHEMA t37;
CREATE TABLE t37.lines (
	order_no	text NOT NULL,
	line		int NOT NULL DEFAULT 1,
	cust		int NOT NULL,
	amount		numeric NOT NULL,
	at			timestamptz NOT NULL,
	PRIMARY KEY (order_no, line)
);
CREATE INDEX ON t37.lines (cust);
-- monthly amounts (Berlin months) and growth_months at T, L = March:
--   3701: Jan 100, Feb 200, Mar 150: Mar 150 <= Feb 200: 0
--         (and 999 on 20 April, after T: not counted yet)
--   3702: Jan 300, Feb 100, Mar 200: Mar > Feb, Feb 100 <= Jan 300: 1
--   3703: Nov 500, Dec 100, Jan 200, Feb 300, Mar 400:
--         Mar > Feb > Jan > Dec, Dec 100 <= Nov 500: 3
--   3704: Jan 100, Feb 300 and a refund of 100 (Feb 200), Mar 250:
--         Mar 250 > Feb 200 > Jan 100 > Dec 0 (no orders), Dec 0 <= Nov 0: 3
--         (without the refund Feb would be 300 >= Mar 250: 0)
--   3705: Jan 100, no order in Feb (0), Mar 50: Mar 50 > Feb 0,
--         Feb 0 <= Jan 100: 1
--   3706: 100 on 10 Feb; 150 at 28 Feb 23:30 UTC = 1 March 00:30 in
--         Berlin: Feb 100, Mar 150: Mar > Feb > Jan 0: 2 (in UTC it would
--         be Feb 250, Mar 0: 0)
--   3707: Mar 100, and 200 at 31 March 22:30 UTC = 1 April 00:30 in
--         Berlin, T's month: Mar 100 > Feb 0: 1 (in UTC Mar 300: also 1,
--         but its months show it)
--   3708: order X of two lines, 50 at 28 Feb 22:00 UTC (23:00 in Berlin,
--         February) and 200 at 1 March 10:00 UTC: one order of 250 dated
--         by its earliest line, February; order Y of 100 on 15 March:
--         Feb 250, Mar 100: 0 (each line dated by itself: Feb 50, Mar 300: 2)
INSERT INTO t37.lines (order_no, line, cust, amount, at) VALUES
	('1a', 1, 3701, 100, '2026-01-10 10:00+00'), ('1b', 1, 3701, 200, '2026-02-10 10:00+00'),
	('1c', 1, 3701, 150, '2026-03-10 10:00+00'), ('1d', 1, 3701, 999, '2026-04-20 12:00+00'),
	('2a', 1, 3702, 300, '2026-01-10 10:00+00'), ('2b', 1, 3702, 100, '2026-02-10 10:00+00'),
	('2c', 1, 3702, 200, '2026-03-10 10:00+00'),
	('3a', 1, 3703, 500, '2025-11-10 10:00+00'), ('3b', 1, 3703, 100, '2025-12-10 10:00+00'),
	('3c', 1, 3703, 200, '2026-01-10 10:00+00'), ('3d', 1, 3703, 300, '2026-02-10 10:00+00'),
	('3e', 1, 3703, 400, '2026-03-10 10:00+00'),
	('4a', 1, 3704, 100, '2026-01-10 10:00+00'), ('4b', 1, 3704, 300, '2026-02-10 10:00+00'),
	('4r', 1, 3704, -100, '2026-02-20 10:00+00'), ('4c', 1, 3704, 250, '2026-03-10 10:00+00'),
	('5a', 1, 3705, 100, '2026-01-10 10:00+00'), ('5c', 1, 3705, 50, '2026-03-10 10:00+00'),
	('6a', 1, 3706, 100, '2026-02-10 10:00+00'), ('6b', 1, 3706, 150, '2026-02-28 23:30+00'),
	('7a', 1, 3707, 100, '2026-03-10 10:00+00'), ('7b', 1, 3707, 200, '2026-03-31 22:30+00'),
	('8x', 1, 3708, 50, '2026-02-28 22:00+00'), ('8x', 2, 3708, 200, '2026-03-01 10:00+00'),
	('8y', 1, 3708, 100, '2026-03-15 10:00+00');
SELECT crm_grade.attach_orders('t37.lines', 'cust', 'amount', 'at', order_id_column => 'order_no');
:growth;

-- growth_months in plain SQL (the spec's definition, from the lines)
CREATE FUNCTION t37.month_index(t timestamptz) RETURNS int LANGUAGE sql STABLE AS
$$ SELECT (extract(year FROM t AT TIME ZONE 'Europe/Berlin') * 12 + extract(month FROM t AT TIME ZONE 'Europe/Berlin') - 1)::int $$;
CREATE FUNCTION t37.plain_growth(c int, t timestamptz) RETURNS int LANGUAGE sql STABLE AS $$
	WITH o AS (SELECT order_no, sum(amount) AS a, min(at) AS at FROM t37.lines
				WHERE cust = c AND at <= t GROUP BY order_no),
		 m AS (SELECT t37.month_index(at) AS mi, sum(a) AS a FROM o GROUP BY 1),
		 l AS (SELECT t37.month_index(t) - 1 AS li, coalesce((SELECT min(mi) FROM m), t37.month_index(t)) AS first)
	SELECT min(g)::int FROM l, generate_series(0, greatest(l.li - l.first + 1, 0)) g
	 WHERE NOT coalesce((SELECT a FROM m WHERE mi = l.li - g), 0) > coalesce((SELECT a FROM m WHERE mi = l.li - g - 1), 0)
$$;
SELECT s.customer, s.growth_months, t37.plain_growth(s.customer::int, crm_grade.as_of()) AS plain
  FROM crm_grade.customer_state s WHERE s.growth_months IS DISTINCT FROM t37.plain_growth(s.customer::int, crm_grade.as_of());
-- time alone changes it only at the next month start (1 May 00:00 Berlin)
SELECT customer, valid_until <= '2026-04-30 22:00+00' AS by_next_month FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- Exact under writes: without 3704's refund its growth is 0, with it back 3.
DELETE FROM t37.lines WHERE order_no = '4r';
SELECT customer, month_amounts, growth_months FROM crm_grade.customer_state WHERE customer = '3704';
INSERT INTO t37.lines (order_no, line, cust, amount, at) VALUES ('4r', 1, 3704, -100, '2026-02-20 10:00+00');
SELECT customer, month_amounts, growth_months FROM crm_grade.customer_state WHERE customer = '3704';
-- a line of order X moved to 1 March 10:00 UTC: X is dated in March now
-- (Feb 0, Mar 350): 3708 grows for 1 month
UPDATE t37.lines SET at = '2026-03-01 10:00+00' WHERE order_no = '8x' AND line = 1;
SELECT customer, amount_months, month_amounts, growth_months FROM crm_grade.customer_state WHERE customer = '3708';
UPDATE t37.lines SET at = '2026-02-28 22:00+00' WHERE order_no = '8x' AND line = 1;
SELECT customer, amount_months, month_amounts, growth_months FROM crm_grade.customer_state WHERE customer = '3708';
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- in a policy

-- t37_growth: streak for 3 months or more, up for 1 or 2, flat otherwise
INSERT INTO crm_grade.policy (name, definition) VALUES ('t37_growth', '{"kind": "rules", "default": "flat",
	"grades": [{"grade": "streak", "when": {"metric": "growth_months", "op": ">=", "value": 3}},
			   {"grade": "up", "when": {"metric": "growth_months", "op": ">=", "value": 1}}],
	"cadence": {"streak": "7 days", "up": "14 days", "flat": "30 days"}}');
SELECT crm_grade.use_policy('t37_growth') > 0 AS changed;
SELECT customer, growth_months, grade FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- t37_share: big from a quarter of the revenue, mid from a tenth, small
-- otherwise.  amount_12m_total = 450 + 600 + 1500 + 550 + 150 + 250 + 300
-- + 350 = 4150:
--   3703 1500 / 4150 = 0.361 big; 3702 600 (0.145), 3704 550 (0.133),
--   3701 450 (0.108) mid; 3708 350 (0.084), 3707 300, 3706 250, 3705 150
--   small.
INSERT INTO crm_grade.policy (name, definition) VALUES ('t37_share', '{"kind": "rules", "default": "small",
	"grades": [{"grade": "big", "when": {"metric": "revenue_share_12m", "op": ">=", "value": 0.25}},
			   {"grade": "mid", "when": {"metric": "revenue_share_12m", "op": ">=", "value": 0.1}}],
	"cadence": {"big": "7 days", "mid": "14 days", "small": "30 days"}}');
SELECT crm_grade.use_policy('t37_share') > 0 AS changed;
SELECT computed_at, customers, amount_12m_total FROM crm_grade.population;
SELECT customer, amount_12m, round(amount_12m / 4150, 3) AS share, grade FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT coalesce(max(id), 0) AS hist_share FROM crm_grade.history \gset
-- 3705 orders 1000: 1150 / 4150 (the stored total) = 0.277: big at once;
-- nobody else moves, the population row neither
INSERT INTO t37.lines (order_no, line, cust, amount, at) VALUES ('5d', 1, 3705, 1000, '2026-04-15 12:00+00');
SELECT customer, amount_12m, grade FROM crm_grade.customer_state WHERE customer = '3705';
SELECT computed_at, amount_12m_total FROM crm_grade.population;
SELECT * FROM crm_grade.verify();
-- an hour later regrade() does not refresh (younger than a day) ...
SET crm_grade.as_of = '2026-04-15 13:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, amount_12m_total FROM crm_grade.population;
-- ... with population_refresh = 30 minutes it does: total 5150, and the
-- customers are re-graded from their state: 3705 1150 / 5150 = 0.223 mid,
-- 3701 450 / 5150 = 0.087 small; 3703 (0.291) big, 3702 (0.117) and 3704
-- (0.107) mid as before
SET crm_grade.population_refresh = '30min';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, amount_12m_total FROM crm_grade.population;
SELECT customer, amount_12m, round(amount_12m / 5150, 3) AS share, grade FROM crm_grade.customer_state ORDER BY customer;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history WHERE id > :hist_share ORDER BY customer, id;
SELECT * FROM crm_grade.verify();
-- without a population row revenue_share_12m is NULL: 3703's next order
-- grades it small; regrade() computes the row again (missing) and 3703 is
-- big again (1600 / 5250 = 0.305)
DELETE FROM crm_grade.population;
INSERT INTO t37.lines (order_no, line, cust, amount, at) VALUES ('3f', 1, 3703, 100, '2026-04-15 13:00+00');
SELECT customer, amount_12m, grade FROM crm_grade.customer_state WHERE customer = '3703';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT computed_at, amount_12m_total FROM crm_grade.population;
SELECT customer, amount_12m, grade FROM crm_grade.customer_state WHERE customer = '3703';
RESET crm_grade.population_refresh;
SELECT * FROM crm_grade.verify();

-- ---------------------------------------------------------------- the month crossing

SELECT crm_grade.use_policy('t37_growth') > 0 AS changed;
SELECT coalesce(max(id), 0) AS hist_month FROM crm_grade.history \gset
-- 20 April 12:00: 3701's order of 999 counts now (April, T's month: its
-- growth stays 0)
SET crm_grade.as_of = '2026-04-20 12:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT customer, amount_months, month_amounts, growth_months FROM crm_grade.customer_state WHERE customer = '3701';
-- the last microsecond of April in Berlin: nothing moves
SET crm_grade.as_of = '2026-04-30 21:59:59.999999+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT customer, growth_months, grade FROM crm_grade.customer_state ORDER BY customer;
-- 1 May 00:00 in Berlin: L is April now
--   3701: Apr 999 > Mar 150, Mar 150 <= Feb 200: 1 (flat -> up)
--   3702: Apr 0: 0 (up -> flat)
--   3703: Apr 100 <= Mar 400: 0 (streak -> flat)
--   3704: Apr 0: 0 (streak -> flat)
--   3705: Apr 1000 > Mar 50 > Feb 0, Feb 0 <= Jan 100: 2 (up)
--   3706: Apr 0: 0 (up -> flat)
--   3707: Apr 200 > Mar 100 > Feb 0: 2 (up)
--   3708: Apr 0: 0 (flat)
SET crm_grade.as_of = '2026-04-30 22:00:00+00';
SELECT crm_grade.regrade() IS NOT NULL AS regraded;
SELECT customer, growth_months, t37.plain_growth(customer::int, crm_grade.as_of()) AS plain, grade, valid_until > crm_grade.as_of() AS fresh
  FROM crm_grade.customer_state ORDER BY customer;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history
 WHERE id > :hist_month AND old_grade IS DISTINCT FROM new_grade ORDER BY customer, id;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.use_policy('abc') > 0 AS changed;
DELETE FROM crm_grade.policy WHERE name LIKE 't37%';
SELECT crm_grade.detach('t37.lines');
DROP SCHEMA t37 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SELECT * FROM crm_grade.verify();
