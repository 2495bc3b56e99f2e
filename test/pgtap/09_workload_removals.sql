-- Generated workload for orders taken out of the stored state without
-- re-reading the customer (an UPDATE's old row, a DELETE's): 30 customers
-- with about five orders a month each over 14 months (so that a month of
-- the 12-month window almost always keeps another order, the case the
-- accumulators can apply), refunds, payments made, missing and still to
-- come, in a zone with daylight saving.  Batches of random single-row
-- DELETEs and UPDATEs of amount, time (across month and window
-- boundaries), sign and payment, and multi-row DELETEs, with as_of moving
-- forward between batches (then regrade(), as the pg_cron job does).  After
-- every batch verify() must find nothing.  Deterministic: setseed() and
-- explicit as_of.  About 10 seconds.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(42);

SET LOCAL statement_timeout = '60s';
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SET LOCAL crm_grade.as_of = '2026-03-20 12:00:00+00';
DO $$ BEGIN PERFORM setseed(0.1717); END $$;

CREATE SCHEMA rm;
CREATE TABLE rm.orders (
	id			serial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX ON rm.orders (customer_id);
SELECT is(crm_grade.attach_orders('rm.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at'), 0::bigint,
		  'attach_orders on an empty table');

CREATE FUNCTION rm.now() RETURNS timestamptz LANGUAGE sql STABLE AS
$$ SELECT current_setting('crm_grade.as_of')::timestamptz $$;

-- an order (15% refunds) at t: paid within 20 days (60%), not paid (25%),
-- or paid after now (15%)
CREATE FUNCTION rm.add(n int, span interval) RETURNS void LANGUAGE sql AS $$
	INSERT INTO rm.orders (customer_id, amount, ordered_at, paid_at)
	SELECT 1 + floor(random() * 30)::int,
		   CASE WHEN random() < 0.15 THEN -round((1 + random() * 100)::numeric, 2)
				ELSE round((1 + random() * 1000)::numeric, 2) END,
		   x.t,
		   CASE WHEN x.r < 0.6 THEN least(x.t + random() * interval '20 days', rm.now())
				WHEN x.r < 0.85 THEN NULL
				ELSE rm.now() + random() * interval '30 days' END
	  FROM (SELECT rm.now() - random() * span AS t, random() AS r FROM generate_series(1, n)) x
$$;

-- one random order's id
CREATE FUNCTION rm.some() RETURNS int LANGUAGE sql VOLATILE AS
$$ SELECT id FROM rm.orders ORDER BY random() LIMIT 1 $$;

-- n random single-row writes, then the disagreements verify() finds
CREATE FUNCTION rm.batch(n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	o int;
BEGIN
	FOR i IN 1..n LOOP
		o := rm.some();
		CASE floor(random() * 6)::int
			WHEN 0, 1 THEN
				DELETE FROM rm.orders WHERE id = o;
			WHEN 2 THEN
				UPDATE rm.orders SET amount = round((1 + random() * 1000)::numeric, 2) WHERE id = o;
			WHEN 3 THEN
				UPDATE rm.orders SET ordered_at = least(ordered_at + (random() - 0.5) * interval '40 days', rm.now())
				 WHERE id = o;
			WHEN 4 THEN
				UPDATE rm.orders SET amount = -amount WHERE id = o;
			ELSE
				UPDATE rm.orders SET paid_at = CASE WHEN paid_at IS NULL THEN least(ordered_at + interval '3 days', rm.now()) END
				 WHERE id = o;
		END CASE;
	END LOOP;
	RETURN (SELECT count(*) FROM crm_grade.verify());
END $$;

DO $$ BEGIN PERFORM rm.add(2100, interval '14 months'); END $$;
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'loaded: verify() finds nothing');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.customer_state WHERE cardinality(order_months) >= 11), '>=', 25::bigint,
			  'almost every customer has orders in most months of the window');

SELECT is(rm.batch(40), 0::bigint, format('batch %s: verify() finds nothing', b))
  FROM generate_series(1, 24) b;

-- as_of moves forward a few days at a time (orders leave the window,
-- payments come due): regrade(), then more batches
SELECT is(x.bad, 0::bigint, format('after %s days: verify() finds nothing', d))
  FROM generate_series(3, 36, 3) d,
	   LATERAL (SELECT set_config('crm_grade.as_of', ('2026-03-20 12:00:00+00'::timestamptz + d * interval '1 day')::text, true),
					   crm_grade.regrade(), rm.add(20, interval '10 days'), rm.batch(40) AS bad) x;

-- several orders of one customer in one statement, of one month and of many
DELETE FROM rm.orders WHERE id IN (SELECT id FROM rm.orders WHERE customer_id = 7 ORDER BY random() LIMIT 20);
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'a multi-row DELETE of one customer');
DELETE FROM rm.orders WHERE id IN (SELECT id FROM rm.orders ORDER BY random() LIMIT 300);
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'a multi-row DELETE over every customer');
UPDATE rm.orders SET amount = amount + 1 WHERE customer_id IN (3, 4, 5);
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'a multi-row UPDATE of amounts');

SELECT * FROM finish();
ROLLBACK;
