/*-------------------------------------------------------------------------
 *
 * evaluate.c
 *		The one evaluation of a customer: derived metrics from the
 *		accumulators, the grade from the active policy, and valid_until.
 *
 * Triggers call EvaluateCustomer() directly; set-based refreshes call it
 * through crm_grade._evaluate() once per customer.  Later inputs (contacts,
 * opportunities, lifecycle, risk, follow-up) extend this function, not a
 * copy of it.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(crm_grade_evaluate);

const char *const MetricNames[M_NMETRICS] = {
	"total_amount", "orders_total", "amount_12m", "orders_12m",
	"avg_order_value_12m", "tenure_days", "days_since_last_order",
	"mean_interorder_days", "active_months_12m", "repurchase_rate",
	"avg_payment_days", "attr"
};

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

static Datum
NumericDiv(Numeric a, Numeric b)
{
	return DirectFunctionCall2(numeric_div, NumericGetDatum(a), NumericGetDatum(b));
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
	else
		return false;
	if (STATE_NULL(st, col))
		return false;
	*base = STATE_TS(st, col);
	return true;
}

/* attr.NAME: a number in the customer's attributes; missing or null is NULL. */
static bool
AttributeValue(CustomerState *st, const char *name, Numeric *result)
{
	Jsonb	   *attrs;
	JsonbValue *v;

	if (STATE_NULL(st, SC_ATTRIBUTES))
		return false;
	attrs = DatumGetJsonbP(st->values[SC_ATTRIBUTES]);
	if (!JB_ROOT_IS_OBJECT(attrs) || JB_ROOT_IS_SCALAR(attrs))
		return false;
	v = getKeyJsonValueFromContainer(&attrs->root, name, strlen(name), NULL);
	if (v == NULL || v->type == jbvNull)
		return false;
	if (v->type != jbvNumeric || numeric_is_nan(v->val.numeric) || numeric_is_inf(v->val.numeric))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("attribute \"%s\" of customer %s is not a finite number",
						name, TextDatumGetCString(st->values[SC_CUSTOMER])),
				 errhint("The active policy reads attr.%s; store a number under that key or remove it.",
						 name)));
	*result = v->val.numeric;
	return true;
}

/*
 * The value of a metric at now; false when it is NULL.  Day counts are
 * computed here from stored moments, so they are never stale.
 */
bool
MetricValue(CustomerState *st, MetricId metric, const char *attr, TimestampTz now,
			Numeric *result)
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
	};
	TimestampTz base;
	StateCol	col;

	if (metric == M_ATTR)
		return AttributeValue(st, attr, result);
	if (metric == M_TENURE_DAYS || metric == M_DAYS_SINCE_LAST_ORDER)
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
			*result = NumericFromInt64(DatumGetInt32(st->values[col]));
			break;
		default:
			*result = STATE_NUM(st, col);
			break;
	}
	return true;
}

/* Derived order metrics of SPEC section 4, from the accumulators. */
static void
DeriveOrderMetrics(CustomerState *st, TimestampTz now)
{
	int64		orders_12m = STATE_I64(st, SC_ORDERS_12M);
	int64		orders_total = STATE_I64(st, SC_ORDERS_TOTAL);
	int64		pay_count = STATE_I64(st, SC_PAY_COUNT);
	ArrayType  *months = DatumGetArrayTypeP(st->values[SC_ORDER_MONTHS]);
	int			active = ArrayGetNItems(ARR_NDIM(months), ARR_DIMS(months));

	if (orders_12m > 0)
		StateSet(st, SC_AVG_ORDER_VALUE_12M,
				 NumericDiv(STATE_NUM(st, SC_AMOUNT_12M), NumericFromInt64(orders_12m)));
	else
		StateSetNull(st, SC_AVG_ORDER_VALUE_12M);

	StateSet(st, SC_ACTIVE_MONTHS_12M, Int32GetDatum(active));
	if (!STATE_NULL(st, SC_FIRST_ORDER_AT))
	{
		int			span = CrmMonthIndex(now) - CrmMonthIndex(STATE_TS(st, SC_FIRST_ORDER_AT)) + 1;

		StateSet(st, SC_REPURCHASE_RATE,
				 NumericDiv(NumericFromInt64(active), NumericFromInt64(Min(12, span))));
	}
	else
		StateSetNull(st, SC_REPURCHASE_RATE);

	if (pay_count > 0)
		StateSet(st, SC_AVG_PAYMENT_DAYS,
				 NumericDiv(NumericFromInt64(STATE_I64(st, SC_PAY_DAYS_SUM)),
							NumericFromInt64(pay_count)));
	else
		StateSetNull(st, SC_AVG_PAYMENT_DAYS);

	if (orders_total >= 2)
		StateSet(st, SC_MEAN_INTERORDER_DAYS,
				 NumericDiv(NumericFromInt64(CrmDaysBetween(STATE_TS(st, SC_FIRST_ORDER_AT),
															STATE_TS(st, SC_LAST_ORDER_AT))),
							NumericFromInt64(orders_total - 1)));
	else
		StateSetNull(st, SC_MEAN_INTERORDER_DAYS);
}

/*
 * The earliest moment at which the passing of time alone changes the stored
 * order metrics: an order leaving the window, a future-dated order starting
 * to count, (in the first year) a new month raising repurchase_rate's
 * denominator, or the window start stepping back (29 February, DST) so
 * that an order that had left it counts again.
 */
static TimestampTz
OrderMetricsValidUntil(CustomerState *st, TimestampTz now)
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
	if (!STATE_NULL(st, SC_FIRST_ORDER_AT) &&
		CrmMonthIndex(now) - CrmMonthIndex(STATE_TS(st, SC_FIRST_ORDER_AT)) + 1 < 12)
		vu = Min(vu, CrmNextMonthStart(now));
	return vu;
}

/*
 * Evaluate a customer at now: derived metrics, grade, valid_until.  The
 * accumulators must be those at now.
 */
void
EvaluateCustomer(CustomerState *st, TimestampTz now, Policy *policy)
{
	TimestampTz valid_until;

	DeriveOrderMetrics(st, now);

	if (!STATE_NULL(st, SC_CREATED_AT))
		StateSet(st, SC_FIRST_SEEN_AT, st->values[SC_CREATED_AT]);
	else
		StateSetNull(st, SC_FIRST_SEEN_AT);
	if (!STATE_NULL(st, SC_FIRST_ORDER_AT))
		StateSetMinTs(st, SC_FIRST_SEEN_AT, STATE_TS(st, SC_FIRST_ORDER_AT));

	valid_until = OrderMetricsValidUntil(st, now);
	PolicyGrade(policy, st, now, &valid_until);

	/*
	 * Every candidate lies after now by construction; should one not, a
	 * valid_until at or before now would make regrade() take the row again
	 * and again, so it must never be stored.
	 */
	Assert(valid_until > now);
	if (valid_until <= now)
		valid_until = now + 1;
	StateSet(st, SC_GRADED_AT, TimestampTzGetDatum(now));
	if (valid_until == DT_NOEND)
		StateSetNull(st, SC_VALID_UNTIL);
	else
		StateSet(st, SC_VALID_UNTIL, TimestampTzGetDatum(valid_until));
}

/*
 * SQL: crm_grade._evaluate(acc record, as_of timestamptz, policy_name text,
 * policy jsonb) RETURNS crm_grade.customer_state
 */
Datum
crm_grade_evaluate(PG_FUNCTION_ARGS)
{
	CustomerState st;
	TupleDesc	desc;
	Policy	   *policy;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("crm_grade cannot evaluate a customer at a NULL moment")));
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the active crm_grade policy does not exist"),
				 errhint("Choose a stored policy with SELECT crm_grade.use_policy('abc').")));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("crm_grade._evaluate must return crm_grade.customer_state")));
	policy = PolicyGetCached(text_to_cstring(PG_GETARG_TEXT_PP(2)), PG_GETARG_JSONB_P(3));
	StateFromTuple(&st, PG_GETARG_HEAPTUPLEHEADER(0));
	EvaluateCustomer(&st, PG_GETARG_TIMESTAMPTZ(1), policy);
	desc = BlessTupleDesc(desc);
	PG_RETURN_DATUM(HeapTupleGetDatum(StateToTuple(&st, desc)));
}
