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

-- 0.12 changes no table: the event triggers follow more commands
-- (src/sql/common creates them again), _check_source() refuses a partition
-- tree holding a foreign table, and stalled_opportunities reads each deal
-- table as its owner.

-- A filter is stored in fixed formats since 0.12 (ISO dates with their
-- offset, PostgreSQL's interval style, exact floats, backslashes literal)
-- and read back with them; 0.11 stored it as the attaching (or any
-- renaming) session wrote it.  Each is checked again, read with this
-- session's settings (those of the DBA who attached it, most likely), and
-- stored again when its text changes, with a WARNING that shows it (an
-- extension script shows nothing less); one that no longer passes the check
-- (a cast through text that follows a setting of the session) is kept as
-- it was, with a WARNING.
DO $$
DECLARE
	s record;
	f text;
BEGIN
	FOR s IN SELECT x.tbl, x.filter FROM @extschema@.source x WHERE x.filter IS NOT NULL ORDER BY x.tbl::oid LOOP
		BEGIN
			f := @extschema@._check_filter(s.tbl, s.filter);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'the filter of % is kept as 0.11 stored it: %', s.tbl, SQLERRM
				USING HINT = 'Attach the table again with a filter that passes the check.';
			CONTINUE;
		END;
		IF f IS DISTINCT FROM s.filter THEN
			UPDATE @extschema@.source x SET filter = f WHERE x.tbl = s.tbl;
			RAISE WARNING 'the filter of % is stored again, in fixed formats: %', s.tbl, f
				USING DETAIL = format('It was %s, read with this session''s DateStyle (%s) and settings.',
									  s.filter, current_setting('DateStyle'));
		END IF;
	END LOOP;
END $$;
