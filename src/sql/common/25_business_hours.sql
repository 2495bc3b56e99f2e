--
-- The business calendar (src/business_hours.c): the moments a follow-up may
-- be scheduled at.
--

-- The first moment at or after due that is on a working day (Monday to
-- Friday, not in crm_grade.holiday) within working hours (09:00-18:00,
-- Monday from 12:00, Friday until 12:00) in crm_grade.timezone.  Not
-- executable by PUBLIC: it reads crm_grade.holiday as crm_grade's owner.
CREATE OR REPLACE FUNCTION @extschema@.next_allowed_moment(due timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_next_allowed_moment' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION @extschema@.next_allowed_moment(timestamptz) IS 'the first moment at or after due on a working day (Monday to Friday, not a holiday) within working hours (09:00-18:00, Monday from 12:00, Friday until 12:00) in crm_grade.timezone';

-- The holidays are cached by every backend that reads them: tell it when
-- they change; and move every follow-up the new calendar moves, at once.
-- Each customer keeps the moment it is due before the calendar applies
-- (follow_up_due), so no attached table is read: the follow-ups whose
-- allowed moment is the same stay as they are, which also makes a restore
-- of crm_grade.holiday (with the states it was computed with) change none.
CREATE OR REPLACE FUNCTION @extschema@._holidays_forget() RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_holidays_forget' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION @extschema@._check_states_unchanged() RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_check_states_unchanged' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION @extschema@._holidays_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM @extschema@._holidays_forget();
	-- as writers lock customers: the table first, then the rows
	LOCK TABLE @extschema@.customer_state IN SHARE ROW EXCLUSIVE MODE;
	-- (in REPEATABLE READ, a customer a writer changed after the snapshot
	-- would be judged by its old row: fail, to be retried, instead)
	PERFORM @extschema@._check_states_unchanged();
	UPDATE @extschema@.customer_state s
	   SET next_follow_up_at = @extschema@.next_allowed_moment(s.follow_up_due)
	 WHERE s.follow_up_due IS NOT NULL
	   AND s.next_follow_up_at IS DISTINCT FROM @extschema@.next_allowed_moment(s.follow_up_due);
	RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS holiday_reschedule ON @extschema@.holiday;
CREATE TRIGGER holiday_reschedule AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.holiday
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._holidays_changed();
DROP TRIGGER IF EXISTS holiday_invalidate ON @extschema@.holiday;
CREATE TRIGGER holiday_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.holiday
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
