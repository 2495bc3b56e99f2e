-- crm_grade upgrade 0.11 -> 0.12, assembled by the Makefile: this migration of
-- 0.11's catalog, then every definition of 0.12 (src/sql/common), then
-- src/sql/upgrade/0.11--0.12-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.12'" to load this file. \quit

-- The typed views and followups_due() belong to the attachments, not to
-- the extension; they are built again by the post part, as after an
-- attach_*, so that a chain of updates from an older version ends with
-- them current.
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues,
	@extschema@.stalled_opportunities;
DROP FUNCTION IF EXISTS @extschema@.followups_due(timestamptz, text);

-- 0.12 changes no table: the event trigger crm_grade_ddl_end follows
-- CREATE FOREIGN TABLE too (src/sql/common creates it again), and
-- _check_source() refuses a partition tree holding a foreign table.
