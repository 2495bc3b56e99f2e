--
-- The embedded sample CRM: create_sample_schema() makes ready tables and
-- attaches them, generate_sample() fills them with realistic data for demos
-- and benchmarks.  The tables are created when the functions are called, not
-- by the install script, so they are never members of the extension.
--
-- The generator is set-based and deterministic: every random draw is a hash
-- of (seed, stream, row number), and every date is a whole number of days
-- before the local date of crm_grade.as_of() in crm_grade.timezone.  The same
-- seed on the same day gives the same rows.
--

-- A uniform draw in (0, 1) from (seed, stream, i); streams must be below
-- 2048.  Plain SQL without SET, so that the planner inlines it (a SET clause
-- would make generate_sample several times slower); instead every function
-- and operator is schema-qualified, so no search_path can redirect it.
CREATE OR REPLACE FUNCTION @extschema@._sample_uniform(seed int, stream int, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT ((pg_catalog.hashint8extended(i, seed::bigint OPERATOR(pg_catalog.*) 4096 OPERATOR(pg_catalog.+) stream)
			 OPERATOR(pg_catalog.&) 4503599627370495)::double precision OPERATOR(pg_catalog.+) 0.5)
		   OPERATOR(pg_catalog./) 4503599627370496.0::double precision
$$;

-- A standard normal draw from (seed, stream, i) (Box-Muller); inlined and
-- schema-qualified like _sample_uniform.
CREATE OR REPLACE FUNCTION @extschema@._sample_normal(seed int, stream int, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT pg_catalog.sqrt(OPERATOR(pg_catalog.-) 2::double precision OPERATOR(pg_catalog.*)
						   pg_catalog.ln(@extschema@._sample_uniform(seed, stream, i)))
		   OPERATOR(pg_catalog.*) pg_catalog.cos(2::double precision OPERATOR(pg_catalog.*) pg_catalog.pi()
						   OPERATOR(pg_catalog.*) @extschema@._sample_uniform(seed, 2048 OPERATOR(pg_catalog.+) stream, i))
$$;

-- One row per sample customer: its segment, value, the span of days (before
-- the local date of T) its orders fall in, and how many orders and contacts
-- it gets.  Order and contact counts are shares of the requested totals by
-- cumulative weight, so they add up exactly; customers with orders get at
-- least one each when there are enough orders to go round.
--   segment  share  last order (days ago)  created (days ago)
--   active    58%   1..60                  150..1049
--   new        8%   1..20                  up to ~155
--   dormant   12%   185..359               last order + 30..729
--   churned   10%   370..699               last order + 30..429
--   prospect  12%   no orders              1..700
CREATE OR REPLACE FUNCTION @extschema@._sample_profile(customers int, orders int, contacts int, seed int)
	RETURNS TABLE (id bigint, segment text, z double precision, ticket double precision,
				   pay_days_mean double precision, created_day int, first_day int, last_day int,
				   n_orders int, order_base bigint, n_contacts int, contact_base bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
WITH c AS (
	SELECT i,
		   @extschema@._sample_uniform(seed, 1, i) AS u_seg,
		   @extschema@._sample_normal(seed, 2, i) AS z0,
		   @extschema@._sample_uniform(seed, 3, i) AS u_gap,
		   @extschema@._sample_uniform(seed, 4, i) AS u_age,
		   @extschema@._sample_uniform(seed, 5, i) AS u_pay
	  FROM generate_series(1, customers::bigint) i
), s AS (
	-- customer value: standard normal, its upper tail bent down smoothly
	-- (z > 2.5 grows logarithmically) so no single customer dwarfs the rest
	SELECT c.*, CASE WHEN z0 > 2.5 THEN 2.5 + ln(z0 - 1.5) ELSE z0 END AS z,
		   CASE WHEN u_seg < 0.12 THEN 'prospect'
				WHEN u_seg < 0.22 THEN 'churned'
				WHEN u_seg < 0.34 THEN 'dormant'
				WHEN u_seg < 0.42 THEN 'new'
				ELSE 'active' END AS segment
	  FROM c
), d AS (
	SELECT s.*,
		   CASE segment
				WHEN 'active' THEN 1 + floor(u_gap * u_gap * 60)
				WHEN 'new' THEN 1 + floor(u_gap * 20)
				WHEN 'dormant' THEN 185 + floor(u_gap * 175)
				WHEN 'churned' THEN 370 + floor(u_gap * 330)
		   END::int AS last_day
	  FROM s
), a AS (
	SELECT d.*,
		   CASE segment
				WHEN 'active' THEN 150 + floor(u_age * 900)
				WHEN 'new' THEN last_day + 5 + floor(u_age * (150 - last_day))
				WHEN 'dormant' THEN last_day + 30 + floor(u_age * 700)
				WHEN 'churned' THEN last_day + 30 + floor(u_age * 400)
				ELSE 1 + floor(u_age * 700)
		   END::int AS created_day
	  FROM d
), w AS (
	-- order weight: value times the length of the span, so a customer's
	-- order rate does not depend on when it started; contacts follow value
	-- more weakly, and prospects are worked harder than their value says
	SELECT a.*, least(created_day, 730) AS first_day,
		   (CASE WHEN segment = 'prospect' THEN 0
				 ELSE exp(1.2 * z) * (least(created_day, 730) - last_day + 30) / 760.0
			END)::numeric AS f,
		   (CASE WHEN segment = 'prospect' THEN 2 ELSE 1 + exp(0.6 * z) END)::numeric AS g
	  FROM a
), t AS (
	SELECT count(*) FILTER (WHERE f > 0) AS ordering,
		   nullif(sum(f), 0) AS total_f, nullif(sum(g), 0) AS total_g
	  FROM w
), r AS (
	-- one order each first, if there are enough; the rest by weight
	SELECT t.*, orders >= ordering AS one_each,
		   orders - CASE WHEN orders >= ordering THEN ordering ELSE 0 END AS rest
	  FROM t
), cum AS (
	SELECT w.*, r.*, sum(f) OVER (ORDER BY i) AS cf, sum(g) OVER (ORDER BY i) AS cg
	  FROM w, r
), n AS MATERIALIZED (
	SELECT cum.*,
		   (CASE WHEN f > 0 AND one_each THEN 1 ELSE 0 END
			+ coalesce(floor(rest * cf / total_f) - floor(rest * (cf - f) / total_f), 0))::int AS n_orders,
		   coalesce(floor(contacts * cg / total_g) - floor(contacts * (cg - g) / total_g), 0)::int AS n_contacts
	  FROM cum
)
SELECT i, segment, z,
	   -- typical order value: together with the order weight, revenue per
	   -- customer is log-normal with sigma 2, so ~5% of customers bring
	   -- most of it
	   3000 * exp(0.8 * z),
	   5 + 35 * u_pay,
	   created_day, CASE WHEN segment <> 'prospect' THEN first_day END, last_day,
	   n_orders, sum(n_orders) OVER (ORDER BY i) - n_orders,
	   n_contacts, sum(n_contacts) OVER (ORDER BY i) - n_contacts
  FROM n
 ORDER BY i
$$;

-- The schema generate_sample() fills: the one whose customers table is the
-- attached customer master, or else crm.
CREATE OR REPLACE FUNCTION @extschema@._sample_schema() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sch name;
BEGIN
	SELECT n.nspname INTO sch
	  FROM @extschema@.source s
	  JOIN pg_class c ON c.oid = s.tbl
	  JOIN pg_namespace n ON n.oid = c.relnamespace
	 WHERE s.kind = 'customers' AND c.relname = 'customers'
	 LIMIT 1;
	sch := coalesce(sch, 'crm');
	IF to_regclass(format('%I.customers', sch)) IS NULL OR to_regclass(format('%I.orders', sch)) IS NULL
	   OR to_regclass(format('%I.contact_logs', sch)) IS NULL OR to_regclass(format('%I.opportunities', sch)) IS NULL THEN
		RAISE EXCEPTION 'there is no sample schema to fill'
			USING ERRCODE = 'undefined_table',
				  DETAIL = format('Schema %I does not hold the tables customers, orders, contact_logs and opportunities.', sch),
				  HINT = 'Run SELECT crm_grade.create_sample_schema(); first.';
	END IF;
	RETURN sch;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.create_sample_schema(schema name DEFAULT 'crm') RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF schema IS NULL THEN
		RAISE EXCEPTION 'schema must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'Call crm_grade.create_sample_schema() for schema crm, or name another schema.';
	END IF;
	-- only what is missing is created, so a second call just attaches again
	IF NOT EXISTS (SELECT 1 FROM pg_namespace n WHERE n.nspname = schema) THEN
		EXECUTE format('CREATE SCHEMA %I', schema);
		EXECUTE format('COMMENT ON SCHEMA %I IS %L', schema,
					   'sample CRM made by crm_grade.create_sample_schema(); fill it with crm_grade.generate_sample()');
	END IF;
	IF to_regclass(format('%I.customers', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.customers (
				id			bigint PRIMARY KEY,
				name		text NOT NULL,
				phone		text,
				email		text,
				owner		text,
				created_at	timestamptz NOT NULL DEFAULT now(),
				source		text,
				attributes	jsonb NOT NULL DEFAULT '{}'
			)$t$, schema);
	END IF;
	IF to_regclass(format('%I.orders', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.orders (
				id			bigserial PRIMARY KEY,
				customer_id	bigint NOT NULL REFERENCES %1$I.customers,
				amount		numeric(14,2) NOT NULL,
				ordered_at	timestamptz NOT NULL,
				paid_at		timestamptz
			)$t$, schema);
		EXECUTE format('CREATE INDEX orders_customer_id_idx ON %I.orders (customer_id)', schema);
	END IF;
	IF to_regclass(format('%I.contact_logs', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.contact_logs (
				id				bigserial PRIMARY KEY,
				customer_id		bigint NOT NULL REFERENCES %1$I.customers,
				contacted_at	timestamptz NOT NULL,
				channel			text,
				outcome			text,
				next_action_at	timestamptz,
				note			text
			)$t$, schema);
		EXECUTE format('CREATE INDEX contact_logs_customer_id_idx ON %I.contact_logs (customer_id)', schema);
	END IF;
	IF to_regclass(format('%I.opportunities', schema)) IS NULL THEN
		EXECUTE format($t$
			CREATE TABLE %1$I.opportunities (
				id					bigserial PRIMARY KEY,
				customer_id			bigint NOT NULL REFERENCES %1$I.customers,
				stage				text NOT NULL,
				amount				numeric(14,2),
				stage_changed_at	timestamptz NOT NULL,
				is_open				boolean NOT NULL DEFAULT true
			)$t$, schema);
		EXECUTE format('CREATE INDEX opportunities_customer_id_idx ON %I.opportunities (customer_id)', schema);
	END IF;

	PERFORM @extschema@.attach_customers(format('%I.customers', schema)::regclass, 'id', 'owner', 'created_at', 'attributes');
	PERFORM @extschema@.attach_orders(format('%I.orders', schema)::regclass, 'customer_id', 'amount', 'ordered_at', 'paid_at');
	PERFORM @extschema@.attach_contacts(format('%I.contact_logs', schema)::regclass, 'customer_id', 'contacted_at',
										'channel', 'outcome', 'next_action_at');
	PERFORM @extschema@.attach_opportunities(format('%I.opportunities', schema)::regclass, 'customer_id', 'stage',
											 'amount', 'stage_changed_at', 'is_open');
END $$;
COMMENT ON FUNCTION @extschema@.create_sample_schema(name) IS 'create the sample CRM tables customers, orders, contact_logs and opportunities in a schema (default crm) and attach them';

CREATE OR REPLACE FUNCTION @extschema@.generate_sample(customers int, orders int, contacts int, seed int DEFAULT 1) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sch name;
	tz text := @extschema@._timezone();
	t timestamptz := @extschema@.as_of();
	today date;
	arg text;
	val int;
BEGIN
	FOREACH arg IN ARRAY '{customers,orders,contacts,seed}'::text[] LOOP
		val := CASE arg WHEN 'customers' THEN generate_sample.customers WHEN 'orders' THEN generate_sample.orders
						WHEN 'contacts' THEN generate_sample.contacts ELSE generate_sample.seed END;
		IF val IS NULL THEN
			RAISE EXCEPTION 'argument % of generate_sample must not be NULL', arg
				USING ERRCODE = 'null_value_not_allowed',
					  HINT = 'Pass a number, for example crm_grade.generate_sample(10000, 200000, 20000).';
		ELSIF val < 0 AND arg <> 'seed' THEN
			RAISE EXCEPTION 'argument % of generate_sample must not be negative', arg
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('%s is %s.', arg, val),
					  HINT = 'Pass how many rows to generate, 0 or more.';
		END IF;
	END LOOP;
	IF generate_sample.customers = 0 AND (generate_sample.orders > 0 OR generate_sample.contacts > 0) THEN
		RAISE EXCEPTION 'argument customers of generate_sample must be positive when orders or contacts are requested'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('customers is 0, orders %s, contacts %s.', generate_sample.orders, generate_sample.contacts),
				  HINT = 'Orders and contact logs belong to customers: ask for at least one.';
	END IF;

	sch := @extschema@._sample_schema();
	today := (t AT TIME ZONE tz)::date;

	-- replace what an earlier call generated; crm_grade's TRUNCATE triggers
	-- clear the state of those customers
	EXECUTE format('TRUNCATE %1$I.opportunities, %1$I.contact_logs, %1$I.orders, %1$I.customers RESTART IDENTITY', sch);

	-- customers first, in one statement
	EXECUTE format($q$
		INSERT INTO %1$I.customers (id, name, phone, email, owner, created_at, source, attributes)
		SELECT p.id,
			   format('%%s %%s %%s Co., Ltd.',
					  ('{Shanghai,Beijing,Shenzhen,Hangzhou,Suzhou,Chengdu,Wuhan,Nanjing,Guangzhou,Tianjin,Xiamen,Qingdao}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 20, p.id) * 12)::int],
					  ('{Huaxin,Evergreen,Jinyuan,Orient,Tianhe,Zhongda,Hengtai,Starlight,Longmen,Baifu,Ruifeng,Kaida}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 21, p.id) * 12)::int],
					  ('{Machinery,Electronics,Textiles,Logistics,Foods,Chemicals,Medical,Software,Furniture,Packaging,"Auto Parts","Building Materials"}'::text[])
						[1 + floor(@extschema@._sample_uniform($4, 22, p.id) * 12)::int]),
			   CASE WHEN @extschema@._sample_uniform($4, 23, p.id) >= 0.05 THEN
					'1' || ('{38,39,50,58,86,88,36,77}'::text[])[1 + floor(@extschema@._sample_uniform($4, 24, p.id) * 8)::int]
						|| lpad(floor(@extschema@._sample_uniform($4, 25, p.id) * 100000000)::text, 8, '0')
			   END,
			   CASE WHEN @extschema@._sample_uniform($4, 26, p.id) >= 0.10 THEN
					format('contact%%s@%%s', p.id,
						   ('{example.com,example.net,example.org}'::text[])[1 + floor(@extschema@._sample_uniform($4, 27, p.id) * 3)::int])
			   END,
			   'rep0' || (1 + floor(@extschema@._sample_uniform($4, 28, p.id) * 8))::int,
			   timezone($6, ($5 - p.created_day - 1) + make_interval(mins => 540 + floor(@extschema@._sample_uniform($4, 29, p.id) * 540)::int)),
			   CASE WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.20 THEN 'referral'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.40 THEN 'exhibition'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.70 THEN 'website'
					WHEN @extschema@._sample_uniform($4, 30, p.id) < 0.85 THEN 'cold_call'
					ELSE 'partner' END,
			   -- qualitative 0..100 scores, loosely following the customer's value
			   jsonb_build_object(
				   'customization', greatest(0, least(100, round(50 + 10 * p.z + 18 * @extschema@._sample_normal($4, 31, p.id)))),
				   'service_level', greatest(0, least(100, round(55 + 8 * p.z + 15 * @extschema@._sample_normal($4, 32, p.id)))),
				   'industry_outlook', greatest(0, least(100, round(50 + 5 * p.z + 20 * @extschema@._sample_normal($4, 33, p.id)))),
				   'expansion', greatest(0, least(100, round(45 + 12 * p.z + 18 * @extschema@._sample_normal($4, 34, p.id)))),
				   'referral', greatest(0, least(100, round(40 + 6 * p.z + 22 * @extschema@._sample_normal($4, 35, p.id)))))
		  FROM @extschema@._sample_profile($1, $2, $3, $4) p
		 ORDER BY p.id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	-- all orders in one statement, so crm_grade grades each customer once.
	-- The last order of a customer falls on its last_day; the others are
	-- spread over its span, each the seasonally likelier of two candidate
	-- days (weights by calendar month: Spring Festival low in February, a
	-- mid-year bump in June, the year-end peak in November and December).
	-- About 1% are refunds (negative), about 80% are paid 0..60 days later.
	EXECUTE format($q$
		INSERT INTO %1$I.orders (customer_id, amount, ordered_at, paid_at)
		SELECT customer_id, amount, ordered_at,
			   CASE WHEN amount > 0 AND u_paid < 0.8 AND paid_at <= $7 THEN paid_at END
		  FROM (
			SELECT r.customer_id, r.ordered_at,
				   CASE WHEN r.refund THEN -round((r.value * (0.2 + 0.8 * r.u_part))::numeric, 2)
						ELSE round(r.value::numeric, 2) END AS amount,
				   r.u_paid,
				   r.ordered_at + make_interval(days => least(60, floor(-r.pay_days_mean * ln(r.u_paydays)))::int,
												mins => floor(r.u_paymin * 480)::int) AS paid_at
			  FROM (
				SELECT c.customer_id, c.pay_days_mean,
					   timezone($6, ($5 - CASE WHEN c.is_last THEN c.last_day
											   WHEN c.u_pick * (w[extract(month FROM $5 - c.d1)::int] + w[extract(month FROM $5 - c.d2)::int])
													< w[extract(month FROM $5 - c.d1)::int] THEN c.d1
											   ELSE c.d2 END)
										+ make_interval(mins => 480 + floor(c.u_min * 720)::int)) AS ordered_at,
					   least(200000, greatest(100, c.ticket * exp(0.6 * c.z_amount))) AS value,
					   NOT c.is_last AND c.u_refund < 0.01 AS refund,
					   c.u_part, c.u_paid, c.u_paydays, c.u_paymin
				  FROM (
					SELECT p.id AS customer_id, p.ticket, p.pay_days_mean, p.last_day, k = p.n_orders AS is_last,
						   p.last_day + floor(@extschema@._sample_uniform($4, 40, j) * (p.first_day - p.last_day + 1))::int AS d1,
						   p.last_day + floor(@extschema@._sample_uniform($4, 41, j) * (p.first_day - p.last_day + 1))::int AS d2,
						   @extschema@._sample_uniform($4, 42, j) AS u_pick,
						   @extschema@._sample_uniform($4, 43, j) AS u_min,
						   @extschema@._sample_normal($4, 44, j) AS z_amount,
						   @extschema@._sample_uniform($4, 45, j) AS u_refund,
						   @extschema@._sample_uniform($4, 46, j) AS u_part,
						   @extschema@._sample_uniform($4, 47, j) AS u_paid,
						   @extschema@._sample_uniform($4, 48, j) AS u_paydays,
						   @extschema@._sample_uniform($4, 49, j) AS u_paymin
					  FROM @extschema@._sample_profile($1, $2, $3, $4) p,
						   generate_series(1, p.n_orders) k,
						   LATERAL (SELECT p.order_base + k AS j) x
					 WHERE p.n_orders > 0
					OFFSET 0	-- draw each number once, not once per use
				  ) c,
				  (SELECT '{0.8,0.35,0.9,1,1,1.3,0.8,0.8,1,1.2,1.8,2.4}'::float8[] AS w) m
			  OFFSET 0
			  ) r
			OFFSET 0
		  ) o
		 ORDER BY ordered_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz, t;

	-- contact logs over each customer's life (dormant and churned customers
	-- mostly around their last orders), outcomes by segment
	EXECUTE format($q$
		INSERT INTO %1$I.contact_logs (customer_id, contacted_at, channel, outcome, next_action_at, note)
		SELECT customer_id, contacted_at, channel, outcome,
			   CASE WHEN outcome IN ('reached', 'intent', 'no_answer') AND u_next < 0.5
					THEN contacted_at + make_interval(days => 1 + floor(u_next * 28)::int) END,
			   CASE outcome
					WHEN 'reached' THEN ('{"checked stock and upcoming needs","sent updated price list","confirmed delivery schedule","introduced new product line"}'::text[])[1 + floor(u_note * 4)::int]
					WHEN 'no_answer' THEN 'no answer, try again'
					WHEN 'intent' THEN ('{"asked for a quotation","wants a product demo","comparing with current supplier"}'::text[])[1 + floor(u_note * 3)::int]
					WHEN 'complaint' THEN ('{"late delivery","quality issue on last batch","invoice error"}'::text[])[1 + floor(u_note * 3)::int]
					ELSE ('{"moved to a competitor","project cancelled","budget cut"}'::text[])[1 + floor(u_note * 3)::int]
			   END
		  FROM (
			SELECT c.customer_id,
				   timezone($6, ($5 - c.day) + make_interval(mins => 540 + floor(c.u_min * 540)::int)) AS contacted_at,
				   CASE WHEN c.u_channel < 0.40 THEN 'phone' WHEN c.u_channel < 0.75 THEN 'wechat'
						WHEN c.u_channel < 0.90 THEN 'email' ELSE 'visit' END AS channel,
				   CASE c.segment
						WHEN 'prospect' THEN CASE WHEN c.u_outcome < 0.30 THEN 'reached' WHEN c.u_outcome < 0.65 THEN 'no_answer'
												  WHEN c.u_outcome < 0.90 THEN 'intent' ELSE 'lost' END
						WHEN 'churned' THEN CASE WHEN c.u_outcome < 0.30 THEN 'reached' WHEN c.u_outcome < 0.70 THEN 'no_answer'
												 WHEN c.u_outcome < 0.80 THEN 'complaint' ELSE 'lost' END
						WHEN 'dormant' THEN CASE WHEN c.u_outcome < 0.40 THEN 'reached' WHEN c.u_outcome < 0.75 THEN 'no_answer'
												 WHEN c.u_outcome < 0.85 THEN 'intent' WHEN c.u_outcome < 0.95 THEN 'complaint' ELSE 'lost' END
						ELSE CASE WHEN c.u_outcome < 0.60 THEN 'reached' WHEN c.u_outcome < 0.80 THEN 'no_answer'
								  WHEN c.u_outcome < 0.92 THEN 'intent' WHEN c.u_outcome < 0.97 THEN 'complaint' ELSE 'lost' END
				   END AS outcome,
				   c.u_next, c.u_note
			  FROM (
				SELECT p.id AS customer_id, p.segment,
					   CASE WHEN p.segment IN ('dormant', 'churned')
							THEN greatest(1, p.last_day - 90) + floor(@extschema@._sample_uniform($4, 60, j) * (least(p.created_day, 730) - greatest(1, p.last_day - 90) + 1))::int
							ELSE 1 + floor(@extschema@._sample_uniform($4, 60, j) * least(p.created_day, 730))::int
					   END AS day,
					   @extschema@._sample_uniform($4, 61, j) AS u_min,
					   @extschema@._sample_uniform($4, 62, j) AS u_channel,
					   @extschema@._sample_uniform($4, 63, j) AS u_outcome,
					   @extschema@._sample_uniform($4, 64, j) AS u_next,
					   @extschema@._sample_uniform($4, 65, j) AS u_note
				  FROM @extschema@._sample_profile($1, $2, $3, $4) p,
					   generate_series(1, p.n_contacts) k,
					   LATERAL (SELECT p.contact_base + k AS j) x
				 WHERE p.n_contacts > 0
				OFFSET 0
			  ) c
		  ) l
		 ORDER BY contacted_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	-- opportunities for about a quarter of the customers: open ones mostly
	-- for prospects and new customers, some stalled for weeks
	EXECUTE format($q$
		INSERT INTO %1$I.opportunities (customer_id, stage, amount, stage_changed_at, is_open)
		SELECT customer_id, stage, amount, stage_changed_at, stage NOT IN ('won', 'lost')
		  FROM (
			SELECT p.id AS customer_id,
				   CASE WHEN p.segment IN ('prospect', 'new') AND @extschema@._sample_uniform($4, 71, p.id) < 0.8
						THEN ('{qualification,needs,proposal,negotiation}'::text[])[1 + floor(@extschema@._sample_uniform($4, 72, p.id) * 4)::int]
						ELSE ('{qualification,needs,proposal,negotiation,won,won,lost,lost}'::text[])[1 + floor(@extschema@._sample_uniform($4, 72, p.id) * 8)::int]
				   END AS stage,
				   round((p.ticket * (2 + 8 * @extschema@._sample_uniform($4, 73, p.id)))::numeric, -2) AS amount,
				   timezone($6, ($5 - least(p.created_day, 1 + floor(@extschema@._sample_uniform($4, 74, p.id) ^ 2 * 120)::int))
								+ make_interval(mins => 540 + floor(@extschema@._sample_uniform($4, 75, p.id) * 540)::int)) AS stage_changed_at
			  FROM @extschema@._sample_profile($1, $2, $3, $4) p
			 WHERE @extschema@._sample_uniform($4, 70, p.id)
				   < CASE p.segment WHEN 'prospect' THEN 0.30 WHEN 'new' THEN 0.35 WHEN 'active' THEN 0.25
									WHEN 'dormant' THEN 0.10 ELSE 0.05 END
		  ) o
		 ORDER BY stage_changed_at, customer_id
	$q$, sch) USING customers, orders, contacts, seed, today, tz;

	EXECUTE format('ANALYZE %1$I.customers, %1$I.orders, %1$I.contact_logs, %1$I.opportunities', sch);
END $$;
COMMENT ON FUNCTION @extschema@.generate_sample(int, int, int, int) IS 'replace the sample schema''s rows with generated customers, orders and contact logs (deterministic for a seed and a day); revenue is concentrated in few customers, orders are seasonal, some customers are dormant or churned';
