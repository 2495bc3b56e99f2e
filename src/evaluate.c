/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *		The one evaluation of a customer: derived metrics from the
 *		accumulators, the grade from the active policy, the values it could
 *		not use, and valid_until; and the reason a change is logged with.
 *
 * Triggers, the set-based refresh, regrade() and the back-fill all call
 * EvaluateCustomer().  Lifecycle, risk and follow-up extend this function,
 * not a copy of it.
 *
 *-------------------------------------------------------------------------
 */
#include "evaluate.h"
#include "followup.h"

#include "utils/builtins.h"

/* The moment, the window and the policy, read after the locks were taken. */
void
EvalContextLoad(EvalContext *ctx)
{
	ctx->policy = PolicyLoadActive();
	ctx->now = CrmNow();
	ctx->ws = CrmWindowStart(ctx->now);
	ctx->master = SourceMaster();
	LifecycleRulesLoad(&ctx->lifecycle);
}

/* List the attributes the policy reads that hold something other than a number. */
static void
NoteAttributeIssues(CustomerState *st, EvalContext *ctx)
{
	char	  **names;
	int			n = PolicyAttributes(ctx->policy, &names);
	int			i;

	IssuesDropKind(st, "attribute");
	for (i = 0; i < n; i++)
	{
		Numeric		ignored;
		char	   *bad;

		if (MetricAttribute(st, names[i], &ignored, &bad) || bad == NULL)
			continue;
		IssuesAdd(st, "attribute", ctx->master ? ctx->master->relname : NULL,
				  psprintf("%s.%s",
						   ctx->master && ctx->master->columns[CUS_ATTRS] ?
						   ctx->master->columns[CUS_ATTRS] : "attributes", names[i]),
				  bad, "not a number: attr.NAME counts it as NULL");
	}
}

/*
 * Evaluate a customer at ctx->now: derived metrics, grade, valid_until.
 * The accumulators must be those at ctx->now.
 */
void
EvaluateCustomer(CustomerState *st, EvalContext *ctx)
{
	TimestampTz valid_until;

	MetricsDerive(st, ctx->now);

	if (!STATE_NULL(st, SC_CREATED_AT))
		StateSet(st, SC_FIRST_SEEN_AT, st->values[SC_CREATED_AT]);
	else
		StateSetNull(st, SC_FIRST_SEEN_AT);
	if (!STATE_NULL(st, SC_FIRST_ROW_AT))
		StateSetMinTs(st, SC_FIRST_SEEN_AT, STATE_TS(st, SC_FIRST_ROW_AT));
	if (!STATE_NULL(st, SC_FIRST_CONTACT_AT))
		StateSetMinTs(st, SC_FIRST_SEEN_AT, STATE_TS(st, SC_FIRST_CONTACT_AT));
	if (!STATE_NULL(st, SC_FIRST_OPPORTUNITY_AT))
		StateSetMinTs(st, SC_FIRST_SEEN_AT, STATE_TS(st, SC_FIRST_OPPORTUNITY_AT));

	NoteAttributeIssues(st, ctx);
	valid_until = MetricsValidUntil(st, ctx->now);
	PolicyGrade(ctx->policy, st, ctx->now, &valid_until);
	LifecycleEvaluate(st, &ctx->lifecycle, ctx->now, &valid_until);
	FollowUpEvaluate(st, ctx->policy, &ctx->lifecycle, ctx->now, &valid_until);

	/*
	 * Every candidate lies after now by construction; should one not, a
	 * valid_until at or before now would make regrade() take the row again
	 * and again, so it must never be stored.
	 */
	Assert(valid_until > ctx->now);
	if (valid_until <= ctx->now)
		valid_until = ctx->now + 1;
	StateSet(st, SC_GRADED_AT, TimestampTzGetDatum(ctx->now));
	if (valid_until == DT_NOEND)
		StateSetNull(st, SC_VALID_UNTIL);
	else
		StateSet(st, SC_VALID_UNTIL, TimestampTzGetDatum(valid_until));
}

/*
 * Can a stored state be extended with new rows at ctx->now, or evaluated
 * again as it is, without reading the customer's other rows?  Yes while
 * no row has entered or left a window since it was graded, even once its
 * valid_until has passed (a stage threshold, a follow-up, a month start
 * only move what EvaluateCustomer derives).  Not when crm_grade.as_of went
 * back before it was graded: then its accumulators are not those at
 * ctx->now.
 */
bool
StateCanExtend(CustomerState *st, EvalContext *ctx)
{
	TimestampTz graded;

	if (STATE_NULL(st, SC_GRADED_AT))
		return true;
	graded = STATE_TS(st, SC_GRADED_AT);
	if (ctx->now < graded)
		return false;
	if (STATE_NULL(st, SC_VALID_UNTIL) || ctx->now < STATE_TS(st, SC_VALID_UNTIL))
		return true;
	return ctx->now < MetricsRowsValidUntil(st, graded);
}

/* Did grade, lifecycle or risk move (what grade_history records)? */
bool
StateGradeChanged(CustomerState *old, CustomerState *new)
{
	if (old == NULL || new == NULL)
		return (old ? !STATE_NULL(old, SC_GRADE) : false) ||
			(new ? !STATE_NULL(new, SC_GRADE) : false);
	return !StateTextEquals(old, new, SC_GRADE) || !StateTextEquals(old, new, SC_LIFECYCLE) ||
		!StateTextEquals(old, new, SC_RISK);
}

/*
 * The reason a change is logged with: what the metrics say happened when
 * they say it (a first order, a refund), else the event that caused the
 * evaluation.  old is NULL for a customer seen for the first time, new is
 * NULL for one that has left every source.
 */
const char *
ChangeReason(CustomerState *old, CustomerState *new, const char *event)
{
	const char *reason;
	int64		old_orders;

	if (new == NULL)
		return event;
	if ((reason = LifecycleChangeReason(old, new, event)) != NULL)
		return reason;
	old_orders = (old == NULL) ? 0 : STATE_I64(old, SC_ORDERS_TOTAL);
	if (old_orders == 0 && STATE_I64(new, SC_ORDERS_TOTAL) > 0 &&
		(strcmp(event, "order") == 0 || strcmp(event, "order_updated") == 0 ||
		 strcmp(event, "regrade") == 0))
		return "first_order";
	if (old != NULL && strcmp(event, "order") == 0 && old_orders == STATE_I64(new, SC_ORDERS_TOTAL) &&
		NumericCompare(STATE_NUM(new, SC_TOTAL_AMOUNT), STATE_NUM(old, SC_TOTAL_AMOUNT)) < 0)
		return "refund";
	return event;
}
