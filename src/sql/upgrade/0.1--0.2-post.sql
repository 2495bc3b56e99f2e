
-- 0.2's triggers on every attached table and its partitions, the typed
-- views, and every customer evaluated by 0.2's definitions (the capped
-- repurchase_rate, payments counted once made): verify() is empty after
-- the update, and each grade that moves is in grade_history as "upgrade".
SELECT @extschema@._place_triggers(s.tbl, s.kind) FROM @extschema@.source s;
SELECT @extschema@._build_views();
SELECT @extschema@._refresh_all('upgrade');
