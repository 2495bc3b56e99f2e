-- Generated workload over the 0.2 write paths: thousands of random writes
-- through the root of a range-partitioned order table, straight into its
-- leaves, into a hash-sub-partitioned middle partition and its leaves
-- (some made apart with their columns in another order), into the DEFAULT
-- partition, and into a second (plain) order table whose times are
-- timestamp without time zone and date: INSERT ... ON CONFLICT DO UPDATE,
-- MERGE with DELETE/UPDATE/INSERT (through the root and into a leaf),
-- writable CTEs (over both order tables, or a leaf and the root, in one
-- statement), UPDATEs moving orders between customers and across
-- partitions, INSERT ... SELECT into a partition (what COPY of a dump
-- does), rows applied as logical replication applies them
-- (session_replication_role = replica: crm_grade's row trigger), statements
-- and DDL rolled back in a subtransaction, columns renamed and back.
-- Partition maintenance in between (CREATE TABLE ... PARTITION OF, ATTACH
-- PARTITION of filled tables, DETACH PARTITION, DROP, TRUNCATE), each step
-- firing crm_grade's event triggers inside this transaction.  A customer
-- master with jsonb attributes (numbers, numeric strings and values that
-- are not numbers) and owners; int4 keys in the partitioned table, int8
-- keys (some above 2^31) in the plain table and the master, later an int4
-- master.  as_of moves forward by minutes, hours, days and months, across
-- both daylight-saving changes of Europe/Berlin, and in the end is left
-- empty (T is the clock at each write).  Policies abc, four_class,
-- value_tier and one reading attr.NAME, tenure_days and
-- days_since_last_order (valid_until from day thresholds), also changed in
-- place.
--
-- After every phase: rows whose valid_until has not passed already agree
-- with verify(); regrade(max_customers) batches re-evaluate exactly the
-- expired customers; verify() is empty; nothing is left expired; the master
-- is mirrored; each customer's last grade_history row is its grade; and
-- data_issues lists exactly the attributes the active policy reads that are
-- not numbers.  Deterministic up to the last phase: setseed() and explicit
-- as_of.  About 25 seconds.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;

SELECT plan(229);

SET LOCAL statement_timeout = '60s';
-- the random statements' row estimates are huge (set-returning functions
-- with random bounds): JIT would compile most of them, and verify(), for
-- nothing but time
SET LOCAL jit = off;
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.timezone = 'UTC';
SET LOCAL crm_grade.as_of = '2024-01-15 12:00:00+00';
DO $$ BEGIN PERFORM setseed(0.2024); END $$;

CREATE SCHEMA wp;
CREATE SEQUENCE wp.order_ids;

-- the customer master: int8 keys, some above 2^31
CREATE TABLE wp.customers (
	id		bigint PRIMARY KEY,
	rep		text,
	since	timestamptz,
	attrs	jsonb
);

-- the int4 master (created_at a date) that replaces it later
CREATE TABLE wp.customers4 (
	id		integer PRIMARY KEY,
	rep		varchar(12),
	since	date,
	attrs	jsonb
);

-- orders, range-partitioned by time: an old catch-all, 2023 hash-partitioned
-- by customer, quarters created as time goes on, and a DEFAULT partition
CREATE TABLE wp.orders (
	id			bigint NOT NULL DEFAULT nextval('wp.order_ids'),
	customer_id	integer NOT NULL,
	amount		numeric(14,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz,
	note		text,
	PRIMARY KEY (id, ordered_at, customer_id)
) PARTITION BY RANGE (ordered_at);
CREATE INDEX ON wp.orders (customer_id);
CREATE TABLE wp.orders_hist PARTITION OF wp.orders FOR VALUES FROM (MINVALUE) TO ('2023-01-01 00:00:00+00');
CREATE TABLE wp.orders_2023 PARTITION OF wp.orders FOR VALUES FROM ('2023-01-01 00:00:00+00') TO ('2024-01-01 00:00:00+00')
	PARTITION BY HASH (customer_id);
CREATE TABLE wp.orders_2023_h0 PARTITION OF wp.orders_2023 FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE wp.orders_2023_h1 PARTITION OF wp.orders_2023 FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE wp.orders_2023_h2 PARTITION OF wp.orders_2023 FOR VALUES WITH (MODULUS 3, REMAINDER 2);
CREATE TABLE wp.orders_2024q1 PARTITION OF wp.orders FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-04-01 00:00:00+00');
CREATE TABLE wp.orders_default PARTITION OF wp.orders DEFAULT;

-- a second order table, plain: int8 client keys, local times (timestamp
-- without time zone, date) in crm_grade.timezone, a double precision total
CREATE TABLE wp.shop_orders (
	order_no	bigint PRIMARY KEY DEFAULT nextval('wp.order_ids'),
	client		bigint NOT NULL,
	total		double precision NOT NULL,
	placed		timestamp NOT NULL,
	paid_on		date,
	channel		text
);
CREATE INDEX ON wp.shop_orders (client);

-- What the workload knows of the partitions of wp.orders.  kind: range (a
-- leaf), hashed (partitioned by hash), hleaf (a leaf of a hashed one),
-- default.  lo NULL is MINVALUE.
CREATE TABLE wp.part (
	rel			text PRIMARY KEY,
	kind		text NOT NULL,
	lo			timestamptz,
	hi			timestamptz,
	parent		text,
	modulus		int,
	remainder	int,
	attached	boolean NOT NULL DEFAULT true
);
INSERT INTO wp.part (rel, kind, lo, hi, parent, modulus, remainder) VALUES
	('wp.orders_hist', 'range', NULL, '2023-01-01 00:00:00+00', NULL, NULL, NULL),
	('wp.orders_2023', 'hashed', '2023-01-01 00:00:00+00', '2024-01-01 00:00:00+00', NULL, NULL, NULL),
	('wp.orders_2023_h0', 'hleaf', NULL, NULL, 'wp.orders_2023', 3, 0),
	('wp.orders_2023_h1', 'hleaf', NULL, NULL, 'wp.orders_2023', 3, 1),
	('wp.orders_2023_h2', 'hleaf', NULL, NULL, 'wp.orders_2023', 3, 2),
	('wp.orders_2024q1', 'range', '2024-01-01 00:00:00+00', '2024-04-01 00:00:00+00', NULL, NULL, NULL),
	('wp.orders_default', 'default', NULL, NULL, NULL, NULL, NULL);

-- which master is attached (wp.customers, later the int4 wp.customers4)
CREATE TABLE wp.cfg (master text NOT NULL);
INSERT INTO wp.cfg VALUES ('wp.customers');

-- how often each kind of operation changed something
CREATE TABLE wp.ops (op text PRIMARY KEY, n int NOT NULL);

CREATE FUNCTION wp.did(op text, n bigint DEFAULT 1) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wp.ops AS o VALUES (op, n) ON CONFLICT (op) DO UPDATE SET n = o.n + EXCLUDED.n WHERE EXCLUDED.n > 0;
	SELECT NULL::void
$$;

-- ---------------------------------------------------------------- generators

\ir include/generators.sql

-- local time and date in crm_grade.timezone, for wp.shop_orders
CREATE FUNCTION wp.loc(t timestamptz) RETURNS timestamp LANGUAGE sql STABLE AS
$$ SELECT t AT TIME ZONE current_setting('crm_grade.timezone') $$;

-- order keys (int4): mostly 1..400, a few zero or negative, the largest int4
CREATE FUNCTION wp.rnd_customer() RETURNS int LANGUAGE sql VOLATILE AS $$
	SELECT (CASE WHEN r < 0.95 THEN gen.rnd_int(1, 400)
				 WHEN r < 0.99 THEN gen.rnd_int(-3, 0)
				 ELSE 2147483647 END)::int
	  FROM (SELECT random() AS r) x
$$;

-- shop clients and master keys (int8): the same customers, and some above 2^31
CREATE FUNCTION wp.rnd_client() RETURNS bigint LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN r < 0.88 THEN gen.rnd_int(1, 400)
				WHEN r < 0.90 THEN gen.rnd_int(-3, 0)
				WHEN r < 0.91 THEN gen.rnd_int(2147483647, 2147483648)
				ELSE 3000000000 + gen.rnd_int(0, 25) END
	  FROM (SELECT random() AS r) x
$$;
CREATE FUNCTION wp.rnd_master_key() RETURNS bigint LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN (SELECT master FROM wp.cfg) = 'wp.customers4' THEN gen.rnd_int(-3, 460)
				WHEN random() < 0.9 THEN gen.rnd_int(-3, 460)
				ELSE 3000000000 + gen.rnd_int(0, 30) END
$$;

-- An attribute value: a number, a string holding one (blanks, sign,
-- exponent), or something that is not a number.
CREATE FUNCTION wp.rnd_attr_value() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	r float8 := random();
	v bigint := gen.rnd_int(0, 100);
BEGIN
	IF r < 0.50 THEN
		RETURN to_jsonb(v);
	ELSIF r < 0.55 THEN
		RETURN to_jsonb(v + 0.5);
	ELSIF r < 0.70 THEN
		RETURN to_jsonb((ARRAY[v::text, ' ' || v || ' ', '+' || v || '.0', (v / 10.0) || 'e1', '.' || lpad(v::text, 3, '0') || 'E2',
							   '0' || v])[gen.rnd_int(1, 6)]);
	ELSE
		RETURN (ARRAY['"gold"', '""', '"NaN"', '"1e"', '"12abc"', 'true', '[80]', '{"v": 90}', 'null', '"Infinity"',
					  '"1e5000"', '"--5"'])[gen.rnd_int(1, 12)]::jsonb;
	END IF;
END $$;

CREATE FUNCTION wp.rnd_attrs() RETURNS jsonb LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	a jsonb := '{}';
	r float8 := random();
BEGIN
	IF r < 0.10 THEN
		RETURN NULL;
	ELSIF r < 0.13 THEN
		RETURN (ARRAY['[1, 2]', '"tier"', '42', 'null'])[gen.rnd_int(1, 4)]::jsonb;
	END IF;
	IF random() < 0.85 THEN
		a := a || jsonb_build_object('tier', wp.rnd_attr_value());
	END IF;
	IF random() < 0.80 THEN
		a := a || jsonb_build_object('potential', wp.rnd_attr_value());
	END IF;
	-- read by no policy: never a data issue
	IF random() < 0.5 THEN
		a := a || jsonb_build_object('segment', (ARRAY['smb', 'enterprise', 'x'])[gen.rnd_int(1, 3)]);
	END IF;
	RETURN a;
END $$;

CREATE FUNCTION wp.set_as_of(t timestamptz) RETURNS void LANGUAGE sql AS
$$ SELECT set_config('crm_grade.as_of', t::text, true); SELECT NULL::void $$;

-- ---------------------------------------------------------------- partitions

-- Is a moment inside an attached range (or hashed) partition?
CREATE FUNCTION wp.covered(t timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM wp.part p
					WHERE p.attached AND p.kind IN ('range', 'hashed')
					  AND (p.lo IS NULL OR p.lo <= t) AND t < p.hi)
$$;

-- A moment for a row of partition p (NULL when none can be found).
CREATE FUNCTION wp.time_for(p wp.part) RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	t timestamptz;
	lo timestamptz := p.lo;
	hi timestamptz := p.hi;
BEGIN
	IF p.kind = 'hleaf' THEN
		SELECT x.lo, x.hi INTO lo, hi FROM wp.part x WHERE x.rel = p.parent;
	END IF;
	IF p.kind = 'default' THEN
		FOR i IN 1 .. 12 LOOP
			t := CASE WHEN i < 10 THEN gen.rnd_time() ELSE crm_grade.as_of() + interval '800 days' + random() * interval '300 days' END;
			IF NOT wp.covered(t) THEN
				RETURN t;
			END IF;
		END LOOP;
		RETURN NULL;
	END IF;
	-- mostly near T when the range allows it
	t := gen.rnd_time();
	IF (lo IS NULL OR t >= lo) AND t < hi AND random() < 0.5 THEN
		RETURN t;
	END IF;
	RETURN coalesce(lo, hi - interval '900 days') + random() * (hi - coalesce(lo, hi - interval '900 days'));
END $$;

-- A customer whose rows a partition accepts (any, unless it is a hash leaf).
CREATE FUNCTION wp.customer_for(p wp.part) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	c int;
BEGIN
	LOOP
		c := wp.rnd_customer();
		IF p.kind <> 'hleaf' OR satisfies_hash_partition(p.parent::regclass, p.modulus, p.remainder, c) THEN
			RETURN c;
		END IF;
	END LOOP;
END $$;

CREATE FUNCTION wp.some_part(kinds text[]) RETURNS wp.part LANGUAGE sql VOLATILE AS $$
	SELECT p FROM wp.part p WHERE p.attached AND p.kind = ANY (kinds) ORDER BY random() LIMIT 1
$$;

-- Write n random orders straight into a partition (the data section of a
-- dump, or COPY, does this).  Returns rows written.
CREATE FUNCTION wp.insert_into(p wp.part, n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	k bigint := 0;
	t timestamptz;
	c int;
BEGIN
	IF p.rel IS NULL THEN
		RETURN 0;
	END IF;
	CREATE TEMP TABLE IF NOT EXISTS wp_rows (customer_id int, amount numeric, ordered_at timestamptz, paid_at timestamptz);
	TRUNCATE wp_rows;
	FOR i IN 1 .. n LOOP
		t := wp.time_for(p);
		CONTINUE WHEN t IS NULL;
		c := wp.customer_for(p);
		INSERT INTO wp_rows VALUES (c, gen.rnd_amount(), t, gen.rnd_paid(t));
	END LOOP;
	EXECUTE format('INSERT INTO %s (customer_id, amount, ordered_at, paid_at) SELECT * FROM wp_rows', p.rel);
	GET DIAGNOSTICS k = ROW_COUNT;
	RETURN k;
END $$;

-- a random order of wp.orders (or of one of its partitions) and of wp.shop_orders
CREATE FUNCTION wp.some_order(rel text DEFAULT 'wp.orders') RETURNS wp.orders LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	o wp.orders;
BEGIN
	EXECUTE format('SELECT id, customer_id, amount, ordered_at, paid_at, note FROM %s WHERE id >= $1 ORDER BY id LIMIT 1', rel)
	   INTO o USING gen.rnd_int(1, (SELECT last_value FROM wp.order_ids));
	IF o.id IS NULL THEN
		EXECUTE format('SELECT id, customer_id, amount, ordered_at, paid_at, note FROM %s ORDER BY id LIMIT 1', rel) INTO o;
	END IF;
	RETURN o;
END $$;
CREATE FUNCTION wp.some_shop() RETURNS wp.shop_orders LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	o wp.shop_orders;
BEGIN
	SELECT * INTO o FROM wp.shop_orders WHERE order_no >= gen.rnd_int(1, (SELECT last_value FROM wp.order_ids))
	 ORDER BY order_no LIMIT 1;
	IF o.order_no IS NULL THEN
		SELECT * INTO o FROM wp.shop_orders ORDER BY order_no LIMIT 1;
	END IF;
	RETURN o;
END $$;

-- a random customer of the master (NULL when empty)
CREATE FUNCTION wp.some_master() RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	m text := (SELECT master FROM wp.cfg);
	k bigint;
BEGIN
	EXECUTE format('SELECT id FROM %1$s ORDER BY id OFFSET floor(random() * (SELECT count(*) FROM %1$s)) LIMIT 1', m) INTO k;
	RETURN k;
END $$;

-- The first quarter from 2024-04-01 on (up to T + 15 months) that no
-- attached partition covers.
CREATE FUNCTION wp.free_quarter() RETURNS timestamptz LANGUAGE sql STABLE AS $$
	SELECT q FROM generate_series('2024-04-01 00:00:00+00'::timestamptz, crm_grade.as_of() + interval '15 months',
								  interval '3 months') q
	 WHERE NOT EXISTS (SELECT 1 FROM wp.part p
						WHERE p.attached AND p.kind IN ('range', 'hashed')
						  AND coalesce(p.lo, '-infinity') < q + interval '3 months' AND q < p.hi)
	 ORDER BY q LIMIT 1
$$;

CREATE FUNCTION wp.qname(q timestamptz) RETURNS text LANGUAGE sql VOLATILE AS $$
	SELECT 'wp.orders_' || to_char(q AT TIME ZONE 'UTC', 'YYYY"q"Q') || '_' || nextval('wp.order_ids')
$$;

-- Partition maintenance: one random step.  Every step keeps wp.part true.
CREATE FUNCTION wp.maintain() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r float8 := random();
	q timestamptz;
	p wp.part;
	r2 float8 := random();
	name text;
BEGIN
	IF r < 0.25 THEN
		-- a new quarter
		q := wp.free_quarter();
		IF q IS NULL THEN
			RETURN;
		END IF;
		name := wp.qname(q);
		IF EXISTS (SELECT 1 FROM wp.part x WHERE NOT x.attached AND x.kind IN ('range', 'hashed') AND x.lo = q) THEN
			-- the quarter's detached table is attached again (below)
			r := 0.5;
		ELSIF r2 < 0.35 THEN
			-- CREATE TABLE ... PARTITION OF, the default partition's rows of
			-- the quarter moved into it (pg_partman's partition_data_time():
			-- out of the default, then INSERT ... SELECT into the partition)
			CREATE TEMP TABLE wp_moved ON COMMIT DROP AS
			WITH m AS (DELETE FROM wp.orders_default WHERE ordered_at >= q AND ordered_at < q + interval '3 months' RETURNING *)
			SELECT * FROM m;
			EXECUTE format('CREATE TABLE %s PARTITION OF wp.orders FOR VALUES FROM (%L) TO (%L)', name, q, q + interval '3 months');
			EXECUTE format('INSERT INTO %s SELECT * FROM wp_moved', name);
			DROP TABLE wp_moved;
			INSERT INTO wp.part (rel, kind, lo, hi) VALUES (name, 'range', q, q + interval '3 months');
			PERFORM wp.did('create partition');
		ELSIF r2 < 0.70 THEN
			-- a filled table, its columns in another order and one dropped,
			-- takes the default partition's rows of the quarter, gets new
			-- rows of its own, and is attached
			EXECUTE format('CREATE TABLE %s (note text, junk int, paid_at timestamptz, ordered_at timestamptz NOT NULL, '
						   'amount numeric(14,2) NOT NULL, customer_id integer NOT NULL, '
						   'id bigint NOT NULL DEFAULT nextval(''wp.order_ids''))', name);
			EXECUTE format('ALTER TABLE %s DROP COLUMN junk', name);
			EXECUTE format('WITH m AS (DELETE FROM wp.orders_default WHERE ordered_at >= $1 AND ordered_at < $2 RETURNING *) '
						   'INSERT INTO %s (id, customer_id, amount, ordered_at, paid_at, note) '
						   'SELECT id, customer_id, amount, ordered_at, paid_at, note FROM m', name)
			  USING q, q + interval '3 months';
			EXECUTE format('INSERT INTO %s (customer_id, amount, ordered_at, paid_at) '
						   'SELECT wp.rnd_customer(), gen.rnd_amount(), t, gen.rnd_paid(t) '
						   '  FROM (SELECT $1 + random() * interval ''3 months'' AS t FROM generate_series(1, $2)) x', name)
			  USING q, gen.rnd_int(5, 40)::int;
			EXECUTE format('ALTER TABLE wp.orders ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', name, q, q + interval '3 months');
			INSERT INTO wp.part (rel, kind, lo, hi) VALUES (name, 'range', q, q + interval '3 months');
			PERFORM wp.did('attach filled table');
		ELSE
			-- a hash-partitioned quarter: the default partition is detached,
			-- the quarter created with its leaves, the default's rows of the
			-- quarter moved through the root, the default attached again
			ALTER TABLE wp.orders DETACH PARTITION wp.orders_default;
			EXECUTE format('CREATE TABLE %s PARTITION OF wp.orders FOR VALUES FROM (%L) TO (%L) PARTITION BY HASH (customer_id)',
						   name, q, q + interval '3 months');
			EXECUTE format('CREATE TABLE %1$s_h0 PARTITION OF %1$s FOR VALUES WITH (MODULUS 2, REMAINDER 0)', name);
			-- the second leaf made apart, columns in another order and one
			-- dropped, and attached to the hashed partition
			EXECUTE format('CREATE TABLE %s_h1 (amount numeric(14,2) NOT NULL, gone text, id bigint NOT NULL DEFAULT nextval(''wp.order_ids''), '
						   'note text, customer_id integer NOT NULL, paid_at timestamptz, ordered_at timestamptz NOT NULL)', name);
			EXECUTE format('ALTER TABLE %s_h1 DROP COLUMN gone', name);
			EXECUTE format('ALTER TABLE %1$s ATTACH PARTITION %1$s_h1 FOR VALUES WITH (MODULUS 2, REMAINDER 1)', name);
			INSERT INTO wp.orders SELECT * FROM wp.orders_default WHERE ordered_at >= q AND ordered_at < q + interval '3 months';
			DELETE FROM wp.orders_default WHERE ordered_at >= q AND ordered_at < q + interval '3 months';
			ALTER TABLE wp.orders ATTACH PARTITION wp.orders_default DEFAULT;
			INSERT INTO wp.part (rel, kind, lo, hi) VALUES (name, 'hashed', q, q + interval '3 months');
			INSERT INTO wp.part (rel, kind, parent, modulus, remainder) VALUES
				(name || '_h0', 'hleaf', name, 2, 0), (name || '_h1', 'hleaf', name, 2, 1);
			PERFORM wp.did('create hash-partitioned partition');
		END IF;
	END IF;
	IF r < 0.25 THEN
		NULL;
	ELSIF r < 0.37 THEN
		-- DETACH a range partition or a hashed one (its rows stop counting)
		p := wp.some_part('{range,hashed}');
		IF p.rel IS NULL OR p.rel = 'wp.orders_hist' THEN
			RETURN;
		END IF;
		EXECUTE format('ALTER TABLE wp.orders DETACH PARTITION %s', p.rel);
		UPDATE wp.part SET attached = false WHERE rel = p.rel OR parent = p.rel;
		PERFORM wp.did('detach partition');
	ELSIF r < 0.5 OR r = 0.5 THEN
		-- ATTACH a detached partition again, after writes it got while
		-- detached and the default partition's rows of its range
		SELECT * INTO p FROM wp.part x
		 WHERE NOT x.attached AND x.kind IN ('range', 'hashed')
		   AND NOT EXISTS (SELECT 1 FROM wp.part y WHERE y.attached AND y.kind IN ('range', 'hashed')
							 AND coalesce(y.lo, '-infinity') < x.hi AND coalesce(x.lo, '-infinity') < y.hi)
		 ORDER BY random() LIMIT 1;
		IF p.rel IS NULL THEN
			RETURN;
		END IF;
		EXECUTE format('UPDATE %s SET amount = amount + 1 WHERE id %% 3 = 0', p.rel);
		EXECUTE format('DELETE FROM %s WHERE id %% 7 = 0', p.rel);
		EXECUTE format('WITH m AS (DELETE FROM wp.orders_default WHERE ordered_at >= $1 AND ordered_at < $2 RETURNING *) '
					   'INSERT INTO %s (id, customer_id, amount, ordered_at, paid_at, note) '
					   'SELECT id, customer_id, amount, ordered_at, paid_at, note FROM m', p.rel)
		  USING p.lo, p.hi;
		EXECUTE format('ALTER TABLE wp.orders ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)', p.rel, p.lo, p.hi);
		UPDATE wp.part SET attached = true WHERE rel = p.rel OR parent = p.rel;
		PERFORM wp.did('re-attach detached partition');
	ELSIF r < 0.60 THEN
		-- DROP a partition: attached (its rows go) or detached (nothing changes)
		SELECT * INTO p FROM wp.part x WHERE x.kind IN ('range', 'hashed') AND x.rel <> 'wp.orders_hist'
		 ORDER BY x.attached, random() LIMIT 1;
		IF p.rel IS NULL THEN
			RETURN;
		END IF;
		IF p.attached AND random() < 0.5 THEN
			SELECT * INTO p FROM wp.part x WHERE x.kind IN ('range', 'hashed') AND x.attached AND x.rel <> 'wp.orders_hist'
			 ORDER BY random() LIMIT 1;
		END IF;
		EXECUTE format('DROP TABLE %s', p.rel);
		DELETE FROM wp.part WHERE rel = p.rel OR parent = p.rel;
		PERFORM wp.did(CASE WHEN p.attached THEN 'drop attached partition' ELSE 'drop detached partition' END);
	ELSIF r < 0.75 THEN
		-- TRUNCATE a leaf, a hashed partition or the default partition
		p := wp.some_part(ARRAY[(ARRAY['range', 'hashed', 'hleaf', 'default', 'default'])[gen.rnd_int(1, 5)]]);
		IF p.rel IS NULL THEN
			RETURN;
		END IF;
		EXECUTE format('TRUNCATE %s', p.rel);
		PERFORM wp.did('truncate ' || p.kind);
	ELSIF r < 0.85 THEN
		-- TRUNCATE of two partitions in one statement (one refresh serves
		-- both triggers), or of the master, filled again at once
		IF random() < 0.5 THEN
			p := wp.some_part('{range,hleaf}');
			EXECUTE format('TRUNCATE %s, wp.orders_default', p.rel);
			PERFORM wp.did('truncate two partitions');
		ELSE
			name := (SELECT master FROM wp.cfg);
			EXECUTE format('CREATE TEMP TABLE wp_master_copy AS SELECT * FROM %s', name);
			EXECUTE format('TRUNCATE %s', name);
			EXECUTE format('INSERT INTO %s SELECT * FROM wp_master_copy WHERE random() < 0.9', name);
			DROP TABLE wp_master_copy;
			PERFORM wp.did('truncate master');
		END IF;
	ELSIF r < 0.91 THEN
		-- a migration renames attached columns; the application writes
		-- with the new names; then they are renamed back
		ALTER TABLE wp.orders RENAME COLUMN amount TO amount_renamed;
		ALTER TABLE wp.orders RENAME COLUMN customer_id TO customer_renamed;
		ALTER TABLE wp.shop_orders RENAME COLUMN placed TO placed_renamed;
		INSERT INTO wp.orders (customer_renamed, amount_renamed, ordered_at) VALUES (wp.rnd_customer(), gen.rnd_amount(), gen.rnd_time());
		p := wp.some_part('{range,hleaf,default}');
		EXECUTE format('UPDATE %s SET amount_renamed = amount_renamed + 5 WHERE id %% 9 = 1', p.rel);
		INSERT INTO wp.shop_orders (client, total, placed_renamed) VALUES (wp.rnd_client(), gen.rnd_amount(), wp.loc(gen.rnd_time()));
		UPDATE wp.shop_orders SET placed_renamed = placed_renamed - interval '1 day' WHERE order_no % 13 = 2;
		ALTER TABLE wp.orders RENAME COLUMN amount_renamed TO amount;
		ALTER TABLE wp.orders RENAME COLUMN customer_renamed TO customer_id;
		ALTER TABLE wp.shop_orders RENAME COLUMN placed_renamed TO placed;
		PERFORM wp.did('rename columns and write');
	ELSE
		-- a hash leaf detached, written to while detached, attached again
		p := wp.some_part('{hleaf}');
		IF p.rel IS NULL THEN
			RETURN;
		END IF;
		EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', p.parent, p.rel);
		EXECUTE format('DELETE FROM %s WHERE id %% 5 = 0', p.rel);
		EXECUTE format('UPDATE %s SET amount = -amount WHERE id %% 11 = 0', p.rel);
		EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
					   p.parent, p.rel, p.modulus, p.remainder);
		PERFORM wp.did('detach and attach hash leaf');
	END IF;
END $$;

-- ---------------------------------------------------------------- operations

CREATE FUNCTION wp.run(nops int, ticks boolean DEFAULT true, maintenance float8 DEFAULT 0.025) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	r float8;
	k bigint;
	a int;
	b int;
	c bigint;
	o wp.orders;
	s wp.shop_orders;
	p wp.part;
	t timestamptz;
	m text;
BEGIN
	FOR i IN 1 .. nops LOOP
		r := random();
		m := (SELECT master FROM wp.cfg);
		IF r < maintenance THEN
			PERFORM wp.maintain();
		ELSIF r < 0.10 THEN
			-- through the root: one order, or several customers' orders
			IF random() < 0.5 THEN
				t := gen.rnd_time();
				INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
				VALUES (wp.rnd_customer(), gen.rnd_amount(), t, gen.rnd_paid(t));
				PERFORM wp.did('insert root');
			ELSE
				INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
				SELECT x.c, gen.rnd_amount(), x.t, gen.rnd_paid(x.t)
				  FROM (SELECT cs.c, gen.rnd_time() AS t
						  FROM (SELECT wp.rnd_customer() AS c FROM generate_series(1, gen.rnd_int(2, 6)::int)) cs,
							   LATERAL generate_series(1, gen.rnd_int(1, 3)::int + 0 * cs.c) g) x;
				PERFORM wp.did('insert root multi-row');
			END IF;
		ELSIF r < 0.17 THEN
			-- straight into a range leaf, a hash leaf, a hashed partition or the default partition
			p := wp.some_part('{range,hleaf,hashed,default}');
			PERFORM wp.did('insert into ' || p.kind, wp.insert_into(p, gen.rnd_int(1, 6)::int));
		ELSIF r < 0.21 THEN
			-- UPDATE through the root: amount, payment, time (across partitions), customer
			o := wp.some_order();
			k := gen.rnd_int(1, 4);
			IF k = 1 THEN
				UPDATE wp.orders SET amount = gen.rnd_amount() WHERE id = o.id;
			ELSIF k = 2 THEN
				UPDATE wp.orders SET paid_at = gen.rnd_paid(ordered_at) WHERE id = o.id;
			ELSIF k = 3 THEN
				UPDATE wp.orders SET ordered_at = gen.rnd_time() WHERE id = o.id;
			ELSE
				UPDATE wp.orders SET customer_id = wp.rnd_customer() WHERE id = o.id;
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('update root', k);
		ELSIF r < 0.24 THEN
			-- UPDATE moving all of two customers' orders: swap, merge, shift in time
			a := wp.rnd_customer();
			b := wp.rnd_customer();
			k := gen.rnd_int(1, 3);
			IF k = 1 THEN
				UPDATE wp.orders SET customer_id = CASE WHEN customer_id = a THEN b ELSE a END WHERE customer_id IN (a, b);
			ELSIF k = 2 THEN
				UPDATE wp.orders SET customer_id = b WHERE customer_id = a;
			ELSE
				UPDATE wp.orders SET ordered_at = ordered_at + gen.rnd_int(-120, 120) * interval '1 day' WHERE customer_id IN (a, b);
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('update root moving orders', k);
		ELSIF r < 0.29 THEN
			-- UPDATE straight in a partition
			p := wp.some_part('{range,hleaf,hashed,default}');
			o := wp.some_order(p.rel);
			k := gen.rnd_int(1, 4);
			IF k = 1 THEN
				EXECUTE format('UPDATE %s SET amount = $1 WHERE id = $2', p.rel) USING gen.rnd_amount(), o.id;
			ELSIF k = 2 AND p.kind <> 'hleaf' THEN
				-- another customer (a hashed partition moves it to another leaf)
				EXECUTE format('UPDATE %s SET customer_id = $1 WHERE id = $2', p.rel) USING wp.rnd_customer(), o.id;
			ELSIF k = 3 THEN
				EXECUTE format('UPDATE %s SET paid_at = NULL, note = ''unpaid'' WHERE customer_id = $1', p.rel) USING o.customer_id;
			ELSE
				-- a little later, inside the partition when that is where it stays
				BEGIN
					EXECUTE format('UPDATE %s SET ordered_at = ordered_at + $1 WHERE id = $2', p.rel)
					  USING gen.rnd_int(-5, 5) * interval '1 hour', o.id;
				EXCEPTION WHEN check_violation THEN
					PERFORM wp.did('update out of partition refused');
				END;
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('update in ' || coalesce(p.kind, 'none'), k);
		ELSIF r < 0.33 THEN
			-- DELETE through the root, in a partition, or a customer's orders
			k := gen.rnd_int(1, 3);
			IF k = 1 THEN
				o := wp.some_order();
				DELETE FROM wp.orders WHERE id = o.id;
			ELSIF k = 2 THEN
				p := wp.some_part('{range,hleaf,hashed,default}');
				o := wp.some_order(p.rel);
				EXECUTE format('DELETE FROM %s WHERE id = $1 OR (customer_id = $2 AND id %% 4 = 0)', p.rel) USING o.id, o.customer_id;
			ELSE
				DELETE FROM wp.orders WHERE customer_id = wp.rnd_customer();
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('delete', k);
		ELSIF r < 0.36 THEN
			-- a refund of an order, a little later, through the root
			o := wp.some_order();
			INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
			SELECT customer_id, -abs(amount), ordered_at + random() * interval '20 days', NULL FROM wp.orders WHERE id = o.id;
			PERFORM wp.did('refund');
		ELSIF r < 0.41 THEN
			-- an upsert of a customer's orders: some exist (amount and payment
			-- change), some are new, through the root or in a leaf
			o := wp.some_order();
			IF random() < 0.7 THEN
				INSERT INTO wp.orders AS x (id, customer_id, amount, ordered_at, paid_at)
				SELECT id, customer_id, gen.rnd_amount(), ordered_at, gen.rnd_paid(ordered_at)
				  FROM wp.orders WHERE customer_id = o.customer_id AND random() < 0.6
				UNION ALL
				SELECT nextval('wp.order_ids'), o.customer_id, gen.rnd_amount(), t, gen.rnd_paid(t)
				  FROM (SELECT gen.rnd_time() AS t FROM generate_series(1, gen.rnd_int(1, 3)::int)) n
				ON CONFLICT (id, ordered_at, customer_id) DO UPDATE SET amount = EXCLUDED.amount, paid_at = EXCLUDED.paid_at
				 WHERE x.amount IS DISTINCT FROM EXCLUDED.amount OR random() < 0.5;
				GET DIAGNOSTICS k = ROW_COUNT;
				PERFORM wp.did('upsert root', k);
			ELSE
				p := wp.some_part('{range,hleaf,default}');
				o := wp.some_order(p.rel);
				BEGIN
				EXECUTE format('INSERT INTO %1$s AS x (id, customer_id, amount, ordered_at, paid_at) '
							   'SELECT id, customer_id, -amount, ordered_at, paid_at FROM %1$s WHERE customer_id = $1 '
							   'UNION ALL SELECT nextval(''wp.order_ids''), $1, $2, ordered_at + interval ''1 second'', NULL FROM %1$s WHERE id = $3 '
							   'ON CONFLICT (id, ordered_at, customer_id) DO UPDATE SET amount = EXCLUDED.amount', p.rel)
				  USING o.customer_id, gen.rnd_amount(), o.id;
				GET DIAGNOSTICS k = ROW_COUNT;
				PERFORM wp.did('upsert in ' || coalesce(p.kind, 'none'), k);
				EXCEPTION WHEN check_violation THEN
					-- the new row, a second later, is past the partition's end
					PERFORM wp.did('update out of partition refused');
				END;
			END IF;
		ELSIF r < 0.46 THEN
			-- MERGE through the root: a customer's orders deleted, updated
			-- (maybe moved in time, across partitions) and new ones inserted
			o := wp.some_order();
			MERGE INTO wp.orders x
			USING (SELECT id, customer_id, ordered_at, (ARRAY['d', 'u', 'm'])[gen.rnd_int(1, 3)] AS act,
						  gen.rnd_amount() AS amount
					 FROM wp.orders WHERE customer_id = o.customer_id AND random() < 0.7
				   UNION ALL
				   SELECT NULL, o.customer_id, gen.rnd_time(), 'i', gen.rnd_amount() FROM generate_series(1, gen.rnd_int(1, 3)::int)) src
			   ON x.id = src.id AND x.ordered_at = src.ordered_at AND x.customer_id = src.customer_id
			WHEN MATCHED AND src.act = 'd' THEN DELETE
			WHEN MATCHED AND src.act = 'm' THEN UPDATE SET ordered_at = x.ordered_at - interval '40 days', amount = src.amount
			WHEN MATCHED THEN UPDATE SET amount = src.amount
			WHEN NOT MATCHED THEN INSERT (customer_id, amount, ordered_at, paid_at)
				VALUES (src.customer_id, src.amount, src.ordered_at, gen.rnd_paid(src.ordered_at));
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('merge root', k);
		ELSIF r < 0.49 THEN
			-- MERGE into the plain table: delete, update, insert for one client
			c := wp.rnd_client();
			MERGE INTO wp.shop_orders x
			USING (SELECT order_no, (ARRAY['d', 'u'])[gen.rnd_int(1, 2)] AS act FROM wp.shop_orders WHERE client = c
				   UNION ALL SELECT NULL, 'i') src
			   ON x.order_no = src.order_no
			WHEN MATCHED AND src.act = 'd' THEN DELETE
			WHEN MATCHED THEN UPDATE SET total = round((x.total * 0.9)::numeric, 2), paid_on = NULL
			WHEN NOT MATCHED THEN INSERT (client, total, placed, paid_on)
				VALUES (c, gen.rnd_amount(), wp.loc(crm_grade.as_of() - random() * interval '200 days'), NULL);
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('merge shop', k);
		ELSIF r < 0.53 THEN
			-- writable CTEs
			k := gen.rnd_int(1, 3);
			o := wp.some_order();
			IF k = 1 THEN
				-- an order deleted and inserted again, changed, in one statement
				WITH d AS (DELETE FROM wp.orders WHERE id = o.id RETURNING *)
				INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
				SELECT customer_id, amount * 2, ordered_at + interval '3 days', paid_at FROM d
				UNION ALL SELECT o.customer_id, gen.rnd_amount(), gen.rnd_time(), NULL;
				PERFORM wp.did('cte delete+insert');
			ELSIF k = 2 THEN
				-- the same customers' orders into both order tables in one statement
				WITH ins AS (
					INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
					SELECT c, gen.rnd_amount(), t, gen.rnd_paid(t)
					  FROM (SELECT o.customer_id AS c, gen.rnd_time() AS t FROM generate_series(1, gen.rnd_int(1, 3)::int)
							UNION ALL SELECT wp.rnd_customer(), gen.rnd_time()) x
					RETURNING customer_id, amount, ordered_at)
				INSERT INTO wp.shop_orders (client, total, placed, paid_on)
				SELECT customer_id, amount / 3, wp.loc(ordered_at + interval '1 hour'), (wp.loc(ordered_at) + interval '9 days')::date FROM ins;
				PERFORM wp.did('cte insert into both tables');
			ELSE
				-- an update in one table, a delete in the other, an insert, same customer
				WITH u AS (UPDATE wp.orders SET amount = amount + 10 WHERE customer_id = o.customer_id RETURNING customer_id),
					 d AS (DELETE FROM wp.shop_orders WHERE client = o.customer_id AND order_no % 2 = 0 RETURNING client)
				INSERT INTO wp.shop_orders (client, total, placed)
				SELECT o.customer_id, (SELECT count(*) FROM u) * 100 + (SELECT count(*) FROM d), wp.loc(crm_grade.as_of());
				PERFORM wp.did('cte update+delete+insert');
			END IF;
		ELSIF r < 0.61 THEN
			-- the plain order table
			k := gen.rnd_int(1, 6);
			IF k = 1 THEN
				t := gen.rnd_time();
				INSERT INTO wp.shop_orders (client, total, placed, paid_on)
				VALUES (wp.rnd_client(), gen.rnd_amount(), wp.loc(t), CASE WHEN random() < 0.6 THEN wp.loc(gen.rnd_paid(t))::date END);
			ELSIF k = 2 THEN
				INSERT INTO wp.shop_orders (client, total, placed, paid_on)
				SELECT wp.rnd_client(), gen.rnd_amount(), wp.loc(t), wp.loc(t + interval '2 days')::date
				  FROM (SELECT gen.rnd_time() AS t FROM generate_series(1, gen.rnd_int(2, 8)::int)) x;
			ELSIF k = 3 THEN
				s := wp.some_shop();
				UPDATE wp.shop_orders SET total = gen.rnd_amount(), placed = wp.loc(gen.rnd_time()) WHERE order_no = s.order_no;
			ELSIF k = 4 THEN
				s := wp.some_shop();
				UPDATE wp.shop_orders SET client = wp.rnd_client(), paid_on = (placed + interval '30 days')::date WHERE order_no = s.order_no;
			ELSIF k = 5 THEN
				s := wp.some_shop();
				DELETE FROM wp.shop_orders WHERE order_no = s.order_no OR (client = s.client AND order_no % 3 = 0);
			ELSE
				-- nothing crm_grade reads changes
				UPDATE wp.shop_orders SET channel = 'web' || i WHERE client = wp.rnd_client();
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('shop write', k);
		ELSIF r < 0.71 THEN
			-- the customer master
			k := gen.rnd_int(1, 8);
			IF k = 1 THEN
				-- new customers, or new attributes for existing ones
				EXECUTE format('INSERT INTO %s AS x (id, rep, since, attrs) SELECT $1, $2, $3, $4 '
							   'ON CONFLICT (id) DO UPDATE SET attrs = EXCLUDED.attrs', m)
				  USING wp.rnd_master_key(), 'rep' || gen.rnd_int(1, 6), crm_grade.as_of() - random() * interval '900 days', wp.rnd_attrs();
			ELSIF k IN (2, 3) THEN
				EXECUTE format('UPDATE %s SET attrs = $1 WHERE id = $2', m) USING wp.rnd_attrs(), wp.some_master();
			ELSIF k = 4 THEN
				EXECUTE format('UPDATE %s SET rep = $1, since = since - interval ''2 days'' WHERE id = $2', m)
				  USING CASE WHEN random() < 0.1 THEN NULL ELSE 'rep' || gen.rnd_int(1, 6) END, wp.some_master();
			ELSIF k = 5 THEN
				EXECUTE format('DELETE FROM %s WHERE id = $1', m) USING wp.some_master();
			ELSIF k = 6 THEN
				-- a customer's key changes
				c := wp.rnd_master_key();
				BEGIN
					EXECUTE format('UPDATE %s SET id = $1 WHERE id = $2', m) USING c, wp.some_master();
				EXCEPTION WHEN unique_violation THEN
					PERFORM wp.did('master key change refused');
				END;
			ELSIF k = 7 THEN
				-- MERGE into the master
				EXECUTE format('MERGE INTO %s x USING (SELECT k, wp.rnd_attrs() AS a FROM unnest(ARRAY[$1, $2, $3]) k) src ON x.id = src.k '
							   'WHEN MATCHED AND src.k %% 5 = 0 THEN DELETE '
							   'WHEN MATCHED THEN UPDATE SET attrs = src.a, rep = ''rep9'' '
							   'WHEN NOT MATCHED THEN INSERT (id, rep, since, attrs) VALUES (src.k, ''rep8'', $4, src.a)', m)
				  USING wp.rnd_master_key(), wp.rnd_master_key(), wp.rnd_master_key(), crm_grade.as_of() - interval '100 days';
			ELSE
				-- attributes merged into a range of customers
				c := gen.rnd_int(-3, 460);
				EXECUTE format('UPDATE %s SET attrs = coalesce(CASE WHEN jsonb_typeof(attrs) = ''object'' THEN attrs END, ''{}'') '
							   '|| jsonb_build_object(''potential'', $1) WHERE id BETWEEN $2 AND $2 + 8', m)
				  USING wp.rnd_attr_value(), c;
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM wp.did('master write', k);
		ELSIF r < 0.75 THEN
			-- writes rolled back with their subtransaction, DDL included
			k := gen.rnd_int(1, 4);
			o := wp.some_order();
			BEGIN
				IF k = 1 THEN
					INSERT INTO wp.orders (customer_id, amount, ordered_at) VALUES (o.customer_id, 999999, crm_grade.as_of());
					UPDATE wp.orders SET amount = amount * 3 WHERE customer_id = o.customer_id;
					INSERT INTO wp.shop_orders (client, total, placed) VALUES (o.customer_id, 777777, wp.loc(crm_grade.as_of()));
				ELSIF k = 2 THEN
					TRUNCATE wp.orders_default, wp.orders_hist;
				ELSIF k = 3 THEN
					p := wp.some_part('{range,hashed}');
					EXECUTE format('DROP TABLE %s', p.rel);
				ELSE
					ALTER TABLE wp.orders DETACH PARTITION wp.orders_default;
					DELETE FROM wp.orders WHERE customer_id = o.customer_id;
				END IF;
				PERFORM 1 / 0;
			EXCEPTION WHEN division_by_zero THEN
				PERFORM wp.did('rolled back subtransaction');
			END;
		ELSIF r < 0.765 THEN
			-- rows applied as logical replication applies them
			-- (session_replication_role = replica): statement triggers stay
			-- silent, crm_grade's row trigger grades each row
			PERFORM set_config('session_replication_role', 'replica', true);
			k := gen.rnd_int(1, 5);
			o := wp.some_order();
			IF k = 1 THEN
				INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
				SELECT o.customer_id, gen.rnd_amount(), t1, gen.rnd_paid(t1)
				  FROM (SELECT gen.rnd_time() AS t1 FROM generate_series(1, gen.rnd_int(1, 3)::int)) x;
			ELSIF k = 2 THEN
				UPDATE wp.orders SET amount = amount + 1, ordered_at = ordered_at - interval '50 days' WHERE customer_id = o.customer_id;
			ELSIF k = 3 THEN
				p := wp.some_part('{range,hleaf,default}');
				EXECUTE format('DELETE FROM %s WHERE customer_id = $1 OR id = $2', p.rel) USING o.customer_id, o.id;
			ELSIF k = 4 THEN
				s := wp.some_shop();
				UPDATE wp.shop_orders SET client = wp.rnd_client() WHERE order_no = s.order_no;
				INSERT INTO wp.shop_orders (client, total, placed) VALUES (s.client, gen.rnd_amount(), wp.loc(gen.rnd_time()));
			ELSE
				EXECUTE format('UPDATE %s SET attrs = $1 WHERE id = $2', m) USING wp.rnd_attrs(), wp.some_master();
			END IF;
			GET DIAGNOSTICS k = ROW_COUNT;
			PERFORM set_config('session_replication_role', 'origin', true);
			PERFORM wp.did('replica-mode write', k);
		ELSIF r < 0.78 THEN
			-- a leaf and the root written in one statement, or a MERGE into a leaf
			p := wp.some_part('{range,hleaf}');
			o := wp.some_order(p.rel);
			CONTINUE WHEN o.id IS NULL;
			IF random() < 0.5 THEN
				EXECUTE format('WITH a AS (INSERT INTO %s (customer_id, amount, ordered_at) SELECT customer_id, amount / 2, ordered_at '
							   '  FROM %s WHERE id = $1 RETURNING customer_id, amount, ordered_at), '
							   'd AS (DELETE FROM %s WHERE customer_id = $2 AND id %% 3 = 0 RETURNING 1) '
							   'INSERT INTO wp.orders (customer_id, amount, ordered_at) '
							   'SELECT customer_id, amount + (SELECT count(*) FROM d), ordered_at + interval ''400 days'' FROM a',
							   p.rel, p.rel, p.rel)
				  USING o.id, o.customer_id;
				GET DIAGNOSTICS k = ROW_COUNT;
				PERFORM wp.did('cte leaf and root', k);
			ELSE
				EXECUTE format('MERGE INTO %1$s x USING (SELECT id, customer_id, (id %% 3) AS act FROM %1$s WHERE customer_id = $1 '
							   '  UNION ALL SELECT NULL, $1, 3) src ON x.id = src.id '
							   'WHEN MATCHED AND src.act = 0 THEN DELETE '
							   'WHEN MATCHED THEN UPDATE SET amount = x.amount * 2, paid_at = NULL '
							   'WHEN NOT MATCHED THEN INSERT (customer_id, amount, ordered_at) VALUES (src.customer_id, 123.45, $2)', p.rel)
				  USING o.customer_id, o.ordered_at;
				GET DIAGNOSTICS k = ROW_COUNT;
				PERFORM wp.did('merge leaf', k);
			END IF;
		ELSIF r < 0.785 THEN
			-- an upsert whose conflicting row would be changed twice: refused
			o := wp.some_order();
			BEGIN
				INSERT INTO wp.orders AS x (id, customer_id, amount, ordered_at)
				VALUES (o.id, o.customer_id, 1, o.ordered_at), (o.id, o.customer_id, 2, o.ordered_at)
				ON CONFLICT (id, ordered_at, customer_id) DO UPDATE SET amount = EXCLUDED.amount;
			EXCEPTION WHEN cardinality_violation THEN
				PERFORM wp.did('upsert refused');
			END;
		ELSIF r < 0.80 THEN
			-- UPDATEs that change nothing crm_grade reads
			a := wp.rnd_customer();
			UPDATE wp.orders SET note = 'n' || i WHERE customer_id = a;
			UPDATE wp.orders SET amount = amount WHERE customer_id = a::bigint + 1;
			PERFORM wp.did('no-op update');
		ELSIF r < 0.82 AND ticks THEN
			-- time passes without regrade(): writers meet expired states
			PERFORM wp.set_as_of(crm_grade.as_of() + random() * interval '2 days');
			PERFORM wp.did('tick');
		ELSE
			-- more inserts through the root, a customer at a time
			t := gen.rnd_time();
			INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
			SELECT c1, gen.rnd_amount(), t + g * interval '1 hour', gen.rnd_paid(t)
			  FROM (SELECT wp.rnd_customer() AS c1) x, generate_series(0, gen.rnd_int(0, 2)::int) g;
			PERFORM wp.did('insert root');
		END IF;
	END LOOP;
END $$;

-- ---------------------------------------------------------------- checks

CREATE TEMP TABLE wp_verify (customer text, field text, stored text, recomputed text);

CREATE FUNCTION wp.diag_rows(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	d text;
BEGIN
	SELECT string_agg(format('  %s %s: stored %s, recomputed %s', v.customer, v.field, v.stored, v.recomputed),
					  E'\n' ORDER BY v.customer, v.field)
	  INTO d
	  FROM (SELECT * FROM wp_verify ORDER BY customer, field LIMIT 15) v;
	IF d IS NOT NULL THEN
		RETURN NEXT diag(label || ' at as_of ' || crm_grade.as_of() || ' (tz ' ||
						 current_setting('crm_grade.timezone') || '):' || E'\n' || d);
	END IF;
END $$;

-- Before regrade(): rows whose valid_until has not passed already agree.  1 test.
CREATE FUNCTION wp.early(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	t timestamptz := crm_grade.as_of();
BEGIN
	TRUNCATE wp_verify;
	INSERT INTO wp_verify
	SELECT v.* FROM crm_grade.verify() v
	  JOIN crm_grade.customer_state s ON s.customer = v.customer
	 WHERE (s.valid_until IS NULL OR s.valid_until > t) AND s.graded_at <= t;
	RETURN NEXT is((SELECT count(*) FROM wp_verify), 0::bigint,
				   label || ': unexpired rows already agree with verify() before regrade()');
	RETURN QUERY SELECT * FROM wp.diag_rows(label);
END $$;

-- The attributes the active policy reads that hold something other than a
-- number (or a string holding one), by hand.
CREATE FUNCTION wp.expected_issues() RETURNS TABLE (customer text, column_name text) LANGUAGE sql STABLE AS $$
	WITH pol AS (
		SELECT p.definition FROM crm_grade.policy p
		 WHERE p.name = coalesce((SELECT name FROM crm_grade.active_policy), 'abc')
	), names AS (
		SELECT DISTINCT substr(m #>> '{}', 6) AS name
		  FROM pol, jsonb_path_query(pol.definition, 'lax $.**.metric') m
		 WHERE m #>> '{}' LIKE 'attr.%'
	), master AS (
		SELECT id::text AS id, attrs FROM wp.customers WHERE (SELECT master FROM wp.cfg) = 'wp.customers'
		UNION ALL
		SELECT id::text, attrs FROM wp.customers4 WHERE (SELECT master FROM wp.cfg) = 'wp.customers4'
	)
	SELECT c.id, 'attrs.' || n.name
	  FROM master c, names n
	 WHERE jsonb_typeof(c.attrs) = 'object'
	   AND jsonb_typeof(c.attrs -> n.name) NOT IN ('number', 'null')
	   AND NOT (jsonb_typeof(c.attrs -> n.name) = 'string'
				AND (c.attrs ->> n.name) ~ '^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?\s*$')
$$;

-- After regrade() (or a full refresh).  6 tests.
CREATE FUNCTION wp.check(label text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
	TRUNCATE wp_verify;
	INSERT INTO wp_verify SELECT * FROM crm_grade.verify();
	RETURN NEXT is((SELECT count(*) FROM wp_verify), 0::bigint, label || ': verify() is empty');
	RETURN QUERY SELECT * FROM wp.diag_rows(label);
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= crm_grade.as_of()),
				   0::bigint, label || ': no state row left with valid_until <= as_of');
	RETURN NEXT is((SELECT count(*) FROM crm_grade.customer_state s
					 WHERE s.graded_at IS NULL OR s.valid_until <= s.graded_at),
				   0::bigint, label || ': valid_until is NULL or after graded_at');
	RETURN NEXT is((SELECT count(*)
					  FROM crm_grade.customer_state s
					  FULL JOIN (SELECT id::text AS id, attrs, since FROM wp.customers
								  WHERE (SELECT master FROM wp.cfg) = 'wp.customers'
								 UNION ALL
								 SELECT id::text, attrs, since::timestamp AT TIME ZONE current_setting('crm_grade.timezone')
								   FROM wp.customers4 WHERE (SELECT master FROM wp.cfg) = 'wp.customers4') c
						ON c.id = s.customer
					 WHERE s.customer IS NULL
						OR s.in_master IS DISTINCT FROM (c.id IS NOT NULL)
						OR s.attributes IS DISTINCT FROM c.attrs
						OR s.created_at IS DISTINCT FROM c.since),
				   0::bigint, label || ': customer master mirrored (in_master, attributes, created_at)');
	RETURN NEXT is((SELECT count(*)
					  FROM (SELECT DISTINCT ON (h.customer) h.customer, h.new_grade
							  FROM crm_grade.history h ORDER BY h.customer, h.id DESC) last
					  FULL JOIN crm_grade.customer_state s ON s.customer = last.customer
					 WHERE last.customer IS NULL OR last.new_grade IS DISTINCT FROM s.grade),
				   0::bigint, label || ': each customer''s last grade_history row is its grade (NULL once gone)');
	RETURN NEXT set_eq('SELECT customer::text, column_name FROM crm_grade.data_issues',
					   'SELECT * FROM wp.expected_issues()',
					   label || ': data_issues lists exactly the attributes the policy reads that are not numbers');
END $$;

-- A phase: random writes, as_of moved on (by an interval or to a moment),
-- the early check, regrade(), the full check.  8 tests.
CREATE FUNCTION wp.phase(label text, nops int, jump interval, target timestamptz DEFAULT NULL,
						 ticks boolean DEFAULT true) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	expired bigint;
	n bigint;
	batch int;
	done bigint;
BEGIN
	PERFORM wp.run(nops, ticks);
	IF target IS NOT NULL AND target <= crm_grade.as_of() THEN
		RAISE EXCEPTION 'phase %: the workload is already at % (after %): fix the schedule', label, crm_grade.as_of(), target;
	END IF;
	PERFORM wp.set_as_of(coalesce(target, crm_grade.as_of() + jump));
	RETURN QUERY SELECT * FROM wp.early(label);
	expired := (SELECT count(*) FROM crm_grade.customer_state s WHERE s.valid_until <= crm_grade.as_of());
	-- in batches of random size (max_customers), until a batch is not full
	n := 0;
	LOOP
		batch := gen.rnd_int(1, 60);
		done := crm_grade.regrade(batch);
		n := n + done;
		EXIT WHEN done < batch;
	END LOOP;
	RETURN NEXT is(n, expired, label || ': regrade(max_customers) batches re-evaluate exactly the expired rows');
	RETURN QUERY SELECT * FROM wp.check(label);
END $$;

-- n orders of random customers placed in [t1, t2], in both order tables
CREATE FUNCTION wp.orders_between(t1 timestamptz, t2 timestamptz, n int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
	SELECT wp.rnd_customer(), gen.rnd_amount(), x.t, gen.rnd_paid(x.t)
	  FROM (SELECT t1 + random() * (t2 - t1) AS t FROM generate_series(1, n)) x;
	INSERT INTO wp.shop_orders (client, total, placed, paid_on)
	SELECT wp.rnd_client(), gen.rnd_amount(), wp.loc(x.t), wp.loc(x.t + interval '1 day')::date
	  FROM (SELECT t1 + random() * (t2 - t1) AS t FROM generate_series(1, n)) x;
	SELECT NULL::void
$$;

-- n shop orders at local times in [l1, l2] (wall-clock times a DST change
-- skips or repeats)
CREATE FUNCTION wp.local_orders_between(l1 timestamp, l2 timestamp, n int) RETURNS void LANGUAGE sql AS $$
	INSERT INTO wp.shop_orders (client, total, placed, paid_on)
	SELECT wp.rnd_client(), gen.rnd_amount(), l1 + random() * (l2 - l1), (l1 + interval '1 day')::date
	  FROM generate_series(1, n);
	SELECT NULL::void
$$;

-- ---------------------------------------------------------------- phase 0: back-fill

INSERT INTO wp.customers (id, rep, since, attrs)
SELECT k, 'rep' || gen.rnd_int(1, 6), crm_grade.as_of() - random() * interval '900 days', wp.rnd_attrs()
  FROM (SELECT k FROM generate_series(-3, 460) k WHERE random() < 0.7
		UNION ALL SELECT 3000000000 + k FROM generate_series(0, 30) k WHERE random() < 0.6) x;
INSERT INTO wp.orders (customer_id, amount, ordered_at, paid_at)
SELECT x.c, gen.rnd_amount(), x.t, gen.rnd_paid(x.t)
  FROM (SELECT wp.rnd_customer() AS c, gen.rnd_time() AS t FROM generate_series(1, 2200)) x;
INSERT INTO wp.shop_orders (client, total, placed, paid_on)
SELECT wp.rnd_client(), gen.rnd_amount(), wp.loc(x.t), CASE WHEN random() < 0.5 THEN wp.loc(x.t + interval '5 days')::date END
  FROM (SELECT gen.rnd_time() AS t FROM generate_series(1, 700)) x;

SELECT cmp_ok(crm_grade.attach_customers('wp.customers', 'id', 'rep', 'since', 'attrs'), '>=', 300::bigint,
			  'attach_customers back-fills the int8 master');
SELECT cmp_ok(crm_grade.attach_orders('wp.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at'), '>', 300::bigint,
			  'attach_orders back-fills the partitioned order table (int4 keys)');
SELECT cmp_ok(crm_grade.attach_orders('wp.shop_orders', 'client', 'total', 'placed', 'paid_on'), '>', 300::bigint,
			  'attach_orders back-fills the plain order table (int8 keys, timestamp and date)');
SELECT is((SELECT count(*) FROM pg_trigger t JOIN wp.part p ON t.tgrelid = p.rel::regclass
			WHERE t.tgname IN ('crm_grade_insert', 'crm_grade_update', 'crm_grade_delete', 'crm_grade_truncate')),
		  4 * (SELECT count(*) FROM wp.part), 'every partition, at every depth, has the four statement triggers');
SELECT * FROM wp.check('back-fill');

-- ---------------------------------------------------------------- abc, UTC

SELECT * FROM wp.phase('abc 1 (+3 days)', 350, interval '3 days');
SELECT * FROM wp.phase('abc 2 (+2 months)', 350, interval '2 months');

-- ---------------------------------------------------------------- four_class

SELECT ok(crm_grade.use_policy('four_class') >= 0, 'use_policy(four_class)');
SELECT * FROM wp.check('four_class switch');
SELECT * FROM wp.phase('four_class (+20 days)', 350, interval '20 days');

-- ---------------------------------------------------------------- attributes and day counts

INSERT INTO crm_grade.policy (name, definition, description) VALUES ('wp_paths', $${
	"kind": "rules", "default": "D",
	"grades": [
		{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 250000},
										{"metric": "tenure_days", "op": ">=", "value": 200}]}},
		{"grade": "B", "when": {"any": [{"metric": "attr.tier", "op": ">=", "value": 80},
										{"all": [{"metric": "days_since_last_order", "op": "<", "value": 20.5},
												 {"metric": "orders_12m", "op": ">=", "value": 3}]}]}},
		{"grade": "C", "when": {"any": [{"metric": "days_since_last_order", "op": "<=", "value": 60},
										{"metric": "attr.potential", "op": ">", "value": 55.5},
										{"metric": "tenure_days", "op": "=", "value": 300},
										{"all": [{"metric": "tenure_days", "op": ">", "value": 700},
												 {"metric": "attr.tier", "op": "<>", "value": 0}]}]}}
	],
	"cadence": {"A": "7 days", "B": "14 days", "C": "30 days", "D": "60 days"}
}$$, 'workload: attributes and day counts');
SELECT ok(crm_grade.use_policy('wp_paths') >= 0, 'use_policy(wp_paths): attr.tier, attr.potential, tenure_days, days_since_last_order');
SELECT * FROM wp.check('wp_paths switch');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.data_issues), '>', 10::bigint,
			  'attributes that are not numbers are listed in data_issues');
SELECT * FROM wp.phase('wp_paths 1 (+1 month)', 350, interval '1 month');
SELECT * FROM wp.phase('wp_paths 2 (+45 days)', 300, interval '45 days');
SELECT * FROM wp.phase('wp_paths 3 (+7 hours)', 250, interval '7 hours');
SELECT cmp_ok((SELECT count(*) FROM crm_grade.customer_state s
				WHERE s.valid_until IN (s.first_order_at + interval '200 days', s.first_order_at + interval '300 days',
										s.first_order_at + interval '301 days', s.first_order_at + interval '701 days',
										s.last_order_at + interval '21 days', s.last_order_at + interval '61 days')),
			  '>', 10::bigint, 'valid_until comes from a day-count threshold for many customers');
SELECT * FROM wp.phase('wp_paths 4 (+100 days)', 300, interval '100 days');
-- the active policy's definition changes: everyone is graded by the new one
UPDATE crm_grade.policy
   SET definition = jsonb_set(jsonb_set(definition, '{grades,1,when,any,0,value}', '75'),
							  '{grades,2,when,any,2,value}', '290')
 WHERE name = 'wp_paths';
SELECT * FROM wp.check('wp_paths changed in place');
SELECT * FROM wp.phase('wp_paths 5 (+20 days)', 250, interval '20 days');

-- ---------------------------------------------------------------- Europe/Berlin, DST

-- Local times (timestamp, date) are read in crm_grade.timezone: a change of
-- the setting changes the facts, and regrade_all() follows it.  Berlin's
-- clocks jump from 02:00 CET to 03:00 CEST on 2025-03-30 and fall back from
-- 03:00 CEST to 02:00 CET on 2025-10-26 (in 2024: 31 March, 27 October).
SELECT * FROM wp.phase('UTC (to 2025-03-29 19:00 UTC)', 250, NULL, '2025-03-29 20:00:00+01');
SET LOCAL crm_grade.timezone = 'Europe/Berlin';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() in Europe/Berlin');
SELECT * FROM wp.check('Europe/Berlin switch');
DO $$ BEGIN
	PERFORM wp.orders_between('2024-03-30 00:50:00+00', '2024-03-30 02:10:00+00', 40);
	PERFORM wp.local_orders_between('2024-03-30 01:50:00', '2024-03-30 03:10:00', 40);
	PERFORM wp.local_orders_between('2024-03-31 01:50:00', '2024-03-31 03:10:00', 40);
	PERFORM wp.local_orders_between('2025-03-30 01:50:00', '2025-03-30 03:10:00', 30);
END $$;
SELECT * FROM wp.phase('Europe/Berlin 1 (to 03:30 CEST, just after DST starts)', 120, NULL, '2025-03-30 03:30:00+02', false);
SELECT * FROM wp.phase('Europe/Berlin 2 (to 2025-03-31 02:40 CEST)', 200, NULL, '2025-03-31 02:40:00+02', false);
SELECT * FROM wp.phase('Europe/Berlin 3 (to 2025-10-26 02:30 CEST, the first 02:30)', 350, NULL, '2025-10-26 02:30:00+02');
DO $$ BEGIN
	PERFORM wp.local_orders_between('2024-10-26 01:50:00', '2024-10-26 03:10:00', 40);
	PERFORM wp.local_orders_between('2024-10-27 01:50:00', '2024-10-27 03:10:00', 40);
	PERFORM wp.local_orders_between('2025-10-26 02:00:00', '2025-10-26 03:00:00', 20);
END $$;
SELECT * FROM wp.phase('Europe/Berlin 4 (40 minutes later: 02:10 CET, the second 02:10)', 120, NULL, '2025-10-26 02:10:00+01', false);
SELECT * FROM wp.phase('Europe/Berlin 5 (to 2025-10-27 02:30 CET)', 200, NULL, '2025-10-27 02:30:00+01', false);
SET LOCAL crm_grade.timezone = 'UTC';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() back in UTC');
SELECT * FROM wp.check('back to UTC');

-- ---------------------------------------------------------------- value_tier; an int4 master

SELECT ok(crm_grade.use_policy('value_tier') >= 0, 'use_policy(value_tier)');
SELECT * FROM wp.phase('value_tier (+70 days)', 300, interval '70 days');

-- the int8 master is detached and an int4 one (created_at a date) attached:
-- keys above 2^31 are left to the int8 order table
INSERT INTO wp.customers4 SELECT id, rep, since::date, attrs FROM wp.customers WHERE id < 2147483648;
SELECT lives_ok($$SELECT crm_grade.detach('wp.customers')$$, 'detach the int8 master');
UPDATE wp.cfg SET master = 'wp.customers4';
SELECT cmp_ok(crm_grade.attach_customers('wp.customers4', 'id', 'rep', 'since', 'attrs'), '>', 300::bigint,
			  'attach an int4 master beside int4 and int8 order tables');
SELECT ok(crm_grade.use_policy('wp_paths') >= 0, 'use_policy(wp_paths) again');
SELECT * FROM wp.check('int4 master');
SELECT * FROM wp.phase('int4 master 1 (+2 days)', 350, interval '2 days');
SELECT * FROM wp.phase('int4 master 2 (+9 months)', 300, interval '9 months');

-- ---------------------------------------------------------------- abc again

SELECT ok(crm_grade.use_policy('abc') >= 0, 'use_policy(abc)');
SELECT is((SELECT count(*) FROM crm_grade.data_issues), 0::bigint, 'abc reads no attribute: data_issues is empty');
SELECT * FROM wp.phase('abc 3 (+1 year)', 300, interval '1 year');
SELECT * FROM wp.phase('abc 4 (+1 minute)', 200, interval '1 minute');

-- ---------------------------------------------------------------- the clock

-- crm_grade.as_of empty: T is the clock at each write, inside this long
-- transaction too.  Time goes back to the clock (the documented step after
-- moving back is regrade_all()); each step is a statement of its own, as
-- crm_grade.as_of() is the start of the current (top-level) statement.
SET LOCAL crm_grade.as_of = '';
SELECT ok(crm_grade.regrade_all() > 0, 'regrade_all() at the clock');
SELECT * FROM wp.check('the clock');
DO $$ BEGIN PERFORM wp.run(300, false); END $$;
INSERT INTO wp.orders (customer_id, amount, ordered_at) VALUES (9999, 1000, clock_timestamp());
INSERT INTO wp.shop_orders (client, total, placed) VALUES (9999, 5, localtimestamp);
SELECT is((SELECT ARRAY[orders_total, total_amount] FROM crm_grade.customer_state WHERE customer = '9999'), '{2,1005}'::numeric[],
		  'orders stamped by the clock and at the start of this long transaction count at once');
SELECT is(crm_grade.regrade(100000), (SELECT count(*) FROM crm_grade.customer_state WHERE valid_until <= crm_grade.as_of()),
		  'the clock: regrade() re-evaluates the expired rows');
SELECT * FROM wp.check('the clock, after writes and regrade()');

-- ---------------------------------------------------------------- a new parent

-- A routine migration to partitioning: the attached plain order table
-- becomes a partition of a new partitioned table, and the application then
-- writes through the new parent.  Statement triggers fire only on the table
-- a statement names, so crm_grade must either refuse this ATTACH PARTITION
-- (the attachment belongs on the new root) or follow it; either way what is
-- written through the new parent must not be left out.
CREATE TABLE wp.shop_all (LIKE wp.shop_orders INCLUDING DEFAULTS) PARTITION BY RANGE (placed);
CREATE TEMP TABLE wp_new_parent (attached boolean, refusal text);
DO $$ BEGIN
	ALTER TABLE wp.shop_all ATTACH PARTITION wp.shop_orders FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
	INSERT INTO wp_new_parent VALUES (true, NULL);
EXCEPTION WHEN OTHERS THEN
	-- PostgreSQL itself accepts it (same columns, every value in range)
	INSERT INTO wp_new_parent VALUES (false, SQLSTATE || ': ' || SQLERRM);
END $$;
DO $$ BEGIN
	IF (SELECT attached FROM wp_new_parent) THEN
		INSERT INTO wp.shop_all (client, total, placed) VALUES (8888, 250000, localtimestamp), (17, 3, localtimestamp);
		UPDATE wp.shop_all SET total = total + 1 WHERE client = 42;
		DELETE FROM wp.shop_all WHERE client = 43;
	END IF;
END $$;
TRUNCATE wp_verify;
INSERT INTO wp_verify SELECT * FROM crm_grade.verify();
SELECT is((SELECT count(*) FROM wp_verify), 0::bigint,
		  'an attached table made a partition of a new parent: writes through the parent are graded (or the ATTACH is refused)');
SELECT * FROM wp.diag_rows('new parent');
SELECT diag('ATTACH PARTITION refused: ' || refusal) FROM wp_new_parent WHERE NOT attached;

-- ---------------------------------------------------------------- what ran

SELECT is((SELECT string_agg(x.op, ', ' ORDER BY x.op)
			 FROM unnest(ARRAY['insert root', 'insert root multi-row', 'insert into range', 'insert into hleaf',
							   'insert into hashed', 'insert into default', 'update root', 'update root moving orders',
							   'update in range', 'update in hleaf', 'update in hashed', 'update in default', 'delete',
							   'refund', 'upsert root', 'upsert in range', 'upsert in hleaf', 'upsert in default',
							   'merge root', 'merge shop', 'cte delete+insert', 'cte insert into both tables',
							   'cte update+delete+insert', 'shop write', 'master write', 'rolled back subtransaction',
							   'upsert refused', 'no-op update', 'tick', 'create partition', 'attach filled table',
							   'create hash-partitioned partition', 'detach partition', 're-attach detached partition',
							   'drop attached partition', 'truncate range', 'truncate default', 'truncate hleaf',
							   'detach and attach hash leaf', 'truncate two partitions', 'truncate master',
							   'rename columns and write', 'replica-mode write', 'cte leaf and root', 'merge leaf']) x(op)
			 LEFT JOIN wp.ops o USING (op)
			WHERE coalesce(o.n, 0) < 1),
		  NULL, 'every kind of write and of partition maintenance ran and changed something');
SELECT cmp_ok((SELECT last_value FROM wp.order_ids), '>', 8000::bigint,
			  'the workload wrote thousands of orders');
SELECT cmp_ok((SELECT count(*) FROM wp.part WHERE attached AND kind IN ('range', 'hashed')), '>', 4::bigint,
			  'partitions were created as time went on');

SELECT * FROM finish();
ROLLBACK;
