-- Generated workload over contacts, deals, lifecycle stages, churn risk and
-- follow-ups: a customer master with owners, creation times and soft
-- deletes (its filter), an order table with refunds, deals (opened, closed,
-- reopened, moved on, archived by their filter, moved between customers,
-- deleted; some dated later, some stalled), and a contact log with
-- a soft-delete filter, outcomes in any case (intent, lost, complaint and
-- ordinary ones, NULL included) and promised next actions (a local
-- timestamp; some already passed, some later, some on the calendar's
-- bounds).  Contacts are inserted (one at a time and many customers in one
-- statement), re-dated, re-promised, given another outcome, deleted,
-- soft-deleted, restored and moved between customers; orders inserted,
-- refunded and deleted; master rows inserted, re-owned, re-dated and
-- soft-deleted; holidays inserted, moved, deleted and truncated in
-- crm_grade.holiday (which moves follow-ups at once), and inserted in a
-- subtransaction that rolls back before a contact promises that very day;
-- and in one phase the lifecycle thresholds are changed, then
-- regrade_all().  crm_grade.timezone is Europe/Berlin; as_of crosses both
-- of its daylight-saving changes (and the repeated hour), jumps by days,
-- weeks and months, and lands on weekends, Friday afternoons and a Monday
-- morning.
--
-- After every phase: rows whose valid_until has not passed already agree
-- with verify(); regrade(max_customers) batches re-evaluate exactly the
-- expired customers; verify() is empty; nothing is left expired.  And, in
-- this file's own SQL (not crm_grade's functions): churned customers have
-- no follow-up; every other customer seen at or before T (a contact, an
-- order row, a deal, a master row) has one, on a working day that is not a
-- holiday, within the day's hours; followups_due(T, owner) lists exactly
-- each owner's customers due before the end of T's local day, in grade,
-- risk and due order; the overdue flags; the stage and risk from the rows.
-- Deterministic: setseed() and explicit as_of.  About 3,400 writes, under
-- 10 seconds.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(179);

SET LOCAL statement_timeout = '60s';
SET LOCAL jit = off;
-- the application's zone is crm_grade's: attach does not warn
SET LOCAL TimeZone = 'Europe/Berlin';
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SET LOCAL crm_grade.as_of = '2026-03-19 09:30:00+01';		-- a Thursday
DO $$ BEGIN PERFORM setseed(0.0606); END $$;

CREATE SCHEMA lc;
CREATE TABLE lc.customers (
	id			integer PRIMARY KEY,
	rep			text,
	created_at	timestamptz,
	deleted_at	timestamptz
);
CREATE TABLE lc.orders (
	id			bigserial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL
);
CREATE INDEX ON lc.orders (customer_id);
CREATE TABLE lc.contacts (
	id				bigserial PRIMARY KEY,
	customer_id		integer NOT NULL,
	contacted_at	timestamptz NOT NULL,
	channel			text,
	outcome			text,
	next_action_at	timestamp,			-- local time in crm_grade.timezone
	deleted_at		timestamptz
);
CREATE INDEX ON lc.contacts (customer_id);

-- deals: open ones make a customer without orders one with intent
CREATE TABLE lc.opps (
	id					bigserial PRIMARY KEY,
	customer_id			integer NOT NULL,
	stage				text NOT NULL,
	amount				numeric(12,2),
	stage_changed_at	timestamptz NOT NULL,
	is_open				boolean NOT NULL,
	archived			boolean NOT NULL DEFAULT false
);
CREATE INDEX ON lc.opps (customer_id);

\ir include/generators.sql

CREATE TABLE lc.ops (op text PRIMARY KEY, n int NOT NULL);
CREATE FUNCTION lc.did(op text, n bigint) RETURNS void LANGUAGE sql AS $$
	INSERT INTO lc.ops VALUES (op, least(n, 1)) ON CONFLICT (op) DO UPDATE SET n = lc.ops.n + EXCLUDED.n
$$;

CREATE FUNCTION lc.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;
-- T, read from the setting (this file's checks use none of crm_grade's functions)
CREATE FUNCTION lc.t() RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT current_setting('crm_grade.as_of')::timestamptz $$;
CREATE FUNCTION lc.tz() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT current_setting('crm_grade.timezone') $$;

CREATE FUNCTION lc.rnd_customer() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT gen.rnd_int(1, 150)::int $$;
CREATE FUNCTION lc.rnd_owner() RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT CASE WHEN random() < 0.06 THEN NULL ELSE (ARRAY['ann', 'bob', 'cy', 'dee'])[gen.rnd_int(1, 4)] END $$;
CREATE FUNCTION lc.rnd_outcome() RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT (ARRAY['reached', 'no_answer', 'intent', 'Intent', 'INTENT', 'lost', 'Lost', 'complaint', 'Complaint',
				 NULL, 'other text'])[gen.rnd_int(1, 11)] $$;
CREATE FUNCTION lc.rnd_channel() RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT (ARRAY['phone', 'email', 'visit', NULL])[gen.rnd_int(1, 4)] $$;

-- a contact time around T: mostly in the last four months, some older, some
-- after T (they count when T reaches them), some exactly on T and on the
-- edges of the 30- and 90-day windows
CREATE FUNCTION lc.rnd_contact_time() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	t timestamptz := lc.t();
	r float8 := random();
BEGIN
	IF r < 0.55 THEN
		RETURN t - random() * interval '120 days';
	ELSIF r < 0.65 THEN
		RETURN t - interval '120 days' - random() * interval '500 days';
	ELSIF r < 0.80 THEN
		RETURN t + random() * interval '30 days';
	ELSIF r < 0.85 THEN
		RETURN t;
	ELSIF r < 0.90 THEN
		RETURN t - interval '2160 hours' + gen.rnd_int(-1, 1) * interval '1 microsecond';
	ELSIF r < 0.95 THEN
		RETURN t - interval '720 hours' + gen.rnd_int(-1, 1) * interval '1 microsecond';
	ELSE
		RETURN gen.rnd_time();
	END IF;
END $$;

-- a promised next action for a contact at t, as local time: none, passed,
-- a few days later, or on a bound of the working day (09:00, Monday 12:00,
-- Friday 12:00, 18:00, or a microsecond either side)
CREATE FUNCTION lc.rnd_promise(t timestamptz) RETURNS timestamp LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
	l timestamp := t AT TIME ZONE lc.tz();
BEGIN
	IF r < 0.45 THEN
		RETURN NULL;
	ELSIF r < 0.60 THEN
		RETURN l - random() * interval '10 days';
	ELSIF r < 0.85 THEN
		RETURN l + random() * interval '25 days';
	ELSE
		RETURN date_trunc('day', l) + gen.rnd_int(0, 9) * interval '1 day'
			 + (ARRAY[interval '09:00', interval '12:00', interval '18:00'])[gen.rnd_int(1, 3)]
			 + gen.rnd_int(-1, 1) * interval '1 microsecond';
	END IF;
END $$;

CREATE FUNCTION lc.rnd_created() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN r < 0.08 THEN NULL
				WHEN r < 0.16 THEN lc.t() + random() * interval '20 days'
				ELSE lc.t() - random() * interval '800 days' END
	  FROM (SELECT random() AS r) x
$$;

-- a local day near T's, for the holiday table
CREATE FUNCTION lc.rnd_day() RETURNS date LANGUAGE sql VOLATILE AS
$$ SELECT (lc.t() AT TIME ZONE lc.tz())::date + gen.rnd_int(-5, 45)::int $$;

-- the id of a random row of a table satisfying cond (NULL when none); called
-- into a variable first, since in a WHERE clause it would run once per row
CREATE FUNCTION lc.any_id(tbl regclass, cond text DEFAULT 'true') RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r bigint;
BEGIN
	EXECUTE format('SELECT id FROM %s WHERE %s ORDER BY random() LIMIT 1', tbl, cond) INTO r;
	RETURN r;
END $$;
CREATE FUNCTION lc.any_holiday() RETURNS date LANGUAGE sql VOLATILE AS
$$ SELECT day FROM crm_grade.holiday ORDER BY random() LIMIT 1 $$;

-- ---------------------------------------------------------------- operations

-- One write to the deals, chosen at random.
CREATE FUNCTION lc.opp_write(c int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	pick bigint;
	n bigint;
BEGIN
	IF r < 0.35 THEN
		-- a deal opened (some dated later, some weeks back: stalled)
		INSERT INTO lc.opps (customer_id, stage, amount, stage_changed_at, is_open)
		VALUES (c, (ARRAY['lead', 'qualified', 'proposal'])[gen.rnd_int(1, 3)],
				CASE WHEN random() < 0.8 THEN round((random() * 50000)::numeric, 2) END,
				lc.t() + (random() * 50 - 40) * interval '1 day', true);
		PERFORM lc.did('deal opened', 1);
	ELSIF r < 0.55 THEN
		-- won or lost: closed now; or reopened
		pick := lc.any_id('lc.opps');
		UPDATE lc.opps SET is_open = NOT is_open, stage = CASE WHEN is_open THEN 'closed' ELSE 'lead' END,
						   stage_changed_at = lc.t() - random() * interval '2 days'
		 WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM lc.did('deal closed or reopened', n);
	ELSIF r < 0.70 THEN
		pick := lc.any_id('lc.opps', 'is_open');
		UPDATE lc.opps SET stage = 'proposal', stage_changed_at = lc.t() - random() * interval '20 days' WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM lc.did('deal moved on', n);
	ELSIF r < 0.80 THEN
		pick := lc.any_id('lc.opps');
		UPDATE lc.opps SET archived = NOT archived WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM lc.did('deal archived or restored', n);
	ELSIF r < 0.90 THEN
		pick := lc.any_id('lc.opps');
		UPDATE lc.opps SET customer_id = c WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM lc.did('deal moved to another customer', n);
	ELSE
		pick := lc.any_id('lc.opps');
		DELETE FROM lc.opps WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM lc.did('deal deleted', n);
	END IF;
END $$;

CREATE FUNCTION lc.run(nops int, ticks boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r float8;
	c int;
	pick bigint;
	d date;
	t timestamptz;
	n bigint;
BEGIN
	FOR i IN 1 .. nops LOOP
		r := random();
		c := lc.rnd_customer();
		IF random() < 0.12 THEN
			PERFORM lc.opp_write(c);
			CONTINUE;
		END IF;
		IF r < 0.17 THEN
			t := lc.rnd_contact_time();
			INSERT INTO lc.contacts (customer_id, contacted_at, channel, outcome, next_action_at)
			VALUES (c, t, lc.rnd_channel(), lc.rnd_outcome(), lc.rnd_promise(t));
			PERFORM lc.did('contact', 1);
		ELSIF r < 0.22 THEN
			-- a COPY-like load: several customers' contacts in one statement
			INSERT INTO lc.contacts (customer_id, contacted_at, channel, outcome, next_action_at)
			SELECT x.c, x.t, lc.rnd_channel(), lc.rnd_outcome(), lc.rnd_promise(x.t)
			  FROM (SELECT cs.c, lc.rnd_contact_time() AS t
					  FROM (SELECT lc.rnd_customer() AS c FROM generate_series(1, gen.rnd_int(2, 8))) cs,
						   LATERAL generate_series(1, gen.rnd_int(1, 3) + 0 * cs.c) g) x;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contacts loaded', n);
		ELSIF r < 0.27 THEN
			pick := lc.any_id('lc.contacts');
			UPDATE lc.contacts SET outcome = lc.rnd_outcome() WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact outcome', n);
		ELSIF r < 0.31 THEN
			pick := lc.any_id('lc.contacts');
			t := lc.rnd_contact_time();
			UPDATE lc.contacts SET contacted_at = t WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact time', n);
		ELSIF r < 0.35 THEN
			pick := lc.any_id('lc.contacts');
			UPDATE lc.contacts SET next_action_at = lc.rnd_promise(contacted_at) WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact promise', n);
		ELSIF r < 0.38 THEN
			pick := lc.any_id('lc.contacts');
			DELETE FROM lc.contacts WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact delete', n);
		ELSIF r < 0.42 THEN
			pick := lc.any_id('lc.contacts');
			UPDATE lc.contacts SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact soft delete or restore', n);
		ELSIF r < 0.45 THEN
			pick := lc.any_id('lc.contacts');
			UPDATE lc.contacts SET customer_id = c WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact moved', n);
		ELSIF r < 0.47 THEN
			-- one statement over all of a customer's contacts
			UPDATE lc.contacts SET outcome = lc.rnd_outcome(), next_action_at = lc.rnd_promise(contacted_at)
			 WHERE customer_id = c;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contacts of a customer', n);
		ELSIF r < 0.49 THEN
			-- a customer with orders lost (or complaining) just now
			pick := lc.any_id('lc.orders', format('ordered_at <= %L', lc.t()));
			INSERT INTO lc.contacts (customer_id, contacted_at, channel, outcome, next_action_at)
			SELECT o.customer_id, lc.t() - random() * interval '5 days', 'phone',
				   (ARRAY['lost', 'Lost', 'complaint', 'INTENT'])[gen.rnd_int(1, 4)], NULL
			  FROM lc.orders o WHERE o.id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('contact after orders', n);
		ELSIF r < 0.61 THEN
			INSERT INTO lc.orders (customer_id, amount, ordered_at) VALUES (c, gen.rnd_amount(), gen.rnd_time());
			PERFORM lc.did('order', 1);
		ELSIF r < 0.64 THEN
			-- a refund of an existing order, a little later
			pick := lc.any_id('lc.orders', 'amount > 0');
			INSERT INTO lc.orders (customer_id, amount, ordered_at)
			SELECT customer_id, -least(amount, 5000), ordered_at + random() * interval '20 days'
			  FROM lc.orders WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('refund', n);
		ELSIF r < 0.67 THEN
			INSERT INTO lc.orders (customer_id, amount, ordered_at)
			SELECT x.c, gen.rnd_amount(), gen.rnd_time()
			  FROM (SELECT lc.rnd_customer() AS c FROM generate_series(1, gen.rnd_int(2, 8))) x;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('orders loaded', n);
		ELSIF r < 0.71 THEN
			pick := lc.any_id('lc.orders');
			DELETE FROM lc.orders WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('order delete', n);
		ELSIF r < 0.76 THEN
			INSERT INTO lc.customers (id, rep, created_at)
			VALUES (c, lc.rnd_owner(), lc.rnd_created())
			ON CONFLICT (id) DO UPDATE SET rep = EXCLUDED.rep;
			PERFORM lc.did('master upsert', 1);
		ELSIF r < 0.80 THEN
			pick := lc.any_id('lc.customers');
			UPDATE lc.customers SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('master soft delete or restore', n);
		ELSIF r < 0.82 THEN
			pick := lc.any_id('lc.customers');
			UPDATE lc.customers SET created_at = lc.rnd_created() WHERE id = pick;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('master created_at', n);
		ELSIF r < 0.85 THEN
			d := lc.rnd_day();
			INSERT INTO crm_grade.holiday (day, name) VALUES (d, 'lc') ON CONFLICT (day) DO NOTHING;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('holiday', n);
		ELSIF r < 0.86 THEN
			-- a run of days off (a bridge around a weekend)
			d := lc.rnd_day();
			INSERT INTO crm_grade.holiday (day, name)
			SELECT d + k, 'lc run' FROM generate_series(0, gen.rnd_int(1, 4)::int) k
			ON CONFLICT (day) DO NOTHING;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('holidays', n);
		ELSIF r < 0.885 THEN
			d := lc.any_holiday();
			DELETE FROM crm_grade.holiday WHERE day = d;
			GET DIAGNOSTICS n = ROW_COUNT;
			PERFORM lc.did('holiday delete', n);
		ELSIF r < 0.89 THEN
			d := lc.any_holiday();
			IF NOT EXISTS (SELECT 1 FROM crm_grade.holiday WHERE day = d + 1) THEN
				UPDATE crm_grade.holiday SET day = day + 1 WHERE day = d;
				GET DIAGNOSTICS n = ROW_COUNT;
				PERFORM lc.did('holiday moved', n);
			END IF;
		ELSIF r < 0.895 THEN
			-- a holiday and a contact rolled back together (a subtransaction):
			-- this session's calendar must not keep the holiday, so a contact
			-- promising that day is due on it
			d := lc.rnd_day();
			IF NOT EXISTS (SELECT 1 FROM crm_grade.holiday WHERE day = d) AND extract(isodow FROM d) < 5 THEN
				BEGIN
					INSERT INTO crm_grade.holiday (day, name) VALUES (d, 'lc undone');
					INSERT INTO lc.contacts (customer_id, contacted_at, outcome) VALUES (c, lc.t(), 'reached');
					RAISE EXCEPTION 'undo';
				EXCEPTION WHEN raise_exception THEN
					PERFORM lc.did('holiday rolled back', 1);
				END;
				INSERT INTO lc.contacts (customer_id, contacted_at, channel, outcome, next_action_at)
				VALUES (c, lc.t() - interval '1 hour', 'phone', 'reached', d + time '10:00');
				PERFORM lc.did('contact promised on an undone holiday', 1);
			END IF;
		ELSIF r < 0.897 THEN
			TRUNCATE crm_grade.holiday;
			PERFORM lc.did('holidays truncated', 1);
		ELSIF ticks AND r < 0.91 THEN
			-- time passes without regrade(): writers meet expired states
			PERFORM lc.set_as_of(lc.t() + random() * interval '8 hours');
		END IF;
	END LOOP;
END $$;

-- ---------------------------------------------------------------- checks

CREATE TEMP TABLE lc_verify (customer text, field text, stored text, recomputed text);

CREATE FUNCTION lc.diag_rows(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	SELECT string_agg(format('  %s %s: stored %s, recomputed %s', v.customer, v.field, v.stored, v.recomputed),
					  E'\n' ORDER BY v.customer, v.field)
	  INTO d
	  FROM (SELECT * FROM lc_verify ORDER BY customer, field LIMIT 15) v;
	IF d IS NOT NULL THEN
		RETURN NEXT diag(label || ' at as_of ' || lc.t() || ':' || E'\n' || d);
	END IF;
END $$;

-- a test on a list of offending customers: empty passes, else the first few
CREATE FUNCTION lc.none(bad text[], label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	RETURN NEXT is(coalesce(cardinality(bad), 0), 0, label);
	IF cardinality(bad) > 0 THEN
		RETURN NEXT diag(array_to_string(bad[1:10], E'\n'));
	END IF;
END $$;

-- A grade's rank in the active rules policy: the first rule first, the
-- default last.
CREATE FUNCTION lc.grade_rank(g text) RETURNS int LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT x.i FROM crm_grade.policy p,
						   jsonb_array_elements(p.definition -> 'grades') WITH ORDINALITY x(e, i)
					  WHERE p.name = coalesce((SELECT a.name FROM crm_grade.active_policy a), 'abc')
						AND x.e ->> 'grade' = g)::int, 1000)
$$;
CREATE FUNCTION lc.risk_rank(r text) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE r WHEN 'high' THEN 0 WHEN 'medium' THEN 1 WHEN 'low' THEN 2 END $$;

-- This file's own checks of the stored state, in plain SQL.  7 tests.
CREATE FUNCTION lc.own(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := lc.t();
	tz text := lc.tz();
	eod timestamptz := (((lc.t() AT TIME ZONE lc.tz())::date + 1)::timestamp) AT TIME ZONE lc.tz();
	o text;
	bad text[];
	bad_order text[] := '{}';
	bad_set text[] := '{}';
BEGIN
	-- SPEC 8.5: no follow-up for a churned customer
	RETURN QUERY SELECT * FROM lc.none(ARRAY(
		SELECT s.customer || ' ' || s.next_follow_up_at FROM crm_grade.customer_state s
		 WHERE s.lifecycle = 'churned' AND s.next_follow_up_at IS NOT NULL ORDER BY s.customer),
		label || ': churned customers have no next follow-up');

	-- everyone else seen at or before T has one
	RETURN QUERY SELECT * FROM lc.none(ARRAY(
		SELECT seen.c || ' ' || coalesce(s.lifecycle, 'no state row')
		  FROM (SELECT customer_id::text AS c FROM lc.contacts WHERE deleted_at IS NULL AND contacted_at <= t
				UNION SELECT customer_id::text FROM lc.orders WHERE ordered_at <= t
				UNION SELECT customer_id::text FROM lc.opps WHERE NOT archived AND stage_changed_at <= t
				UNION SELECT id::text FROM lc.customers WHERE deleted_at IS NULL AND created_at <= t) seen
		  LEFT JOIN crm_grade.customer_state s ON s.customer = seen.c
		 WHERE s.customer IS NULL OR (s.lifecycle IS DISTINCT FROM 'churned' AND s.next_follow_up_at IS NULL)
		 ORDER BY seen.c),
		label || ': every customer seen at or before T who is not churned has a next follow-up');

	-- SPEC 8.4: Monday to Friday, not a holiday, 09:00-18:00 local, Monday
	-- from 12:00, Friday until 12:00
	RETURN QUERY SELECT * FROM lc.none(ARRAY(
		SELECT x.customer || ' ' || x.l || ' ' || to_char(x.l, 'Dy')
		  FROM (SELECT s.customer, s.next_follow_up_at AT TIME ZONE tz AS l
				  FROM crm_grade.customer_state s WHERE s.next_follow_up_at IS NOT NULL) x
		 WHERE extract(isodow FROM x.l) > 5
			OR x.l::date IN (SELECT h.day FROM crm_grade.holiday h)
			OR x.l::time < time '09:00' OR x.l::time > time '18:00'
			OR (extract(isodow FROM x.l) = 1 AND x.l::time < time '12:00')
			OR (extract(isodow FROM x.l) = 5 AND x.l::time > time '12:00')
		 ORDER BY x.customer),
		label || ': every follow-up is on a working day, not a holiday, within the day''s hours');

	-- SPEC 8.6: each owner's list (NULL: everyone's), and someone's who owns nobody
	FOREACH o IN ARRAY ARRAY[NULL, 'ann', 'bob', 'cy', 'dee', 'nobody'] LOOP
		IF ARRAY(SELECT f.customer::text COLLATE "C" AS c FROM crm_grade.followups_due(t, o) f ORDER BY c)
		   IS DISTINCT FROM
		   ARRAY(SELECT s.customer COLLATE "C" AS c FROM crm_grade.customer_state s
				  WHERE s.next_follow_up_at < eod
					AND (o IS NULL OR EXISTS (SELECT 1 FROM lc.customers m
											   WHERE m.id::text = s.customer AND m.deleted_at IS NULL AND m.rep = o))
				  ORDER BY c) THEN
			bad_set := bad_set || coalesce(o, 'everyone');
		END IF;
		bad_order := bad_order || ARRAY(
			SELECT coalesce(o, 'everyone') || ': ' || x.customer || ' after ' || x.prev
			  FROM (SELECT f.customer::text AS customer,
						   ROW(lc.grade_rank(f.grade), lc.risk_rank(f.risk), f.next_follow_up_at) AS k,
						   lag(ROW(lc.grade_rank(f.grade), lc.risk_rank(f.risk), f.next_follow_up_at)) OVER (ORDER BY f.i) AS pk,
						   lag(f.customer::text) OVER (ORDER BY f.i) AS prev
					  FROM crm_grade.followups_due(t, o) WITH ORDINALITY f(customer, owner, grade, lifecycle, risk,
							next_follow_up_at, overdue_by, last_contact_at, last_outcome, next_action_at, amount_12m, i)) x
			 WHERE x.k < x.pk);
	END LOOP;
	RETURN QUERY SELECT * FROM lc.none(bad_set,
		label || ': followups_due(T, owner) lists exactly the owner''s customers due before the end of T''s day');
	RETURN QUERY SELECT * FROM lc.none(bad_order,
		label || ': followups_due(T, owner) is in grade rank, then risk, then due order');

	-- SPEC 8.5 and 8.6: overdue
	RETURN QUERY SELECT * FROM lc.none(ARRAY(
		SELECT g.customer || ' ' || g.follow_up_overdue
		  FROM crm_grade.customer_grades g
		 WHERE g.follow_up_overdue IS DISTINCT FROM coalesce(g.next_follow_up_at < t, false)
		UNION ALL
		SELECT f.customer || ' overdue_by ' || f.overdue_by
		  FROM crm_grade.followups_due(t) f
		 WHERE f.overdue_by IS DISTINCT FROM greatest(t - f.next_follow_up_at, interval '0')),
		label || ': follow_up_overdue and overdue_by follow next_follow_up_at and T');

	-- SPEC 6 and 7 from the rows (customers whose latest contact ties with
	-- another of a different outcome are left out)
	RETURN QUERY SELECT * FROM lc.none(ARRAY(
		WITH con AS (
			SELECT customer_id AS c, contacted_at AS at, lower(outcome) AS outcome
			  FROM lc.contacts WHERE deleted_at IS NULL AND contacted_at <= t
		), latest AS (
			SELECT c, max(at) AS at FROM con GROUP BY c
		), last_outcome AS (
			SELECT l.c, l.at, min(con.outcome) AS outcome,
				   count(DISTINCT coalesce(con.outcome, '')) > 1 AS tie
			  FROM latest l JOIN con ON con.c = l.c AND con.at = l.at GROUP BY l.c, l.at
		), ord AS (
			SELECT customer_id AS c, count(*) AS n, min(ordered_at) AS first_at, max(ordered_at) AS last_at
			  FROM lc.orders WHERE ordered_at <= t AND amount >= 0 GROUP BY customer_id
		), cust AS (
			SELECT s.customer, s.lifecycle, s.risk, lo.tie,
				   o.n, floor(extract(epoch FROM t - o.last_at) / 86400) AS since,
				   floor(extract(epoch FROM o.last_at - o.first_at) / 86400) AS span,
				   CASE
					WHEN (lo.outcome = 'lost' AND (o.last_at IS NULL OR lo.at > o.last_at))
						 OR floor(extract(epoch FROM t - o.last_at) / 86400) > current_setting('crm_grade.churned_days')::int
						THEN 'churned'
					WHEN floor(extract(epoch FROM t - o.last_at) / 86400) > current_setting('crm_grade.dormant_days')::int
						THEN 'dormant'
					WHEN o.n > 0 THEN 'active'
					WHEN EXISTS (SELECT 1 FROM con WHERE con.c::text = s.customer AND con.outcome = 'intent'
									AND con.at > t - current_setting('crm_grade.intent_days')::int * interval '24 hours')
						 OR EXISTS (SELECT 1 FROM lc.opps p WHERE p.customer_id::text = s.customer AND p.is_open
									AND NOT p.archived AND p.stage_changed_at <= t)
						THEN 'intent'
					ELSE 'prospect'
				   END AS stage,
				   EXISTS (SELECT 1 FROM con WHERE con.c::text = s.customer AND con.outcome = 'complaint'
							  AND con.at > t - interval '720 hours') AS complained
			  FROM crm_grade.customer_state s
			  LEFT JOIN last_outcome lo ON lo.c::text = s.customer
			  LEFT JOIN ord o ON o.c::text = s.customer
		)
		SELECT x.customer || ': stored ' || x.lifecycle || '/' || x.risk || ', expected ' || x.stage || '/' || x.expected_risk
		  FROM (SELECT cust.*,
					   -- since > k * span / (n - 1), in whole numbers
					   CASE WHEN stage IN ('dormant', 'churned') OR complained OR (n >= 2 AND since * (n - 1) > 2 * span) THEN 'high'
							WHEN n >= 2 AND 2 * since * (n - 1) > 3 * span THEN 'medium'
							ELSE 'low' END AS expected_risk
				  FROM cust WHERE NOT coalesce(tie, false)) x
		 WHERE x.lifecycle IS DISTINCT FROM x.stage OR x.risk IS DISTINCT FROM x.expected_risk
		 ORDER BY x.customer),
		label || ': lifecycle and risk are what the rows say (outcomes in any case)');
END $$;

-- What the checks had to look at, over all phases: every stage and risk,
-- follow-ups moved by the calendar (past a holiday too), promises that
-- won, work lists that were not empty.
CREATE TABLE lc.seen (what text PRIMARY KEY, n bigint NOT NULL);
-- (PL/pgSQL: followups_due() is created by the first attach)
CREATE FUNCTION lc.note_seen() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO lc.seen
	SELECT x.what, x.n FROM (
		SELECT 'stage ' || s.lifecycle AS what, count(*) AS n FROM crm_grade.customer_state s GROUP BY s.lifecycle
		UNION ALL
		SELECT 'risk ' || s.risk, count(*) FROM crm_grade.customer_state s GROUP BY s.risk
		UNION ALL
		SELECT 'moved by the calendar', count(*) FROM crm_grade.customer_state s
		 WHERE s.next_follow_up_at > s.follow_up_due
		UNION ALL
		SELECT 'moved past a holiday', count(*) FROM crm_grade.customer_state s
		 WHERE EXISTS (SELECT 1 FROM crm_grade.holiday h
						WHERE h.day BETWEEN (s.follow_up_due AT TIME ZONE lc.tz())::date
										AND (s.next_follow_up_at AT TIME ZONE lc.tz())::date)
		UNION ALL
		SELECT 'a promise won', count(*) FROM crm_grade.customer_state s WHERE s.follow_up_due = s.next_action_at
		UNION ALL
		SELECT 'overdue', count(*) FROM crm_grade.customer_state s WHERE s.next_follow_up_at < lc.t()
		UNION ALL
		SELECT 'due later', count(*) FROM crm_grade.customer_state s WHERE s.next_follow_up_at > lc.t()
		UNION ALL
		SELECT 'listed for ' || coalesce(f.owner, 'nobody'), count(*) FROM crm_grade.followups_due(lc.t()) f GROUP BY f.owner
	) x
	ON CONFLICT (what) DO UPDATE SET n = lc.seen.n + EXCLUDED.n;
END $$;

-- verify() and the own checks after a full refresh.  8 tests.
CREATE FUNCTION lc.check(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM lc.note_seen();
	TRUNCATE lc_verify;
	INSERT INTO lc_verify SELECT * FROM crm_grade.verify();
	RETURN NEXT is((SELECT count(*) FROM lc_verify), 0::bigint, label || ': verify() is empty');
	RETURN QUERY SELECT * FROM lc.diag_rows(label);
	RETURN QUERY SELECT * FROM lc.own(label);
END $$;

-- A phase: random writes, as_of moved on (by an interval, or to a given
-- moment), the early check, regrade() in batches, the full check.  11 tests.
CREATE FUNCTION lc.phase(label text, nops int, jump interval, target timestamptz DEFAULT NULL)
	RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	expired bigint;
	n bigint := 0;
	batch int;
	done bigint;
BEGIN
	PERFORM lc.run(nops, target IS NULL);
	IF target IS NOT NULL AND target <= lc.t() THEN
		RAISE EXCEPTION 'phase %: target % is not after as_of %', label, target, lc.t();
	END IF;
	PERFORM lc.set_as_of(coalesce(target, lc.t() + jump));
	t := lc.t();
	TRUNCATE lc_verify;
	INSERT INTO lc_verify
	SELECT v.* FROM crm_grade.verify() v
	  JOIN crm_grade.customer_state s ON s.customer = v.customer
	 WHERE (s.valid_until IS NULL OR s.valid_until > t) AND s.graded_at <= t;
	RETURN NEXT is((SELECT count(*) FROM lc_verify), 0::bigint,
				   label || ': unexpired rows already agree with verify() before regrade()');
	RETURN QUERY SELECT * FROM lc.diag_rows(label || ' (before regrade)');
	expired := (SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= t);
	LOOP
		batch := gen.rnd_int(1, 40);
		done := crm_grade.regrade(batch);
		n := n + done;
		EXIT WHEN done < batch;
	END LOOP;
	RETURN NEXT is(n, expired, label || ': regrade(max_customers) batches re-evaluate exactly the expired rows');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= t),
				   0::bigint, label || ': no state row left expired');
	RETURN QUERY SELECT * FROM lc.check(label);
END $$;

-- ---------------------------------------------------------------- attach

-- rows before attaching: back-fill reads them through the filters
SELECT lc.run(200, false);
SELECT ok(crm_grade.attach_customers('lc.customers', 'id', owner_column => 'rep', created_at_column => 'created_at',
									 filter => 'deleted_at IS NULL') > 0, 'attach the master with a filter');
SELECT ok(crm_grade.attach_orders('lc.orders', 'customer_id', 'amount', 'ordered_at') > 0, 'attach the orders');
SELECT ok(crm_grade.attach_contacts('lc.contacts', 'customer_id', 'contacted_at', 'channel', 'outcome', 'next_action_at',
									filter => 'deleted_at IS NULL') > 0, 'attach the contacts with a filter');
SELECT ok(crm_grade.attach_opportunities('lc.opps', 'customer_id', 'stage', 'amount', 'stage_changed_at', 'is_open',
										 filter => 'NOT archived') > 0, 'attach the deals with a filter');
SELECT * FROM lc.check('after attach');

-- promises in the hour skipped in spring and the hour repeated in autumn
INSERT INTO lc.contacts (customer_id, contacted_at, outcome, next_action_at) VALUES
	(7, '2026-03-19 09:00+01', 'reached', '2026-03-29 02:30'),
	(8, '2026-03-19 09:10+01', 'Intent', '2026-03-29 02:30'),
	(9, '2026-03-19 09:20+01', 'reached', '2026-10-25 02:30');
SELECT is(ARRAY(SELECT s.next_action_at FROM crm_grade.customer_state s WHERE s.customer IN ('7', '8', '9') ORDER BY s.customer),
		  ARRAY[timestamp '2026-03-29 02:30' AT TIME ZONE 'Europe/Berlin', timestamp '2026-03-29 02:30' AT TIME ZONE 'Europe/Berlin',
				timestamp '2026-10-25 02:30' AT TIME ZONE 'Europe/Berlin'],
		  'promises in the skipped and the repeated hour are read as PostgreSQL reads the local time');

-- ---------------------------------------------------------------- phases

SELECT * FROM lc.phase('to Friday afternoon', 300, NULL, '2026-03-20 15:00+01');
SELECT * FROM lc.phase('across the spring DST change, to Sunday 03:30 CEST', 300, NULL, '2026-03-29 03:30+02');
SELECT * FROM lc.phase('+1 week 2 days 5 hours', 300, interval '1 week 2 days 5 hours');
SELECT * FROM lc.phase('to Saturday', 300, NULL, '2026-04-18 11:00+02');

-- the lifecycle thresholds changed (a superuser's settings), then regrade_all()
SELECT set_config('crm_grade.dormant_days', '60', true), set_config('crm_grade.churned_days', '150', true),
	   set_config('crm_grade.intent_days', '14', true);
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after changing the thresholds');
SELECT * FROM lc.check('thresholds 60/150/14');
SELECT * FROM lc.phase('thresholds 60/150/14, +3 weeks', 300, interval '3 weeks');
SELECT set_config('crm_grade.dormant_days', '180', true), set_config('crm_grade.churned_days', '365', true),
	   set_config('crm_grade.intent_days', '90', true);
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after restoring the thresholds');
SELECT * FROM lc.check('thresholds 180/365/90 again');

SELECT * FROM lc.phase('+2 months', 300, interval '2 months');
SELECT * FROM lc.phase('to Friday afternoon before the autumn DST change', 300, NULL, '2026-10-23 16:45+02');
SELECT * FROM lc.phase('to 02:30 CEST, the first pass of the repeated hour', 150, NULL, '2026-10-25 02:30+02');
SELECT * FROM lc.phase('to 02:15 CET, the second pass', 150, NULL, '2026-10-25 02:15+01');
SELECT * FROM lc.phase('to Monday 11:59 CET', 300, NULL, '2026-10-26 11:59+01');
SELECT * FROM lc.phase('+5 weeks', 300, interval '5 weeks');
SELECT * FROM lc.phase('+13 months, across both changes of 2027', 300, interval '13 months');
SELECT * FROM lc.phase('to Friday 12:00', 300, NULL, '2028-01-14 12:00+01');

-- ---------------------------------------------------------------- coverage

SELECT is((SELECT array_agg(x.op ORDER BY x.op)
			 FROM unnest(ARRAY['contact', 'contacts loaded', 'contact outcome', 'contact time', 'contact promise',
							   'contact delete', 'contact soft delete or restore', 'contact moved',
							   'contacts of a customer', 'contact after orders', 'order', 'refund', 'orders loaded',
							   'order delete', 'master upsert', 'master soft delete or restore', 'master created_at',
							   'holiday', 'holidays', 'holiday delete', 'holiday moved', 'holiday rolled back',
							   'contact promised on an undone holiday', 'holidays truncated', 'deal opened',
							   'deal closed or reopened', 'deal moved on', 'deal archived or restored',
							   'deal moved to another customer', 'deal deleted']) x(op)
			 LEFT JOIN lc.ops o USING (op)
			WHERE coalesce(o.n, 0) < 1),
		  NULL, 'every kind of write ran and changed something');
SELECT cmp_ok((SELECT sum(n) FROM lc.ops), '>', 3000::bigint, 'thousands of writes');
SELECT is((SELECT array_agg(x.r ORDER BY x.r)
			 FROM unnest(ARRAY['first_order', 'reactivated', 'no_order_180d', 'no_order_365d', 'contact_intent',
							   'contact_lost', 'contact_complaint', 'order_overdue', 'opportunity_opened']) x(r)
			WHERE NOT EXISTS (SELECT 1 FROM crm_grade.history h WHERE h.reason = x.r)),
		  NULL, 'every lifecycle and risk reason occurred');
SELECT is((SELECT array_agg(x.what ORDER BY x.what)
			 FROM unnest(ARRAY['stage prospect', 'stage intent', 'stage active', 'stage dormant', 'stage churned',
							   'risk low', 'risk medium', 'risk high', 'moved by the calendar',
							   'moved past a holiday', 'a promise won', 'overdue', 'due later',
							   'listed for ann', 'listed for bob', 'listed for cy', 'listed for dee',
							   'listed for nobody']) x(what)
			 LEFT JOIN lc.seen USING (what)
			WHERE coalesce(lc.seen.n, 0) < 1),
		  NULL, 'the checks saw every stage and risk, calendar moves, kept promises and every owner''s list');

-- stalled_opportunities, against the deals themselves
SELECT set_eq($$SELECT customer::text, stage, stage_changed_at FROM crm_grade.stalled_opportunities$$,
			  $$SELECT customer_id::text, stage, stage_changed_at FROM lc.opps
				 WHERE is_open AND NOT archived
				   AND floor(extract(epoch FROM crm_grade.as_of() - stage_changed_at) / 86400) > 14$$,
			  'stalled_opportunities lists exactly the open deals unchanged for more than 14 days');

SELECT * FROM finish();
ROLLBACK;
