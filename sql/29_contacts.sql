--
-- 29_contacts: a contact log attached with attach_contacts.  The latest
-- contact (by time, then outcome, then promised action), its outcome and
-- promised next action; contacts in the 90-day window (T - 90 days of 24
-- hours, T] and the moment the count drops; outcomes intent and complaint
-- matched case-insensitively; contacts dated after T counting when T
-- reaches them; days_since_last_contact and contacts_90d in a policy, with
-- valid_until at their thresholds; updates, deletes, moves, TRUNCATE, a
-- partitioned log written through a partition, a filter, detach.  Column
-- and row errors at attach and on writes.  verify() agrees throughout.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set contacts 'SELECT customer, grade, last_contact_at, contacts_90d, days_since_last_contact, last_outcome, next_action_at, valid_until FROM crm_grade.customer_grades WHERE customer BETWEEN 2901 AND 2999 ORDER BY customer'
\set inner 'SELECT customer, first_contact_at, contacts_window_at, next_contact_at, last_intent_at, last_complaint_at, first_seen_at FROM crm_grade.customer_state WHERE customer BETWEEN ''2901'' AND ''2999'' ORDER BY customer'

CREATE SCHEMA t29;
CREATE TYPE t29.channel AS ENUM ('phone', 'email', 'visit');
CREATE TABLE t29.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t29.orders (cust);
-- the log partitioned by month, as call centres keep them
CREATE TABLE t29.calls (
	id			bigserial,
	cust		int,
	called_at	timestamptz NOT NULL,
	channel		t29.channel,
	outcome		text,
	follow_up	timestamp,				-- local time
	deleted_at	timestamptz,
	PRIMARY KEY (id, called_at)
) PARTITION BY RANGE (called_at);
CREATE TABLE t29.calls_old PARTITION OF t29.calls FOR VALUES FROM (MINVALUE) TO ('2026-06-01');
CREATE TABLE t29.calls_june PARTITION OF t29.calls FOR VALUES FROM ('2026-06-01') TO ('2026-07-01');
CREATE TABLE t29.calls_later PARTITION OF t29.calls DEFAULT;
CREATE INDEX ON t29.calls (cust);

INSERT INTO t29.orders (cust, amount, ordered_at) VALUES (2901, 600000, '2026-05-01 10:00+00'), (2902, 100, '2026-05-02 10:00+00');
INSERT INTO t29.calls (cust, called_at, channel, outcome, follow_up, deleted_at) VALUES
	(2901, '2026-06-01 09:00+00', 'phone', 'Intent', '2026-06-20 10:00', NULL),
	(2901, '2026-03-17 12:00:00+00', 'email', NULL, NULL, NULL),		-- exactly 90 days before T: outside
	(2902, '2026-03-17 12:00:00.000001+00', 'email', 'reached', NULL, NULL),	-- just inside
	(2903, '2026-06-10 08:00+00', 'visit', 'COMPLAINT', NULL, NULL),	-- a customer known only from calls
	(2903, '2026-06-10 08:00+00', 'visit', 'a note', '2026-06-30 09:00', NULL),	-- same moment: 'COMPLAINT' sorts after 'a note' in any case, so it is the latest
	(2904, '2026-07-01 10:00+00', 'phone', 'intent', NULL, NULL),		-- dated after T
	(2905, '2026-06-05 10:00+00', 'phone', 'lost', NULL, '2026-06-06');	-- deleted: outside the filter

-- Errors at attach: columns, types, rows.
SELECT crm_grade.attach_contacts('t29.calls', 'cust', 'no_such_column');
SELECT crm_grade.attach_contacts('t29.calls', 'cust', 'outcome');
SELECT crm_grade.attach_contacts('t29.calls', 'cust', 'called_at', outcome_column => 'called_at', next_action_at_column => 'outcome');
SELECT crm_grade.attach_contacts('t29.calls', 'cust', NULL);
INSERT INTO t29.calls (cust, called_at) VALUES (NULL, '2026-06-02 10:00+00');
SELECT crm_grade.attach_contacts('t29.calls', 'cust', 'called_at');
DELETE FROM t29.calls WHERE cust IS NULL;

-- The attachment: deleted calls do not count.
SELECT crm_grade.attach_orders('t29.orders', 'cust', 'amount', 'ordered_at');
SELECT crm_grade.attach_contacts('t29.calls', 'cust', 'called_at', 'channel', 'outcome', 'follow_up',
								 filter => 'deleted_at IS NULL');
:contacts;
:inner;
SELECT * FROM crm_grade.verify();

-- Writes: a later contact without a promise replaces the earlier promise;
-- an infinite time is refused; a call moved to another customer; written
-- straight into a partition; deleted; a soft delete.
INSERT INTO t29.calls (cust, called_at, channel, outcome) VALUES (2901, '2026-06-12 15:00+00', 'phone', 'reached');
INSERT INTO t29.calls (cust, called_at, outcome) VALUES (2902, 'infinity', 'x');
INSERT INTO t29.calls (cust, called_at, outcome, follow_up) VALUES (2902, '2026-06-13 10:00+00', 'x', 'infinity');
INSERT INTO t29.calls_june (cust, called_at, channel, outcome) VALUES (2902, '2026-06-14 10:00+00', 'email', 'complaint');
UPDATE t29.calls SET cust = 2906 WHERE cust = 2903 AND outcome = 'a note';
UPDATE t29.calls SET deleted_at = NULL WHERE cust = 2905;
:contacts;
:inner;
SELECT * FROM crm_grade.verify();

-- Time: 2902's call of 17 March leaves the window at valid_until; 2904's
-- call of 1 July counts once T reaches it.
SELECT valid_until AS v2902 FROM crm_grade.customer_state WHERE customer = '2902' \gset
SET crm_grade.as_of = :'v2902';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, contacts_90d, last_contact_at, valid_until FROM crm_grade.customer_grades WHERE customer = 2902;
SET crm_grade.as_of = '2026-07-01 10:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
:contacts;
SELECT * FROM crm_grade.verify();

-- A policy on contacts: warm = a contact in the last 14 days and at least two in 90.
INSERT INTO crm_grade.policy (name, definition) VALUES ('t29_touch',
	'{"kind": "rules", "default": "cold",
	  "grades": [{"grade": "warm", "when": {"all": [{"metric": "days_since_last_contact", "op": "<", "value": 14},
													{"metric": "contacts_90d", "op": ">=", "value": 2}]}}],
	  "cadence": {"warm": "7 days", "cold": "30 days"}}');
SELECT crm_grade.use_policy('t29_touch');
:contacts;
INSERT INTO t29.calls (cust, called_at, outcome) VALUES (2906, '2026-06-30 10:00+00', 'reached');
SELECT customer, grade, valid_until FROM crm_grade.customer_grades WHERE customer = 2906;
-- 14 days after 30 June 10:00 the call is 14 days old: cold again
SET crm_grade.as_of = '2026-07-14 10:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, grade, valid_until FROM crm_grade.customer_grades WHERE customer = 2906;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history WHERE id > :hist_start AND reason <> 'attach' ORDER BY id;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.use_policy('abc');
DELETE FROM crm_grade.policy WHERE name = 't29_touch';

-- TRUNCATE, then detach: the calls' contribution goes.
TRUNCATE t29.calls_june;
:contacts;
SELECT crm_grade.detach('t29.calls');
:contacts;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t29.orders');
DROP SCHEMA t29 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
