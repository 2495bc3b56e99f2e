--
-- Configuration, state and history.  All of it is registered with
-- pg_extension_config_dump so that pg_dump/pg_restore bring it back;
-- application tables are never members of the extension.
--
-- (An upgrade reaches the same tables through sql/upgrade/*: keep them in
-- step, column order included.)
--

-- Stored grading policies.  Presets are marked builtin, cannot be changed
-- and are left out of dumps (CREATE EXTENSION recreates them).
CREATE TABLE @extschema@.policy (
	name		text PRIMARY KEY,
	definition	jsonb NOT NULL,
	description	text,
	builtin		boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE @extschema@.policy IS 'grading policies; presets are builtin, your own rows are validated on INSERT/UPDATE';

-- The active policy: no row means the default preset 'abc'.  Nothing is
-- inserted here by the install script, so a restored row never collides.
CREATE TABLE @extschema@.active_policy (
	singleton	boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	name		text NOT NULL
);

-- Attached application tables: a kind of source and the column that plays
-- each of the kind's roles.  regclass/regtype are dumped as names and
-- resolved again on restore.
CREATE TABLE @extschema@.source (
	tbl			regclass PRIMARY KEY,
	kind		text NOT NULL CONSTRAINT source_kind_check CHECK (kind IN ('orders', 'customers', 'contacts', 'opportunities')),
	key_type	regtype NOT NULL,
	columns		jsonb NOT NULL CHECK (jsonb_typeof(columns) = 'object' AND columns ? 'customer'),
	attached_at	timestamptz NOT NULL DEFAULT now(),
	filter		text
);
COMMENT ON TABLE @extschema@.source IS 'attached application tables: the kind of source and, in columns, the column playing each role';
COMMENT ON COLUMN @extschema@.source.filter IS 'which rows count, as PostgreSQL writes the checked expression; NULL: every row';

-- One row per customer.  The key is stored as the text form of the
-- application's key, in byte order (COLLATE "C", the order every writer
-- locks in); the typed views cast it back.  Accumulator columns hold what
-- the triggers maintain incrementally; the rest is derived by the C
-- evaluator.  valid_until is the earliest moment time alone changes the row.
CREATE TABLE @extschema@.customer_state (
	customer			text COLLATE "C" PRIMARY KEY,
	-- customer master
	in_master			boolean NOT NULL DEFAULT false,
	owner				text,
	created_at			timestamptz,
	attributes			jsonb,
	-- order accumulators (as of graded_at)
	total_amount		numeric NOT NULL DEFAULT 0,
	orders_total		bigint NOT NULL DEFAULT 0,
	amount_12m			numeric NOT NULL DEFAULT 0,
	orders_12m			bigint NOT NULL DEFAULT 0,
	first_order_at		timestamptz,
	last_order_at		timestamptz,
	order_months		integer[] NOT NULL DEFAULT '{}',
	pay_days_sum		bigint NOT NULL DEFAULT 0,
	pay_count			bigint NOT NULL DEFAULT 0,
	oldest_window_at	timestamptz,
	next_order_at		timestamptz,
	-- derived order metrics
	avg_order_value_12m	numeric,
	active_months_12m	integer NOT NULL DEFAULT 0,
	repurchase_rate		numeric,
	avg_payment_days	numeric,
	mean_interorder_days numeric,
	-- contacts and opportunities (filled by later versions)
	last_contact_at		timestamptz,
	contacts_90d		integer,
	last_outcome		text,
	next_action_at		timestamptz,
	open_opportunities	integer,
	-- grading
	first_seen_at		timestamptz,
	grade				text,
	grade_rank			integer,
	score				numeric,
	lifecycle			text,
	risk				text,
	next_follow_up_at	timestamptz,
	policy				text,
	graded_at			timestamptz,
	valid_until			timestamptz,
	-- since 0.2
	next_paid_at		timestamptz,
	data_issues			jsonb,
	-- since 0.4: contact accumulators
	contacts_window_at	timestamptz,
	next_contact_at		timestamptz,
	first_contact_at	timestamptz,
	last_intent_at		timestamptz,
	last_complaint_at	timestamptz,
	first_row_at		timestamptz,	-- the first order row, refunds included
	follow_up_due		timestamptz,	-- next_follow_up_at before the business calendar
	first_opportunity_at timestamptz,
	next_opportunity_at	timestamptz,
	-- since 0.5: monthly order amounts, for growth_months
	amount_months		integer[] NOT NULL DEFAULT '{}',	-- month indexes (year * 12 + month - 1)
	month_amounts		numeric[] NOT NULL DEFAULT '{}',	-- the amount of each of those months
	growth_months		integer NOT NULL DEFAULT 0
) WITH (fillfactor = 80);
CREATE INDEX customer_state_valid_until ON @extschema@.customer_state (valid_until);
-- followups_due(): one owner's due follow-ups, or everyone's owner by owner
CREATE INDEX customer_state_owner ON @extschema@.customer_state (owner, next_follow_up_at);

-- Every grade (and later lifecycle and risk) change, with its reason.
CREATE TABLE @extschema@.history (
	id				bigserial PRIMARY KEY,
	customer		text NOT NULL,
	changed_at		timestamptz NOT NULL,
	old_grade		text,
	new_grade		text,
	old_lifecycle	text,
	new_lifecycle	text,
	old_risk		text,
	new_risk		text,
	reason			text NOT NULL
);
CREATE INDEX history_customer ON @extschema@.history (customer, changed_at);

-- Figures over every customer, refreshed set-based (use_policy(),
-- regrade_all(), and regrade() once crm_grade.population_refresh has
-- passed): the revenue total of revenue_share_12m and the RFM cut-offs.
CREATE TABLE @extschema@.population (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	computed_at			timestamptz NOT NULL,
	customers			bigint NOT NULL,
	amount_12m_total	numeric NOT NULL,
	recency_cutoffs		timestamptz[] NOT NULL,
	frequency_cutoffs	bigint[] NOT NULL,
	monetary_cutoffs	numeric[] NOT NULL
);

-- Non-working days for follow-up scheduling.
CREATE TABLE @extschema@.holiday (
	day		date PRIMARY KEY,
	name	text
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.policy'::regclass, 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.active_policy'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.customer_state'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.history'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.history_id_seq'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.holiday'::regclass, '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.population'::regclass, '');
