--
-- 09_master_updates: an UPDATE of the customer master that changes none of
-- the columns crm_grade reads (key, owner, created_at, attributes) writes
-- nothing; one that does re-grades exactly the customers it changed.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t09;
CREATE TABLE t09.customers (id int PRIMARY KEY, name text, phone text, owner text,
							created_at timestamptz, attrs jsonb);
CREATE TABLE t09.orders (customer_id int NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON t09.orders (customer_id);
INSERT INTO t09.customers VALUES
	(1, 'Ann', '111', 'rep1', '2025-01-01', '{"tier": 1}'),
	(2, 'Bob', '222', 'rep1', '2025-01-01', '{"tier": 1}'),
	(3, 'Cy',  '333', 'rep2', '2025-01-01', '{"tier": 1}');
INSERT INTO t09.orders VALUES (1, 600000, '2026-01-10');
SELECT crm_grade.attach_customers('t09.customers', 'id', 'owner', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('t09.orders', 'customer_id', 'amount', 'at');
INSERT INTO crm_grade.policy (name, definition) VALUES ('t09_tier',
	'{"kind": "rules", "default": "low", "cadence": {"top": "7 days", "low": "30 days"},
	  "grades": [{"grade": "top", "when": {"metric": "attr.tier", "op": ">=", "value": 2}}]}');
SELECT crm_grade.use_policy('t09_tier');

-- names and phone numbers are not crm_grade's business: nothing is written
SELECT pg_stat_force_next_flush();
BEGIN;
UPDATE t09.customers SET name = upper(name), phone = phone || '0';
SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables
 WHERE relid = 'crm_grade.customer_state'::regclass;
COMMIT;

-- an owner change and an attributes change re-grade those two customers only
SELECT pg_stat_force_next_flush();
BEGIN;
UPDATE t09.customers SET owner = 'rep3' WHERE id = 2;
UPDATE t09.customers SET attrs = '{"tier": 2}' WHERE id = 3;
SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'crm_grade.customer_state'::regclass;
COMMIT;
SELECT customer, owner, grade FROM crm_grade.customer_grades ORDER BY customer;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.grade_history
 WHERE reason = 'customer_updated' ORDER BY customer;

-- a key change is a change of two customers
UPDATE t09.customers SET id = 4 WHERE id = 2;
SELECT customer, owner, grade FROM crm_grade.customer_grades ORDER BY customer;
SELECT count(*) AS disagreements FROM crm_grade.verify();

SELECT crm_grade.use_policy('abc');
DELETE FROM crm_grade.policy WHERE name = 't09_tier';
SELECT crm_grade.detach('t09.orders');
SELECT crm_grade.detach('t09.customers');
DROP SCHEMA t09 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
