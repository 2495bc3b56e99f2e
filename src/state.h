/*-------------------------------------------------------------------------
 *
 * state.h
 *		A customer's row of crm_grade.customer_state as a C struct.
 *
 * CRM_STATE_COLUMNS is the one list of the table's columns: the enum, the
 * names, the types, the initial values and the generated SQL that reads
 * and writes the table all come from it.  Adding a state column means one
 * line here and the column in the install and upgrade scripts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_STATE_H
#define CRM_STATE_H

#include "crm_grade.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

/* What a new customer's column holds before anything is counted. */
typedef enum StateInit
{
	INIT_NULL,
	INIT_FALSE,
	INIT_ZERO_NUMERIC,
	INIT_ZERO_INT8,
	INIT_ZERO_INT4,
	INIT_EMPTY_MONTHS,
	INIT_EMPTY_NUMERICS
} StateInit;

/*
 * Which rows a column accumulates: a re-read of the order tables alone
 * replaces the SG_ORDERS columns of a state whose others are exact.
 * Derived and grading columns are SG_OTHER: evaluation recomputes them.
 */
typedef enum StateGroup
{
	SG_OTHER,
	SG_ORDERS
} StateGroup;

/* X(id, column name, type oid, initial value, group) */
#define CRM_STATE_COLUMNS(X) \
	X(CUSTOMER, customer, TEXTOID, INIT_NULL, SG_OTHER) \
	X(IN_MASTER, in_master, BOOLOID, INIT_FALSE, SG_OTHER) \
	X(OWNER, owner, TEXTOID, INIT_NULL, SG_OTHER) \
	X(CREATED_AT, created_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(ATTRIBUTES, attributes, JSONBOID, INIT_NULL, SG_OTHER) \
	X(TOTAL_AMOUNT, total_amount, NUMERICOID, INIT_ZERO_NUMERIC, SG_ORDERS) \
	X(ORDERS_TOTAL, orders_total, INT8OID, INIT_ZERO_INT8, SG_ORDERS) \
	X(AMOUNT_12M, amount_12m, NUMERICOID, INIT_ZERO_NUMERIC, SG_ORDERS) \
	X(ORDERS_12M, orders_12m, INT8OID, INIT_ZERO_INT8, SG_ORDERS) \
	X(FIRST_ORDER_AT, first_order_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(LAST_ORDER_AT, last_order_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(ORDER_MONTHS, order_months, INT4ARRAYOID, INIT_EMPTY_MONTHS, SG_ORDERS) \
	X(PAY_DAYS_SUM, pay_days_sum, INT8OID, INIT_ZERO_INT8, SG_ORDERS) \
	X(PAY_COUNT, pay_count, INT8OID, INIT_ZERO_INT8, SG_ORDERS) \
	X(OLDEST_WINDOW_AT, oldest_window_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(NEXT_ORDER_AT, next_order_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(AVG_ORDER_VALUE_12M, avg_order_value_12m, NUMERICOID, INIT_NULL, SG_OTHER) \
	X(ACTIVE_MONTHS_12M, active_months_12m, INT4OID, INIT_ZERO_INT4, SG_OTHER) \
	X(REPURCHASE_RATE, repurchase_rate, NUMERICOID, INIT_NULL, SG_OTHER) \
	X(AVG_PAYMENT_DAYS, avg_payment_days, NUMERICOID, INIT_NULL, SG_OTHER) \
	X(MEAN_INTERORDER_DAYS, mean_interorder_days, NUMERICOID, INIT_NULL, SG_OTHER) \
	X(LAST_CONTACT_AT, last_contact_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(CONTACTS_90D, contacts_90d, INT4OID, INIT_ZERO_INT4, SG_OTHER) \
	X(LAST_OUTCOME, last_outcome, TEXTOID, INIT_NULL, SG_OTHER) \
	X(NEXT_ACTION_AT, next_action_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(OPEN_OPPORTUNITIES, open_opportunities, INT4OID, INIT_ZERO_INT4, SG_OTHER) \
	X(FIRST_SEEN_AT, first_seen_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(GRADE, grade, TEXTOID, INIT_NULL, SG_OTHER) \
	X(GRADE_RANK, grade_rank, INT4OID, INIT_NULL, SG_OTHER) \
	X(SCORE, score, NUMERICOID, INIT_NULL, SG_OTHER) \
	X(LIFECYCLE, lifecycle, TEXTOID, INIT_NULL, SG_OTHER) \
	X(RISK, risk, TEXTOID, INIT_NULL, SG_OTHER) \
	X(NEXT_FOLLOW_UP_AT, next_follow_up_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(POLICY, policy, TEXTOID, INIT_NULL, SG_OTHER) \
	X(GRADED_AT, graded_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(VALID_UNTIL, valid_until, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(NEXT_PAID_AT, next_paid_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(DATA_ISSUES, data_issues, JSONBOID, INIT_NULL, SG_OTHER) \
	X(CONTACTS_WINDOW_AT, contacts_window_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(NEXT_CONTACT_AT, next_contact_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(FIRST_CONTACT_AT, first_contact_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(LAST_INTENT_AT, last_intent_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(LAST_COMPLAINT_AT, last_complaint_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(FIRST_ROW_AT, first_row_at, TIMESTAMPTZOID, INIT_NULL, SG_ORDERS) \
	X(FOLLOW_UP_DUE, follow_up_due, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(FIRST_OPPORTUNITY_AT, first_opportunity_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(NEXT_OPPORTUNITY_AT, next_opportunity_at, TIMESTAMPTZOID, INIT_NULL, SG_OTHER) \
	X(AMOUNT_MONTHS, amount_months, INT4ARRAYOID, INIT_EMPTY_MONTHS, SG_ORDERS) \
	X(MONTH_AMOUNTS, month_amounts, NUMERICARRAYOID, INIT_EMPTY_NUMERICS, SG_ORDERS) \
	X(GROWTH_MONTHS, growth_months, INT4OID, INIT_ZERO_INT4, SG_OTHER)

#define CRM_STATE_ENUM(id, name, type, init, group) SC_##id,
typedef enum StateCol
{
	CRM_STATE_COLUMNS(CRM_STATE_ENUM)
	SC_NCOLS
} StateCol;
#undef CRM_STATE_ENUM

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

extern const char *StateColumnName(StateCol col);
extern void StateInitEmpty(CustomerState *st, const char *customer);
extern void StateFromHeapTuple(CustomerState *st, HeapTuple tuple, TupleDesc desc);
extern void StateFromDatum(CustomerState *st, Datum composite);
extern HeapTuple StateToTuple(CustomerState *st, TupleDesc desc);
extern void StateCopy(CustomerState *dst, CustomerState *src);
extern void StateTakeGroup(CustomerState *dst, const CustomerState *src, StateGroup group);
extern void StateSet(CustomerState *st, StateCol col, Datum value);
extern void StateSetNull(CustomerState *st, StateCol col);
extern void StateSetMinTs(CustomerState *st, StateCol col, TimestampTz t);
extern void StateSetMaxTs(CustomerState *st, StateCol col, TimestampTz t);
extern bool StateTextEquals(CustomerState *a, CustomerState *b, StateCol col);
extern bool StateTextIs(CustomerState *st, StateCol col, const char *value);

/* Lower *valid_until to at, a moment time alone changes the row, when at lies after now. */
static inline void
StateLowerValidUntil(TimestampTz *valid_until, TimestampTz at, TimestampTz now)
{
	if (at > now && at < *valid_until)
		*valid_until = at;
}
extern char *StateKey(CustomerState *st);
extern char *StateText(CustomerState *st, StateCol col);
extern Oid	StateRowType(void);
extern bool StateCatalogCurrent(void);
extern void StateRequireCurrentCatalog(void);
extern char *StateColumnList(const char *prefix, bool with_key);

#endif							/* CRM_STATE_H */
