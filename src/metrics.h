/*-------------------------------------------------------------------------
 *
 * metrics.h
 *		The one definition of every metric: what a source row adds to a
 *		customer's accumulators, the metrics derived from them, the value a
 *		policy reads, and when time alone changes them.
 *
 * The triggers (one statement's new rows), the set-based refresh and the
 * back-fill (every row of a customer) all go through MetricsAddRow(), so a
 * metric cannot mean one thing on one path and another on the other.
 * crm_grade.verify() is the independent plain-SQL oracle.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_METRICS_H
#define CRM_METRICS_H

#include "months.h"
#include "population.h"
#include "source.h"
#include "state.h"

/* Metrics a policy can name; MetricNames is in this order. */
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
	M_DAYS_SINCE_LAST_CONTACT,
	M_CONTACTS_90D,
	M_ORDERS_PER_MONTH_12M,
	M_GROWTH_MONTHS,
	M_REVENUE_SHARE_12M,
	M_ATTR,						/* attr.NAME: a number in the attributes */
	M_NMETRICS
} MetricId;

extern const char *const MetricNames[M_NMETRICS];

extern void MetricsAddRow(CustomerState *st, SourceKindId kind, const SourceRow *row,
						  TimestampTz now, TimestampTz ws);
extern void MetricsAddRowBatched(CustomerState *st, SourceKindId kind, const SourceRow *row,
								 TimestampTz now, TimestampTz ws, MonthBatch *mb);
extern bool MetricsIsRefund(const SourceRow *row);

/* More changed order rows of one customer than this in a statement: re-read. */
#define MAX_ORDER_CHANGES 64
extern bool MetricsApplyOrderChanges(CustomerState *st, const SourceRow *rows, int n,
									 TimestampTz now, TimestampTz ws);
extern TimestampTz MetricsContactWindowStart(TimestampTz now);
extern void MetricsMergeLine(SourceRow *order, const SourceRow *line);
extern void MetricsDerive(CustomerState *st, TimestampTz now);
extern TimestampTz MetricsRowsValidUntil(CustomerState *st, TimestampTz now);
extern TimestampTz MetricsValidUntil(CustomerState *st, TimestampTz now);
extern bool MetricValue(CustomerState *st, MetricId metric, const char *attr,
						TimestampTz now, const Population *pop, Numeric *result);
extern bool MetricIsDayCount(MetricId metric);
extern bool MetricDayBase(CustomerState *st, MetricId metric, TimestampTz *base);
extern bool MetricAttribute(CustomerState *st, const char *name, Numeric *result,
							char **bad_value);

/* Values crm_grade read but could not use (crm_grade.data_issues). */
extern void IssuesAdd(CustomerState *st, const char *kind, const char *source,
					  const char *column, const char *value, const char *problem);
extern void IssuesDropKind(CustomerState *st, const char *kind);

extern Numeric NumericFromInt64(int64 v);
extern int	NumericCompare(Numeric a, Numeric b);
extern Numeric NumAdd(Numeric a, Numeric b);
extern Numeric NumSub(Numeric a, Numeric b);
extern Numeric NumMul(Numeric a, Numeric b);
extern Numeric NumDiv(Numeric a, Numeric b);

#endif							/* CRM_METRICS_H */
