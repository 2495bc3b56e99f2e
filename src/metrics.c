/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		What each source row contributes to a customer's accumulators, the
 *		metrics derived from them (SPEC section 4), the values policies
 *		read, and the earliest moment time alone changes them.
 *
 *-------------------------------------------------------------------------
 */
#include "metrics.h"
#include "jsonb_build.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

const char *const MetricNames[M_NMETRICS] = {
	"total_amount", "orders_total", "amount_12m", "orders_12m",
	"avg_order_value_12m", "tenure_days", "days_since_last_order",
	"mean_interorder_days", "active_months_12m", "repurchase_rate",
	"avg_payment_days", "days_since_last_contact", "contacts_90d", "orders_per_month_12m",
	"growth_months", "revenue_share_12m", "attr"
};

/* The contact window is (now - 90 days, now], 90 periods of 24 hours. */
#define CONTACT_WINDOW_USECS (INT64CONST(90) * USECS_PER_DAY)

Numeric
NumericFromInt64(int64 v)
{
	return int64_to_numeric(v);
}

int
NumericCompare(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

/*
 * An amount so large that a sum or product of it leaves numeric's range
 * (10^131072): SQL's own error would carry no word of what was added up.
 */
static void
NumOverflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("numeric overflow in crm_grade's metrics"),
			 errdetail("A sum or product of a customer's amounts, or of a policy's weights and values, is beyond numeric's range."),
			 errhint("Look for an outsized amount in the table the context names, and correct or delete that row.")));
}

/* numeric arithmetic, as SQL's operators do it (verify() repeats it in SQL) */
Numeric
NumAdd(Numeric a, Numeric b)
{
	bool		overflow = false;
	Numeric		r = numeric_add_opt_error(a, b, &overflow);

	if (overflow)
		NumOverflow();
	return r;
}

Numeric
NumSub(Numeric a, Numeric b)
{
	bool		overflow = false;
	Numeric		r = numeric_sub_opt_error(a, b, &overflow);

	if (overflow)
		NumOverflow();
	return r;
}

Numeric
NumMul(Numeric a, Numeric b)
{
	bool		overflow = false;
	Numeric		r = numeric_mul_opt_error(a, b, &overflow);

	if (overflow)
		NumOverflow();
	return r;
}

Numeric
NumDiv(Numeric a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_div, NumericGetDatum(a), NumericGetDatum(b)));
}

/* A numeric column plus an amount, as a Datum to store. */
static Datum
AddNumeric(Datum a, Numeric b)
{
	return NumericGetDatum(NumAdd(DatumGetNumeric(a), b));
}

static void
Increment(CustomerState *st, StateCol col, int64 by)
{
	StateSet(st, col, Int64GetDatum(STATE_I64(st, col) + by));
}

/* A negative amount is a refund: it counts in sums, not as an order. */
bool
MetricsIsRefund(const SourceRow *row)
{
	static Numeric zero = NULL;

	if (zero == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		zero = NumericFromInt64(0);
		MemoryContextSwitchTo(oldcxt);
	}
	return NumericCompare(row->amount, zero) < 0;
}

/*
 * growth_months at now: consecutive complete calendar months, counting back
 * from the one before now's, whose amount exceeds the month before's.  The
 * run cannot be longer than the months that hold a row.
 */
static int
GrowthMonths(CustomerState *st, TimestampTz now)
{
	ArrayType  *marr = DatumGetArrayTypeP(st->values[SC_AMOUNT_MONTHS]);
	int			nm = ArrayGetNItems(ARR_NDIM(marr), ARR_DIMS(marr));
	int			last = CrmMonthIndex(now) - 1;
	Numeric    *amounts;
	int			g = 0;

	if (nm == 0)
		return 0;
	amounts = palloc(sizeof(Numeric) * (nm + 2));
	MonthAmounts(st, last, nm + 2, amounts);
	while (g < nm + 1 && NumericCompare(amounts[g], amounts[g + 1]) > 0)
		g++;
	pfree(amounts);
	return g;
}

/* Days from an order to its payment, as avg_payment_days counts them. */
static int64
PayDays(const SourceRow *r)
{
	return r->date_days ? CrmCalendarDaysBetween(r->t, r->paid) : CrmDaysBetween(r->t, r->paid);
}

/*
 * An order row at now, with the 12-month window (ws, now].  A row dated
 * after now does not count yet: it only sets the moment it will.
 */
static void
AddOrder(CustomerState *st, const SourceRow *r, TimestampTz now, TimestampTz ws, MonthBatch *mb)
{
	bool		in_window = r->t > ws;
	int			month;

	if (r->t > now)
	{
		StateSetMinTs(st, SC_NEXT_ORDER_AT, r->t);
		return;
	}
	StateSet(st, SC_TOTAL_AMOUNT, AddNumeric(st->values[SC_TOTAL_AMOUNT], r->amount));
	StateSetMinTs(st, SC_FIRST_ROW_AT, r->t);
	month = CrmMonthIndex(r->t);
	if (mb)
		MonthBatchAddAmount(mb, month, r->amount);
	else
		MonthAddAmount(st, month, r->amount);
	if (in_window)
	{
		StateSet(st, SC_AMOUNT_12M, AddNumeric(st->values[SC_AMOUNT_12M], r->amount));
		StateSetMinTs(st, SC_OLDEST_WINDOW_AT, r->t);
	}
	if (MetricsIsRefund(r))
		return;
	Increment(st, SC_ORDERS_TOTAL, 1);
	StateSetMinTs(st, SC_FIRST_ORDER_AT, r->t);
	StateSetMaxTs(st, SC_LAST_ORDER_AT, r->t);
	if (!in_window)
		return;
	Increment(st, SC_ORDERS_12M, 1);
	if (mb)
		MonthBatchAddOrderMonth(mb, month);
	else
		MonthAddOrderMonth(st, month);
	if (!r->has_paid)
		return;
	if (r->paid > now)
	{
		/* a payment counts once it has been made */
		StateSetMinTs(st, SC_NEXT_PAID_AT, r->paid);
		return;
	}
	Increment(st, SC_PAY_DAYS_SUM, PayDays(r));
	Increment(st, SC_PAY_COUNT, 1);
}

/* Is t strictly inside the range of the stored times min_col .. max_col? */
static bool
StrictlyInside(CustomerState *st, StateCol min_col, StateCol max_col, TimestampTz t)
{
	return !STATE_NULL(st, min_col) && STATE_TS(st, min_col) < t &&
		(max_col == SC_NCOLS || (!STATE_NULL(st, max_col) && t < STATE_TS(st, max_col)));
}

/* |n| < 10^12? */
static bool
BelowTrillion(Numeric n)
{
	return NumericCompare(DatumGetNumeric(DirectFunctionCall1(numeric_abs, NumericGetDatum(n))),
						  NumericFromInt64(INT64CONST(1000000000000))) < 0;
}

/*
 * Can out come out of amount_12m (and in, when not NULL, go in) by
 * subtraction and addition and leave what SQL's sum() over the rows then
 * has?  The value, always; but sum()'s scale is the largest of the rows,
 * which the state does not know when out has the stored sum's scale, and
 * the scale shows in avg_order_value_12m, whose quotient keeps 16
 * significant digits or the dividend's scale, whichever is more.  With at
 * most 2 decimals and every term below 10^12 (the result below 2 * 10^12,
 * so at least 4 decimals) the 16 digits win whatever the scale; beyond,
 * the customer is re-read.
 */
static bool
ScaleKnown(CustomerState *st, Numeric out, Numeric in)
{
	Numeric		sum = STATE_NUM(st, SC_AMOUNT_12M);
	int32		scale = DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(out)));
	int32		sum_scale = DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(sum)));

	if (scale < sum_scale)
		return true;			/* another row left has the sum's scale */
	return scale <= 2 && BelowTrillion(sum) && BelowTrillion(out) && (in == NULL || BelowTrillion(in));
}

/*
 * Can an order of the window (not a refund) come out exactly, left being
 * what remains of its month's amount without it?  Its month
 * stays among the months with an order (order_months) only if another
 * order of that month is left.  The state knows that when the whole month
 * is inside the window and what is left of the month's amount is above
 * zero: some row left is then above zero, so an order and not a refund,
 * and of the window (a row dated after now is in no month yet).  Its
 * payment comes out of the sums, unless it is the next payment to count.
 */
static bool
WindowOrderLeaves(CustomerState *st, const SourceRow *r, int month, Numeric left,
				  TimestampTz now, TimestampTz ws)
{
	if (CrmMonthIndex(ws) >= month || NumericCompare(left, NumericFromInt64(0)) <= 0 ||
		STATE_I64(st, SC_ORDERS_12M) < 2)
		return false;
	if (r->has_paid && r->paid > now)
		return StrictlyInside(st, SC_NEXT_PAID_AT, SC_NCOLS, r->paid);
	return true;
}

/*
 * Take a counted order row back out (an UPDATE's old row, a DELETE's),
 * the inverse of AddOrder, when the accumulators alone say exactly what is
 * left: the sums and counts are, but a minimum or maximum the row may have
 * set, a month the row may have been the only one of, and the set of
 * months with an order in the window are not (WindowOrderLeaves() says
 * when they are).  False, with nothing changed, when the row touches one
 * of those: the caller re-reads the customer's rows.  Like extending a
 * state with new rows, this relies on the stored state holding every row
 * the table had (rows written with the triggers disabled leave it behind
 * until regrade_all(), as documented).
 */
static bool
RemoveOrder(CustomerState *st, const SourceRow *r, TimestampTz now, TimestampTz ws)
{
	bool		in_window = r->t > ws;
	bool		refund = MetricsIsRefund(r);
	Numeric		month_amount;
	Numeric		left;
	int			month = CrmMonthIndex(r->t);

	if (r->t > now)
		/* it only set the moment it counts, unless that is its own */
		return StrictlyInside(st, SC_NEXT_ORDER_AT, SC_NCOLS, r->t);
	if (!MonthAmountOf(st, month, &month_amount))
		return false;
	left = NumSub(month_amount, r->amount);
	if (NumericCompare(left, NumericFromInt64(0)) == 0 ||
		!StrictlyInside(st, SC_FIRST_ROW_AT, SC_NCOLS, r->t) ||
		(in_window && (!StrictlyInside(st, SC_OLDEST_WINDOW_AT, SC_NCOLS, r->t) ||
					   !ScaleKnown(st, r->amount, NULL))) ||
		(!refund && ((in_window && !WindowOrderLeaves(st, r, month, left, now, ws)) ||
					 STATE_I64(st, SC_ORDERS_TOTAL) < 1 ||
					 !StrictlyInside(st, SC_FIRST_ORDER_AT, SC_LAST_ORDER_AT, r->t))))
		return false;
	StateSet(st, SC_TOTAL_AMOUNT, NumericGetDatum(NumSub(STATE_NUM(st, SC_TOTAL_AMOUNT), r->amount)));
	MonthAddAmount(st, month, NumSub(NumericFromInt64(0), r->amount));
	if (in_window)
		StateSet(st, SC_AMOUNT_12M, NumericGetDatum(NumSub(STATE_NUM(st, SC_AMOUNT_12M), r->amount)));
	if (refund)
		return true;
	Increment(st, SC_ORDERS_TOTAL, -1);
	if (!in_window)
		return true;
	Increment(st, SC_ORDERS_12M, -1);
	if (r->has_paid && r->paid <= now)
	{
		Increment(st, SC_PAY_DAYS_SUM, -PayDays(r));
		Increment(st, SC_PAY_COUNT, -1);
	}
	return true;
}

/*
 * An order row whose amount alone changed (same time, payment and sign):
 * only the sums move, its month's through mb.  False when the stored state
 * has no such month.
 */
static bool
ChangeOrderAmount(CustomerState *st, const SourceRow *r, Numeric old_amount, TimestampTz now,
				  TimestampTz ws, MonthBatch *mb)
{
	Numeric		delta = NumSub(r->amount, old_amount);

	if (r->t > now)				/* it counts by its time only, until then */
		return !STATE_NULL(st, SC_NEXT_ORDER_AT) && STATE_TS(st, SC_NEXT_ORDER_AT) <= r->t;
	if (!MonthHasRow(st, CrmMonthIndex(r->t)) ||
		(r->t > ws && !ScaleKnown(st, old_amount, r->amount)))
		return false;
	StateSet(st, SC_TOTAL_AMOUNT, NumericGetDatum(NumAdd(STATE_NUM(st, SC_TOTAL_AMOUNT), delta)));
	MonthBatchAddAmount(mb, CrmMonthIndex(r->t), delta);
	if (r->t > ws)
		StateSet(st, SC_AMOUNT_12M, NumericGetDatum(NumAdd(STATE_NUM(st, SC_AMOUNT_12M), delta)));
	return true;
}

/* Do two order rows differ, at most, by an amount of the same sign? */
static bool
SameButAmount(const SourceRow *a, const SourceRow *b)
{
	return a->t == b->t && a->has_paid == b->has_paid && (!a->has_paid || a->paid == b->paid) &&
		a->date_days == b->date_days && MetricsIsRefund(a) == MetricsIsRefund(b);
}

/*
 * Apply one customer's changed order rows to its stored state: rows added
 * (removed false) and rows taken out (removed true), an UPDATE's old and
 * new rows among them.  A removed row alike an added one but for its
 * amount is an amount change; the added rows go in first, then the others
 * come out.  False when the change cannot be applied exactly (st is then
 * half-changed: the caller re-reads the customer instead).
 */
bool
MetricsApplyOrderChanges(CustomerState *st, const SourceRow *rows, int n, TimestampTz now,
						 TimestampTz ws)
{
	MonthBatch	mb;
	bool	   *paired;
	int			i,
				j;

	if (n > MAX_ORDER_CHANGES)
		return false;
	paired = palloc0(sizeof(bool) * Max(n, 1));
	MonthBatchInit(&mb);
	for (i = 0; i < n; i++)
		for (j = 0; rows[i].removed && !paired[i] && j < n; j++)
			if (!rows[j].removed && !paired[j] && SameButAmount(&rows[i], &rows[j]))
			{
				if (!ChangeOrderAmount(st, &rows[j], rows[i].amount, now, ws, &mb))
					return false;
				paired[i] = paired[j] = true;
			}
	for (i = 0; i < n; i++)
		if (!paired[i] && !rows[i].removed)
			AddOrder(st, &rows[i], now, ws, &mb);
	MonthBatchApply(st, &mb);
	for (i = 0; i < n; i++)
		if (!paired[i] && rows[i].removed && !RemoveOrder(st, &rows[i], now, ws))
			return false;
	pfree(paired);
	return true;
}

/*
 * Lines of one order (rows of a table attached with an order id, sharing
 * customer and order id, each dated at or before now) as one order: the
 * sum of the amounts, the earliest time, and the payment made when the
 * last line was paid (none while a line is unpaid).  order holds the
 * first line; later lines are merged into it.
 */
void
MetricsMergeLine(SourceRow *order, const SourceRow *line)
{
	order->amount = NumAdd(order->amount, line->amount);
	if (line->t < order->t)
		order->t = line->t;
	if (!line->has_paid)
		order->has_paid = false;
	else if (order->has_paid && line->paid > order->paid)
		order->paid = line->paid;
}

/*
 * A customer-master row.  The key is unique there, but should two rows
 * share one, the least owner, creation time and attributes win, as in
 * verify().
 */
static void
AddMaster(CustomerState *st, const SourceRow *r)
{
	StateSet(st, SC_IN_MASTER, BoolGetDatum(true));
	if (r->owner)
	{
		char	   *cur = StateText(st, SC_OWNER);

		if (cur == NULL || strcmp(r->owner, cur) < 0)
			StateSet(st, SC_OWNER, CStringGetTextDatum(r->owner));
	}
	if (r->has_t)
		StateSetMinTs(st, SC_CREATED_AT, r->t);
	if (r->attributes &&
		(STATE_NULL(st, SC_ATTRIBUTES) ||
		 compareJsonbContainers(&r->attributes->root,
								&DatumGetJsonbP(st->values[SC_ATTRIBUTES])->root) < 0))
		StateSet(st, SC_ATTRIBUTES, JsonbPGetDatum(r->attributes));
}

/*
 * A row dated after now only says when it will count (the earliest such
 * moment goes into next_col); one at or before now counts, the earliest
 * going into first_col.
 */
static bool
CountsNow(CustomerState *st, const SourceRow *r, TimestampTz now, StateCol next_col,
		  StateCol first_col)
{
	if (r->t > now)
	{
		StateSetMinTs(st, next_col, r->t);
		return false;
	}
	StateSetMinTs(st, first_col, r->t);
	return true;
}

/* Exclusive start of the contact window ending at now. */
TimestampTz
MetricsContactWindowStart(TimestampTz now)
{
	return now - CONTACT_WINDOW_USECS;
}

/* Does an outcome (case-insensitively) say this? */
static bool
OutcomeIs(const char *outcome, const char *what)
{
	return outcome != NULL && pg_strcasecmp(outcome, what) == 0;
}

/*
 * Outcomes in order: case-insensitively first (outcomes mean the same in
 * any case), then byte by byte; ASCII folding only, as lower() in the "C"
 * collation that verify() sorts with.
 */
static int
CompareOutcomes(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *) a;
	const unsigned char *y = (const unsigned char *) b;

	for (; *x && *y; x++, y++)
		if (pg_ascii_tolower(*x) != pg_ascii_tolower(*y))
			return pg_ascii_tolower(*x) < pg_ascii_tolower(*y) ? -1 : 1;
	if (*x || *y)
		return *x ? 1 : -1;
	return strcmp(a, b);
}

/*
 * Is contact r later than the latest one so far: by time, then outcome
 * (CompareOutcomes), then promised action (NULL lowest), so that the order
 * rows are read in does not matter.  verify() orders them the same way.
 */
static bool
LaterContact(CustomerState *st, const SourceRow *r)
{
	TimestampTz last;
	int			c;

	if (STATE_NULL(st, SC_LAST_CONTACT_AT))
		return true;
	last = STATE_TS(st, SC_LAST_CONTACT_AT);
	if (r->t != last)
		return r->t > last;
	if (r->outcome == NULL || STATE_NULL(st, SC_LAST_OUTCOME))
		c = (r->outcome != NULL) - !STATE_NULL(st, SC_LAST_OUTCOME);
	else
		c = CompareOutcomes(r->outcome, StateText(st, SC_LAST_OUTCOME));
	if (c != 0)
		return c > 0;
	if (!r->has_next_action || STATE_NULL(st, SC_NEXT_ACTION_AT))
		return r->has_next_action && STATE_NULL(st, SC_NEXT_ACTION_AT);
	return r->next_action > STATE_TS(st, SC_NEXT_ACTION_AT);
}

/*
 * A contact: the latest one (its outcome and promised next action), the
 * count in the 90-day window and the oldest contact in it (the count drops
 * 90 days after), the first contact, and the latest with an intent or a
 * complaint.  A contact dated after now only sets when it will count.
 */
static void
AddContact(CustomerState *st, const SourceRow *r, TimestampTz now)
{
	if (!CountsNow(st, r, now, SC_NEXT_CONTACT_AT, SC_FIRST_CONTACT_AT))
		return;
	if (r->t > MetricsContactWindowStart(now))
	{
		StateSet(st, SC_CONTACTS_90D, Int32GetDatum(DatumGetInt32(st->values[SC_CONTACTS_90D]) + 1));
		StateSetMinTs(st, SC_CONTACTS_WINDOW_AT, r->t);
	}
	if (OutcomeIs(r->outcome, "intent"))
		StateSetMaxTs(st, SC_LAST_INTENT_AT, r->t);
	if (OutcomeIs(r->outcome, "complaint"))
		StateSetMaxTs(st, SC_LAST_COMPLAINT_AT, r->t);
	if (!LaterContact(st, r))
		return;
	StateSet(st, SC_LAST_CONTACT_AT, TimestampTzGetDatum(r->t));
	if (r->outcome)
		StateSet(st, SC_LAST_OUTCOME, CStringGetTextDatum(r->outcome));
	else
		StateSetNull(st, SC_LAST_OUTCOME);
	if (r->has_next_action)
		StateSet(st, SC_NEXT_ACTION_AT, TimestampTzGetDatum(r->next_action));
	else
		StateSetNull(st, SC_NEXT_ACTION_AT);
}

/*
 * An opportunity row, counted from the moment its stage last changed: the
 * open ones, and the first of all (first sight).  One whose stage changes
 * after now only sets when it will count.
 */
static void
AddOpportunity(CustomerState *st, const SourceRow *r, TimestampTz now)
{
	if (!CountsNow(st, r, now, SC_NEXT_OPPORTUNITY_AT, SC_FIRST_OPPORTUNITY_AT))
		return;
	if (r->is_open)
		StateSet(st, SC_OPEN_OPPORTUNITIES,
				 Int32GetDatum(DatumGetInt32(st->values[SC_OPEN_OPPORTUNITIES]) + 1));
}

/* Add what a row of a source of this kind contributes. */
void
MetricsAddRow(CustomerState *st, SourceKindId kind, const SourceRow *row,
			  TimestampTz now, TimestampTz ws)
{
	MetricsAddRowBatched(st, kind, row, now, ws, NULL);
}

/*
 * The same, an order's monthly amounts collected in mb (when not NULL)
 * until MonthBatchApply(): for the rows of one customer added together.
 */
void
MetricsAddRowBatched(CustomerState *st, SourceKindId kind, const SourceRow *row,
					 TimestampTz now, TimestampTz ws, MonthBatch *mb)
{
	switch (kind)
	{
		case SK_ORDERS:
			AddOrder(st, row, now, ws, mb);
			break;
		case SK_CONTACTS:
			AddContact(st, row, now);
			break;
		case SK_OPPORTUNITIES:
			AddOpportunity(st, row, now);
			break;
		default:
			AddMaster(st, row);
			break;
	}
}

/* Derived order metrics of SPEC section 4, from the accumulators. */
void
MetricsDerive(CustomerState *st, TimestampTz now)
{
	int64		orders_12m = STATE_I64(st, SC_ORDERS_12M);
	int64		orders_total = STATE_I64(st, SC_ORDERS_TOTAL);
	int64		pay_count = STATE_I64(st, SC_PAY_COUNT);
	ArrayType  *months = DatumGetArrayTypeP(st->values[SC_ORDER_MONTHS]);
	int			active = ArrayGetNItems(ARR_NDIM(months), ARR_DIMS(months));

	if (orders_12m > 0)
		StateSet(st, SC_AVG_ORDER_VALUE_12M,
				 NumericGetDatum(NumDiv(STATE_NUM(st, SC_AMOUNT_12M), NumericFromInt64(orders_12m))));
	else
		StateSetNull(st, SC_AVG_ORDER_VALUE_12M);

	StateSet(st, SC_ACTIVE_MONTHS_12M, Int32GetDatum(active));
	if (!STATE_NULL(st, SC_FIRST_ORDER_AT))
	{
		int			span = CrmMonthIndex(now) - CrmMonthIndex(STATE_TS(st, SC_FIRST_ORDER_AT)) + 1;

		/*
		 * The window touches 13 calendar months unless now is at a month
		 * start, so active months can exceed the denominator: capped at 1.
		 */
		if (active >= Min(12, span))
			StateSet(st, SC_REPURCHASE_RATE, NumericGetDatum(NumericFromInt64(1)));
		else
			StateSet(st, SC_REPURCHASE_RATE,
					 NumericGetDatum(NumDiv(NumericFromInt64(active), NumericFromInt64(Min(12, span)))));
	}
	else
		StateSetNull(st, SC_REPURCHASE_RATE);

	if (pay_count > 0)
		StateSet(st, SC_AVG_PAYMENT_DAYS,
				 NumericGetDatum(NumDiv(NumericFromInt64(STATE_I64(st, SC_PAY_DAYS_SUM)),
										NumericFromInt64(pay_count))));
	else
		StateSetNull(st, SC_AVG_PAYMENT_DAYS);

	if (orders_total >= 2)
		StateSet(st, SC_MEAN_INTERORDER_DAYS,
				 NumericGetDatum(NumDiv(NumericFromInt64(CrmDaysBetween(STATE_TS(st, SC_FIRST_ORDER_AT),
																		STATE_TS(st, SC_LAST_ORDER_AT))),
										NumericFromInt64(orders_total - 1))));
	else
		StateSetNull(st, SC_MEAN_INTERORDER_DAYS);

	StateSet(st, SC_GROWTH_MONTHS, Int32GetDatum(GrowthMonths(st, now)));
}

/*
 * Can growth_months change when now's month ends, or the one after?  At
 * the next month start it becomes 0, or one more than now, according to
 * this month's amount against the last one's; a month whose refunds
 * outweigh its orders also makes the empty month after it a growth month.
 * (Rows dated in later months re-grade the customer when they count.)
 */
static bool
GrowthMayChange(CustomerState *st, TimestampTz now)
{
	Numeric		amounts[2];

	if (DatumGetInt32(st->values[SC_GROWTH_MONTHS]) != 0)
		return true;
	MonthAmounts(st, CrmMonthIndex(now), 2, amounts);
	return NumericCompare(amounts[0], amounts[1]) > 0 ||
		NumericCompare(amounts[0], NumericFromInt64(0)) < 0;
}

/*
 * The earliest moment at which the passing of time alone changes what the
 * stored accumulators count: an order leaving the window, the window start
 * stepping back (29 February, DST) so that an order that had left it
 * counts again, a future-dated order starting to count, a payment being
 * made, a contact leaving the 90-day window or a later-dated contact or
 * deal coming in.  Until then the accumulators a state was graded with are
 * those at any later moment; only what is derived from them and the clock
 * moves.
 */
TimestampTz
MetricsRowsValidUntil(CustomerState *st, TimestampTz now)
{
	TimestampTz vu = DT_NOEND;

	if (!STATE_NULL(st, SC_OLDEST_WINDOW_AT))
		vu = Min(vu, CrmWindowExit(STATE_TS(st, SC_OLDEST_WINDOW_AT), now));

	/*
	 * Rows that have left the window (refunds too) may count again when its
	 * start steps back.  Any customer with counted rows may have such rows.
	 */
	if (!STATE_NULL(st, SC_FIRST_ORDER_AT) || !STATE_NULL(st, SC_OLDEST_WINDOW_AT) ||
		NumericCompare(STATE_NUM(st, SC_TOTAL_AMOUNT), NumericFromInt64(0)) != 0)
		vu = Min(vu, CrmWindowReentry(now));
	if (!STATE_NULL(st, SC_NEXT_ORDER_AT))
		vu = Min(vu, STATE_TS(st, SC_NEXT_ORDER_AT));
	if (!STATE_NULL(st, SC_NEXT_PAID_AT))
		vu = Min(vu, STATE_TS(st, SC_NEXT_PAID_AT));
	/* a contact leaving the 90-day window, or one dated later coming in */
	if (!STATE_NULL(st, SC_CONTACTS_WINDOW_AT))
		vu = Min(vu, STATE_TS(st, SC_CONTACTS_WINDOW_AT) + CONTACT_WINDOW_USECS);
	if (!STATE_NULL(st, SC_NEXT_CONTACT_AT))
		vu = Min(vu, STATE_TS(st, SC_NEXT_CONTACT_AT));
	if (!STATE_NULL(st, SC_NEXT_OPPORTUNITY_AT))
		vu = Min(vu, STATE_TS(st, SC_NEXT_OPPORTUNITY_AT));
	return vu;
}

/*
 * The earliest moment at which the passing of time alone changes the stored
 * metrics: what changes the accumulators (MetricsRowsValidUntil), and the
 * month starts that move derived metrics: (in the first year) a new month
 * raising repurchase_rate's denominator, growth_months.
 */
TimestampTz
MetricsValidUntil(CustomerState *st, TimestampTz now)
{
	TimestampTz vu = MetricsRowsValidUntil(st, now);

	if ((!STATE_NULL(st, SC_FIRST_ORDER_AT) &&
		 CrmMonthIndex(now) - CrmMonthIndex(STATE_TS(st, SC_FIRST_ORDER_AT)) + 1 < 12) ||
		GrowthMayChange(st, now))
		vu = Min(vu, CrmNextMonthStart(now));
	return vu;
}

/* Does the metric count days, rising by one a day between evaluations? */
bool
MetricIsDayCount(MetricId metric)
{
	return metric == M_TENURE_DAYS || metric == M_DAYS_SINCE_LAST_ORDER ||
		metric == M_DAYS_SINCE_LAST_CONTACT;
}

/* The moment a day-count metric counts from; false for other metrics. */
bool
MetricDayBase(CustomerState *st, MetricId metric, TimestampTz *base)
{
	StateCol	col;

	if (metric == M_TENURE_DAYS)
		col = SC_FIRST_ORDER_AT;
	else if (metric == M_DAYS_SINCE_LAST_ORDER)
		col = SC_LAST_ORDER_AT;
	else if (metric == M_DAYS_SINCE_LAST_CONTACT)
		col = SC_LAST_CONTACT_AT;
	else
		return false;
	if (STATE_NULL(st, col))
		return false;
	*base = STATE_TS(st, col);
	return true;
}

/*
 * Does a string hold a number numeric_in reads without error: optional
 * blanks and sign, digits with an optional point, an exponent of at most
 * three digits?  verify() tests the same pattern in SQL.
 */
static bool
IsNumericString(const char *s, int len)
{
	int			i = 0,
				digits = 0;

	if (len > 1000)
		return false;
	while (i < len && isspace((unsigned char) s[i]))
		i++;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < len && isdigit((unsigned char) s[i]))
		i++, digits++;
	if (i < len && s[i] == '.')
	{
		i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E'))
	{
		int			expdigits = 0;

		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < len && isdigit((unsigned char) s[i]))
			i++, expdigits++;
		if (expdigits == 0 || expdigits > 3)
			return false;
	}
	while (i < len && isspace((unsigned char) s[i]))
		i++;
	return i == len;
}

/*
 * attr.NAME: a JSON number, or a string holding one.  Missing or null is
 * NULL; anything else is NULL too, and *bad_value (when asked for) gets
 * the offending JSON so that it can be listed in data_issues.
 */
bool
MetricAttribute(CustomerState *st, const char *name, Numeric *result, char **bad_value)
{
	Jsonb	   *attrs;
	JsonbValue *v;

	if (bad_value)
		*bad_value = NULL;
	if (STATE_NULL(st, SC_ATTRIBUTES))
		return false;
	attrs = DatumGetJsonbP(st->values[SC_ATTRIBUTES]);
	if (!JB_ROOT_IS_OBJECT(attrs) || JB_ROOT_IS_SCALAR(attrs))
		return false;
	v = getKeyJsonValueFromContainer(&attrs->root, name, strlen(name), NULL);
	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type == jbvNumeric)
	{
		*result = v->val.numeric;
		return true;
	}
	if (v->type == jbvString && IsNumericString(v->val.string.val, v->val.string.len))
	{
		char	   *s = pnstrdup(v->val.string.val, v->val.string.len);

		*result = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
													  ObjectIdGetDatum(InvalidOid),
													  Int32GetDatum(-1)));
		return true;
	}
	if (bad_value)
	{
		Jsonb	   *jb = JsonbValueToJsonb(v);

		*bad_value = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}
	return false;
}

/*
 * The value of a metric at now; false when it is NULL.  Day counts are
 * computed here from stored moments, so they are never stale.
 */
bool
MetricValue(CustomerState *st, MetricId metric, const char *attr, TimestampTz now,
			const Population *pop, Numeric *result)
{
	static const StateCol stored[] = {
		[M_TOTAL_AMOUNT] = SC_TOTAL_AMOUNT,
		[M_ORDERS_TOTAL] = SC_ORDERS_TOTAL,
		[M_AMOUNT_12M] = SC_AMOUNT_12M,
		[M_ORDERS_12M] = SC_ORDERS_12M,
		[M_AVG_ORDER_VALUE_12M] = SC_AVG_ORDER_VALUE_12M,
		[M_MEAN_INTERORDER_DAYS] = SC_MEAN_INTERORDER_DAYS,
		[M_ACTIVE_MONTHS_12M] = SC_ACTIVE_MONTHS_12M,
		[M_REPURCHASE_RATE] = SC_REPURCHASE_RATE,
		[M_AVG_PAYMENT_DAYS] = SC_AVG_PAYMENT_DAYS,
		[M_CONTACTS_90D] = SC_CONTACTS_90D,
	};
	TimestampTz base;
	StateCol	col;

	if (metric == M_ATTR)
		return MetricAttribute(st, attr, result, NULL);
	if (metric == M_ORDERS_PER_MONTH_12M)
	{
		/* orders_12m / 12, exact (a seed's "at least 4 orders a month") */
		*result = NumDiv(NumericFromInt64(STATE_I64(st, SC_ORDERS_12M)), NumericFromInt64(12));
		return true;
	}
	if (metric == M_GROWTH_MONTHS)
	{
		*result = NumericFromInt64(DatumGetInt32(st->values[SC_GROWTH_MONTHS]));
		return true;
	}
	if (metric == M_REVENUE_SHARE_12M)
	{
		/* over the total of the last population refresh; none yet: NULL */
		if (pop == NULL || !pop->valid ||
			NumericCompare(pop->amount_total, NumericFromInt64(0)) <= 0)
			return false;
		*result = NumDiv(STATE_NUM(st, SC_AMOUNT_12M), pop->amount_total);
		return true;
	}
	if (MetricIsDayCount(metric))
	{
		if (!MetricDayBase(st, metric, &base))
			return false;
		*result = NumericFromInt64(CrmDaysBetween(base, now));
		return true;
	}
	col = stored[metric];
	if (STATE_NULL(st, col))
		return false;
	switch (col)
	{
		case SC_ORDERS_TOTAL:
		case SC_ORDERS_12M:
			*result = NumericFromInt64(STATE_I64(st, col));
			break;
		case SC_ACTIVE_MONTHS_12M:
		case SC_CONTACTS_90D:
			*result = NumericFromInt64(DatumGetInt32(st->values[col]));
			break;
		default:
			*result = STATE_NUM(st, col);
			break;
	}
	return true;
}

/*
 * Rebuild the issues array without the elements of drop_kind, appending
 * one more when add_kind is given.  Issues are rare: no need to be clever.
 */
static void
IssuesRebuild(CustomerState *st, const char *drop_kind, const char *add_kind,
			  const char *source, const char *column, const char *value, const char *problem)
{
	JsonbParseState *ps = NULL;
	JsonbValue *res;
	int			kept = 0;

	pushJsonbValue(&ps, WJB_BEGIN_ARRAY, NULL);
	if (!STATE_NULL(st, SC_DATA_ISSUES))
	{
		Jsonb	   *old = DatumGetJsonbP(st->values[SC_DATA_ISSUES]);
		JsonbIterator *it = JsonbIteratorInit(&old->root);
		JsonbValue	v;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			JsonbValue *kind;

			if (tok != WJB_ELEM || v.type != jbvBinary)
				continue;
			kind = getKeyJsonValueFromContainer(v.val.binary.data, "kind", 4, NULL);
			if (drop_kind && kind && kind->type == jbvString &&
				kind->val.string.len == strlen(drop_kind) &&
				strncmp(kind->val.string.val, drop_kind, kind->val.string.len) == 0)
				continue;
			pushJsonbValue(&ps, WJB_ELEM, &v);
			kept++;
		}
	}
	if (add_kind)
	{
		JbBeginObject(&ps);
		JbKey(&ps, "kind");
		JbString(&ps, add_kind);
		JbKey(&ps, "source");
		JbString(&ps, source);
		JbKey(&ps, "column");
		JbString(&ps, column);
		JbKey(&ps, "value");
		JbString(&ps, value);
		JbKey(&ps, "problem");
		JbString(&ps, problem);
		JbEndObject(&ps);
		kept++;
	}
	res = pushJsonbValue(&ps, WJB_END_ARRAY, NULL);
	if (kept == 0)
		StateSetNull(st, SC_DATA_ISSUES);
	else
		StateSet(st, SC_DATA_ISSUES, JsonbPGetDatum(JsonbValueToJsonb(res)));
}

/* Note a value crm_grade read but could not use. */
void
IssuesAdd(CustomerState *st, const char *kind, const char *source, const char *column,
		  const char *value, const char *problem)
{
	IssuesRebuild(st, NULL, kind, source, column, value, problem);
}

/* Forget the issues of one kind (before finding them again). */
void
IssuesDropKind(CustomerState *st, const char *kind)
{
	if (!STATE_NULL(st, SC_DATA_ISSUES))
		IssuesRebuild(st, kind, NULL, NULL, NULL, NULL, NULL);
}
