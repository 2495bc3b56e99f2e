-- crm_grade upgrade 0.10 -> 0.11, assembled by the Makefile: this migration of
-- 0.10's catalog, then every definition of 0.11 (src/sql/common), then
-- src/sql/upgrade/0.10--0.11-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.11'" to load this file. \quit

-- The typed views and followups_due() belong to the attachments, not to
-- the extension; they are built again by the post part, as after an
-- attach_*, so that a chain of updates from an older version ends with
-- them current.
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);

-- _lock_before_attach() takes the new key's type and decides itself,
-- under crm_grade's locks too, whether the views are replaced (0.10: a
-- boolean its caller decided before the locks)
DROP FUNCTION IF EXISTS @extschema@._lock_before_attach(regclass, text, boolean);
