--
-- 30_lifecycle: lifecycle stages (SPEC 6) and churn risk (SPEC 7), each
-- transition with its reason in grade_history, at the boundaries time
-- alone crosses (valid_until lands exactly on them): prospect -> intent
-- (contact_intent) -> active (first_order) -> dormant (no_order_180d) ->
-- churned (no_order_365d) -> active (reactivated); churned by a lost
-- contact after the last order (contact_lost), not by one before it;
-- intent ending after 90 days; risk high after a complaint for 30 days
-- (contact_complaint), medium and high when the next order is overdue
-- (order_overdue); the thresholds as settings only a superuser changes.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-01-01 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set stages 'SELECT customer, lifecycle, risk, days_since_last_order, valid_until FROM crm_grade.customer_grades WHERE customer BETWEEN 3001 AND 3099 ORDER BY customer'
\set moves 'SELECT customer, old_lifecycle, new_lifecycle, old_risk, new_risk, reason FROM crm_grade.history WHERE id > :hist_start AND reason <> ''attach'' ORDER BY id'

CREATE SCHEMA t30;
CREATE TABLE t30.customers (id int PRIMARY KEY, created_at timestamptz);
CREATE TABLE t30.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t30.orders (cust);
CREATE TABLE t30.contacts (id serial PRIMARY KEY, cust int NOT NULL, at timestamptz NOT NULL, outcome text);
CREATE INDEX ON t30.contacts (cust);
INSERT INTO t30.customers VALUES (3001, '2025-12-01'), (3002, '2025-12-01'), (3003, '2025-12-01');
-- 3004: two orders ten days apart (mean interval 10 days)
INSERT INTO t30.orders (cust, amount, ordered_at) VALUES
	(3004, 100, '2025-12-12 12:00+00'), (3004, 100, '2025-12-22 12:00+00'),
	(3005, 100, '2025-12-20 12:00+00');
SELECT crm_grade.attach_customers('t30.customers', 'id', created_at_column => 'created_at');
SELECT crm_grade.attach_orders('t30.orders', 'cust', 'amount', 'ordered_at');
SELECT crm_grade.attach_contacts('t30.contacts', 'cust', 'at', outcome_column => 'outcome');
:stages;

-- 3001: prospect -> intent (an "Intent" contact) -> active (its first order).
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3001, '2026-01-01 10:00+00', 'Intent');
INSERT INTO t30.orders (cust, amount, ordered_at) VALUES (3001, 500, '2026-01-01 11:00+00');
-- 3002: an intent contact that runs out after 90 days (of 24 hours).
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3002, '2025-12-01 12:00+00', 'intent');
-- 3003: a prospect who said no: churned.
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3003, '2026-01-01 09:00+00', 'LOST');
-- 3005: "lost" before its last order does not churn; after it, it does.
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3005, '2025-12-19 12:00+00', 'lost');
:stages;
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3005, '2025-12-21 12:00+00', 'lost');
-- 3006: a complaint: risk high for 30 days.
INSERT INTO t30.orders (cust, amount, ordered_at) VALUES (3006, 100, '2025-12-30 12:00+00');
INSERT INTO t30.contacts (cust, at, outcome) VALUES (3006, '2025-12-31 12:00+00', 'complaint');
:stages;
:moves;
SELECT * FROM crm_grade.verify();

-- Time.  3004 (last order 22 Dec 12:00, mean 10 days): medium once the
-- whole days since exceed 15 (16 of them, 7 Jan 12:00), high past 20 (12 Jan).
SET crm_grade.as_of = '2026-01-07 11:59:59.999999+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, risk, valid_until FROM crm_grade.customer_grades WHERE customer = 3004;
SET crm_grade.as_of = '2026-01-07 12:00:00+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, risk, valid_until FROM crm_grade.customer_grades WHERE customer = 3004;
SET crm_grade.as_of = '2026-01-12 12:00:00+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, risk, valid_until FROM crm_grade.customer_grades WHERE customer = 3004;
-- 3006's complaint is 30 days old on 30 January 12:00: risk low again
SET crm_grade.as_of = '2026-01-30 12:00:00+00';
SELECT crm_grade.regrade() AS regraded;
-- 3002's intent is 90 days old on 1 March 12:00: a prospect again
SET crm_grade.as_of = '2026-03-01 11:59:59.999999+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, lifecycle FROM crm_grade.customer_grades WHERE customer = 3002;
SET crm_grade.as_of = '2026-03-01 12:00:00+00';
SELECT crm_grade.regrade() AS regraded;
:stages;
-- 3001's last order (1 Jan 11:00): dormant once more than 180 whole days
-- have passed (1 July 11:00), churned past 365 (2 January 2027 11:00)
SET crm_grade.as_of = '2026-07-01 10:59:59.999999+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, lifecycle, days_since_last_order FROM crm_grade.customer_grades WHERE customer = 3001;
SET crm_grade.as_of = '2026-07-01 11:00:00+00';
SELECT crm_grade.regrade() AS regraded;
SELECT customer, lifecycle, days_since_last_order FROM crm_grade.customer_grades WHERE customer = 3001;
SET crm_grade.as_of = '2027-01-02 11:00:00+00';
SELECT crm_grade.regrade() AS regraded;
-- and back: an order reactivates it
INSERT INTO t30.orders (cust, amount, ordered_at) VALUES (3001, 500, '2027-01-02 10:00+00');
:stages;
:moves;
SELECT * FROM crm_grade.verify();

-- The thresholds are settings a superuser changes (then regrade_all()).
CREATE ROLE t30_rep;
SET ROLE t30_rep;
SET crm_grade.dormant_days = 30;
RESET ROLE;
DROP ROLE t30_rep;
SET crm_grade.dormant_days = 0;
SET crm_grade.dormant_days = 30;
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT customer, lifecycle FROM crm_grade.customer_grades WHERE customer IN (3004, 3006) ORDER BY customer;
SELECT * FROM crm_grade.verify();
RESET crm_grade.dormant_days;
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t30.contacts');
SELECT crm_grade.detach('t30.orders');
SELECT crm_grade.detach('t30.customers');
DROP SCHEMA t30 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
