--
-- Who may call what (README "Security").  Functions that read or write
-- crm_grade's state or an application's tables are not executable by
-- PUBLIC: the extension's owner calls them, or grants them.  Those that
-- only compute stay PUBLIC: views and verify() call them as the reader.
--
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
	@extschema@.as_of(),
	@extschema@._timezone(),
	@extschema@._window_start(timestamptz),
	@extschema@._month_index(timestamptz),
	@extschema@._owner_text(text),
	@extschema@._key_max_bytes(),
	@extschema@._time_in_range(timestamptz),
	@extschema@._time_in_range(timestamp),
	@extschema@._time_in_range(date),
	@extschema@._followups_as_of(timestamptz),
	@extschema@._check_attacher(text),
	@extschema@._filter_admits(regclass, text, record),
	@extschema@._stalled_rows(regclass),
	@extschema@.check_policy(jsonb, text),
	@extschema@._score(jsonb, jsonb),
	@extschema@._raise(text, text, text, text, text, text),
	@extschema@._key_family(regtype),
	@extschema@._key_cast_sql(text, regtype, boolean),
	@extschema@._sql_condition(jsonb, jsonb),
	@extschema@._verify_attributes(jsonb),
	@extschema@._sample_uniform(int, int, bigint),
	@extschema@._sample_normal(int, int, bigint)
TO PUBLIC;
-- The trigger function too: PostgreSQL checks EXECUTE on it against whoever
-- creates or attaches a partition of an attached table (the partition gets
-- a copy of its row trigger), and that is the table's owner, not crm_grade's.
-- It refuses to work for any table but an attached one (or a partition of
-- one), for any trigger but the ones attach_*() creates, and for anything
-- called outside the trigger manager.
GRANT EXECUTE ON FUNCTION @extschema@.source_trigger() TO PUBLIC;
