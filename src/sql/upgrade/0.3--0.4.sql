-- crm_grade upgrade 0.3 -> 0.4, assembled by the Makefile: this migration of
-- 0.3's catalog, then every definition of 0.4 (src/sql/common), then
-- src/sql/upgrade/0.3--0.4-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.4'" to load this file. \quit

-- The typed views are built again by the post part.  (A view of your own
-- depending on them makes the update fail with the name of that view: drop
-- it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues;
