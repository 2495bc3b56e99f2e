--
-- 04_policies: the presets grade at their thresholds, use_policy(), your
-- own policies, preset protection, the active policy, nested conditions,
-- every operator, NULL metrics, attr.NAME.
--
-- T = 2025-06-15 12:00 UTC; the window is (2024-06-15 12:00, T].
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

-- the presets of SPEC section 5
SELECT name, builtin, definition ->> 'kind' AS kind, definition ->> 'default' AS otherwise,
	   definition -> 'cadence' AS cadence
  FROM crm_grade.policy WHERE name IN ('abc', 'value_tier', 'four_class') ORDER BY name;

CREATE SCHEMA t04;
CREATE TABLE t04.customers (id int4 PRIMARY KEY, profile jsonb);
CREATE TABLE t04.orders (
	customer_id	int4 NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
INSERT INTO t04.customers VALUES
	(401, '{"expansion": 10}'), (403, '{"expansion": 95}'),
	(405, '{"expansion": 99, "referral": 1}'), (408, '{"referral": 0}'),
	(410, '{"referral": 1, "note": "text is fine when no policy reads it"}');
INSERT INTO t04.orders VALUES
	(401, 500000, '2025-05-01 00:00+00', '2025-05-06 00:00+00'),	-- exactly 500000
	(402, 499999.99, '2025-05-01 00:00+00', NULL),
	(403, 100000, '2025-05-01 00:00+00', NULL),					-- exactly 100000
	(404, 99999.99, '2025-05-01 00:00+00', NULL),
	-- 405: a prospect in the customer master, no orders
	-- 406: a customer for exactly 365 days (the first order is at T - 12
	-- months, outside the window), 500000 in 12 months
	(406, 1, '2024-06-15 12:00+00', NULL),
	(406, 500000, '2025-01-01 00:00+00', NULL),
	-- 407: a customer for 364 days, 500000 in 12 months
	(407, 1, '2024-06-16 12:00+00', NULL),
	(407, 499999, '2025-01-01 00:00+00', NULL),
	(410, 49999.99, '2025-05-01 00:00+00', NULL),
	(411, -100, '2025-05-01 00:00+00', NULL);						-- a refund only
-- 408: first order 2024-05-01 (tenure 410 days), then 10000 on the 1st of
-- each month July 2024 .. April 2025: 100000 in 10 of 12 months (0.83)
INSERT INTO t04.orders VALUES (408, 1, '2024-05-01 00:00+00', NULL);
INSERT INTO t04.orders
SELECT 408, 10000, m, NULL FROM generate_series('2024-07-01 00:00+00'::timestamptz, '2025-04-01 00:00+00', '1 month') m;
-- 409: the same, but July .. March and twice in March: 100000 in 9 of 12 months (0.75)
INSERT INTO t04.orders VALUES (409, 1, '2024-05-01 00:00+00', NULL), (409, 10000, '2025-03-15 00:00+00', NULL);
INSERT INTO t04.orders
SELECT 409, 10000, m, NULL FROM generate_series('2024-07-01 00:00+00'::timestamptz, '2025-03-01 00:00+00', '1 month') m;

SELECT crm_grade.attach_orders('t04.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_customers('t04.customers', 'id', NULL, NULL, 'profile');

CREATE TABLE t04.seen (policy text, customer int4, grade text);
\set snapshot 'INSERT INTO t04.seen SELECT policy, customer, grade FROM crm_grade.customer_grades'

-- abc is active after CREATE EXTENSION
SELECT customer, amount_12m, orders_total, tenure_days, repurchase_rate, grade, policy
  FROM crm_grade.customer_grades ORDER BY customer;
:snapshot;
SELECT * FROM crm_grade.verify();

-- use_policy returns the number of customers whose grade changed: the
-- preset grade names differ, so all 11 of them
SELECT crm_grade.use_policy('value_tier');
:snapshot;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.use_policy('four_class');
:snapshot;
SELECT * FROM crm_grade.verify();
-- expected, by SPEC section 5:
--   abc:        A >= 500000, B >= 100000
--   value_tier: high >= 500000 and tenure >= 365, mid >= 100000
--   four_class: core >= 100000 and tenure >= 365 and repurchase >= 0.8,
--               key >= 50000, normal at least one order
SELECT customer,
	   max(grade) FILTER (WHERE policy = 'abc') AS abc,
	   max(grade) FILTER (WHERE policy = 'value_tier') AS value_tier,
	   max(grade) FILTER (WHERE policy = 'four_class') AS four_class
  FROM t04.seen GROUP BY customer ORDER BY customer;

SELECT crm_grade.use_policy('abc');
-- nothing changes when the active policy is chosen again
SELECT crm_grade.use_policy('abc');

-- a policy that does not exist
SELECT crm_grade.use_policy('abcd');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.use_policy(NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT DISTINCT policy FROM crm_grade.customer_grades;

-- your own policy
INSERT INTO crm_grade.policy (name, definition, description) VALUES ('t04_strict', '{
	"kind": "rules", "default": "C",
	"grades": [{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 600000}]}},
			   {"grade": "B", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}],
	"cadence": {"A": "7 days", "B": "14 days", "C": "30 days"}}', 'A from 600000');
SELECT name, builtin, description FROM crm_grade.policy WHERE name = 't04_strict';
-- 401, 406 and 407 fall from A to B
SELECT crm_grade.use_policy('t04_strict');
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE reason = 'policy' AND old_grade = 'A' AND new_grade = 'B' ORDER BY customer;
SELECT customer, amount_12m, grade, policy FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- presets cannot be changed or deleted, nor new ones made
UPDATE crm_grade.policy SET description = 'mine' WHERE name = 'abc';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE crm_grade.policy SET definition = jsonb_set(definition, '{default}', '"D"') WHERE name = 'four_class';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM crm_grade.policy WHERE name = 'value_tier';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition, builtin)
SELECT 't04_fake_preset', definition, true FROM crm_grade.policy WHERE name = 'abc';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- copying one, as the hint says, works
INSERT INTO crm_grade.policy (name, definition) SELECT 't04_my_abc', definition FROM crm_grade.policy WHERE name = 'abc';
SELECT name, builtin FROM crm_grade.policy WHERE name = 't04_my_abc';

-- the active policy cannot be deleted or renamed
DELETE FROM crm_grade.policy WHERE name = 't04_strict';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
UPDATE crm_grade.policy SET name = 't04_stricter' WHERE name = 't04_strict';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- an inactive one can
DELETE FROM crm_grade.policy WHERE name = 't04_my_abc';

-- changing the definition of the active policy re-grades everyone:
-- A from 400000 makes 401, 402, 406 and 407 A
UPDATE crm_grade.policy
   SET definition = jsonb_set(definition, '{grades,0,when,all,0,value}', '400000')
 WHERE name = 't04_strict';
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE reason = 'policy' AND old_grade = 'B' AND new_grade = 'A' ORDER BY customer;
SELECT customer, amount_12m, grade FROM crm_grade.customer_grades WHERE grade = 'A' ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- changing an inactive policy re-grades nobody
SELECT count(*) AS history_mid FROM crm_grade.grade_history \gset
INSERT INTO crm_grade.policy (name, definition) SELECT 't04_idle', definition FROM crm_grade.policy WHERE name = 'abc';
UPDATE crm_grade.policy SET definition = jsonb_set(definition, '{default}', '"Z"') || '{"cadence": {"A": "1 day", "B": "2 days", "Z": "3 days"}}'
 WHERE name = 't04_idle';
SELECT count(*) - :history_mid AS new_history FROM crm_grade.grade_history;
SELECT DISTINCT policy FROM crm_grade.customer_grades;

-- nested all / any, and attr.NAME read from the customer master's jsonb
--   X: (amount_12m >= 500000 or attr.expansion >= 90) and orders_total >= 1
--   Y: (orders_12m >= 2 and avg_order_value_12m < 60000) or attr.referral = 1
--   Z: otherwise
-- 401 X (500000); 402 Z; 403 X (expansion 95); 404 Z; 405 Y (no order for X,
-- referral 1); 406 X; 407 X; 408 Y (10 orders of 10000); 409 Y; 410 Y
-- (referral 1); 411 Z
INSERT INTO crm_grade.policy (name, definition) VALUES ('t04_nested', '{
	"kind": "rules", "default": "Z",
	"grades": [
		{"grade": "X", "when": {"all": [
			{"any": [{"metric": "amount_12m", "op": ">=", "value": 500000},
					 {"metric": "attr.expansion", "op": ">=", "value": 90}]},
			{"metric": "orders_total", "op": ">=", "value": 1}]}},
		{"grade": "Y", "when": {"any": [
			{"all": [{"metric": "orders_12m", "op": ">=", "value": 2},
					 {"metric": "avg_order_value_12m", "op": "<", "value": 60000}]},
			{"metric": "attr.referral", "op": "=", "value": 1}]}}],
	"cadence": {"X": "7 days", "Y": "14 days", "Z": "30 days"}}');
SELECT crm_grade.use_policy('t04_nested');
SELECT customer, grade FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- attributes are followed as they change: 402 gets expansion 90.5 (X),
-- 410 loses its referral (Z)
INSERT INTO t04.customers VALUES (402, '{"expansion": 90.5}');
UPDATE t04.customers SET profile = '{"referral": 0}' WHERE id = 410;
SELECT customer, grade FROM crm_grade.customer_grades WHERE customer IN (402, 410) ORDER BY customer;
-- an attribute the policy reads that is not a number counts as NULL (403
-- falls to the default grade), never fails the write, and is listed in
-- data_issues; a string holding a number is a number
UPDATE t04.customers SET profile = '{"expansion": "high"}' WHERE id = 403;
SELECT profile FROM t04.customers WHERE id = 403;
SELECT customer, grade FROM crm_grade.customer_grades WHERE customer = 403;
SELECT source, customer, column_name, value, problem FROM crm_grade.data_issues ORDER BY customer;
UPDATE t04.customers SET profile = '{"expansion": " 95 "}' WHERE id = 403;
SELECT customer, grade FROM crm_grade.customer_grades WHERE customer = 403;
SELECT count(*) AS issues FROM crm_grade.data_issues;
UPDATE t04.customers SET profile = '{"expansion": 95}' WHERE id = 403;
SELECT * FROM crm_grade.verify();

-- every operator, on orders_total against 1, for customers with 0, 1 and 2 orders
INSERT INTO crm_grade.policy (name, definition)
SELECT 't04_op_' || o.n, jsonb_build_object(
		'kind', 'rules', 'default', 'no',
		'grades', jsonb_build_array(jsonb_build_object('grade', 'yes',
					'when', jsonb_build_object('metric', 'orders_total', 'op', o.op, 'value', 1))),
		'cadence', '{"yes": "7 days", "no": "7 days"}'::jsonb)
  FROM (VALUES (1, '>='), (2, '>'), (3, '<='), (4, '<'), (5, '='), (6, '<>')) o(n, op);
CREATE TABLE t04.op_result (n int, op text, customer int4, grade text);
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN SELECT name, definition #>> '{grades,0,when,op}' AS op FROM crm_grade.policy
			  WHERE name LIKE 't04_op_%' ORDER BY name LOOP
		PERFORM crm_grade.use_policy(p.name);
		INSERT INTO t04.op_result
		SELECT right(p.name, 1)::int, p.op, customer, grade FROM crm_grade.customer_grades
		 WHERE customer IN (405, 401, 406);
	END LOOP;
END $$;
SELECT op,
	   max(grade) FILTER (WHERE customer = 405) AS "0 orders",
	   max(grade) FILTER (WHERE customer = 401) AS "1 order",
	   max(grade) FILTER (WHERE customer = 406) AS "2 orders"
  FROM t04.op_result GROUP BY n, op ORDER BY n;
SELECT * FROM crm_grade.verify();

-- a comparison with a NULL metric is false, whatever the operator:
-- only 401 has a payment time, so only it has an avg_payment_days (5);
-- attr.missing is NULL for everyone
INSERT INTO crm_grade.policy (name, definition) VALUES ('t04_nulls', '{
	"kind": "rules", "default": "none",
	"grades": [
		{"grade": "attr", "when": {"any": [{"metric": "attr.missing", "op": "<>", "value": 0},
										   {"metric": "attr.missing", "op": "=", "value": 0}]}},
		{"grade": "pays", "when": {"any": [{"metric": "avg_payment_days", "op": "<", "value": 0},
										   {"metric": "avg_payment_days", "op": ">=", "value": 0}]}},
		{"grade": "ne", "when": {"metric": "avg_payment_days", "op": "<>", "value": 5}},
		{"grade": "interorder", "when": {"metric": "mean_interorder_days", "op": "<=", "value": 1000}}],
	"cadence": {"attr": "1 day", "pays": "1 day", "ne": "1 day", "interorder": "1 day", "none": "1 day"}}');
SELECT crm_grade.use_policy('t04_nulls');
-- 401 pays; 406 .. 409 have two orders or more (mean_interorder_days);
-- everyone else none
SELECT customer, avg_payment_days, mean_interorder_days, grade FROM crm_grade.customer_grades ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- orders_per_month_12m = orders_12m / 12, exact (a seed's "4 orders a month
-- or more"): 408 and 409 have 10 orders in the window, 10/12 =
-- 0.83333333333333333333 as numeric division gives it: the threshold at
-- exactly that is reached; above it ("more"), it is not.
INSERT INTO crm_grade.policy (name, definition) VALUES ('t04_frequency', '{
	"kind": "rules", "default": "rare",
	"grades": [{"grade": "more", "when": {"metric": "orders_per_month_12m", "op": ">", "value": 0.83333333333333333333}},
			   {"grade": "monthly", "when": {"metric": "orders_per_month_12m", "op": ">=", "value": 0.83333333333333333333}}],
	"cadence": {"more": "7 days", "monthly": "7 days", "rare": "30 days"}}');
SELECT crm_grade.use_policy('t04_frequency');
SELECT customer, orders_12m, grade FROM crm_grade.customer_grades WHERE orders_12m > 0 ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.use_policy('abc');
DELETE FROM crm_grade.policy WHERE name LIKE 't04\_%';
SELECT crm_grade.detach('t04.customers');
SELECT crm_grade.detach('t04.orders');
DROP SCHEMA t04 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS own_policies_left FROM crm_grade.policy WHERE NOT builtin;
SELECT count(*) AS sources_left FROM crm_grade.source;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
