-- Generated workload over real shop tables: a flat table of order lines
-- (order_id_column) whose rows start as carts with no amount and no time,
-- are checked out, paid on a date, cancelled and restored, soft-deleted
-- and restored, moved between customers, grown by late lines and deleted,
-- all under a row filter on an enum status and deleted_at; a plain order
-- table with a voided flag as its filter; and a customer master with soft
-- deletes as its filter.  Writes that would put an ungradeable row inside
-- a filter are refused (and the transaction goes on); everything else is
-- accepted.  Mid-way the filter columns are renamed and back, and the line
-- table is attached again with another filter and then the first one.
-- Times are local (timestamp, date) in Europe/Berlin and as_of crosses
-- both daylight-saving changes.
--
-- After every phase: rows whose valid_until has not passed already agree
-- with verify(); regrade(max_customers) batches re-evaluate exactly the
-- expired customers; verify() is empty; nothing is left expired; no
-- customer is graded from rows outside the filters.  Deterministic:
-- setseed() and explicit as_of.  About 10 seconds.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(41);

SET LOCAL statement_timeout = '60s';
SET LOCAL jit = off;
-- the application's zone is crm_grade's: attach does not warn
SET LOCAL TimeZone = 'Europe/Berlin';
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SET LOCAL crm_grade.as_of = '2025-03-20 12:00:00+00';
DO $$ BEGIN PERFORM setseed(0.1313); END $$;

CREATE SCHEMA wf;
CREATE TYPE wf.status AS ENUM ('cart', 'placed', 'paid', 'cancelled');
CREATE SEQUENCE wf.order_nos;

CREATE TABLE wf.lines (
	id			bigserial PRIMARY KEY,
	order_no	bigint NOT NULL,
	customer_id	integer NOT NULL,
	status		wf.status NOT NULL DEFAULT 'cart',
	amount		numeric(12,2),			-- NULL while a cart
	ordered_at	timestamp,				-- local time; NULL while a cart
	paid_on		date,
	deleted_at	timestamptz
);
CREATE INDEX ON wf.lines (customer_id);

CREATE TABLE wf.orders (
	id			bigserial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	voided		boolean NOT NULL DEFAULT false
);
CREATE INDEX ON wf.orders (customer_id);

CREATE TABLE wf.customers (
	id			integer PRIMARY KEY,
	rep			text,
	since		timestamptz,
	deleted_at	timestamptz
);

\ir include/generators.sql

CREATE TABLE wf.ops (op text PRIMARY KEY, n int NOT NULL);
CREATE FUNCTION wf.did(op text, n bigint) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wf.ops VALUES (op, least(n, 1)) ON CONFLICT (op) DO UPDATE SET n = wf.ops.n + EXCLUDED.n
$$;

CREATE FUNCTION wf.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;

CREATE FUNCTION wf.local(t timestamptz) RETURNS timestamp LANGUAGE sql STABLE AS
$$ SELECT t AT TIME ZONE current_setting('crm_grade.timezone') $$;

-- a random line, or order (NULL when there is none); called into a
-- variable first, since in a WHERE clause it would run once per row
CREATE FUNCTION wf.any_line(cond text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
BEGIN
	EXECUTE format('SELECT id FROM wf.lines WHERE %s ORDER BY random() LIMIT 1', cond) INTO r;
	RETURN r;
END $$;
CREATE FUNCTION wf.any_order(cond text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	r bigint;
BEGIN
	EXECUTE format('SELECT order_no FROM wf.lines WHERE %s ORDER BY random() LIMIT 1', cond) INTO r;
	RETURN r;
END $$;

-- One write to the line table, chosen at random.
CREATE FUNCTION wf.line_write() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	op float8 := random();
	c int := gen.rnd_int(1, 80);
	o bigint;
	t timestamptz := gen.rnd_time();
	n bigint;
	pick bigint;
BEGIN
	IF op < 0.12 THEN
		-- a cart of one to three lines, some already priced
		INSERT INTO wf.lines (order_no, customer_id, amount)
		SELECT x.no, c, CASE WHEN random() < 0.5 THEN gen.rnd_amount() END
		  FROM (SELECT nextval('wf.order_nos') AS no) x, generate_series(1, gen.rnd_int(1, 3));
		PERFORM wf.did('cart', 1);
	ELSIF op < 0.22 THEN
		-- checkout: every line of a cart gets a price and the order's time
		o := wf.any_order($q$status = 'cart'$q$);
		UPDATE wf.lines SET status = 'placed', amount = coalesce(amount, gen.rnd_amount()), ordered_at = wf.local(t)
		 WHERE order_no = o;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('checkout', n);
	ELSIF op < 0.38 THEN
		-- an order placed at once, one to four lines a few hours apart
		INSERT INTO wf.lines (order_no, customer_id, status, amount, ordered_at)
		SELECT x.no, c, 'placed', gen.rnd_amount(), wf.local(t + (k - 1) * random() * interval '3 hours')
		  FROM (SELECT nextval('wf.order_nos') AS no) x, generate_series(1, gen.rnd_int(1, 4)) k;
		PERFORM wf.did('order', 1);
	ELSIF op < 0.45 THEN
		-- a late line joins an order, possibly after T (it counts when T reaches it)
		pick := wf.any_line($q$status IN ('placed', 'paid') AND ordered_at IS NOT NULL$q$);
		INSERT INTO wf.lines (order_no, customer_id, status, amount, ordered_at)
		SELECT l.order_no, l.customer_id, 'placed', gen.rnd_amount(), l.ordered_at + random() * interval '20 days'
		  FROM wf.lines l WHERE l.id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('late line', n);
	ELSIF op < 0.53 THEN
		pick := wf.any_line('amount IS NOT NULL');
		UPDATE wf.lines SET amount = gen.rnd_amount() WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('line amount', n);
	ELSIF op < 0.59 THEN
		-- cancel an order, or restore a cancelled one
		pick := wf.any_order($q$status IN ('placed', 'paid', 'cancelled') AND amount IS NOT NULL
											AND ordered_at IS NOT NULL$q$);
		UPDATE wf.lines SET status = CASE status WHEN 'cancelled' THEN 'placed' ELSE 'cancelled' END::wf.status
		 WHERE order_no = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('cancel or restore', n);
	ELSIF op < 0.65 THEN
		-- soft-delete a line, or restore one
		pick := wf.any_line('amount IS NOT NULL AND ordered_at IS NOT NULL');
		UPDATE wf.lines SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END
		 WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('soft delete or restore', n);
	ELSIF op < 0.71 THEN
		-- an order paid on a day near it (some before it), every line at once
		pick := wf.any_order($q$status = 'placed'$q$);
		UPDATE wf.lines SET status = 'paid', paid_on = (ordered_at + (random() * 45 - 3) * interval '1 day')::date
		 WHERE order_no = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('paid', n);
	ELSIF op < 0.76 THEN
		-- a line moved to another customer (it is then an order of its own there)
		pick := wf.any_line('true');
		UPDATE wf.lines SET customer_id = c WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('move line', n);
	ELSIF op < 0.80 THEN
		pick := wf.any_line('true');
		DELETE FROM wf.lines WHERE id = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('delete line', n);
	ELSIF op < 0.83 THEN
		pick := wf.any_order('true');
		DELETE FROM wf.lines WHERE order_no = pick;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('delete order', n);
	ELSIF op < 0.87 THEN
		-- one statement over a customer's rows: statuses shuffled where a row may enter the filter
		UPDATE wf.lines SET status = (ARRAY['placed', 'paid', 'cancelled']::wf.status[])[gen.rnd_int(1, 3)]
		 WHERE customer_id = c AND amount IS NOT NULL AND ordered_at IS NOT NULL;
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('bulk status', n);
	ELSIF op < 0.92 THEN
		-- writes that would put an ungradeable row inside the filter: refused, whole
		-- (before attach they would only make attach fail)
		IF NOT EXISTS (SELECT 1 FROM crm_grade.source WHERE tbl = 'wf.lines'::regclass) THEN
			RETURN;
		END IF;
		pick := wf.any_order($q$status = 'cart' AND deleted_at IS NULL$q$);
		BEGIN
			IF random() < 0.5 OR pick IS NULL THEN
				INSERT INTO wf.lines (order_no, customer_id, status, amount, ordered_at) VALUES
					(nextval('wf.order_nos'), c, 'placed', 10, wf.local(t)),
					(nextval('wf.order_nos'), c, 'placed', NULL, wf.local(t));
			ELSE
				-- a cart checked out without its time
				UPDATE wf.lines SET status = 'placed', amount = 1
				 WHERE order_no = pick;
			END IF;
			RAISE EXCEPTION 'an ungradeable row inside the filter was accepted';
		EXCEPTION WHEN not_null_violation THEN
			PERFORM wf.did('refused', 1);
		END;
	ELSE
		-- a row outside the filter is never refused, whatever it holds (a placed
		-- row is outside only when soft-deleted)
		INSERT INTO wf.lines (order_no, customer_id, status, amount, ordered_at, deleted_at)
		SELECT nextval('wf.order_nos'), c, x.st, NULL, NULL,
			   CASE WHEN x.st = 'placed' OR random() < 0.5 THEN now() END
		  FROM (SELECT (ARRAY['placed', 'cart', 'cancelled']::wf.status[])[gen.rnd_int(1, 3)] AS st) x;
		PERFORM wf.did('outside the filter', 1);
	END IF;
EXCEPTION WHEN not_null_violation THEN
	-- only the 'outside the filter' insert can get here (a placed row, not deleted): it must not
	RAISE EXCEPTION 'a write was refused: %', SQLERRM;
END $$;

-- One write to the plain order table or the master.
CREATE FUNCTION wf.other_write() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	op float8 := random();
	c int := gen.rnd_int(1, 80);
	n bigint;
BEGIN
	IF op < 0.35 THEN
		INSERT INTO wf.orders (customer_id, amount, ordered_at, voided)
		VALUES (c, gen.rnd_amount(), gen.rnd_time(), random() < 0.2);
		PERFORM wf.did('plain order', 1);
	ELSIF op < 0.55 THEN
		UPDATE wf.orders SET voided = NOT voided
		 WHERE id = (SELECT id FROM wf.orders ORDER BY random() LIMIT 1);
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('void or unvoid', n);
	ELSIF op < 0.65 THEN
		DELETE FROM wf.orders WHERE id = (SELECT id FROM wf.orders ORDER BY random() LIMIT 1);
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('plain delete', n);
	ELSIF op < 0.80 THEN
		INSERT INTO wf.customers (id, rep, since, deleted_at)
		VALUES (c, 'rep' || gen.rnd_int(1, 5), gen.rnd_time(), CASE WHEN random() < 0.2 THEN now() END)
		ON CONFLICT (id) DO UPDATE SET rep = EXCLUDED.rep;
		PERFORM wf.did('master upsert', 1);
	ELSIF op < 0.95 THEN
		UPDATE wf.customers SET deleted_at = CASE WHEN deleted_at IS NULL THEN now() END
		 WHERE id = (SELECT id FROM wf.customers ORDER BY random() LIMIT 1);
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('master soft delete or restore', n);
	ELSE
		DELETE FROM wf.customers WHERE id = (SELECT id FROM wf.customers ORDER BY random() LIMIT 1);
		GET DIAGNOSTICS n = ROW_COUNT;
		PERFORM wf.did('master delete', n);
	END IF;
END $$;

CREATE FUNCTION wf.run(n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	FOR i IN 1..n LOOP
		IF random() < 0.75 THEN
			PERFORM wf.line_write();
		ELSE
			PERFORM wf.other_write();
		END IF;
		IF random() < 0.03 THEN
			-- time passes between writes, without regrade()
			PERFORM wf.set_as_of(crm_grade.as_of() + random() * interval '1 day');
		END IF;
	END LOOP;
END $$;

CREATE TEMP TABLE wf_verify (customer text, field text, stored text, recomputed text);

-- Customers graded although no row of theirs is inside a filter: none.
CREATE FUNCTION wf.graded_from_outside() RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT count(*) FROM crm_grade.customer_state s
	 WHERE s.customer NOT IN (
		SELECT customer_id::text FROM wf.lines
		 WHERE status IN ('placed', 'paid') AND deleted_at IS NULL
		UNION SELECT customer_id::text FROM wf.orders WHERE NOT voided
		UNION SELECT id::text FROM wf.customers WHERE deleted_at IS NULL)
$$;

-- A phase: random writes, as_of moved on, the early check, regrade() in
-- batches, the full check.  5 tests.
CREATE FUNCTION wf.phase(label text, nops int, jump interval) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz;
	expired bigint;
	n bigint := 0;
	batch int;
	done bigint;
BEGIN
	PERFORM wf.run(nops);
	PERFORM wf.set_as_of(crm_grade.as_of() + jump);
	t := crm_grade.as_of();
	TRUNCATE wf_verify;
	INSERT INTO wf_verify
	SELECT v.* FROM crm_grade.verify() v
	  JOIN crm_grade.customer_state s ON s.customer = v.customer
	 WHERE (s.valid_until IS NULL OR s.valid_until > t) AND s.graded_at <= t;
	RETURN NEXT is((SELECT count(*) FROM wf_verify), 0::bigint,
				   label || ': unexpired rows already agree with verify() before regrade()');
	expired := (SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= t);
	LOOP
		batch := gen.rnd_int(1, 40);
		done := crm_grade.regrade(batch);
		n := n + done;
		EXIT WHEN done < batch;
	END LOOP;
	RETURN NEXT is(n, expired, label || ': regrade(max_customers) batches re-evaluate exactly the expired rows');
	TRUNCATE wf_verify;
	INSERT INTO wf_verify SELECT * FROM crm_grade.verify();
	RETURN NEXT is((SELECT count(*) FROM wf_verify), 0::bigint, label || ': verify() is empty');
	IF EXISTS (SELECT 1 FROM wf_verify) THEN
		RETURN NEXT diag((SELECT string_agg(format('%s %s: stored %s, recomputed %s', customer, field, stored, recomputed), E'\n')
							FROM (SELECT * FROM wf_verify ORDER BY 1, 2 LIMIT 15) v));
	END IF;
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= t),
				   0::bigint, label || ': no state row left expired');
	RETURN NEXT is(wf.graded_from_outside(), 0::bigint, label || ': nobody is graded from rows outside the filters');
END $$;

-- ---------------------------------------------------------------- attach

-- some rows before attaching: back-fill reads them through the filters
SELECT wf.run(150);
SELECT lives_ok($$SELECT crm_grade.attach_orders('wf.lines', 'customer_id', 'amount', 'ordered_at', 'paid_on',
	filter => $f$status IN ('placed', 'paid') AND deleted_at IS NULL$f$, order_id_column => 'order_no')$$,
	'attach the line table with a filter and an order id');
SELECT lives_ok($$SELECT crm_grade.attach_orders('wf.orders', 'customer_id', 'amount', 'ordered_at',
	filter => 'NOT voided')$$, 'attach the plain order table with a filter');
SELECT lives_ok($$SELECT crm_grade.attach_customers('wf.customers', 'id', owner_column => 'rep',
	created_at_column => 'since', filter => 'deleted_at IS NULL')$$, 'attach the master with a filter');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'after attach: verify() is empty');

-- ---------------------------------------------------------------- phases

SELECT * FROM wf.phase('a day', 600, interval '1 day');
SELECT * FROM wf.phase('across the spring DST change', 600, interval '12 days');
SELECT * FROM wf.phase('forty days', 600, interval '40 days');

-- migrations: the filter follows renames; another filter, then the first again
ALTER TABLE wf.lines RENAME COLUMN deleted_at TO removed_at;
ALTER TABLE wf.lines RENAME COLUMN status TO state;
SELECT is((SELECT filter FROM crm_grade.source WHERE tbl = 'wf.lines'::regclass),
		  '((state = ANY (ARRAY[''placed''::wf.status, ''paid''::wf.status])) AND (removed_at IS NULL))',
		  'the stored filter follows the renamed columns');
ALTER TABLE wf.lines RENAME COLUMN removed_at TO deleted_at;
ALTER TABLE wf.lines RENAME COLUMN state TO status;
SELECT lives_ok($$SELECT crm_grade.attach_orders('wf.lines', 'customer_id', 'amount', 'ordered_at', 'paid_on',
	filter => $f$status = 'paid' AND deleted_at IS NULL$f$, order_id_column => 'order_no')$$,
	'attach again with another filter');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'under the other filter: verify() is empty');
SELECT lives_ok($$SELECT crm_grade.attach_orders('wf.lines', 'customer_id', 'amount', 'ordered_at', 'paid_on',
	filter => $f$status IN ('placed', 'paid') AND deleted_at IS NULL$f$, order_id_column => 'order_no')$$,
	'attach again with the first filter');

SELECT * FROM wf.phase('three months', 600, interval '3 months');
SELECT * FROM wf.phase('across the autumn DST change', 600, interval '5 months');
SELECT * FROM wf.phase('thirteen months', 600, interval '13 months');

-- ---------------------------------------------------------------- coverage

SELECT is((SELECT array_agg(x.op ORDER BY x.op)
			 FROM unnest(ARRAY['cart', 'checkout', 'order', 'late line', 'line amount', 'cancel or restore',
							   'soft delete or restore', 'paid', 'move line', 'delete line', 'delete order',
							   'bulk status', 'refused', 'outside the filter', 'plain order', 'void or unvoid',
							   'plain delete', 'master upsert', 'master soft delete or restore',
							   'master delete']) x(op)
			 LEFT JOIN wf.ops o USING (op)
			WHERE coalesce(o.n, 0) < 1),
		  NULL, 'every kind of write ran and changed something');
SELECT cmp_ok((SELECT count(DISTINCT order_no) FROM wf.lines l
				WHERE (SELECT count(*) FROM wf.lines m WHERE m.order_no = l.order_no AND m.status IN ('placed', 'paid')) > 1),
			  '>', 50::bigint, 'many orders have several lines inside the filter');
SELECT cmp_ok((SELECT count(*) FROM wf.lines WHERE status = 'cart' OR deleted_at IS NOT NULL OR status = 'cancelled'),
			  '>', 100::bigint, 'many rows stay outside the filter');

SELECT * FROM finish();
ROLLBACK;
