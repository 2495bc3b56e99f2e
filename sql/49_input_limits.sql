--
-- 49_input_limits: values at the limits of what crm_grade can keep, each an
-- error with an SQLSTATE naming the table and column (SPEC 10), never
-- PostgreSQL's own error from deep inside a write.
--  - A customer key longer than _key_max_bytes() (2600) bytes: no B-tree
--    entry of customer_state or history holds it.  Refused when written
--    (54000) and at attach; such a row that got in while triggers were
--    disabled is left out with a WARNING, as a NULL key is, and verify()
--    leaves it out too.  A key of exactly 2600 incompressible bytes fits.
--  - A date or local time that names no moment in timestamptz's range once
--    read in crm_grade.timezone (a date after 294276, a local time hours
--    from the end in a zone west of UTC): refused like an infinite time
--    (22008), at attach too, and listed in data_issues when it got in.
--  - followups_due() with an infinite as_of (22008).
--  - attach_*() and detach() granted to a role that is not crm_grade's owner:
--    a clear 42501 before any work.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
-- local times are read in New York (UTC-5) here, the session's zone too
SET crm_grade.timezone = 'America/New_York';
SET TimeZone = 'America/New_York';
CREATE SCHEMA t49;
-- incompressible text of n bytes (hex digests)
CREATE FUNCTION t49.key_of(n int, seed text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT left(string_agg(md5(seed || i), '' ORDER BY i), n) FROM generate_series(1, n / 32 + 1) i
$$;
CREATE TABLE t49.orders (id serial PRIMARY KEY, customer_id text NOT NULL, amount numeric NOT NULL,
						 ordered_at date NOT NULL, paid_at timestamp);
-- (an index on the whole key would refuse such keys itself: the application's choice)
CREATE INDEX ON t49.orders (left(customer_id, 100));
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('a', 10, '2026-01-10'),
	(t49.key_of(2601, 'x'), 20, '2026-02-10');
-- attach: the long key is found, with a query that shows it
SELECT crm_grade.attach_orders('t49.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM t49.orders WHERE octet_length(customer_id) > 2600;
-- a date after the last day a timestamp holds
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('b', 30, '300000-01-01');
SELECT crm_grade.attach_orders('t49.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
DELETE FROM t49.orders WHERE ordered_at > '3000-01-01';
-- crm_grade grades moments from 4712 BC to 89999 AD (UTC), so that every
-- moment it derives from them stays within timestamptz's range.  A local
-- time on the last evening: 18:00 in New York is 23:00 UTC, 19:00 is past
-- the end.
INSERT INTO t49.orders (customer_id, amount, ordered_at, paid_at) VALUES ('b', 30, '2026-03-10', '89999-12-31 19:00');
SELECT crm_grade.attach_orders('t49.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
UPDATE t49.orders SET paid_at = '89999-12-31 18:00' WHERE customer_id = 'b';
SELECT crm_grade._time_in_range('89999-12-31 19:00'::timestamp) AS last_evening_late,
	   crm_grade._time_in_range('89999-12-31 18:00'::timestamp) AS last_evening,
	   crm_grade._time_in_range('89999-12-31 23:59:59.999999+00'::timestamptz) AS last_moment,
	   crm_grade._time_in_range('90000-01-01 00:00+00'::timestamptz) AS horizon,
	   crm_grade._time_in_range('294276-12-30 00:00+00'::timestamptz) AS near_timestamptz_end,
	   crm_grade._time_in_range('300000-01-01'::date) AS far_date,
	   crm_grade._time_in_range('infinity'::date) AS infinity,
	   crm_grade._time_in_range('4712-01-01 00:00+00 BC'::timestamptz) AS first_moment,
	   crm_grade._time_in_range('4713-12-31 23:59:59+00 BC'::timestamptz) AS before_it;
SELECT crm_grade.attach_orders('t49.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');

-- writes: refused with the column named, the statement only
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES (t49.key_of(2601, 'y'), 5, '2026-04-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('c', 5, '5874897-12-31');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('c', 5, '95000-01-01');
-- a compressible key is refused too (the rule is its length, not whether it happens to compress)
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES (repeat('k', 5000), 5, '2026-04-01');
UPDATE t49.orders SET customer_id = t49.key_of(3000, 'z') WHERE customer_id = 'a';
-- the longest key that is graded: 2600 incompressible bytes fit both indexes
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES (t49.key_of(2600, 'w'), 7, '2026-04-01');
SELECT octet_length(customer) AS key_bytes, orders_total, total_amount
  FROM crm_grade.customer_state WHERE octet_length(customer) > 100;
SELECT count(*) AS history_rows FROM crm_grade.history WHERE octet_length(customer) = 2600;
SELECT * FROM crm_grade.verify();

-- rows that got in while the triggers were disabled
ALTER TABLE t49.orders DISABLE TRIGGER USER;
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES
	(t49.key_of(2700, 'v'), 40, '2026-05-01'), ('c', 8, '300000-12-31'), ('c', 9, '2026-05-02');
ALTER TABLE t49.orders ENABLE TRIGGER USER;
SELECT crm_grade.regrade_all();
SELECT customer, orders_total, total_amount FROM crm_grade.customer_grades
 WHERE octet_length(customer) < 100 ORDER BY customer;
SELECT customer, source, column_name, value, problem FROM crm_grade.data_issues ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- such rows can be updated unchanged, fixed or deleted; a new bad value is refused
UPDATE t49.orders SET amount = 41 WHERE octet_length(customer_id) > 2600;
UPDATE t49.orders SET customer_id = customer_id || 'x' WHERE octet_length(customer_id) > 2600;
UPDATE t49.orders SET ordered_at = '400000-01-01' WHERE ordered_at > '3000-01-01';
UPDATE t49.orders SET ordered_at = '2026-05-03' WHERE ordered_at > '3000-01-01';
DELETE FROM t49.orders WHERE octet_length(customer_id) > 2600;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_grades WHERE customer = 'c';
-- two such rows swapping their keys: the same bad rows before and after, not refused (the
-- problems kept from the old rows must outlive each pair's memory: 0.10's first build compared
-- freed memory here)
CREATE TABLE t49.swap (id int PRIMARY KEY, c text, amount numeric, at timestamptz);
CREATE INDEX ON t49.swap (left(c, 10));
SELECT crm_grade.attach_orders('t49.swap', 'c', 'amount', 'at');
ALTER TABLE t49.swap DISABLE TRIGGER USER;
INSERT INTO t49.swap VALUES (1, repeat('a', 2700), 1, '2026-01-01'), (4, repeat('b', 9000), 1, '2026-01-01');
ALTER TABLE t49.swap ENABLE TRIGGER USER;
UPDATE t49.swap SET c = CASE id WHEN 1 THEN repeat('b', 9000) WHEN 4 THEN repeat('a', 2700) END;
SELECT crm_grade.detach('t49.swap');
SELECT count(*) AS issues_left FROM crm_grade.data_issues;
SELECT * FROM crm_grade.verify();

-- a contact log: the next action's local time, checked the same way
CREATE TABLE t49.contacts (customer_id text NOT NULL, contacted_at timestamptz NOT NULL, next_action_at timestamp);
CREATE INDEX ON t49.contacts (customer_id);
SELECT crm_grade.attach_contacts('t49.contacts', 'customer_id', 'contacted_at', next_action_at_column => 'next_action_at');
INSERT INTO t49.contacts VALUES ('a', '2026-06-01 10:00+00', '294276-12-31 23:59:59');
INSERT INTO t49.contacts VALUES ('a', '2026-06-01 10:00+00', '2026-06-20 09:00');
SELECT customer, last_contact_at, next_action_at FROM crm_grade.customer_grades WHERE customer = 'a';
SELECT * FROM crm_grade.verify();

-- a customer master: a creation time that timestamptz holds but crm_grade does not grade (a
-- follow-up a week later would be past the end of timestamptz's range) is refused; one that got
-- in is left out and listed, and blocks neither regrade_all() nor verify()
CREATE TABLE t49.customers (customer_id text PRIMARY KEY, owner text, created timestamptz);
SELECT crm_grade.attach_customers('t49.customers', 'customer_id', 'owner', 'created');
INSERT INTO t49.customers VALUES ('m', 'bob', '294276-12-30 00:00+00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER TABLE t49.customers DISABLE TRIGGER USER;
INSERT INTO t49.customers VALUES ('m', 'bob', '294276-12-30 00:00+00');
ALTER TABLE t49.customers ENABLE TRIGGER USER;
SELECT crm_grade.regrade_all();
SELECT customer, source, column_name, problem FROM crm_grade.data_issues;
SELECT * FROM crm_grade.verify();
UPDATE t49.customers SET created = '2026-01-01 00:00+00';
SELECT customer, lifecycle, next_follow_up_at FROM crm_grade.customer_grades WHERE customer = 'm';
SELECT crm_grade.detach('t49.customers');

-- crm_grade.as_of, and a policy's follow-up intervals, keep within the range too
SET crm_grade.as_of = '90000-06-01 00:00+00';
SET crm_grade.as_of = '4713-06-01 00:00+00 BC';
-- (at the first moment of the range, the window's start a year before is still a timestamp)
SET crm_grade.as_of = '4712-01-01 00:00+00 BC';
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT crm_grade.check_policy('{"kind": "rules", "default": "C", "grades": [{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 1}]}}],
								"cadence": {"A": "101 years", "C": "30 days"}}', 'slow');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- (checked when a policy is stored or checked, not when a stored one is loaded: one stored
-- before 0.10, or with the check disabled, keeps grading, instead of failing every write; since
-- 0.11 its longer cadence is read as 100 years, by the triggers and verify() alike: 0.10 took
-- 150 years as given and failed with a bare "timestamp out of range" at 300,000)
ALTER TABLE crm_grade.policy DISABLE TRIGGER policy_check;
INSERT INTO crm_grade.policy (name, definition) VALUES ('t49_slow', '{"kind": "rules", "default": "C",
	"grades": [{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 1}]}}],
	"cadence": {"A": "150 years", "C": "300000 years"}}');
ALTER TABLE crm_grade.policy ENABLE TRIGGER policy_check;
SELECT crm_grade.use_policy('t49_slow') > 0 AS regraded;
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('a', 1, '2026-06-01');
SELECT customer, grade, next_follow_up_at FROM crm_grade.customer_grades WHERE customer = 'a';
INSERT INTO t49.orders (customer_id, amount, ordered_at) VALUES ('c300', 0.5, '2026-06-01');
SELECT customer, grade, lifecycle, risk, next_follow_up_at FROM crm_grade.customer_grades WHERE customer = 'c300';
SELECT crm_grade.explain(customer) #>> '{follow_up,cadence}' AS cadence FROM crm_grade.customer_state WHERE customer = 'c300';
SELECT * FROM crm_grade.verify();
SELECT crm_grade.use_policy('abc') > 0 AS regraded;
DELETE FROM crm_grade.policy WHERE name = 't49_slow';

-- followups_due(): the day of an infinite moment is no day, nor is one at either end of the range
SELECT count(*) FROM crm_grade.followups_due('infinity');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) FROM crm_grade.followups_due('-infinity');
SELECT count(*) FROM crm_grade.followups_due('294276-12-31 23:59:59+00');
SELECT count(*) FROM crm_grade.followups_due('4714-11-24 00:00:00+00 BC');
SELECT count(*) > 0 AS someone_due FROM crm_grade.followups_due('2027-01-01');

-- attach_*() and detach() are for crm_grade's owner: a grant alone gives a clear error
CREATE ROLE regress_t49_app;
GRANT USAGE ON SCHEMA crm_grade, t49 TO regress_t49_app;
GRANT EXECUTE ON FUNCTION crm_grade.attach_orders(regclass, name, name, name, name, text, name),
	crm_grade.detach(regclass) TO regress_t49_app;
CREATE TABLE t49.app_orders (customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
ALTER TABLE t49.app_orders OWNER TO regress_t49_app;
SET ROLE regress_t49_app;
SELECT crm_grade.attach_orders('t49.app_orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT crm_grade.detach('t49.orders');
RESET ROLE;
SELECT count(*) AS still_attached FROM crm_grade.source WHERE tbl = 't49.orders'::regclass;
-- _lock_before_attach(), which attach_*() and detach() call first, locks only a table the caller
-- owns, even for a role granted it (an owner of crm_grade who is not a superuser, say): never
-- another role's table, nor the catalog
GRANT EXECUTE ON FUNCTION crm_grade._lock_before_attach(regclass, text, regtype) TO regress_t49_app;
SET ROLE regress_t49_app;
BEGIN;
SELECT crm_grade._lock_before_attach('t49.orders', 'drop', NULL);
ROLLBACK;
BEGIN;
SELECT crm_grade._lock_before_attach('pg_catalog.pg_class', 'drop', NULL);
ROLLBACK;
RESET ROLE;
REVOKE ALL ON FUNCTION crm_grade._lock_before_attach(regclass, text, regtype) FROM regress_t49_app;
-- nor for a member of the owner's role (the work is done as the caller): SET ROLE to the owner
CREATE ROLE regress_t49_member;
DO $$ BEGIN EXECUTE format('GRANT %I TO regress_t49_member', current_user); END $$;
GRANT EXECUTE ON FUNCTION crm_grade.attach_orders(regclass, name, name, name, name, text, name) TO regress_t49_member;
SET ROLE regress_t49_member;
SELECT crm_grade.attach_orders('t49.app_orders', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
RESET ROLE;
REVOKE ALL ON FUNCTION crm_grade.attach_orders(regclass, name, name, name, name, text, name) FROM regress_t49_member;
DROP ROLE regress_t49_member;

-- stalled_opportunities lists no deal crm_grade would refuse: an over-long key or an
-- out-of-range time that got in while the triggers were disabled
CREATE TABLE t49.deals (customer_id text NOT NULL, stage text NOT NULL, amount numeric NOT NULL,
						changed timestamptz NOT NULL, open boolean NOT NULL);
SELECT crm_grade.attach_opportunities('t49.deals', 'customer_id', 'stage', 'amount', 'changed', 'open');
INSERT INTO t49.deals VALUES ('a', 'proposal', 100, '2026-05-01 00:00+00', true);
ALTER TABLE t49.deals DISABLE TRIGGER USER;
INSERT INTO t49.deals VALUES (t49.key_of(2601, 'd'), 'proposal', 100, '2026-05-01 00:00+00', true),
	('a', 'proposal', 100, '95000-01-01 00:00+00', true);
ALTER TABLE t49.deals ENABLE TRIGGER USER;
SELECT customer, stage, days_in_stage FROM crm_grade.stalled_opportunities;
SELECT crm_grade.detach('t49.deals');

-- a generated workload at both ends of the range, in a zone 14 hours east of UTC: orders
-- (timestamptz, a date paid), contacts (local times, promises) and a master (dates) within a
-- year or so of 4712 BC and of 89999 AD (some past it), graded at "now" and at both ends; every
-- write either goes through or is refused as out of range (22008), nothing else, and verify()
-- finds nothing
SELECT crm_grade.detach('t49.contacts');
SELECT crm_grade.detach('t49.orders');
CREATE TABLE t49.g_orders (id serial PRIMARY KEY, c int NOT NULL, a numeric NOT NULL, t timestamptz NOT NULL, p date);
CREATE INDEX ON t49.g_orders (c);
CREATE TABLE t49.g_contacts (c int NOT NULL, at timestamp NOT NULL, outcome text, nxt timestamptz);
CREATE INDEX ON t49.g_contacts (c);
CREATE TABLE t49.g_master (c int PRIMARY KEY, owner text, created date);
SET crm_grade.timezone = 'Pacific/Kiritimati';
SET TimeZone = 'Pacific/Kiritimati';
SELECT crm_grade.attach_orders('t49.g_orders', 'c', 'a', 't', 'p')
	 + crm_grade.attach_contacts('t49.g_contacts', 'c', 'at', outcome_column => 'outcome', next_action_at_column => 'nxt')
	 + crm_grade.attach_customers('t49.g_master', 'c', 'owner', 'created') AS graded;
CREATE TABLE t49.g_refused (sqlstate text);
SELECT setseed(0.49);
DO $$
DECLARE
	lo timestamptz := '4712-01-02 00:00+00 BC';
	hi timestamptz := '90000-01-20 00:00+00';
	t timestamptz;
BEGIN
	FOR i IN 1 .. 300 LOOP
		t := CASE WHEN random() < 0.5 THEN lo + random() * interval '400 days' ELSE hi - random() * interval '400 days' END;
		BEGIN
			INSERT INTO t49.g_orders (c, a, t, p) VALUES ((random() * 30)::int, (random() * 100 - 10)::numeric(10, 2), t,
				CASE WHEN random() < 0.3 THEN (t + random() * interval '30 days')::date END);
		EXCEPTION WHEN OTHERS THEN INSERT INTO t49.g_refused VALUES (SQLSTATE);
		END;
		BEGIN
			INSERT INTO t49.g_contacts VALUES ((random() * 30)::int, (t + interval '1 day')::timestamp,
				CASE WHEN random() < 0.2 THEN 'complaint' END, CASE WHEN random() < 0.3 THEN t + interval '3 days' END);
		EXCEPTION WHEN OTHERS THEN INSERT INTO t49.g_refused VALUES (SQLSTATE);
		END;
	END LOOP;
	FOR i IN 0 .. 30 LOOP
		BEGIN
			INSERT INTO t49.g_master VALUES (i, 'own' || (i % 3),
				CASE WHEN random() < 0.5 THEN (lo + random() * interval '100 days')::date
					 ELSE (hi - random() * interval '100 days')::date END);
		EXCEPTION WHEN OTHERS THEN INSERT INTO t49.g_refused VALUES (SQLSTATE);
		END;
	END LOOP;
END $$;
SELECT count(*) FILTER (WHERE sqlstate = '22008') AS refused_out_of_range,
	   count(*) FILTER (WHERE sqlstate <> '22008') AS refused_otherwise,
	   (SELECT count(*) FROM t49.g_orders) + (SELECT count(*) FROM t49.g_contacts) > 500 AS most_went_through
  FROM t49.g_refused;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SET crm_grade.as_of = '89999-12-31 23:00+00';
SELECT crm_grade.regrade() >= 0 AS regraded;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT count(*) > 0 AS someone_due FROM crm_grade.followups_due();
SET crm_grade.as_of = '4712-01-01 00:00+00 BC';
SELECT crm_grade.regrade_all() > 0 AS regraded;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SELECT crm_grade.regrade_all() > 0 AS regraded;
DELETE FROM t49.g_orders WHERE random() < 0.5;
UPDATE t49.g_orders SET a = a + 1, t = t + interval '1 hour' WHERE random() < 0.5;
DELETE FROM t49.g_contacts WHERE random() < 0.3;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t49.g_orders');
SELECT crm_grade.detach('t49.g_contacts');
SELECT crm_grade.detach('t49.g_master');
SET crm_grade.timezone = 'America/New_York';
SET TimeZone = 'America/New_York';

-- the 12-month window of a moment BC: months counted with floor division (a year BC is
-- negative; truncating division put 4710-10-15 BC's window start at 4711-09-30 BC, and
-- verify() disagreed on every 12-month figure)
CREATE TABLE t49.bc (id serial PRIMARY KEY, c int NOT NULL, amt numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON t49.bc (c);
SELECT crm_grade.attach_orders('t49.bc', 'c', 'amt', 'at');
SET crm_grade.as_of = '4710-10-15 12:00+00 BC';
INSERT INTO t49.bc (c, amt, at) VALUES (1, 100, '4711-10-05 00:00+00 BC'), (1, 100, '4710-10-01 00:00+00 BC');
SELECT customer, amount_12m, orders_12m FROM crm_grade.customer_grades WHERE customer = 1;
SELECT crm_grade._window_start('4710-10-15 12:00+00 BC') AS october, crm_grade._window_start('4710-02-10 00:00+00 BC') AS february;
SELECT * FROM crm_grade.verify();
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
-- a rule on a day count too large for any timestamp (up to 1e9 days is accepted): its flip
-- never comes, and valid_until is not lowered (it overflowed to a moment just after now, and
-- every regrade() graded the customer again)
INSERT INTO crm_grade.policy (name, definition) VALUES ('t49_far', '{"kind": "rules", "default": "C",
	"grades": [{"grade": "A", "when": {"all": [{"metric": "days_since_last_order", "op": "<", "value": 107000000}]}}],
	"cadence": {"A": "7 days", "C": "30 days"}}');
SELECT crm_grade.use_policy('t49_far') > 0 AS regraded;
SELECT crm_grade.regrade() AS regraded_again;
SELECT customer, grade, valid_until FROM crm_grade.customer_state WHERE customer = '1';
SELECT * FROM crm_grade.verify();
SELECT crm_grade.use_policy('abc') > 0 AS regraded;
DELETE FROM crm_grade.policy WHERE name = 't49_far';
SELECT crm_grade.detach('t49.bc');

-- amounts whose sum leaves numeric's range (10^131072): crm_grade's own error, with the table in
-- its context and a hint (PostgreSQL's bare "value overflows numeric format" before), the first
-- row kept
CREATE TABLE t49.huge (id serial PRIMARY KEY, c int NOT NULL, amt numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON t49.huge (c);
SELECT crm_grade.attach_orders('t49.huge', 'c', 'amt', 'at');
INSERT INTO t49.huge (c, amt, at) VALUES (1, ('9' || repeat('0', 131071))::numeric, '2026-06-01');
INSERT INTO t49.huge (c, amt, at) VALUES (1, ('9' || repeat('0', 131071))::numeric, '2026-06-02');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT count(*) AS kept FROM t49.huge;
SELECT count(*) AS disagreements FROM crm_grade.verify() WHERE customer = '1';
SELECT crm_grade.detach('t49.huge');

DROP SCHEMA t49 CASCADE;
REVOKE ALL ON SCHEMA crm_grade FROM regress_t49_app;
REVOKE ALL ON FUNCTION crm_grade.attach_orders(regclass, name, name, name, name, text, name),
	crm_grade.detach(regclass) FROM regress_t49_app;
DROP ROLE regress_t49_app;
