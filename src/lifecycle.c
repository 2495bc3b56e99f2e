/*-------------------------------------------------------------------------
 *
 * lifecycle.c
 *		Relationship stage and churn risk from a customer's metrics.
 *
 * Stages, checked in this order (SPEC 6): churned (the latest contact at
 * or before now, later than the last order, said "lost"; or no order for
 * more than churned_days), dormant (no order for more than dormant_days),
 * active (an order), intent (no order, and an open opportunity or a
 * contact with outcome intent within intent_days), prospect.  Risk (SPEC
 * 7): high for dormant and churned customers, after a complaint within 30
 * days, or when the time since the last order exceeds twice the mean
 * interval between orders; medium past one and a half times; else low.
 * "Within N days" is (now - N days of 24 hours, now], as for contacts_90d.
 *
 *-------------------------------------------------------------------------
 */
#include "lifecycle.h"

#include "metrics.h"

#include "utils/builtins.h"

#define COMPLAINT_DAYS 30

void
LifecycleRulesLoad(LifecycleRules *rules)
{
	rules->dormant_days = crm_dormant_days;
	rules->churned_days = crm_churned_days;
	rules->intent_days = crm_intent_days;
}

/* Is t within the last days days before now: (now - days, now]? */
static bool
Within(CustomerState *st, StateCol col, int days, TimestampTz now)
{
	return !STATE_NULL(st, col) && STATE_TS(st, col) > now - days * USECS_PER_DAY &&
		STATE_TS(st, col) <= now;
}

/* Is the latest contact's outcome "lost", and later than the last order? */
static bool
LostAfterLastOrder(CustomerState *st)
{
	char	   *outcome;

	if (STATE_NULL(st, SC_LAST_CONTACT_AT) || STATE_NULL(st, SC_LAST_OUTCOME))
		return false;
	if (!STATE_NULL(st, SC_LAST_ORDER_AT) &&
		STATE_TS(st, SC_LAST_CONTACT_AT) <= STATE_TS(st, SC_LAST_ORDER_AT))
		return false;
	outcome = StateText(st, SC_LAST_OUTCOME);
	return pg_strcasecmp(outcome, "lost") == 0;
}

/*
 * The stage at now; *vu is lowered to the moments a day threshold or the
 * intent window would change it.  A day count exceeds N days from the
 * (N + 1)th day on: at the base plus N + 1 times 24 hours.
 */
static const char *
Stage(CustomerState *st, const LifecycleRules *rules, TimestampTz now, TimestampTz *vu)
{
	bool		has_order = STATE_I64(st, SC_ORDERS_TOTAL) > 0;
	int64		idle = 0;

	if (has_order)
	{
		TimestampTz last = STATE_TS(st, SC_LAST_ORDER_AT);

		idle = CrmDaysBetween(last, now);
		StateLowerValidUntil(vu, last + (int64) (rules->dormant_days + 1) * USECS_PER_DAY, now);
		StateLowerValidUntil(vu, last + (int64) (rules->churned_days + 1) * USECS_PER_DAY, now);
	}
	if (!STATE_NULL(st, SC_LAST_INTENT_AT))
		StateLowerValidUntil(vu, STATE_TS(st, SC_LAST_INTENT_AT) +
							 (int64) rules->intent_days * USECS_PER_DAY, now);
	if (LostAfterLastOrder(st) || (has_order && idle > rules->churned_days))
		return "churned";
	if (has_order && idle > rules->dormant_days)
		return "dormant";
	if (has_order)
		return "active";
	if ((!STATE_NULL(st, SC_OPEN_OPPORTUNITIES) && DatumGetInt32(st->values[SC_OPEN_OPPORTUNITIES]) > 0) ||
		Within(st, SC_LAST_INTENT_AT, rules->intent_days, now))
		return "intent";
	return "prospect";
}

/*
 * Does the time since the last order exceed num/den (2, or 3/2) times the
 * mean interval, span / (orders - 1) days?  Compared in whole numbers, as
 * days * (orders - 1) * den > num * span, so that a mean like 10/3 does not
 * round into the comparison.  *vu is lowered to the day it starts to: the
 * whole-day count must reach floor(num * span / (den * (orders - 1))) + 1.
 */
static bool
Overdue(CustomerState *st, int64 num, int64 den, TimestampTz now, TimestampTz *vu)
{
	int64		intervals = STATE_I64(st, SC_ORDERS_TOTAL) - 1;
	int64		span,
				first_day;
	TimestampTz last;

	if (intervals < 1)
		return false;
	last = STATE_TS(st, SC_LAST_ORDER_AT);
	span = CrmDaysBetween(STATE_TS(st, SC_FIRST_ORDER_AT), last);
	first_day = (num * span) / (den * intervals) + 1;
	StateLowerValidUntil(vu, last + first_day * USECS_PER_DAY, now);
	return CrmDaysBetween(last, now) >= first_day;
}

static const char *
Risk(CustomerState *st, const char *stage, TimestampTz now, TimestampTz *vu)
{
	bool		high_overdue = Overdue(st, 2, 1, now, vu);
	bool		medium_overdue = Overdue(st, 3, 2, now, vu);

	if (!STATE_NULL(st, SC_LAST_COMPLAINT_AT))
		StateLowerValidUntil(vu, STATE_TS(st, SC_LAST_COMPLAINT_AT) +
							 (int64) COMPLAINT_DAYS * USECS_PER_DAY, now);
	if (strcmp(stage, "dormant") == 0 || strcmp(stage, "churned") == 0 ||
		Within(st, SC_LAST_COMPLAINT_AT, COMPLAINT_DAYS, now) || high_overdue)
		return "high";
	if (medium_overdue)
		return "medium";
	return "low";
}

/* Set lifecycle and risk at now, lowering *valid_until to when time alone changes either. */
void
LifecycleEvaluate(CustomerState *st, const LifecycleRules *rules, TimestampTz now,
				  TimestampTz *valid_until)
{
	const char *stage = Stage(st, rules, now, valid_until);

	StateSet(st, SC_LIFECYCLE, CStringGetTextDatum(stage));
	StateSet(st, SC_RISK, CStringGetTextDatum(Risk(st, stage, now, valid_until)));
}

/* Risk levels in order, for "did it rise". */
static int
RiskLevel(CustomerState *st)
{
	return StateTextIs(st, SC_RISK, "high") ? 2 : StateTextIs(st, SC_RISK, "medium") ? 1 : 0;
}

static bool
EventIs(const char *event, const char *prefix)
{
	return strncmp(event, prefix, strlen(prefix)) == 0;
}

/*
 * The reason of a change of stage (SPEC 6), when the event explains it:
 * an order for a first order or a reactivation, a contact for an intent or
 * a loss, an opportunity for an opened one, the passing of time (regrade)
 * for dormancy and churn.  NULL: the event's own name says it best (an
 * update that moves an order back in time, say).
 */
static const char *
StageReason(CustomerState *old, CustomerState *new, const char *event)
{
	bool		by_time = strcmp(event, "regrade") == 0;

	if (StateTextIs(new, SC_LIFECYCLE, "active") && (EventIs(event, "order") || by_time))
		return (StateTextIs(old, SC_LIFECYCLE, "dormant") || StateTextIs(old, SC_LIFECYCLE, "churned")) ?
			"reactivated" : "first_order";
	if (StateTextIs(new, SC_LIFECYCLE, "dormant") && by_time)
		return "no_order_180d";
	if (StateTextIs(new, SC_LIFECYCLE, "churned"))
	{
		if (LostAfterLastOrder(new))
			return EventIs(event, "contact") ? "contact_lost" : NULL;
		return by_time ? "no_order_365d" : NULL;
	}
	if (StateTextIs(new, SC_LIFECYCLE, "intent"))
		return EventIs(event, "contact") ? "contact_intent" :
			EventIs(event, "opportunit") ? "opportunity_opened" : NULL;
	return NULL;
}

/*
 * What a change of stage or risk says happened, for a customer that had a
 * stage before (a first evaluation keeps its event: attach, upgrade...):
 * the stage's reason, else a risk that rose after a complaint or, with
 * time, because the next order is overdue.  NULL: the event's own reason.
 */
const char *
LifecycleChangeReason(CustomerState *old, CustomerState *new, const char *event)
{
	TimestampTz now;

	if (old == NULL || new == NULL || STATE_NULL(old, SC_LIFECYCLE))
		return NULL;
	if (!StateTextEquals(old, new, SC_LIFECYCLE))
		return StageReason(old, new, event);
	if (RiskLevel(new) <= RiskLevel(old))
		return NULL;
	now = STATE_TS(new, SC_GRADED_AT);
	if (EventIs(event, "contact") && Within(new, SC_LAST_COMPLAINT_AT, COMPLAINT_DAYS, now))
		return "contact_complaint";
	return strcmp(event, "regrade") == 0 ? "order_overdue" : NULL;
}
