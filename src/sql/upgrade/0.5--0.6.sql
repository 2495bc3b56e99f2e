-- crm_grade upgrade 0.5 -> 0.6, assembled by the Makefile: this migration of
-- 0.5's catalog, then every definition of 0.6 (src/sql/common), then
-- src/sql/upgrade/0.5--0.6-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.6'" to load this file. \quit

-- followups_due() is planned so that an owner's list reads only that
-- owner's customers.  It and the typed views belong to the attachments, not
-- to the extension, so an update script cannot replace them: they are
-- dropped here and built again by the post part.  (A view of your own
-- depending on them makes the update fail with the name of that view: drop
-- it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);
