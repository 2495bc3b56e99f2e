/*-------------------------------------------------------------------------
 *
 * followup.c
 *		The next follow-up (SPEC 8): an interval by grade and stage, added
 *		to the last contact (or the first time the customer was seen) on
 *		the wall clock of crm_grade.timezone, a promised next action that
 *		comes earlier winning, then moved to the first moment the business
 *		calendar allows.  Churned customers have none.
 *
 * The interval: the active policy's cadence for the grade; a prospect
 * every 7 days, a customer with intent every 3, a dormant one every 30
 * for the first 90 days of dormancy (then the grade's cadence again); an
 * active customer at high risk at least every 7 days.
 *
 *-------------------------------------------------------------------------
 */
#include "followup.h"
#include "jsonb_build.h"

#include "business_hours.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

#define DORMANT_CADENCE_PERIOD_DAYS 90

static Interval *
Days(int days)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->day = days;
	return iv;
}

/* Interval comparison as PostgreSQL orders intervals. */
static bool
IntervalLess(Interval *a, Interval *b)
{
	return DatumGetBool(DirectFunctionCall2(interval_lt, IntervalPGetDatum(a), IntervalPGetDatum(b)));
}

/*
 * The interval of SPEC 8 step 1; *vu is lowered to the end of the dormant
 * customers' 30-day period (the day the days since the last order exceed
 * dormant_days + 90).
 */
static Interval *
FollowUpInterval(CustomerState *st, Policy *policy, const LifecycleRules *rules, TimestampTz now,
				 TimestampTz *vu)
{
	Interval   *cadence = STATE_NULL(st, SC_GRADE) ? NULL :
		PolicyCadence(policy, StateText(st, SC_GRADE));
	Interval   *cap = Days(7);

	if (StateTextIs(st, SC_LIFECYCLE, "prospect"))
		return Days(7);
	if (StateTextIs(st, SC_LIFECYCLE, "intent"))
		return Days(3);
	if (StateTextIs(st, SC_LIFECYCLE, "dormant"))
	{
		TimestampTz end = STATE_TS(st, SC_LAST_ORDER_AT) +
			(int64) (rules->dormant_days + DORMANT_CADENCE_PERIOD_DAYS + 1) * USECS_PER_DAY;

		StateLowerValidUntil(vu, end, now);
		if (now < end)
			return Days(30);
		return cadence;
	}
	if (StateTextIs(st, SC_LIFECYCLE, "active") && StateTextIs(st, SC_RISK, "high") &&
		(cadence == NULL || IntervalLess(cap, cadence)))
		return cap;
	return cadence;
}

/* base + interval on the wall clock of crm_grade.timezone ("7 days" keeps the clock time). */
TimestampTz
FollowUpAddLocal(TimestampTz base, const Interval *interval)
{
	struct pg_tm tm;
	fsec_t		fsec;
	Timestamp	local;

	CrmToLocal(base, &tm, &fsec);
	if (tm2timestamp(&tm, fsec, NULL, &local) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range for crm_grade")));
	local = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval, TimestampGetDatum(local),
												  IntervalPGetDatum(interval)));
	return CrmLocalToTimestampTz(local);
}

/* SPEC 8 step 2: the last contact, or the first time the customer was seen. */
static bool
FollowUpBase(CustomerState *st, TimestampTz *base)
{
	StateCol	col = STATE_NULL(st, SC_LAST_CONTACT_AT) ? SC_FIRST_SEEN_AT : SC_LAST_CONTACT_AT;

	if (STATE_NULL(st, col))
		return false;
	*base = STATE_TS(st, col);
	return true;
}

/*
 * Set next_follow_up_at at now.  It moves only with the grade, stage and
 * risk (whose own moments are in *valid_until already), the end of the
 * dormant period, and the rows: time passing the due moment leaves it
 * where it is (overdue).
 */
void
FollowUpEvaluate(CustomerState *st, Policy *policy, const LifecycleRules *rules,
				 TimestampTz now, TimestampTz *valid_until)
{
	Interval   *interval;
	TimestampTz base,
				due;

	if (StateTextIs(st, SC_LIFECYCLE, "churned") || !FollowUpBase(st, &base) ||
		(interval = FollowUpInterval(st, policy, rules, now, valid_until)) == NULL)
	{
		StateSetNull(st, SC_FOLLOW_UP_DUE);
		StateSetNull(st, SC_NEXT_FOLLOW_UP_AT);
		return;
	}
	due = FollowUpAddLocal(base, interval);
	if (!STATE_NULL(st, SC_NEXT_ACTION_AT) && STATE_TS(st, SC_NEXT_ACTION_AT) < due)
		due = STATE_TS(st, SC_NEXT_ACTION_AT);
	/* kept, so that a change of the holidays moves it without reading any source */
	StateSet(st, SC_FOLLOW_UP_DUE, TimestampTzGetDatum(due));
	StateSet(st, SC_NEXT_FOLLOW_UP_AT, TimestampTzGetDatum(CrmNextAllowedMoment(due)));
}

/* An interval as text (NULL: JSON null), for explain(). */
static void
JbInterval(JsonbParseState **ps, Interval *interval)
{
	JbString(ps, interval ? DatumGetCString(DirectFunctionCall1(interval_out,
																 IntervalPGetDatum(interval))) : NULL);
}

/*
 * explain(): how next_follow_up_at came about at a moment: the interval
 * (the grade's cadence or the stage's rhythm), its base, a promise that
 * came earlier, and what the business calendar added.
 */
void
FollowUpExplain(CustomerState *st, Policy *policy, const LifecycleRules *rules, TimestampTz at,
				JsonbParseState **ps)
{
	TimestampTz ignored = DT_NOEND;
	TimestampTz base = 0;
	Interval   *interval = NULL;
	bool		has_base = FollowUpBase(st, &base);

	if (!StateTextIs(st, SC_LIFECYCLE, "churned"))
		interval = FollowUpInterval(st, policy, rules, at, &ignored);
	JbKey(ps, "follow_up");
	JbBeginObject(ps);
	JbKey(ps, "interval");
	JbInterval(ps, interval);
	JbKey(ps, "cadence");
	JbInterval(ps, STATE_NULL(st, SC_GRADE) ? NULL : PolicyCadence(policy, StateText(st, SC_GRADE)));
	JbKey(ps, "from");
	JbString(ps, !has_base ? NULL : STATE_NULL(st, SC_LAST_CONTACT_AT) ? "first_seen_at" : "last_contact_at");
	JbKey(ps, "base");
	JbTimestamp(ps, base, !has_base);
	JbKey(ps, "promised");
	JbTimestamp(ps, STATE_TS(st, SC_NEXT_ACTION_AT), STATE_NULL(st, SC_NEXT_ACTION_AT));
	JbKey(ps, "due");
	JbTimestamp(ps, STATE_TS(st, SC_FOLLOW_UP_DUE), STATE_NULL(st, SC_FOLLOW_UP_DUE));
	JbKey(ps, "next_follow_up_at");
	JbTimestamp(ps, STATE_TS(st, SC_NEXT_FOLLOW_UP_AT), STATE_NULL(st, SC_NEXT_FOLLOW_UP_AT));
	JbKey(ps, "calendar_shift");
	JbInterval(ps, STATE_NULL(st, SC_FOLLOW_UP_DUE) || STATE_NULL(st, SC_NEXT_FOLLOW_UP_AT) ? NULL :
			   DatumGetIntervalP(DirectFunctionCall2(timestamp_mi, st->values[SC_NEXT_FOLLOW_UP_AT],
													 st->values[SC_FOLLOW_UP_DUE])));
	JbEndObject(ps);
}
