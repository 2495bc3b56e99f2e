/*-------------------------------------------------------------------------
 *
 * calendar.c
 *		The calendar arithmetic every metric shares: the 12-month window and
 *		the moments it steps at, calendar months and whole days.
 *
 * Month arithmetic is done in crm_grade.timezone, never in the session's
 * TimeZone, so that a customer's grade does not depend on who looks at it.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

PG_FUNCTION_INFO_V1(crm_grade_window_start);
PG_FUNCTION_INFO_V1(crm_grade_month_index);
PG_FUNCTION_INFO_V1(crm_grade_time_in_range);
PG_FUNCTION_INFO_V1(crm_grade_local_time_in_range);
PG_FUNCTION_INFO_V1(crm_grade_local_date_in_range);

/*
 * Break a moment into local calendar fields in crm_grade.timezone; tm_gmtoff
 * is the offset in effect at that moment.
 */
void
CrmToLocal(TimestampTz t, struct pg_tm *tm, fsec_t *fsec)
{
	int			tz;

	if (timestamp2tm(t, &tz, tm, fsec, NULL, CrmTz()) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
}

/*
 * Turn local calendar fields in crm_grade.timezone back into a moment;
 * false when it lies beyond timestamptz's range.
 */
static bool
FromLocalChecked(struct pg_tm *tm, fsec_t fsec, TimestampTz *result)
{
	int			tz = DetermineTimeZoneOffset(tm, CrmTz());

	return tm2timestamp(tm, fsec, &tz, result) == 0;
}

/* The same, for moments crm_grade computes itself. */
static TimestampTz
FromLocal(struct pg_tm *tm, fsec_t fsec)
{
	TimestampTz result;

	if (!FromLocalChecked(tm, fsec, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
	return result;
}

/* Add months to local fields, clamping the day as interval arithmetic does. */
static void
AddMonths(struct pg_tm *tm, int months)
{
	int			m = tm->tm_year * 12 + (tm->tm_mon - 1) + months;
	int			year = m / 12;
	int			month = m % 12;

	/* floor division: C's truncates, and a year BC is negative */
	if (month < 0)
	{
		month += 12;
		year--;
	}
	tm->tm_year = year;
	tm->tm_mon = month + 1;
	if (tm->tm_mday > day_tab[isleap(tm->tm_year)][tm->tm_mon - 1])
		tm->tm_mday = day_tab[isleap(tm->tm_year)][tm->tm_mon - 1];
}

/* Exclusive start of the 12-month window ending at t. */
TimestampTz
CrmWindowStart(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	CrmToLocal(t, &tm, &fsec);
	AddMonths(&tm, -12);
	return FromLocal(&tm, fsec);
}

/*
 * The window start and T move in step, T - CrmWindowStart(T) constant,
 * except at a few moments ("window steps"): where T's own UTC offset
 * changes (a DST transition now), where the wall-clock time 12 months back
 * crosses a DST transition of a year ago, and where the day clamp begins or
 * ends (29 February and 1 March).  At a step the window start may jump
 * forward (orders leave at once) or back (orders of a year ago count again).
 */
#define MAX_STEPS 16

static int	ComputeWindowSteps(TimestampTz now, TimestampTz *steps);

/* Add a step candidate after now, keeping the list sorted and unique. */
static void
AddStep(TimestampTz *steps, int *n, TimestampTz t, TimestampTz now)
{
	int			i,
				j;

	if (t <= now || *n >= MAX_STEPS)
		return;
	for (i = 0; i < *n && steps[i] < t; i++)
		;
	if (i < *n && steps[i] == t)
		return;
	for (j = *n; j > i; j--)
		steps[j] = steps[j - 1];
	steps[i] = t;
	(*n)++;
}

/* The moment whose local wall clock reads wall + 12 months. */
static TimestampTz
WallPlusYear(pg_time_t wall)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(time_t_to_timestamptz(wall), NULL, &tm, &fsec, NULL, NULL) != 0)
		return DT_NOEND;
	AddMonths(&tm, 12);
	return FromLocal(&tm, fsec);
}

/* Local midnight of the given date in crm_grade.timezone. */
static TimestampTz
LocalMidnight(int year, int month, int day)
{
	struct pg_tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year;
	tm.tm_mon = month;
	tm.tm_mday = day;
	return FromLocal(&tm, 0);
}

/*
 * The window steps after now (within about a year), in order.  A refresh
 * evaluates many customers at one moment, so the last answer is kept.
 */
static int
WindowSteps(TimestampTz now, TimestampTz *steps)
{
	static TimestampTz cached_now = DT_NOBEGIN;
	static pg_tz *cached_tz = NULL;
	static TimestampTz cached_steps[MAX_STEPS];
	static int	cached_n = 0;

	if (now != cached_now || CrmTz() != cached_tz)
	{
		cached_n = ComputeWindowSteps(now, cached_steps);
		cached_now = now;
		cached_tz = CrmTz();
	}
	memcpy(steps, cached_steps, sizeof(TimestampTz) * cached_n);
	return cached_n;
}

static int
ComputeWindowSteps(TimestampTz now, TimestampTz *steps)
{
	pg_tz	   *tz = CrmTz();
	pg_time_t	from,
				boundary;
	long int	before_off,
				after_off;
	int			before_dst,
				after_dst;
	int			n = 0,
				k,
				year;
	struct pg_tm tm;
	fsec_t		fsec;

	/* transitions of T itself */
	from = timestamptz_to_time_t(now);
	for (k = 0; k < 3 && pg_next_dst_boundary(&from, &before_off, &before_dst, &boundary,
											  &after_off, &after_dst, tz) == 1; k++)
	{
		AddStep(steps, &n, time_t_to_timestamptz(boundary), now);
		from = boundary;
	}
	/* transitions of a year ago, seen 12 months later on the wall clock */
	from = timestamptz_to_time_t(CrmWindowStart(now)) - 2 * SECS_PER_DAY;
	for (k = 0; k < 6 && pg_next_dst_boundary(&from, &before_off, &before_dst, &boundary,
											  &after_off, &after_dst, tz) == 1; k++)
	{
		if (time_t_to_timestamptz(boundary) > now)
			break;
		AddStep(steps, &n, WallPlusYear(boundary + before_off), now);
		AddStep(steps, &n, WallPlusYear(boundary + after_off), now);
		from = boundary;
	}
	/* the day clamp of 29 February */
	CrmToLocal(now, &tm, &fsec);
	for (year = tm.tm_year; year <= tm.tm_year + 1; year++)
	{
		if (isleap(year))
			AddStep(steps, &n, LocalMidnight(year, 2, 29), now);
		if (isleap(year) || isleap(year - 1))
			AddStep(steps, &n, LocalMidnight(year, 3, 1), now);
	}
	return n;
}

/*
 * First moment after now at which an order made at t (inside the window at
 * now) is outside it: the least T > now with CrmWindowStart(T) >= t.
 * Between steps the window start moves with T, so each stretch has one
 * candidate, t + (T - CrmWindowStart(T)).
 */
TimestampTz
CrmWindowExit(TimestampTz t, TimestampTz now)
{
	TimestampTz steps[MAX_STEPS];
	int			nsteps = WindowSteps(now, steps);
	TimestampTz from = now;
	int			i;

	if (TIMESTAMP_NOT_FINITE(t))
		return t;
	for (i = 0; i <= nsteps; i++)
	{
		TimestampTz until = (i < nsteps) ? steps[i] : DT_NOEND;
		TimestampTz exit = t + (from - CrmWindowStart(from));

		if (i > 0 && CrmWindowStart(from) >= t)
			return from;		/* the window start jumped past t */
		if (exit > now && exit < until)
			return exit;
		from = until;
	}
	return DT_NOEND;
}

/*
 * The first step after now at which the window start moves back, so that
 * an order that has left the window may count again; DT_NOEND if none
 * within the steps known.
 */
TimestampTz
CrmWindowReentry(TimestampTz now)
{
	static TimestampTz cached_now = DT_NOBEGIN;
	static pg_tz *cached_tz = NULL;
	static TimestampTz cached_reentry = DT_NOEND;
	TimestampTz steps[MAX_STEPS];
	int			nsteps;
	int			i;

	/* it depends on now alone, and a refresh asks once per customer */
	if (now == cached_now && CrmTz() == cached_tz)
		return cached_reentry;
	nsteps = WindowSteps(now, steps);
	cached_reentry = DT_NOEND;
	for (i = 0; i < nsteps; i++)
	{
		if (CrmWindowStart(steps[i]) < CrmWindowStart(steps[i] - 1))
		{
			cached_reentry = steps[i];
			break;
		}
	}
	cached_now = now;
	cached_tz = CrmTz();
	return cached_reentry;
}

/*
 * The Julian day of t in crm_grade.timezone.  In a zone of one UTC offset
 * (UTC, the default) that is t shifted by the offset, as pg_localtime()
 * computes it (crm_grade.timezone accepts no zone with leap seconds), for
 * a fraction of the cost of timestamp2tm(): a back-fill takes the month of
 * every order.  Anything else goes through CrmToLocal().
 */
static int
LocalJulianDay(TimestampTz t)
{
	long		gmtoff;
	struct pg_tm tm;
	fsec_t		fsec;

	if (IS_VALID_TIMESTAMP(t) && pg_get_timezone_offset(CrmTz(), &gmtoff))
	{
		Timestamp	local = t + (Timestamp) gmtoff * USECS_PER_SEC;
		Timestamp	day = local / USECS_PER_DAY;

		if (local % USECS_PER_DAY < 0)
			day--;				/* (floor, before 2000) */
		if (IS_VALID_TIMESTAMP(local))
			return (int) (day + POSTGRES_EPOCH_JDATE);
	}
	CrmToLocal(t, &tm, &fsec);
	return date2j(tm.tm_year, tm.tm_mon, tm.tm_mday);
}

/* year * 12 + month - 1 in crm_grade.timezone. */
int
CrmMonthIndex(TimestampTz t)
{
	int			year,
				month,
				day;

	j2date(LocalJulianDay(t), &year, &month, &day);
	return year * 12 + month - 1;
}

/*
 * Calendar days from from's day to to's day in crm_grade.timezone: a date
 * column holds a day, not a moment, so a payment dated the day of an order
 * made that afternoon is 0 days, not -1.
 */
int64
CrmCalendarDaysBetween(TimestampTz from, TimestampTz to)
{
	return (int64) LocalJulianDay(to) - LocalJulianDay(from);
}

/*
 * The first moment whose wall clock in crm_grade.timezone reads the local
 * fields tm (whole seconds).  Where the clocks were set back across them
 * (America/Havana ends daylight saving time at midnight), the fields name
 * two moments; DetermineTimeZoneOffset() takes the later, but a day read
 * from moments (CrmMonthIndex(), verify()) begins at the earlier: the one
 * the offset in effect a day before gives, when it reads the same.
 */
static TimestampTz
FromLocalFirst(struct pg_tm *tm)
{
	TimestampTz later = FromLocal(tm, 0);
	TimestampTz earlier;
	struct pg_tm at,
				before;
	fsec_t		fsec;
	long		gmtoff;

	/* a zone of one UTC offset (UTC, the default) never sets its clocks back */
	if (pg_get_timezone_offset(CrmTz(), &gmtoff))
		return later;
	CrmToLocal(later, &at, &fsec);
	CrmToLocal(later - USECS_PER_DAY, &before, &fsec);
	if (before.tm_gmtoff <= at.tm_gmtoff)
		return later;
	earlier = later - (TimestampTz) (before.tm_gmtoff - at.tm_gmtoff) * USECS_PER_SEC;
	CrmToLocal(earlier, &before, &fsec);
	if (before.tm_year == tm->tm_year && before.tm_mon == tm->tm_mon && before.tm_mday == tm->tm_mday &&
		before.tm_hour == tm->tm_hour && before.tm_min == tm->tm_min && before.tm_sec == tm->tm_sec &&
		fsec == 0)
		return earlier;
	return later;
}

/* Local midnight of the first day of the month after t's month. */
TimestampTz
CrmNextMonthStart(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;

	CrmToLocal(t, &tm, &fsec);
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	AddMonths(&tm, 1);
	return FromLocalFirst(&tm);
}

/* floor((to - from) / 1 day), the day count of every *_days metric. */
int64
CrmDaysBetween(TimestampTz from, TimestampTz to)
{
	int64		diff = to - from;
	int64		days = diff / USECS_PER_DAY;

	if (diff % USECS_PER_DAY != 0 && diff < 0)
		days--;
	return days;
}

/*
 * A timestamp without time zone read as local time in crm_grade.timezone;
 * false when the moment it names lies beyond timestamptz's range (a local
 * time within hours of either end of the range, whose zone offset moves it
 * out).  Such a value is a row's problem, which the caller reports with its
 * column, not a failure of the arithmetic.
 */
bool
CrmLocalToTimestampTzChecked(Timestamp local, TimestampTz *result)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(local))
	{
		*result = local;
		return true;
	}
	return timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) == 0 &&
		FromLocalChecked(&tm, fsec, result);
}

/*
 * The same for a date, read as its local midnight: false also for a date
 * after the last day a timestamp holds (dates reach year 5874897).
 */
bool
CrmLocalDateToTimestampTz(DateADT d, TimestampTz *result)
{
	int			overflow = 0;
	Timestamp	local = date2timestamp_opt_overflow(d, &overflow);

	return overflow == 0 && CrmLocalToTimestampTzChecked(local, result);
}

/* CrmLocalToTimestampTzChecked(), for times crm_grade made itself. */
TimestampTz
CrmLocalToTimestampTz(Timestamp local)
{
	TimestampTz result;

	if (!CrmLocalToTimestampTzChecked(local, &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
	return result;
}

/*
 * The moments crm_grade grades: from the start of 4712 BC to the start of
 * 90000 AD, UTC (timestamptz reaches from 4714-11-24 BC to 294276 AD).
 * Every moment crm_grade derives from them then lies within timestamptz's
 * range, so no arithmetic of a write, regrade() or verify() can overflow:
 * the 12-month window's start before "now" and its end after a row or
 * "now", a follow-up (a cadence of at most 100 years, then up to 366 days
 * of calendar, after its base), the stage thresholds (at most 36500 days
 * after the last order), and the
 * moment risk rises (up to twice a customer's whole span of orders after
 * the last one: 90000 + 2 x 94712 years is still within range).  Infinite
 * moments are not in it.
 */
bool
CrmTimeInRange(TimestampTz t)
{
	return t >= (TimestampTz) (date2j(-4711, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY &&
		t < (TimestampTz) (date2j(90000, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
}

/*
 * SQL: crm_grade._time_in_range(timestamptz), (timestamp) and (date): is
 * the value, a date or local time read in crm_grade.timezone, a moment
 * crm_grade grades?  verify() and the checks of attach_*() leave out (or
 * refuse) the rows the triggers refuse for it.
 */
Datum
crm_grade_time_in_range(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CrmTimeInRange(PG_GETARG_TIMESTAMPTZ(0)));
}

Datum
crm_grade_local_time_in_range(PG_FUNCTION_ARGS)
{
	TimestampTz result;

	PG_RETURN_BOOL(CrmLocalToTimestampTzChecked(PG_GETARG_TIMESTAMP(0), &result) &&
				   CrmTimeInRange(result));
}

Datum
crm_grade_local_date_in_range(PG_FUNCTION_ARGS)
{
	TimestampTz result;

	PG_RETURN_BOOL(CrmLocalDateToTimestampTz(PG_GETARG_DATEADT(0), &result) &&
				   CrmTimeInRange(result));
}

/* SQL: crm_grade._window_start(timestamptz) */
Datum
crm_grade_window_start(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(CrmWindowStart(PG_GETARG_TIMESTAMPTZ(0)));
}

/* SQL: crm_grade._month_index(timestamptz) */
Datum
crm_grade_month_index(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CrmMonthIndex(PG_GETARG_TIMESTAMPTZ(0)));
}

