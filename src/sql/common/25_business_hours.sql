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
-- they change.
DROP TRIGGER IF EXISTS holiday_invalidate ON @extschema@.holiday;
CREATE TRIGGER holiday_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.holiday
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._invalidate();
