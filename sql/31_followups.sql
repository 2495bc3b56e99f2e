--
-- 31_followups: the next follow-up (SPEC 8) and followups_due().  The
-- interval by grade (the policy's cadence) and by stage (prospect 7 days,
-- intent 3, dormant 30 during its first 90 days, high risk capped at 7);
-- counted from the last contact, or the first sight (the master's
-- created_at, the first order row of any amount, the first contact), on
-- the local clock across a daylight-saving change; an earlier promised
-- action winning even when it has passed; a later contact without a
-- promise replacing it; the business calendar; none for churned
-- customers; holiday edits moving the follow-ups they affect at once;
-- followups_due() for a day, an owner, in grade, risk and due order.
--
\set SHOW_CONTEXT never
SET TimeZone = 'Europe/Berlin';
SET DateStyle = 'ISO, YMD';
SET crm_grade.timezone = 'Europe/Berlin';
SET crm_grade.as_of = '2026-03-23 12:00:00+01';		-- a Monday, before the change to summer time
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set fu 'SELECT customer, grade, lifecycle, risk, next_follow_up_at, to_char(next_follow_up_at, ''Dy'') AS dow, follow_up_overdue FROM crm_grade.customer_grades WHERE customer BETWEEN 3101 AND 3199 ORDER BY customer'

CREATE SCHEMA t31;
CREATE TABLE t31.customers (id int PRIMARY KEY, rep text, created_at timestamptz);
CREATE TABLE t31.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t31.orders (cust);
CREATE TABLE t31.calls (id serial PRIMARY KEY, cust int NOT NULL, at timestamptz NOT NULL, outcome text, promise timestamptz);
CREATE INDEX ON t31.calls (cust);
INSERT INTO t31.customers VALUES
	(3101, 'ann', '2026-03-20 10:00+01'),		-- a prospect, created on a Friday
	(3102, 'ann', '2026-03-01 10:00+01'),
	(3103, 'bob', '2026-01-05 10:00+01'),
	(3104, 'bob', '2025-01-05 10:00+01');
INSERT INTO t31.orders (cust, amount, ordered_at) VALUES
	(3102, 600000, '2026-03-10 15:00+01'),		-- an A: every 7 days
	(3103, 1000, '2026-01-06 10:00+01'), (3103, 1000, '2026-01-16 10:00+01'),	-- a C overdue: high risk
	(3104, 200000, '2025-09-01 10:00+02'),		-- a B dormant since March 2026
	(3105, -50, '2026-03-02 10:00+01'),			-- a refund is the first sight of 3105
	(3105, 200000, '2026-03-03 10:00+01');		-- a B: every 14 days
INSERT INTO t31.calls (cust, at, outcome, promise) VALUES
	(3102, '2026-03-19 16:00+01', 'reached', NULL),
	(3106, '2026-03-20 17:30+01', 'INTENT', NULL),	-- intent: every 3 days
	(3107, '2026-03-16 09:30+01', 'lost', NULL),	-- churned: none
	(3104, '2026-05-20 10:00+02', 'reached', NULL);	-- counts from 20 May on
SELECT crm_grade.attach_customers('t31.customers', 'id', 'rep', 'created_at');
SELECT crm_grade.attach_orders('t31.orders', 'cust', 'amount', 'ordered_at');
SELECT crm_grade.attach_contacts('t31.calls', 'cust', 'at', outcome_column => 'outcome', next_action_at_column => 'promise');
-- 3101: created Fri 20 Mar 10:00 + 7 days = Fri 27 Mar 10:00 (allowed, before 12:00)
-- 3102: last call Thu 19 Mar 16:00 + 7 days (A) = Thu 26 Mar 16:00
-- 3103: high risk caps C's 30 days at 7: first sight 5 Jan 10:00 + 7 = 12 Jan 10:00, overdue
-- 3104: dormant since 28 Feb (181 days after 1 Sep): 30 days from created_at 5 Jan 2025 10:00,
--       long overdue
-- 3105: the refund on 2 Mar 10:00 + 14 days (B) = Mon 16 Mar 10:00 -> 12:00 (Monday)
-- 3106: Fri 20 Mar 17:30 + 3 days = Mon 23 Mar 17:30
-- 3107: churned: no follow-up, not overdue
:fu;
SELECT * FROM crm_grade.verify();

-- "7 days" keeps the clock time across the change to summer time (29 March):
-- 3102 called on Thu 26 Mar 16:00 CET is due on Thu 2 Apr 16:00 CEST, 167
-- hours later.
SET crm_grade.as_of = '2026-03-26 16:30:00+01';
SELECT crm_grade.regrade() >= 0 AS regraded;
INSERT INTO t31.calls (cust, at, outcome) VALUES (3102, '2026-03-26 16:00+01', 'reached');
SELECT customer, next_follow_up_at, next_follow_up_at - '2026-03-26 16:00+01'::timestamptz AS elapsed
  FROM crm_grade.customer_grades WHERE customer = 3102;
-- A promise earlier than the cadence wins, even once it has passed; after
-- the calendar (Friday 20:00 -> Monday 12:00).
INSERT INTO t31.calls (cust, at, outcome, promise) VALUES (3101, '2026-03-26 10:00+01', 'reached', '2026-03-20 20:00+01');
SELECT customer, last_contact_at, next_action_at, next_follow_up_at, follow_up_overdue FROM crm_grade.customer_grades WHERE customer = 3101;
-- a later call without a promise replaces it
INSERT INTO t31.calls (cust, at, outcome) VALUES (3101, '2026-03-26 11:00+01', 'no_answer');
SELECT customer, next_action_at, next_follow_up_at FROM crm_grade.customer_grades WHERE customer = 3101;
SELECT * FROM crm_grade.verify();

-- Holidays move the follow-ups they touch, at once; the others stay.
INSERT INTO crm_grade.holiday (day, name) VALUES ('2026-04-02', 't31 Thursday'), ('2026-04-03', 't31 Friday');
:fu;
SELECT * FROM crm_grade.verify();
DELETE FROM crm_grade.holiday WHERE name LIKE 't31 %';
:fu;
SELECT * FROM crm_grade.verify();

-- The day's work list: due before the end of the day (midnight in
-- crm_grade.timezone), best grade first, then high risk, then the longest
-- overdue; one owner's, or everyone's.
SELECT customer, owner, grade, risk, next_follow_up_at, overdue_by FROM crm_grade.followups_due();
SELECT customer, owner, grade, risk, next_follow_up_at, overdue_by FROM crm_grade.followups_due(owner => 'ann');
SELECT customer, next_follow_up_at, overdue_by FROM crm_grade.followups_due('2026-04-02 08:00+02', 'ann');
SELECT count(*) AS nobody FROM crm_grade.followups_due(owner => 'nobody');
-- an index serves one owner's list (on this tiny table the planner would
-- rather scan it, and autovacuum's statistics decide when: the plan is
-- shown with sequential and bitmap scans off, after an ANALYZE of its own;
-- valgrind runs' statistics once made a bitmap scan of the follow-up index
-- cheaper, and once an index scan of it)
ANALYZE crm_grade.customer_state;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM crm_grade.customer_state s
 WHERE s.owner = 'ann' AND s.next_follow_up_at < '2026-03-24 00:00+01';
-- ... and followups_due(owner => ...) itself reads it, not every customer
-- (0.5 planned the owner as an unknown parameter, "(owner IS NULL OR
-- s.owner = owner)", and read all customers for one owner's list): in a
-- transaction (the counts are this backend's since its last report), the
-- owner index scanned once, the table's sequential scans not
BEGIN;
SELECT pg_stat_get_xact_numscans('crm_grade.customer_state_owner'::regclass) AS owner0,
       pg_stat_get_xact_numscans('crm_grade.customer_state'::regclass) AS seq0 \gset
SELECT count(*) AS ann_due FROM crm_grade.followups_due(owner => 'ann');
SELECT pg_stat_get_xact_numscans('crm_grade.customer_state_owner'::regclass) - :owner0 AS owner_index_scans,
       pg_stat_get_xact_numscans('crm_grade.customer_state'::regclass) - :seq0 AS table_seq_scans;
COMMIT;
-- everyone's list (since 0.8 there is no index on next_follow_up_at alone,
-- which cost every state write an entry) reads the same index owner by
-- owner: for each of the owners (ann, bob) the probe that finds it and
-- the scan of its due customers, the probe that finds no more, the scan
-- of the customers without an owner, and the one-owner branch's scan for
-- a NULL owner, which finds nothing at once: 7; no sequential scan
BEGIN;
SELECT pg_stat_get_xact_numscans('crm_grade.customer_state_owner'::regclass) AS owner0,
       pg_stat_get_xact_numscans('crm_grade.customer_state'::regclass) AS seq0 \gset
SELECT count(*) AS everyone_due, count(*) FILTER (WHERE owner IS NULL) AS without_owner
  FROM crm_grade.followups_due();
SELECT pg_stat_get_xact_numscans('crm_grade.customer_state_owner'::regclass) - :owner0 AS owner_index_scans,
       pg_stat_get_xact_numscans('crm_grade.customer_state'::regclass) - :seq0 AS table_seq_scans;
COMMIT;
RESET enable_seqscan;
RESET enable_bitmapscan;

-- Dormancy's 30-day rhythm ends 90 days into it (more than 270 days after
-- the last order, 1 Sep 2025 10:00: on 30 May 2026 10:00): then the grade's
-- cadence again (B: 14 days).  3104's call of 20 May is the base.
SET crm_grade.as_of = '2026-05-30 09:59:59.999999+02';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, lifecycle, days_since_last_order, last_contact_at, next_follow_up_at, valid_until
  FROM crm_grade.customer_grades WHERE customer = 3104;
SET crm_grade.as_of = '2026-05-30 10:00:00+02';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, lifecycle, days_since_last_order, last_contact_at, next_follow_up_at
  FROM crm_grade.customer_grades WHERE customer = 3104;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t31.calls');
SELECT crm_grade.detach('t31.orders');
SELECT crm_grade.detach('t31.customers');
DROP SCHEMA t31 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
