--
-- 05_policy_errors: every way a policy definition is refused, by
-- check_policy() and on INSERT/UPDATE of crm_grade.policy.  Each error
-- names the policy and the JSON path of the bad field and has a hint; its
-- SQLSTATE is printed after it.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2025-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';

\set good '{"kind": "rules", "default": "C", "grades": [{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 500000}]}}, {"grade": "B", "when": {"any": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}], "cadence": {"A": "7 days", "B": "14 days", "C": "30 days"}}'

-- a valid definition passes; so do an empty "all" (always true), a
-- description, attr.NAME and a fractional value
SELECT crm_grade.check_policy(:'good', 'good');
SELECT crm_grade.check_policy(:'good'::jsonb || '{"description": "mine"}', 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when}', '{"all": []}'), 'good');
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0}',
	'{"metric": "attr.service_level", "op": "<>", "value": 0.5}'), 'good');
-- the name is optional
SELECT crm_grade.check_policy(:'good');

-- NULL
SELECT crm_grade.check_policy(NULL, 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- not an object
SELECT crm_grade.check_policy('[]', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy('"rules"', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy('null', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- without a name, the message says so
SELECT crm_grade.check_policy('{"kind": "rules"}', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- kind
SELECT crm_grade.check_policy(:'good'::jsonb - 'kind', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{kind}', '1'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{kind}', '"tree"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a rules definition labelled score or rfm: those kinds have other keys
-- (34_score_policies and 35_rfm_policies test them)
SELECT crm_grade.check_policy(jsonb_set(:'good', '{kind}', '"score"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{kind}', '"rfm"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- an unknown top-level key (a typo must not pass silently)
SELECT crm_grade.check_policy(:'good'::jsonb || '{"defualt": "D"}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- default
SELECT crm_grade.check_policy(:'good'::jsonb - 'default', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{default}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{default}', '3'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- grades
SELECT crm_grade.check_policy(:'good'::jsonb - 'grades', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades}', '{"grade": "A"}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a rule
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1}', '1'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1}', '"B"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,if}', '{}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{grades,1,grade}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,grade}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,grade}', '"A"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,grade}', '"C"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{grades,1,when}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,when}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a comparison
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,metric}', '"amount_13m"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,metric}', '"attr."'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,metric}', '["amount_12m"]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{grades,1,when,any,0,metric}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,op}', '"=>"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,op}', '"=="'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{grades,0,when,all,0,op}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,value}', '"500000"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,value}', 'null'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{grades,0,when,all,0,value}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0,metirc}', '"amount_12m"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- all / any
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all}', '{"metric": "amount_12m", "op": ">=", "value": 1}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,when,any}', '"amount_12m >= 1"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,metric}', '"amount_12m"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,any}', '[]'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,0,when,all,0}', '42'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- deep inside: the path says where
SELECT crm_grade.check_policy(jsonb_set(:'good', '{grades,1,when}',
	'{"any": [{"metric": "orders_12m", "op": ">", "value": 2},
			  {"all": [{"metric": "amount_12m", "op": ">", "value": 1},
					   {"metric": "recency", "op": "<", "value": 30}]}]}'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- cadence
SELECT crm_grade.check_policy(:'good'::jsonb - 'cadence', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence}', '"7 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,B}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(:'good'::jsonb #- '{cadence,C}', 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,Z}', '"7 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,A}', '7'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,A}', '"soon"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,A}', '"7 dayz"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,B}', '"0 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,B}', '"-14 days"'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.check_policy(jsonb_set(:'good', '{cadence,C}', '""'), 'p');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- months and hours are intervals too
SELECT crm_grade.check_policy(jsonb_set(jsonb_set(:'good', '{cadence,A}', '"36 hours"'), '{cadence,C}', '"1 mon"'), 'p');

-- the policy table refuses the same definitions, naming the row
INSERT INTO crm_grade.policy (name, definition) VALUES ('t05_bad', jsonb_set(:'good', '{cadence,A}', '"soon"'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition) VALUES ('t05_null', NULL);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition) VALUES ('t05_score', jsonb_set(:'good', '{kind}', '"score"'));
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO crm_grade.policy (name, definition) VALUES ('t05_ok', :'good');
UPDATE crm_grade.policy SET definition = jsonb_set(definition, '{grades,0,when,all,0,op}', '"≥"') WHERE name = 't05_ok';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT name, definition = :'good' AS unchanged FROM crm_grade.policy WHERE name LIKE 't05%';

-- conditions nested deeper than the stack allows: crm_grade's own 22023, naming where (0.11 gave
-- 54001 and no field).  PostgreSQL's jsonb functions refuse such a value before crm_grade does
-- at the default max_stack_depth, so it is built at that depth and checked at a smaller one.
CREATE TEMP TABLE t05_deep AS
WITH RECURSIVE c(n, j) AS (SELECT 0, '{"metric": "orders_total", "op": ">", "value": 1}'::jsonb
						   UNION ALL SELECT n + 1, jsonb_build_object('all', jsonb_build_array(j)) FROM c WHERE n < 3000)
SELECT jsonb_build_object('kind', 'rules', 'default', 'C', 'cadence', '{"A": "7 days", "C": "30 days"}'::jsonb,
						  'grades', jsonb_build_array(jsonb_build_object('grade', 'A', 'when', j))) AS definition
  FROM c WHERE n = 3000;
SET max_stack_depth = '100kB';
DO $$
BEGIN
	PERFORM crm_grade.check_policy(definition) FROM t05_deep;
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE '% %, %', SQLSTATE, left(SQLERRM, 52), SQLERRM LIKE '%...: conditions nested too deeply (% levels)';
END $$;
RESET max_stack_depth;

-- cleanup
DELETE FROM crm_grade.policy WHERE name LIKE 't05%';
SELECT count(*) AS own_policies_left FROM crm_grade.policy WHERE NOT builtin;
