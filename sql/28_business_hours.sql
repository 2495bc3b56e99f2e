--
-- 28_business_hours: crm_grade.next_allowed_moment(), the business calendar
-- of SPEC section 8, step 4.  A follow-up may be due Monday to Friday, not
-- on a day in crm_grade.holiday, 09:00-18:00 on the wall clock of
-- crm_grade.timezone, but Monday only from 12:00 and Friday only until
-- 12:00, the bounds included.  Any other due time moves forward to the
-- first allowed moment.
--
-- Each case gives a due time and the moment expected, worked out by hand
-- from that rule; ok is true when the function returns it, and "wrong"
-- shows what it returned instead.  Each group sets TimeZone to the
-- crm_grade.timezone it tests, so that literals and results are read on
-- the same wall clock, with the weekday in front.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.timezone = 'UTC';

CREATE SCHEMA t28;
-- crm_grade.holiday is left as it was found
CREATE TABLE t28.saved_holidays AS SELECT * FROM crm_grade.holiday;
DELETE FROM crm_grade.holiday;

CREATE FUNCTION t28.show(t timestamptz) RETURNS text
	LANGUAGE sql AS $$ SELECT coalesce(to_char(t, 'Dy '), '') || t $$;
-- (label, due, expected): the case as it is shown
CREATE FUNCTION t28.outcome(text, timestamptz, timestamptz,
						  OUT label text, OUT due text, OUT expected text, OUT ok boolean, OUT wrong text)
	LANGUAGE sql AS $$
	SELECT $1, t28.show($2), t28.show($3), got IS NOT DISTINCT FROM $3,
		   CASE WHEN got IS DISTINCT FROM $3 THEN coalesce(t28.show(got), 'NULL') END
	FROM (SELECT crm_grade.next_allowed_moment($2) AS got) AS g $$;
CREATE TABLE t28.cases (
	id			serial PRIMARY KEY,
	grp			text NOT NULL,
	label		text NOT NULL,
	due			timestamptz,
	expected	timestamptz
);
CREATE VIEW t28.results AS
	SELECT c.grp, c.id, r.* FROM t28.cases c, t28.outcome(c.label, c.due, c.expected) r;

--------------------------------------------------------------------------
-- every day of one week, around 00:00, 09:00, 12:00, 18:00 and 23:59
-- (UTC; Monday 2026-06-01 to Monday 2026-06-08, no holidays)
--------------------------------------------------------------------------
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('week', 'Mon midnight: Monday opens at 12:00', '2026-06-01 00:00', '2026-06-01 12:00'),
	('week', 'Mon just before 09:00', '2026-06-01 08:59:59.999999', '2026-06-01 12:00'),
	('week', 'Mon 09:00 is not an opening', '2026-06-01 09:00', '2026-06-01 12:00'),
	('week', 'Mon just before 12:00', '2026-06-01 11:59:59.999999', '2026-06-01 12:00'),
	('week', 'Mon 12:00, the bound', '2026-06-01 12:00', '2026-06-01 12:00'),
	('week', 'Mon just after 12:00', '2026-06-01 12:00:00.000001', '2026-06-01 12:00:00.000001'),
	('week', 'Mon just before 18:00', '2026-06-01 17:59:59.999999', '2026-06-01 17:59:59.999999'),
	('week', 'Mon 18:00, the bound', '2026-06-01 18:00', '2026-06-01 18:00'),
	('week', 'Mon just after 18:00: Tuesday opens at 09:00', '2026-06-01 18:00:00.000001', '2026-06-02 09:00'),
	('week', 'Mon 23:59:59.999999', '2026-06-01 23:59:59.999999', '2026-06-02 09:00'),
	('week', 'Tue midnight', '2026-06-02 00:00', '2026-06-02 09:00'),
	('week', 'Tue just before 09:00', '2026-06-02 08:59:59.999999', '2026-06-02 09:00'),
	('week', 'Tue 09:00, the bound', '2026-06-02 09:00', '2026-06-02 09:00'),
	('week', 'Tue just after 09:00', '2026-06-02 09:00:00.000001', '2026-06-02 09:00:00.000001'),
	('week', 'Tue just before 12:00', '2026-06-02 11:59:59.999999', '2026-06-02 11:59:59.999999'),
	('week', 'Tue 12:00', '2026-06-02 12:00', '2026-06-02 12:00'),
	('week', 'Tue just after 12:00', '2026-06-02 12:00:00.000001', '2026-06-02 12:00:00.000001'),
	('week', 'Tue 18:00, the bound', '2026-06-02 18:00', '2026-06-02 18:00'),
	('week', 'Tue just after 18:00', '2026-06-02 18:00:00.000001', '2026-06-03 09:00'),
	('week', 'Tue 23:59', '2026-06-02 23:59', '2026-06-03 09:00'),
	('week', 'Wed 08:59', '2026-06-03 08:59', '2026-06-03 09:00'),
	('week', 'Wed 15:00', '2026-06-03 15:00', '2026-06-03 15:00'),
	('week', 'Wed 18:00, the bound', '2026-06-03 18:00', '2026-06-03 18:00'),
	('week', 'Wed 18:01', '2026-06-03 18:01', '2026-06-04 09:00'),
	('week', 'Thu midnight', '2026-06-04 00:00', '2026-06-04 09:00'),
	('week', 'Thu 09:00', '2026-06-04 09:00', '2026-06-04 09:00'),
	('week', 'Thu 18:00', '2026-06-04 18:00', '2026-06-04 18:00'),
	('week', 'Thu 23:59:59.999999: Friday opens at 09:00', '2026-06-04 23:59:59.999999', '2026-06-05 09:00'),
	('week', 'Fri midnight', '2026-06-05 00:00', '2026-06-05 09:00'),
	('week', 'Fri just before 09:00', '2026-06-05 08:59:59.999999', '2026-06-05 09:00'),
	('week', 'Fri 09:00, the bound', '2026-06-05 09:00', '2026-06-05 09:00'),
	('week', 'Fri just before 12:00', '2026-06-05 11:59:59.999999', '2026-06-05 11:59:59.999999'),
	('week', 'Fri 12:00, the bound', '2026-06-05 12:00', '2026-06-05 12:00'),
	('week', 'Fri just after 12:00: next Monday 12:00', '2026-06-05 12:00:00.000001', '2026-06-08 12:00'),
	('week', 'Fri 17:00', '2026-06-05 17:00', '2026-06-08 12:00'),
	('week', 'Fri 18:00 is past Friday''s close', '2026-06-05 18:00', '2026-06-08 12:00'),
	('week', 'Fri 23:59', '2026-06-05 23:59', '2026-06-08 12:00'),
	('week', 'Sat midnight', '2026-06-06 00:00', '2026-06-08 12:00'),
	('week', 'Sat 12:00', '2026-06-06 12:00', '2026-06-08 12:00'),
	('week', 'Sun 09:00', '2026-06-07 09:00', '2026-06-08 12:00'),
	('week', 'Sun 23:59:59.999999', '2026-06-07 23:59:59.999999', '2026-06-08 12:00'),
	('week', 'next Mon 11:00', '2026-06-08 11:00', '2026-06-08 12:00');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'week' ORDER BY id;

--------------------------------------------------------------------------
-- holidays (UTC): on the Monday after a weekend, on a weekend, on a
-- Wednesday, on a Friday, and four in a row around a weekend
--------------------------------------------------------------------------
INSERT INTO crm_grade.holiday (day, name) VALUES
	('2026-06-08', 'a Monday'),
	('2026-06-13', 'a Saturday'),
	('2026-06-14', 'a Sunday'),
	('2026-06-17', 'a Wednesday'),
	('2026-06-19', 'a Friday'),
	('2026-12-24', 'Christmas Eve, a Thursday'),
	('2026-12-25', 'Christmas Day, a Friday'),
	('2026-12-28', 'a Monday'),
	('2026-12-29', 'a Tuesday');
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('holiday', 'Fri 11:00 before a holiday Monday', '2026-06-05 11:00', '2026-06-05 11:00'),
	('holiday', 'Fri after 12:00, Mon a holiday: Tue 09:00', '2026-06-05 12:00:00.000001', '2026-06-09 09:00'),
	('holiday', 'Sat, Mon a holiday: Tue 09:00', '2026-06-06 10:00', '2026-06-09 09:00'),
	('holiday', 'Mon 12:00 on the holiday', '2026-06-08 12:00', '2026-06-09 09:00'),
	('holiday', 'Tue 08:00 after the holiday', '2026-06-09 08:00', '2026-06-09 09:00'),
	('holiday', 'Fri 12:30, holidays on the weekend change nothing', '2026-06-12 12:30', '2026-06-15 12:00'),
	('holiday', 'Sat 15:00 on a holiday', '2026-06-13 15:00', '2026-06-15 12:00'),
	('holiday', 'Tue after 18:00, Wed a holiday: Thu 09:00', '2026-06-16 18:00:01', '2026-06-18 09:00'),
	('holiday', 'Wed 10:00 on the holiday', '2026-06-17 10:00', '2026-06-18 09:00'),
	('holiday', 'Thu 17:59 before a holiday Friday', '2026-06-18 17:59', '2026-06-18 17:59'),
	('holiday', 'Thu after 18:00, Fri a holiday: Mon 12:00', '2026-06-18 18:30', '2026-06-22 12:00'),
	('holiday', 'Fri 09:00 on the holiday', '2026-06-19 09:00', '2026-06-22 12:00'),
	('holiday', 'Wed 18:00 before four holidays, the bound', '2026-12-23 18:00', '2026-12-23 18:00'),
	('holiday', 'Wed after 18:00: Thu to Tue are off', '2026-12-23 18:00:00.000001', '2026-12-30 09:00'),
	('holiday', 'Thu midnight, the first holiday', '2026-12-24 00:00', '2026-12-30 09:00'),
	('holiday', 'Sun between the holidays', '2026-12-27 12:00', '2026-12-30 09:00'),
	('holiday', 'Tue 17:00, the last holiday', '2026-12-29 17:00', '2026-12-30 09:00');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'holiday' ORDER BY id;
DELETE FROM crm_grade.holiday;

--------------------------------------------------------------------------
-- Europe/Berlin, across both daylight-saving changes of 2026: Sunday
-- 2026-03-29 02:00 +01 becomes 03:00 +02, Sunday 2026-10-25 03:00 +02
-- becomes 02:00 +01.  Hours are read on Berlin's wall clock, whatever the
-- offset.
--------------------------------------------------------------------------
SET TimeZone = 'Europe/Berlin';
SET crm_grade.timezone = 'Europe/Berlin';
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('berlin', 'Thu 18:00 +01, the bound', '2026-03-26 18:00+01', '2026-03-26 18:00+01'),
	('berlin', 'Fri just after 12:00 +01: Mon 12:00 is +02', '2026-03-27 12:00:00.000001+01', '2026-03-30 12:00+02'),
	('berlin', 'Fri 11:30 UTC is 12:30 in Berlin', '2026-03-27 11:30+00', '2026-03-30 12:00+02'),
	('berlin', 'Sat 23:59:59 +01', '2026-03-28 23:59:59+01', '2026-03-30 12:00+02'),
	('berlin', 'Sun 02:30, skipped, read by PostgreSQL as 03:30 +02', '2026-03-29 02:30', '2026-03-30 12:00+02'),
	('berlin', 'Sun 23:00 UTC is Mon 01:00 in Berlin', '2026-03-29 23:00+00', '2026-03-30 12:00+02'),
	('berlin', 'Mon 11:59:59 +02', '2026-03-30 11:59:59+02', '2026-03-30 12:00+02'),
	('berlin', 'Tue 08:59 +02', '2026-03-31 08:59+02', '2026-03-31 09:00+02'),
	('berlin', 'Thu 18:00 +02, the bound', '2026-10-22 18:00+02', '2026-10-22 18:00+02'),
	('berlin', 'Thu 16:30 UTC is 18:30 in Berlin', '2026-10-22 16:30+00', '2026-10-23 09:00+02'),
	('berlin', 'Fri 12:00 +02, the bound', '2026-10-23 12:00+02', '2026-10-23 12:00+02'),
	('berlin', 'Fri 13:00 +02: Mon 12:00 is +01', '2026-10-23 13:00+02', '2026-10-26 12:00+01'),
	('berlin', 'Sat 12:00 +02', '2026-10-24 12:00+02', '2026-10-26 12:00+01'),
	('berlin', 'Sun 02:30 +02, the first of two', '2026-10-25 02:30+02', '2026-10-26 12:00+01'),
	('berlin', 'Sun 02:30 +01, the second of two', '2026-10-25 02:30+01', '2026-10-26 12:00+01'),
	('berlin', 'Mon 10:59:59 UTC is 11:59:59 in Berlin', '2026-10-26 10:59:59+00', '2026-10-26 12:00+01'),
	('berlin', 'Mon 11:00 UTC is 12:00 in Berlin', '2026-10-26 11:00+00', '2026-10-26 12:00+01');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'berlin' ORDER BY id;

--------------------------------------------------------------------------
-- America/New_York, west of UTC: Sunday 2026-03-08 02:00 -05 becomes
-- 03:00 -04, Sunday 2026-11-01 02:00 -04 becomes 01:00 -05.  Late evening
-- in New York is already the next day in UTC; holidays are New York dates.
--------------------------------------------------------------------------
SET TimeZone = 'America/New_York';
SET crm_grade.timezone = 'America/New_York';
INSERT INTO crm_grade.holiday (day, name) VALUES ('2026-07-03', 'Independence Day observed, a Friday');
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('new_york', 'Fri 12:00 -05, the bound', '2026-03-06 12:00-05', '2026-03-06 12:00-05'),
	('new_york', 'Fri just after 12:00 -05: Mon 12:00 is -04', '2026-03-06 12:00:00.000001-05', '2026-03-09 12:00-04'),
	('new_york', 'Sun 02:30, skipped, read by PostgreSQL as 03:30 -04', '2026-03-08 02:30', '2026-03-09 12:00-04'),
	('new_york', 'Mon 11:59 -04', '2026-03-09 11:59-04', '2026-03-09 12:00-04'),
	('new_york', 'Tue 03:00 UTC is Mon 23:00 in New York', '2026-03-10 03:00+00', '2026-03-10 09:00-04'),
	('new_york', 'Fri 15:30 UTC is 11:30 in New York', '2026-03-13 15:30+00', '2026-03-13 11:30-04'),
	('new_york', 'Fri 16:00:01 UTC is 12:00:01 in New York', '2026-03-13 16:00:01+00', '2026-03-16 12:00-04'),
	('new_york', 'Sat 03:00 UTC is Fri 23:00 in New York', '2026-03-14 03:00+00', '2026-03-16 12:00-04'),
	('new_york', 'Thu after 18:00, Fri a holiday: Mon 12:00', '2026-07-02 18:00:01-04', '2026-07-06 12:00-04'),
	('new_york', 'Fri 03:00 UTC is Thu 23:00 in New York', '2026-07-03 03:00+00', '2026-07-06 12:00-04'),
	('new_york', 'Fri 13:00 UTC is 09:00 on the holiday', '2026-07-03 13:00+00', '2026-07-06 12:00-04'),
	('new_york', 'Fri 18:00 -04', '2026-10-30 18:00-04', '2026-11-02 12:00-05'),
	('new_york', 'Sun 01:30 -04, the first of two', '2026-11-01 01:30-04', '2026-11-02 12:00-05'),
	('new_york', 'Sun 01:30 -05, the second of two', '2026-11-01 01:30-05', '2026-11-02 12:00-05'),
	('new_york', 'Mon 12:00 -05, the bound', '2026-11-02 12:00-05', '2026-11-02 12:00-05'),
	('new_york', 'Tue 04:00 UTC is Mon 23:00 in New York', '2026-11-03 04:00+00', '2026-11-03 09:00-05');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'new_york' ORDER BY id;
DELETE FROM crm_grade.holiday;

--------------------------------------------------------------------------
-- Changes of the UTC offset inside working hours, in two made-up POSIX
-- zones (no real zone changes on a weekday at these hours, but some change
-- on weekdays).  The wall clock decides, at every moment:
--
-- XST-1XDT,M3.5.3/8:30,M10.5.1/12:30: on Wednesday 2026-03-25 the clock
-- jumps from 08:30 +01 to 09:30 +02 (07:30 UTC), so 09:00 never shows and
-- the day opens at the jump; on Monday 2026-10-26 it goes back from
-- 12:30 +02 to 11:30 +01 (10:30 UTC), so 12:00 shows twice: the first is
-- the first allowed moment, and from 11:30 +01 on, the second is next.
--------------------------------------------------------------------------
SET TimeZone = 'XST-1XDT,M3.5.3/8:30,M10.5.1/12:30';
SET crm_grade.timezone = 'XST-1XDT,M3.5.3/8:30,M10.5.1/12:30';
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('posix_x', 'Tue after 18:00: Wed opens at the jump', '2026-03-24 18:30+01', '2026-03-25 09:30+02'),
	('posix_x', 'Wed 08:00 +01: the jump at 09:30 +02', '2026-03-25 08:00+01', '2026-03-25 09:30+02'),
	('posix_x', 'Wed 08:29:59 +01', '2026-03-25 08:29:59+01', '2026-03-25 09:30+02'),
	('posix_x', 'Wed 09:30 +02, the jump itself', '2026-03-25 09:30+02', '2026-03-25 09:30+02'),
	('posix_x', 'Wed 09:00, skipped, read by PostgreSQL as 10:00 +02', '2026-03-25 09:00', '2026-03-25 10:00+02'),
	('posix_x', 'Fri 13:00 +02: the first Mon 12:00', '2026-10-23 13:00+02', '2026-10-26 12:00+02'),
	('posix_x', 'Mon 10:00 +02: the first 12:00', '2026-10-26 10:00+02', '2026-10-26 12:00+02'),
	('posix_x', 'Mon 12:29:59 +02', '2026-10-26 12:29:59+02', '2026-10-26 12:29:59+02'),
	('posix_x', 'Mon 10:30 UTC, back to 11:30 +01: the second 12:00', '2026-10-26 10:30+00', '2026-10-26 12:00+01'),
	('posix_x', 'Mon 11:45 +01', '2026-10-26 11:45+01', '2026-10-26 12:00+01'),
	('posix_x', 'Mon 12:00, read by PostgreSQL as the second', '2026-10-26 12:00', '2026-10-26 12:00+01');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'posix_x' ORDER BY id;

--------------------------------------------------------------------------
-- YST-1YDT,M3.5.4/17:30,M10.5.4/18:30: on Thursday 2026-03-26 the clock
-- jumps from 17:30 +01 to 18:30 +02 (16:30 UTC), past 18:00; on Thursday
-- 2026-10-29 it goes back from 18:30 +02 to 17:30 +01 (16:30 UTC), into
-- working hours again, which last until 18:00 +01.
--------------------------------------------------------------------------
SET TimeZone = 'YST-1YDT,M3.5.4/17:30,M10.5.4/18:30';
SET crm_grade.timezone = 'YST-1YDT,M3.5.4/17:30,M10.5.4/18:30';
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('posix_y', 'Thu 17:29:59 +01, before the jump', '2026-03-26 17:29:59+01', '2026-03-26 17:29:59+01'),
	('posix_y', 'Thu 16:30 UTC, the jump to 18:30 +02', '2026-03-26 16:30+00', '2026-03-27 09:00+02'),
	('posix_y', 'Thu 18:00 +02, the bound', '2026-10-29 18:00+02', '2026-10-29 18:00+02'),
	('posix_y', 'Thu 18:10 +02: back to 17:30 +01 at 16:30 UTC', '2026-10-29 18:10+02', '2026-10-29 17:30+01'),
	('posix_y', 'Thu 17:45 +01, the second pass', '2026-10-29 17:45+01', '2026-10-29 17:45+01'),
	('posix_y', 'Thu 18:00 +01, the bound', '2026-10-29 18:00+01', '2026-10-29 18:00+01'),
	('posix_y', 'Thu 18:00:01 +01', '2026-10-29 18:00:01+01', '2026-10-30 09:00+01');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'posix_y' ORDER BY id;

SET TimeZone = 'UTC';
SET crm_grade.timezone = 'UTC';

--------------------------------------------------------------------------
-- A change to crm_grade.holiday takes effect at the next statement of the
-- same session (its statement trigger invalidates the cached list), and a
-- rolled-back change is forgotten.  Wednesday 2026-09-16.
--------------------------------------------------------------------------
SELECT * FROM t28.outcome('no holiday', '2026-09-16 10:00', '2026-09-16 10:00');
INSERT INTO crm_grade.holiday (day, name) VALUES ('2026-09-16', 'inserted');
SELECT * FROM t28.outcome('Wed inserted', '2026-09-16 10:00', '2026-09-17 09:00');
UPDATE crm_grade.holiday SET day = '2026-09-17' WHERE day = '2026-09-16';
SELECT * FROM t28.outcome('moved to Thu', '2026-09-16 10:00', '2026-09-16 10:00');
SELECT * FROM t28.outcome('moved to Thu', '2026-09-16 18:30', '2026-09-18 09:00');
DELETE FROM crm_grade.holiday WHERE day = '2026-09-17';
SELECT * FROM t28.outcome('deleted', '2026-09-16 18:30', '2026-09-17 09:00');
BEGIN;
INSERT INTO crm_grade.holiday (day, name) VALUES ('2026-09-17', 'rolled back');
SELECT * FROM t28.outcome('inside the transaction', '2026-09-16 18:30', '2026-09-18 09:00');
ROLLBACK;
SELECT * FROM t28.outcome('rolled back', '2026-09-16 18:30', '2026-09-17 09:00');
INSERT INTO crm_grade.holiday (day, name) VALUES ('2026-09-17', 'truncated');
SELECT * FROM t28.outcome('inserted again', '2026-09-16 18:30', '2026-09-18 09:00');
TRUNCATE crm_grade.holiday;
SELECT * FROM t28.outcome('truncated', '2026-09-16 18:30', '2026-09-17 09:00');

--------------------------------------------------------------------------
-- No working day within a year: an error, not an endless search.  The
-- search covers the due day and the 366 days after it.  Here every weekday
-- of 2027 is a holiday; Monday 2028-01-03 is the first working day.
--------------------------------------------------------------------------
INSERT INTO crm_grade.holiday (day, name)
	SELECT d, 'closed' FROM generate_series(date '2027-01-01', date '2027-12-31', interval '1 day') AS d
	WHERE extract(isodow FROM d) < 6;
-- 366 days after Thursday 2026-12-31 is Saturday 2028-01-01
SELECT crm_grade.next_allowed_moment('2026-12-31 18:30');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- 366 days after Friday 2027-01-01 is Sunday 2028-01-02
SELECT crm_grade.next_allowed_moment('2027-01-01 23:59');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('year', 'Sat: Mon 2028-01-03 is the 366th day', '2027-01-02 00:00', '2028-01-03 12:00'),
	('year', 'Tue in the middle of the closed year', '2027-06-15 10:00', '2028-01-03 12:00');
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'year' ORDER BY id;
DELETE FROM crm_grade.holiday;

--------------------------------------------------------------------------
-- the ends of the timestamp range, infinity and NULL
--------------------------------------------------------------------------
INSERT INTO t28.cases (grp, label, due, expected) VALUES
	('ends', 'the first timestamptz, a Monday', '4714-11-24 00:00 BC', '4714-11-24 12:00 BC'),
	('ends', 'infinity stays', 'infinity', 'infinity'),
	('ends', '-infinity stays', '-infinity', '-infinity'),
	('ends', 'NULL (STRICT)', NULL, NULL);
SELECT id, label, due, expected, ok, wrong FROM t28.results WHERE grp = 'ends' ORDER BY id;
-- the next opening after the last day there is
SELECT crm_grade.next_allowed_moment('294276-12-31 23:00');
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- It reads crm_grade.holiday, so it is not executable by PUBLIC.
SELECT has_function_privilege('public', 'crm_grade.next_allowed_moment(timestamptz)', 'EXECUTE') AS public_may_call;

-- cleanup
INSERT INTO crm_grade.holiday SELECT * FROM t28.saved_holidays;
SELECT (SELECT count(*) FROM crm_grade.holiday) = (SELECT count(*) FROM t28.saved_holidays) AS holidays_restored;
DROP SCHEMA t28 CASCADE;
RESET crm_grade.timezone;
