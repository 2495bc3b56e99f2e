-- crm_grade upgrade 0.2 -> 0.3, assembled by the Makefile: this migration of
-- 0.2's catalog, then every definition of 0.3 (src/sql/common), then
-- src/sql/upgrade/0.2--0.3-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.3'" to load this file. \quit

-- Row filters: which rows of an attached table count.  (IF NOT EXISTS: the
-- 0.1 -> 0.2 script, run by this library, already made it.)
ALTER TABLE @extschema@.source ADD COLUMN IF NOT EXISTS filter text;
COMMENT ON COLUMN @extschema@.source.filter IS 'which rows count, as PostgreSQL writes the checked expression; NULL: every row';

-- Functions whose parameters change (filter, order_id_column).
DROP FUNCTION @extschema@.attach_orders(regclass, name, name, name, name);
DROP FUNCTION @extschema@.attach_customers(regclass, name, name, name, name);
DROP FUNCTION @extschema@._attach(regclass, text, jsonb);
DROP FUNCTION @extschema@._check_rows(regclass, text, jsonb);

-- The typed views get new comments and rounded columns: the post part builds
-- them again.  (A view of your own depending on them makes the update fail
-- with the name of that view: drop it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history, @extschema@.data_issues;
