/*-------------------------------------------------------------------------
 *
 * evaluate.h
 *		The one evaluation of a customer: derived metrics, grade, data
 *		issues and valid_until, at a moment and under a policy taken after
 *		the customer's state row was locked; and why a state changed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_EVALUATE_H
#define CRM_EVALUATE_H

#include "lifecycle.h"
#include "policy.h"
#include "source.h"
#include "state.h"

/*
 * Everything an evaluation depends on besides the customer's own rows: the
 * moment, the calendar's window, the policy.  Loaded after the customers'
 * state rows are locked, so that a change committed by whoever held them
 * (a new policy, a later moment) is taken; only the states of customers
 * that have no row yet, which nobody holds, are computed by one loaded
 * before (ApplyChunk()).
 */
typedef struct EvalContext
{
	TimestampTz now;
	TimestampTz ws;				/* exclusive start of the 12-month window */
	Policy	   *policy;
	Source	   *master;			/* the customer master, for data_issues */
	LifecycleRules lifecycle;	/* the stage thresholds */
} EvalContext;

extern void EvalContextLoad(EvalContext *ctx);
extern void EvaluateCustomer(CustomerState *st, EvalContext *ctx);
extern bool StateCanExtend(CustomerState *st, EvalContext *ctx);
extern bool StateGradeChanged(CustomerState *old, CustomerState *new);
extern const char *ChangeReason(CustomerState *old, CustomerState *new, const char *event);

#endif							/* CRM_EVALUATE_H */
