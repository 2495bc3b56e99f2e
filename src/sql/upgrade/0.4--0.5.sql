-- crm_grade upgrade 0.4 -> 0.5, assembled by the Makefile: this migration of
-- 0.4's catalog, then every definition of 0.5 (src/sql/common), then
-- src/sql/upgrade/0.4--0.5-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.5'" to load this file. \quit

-- Monthly order amounts for growth_months (every customer is re-evaluated
-- by the post part, which fills them).
ALTER TABLE @extschema@.customer_state
	ADD COLUMN amount_months integer[] NOT NULL DEFAULT '{}',
	ADD COLUMN month_amounts numeric[] NOT NULL DEFAULT '{}',
	ADD COLUMN growth_months integer NOT NULL DEFAULT 0;

-- Figures over every customer, refreshed set-based: the revenue total of
-- revenue_share_12m and the RFM cut-offs.
CREATE TABLE @extschema@.population (
	singleton			boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	computed_at			timestamptz NOT NULL,
	customers			bigint NOT NULL,
	amount_12m_total	numeric NOT NULL,
	recency_cutoffs		timestamptz[] NOT NULL,
	frequency_cutoffs	bigint[] NOT NULL,
	monetary_cutoffs	numeric[] NOT NULL
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.population'::regclass, '');

-- The typed views are built again by the post part.  (A view of your own
-- depending on them makes the update fail with the name of that view: drop
-- it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);

-- verify() grades every kind with _sql_evaluate() now: the rules-only
-- _sql_grade() is gone.
DROP FUNCTION IF EXISTS @extschema@._sql_grade(jsonb, jsonb);
