/*-------------------------------------------------------------------------
 *
 * months.h
 *		A customer's calendar months in its state (months.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_MONTHS_H
#define CRM_MONTHS_H

#include "state.h"

/*
 * Monthly contributions of order rows added one after another, merged into
 * a state's month arrays at once (MonthBatchApply) instead of row by row.
 */
typedef struct MonthBatch
{
	int			n,
				cap;
	int32	   *months;			/* a row's month and amount */
	Numeric    *amounts;
	int			norder,
				caporder;
	int32	   *order_months;	/* months of orders in the window */
} MonthBatch;

extern void MonthAmounts(CustomerState *st, int month, int n, Numeric *out);
extern bool MonthAmountOf(CustomerState *st, int month, Numeric *amount);
extern bool MonthHasRow(CustomerState *st, int month);
extern void MonthAddOrderMonth(CustomerState *st, int month);
extern void MonthAddAmount(CustomerState *st, int month, Numeric amount);
extern void MonthBatchInit(MonthBatch *mb);
extern void MonthBatchAddAmount(MonthBatch *mb, int month, Numeric amount);
extern void MonthBatchAddOrderMonth(MonthBatch *mb, int month);
extern void MonthBatchApply(CustomerState *st, MonthBatch *mb);

#endif							/* CRM_MONTHS_H */
