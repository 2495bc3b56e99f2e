-- Properties of the stored state: bounded work per statement, regrade()
-- touching only expired rows, valid_until after graded_at and early enough,
-- idempotent re-grading, grades equal to the policy applied by hand, the
-- application's key type in the views, and DROP EXTENSION leaving the
-- application's rows alone.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;
SET LOCAL statement_timeout = '60s';
SET LOCAL crm_grade.timezone = 'UTC';
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.as_of = '2025-06-15 12:00:00+00';
DO $$ BEGIN PERFORM setseed(0.31); END $$;

SELECT plan(89);

CREATE SCHEMA pr;
CREATE TABLE pr.customers (id bigint PRIMARY KEY, owner_name text);
CREATE TABLE pr.orders (
	id		bigserial PRIMARY KEY,
	cust	bigint NOT NULL,
	amount	numeric(14,2) NOT NULL,
	at		timestamptz NOT NULL,
	paid	timestamptz,
	memo	text
);
CREATE INDEX ON pr.orders (cust);

-- customer_state's row counters in this transaction
CREATE FUNCTION pr.state_writes(OUT ins bigint, OUT upd bigint, OUT del bigint) LANGUAGE sql AS $$
	SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables
	 WHERE relid = 'crm_grade.customer_state'::regclass
$$;

CREATE FUNCTION pr.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;

-- verify() as one line per disagreement, for diagnostics
CREATE FUNCTION pr.verify_text() RETURNS text LANGUAGE sql AS $$
	SELECT string_agg(format('%s %s: stored %s, recomputed %s', customer, field, stored, recomputed), '; ')
	  FROM (SELECT * FROM crm_grade.verify() LIMIT 10) v
$$;

INSERT INTO pr.customers SELECT i, 'rep' || (i % 5) FROM generate_series(1, 300) i;
INSERT INTO pr.orders (cust, amount, at, paid)
SELECT 1 + floor(random() * 350)::int, round((random() * 40000)::numeric, 2),
	   t, CASE WHEN random() < 0.7 THEN t + random() * interval '40 days' END
  FROM (SELECT crm_grade.as_of() - random() * interval '500 days' AS t FROM generate_series(1, 3000)) x;

SELECT is(crm_grade.attach_customers('pr.customers', 'id', 'owner_name'), 300::bigint,
		  'attach_customers grades the master');
SELECT is(crm_grade.attach_orders('pr.orders', 'cust', 'amount', 'at', 'paid'), 350::bigint,
		  'attach_orders back-fills every customer');

-- ---------------------------------------------------------------- work per statement

-- One INSERT ... SELECT of `per` orders for each of 40 customers: the 30
-- known customers 11..40 and 10 new ones from first_new, placed in the
-- `span` before as_of.  2 tests.
CREATE FUNCTION pr.bulk_insert(label text, per int, first_new int, span interval) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	w0 record := pr.state_writes();
	w1 record;
BEGIN
	INSERT INTO pr.orders (cust, amount, at)
	SELECT c, round((random() * 5000)::numeric, 2), crm_grade.as_of() - random() * span
	  FROM generate_series(1, per) g,
		   (SELECT generate_series(11, 40) UNION ALL SELECT generate_series(first_new, first_new + 9)) cs(c);
	w1 := pr.state_writes();
	RETURN NEXT cmp_ok(w1.upd - w0.upd, '<=', 40::bigint,
					   label || ': a multi-row INSERT for 40 customers updates customer_state at most 40 times');
	RETURN NEXT cmp_ok(w1.ins - w0.ins, '<=', 10::bigint, label || ': ... and inserts at most one row per new customer');
END $$;

SELECT * FROM pr.bulk_insert('2000 orders', 50, 1001, interval '200 days');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... and the state agrees with verify()');
-- the same when every one of those customers has expired and takes the slow path
SELECT pr.set_as_of(crm_grade.as_of() + interval '400 days');
SELECT * FROM pr.bulk_insert('800 orders, expired customers', 20, 2001, interval '20 days');

CREATE TEMP TABLE w0 AS SELECT * FROM pr.state_writes();
-- an UPDATE of a column crm_grade does not read writes nothing
UPDATE pr.orders SET memo = 'checked' WHERE cust BETWEEN 1 AND 100;
UPDATE pr.orders SET amount = amount WHERE cust BETWEEN 1 AND 100;
SELECT is((SELECT (w.ins - w0.ins) + (w.upd - w0.upd) + (w.del - w0.del) FROM pr.state_writes() w, w0), 0::bigint,
		  'UPDATEs that change nothing crm_grade reads do not write customer_state');

-- a single-row UPDATE and DELETE touch one customer each
TRUNCATE w0;
INSERT INTO w0 SELECT * FROM pr.state_writes();
UPDATE pr.orders SET amount = amount + 1 WHERE id = (SELECT min(id) FROM pr.orders WHERE cust = 5);
DELETE FROM pr.orders WHERE id = (SELECT min(id) FROM pr.orders WHERE cust = 6);
SELECT is((SELECT w.upd - w0.upd FROM pr.state_writes() w, w0), 2::bigint,
		  'a one-row UPDATE and a one-row DELETE update one state row each');

-- ---------------------------------------------------------------- regrade()

SELECT cmp_ok((SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()), '>', 0::bigint,
			  'after 400 days many customers have expired');
CREATE TEMP TABLE expired AS
SELECT customer FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of();
CREATE TEMP TABLE before_regrade AS SELECT * FROM crm_grade.customer_state;
TRUNCATE w0;
INSERT INTO w0 SELECT * FROM pr.state_writes();
SELECT is(crm_grade.regrade(), (SELECT count(*) FROM expired),
		  'regrade() returns the number of rows whose valid_until had passed');
SELECT is((SELECT w.upd - w0.upd FROM pr.state_writes() w, w0), (SELECT count(*) FROM expired),
		  '... and updates exactly that many state rows');
SELECT is((SELECT count(*) FROM crm_grade.customer_state s JOIN before_regrade b USING (customer)
			WHERE s.graded_at IS DISTINCT FROM b.graded_at
			  AND s.customer NOT IN (SELECT customer FROM expired)), 0::bigint,
		  '... and re-grades no row that had not expired');
SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()), 0::bigint,
		  '... and leaves no expired row');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... and verify() is empty');
SELECT is(crm_grade.regrade(), 0::bigint, 'a second regrade() returns 0');

-- max_customers
SELECT pr.set_as_of(crm_grade.as_of() + interval '45 days');
DROP TABLE expired;
CREATE TEMP TABLE expired AS
SELECT customer FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of();
SELECT cmp_ok((SELECT count(*) FROM expired), '>', 5::bigint, 'after 45 more days more than 5 customers expired');
SELECT is(crm_grade.regrade(5), 5::bigint, 'regrade(5) re-grades 5 customers');
SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()),
		  (SELECT count(*) - 5 FROM expired), '... and leaves the others expired');
SELECT is(crm_grade.regrade(), (SELECT count(*) - 5 FROM expired), 'regrade() then takes the rest');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... and verify() is empty');
SELECT throws_ok('SELECT crm_grade.regrade(0)', '22023', NULL, 'regrade(0) is refused');

-- ---------------------------------------------------------------- valid_until

SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE graded_at IS NULL OR valid_until <= graded_at),
		  0::bigint, 'valid_until is NULL or later than graded_at on every row');
SELECT is((SELECT count(*) FROM crm_grade.customer_state
			WHERE valid_until IS NULL AND (orders_12m > 0 OR next_order_at IS NOT NULL)),
		  0::bigint, 'a customer with an order in the window or a future order has a valid_until');

-- a future-dated order starts counting at its time, and regrade() then counts it
INSERT INTO pr.orders (cust, amount, at) VALUES (3001, 700000, crm_grade.as_of() + interval '10 days');
SELECT is((SELECT valid_until FROM crm_grade.customer_state WHERE customer = '3001'),
		  crm_grade.as_of() + interval '10 days', 'a future order sets valid_until to its time');
SELECT pr.set_as_of(crm_grade.as_of() + interval '10 days');
SELECT cmp_ok(crm_grade.regrade(), '>=', 1::bigint, 'regrade() at that moment');
SELECT is((SELECT grade || ' ' || orders_total FROM crm_grade.customer_grades WHERE customer = 3001), 'A 1',
		  '... counts the order: grade A');

-- an order leaves the window exactly 12 months later
INSERT INTO pr.orders (cust, amount, at) VALUES (3002, 150000, crm_grade.as_of() - interval '11 months');
SELECT is((SELECT grade FROM crm_grade.customer_grades WHERE customer = 3002), 'B', 'an order of 150000 inside the window gives B');
SELECT ok((SELECT valid_until <= crm_grade.as_of() + interval '1 month' FROM crm_grade.customer_state WHERE customer = '3002'),
		  '... until the order leaves the window');
SELECT pr.set_as_of(crm_grade.as_of() + interval '1 month');
SELECT cmp_ok(crm_grade.regrade(), '>=', 1::bigint, 'regrade() a month later');
SELECT is((SELECT grade || ' ' || amount_12m FROM crm_grade.customer_grades WHERE customer = 3002), 'C 0',
		  '... drops it out of the window: grade C');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() is empty');

-- ---------------------------------------------------------------- idempotence

SELECT is(crm_grade.use_policy('abc'), 0::bigint, 'use_policy of the active policy changes no grade');
-- a little later, before anything expires
SELECT pr.set_as_of(least(crm_grade.as_of() + interval '1 hour',
						  (SELECT min(valid_until) FROM crm_grade.customer_state) - interval '1 microsecond'));
CREATE TEMP TABLE snap AS SELECT * FROM crm_grade.customer_state;
CREATE TEMP TABLE hist_before AS SELECT count(*) AS n FROM crm_grade.history;
SELECT is(crm_grade.regrade(), 0::bigint, 'nothing has expired');
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() re-evaluates everyone');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... and verify() stays empty');
SELECT is((SELECT count(*) FROM (
			SELECT customer, in_master, owner, created_at, attributes, total_amount, orders_total, amount_12m,
				   orders_12m, first_order_at, last_order_at, order_months, pay_days_sum, pay_count,
				   oldest_window_at, next_order_at, avg_order_value_12m, active_months_12m, repurchase_rate,
				   avg_payment_days, mean_interorder_days, grade, grade_rank, score, policy, valid_until
			  FROM crm_grade.customer_state
			EXCEPT
			SELECT customer, in_master, owner, created_at, attributes, total_amount, orders_total, amount_12m,
				   orders_12m, first_order_at, last_order_at, order_months, pay_days_sum, pay_count,
				   oldest_window_at, next_order_at, avg_order_value_12m, active_months_12m, repurchase_rate,
				   avg_payment_days, mean_interorder_days, grade, grade_rank, score, policy, valid_until
			  FROM snap) d), 0::bigint,
		  '... and changes nothing but graded_at when nothing had expired');
SELECT is((SELECT count(*) FROM crm_grade.customer_state), (SELECT count(*) FROM snap), '... nor the number of rows');
SELECT is((SELECT count(*) FROM crm_grade.history), (SELECT n FROM hist_before), '... nor writes history');

-- ---------------------------------------------------------------- abc by hand

-- one or two orders per customer, amounts on and around the thresholds
CREATE TEMP TABLE probe (cust bigint, amount numeric);
INSERT INTO probe VALUES
	(5001, 99999.99), (5002, 100000), (5003, 100000.01), (5004, 499999.99), (5005, 500000),
	(5006, 500000.01), (5007, 0), (5008, -1), (5009, 1000000);
INSERT INTO probe
SELECT 5100 + i, round((CASE WHEN i % 2 = 0 THEN 100000 ELSE 500000 END + (random() - 0.5) * 4000)::numeric, 2)
  FROM generate_series(1, 60) i;
-- a second order or a refund for some of them
INSERT INTO probe
SELECT 5100 + i, round(((random() - 0.6) * 3000)::numeric, 2) FROM generate_series(1, 60, 3) i;
INSERT INTO pr.orders (cust, amount, at)
SELECT cust, amount, crm_grade.as_of() - interval '30 days' - random() * interval '300 days' FROM probe;
-- an old order never counts in amount_12m
INSERT INTO pr.orders (cust, amount, at) VALUES (5009, 1000000, crm_grade.as_of() - interval '13 months');
SELECT is((SELECT count(*)
			 FROM (SELECT cust, sum(amount) AS a12 FROM probe GROUP BY cust) p
			 JOIN crm_grade.customer_grades g ON g.customer = p.cust
			WHERE g.grade IS DISTINCT FROM CASE WHEN p.a12 >= 500000 THEN 'A' WHEN p.a12 >= 100000 THEN 'B' ELSE 'C' END
			   OR g.amount_12m IS DISTINCT FROM p.a12),
		  0::bigint, 'abc grades 69 customers on and around 100000 and 500000 as the rules say');
SELECT is((SELECT count(*) FROM crm_grade.customer_grades WHERE customer BETWEEN 5001 AND 5200), 69::bigint,
		  '... every one of them is graded');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() agrees');

-- ---------------------------------------------------------------- the window at its edges

-- The window is (T - 12 months, T]: a moment exactly 12 months back is out,
-- one microsecond later is in.
SELECT pr.set_as_of('2026-12-10 08:00:00+00');
SELECT ok(crm_grade.regrade() >= 0, 'regrade() at 2026-12-10');
INSERT INTO pr.orders (cust, amount, at) VALUES
	(6001, 100000, '2025-12-10 08:00:00+00'), (6002, 100000, '2025-12-10 08:00:00.000001+00'),
	(6003, 100000, '2026-12-10 08:00:00+00'), (6004, 100000, '2026-12-10 08:00:00.000001+00');
SELECT is((SELECT string_agg(customer || ':' || grade || ':' || amount_12m::bigint, ' ' ORDER BY customer)
			 FROM crm_grade.customer_grades WHERE customer BETWEEN 6001 AND 6004),
		  '6001:C:0 6002:B:100000 6003:B:100000 6004:C:0', 'window bounds: (T - 12 months, T]');
SELECT pr.set_as_of('2026-12-10 08:00:00.000001+00');
SELECT is(crm_grade.regrade(), 2::bigint, 'one microsecond later regrade() re-grades the two customers at the edges');
SELECT is((SELECT string_agg(customer || ':' || grade, ' ' ORDER BY customer)
			 FROM crm_grade.customer_grades WHERE customer BETWEEN 6001 AND 6004),
		  '6001:C 6002:C 6003:B 6004:B', '... one order left the window, the future one entered');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() agrees');

-- ---------------------------------------------------------------- known edge cases

-- A customer without any order (a prospect in the master): repurchase_rate
-- is undefined, and verify() must agree with the stored state.
INSERT INTO pr.customers VALUES (7001, 'rep1');
SELECT is((SELECT count(*) FROM crm_grade.verify() WHERE customer = '7001'), 0::bigint,
		  'verify() agrees on a customer with no order') ;

-- "T - 12 months" is not monotonic in T on calendar quirks, so an order can
-- leave the window at an unusual moment or come back into it.  Each case:
-- grade everyone at `before`, add a big order at `placed` (and a small one
-- in the window), then at `after` regrade() alone must bring the state up to
-- date.  regrade() is bounded: a row whose valid_until stays in the past
-- would make it loop.  3 tests, 4 when `leaves` (the moment the order
-- leaves the window, the customer's valid_until) is given.
CREATE FUNCTION pr.window_case(label text, cust bigint, before timestamptz, placed timestamptz,
							   after timestamptz, leaves timestamptz DEFAULT NULL)
	RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pr.set_as_of(before);
	PERFORM crm_grade.regrade_all();
	INSERT INTO pr.orders (cust, amount, at) VALUES (cust, 200000, placed), (cust, 10, before - interval '20 days');
	IF leaves IS NOT NULL THEN
		RETURN NEXT is((SELECT s.valid_until FROM crm_grade.customer_state s WHERE s.customer = cust::text), leaves,
					   label || ': valid_until is the moment the order leaves the window');
	END IF;
	PERFORM pr.set_as_of(after);
	RETURN NEXT is(crm_grade.regrade(1000),
				   (SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()),
				   label || ': regrade() re-grades each expired customer once');
	RETURN NEXT is(pr.verify_text(), NULL, label || ': verify() is empty after regrade()');
	PERFORM crm_grade.regrade_all();
	RETURN NEXT is(crm_grade.regrade(1000), 0::bigint, label || ': right after regrade_all() nothing has expired');
END $$;

-- 29 February: the window ending at 2028-02-29 09:00 starts at 2027-02-28
-- 09:00, earlier than the one ending at 2028-02-28 10:00 (2027-02-28 10:00):
-- an order of 2027-02-28 09:30 is back inside; graded then, it leaves the
-- window again at 2028-02-28 09:30, before graded_at.
SELECT * FROM pr.window_case('leap day', 7002, '2028-02-28 10:00:00+00', '2027-02-28 09:30:00+00',
							 '2028-02-29 09:00:00+00');
SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= graded_at), 0::bigint,
		  'leap day: valid_until stays after graded_at');

-- Daylight saving time in America/New_York.
SET LOCAL crm_grade.timezone = 'America/New_York';
-- DST starts: 2028-03-12 02:30 does not exist.  An order of 2027-03-12
-- 02:30 EST leaves the window when the clocks jump from 02:00 EST to 03:00
-- EDT: the window ending at 03:00 EDT starts at 2027-03-12 03:00 EST.
SELECT * FROM pr.window_case('DST start', 7005, '2028-03-11 12:00:00-05', '2027-03-12 02:30:00-05',
							 '2028-03-12 03:10:00-04', '2028-03-12 03:00:00-04');
-- DST ends: 01:00-02:00 happens twice on 2028-11-05.  An order of 2027-11-05
-- 01:20 EDT leaves the window at the first 01:20 (EDT) ...
SELECT * FROM pr.window_case('DST end, out', 7004, '2028-11-04 12:00:00-04', '2027-11-05 01:20:00-04',
							 '2028-11-05 01:25:00-04', '2028-11-05 01:20:00-04');
-- ... and the window ending at the second 01:10 (EST) starts at 2027-11-05
-- 01:10 EDT, earlier than the one ending at 01:30 EDT did: it is back inside
SELECT * FROM pr.window_case('DST end, back in', 7003, '2028-11-05 01:30:00-04', '2027-11-05 01:20:00-04',
							 '2028-11-05 01:10:00-05');
-- ... until the second 01:20 (EST)
SELECT pr.set_as_of('2028-11-05 01:25:00-05');
SELECT is(crm_grade.regrade(1000), (SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()),
		  'DST end, out again: regrade() at 01:25 EST re-grades each expired customer once');
SELECT is(pr.verify_text(), NULL, 'DST end, out again: verify() is empty after regrade()');
SET LOCAL crm_grade.timezone = 'UTC';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() back in UTC');

-- Moving as_of back: regrade() follows time forward only (valid_until); the
-- documented step after moving back is regrade_all().
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all()');
SELECT pr.set_as_of('2027-10-01 00:00:00+00');
SELECT is(crm_grade.regrade(), 0::bigint, 'regrade() after moving as_of back to 2027-10-01 finds nothing expired');
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() after moving as_of back');
SELECT is(pr.verify_text(), NULL, 'moving as_of back: verify() is empty after regrade_all()');

-- ---------------------------------------------------------------- key types

SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all()');
SELECT is((SELECT pg_typeof(customer)::text FROM crm_grade.customer_grades LIMIT 1), 'bigint',
		  'customer_grades.customer has the application''s key type (bigint)');
SELECT is((SELECT pg_typeof(customer)::text FROM crm_grade.grade_history LIMIT 1), 'bigint',
		  'grade_history.customer has the application''s key type (bigint)');

-- a uuid key: the views follow the key type of what is attached
SELECT lives_ok($$SELECT crm_grade.detach('pr.orders'); SELECT crm_grade.detach('pr.customers')$$, 'detach both tables');
SELECT is((SELECT count(*) FROM crm_grade.customer_state), 0::bigint, '... their customers leave the state');
CREATE TABLE pr.uorders (cust uuid NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
-- (0.2 warns when the key has no index)
CREATE INDEX ON pr.uorders (cust);
INSERT INTO pr.uorders
SELECT md5(i::text)::uuid, 1000 * i, crm_grade.as_of() - i * interval '1 day' FROM generate_series(1, 20) i;
SELECT is(crm_grade.attach_orders('pr.uorders', 'cust', 'amount', 'at'), 20::bigint, 'attach an order table keyed by uuid');
SELECT is((SELECT pg_typeof(customer)::text FROM crm_grade.customer_grades LIMIT 1), 'uuid',
		  'customer_grades.customer is then a uuid');
SELECT is((SELECT count(*) FROM crm_grade.customer_grades g JOIN pr.uorders o ON o.cust = g.customer), 20::bigint,
		  '... that joins the application''s table without a cast');
SELECT lives_ok($$SELECT crm_grade.detach('pr.uorders')$$, 'detach it');
SELECT cmp_ok(crm_grade.attach_customers('pr.customers', 'id', 'owner_name') + crm_grade.attach_orders('pr.orders', 'cust', 'amount', 'at', 'paid'),
			  '>', 0::bigint, 'attach the bigint tables again');
SELECT is((SELECT pg_typeof(customer)::text FROM crm_grade.customer_grades LIMIT 1), 'bigint',
		  'customer_grades.customer is bigint again');

-- ---------------------------------------------------------------- DROP EXTENSION

-- Since 0.2 DROP EXTENSION needs no CASCADE: crm_grade takes its triggers
-- off the application's tables and drops its typed views first.
CREATE TEMP TABLE counts AS SELECT (SELECT count(*) FROM pr.orders) AS orders, (SELECT count(*) FROM pr.customers) AS customers;
DROP EXTENSION crm_grade;
SELECT is((SELECT count(*) FROM pr.orders), (SELECT orders FROM counts),
		  'DROP EXTENSION crm_grade (without CASCADE) leaves every order row');
SELECT is((SELECT count(*) FROM pr.customers), (SELECT customers FROM counts), '... and every customer row');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('pr.orders'::regclass, 'pr.customers'::regclass)
			 AND NOT tgisinternal), 0::bigint, '... and removes its triggers from them');
SELECT lives_ok($$INSERT INTO pr.orders (cust, amount, at) VALUES (1, 1, now())$$,
				'... and the application can still write orders');

-- and with CASCADE, after creating it again and attaching the tables
CREATE EXTENSION crm_grade;
SELECT cmp_ok(crm_grade.attach_customers('pr.customers', 'id', 'owner_name') + crm_grade.attach_orders('pr.orders', 'cust', 'amount', 'at', 'paid'),
			  '>', 0::bigint, 'attach the tables to a new crm_grade');
DROP EXTENSION crm_grade CASCADE;
SELECT is((SELECT count(*) FROM pr.orders), (SELECT orders + 1 FROM counts),
		  'DROP EXTENSION crm_grade CASCADE leaves every order row');
SELECT is((SELECT count(*) FROM pr.customers), (SELECT customers FROM counts), '... and every customer row');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('pr.orders'::regclass, 'pr.customers'::regclass)
			 AND NOT tgisinternal), 0::bigint, '... and removes its triggers from them');

SELECT * FROM finish();
ROLLBACK;
