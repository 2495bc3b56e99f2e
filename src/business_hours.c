/*-------------------------------------------------------------------------
 *
 * business_hours.c
 *		The business calendar: which moments a follow-up may be scheduled
 *		at, and the first such moment at or after a due time (SPEC section
 *		8, step 4).
 *
 * A moment is allowed when the wall clock of crm_grade.timezone shows a
 * working day (Monday to Friday, not in crm_grade.holiday) and a time from
 * that day's opening to its closing, both included: 09:00 to 18:00, but
 * Monday from 12:00 and Friday until 12:00.
 *
 * The wall clock is read at each moment, so a daylight-saving change needs
 * no special case: between two changes of the UTC offset the wall clock
 * runs evenly, and the search steps over each change.  An opening that the
 * clock skips (08:30 jumps to 09:30) gives the moment of the jump; one that
 * it shows twice (12:30 back to 11:30 on a Monday) gives the first 12:00,
 * or the second if the due time lies between them.
 *
 * The holidays are read once per backend, as crm_grade's owner, and kept
 * until a statement on crm_grade.holiday invalidates them.
 *
 *-------------------------------------------------------------------------
 */
#include "business_hours.h"
#include "store.h"

#include <stdlib.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/inval.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(crm_grade_next_allowed_moment);
PG_FUNCTION_INFO_V1(crm_grade_holidays_forget);
PG_FUNCTION_INFO_V1(crm_grade_check_states_unchanged);

/* Opening and closing times, in microseconds after local midnight. */
#define OPENS			(9 * USECS_PER_HOUR)
#define CLOSES			(18 * USECS_PER_HOUR)
#define MONDAY_OPENS	(12 * USECS_PER_HOUR)
#define FRIDAY_CLOSES	(12 * USECS_PER_HOUR)

/*
 * How many days after the due day to look for a working day: a year, leap
 * day included.  A calendar without one is a mistake in crm_grade.holiday,
 * and the search has to end somewhere.
 */
#define SEARCH_DAYS		366

/* A moment as the wall clock of crm_grade.timezone shows it. */
typedef struct WallClock
{
	DateADT		day;			/* the local date */
	int64		time;			/* microseconds after local midnight */
	long int	gmtoff;			/* seconds east of UTC in effect then */
} WallClock;

static void NoWorkingDay(DateADT due_day) pg_attribute_noreturn();

/*
 * The holidays, sorted.  They are current while holidays_loaded_at equals
 * holiday_changes, which the relcache callback bumps.
 */
static DateADT *holidays = NULL;
static Size nholidays = 0;
static Oid	holiday_relid = InvalidOid;
static uint64 holiday_changes = 1;
static uint64 holidays_loaded_at = 0;

/*
 * Relcache callback.  crm_grade._invalidate(), a statement trigger on
 * crm_grade.holiday, sends the invalidation: this backend gets it at its
 * next command, the others when the change commits (and a rollback sends
 * it here again).
 */
static void
ForgetHolidays(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == holiday_relid)
		holiday_changes++;
}

/*
 * Make the holiday list current.  The count of changes is noted before the
 * read, so a change that arrives during it makes the next call read again.
 */
static void
LoadHolidays(void)
{
	static bool callback_registered = false;
	static SPIPlanPtr plan = NULL;
	uint64		changes;
	CrmIdentity id;
	DateADT    *days;
	uint64		i;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetHolidays, (Datum) 0);
		callback_registered = true;
	}
	AcceptInvalidationMessages();
	if (holidays_loaded_at == holiday_changes)
		return;
	changes = holiday_changes;
	holiday_relid = CrmRelid("holiday");
	CrmEnter(&id);
	if (plan == NULL)
		plan = CrmSpiPrepareKept("SELECT h.day FROM crm_grade.holiday h ORDER BY h.day", 0, NULL);

	/*
	 * The latest snapshot, not the transaction's: the list outlives this
	 * transaction, and a REPEATABLE READ one would otherwise keep the
	 * holidays of its start after the invalidation of a newer change has
	 * been consumed.
	 */
	if (CrmSpiExecuteSnapshot(plan, NULL, NULL, GetLatestSnapshot(), true, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read crm_grade.holiday");
	days = MemoryContextAlloc(TopMemoryContext, sizeof(DateADT) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		days[i] = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
												1, &isnull));
	}
	CrmLeave(&id);
	if (holidays)
		pfree(holidays);
	holidays = days;
	nholidays = i;
	holidays_loaded_at = changes;
}

static int
CompareDays(const void *a, const void *b)
{
	DateADT		x = *(const DateADT *) a;
	DateADT		y = *(const DateADT *) b;

	return (x > y) - (x < y);
}

/* 0 for Sunday to 6 for Saturday. */
static int
Weekday(DateADT day)
{
	return j2day(day + POSTGRES_EPOCH_JDATE);
}

/* Monday to Friday, and not a holiday. */
static bool
IsWorkingDay(DateADT day)
{
	int			wday = Weekday(day);

	if (wday == 0 || wday == 6)
		return false;
	return nholidays == 0 ||
		bsearch(&day, holidays, nholidays, sizeof(DateADT), CompareDays) == NULL;
}

static int64
Opens(DateADT day)
{
	return Weekday(day) == 1 ? MONDAY_OPENS : OPENS;
}

static int64
Closes(DateADT day)
{
	return Weekday(day) == 5 ? FRIDAY_CLOSES : CLOSES;
}

static WallClock
ReadWallClock(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	WallClock	wall;

	CrmToLocal(t, &tm, &fsec);
	wall.day = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	wall.time = (int64) ((tm.tm_hour * MINS_PER_HOUR + tm.tm_min) * SECS_PER_MINUTE + tm.tm_sec) *
		USECS_PER_SEC + fsec;
	wall.gmtoff = tm.tm_gmtoff;
	return wall;
}

static bool
IsOpen(const WallClock *wall)
{
	return IsWorkingDay(wall->day) &&
		wall->time >= Opens(wall->day) && wall->time <= Closes(wall->day);
}

static char *
DayText(DateADT day)
{
	return DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(day)));
}

static void
NoWorkingDay(DateADT due_day)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no working day for a follow-up within %d days after %s",
					SEARCH_DAYS, DayText(due_day)),
			 errdetail("Every weekday from %s to %s is in crm_grade.holiday.",
					   DayText(due_day + 1), DayText(due_day + SEARCH_DAYS)),
			 errhint("Delete the rows of crm_grade.holiday that are not days off.")));
}

/*
 * What the wall clock shows (as a local timestamp) at the first opening
 * after wall, which is closed: today's if the day has not opened yet, else
 * the next working day's, at most SEARCH_DAYS after the due day.
 */
static Timestamp
NextOpening(const WallClock *wall, DateADT due_day)
{
	DateADT		day = wall->day;

	if (!IsWorkingDay(day) || wall->time >= Opens(day))
	{
		do
		{
			if (++day > due_day + SEARCH_DAYS)
				NoWorkingDay(due_day);
		} while (!IsWorkingDay(day));
	}
	/* the last day whose openings are all inside int64 (and the range) */
	if (day >= TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
	return (Timestamp) day * USECS_PER_DAY + Opens(day);
}

/* The moment at which a clock at gmtoff shows local. */
static TimestampTz
AtOffset(Timestamp local, long int gmtoff)
{
	TimestampTz t = local - (TimestampTz) gmtoff * USECS_PER_SEC;

	if (!IS_VALID_TIMESTAMP(t))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
	return t;
}

/* The first moment after t at which the UTC offset changes; DT_NOEND if none. */
static TimestampTz
NextOffsetChange(TimestampTz t)
{
	pg_time_t	secs = t / USECS_PER_SEC;
	pg_time_t	boundary;
	long int	before_gmtoff,
				after_gmtoff;
	int			before_isdst,
				after_isdst;

	/* round down, so that a change within t's second is not missed */
	if (t % USECS_PER_SEC < 0)
		secs--;
	secs += (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	if (pg_next_dst_boundary(&secs, &before_gmtoff, &before_isdst, &boundary,
							 &after_gmtoff, &after_isdst, CrmTz()) != 1)
		return DT_NOEND;
	return time_t_to_timestamptz(boundary);
}

/*
 * The first allowed moment at or after due; due itself if it is allowed.
 *
 * Until the next change of the UTC offset, the wall clock runs evenly, so
 * the first allowed moment is the next opening it shows, if that comes
 * before the change.  Otherwise the search goes on from the change, where
 * the clock may have jumped into working hours (or back into them).  Each
 * step passes an offset change, and NextOpening ends the search SEARCH_DAYS
 * after the due day, so it ends.
 */
TimestampTz
CrmNextAllowedMoment(TimestampTz due)
{
	TimestampTz from = due;
	WallClock	wall;
	DateADT		due_day;

	/* no moment comes after infinity, nor first after -infinity */
	if (TIMESTAMP_NOT_FINITE(due))
		return due;
	LoadHolidays();
	wall = ReadWallClock(due);
	due_day = wall.day;
	for (;;)
	{
		TimestampTz opening;
		TimestampTz change;

		if (IsOpen(&wall))
			return from;
		opening = AtOffset(NextOpening(&wall, due_day), wall.gmtoff);
		change = NextOffsetChange(from);
		if (opening < change)
			return opening;
		from = change;
		wall = ReadWallClock(from);
	}
}

/* SQL: crm_grade.next_allowed_moment(due timestamptz) */
Datum
crm_grade_next_allowed_moment(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(CrmNextAllowedMoment(PG_GETARG_TIMESTAMPTZ(0)));
}

/*
 * SQL: crm_grade._holidays_forget() RETURNS void: read the holidays again
 * at the next use, even within the statement that changed them (whose
 * relcache invalidation this backend only takes at its next command): the
 * trigger that re-schedules every follow-up calls it first.
 */
Datum
crm_grade_holidays_forget(PG_FUNCTION_ARGS)
{
	holiday_changes++;
	PG_RETURN_VOID();
}

/*
 * SQL: crm_grade._check_states_unchanged() RETURNS void: in REPEATABLE
 * READ or SERIALIZABLE, a serialization failure when a customer's state
 * changed after the transaction's snapshot (the holiday trigger moves
 * follow-ups it can only judge by the rows its snapshot sees).  Called
 * with crm_grade.customer_state locked against writers.
 */
Datum
crm_grade_check_states_unchanged(PG_FUNCTION_ARGS)
{
	CrmIdentity id;

	CrmEnter(&id);
	StoreCheckNoneChanged();
	CrmLeave(&id);
	PG_RETURN_VOID();
}
