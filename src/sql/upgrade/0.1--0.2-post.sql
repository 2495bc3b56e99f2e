
-- 0.2's triggers on every attached table and its partitions, the typed
-- views, and every customer evaluated by 0.2's definitions (the capped
-- repurchase_rate, payments counted once made): verify() is empty after
-- the update, and each grade that moves is in grade_history as "upgrade".
SELECT @extschema@._place_triggers(s.tbl, s.kind) FROM @extschema@.source s;
SELECT @extschema@._build_views();
-- made by this script, the views would be extension members, which pg_dump
-- leaves out: they belong to the attachments, as after a fresh attach_*
DO $$
DECLARE
	v text;
BEGIN
	FOREACH v IN ARRAY ARRAY['customer_grades', 'grade_history', 'data_issues'] LOOP
		IF to_regclass('@extschema@.' || v) IS NOT NULL THEN
			EXECUTE format('ALTER EXTENSION crm_grade DROP VIEW @extschema@.%I', v);
		END IF;
	END LOOP;
END $$;
SELECT @extschema@._refresh_all('upgrade');
