
-- An attached table dropped between the library's install and this update
-- (crm_grade's DDL handlers leave an older catalog alone: the update
-- re-reads everything) is detached now, as its DROP would have done; the
-- re-evaluation below grades its customers without it.
DO $$
DECLARE
	gone oid;
BEGIN
	FOR gone IN SELECT s.tbl::oid FROM @extschema@.source s
				 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = s.tbl::oid) LOOP
		DELETE FROM @extschema@.source s WHERE s.tbl::oid = gone;
		RAISE WARNING 'an attached table (OID %) was dropped before this update; it is detached', gone;
	END LOOP;
END $$;

-- The views again, and every customer evaluated by 0.12's definitions (this
-- is the last script of any update chain: the re-evaluation of the scripts
-- before it is left to it).  verify() is empty after the update, and each
-- grade that moves is in grade_history as "upgrade".
SELECT @extschema@._build_views();
-- made by this script, the views would be extension members, which pg_dump
-- leaves out: they belong to the attachments, as after a fresh attach_*
DO $$
DECLARE
	v text;
BEGIN
	FOREACH v IN ARRAY ARRAY['customer_grades', 'grade_history', 'data_issues', 'stalled_opportunities'] LOOP
		IF to_regclass('@extschema@.' || v) IS NOT NULL THEN
			EXECUTE format('ALTER EXTENSION crm_grade DROP VIEW @extschema@.%I', v);
		END IF;
	END LOOP;
	IF to_regprocedure('@extschema@.followups_due(timestamptz, text)') IS NOT NULL THEN
		ALTER EXTENSION crm_grade DROP FUNCTION @extschema@.followups_due(timestamptz, text);
	END IF;
END $$;
SELECT @extschema@._refresh_all('upgrade');
