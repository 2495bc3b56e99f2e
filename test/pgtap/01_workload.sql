-- Generated workload: thousands of random writes against an attached order
-- table and customer master, with crm_grade.as_of moving forward (days,
-- months, more than a year) and backward, under the abc, four_class and
-- value_tier policies and, in one phase, a non-UTC crm_grade.timezone.
--
-- After every phase the stored state must agree with verify()'s plain-SQL
-- recomputation.  Before each regrade() the rows whose valid_until has not
-- passed must already agree (valid_until is not too late); after it no
-- expired row may be left.  Deterministic: setseed() and explicit as_of.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(133);

-- a regrade() that never returns must fail the file, not hang the suite
SET LOCAL statement_timeout = '60s';
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.timezone = 'UTC';
SET LOCAL crm_grade.as_of = '2024-01-15 12:00:00+00';
DO $$ BEGIN PERFORM setseed(0.4242); END $$;

CREATE SCHEMA wl;
CREATE TABLE wl.customers (
	id		integer PRIMARY KEY,
	rep		text,
	since	timestamptz,
	attrs	jsonb
);
CREATE TABLE wl.orders (
	id			bigserial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(14,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamp,			-- local time in crm_grade.timezone
	note		text
);
CREATE INDEX ON wl.orders (customer_id);

-- ---------------------------------------------------------------- generators

\ir include/generators.sql

-- the payment column is a local timestamp (without time zone)
CREATE FUNCTION wl.rnd_paid(t timestamptz) RETURNS timestamp LANGUAGE sql VOLATILE AS
$$ SELECT gen.rnd_paid(t) AT TIME ZONE current_setting('crm_grade.timezone') $$;

CREATE FUNCTION wl.rnd_customer() RETURNS int LANGUAGE sql VOLATILE AS
$$ SELECT gen.rnd_int(1, 240) $$;

CREATE FUNCTION wl.rnd_attrs() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF random() < 0.15 THEN
		RETURN NULL;
	END IF;
	RETURN jsonb_build_object('customization', gen.rnd_int(0, 100), 'service_level', gen.rnd_int(0, 100),
							  'industry_outlook', gen.rnd_int(0, 100), 'note', 'x' || gen.rnd_int(1, 9));
END $$;

-- the id of a random row of wl.orders or wl.customers (NULL when empty)
CREATE FUNCTION wl.some_id(tbl regclass) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	n bigint;
	id bigint;
BEGIN
	EXECUTE format('SELECT count(*) FROM %s', tbl) INTO n;
	EXECUTE format('SELECT id FROM %s ORDER BY id OFFSET $1 LIMIT 1', tbl) INTO id USING floor(random() * n)::bigint;
	RETURN id;
END $$;
CREATE FUNCTION wl.some_order() RETURNS bigint LANGUAGE sql VOLATILE AS $$ SELECT wl.some_id('wl.orders') $$;
CREATE FUNCTION wl.some_master() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT wl.some_id('wl.customers')::int $$;

CREATE FUNCTION wl.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;

-- n orders (and a few refunds) of random customers placed in [t1, t2]
CREATE FUNCTION wl.orders_between(t1 timestamptz, t2 timestamptz, n int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
	SELECT wl.rnd_customer(), gen.rnd_amount(), x.t, wl.rnd_paid(x.t)
	  FROM (SELECT t1 + random() * (t2 - t1) AS t FROM generate_series(1, n)) x;
	SELECT NULL::void
$$;

-- ---------------------------------------------------------------- operations

CREATE FUNCTION wl.run(nops int, ticks boolean DEFAULT true) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r float8;
	k int;
	a int;
	b int;
	o bigint;
	t timestamptz;
BEGIN
	FOR i IN 1 .. nops LOOP
		r := random();
		IF r < 0.20 THEN
			-- single-row insert
			t := gen.rnd_time();
			INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
			VALUES (wl.rnd_customer(), gen.rnd_amount(), t, wl.rnd_paid(t));
		ELSIF r < 0.30 THEN
			-- multi-row INSERT ... SELECT for a random set of customers
			k := gen.rnd_int(2, 8);
			INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
			SELECT c, gen.rnd_amount(), x.t, wl.rnd_paid(x.t)
			  FROM (SELECT cs.c, gen.rnd_time() AS t
					  FROM (SELECT wl.rnd_customer() AS c FROM generate_series(1, k)) cs,
						   LATERAL generate_series(1, gen.rnd_int(1, 4) + 0 * cs.c) g) x;
		ELSIF r < 0.35 THEN
			o := wl.some_order();
			UPDATE wl.orders SET amount = gen.rnd_amount() WHERE id = o;
		ELSIF r < 0.40 THEN
			o := wl.some_order();
			t := gen.rnd_time();
			UPDATE wl.orders SET ordered_at = t WHERE id = o;
		ELSIF r < 0.44 THEN
			o := wl.some_order();
			a := wl.rnd_customer();
			UPDATE wl.orders SET customer_id = a WHERE id = o;
		ELSIF r < 0.47 THEN
			o := wl.some_order();
			t := gen.rnd_time();
			UPDATE wl.orders SET paid_at = wl.rnd_paid(t) WHERE id = o;
		ELSIF r < 0.52 THEN
			-- multi-row updates
			a := wl.rnd_customer();
			b := wl.rnd_customer();
			k := gen.rnd_int(1, 5);
			CASE k
				WHEN 1 THEN UPDATE wl.orders SET customer_id = b WHERE customer_id = a;
				WHEN 2 THEN UPDATE wl.orders SET ordered_at = ordered_at + gen.rnd_int(-40, 40) * interval '1 day'
							 WHERE customer_id IN (a, b);
				WHEN 3 THEN UPDATE wl.orders SET amount = round(amount * 1.1, 2) WHERE id % 37 = a % 37;
				WHEN 4 THEN UPDATE wl.orders SET customer_id = CASE WHEN customer_id = a THEN b ELSE a END
							 WHERE customer_id IN (a, b);
				ELSE UPDATE wl.orders SET paid_at = NULL WHERE customer_id = a AND paid_at IS NOT NULL;
			END CASE;
		ELSIF r < 0.54 THEN
			-- updates that change nothing crm_grade reads
			a := wl.rnd_customer();
			UPDATE wl.orders SET note = 'n' || i WHERE customer_id = a;
			UPDATE wl.orders SET amount = amount WHERE customer_id = a + 1;
		ELSIF r < 0.61 THEN
			o := wl.some_order();
			DELETE FROM wl.orders WHERE id = o;
		ELSIF r < 0.64 THEN
			a := wl.rnd_customer();
			IF random() < 0.5 THEN
				DELETE FROM wl.orders WHERE customer_id = a;
			ELSE
				DELETE FROM wl.orders WHERE id % 53 = a % 53 AND customer_id BETWEEN a AND a + 20;
			END IF;
		ELSIF r < 0.67 THEN
			-- refund of an existing order, a little later
			o := wl.some_order();
			INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
			SELECT customer_id, -abs(amount), ordered_at + random() * interval '20 days', NULL
			  FROM wl.orders WHERE id = o;
		ELSIF r < 0.70 THEN
			-- future-dated orders
			t := crm_grade.as_of() + random() * interval '45 days';
			INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
			VALUES (wl.rnd_customer(), gen.rnd_amount(), t, NULL);
		ELSIF r < 0.73 THEN
			-- orders from before the 12-month window
			t := crm_grade.as_of() - interval '13 months' - random() * interval '700 days';
			INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
			VALUES (wl.rnd_customer(), gen.rnd_amount(), t, wl.rnd_paid(t));
		ELSIF r < 0.76 THEN
			-- customer master: a new customer, with or without orders already
			a := gen.rnd_int(1, 260);
			INSERT INTO wl.customers (id, rep, since, attrs)
			VALUES (a, 'rep' || gen.rnd_int(1, 6), crm_grade.as_of() - random() * interval '800 days', wl.rnd_attrs())
			ON CONFLICT (id) DO NOTHING;
		ELSIF r < 0.81 THEN
			a := wl.some_master();
			UPDATE wl.customers SET rep = CASE WHEN random() < 0.1 THEN NULL ELSE 'rep' || gen.rnd_int(1, 6) END
			 WHERE id = a;
		ELSIF r < 0.84 THEN
			a := wl.some_master();
			UPDATE wl.customers SET attrs = wl.rnd_attrs() WHERE id = a;
		ELSIF r < 0.85 THEN
			-- a customer's key changes
			a := wl.some_master();
			b := gen.rnd_int(1, 260);
			IF NOT EXISTS (SELECT 1 FROM wl.customers WHERE id = b) THEN
				UPDATE wl.customers SET id = b WHERE id = a;
			END IF;
		ELSIF r < 0.87 THEN
			a := wl.some_master();
			DELETE FROM wl.customers WHERE id = a;
		ELSIF r < 0.88 THEN
			a := wl.some_master();
			UPDATE wl.customers SET since = since - interval '3 days' WHERE id = a;
		ELSIF r < 0.90 THEN
			-- multi-row master updates
			a := gen.rnd_int(1, 6);
			b := gen.rnd_int(1, 6);
			UPDATE wl.customers SET rep = 'rep' || b WHERE rep = 'rep' || a;
		ELSIF r < 0.92 THEN
			a := gen.rnd_int(1, 260);
			UPDATE wl.customers SET attrs = coalesce(attrs, '{}') || jsonb_build_object('expansion', i)
			 WHERE id BETWEEN a AND a + 10;
		ELSIF ticks THEN
			-- time passes without regrade(): writers meet expired states
			PERFORM wl.set_as_of(crm_grade.as_of() + random() * interval '3 days');
		END IF;
	END LOOP;
END $$;

-- ---------------------------------------------------------------- checks

-- verify() once per check, kept for the diagnostics
CREATE TEMP TABLE wl_verify (customer text, field text, stored text, recomputed text);

CREATE FUNCTION wl.diag_rows(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	SELECT string_agg(format('  %s %s: stored %s, recomputed %s', v.customer, v.field, v.stored, v.recomputed),
					  E'\n' ORDER BY v.customer, v.field)
	  INTO d
	  FROM (SELECT * FROM wl_verify ORDER BY customer, field LIMIT 15) v;
	IF d IS NOT NULL THEN
		RETURN NEXT diag(label || ' at as_of ' || crm_grade.as_of() || ' (tz ' ||
						 current_setting('crm_grade.timezone') || '):' || E'\n' || d);
	END IF;
END $$;

-- Before regrade(): rows whose valid_until has not passed must already be
-- what a recomputation at as_of gives.  1 test.
CREATE FUNCTION wl.early(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := crm_grade.as_of();
BEGIN
	TRUNCATE wl_verify;
	INSERT INTO wl_verify
	SELECT v.* FROM crm_grade.verify() v
	  JOIN crm_grade.customer_state s ON s.customer = v.customer
	 WHERE (s.valid_until IS NULL OR s.valid_until > t) AND s.graded_at <= t;
	RETURN NEXT is((SELECT count(*) FROM wl_verify), 0::bigint,
				   label || ': unexpired rows already agree with verify() before regrade()');
	RETURN QUERY SELECT * FROM wl.diag_rows(label);
END $$;

-- After regrade() (or any full refresh).  4 tests.
CREATE FUNCTION wl.check(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE wl_verify;
	INSERT INTO wl_verify SELECT * FROM crm_grade.verify();
	RETURN NEXT is((SELECT count(*) FROM wl_verify), 0::bigint, label || ': verify() is empty');
	RETURN QUERY SELECT * FROM wl.diag_rows(label);
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= crm_grade.as_of()),
				   0::bigint, label || ': no state row left with valid_until <= as_of');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s
					 WHERE s.graded_at IS NULL OR s.valid_until <= s.graded_at),
				   0::bigint, label || ': valid_until is NULL or after graded_at');
	RETURN NEXT is((SELECT count(*)
					  FROM crm_grade.customer_state s
					  FULL JOIN wl.customers c ON c.id::text = s.customer
					 WHERE s.customer IS NULL
						OR s.in_master IS DISTINCT FROM (c.id IS NOT NULL)
						OR s.attributes IS DISTINCT FROM c.attrs
						OR s.created_at IS DISTINCT FROM c.since),
				   0::bigint, label || ': customer master mirrored (in_master, attributes, created_at)');
END $$;

-- A phase: random writes, a jump of as_of (by an interval, or to a given
-- moment), the early check, regrade(), the full check.  6 tests.
-- max_customers bounds regrade() where a row that stays expired would make it
-- loop for ever.
CREATE FUNCTION wl.phase(label text, nops int, jump interval, target timestamptz DEFAULT NULL,
						 max_customers int DEFAULT NULL, ticks boolean DEFAULT true)
	RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	expired bigint;
	n bigint;
BEGIN
	PERFORM wl.run(nops, ticks);
	PERFORM wl.set_as_of(coalesce(target, crm_grade.as_of() + jump));
	RETURN QUERY SELECT * FROM wl.early(label);
	expired := (SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= crm_grade.as_of());
	n := crm_grade.regrade(max_customers);
	RETURN NEXT is(n, expired, label || ': regrade() re-evaluates exactly the expired rows');
	RETURN QUERY SELECT * FROM wl.check(label);
END $$;

-- ---------------------------------------------------------------- phase 0: back-fill

-- data that exists before the tables are attached
INSERT INTO wl.customers (id, rep, since, attrs)
SELECT i, 'rep' || gen.rnd_int(1, 6), crm_grade.as_of() - random() * interval '900 days', wl.rnd_attrs()
  FROM generate_series(1, 150) i;
INSERT INTO wl.orders (customer_id, amount, ordered_at, paid_at)
SELECT x.c, gen.rnd_amount(), x.t, wl.rnd_paid(x.t)
  FROM (SELECT wl.rnd_customer() AS c, gen.rnd_time() AS t FROM generate_series(1, 2500)) x;

SELECT ok(crm_grade.attach_customers('wl.customers', 'id', 'rep', 'since', 'attrs') >= 150,
		  'attach_customers back-fills the master');
SELECT ok(crm_grade.attach_orders('wl.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at') > 150,
		  'attach_orders back-fills the orders');
SELECT * FROM wl.check('back-fill');

-- ---------------------------------------------------------------- abc, UTC

SELECT * FROM wl.phase('abc 1 (+3 days)', 350, interval '3 days');
SELECT * FROM wl.phase('abc 2 (+2 months)', 350, interval '2 months');
SELECT * FROM wl.phase('abc 3 (+13 months)', 350, interval '13 months 5 days');
SELECT * FROM wl.phase('abc 4 (+1 hour)', 250, interval '1 hour');

-- ---------------------------------------------------------------- four_class

SELECT ok(crm_grade.use_policy('four_class') >= 0, 'use_policy(four_class)');
SELECT * FROM wl.check('four_class switch');
SELECT * FROM wl.phase('four_class 1 (+10 days)', 350, interval '10 days');
SELECT * FROM wl.phase('four_class 2 (+1 month)', 300, interval '1 month');

-- a year of month-by-month steps with a few writes: tenure_days and
-- repurchase_rate move customers between classes with time alone
CREATE FUNCTION wl.months(label text, steps int) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	bad bigint := 0;
	first_bad text;
	expired bigint;
	n bigint;
BEGIN
	FOR s IN 1 .. steps LOOP
		PERFORM wl.run(20);
		PERFORM wl.set_as_of(crm_grade.as_of() + interval '1 month' + gen.rnd_int(0, 100) * interval '1 hour');
		expired := (SELECT count(*) FROM crm_grade.customer_state x WHERE x.valid_until <= crm_grade.as_of());
		n := crm_grade.regrade();
		IF n <> expired OR EXISTS (SELECT 1 FROM crm_grade.verify()) THEN
			bad := bad + 1;
			first_bad := coalesce(first_bad, 'step ' || s || ' at ' || crm_grade.as_of());
		END IF;
	END LOOP;
	RETURN NEXT is(bad, 0::bigint, label || ': regrade() after each monthly step leaves verify() empty');
	IF first_bad IS NOT NULL THEN
		RETURN NEXT diag('first failing ' || first_bad);
	END IF;
END $$;
SELECT * FROM wl.months('four_class monthly', 14);
SELECT * FROM wl.check('four_class after monthly steps');
SELECT ok((SELECT count(*) FROM crm_grade.history h
			WHERE h.reason = 'regrade' AND h.old_grade IS DISTINCT FROM h.new_grade) > 0,
		  'regrade() changed some grades with time alone (the workload exercises time-driven changes)');

-- ---------------------------------------------------------------- as_of backward

-- Moving crm_grade.as_of back before graded_at is a re-basing of time, not
-- time passing: regrade() only follows time forward (valid_until), and the
-- documented step is regrade_all().  Writers meanwhile re-evaluate each
-- customer they touch that was graded after as_of.
DO $$ BEGIN PERFORM wl.set_as_of(crm_grade.as_of() - interval '5 months'); END $$;
SELECT ok((SELECT count(*) FROM crm_grade.verify()) > 0,
		  'after moving as_of back 5 months, states graded later disagree until regrade_all()');
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after moving back');
SELECT * FROM wl.check('after as_of moved back and regrade_all()');
SELECT * FROM wl.phase('four_class after moving back (+2 days)', 300, interval '2 days');

-- ---------------------------------------------------------------- non-UTC time zone

-- Calendar months and the window are in crm_grade.timezone; a change of the
-- setting is a configuration change, followed by regrade_all().  New York has
-- DST: start just before the spring change and tick across it.
SET LOCAL crm_grade.timezone = 'America/New_York';
SET LOCAL crm_grade.as_of = '2026-03-06 20:00:00-05';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after switching to America/New_York');
SELECT * FROM wl.check('America/New_York switch');
-- the start of DST: 2026-03-08 02:00 EST jumps to 03:00 EDT; orders of
-- 2025-03-08 02:00..03:00 EST leave the window at that jump
DO $$ BEGIN PERFORM wl.orders_between('2025-03-08 01:50:00-05', '2025-03-08 03:10:00-05', 60); END $$;
SELECT * FROM wl.phase('America/New_York 0 (to 03:10 EDT just after DST starts)', 100, NULL,
					   '2026-03-08 03:10:00-04', 1000, false);
SELECT * FROM wl.phase('America/New_York 1 (+2 days 7 hours)', 350, interval '2 days 7 hours');
-- the end of DST: 2026-11-01 01:30 EDT, then 01:10 EST forty minutes later;
-- a year before, 2025-11-01 01:10..01:30 was an ordinary local time
DO $$ BEGIN PERFORM wl.orders_between('2025-11-01 01:00:00-04', '2025-11-01 01:40:00-04', 60); END $$;
SELECT * FROM wl.phase('America/New_York 2 (to 01:30 EDT on the day DST ends)', 300, NULL,
					   '2026-11-01 01:30:00-04', 1000);
DO $$ BEGIN PERFORM wl.orders_between('2025-11-01 01:00:00-04', '2025-11-01 01:40:00-04', 60); END $$;
SELECT * FROM wl.phase('America/New_York 3 (40 minutes later, 01:10 EST)', 100, NULL,
					   '2026-11-01 01:10:00-05', 1000, false);
SELECT * FROM wl.months('America/New_York monthly', 4);
SET LOCAL crm_grade.timezone = 'UTC';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after switching back to UTC');
SELECT * FROM wl.check('back to UTC');

-- ---------------------------------------------------------------- leap day

-- The window ending on 29 February 2028 starts on 28 February 2027 at the
-- same time of day, earlier than the window ending on 28 February 2028 later
-- in the day did.
SELECT * FROM wl.phase('UTC (to 2028-02-28 12:00)', 200, NULL, '2028-02-28 12:00:00+00', 1000);
DO $$ BEGIN PERFORM wl.orders_between('2027-02-28 06:00:00+00', '2027-02-28 12:00:00+00', 80); END $$;
SELECT * FROM wl.phase('leap day (to 2028-02-29 09:00)', 100, NULL, '2028-02-29 09:00:00+00', 1000, false);

-- ---------------------------------------------------------------- value_tier, abc again

SELECT ok(crm_grade.use_policy('value_tier') >= 0, 'use_policy(value_tier)');
SELECT * FROM wl.phase('value_tier (+400 days)', 300, interval '400 days');
SELECT ok(crm_grade.use_policy('abc') >= 0, 'use_policy(abc)');
SELECT * FROM wl.phase('abc 5 (+3 years)', 300, interval '3 years');
SELECT * FROM wl.phase('abc 6 (+1 minute)', 200, interval '1 minute');

SELECT cmp_ok((SELECT count(*) FROM wl.orders), '>', 3000::bigint, 'the workload left thousands of orders');

SELECT * FROM finish();
ROLLBACK;
