/*-------------------------------------------------------------------------
 *
 * crm_grade.h
 *		Shared declarations of the crm_grade extension: settings and time
 *		arithmetic, the customer state, policies and the evaluator.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_GRADE_H
#define CRM_GRADE_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM < 150000
#error "crm_grade requires PostgreSQL 15 or later"
#endif

/* ---------- settings and time (time.c) ---------- */

extern TimestampTz CrmAsOf(void);
extern TimestampTz CrmWindowStart(TimestampTz t);
extern TimestampTz CrmWindowExit(TimestampTz t, TimestampTz now);
extern TimestampTz CrmWindowReentry(TimestampTz now);
extern int	CrmMonthIndex(TimestampTz t);
extern TimestampTz CrmNextMonthStart(TimestampTz t);
extern int64 CrmDaysBetween(TimestampTz from, TimestampTz to);
extern TimestampTz CrmLocalToTimestampTz(Timestamp local);

/* ---------- customer state (state.c) ---------- */

/*
 * Columns of crm_grade.customer_state, in table order.  StateColumnNames
 * in state.c must list the same names in the same order.
 */
typedef enum StateCol
{
	SC_CUSTOMER,
	SC_IN_MASTER,
	SC_OWNER,
	SC_CREATED_AT,
	SC_ATTRIBUTES,
	SC_TOTAL_AMOUNT,
	SC_ORDERS_TOTAL,
	SC_AMOUNT_12M,
	SC_ORDERS_12M,
	SC_FIRST_ORDER_AT,
	SC_LAST_ORDER_AT,
	SC_ORDER_MONTHS,
	SC_PAY_DAYS_SUM,
	SC_PAY_COUNT,
	SC_OLDEST_WINDOW_AT,
	SC_NEXT_ORDER_AT,
	SC_AVG_ORDER_VALUE_12M,
	SC_ACTIVE_MONTHS_12M,
	SC_REPURCHASE_RATE,
	SC_AVG_PAYMENT_DAYS,
	SC_MEAN_INTERORDER_DAYS,
	SC_LAST_CONTACT_AT,
	SC_CONTACTS_90D,
	SC_LAST_OUTCOME,
	SC_NEXT_ACTION_AT,
	SC_OPEN_OPPORTUNITIES,
	SC_FIRST_SEEN_AT,
	SC_GRADE,
	SC_GRADE_RANK,
	SC_SCORE,
	SC_LIFECYCLE,
	SC_RISK,
	SC_NEXT_FOLLOW_UP_AT,
	SC_POLICY,
	SC_GRADED_AT,
	SC_VALID_UNTIL,
	SC_NCOLS
} StateCol;

/* One customer's state row as Datums, indexed by StateCol. */
typedef struct CustomerState
{
	Datum		values[SC_NCOLS];
	bool		isnull[SC_NCOLS];
} CustomerState;

#define STATE_NULL(st, c)		((st)->isnull[(c)])
#define STATE_TS(st, c)			DatumGetTimestampTz((st)->values[(c)])
#define STATE_I64(st, c)		DatumGetInt64((st)->values[(c)])
#define STATE_NUM(st, c)		DatumGetNumeric((st)->values[(c)])

extern void StateFromTuple(CustomerState *st, HeapTupleHeader tuple);
extern HeapTuple StateToTuple(CustomerState *st, TupleDesc desc);
extern void StateSet(CustomerState *st, StateCol col, Datum value);
extern void StateSetNull(CustomerState *st, StateCol col);
extern void StateSetMinTs(CustomerState *st, StateCol col, TimestampTz t);
extern void StateSetMaxTs(CustomerState *st, StateCol col, TimestampTz t);
extern bool StateTextEquals(CustomerState *a, CustomerState *b, StateCol col);
extern Oid	StateRowType(void);
extern int	StateColumnIndex(const char *name);

/* ---------- metrics (evaluate.c) ---------- */

/* Metrics a policy can name; MetricNames in evaluate.c is in this order. */
typedef enum MetricId
{
	M_TOTAL_AMOUNT,
	M_ORDERS_TOTAL,
	M_AMOUNT_12M,
	M_ORDERS_12M,
	M_AVG_ORDER_VALUE_12M,
	M_TENURE_DAYS,
	M_DAYS_SINCE_LAST_ORDER,
	M_MEAN_INTERORDER_DAYS,
	M_ACTIVE_MONTHS_12M,
	M_REPURCHASE_RATE,
	M_AVG_PAYMENT_DAYS,
	M_ATTR,						/* attr.NAME: a number in the attributes */
	M_NMETRICS
} MetricId;

extern const char *const MetricNames[M_NMETRICS];
extern bool MetricDayBase(CustomerState *st, MetricId metric, TimestampTz *base);

/* ---------- policies (policy.c) ---------- */

typedef struct Policy Policy;

extern Policy *PolicyParse(Jsonb *definition, const char *name);
extern Policy *PolicyGetCached(const char *name, Jsonb *definition);
extern void PolicyKeep(Policy *policy);
extern void PolicyFree(Policy *policy);
extern void PolicyGrade(Policy *policy, CustomerState *st, TimestampTz now,
						TimestampTz *valid_until);

/* ---------- evaluation (evaluate.c) ---------- */

extern void EvaluateCustomer(CustomerState *st, TimestampTz now, Policy *policy);
extern bool MetricValue(CustomerState *st, MetricId metric, const char *attr,
						TimestampTz now, Numeric *result);
extern Numeric NumericFromInt64(int64 v);
extern int	NumericCompare(Numeric a, Numeric b);

#endif							/* CRM_GRADE_H */
