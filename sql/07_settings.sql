--
-- 07_settings: crm_grade.as_of and crm_grade.timezone, and crm_grade.as_of().
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';

-- Until the module is loaded in a session, PostgreSQL keeps any string for
-- a crm_grade.* setting; the module checks it when it loads and warns, and
-- crm_grade then refuses to run (rather than grade at now()) until the
-- setting is given again.
SET crm_grade.as_of = 'next tuesday';
SHOW crm_grade.as_of;
SELECT crm_grade.as_of() = statement_timestamp() AS is_statement_start;
SET crm_grade.as_of = '';
SELECT crm_grade.as_of() = statement_timestamp() AS is_statement_start;
SHOW crm_grade.as_of;

-- once loaded, a bad value is refused at SET, with a hint
SET crm_grade.as_of = 'garbage';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET crm_grade.as_of = '2025-13-01';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET crm_grade.as_of = 'infinity';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET crm_grade.as_of = '-infinity';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SELECT set_config('crm_grade.as_of', '2025-02-30', false);
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a misspelled crm_grade setting is refused too
SET crm_grade.asof = '2025-01-31';
\echo SQLSTATE :LAST_ERROR_SQLSTATE

-- a moment with its zone
SET crm_grade.as_of = '2025-01-31 12:00+08';
SHOW crm_grade.as_of;
SELECT crm_grade.as_of();
-- without a zone it is read in the session's TimeZone, like any
-- timestamptz, when it is set; it stays the same moment afterwards
SET crm_grade.as_of = '2025-01-31 12:00';
SELECT crm_grade.as_of();
SET TimeZone = 'Asia/Tokyo';
SELECT crm_grade.as_of();
SET crm_grade.as_of = '2025-01-31 12:00';
SELECT crm_grade.as_of() AT TIME ZONE 'UTC' AS utc;
SET TimeZone = 'UTC';
-- crm_grade.timezone does not change it
SET crm_grade.timezone = 'America/New_York';
SELECT crm_grade.as_of() AT TIME ZONE 'UTC' AS utc;
RESET crm_grade.timezone;
SET crm_grade.as_of = 'epoch';
SELECT crm_grade.as_of();

-- '' means the moment of the statement: as_of() is the start of the
-- current statement, not of the transaction (writes are graded at the
-- moment they are made, see 17_write_moment)
SET crm_grade.as_of = '';
SELECT crm_grade.as_of() = statement_timestamp() AS is_statement_start;
BEGIN;
SELECT pg_sleep(0.01);
SELECT crm_grade.as_of() = statement_timestamp() AS is_statement_start,
	   crm_grade.as_of() > now() AS after_the_transaction_start,
	   crm_grade.as_of() < clock_timestamp() AS before_the_clock;
COMMIT;
RESET crm_grade.as_of;
SHOW crm_grade.as_of;
SELECT crm_grade.as_of() = statement_timestamp() AS is_statement_start;

-- SET LOCAL lasts for the transaction
SET crm_grade.as_of = '2025-06-15 12:00+00';
BEGIN;
SET LOCAL crm_grade.as_of = '2020-01-01 00:00+00';
SELECT crm_grade.as_of();
COMMIT;
SELECT crm_grade.as_of();
-- and a refused SET leaves the value as it was
SET crm_grade.as_of = 'not a date';
SELECT crm_grade.as_of();

-- crm_grade.timezone: UTC by default, any zone PostgreSQL knows
SHOW crm_grade.timezone;
SET crm_grade.timezone = 'Mars/Olympus_Mons';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SET crm_grade.timezone = '';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
SHOW crm_grade.timezone;
SET crm_grade.timezone = 'Asia/Shanghai';
SHOW crm_grade.timezone;
SET crm_grade.timezone = 'Europe/Berlin';
SHOW crm_grade.timezone;
RESET crm_grade.timezone;
SHOW crm_grade.timezone;

-- The month of a moment (a zone of one UTC offset shifts the time, others follow their rules)
-- agrees with SQL's local time on both sides of every month's start and of its midnights.
\set month_check 'SELECT current_setting(''crm_grade.timezone'') AS zone, count(*) AS moments, count(*) FILTER (WHERE crm_grade._month_index(t) <> extract(year FROM t AT TIME ZONE current_setting(''crm_grade.timezone''))::int * 12 + extract(month FROM t AT TIME ZONE current_setting(''crm_grade.timezone''))::int - 1) AS disagreements FROM generate_series(timestamp ''1890-01-01'', ''2110-12-01'', ''1 month'') m, unnest(ARRAY[-86400000000, -3600000001, -1, 0, 1, 3600000000]::bigint[]) d, LATERAL (SELECT (m AT TIME ZONE current_setting(''crm_grade.timezone'')) + d * interval ''1 microsecond'' AS t) x'
:month_check;
SET crm_grade.timezone = 'Etc/GMT-14';
:month_check;
SET crm_grade.timezone = 'Etc/GMT+12';
:month_check;
SET crm_grade.timezone = 'America/St_Johns';
:month_check;
RESET crm_grade.timezone;

-- as_of() is the function every computation uses; the settings carry descriptions
SELECT name, setting, context, vartype, short_desc FROM pg_settings
 WHERE name LIKE 'crm\_grade.%' ORDER BY name;
