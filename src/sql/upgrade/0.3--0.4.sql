-- crm_grade upgrade 0.3 -> 0.4, assembled by the Makefile: this migration of
-- 0.3's catalog, then every definition of 0.4 (src/sql/common), then
-- src/sql/upgrade/0.3--0.4-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.4'" to load this file. \quit

-- Contact logs and opportunities are kinds of source.
ALTER TABLE @extschema@.source DROP CONSTRAINT source_kind_check;
ALTER TABLE @extschema@.source ADD CONSTRAINT source_kind_check
	CHECK (kind IN ('orders', 'customers', 'contacts', 'opportunities'));

-- Contact accumulators (every customer is re-evaluated by the post part).
ALTER TABLE @extschema@.customer_state
	ADD COLUMN contacts_window_at timestamptz,
	ADD COLUMN next_contact_at timestamptz,
	ADD COLUMN first_contact_at timestamptz,
	ADD COLUMN last_intent_at timestamptz,
	ADD COLUMN last_complaint_at timestamptz,
	ADD COLUMN first_row_at timestamptz,
	ADD COLUMN follow_up_due timestamptz,
	ADD COLUMN first_opportunity_at timestamptz,
	ADD COLUMN next_opportunity_at timestamptz;

-- followups_due(): one owner's due follow-ups, or everyone's.
DROP INDEX @extschema@.customer_state_owner;
CREATE INDEX customer_state_owner ON @extschema@.customer_state (owner, next_follow_up_at);
CREATE INDEX customer_state_follow_up ON @extschema@.customer_state (next_follow_up_at);

-- The typed views are built again by the post part.  (A view of your own
-- depending on them makes the update fail with the name of that view: drop
-- it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
