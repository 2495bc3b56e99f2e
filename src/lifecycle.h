/*-------------------------------------------------------------------------
 *
 * lifecycle.h
 *		A customer's relationship stage (SPEC 6) and churn risk (SPEC 7),
 *		the moments time alone changes them, and the reason a change of
 *		either is logged with.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_LIFECYCLE_H
#define CRM_LIFECYCLE_H

#include "state.h"

/* The thresholds an evaluation uses, read once per evaluation context. */
typedef struct LifecycleRules
{
	int			dormant_days;
	int			churned_days;
	int			intent_days;
} LifecycleRules;

extern void LifecycleRulesLoad(LifecycleRules *rules);
extern void LifecycleEvaluate(CustomerState *st, const LifecycleRules *rules, TimestampTz now,
							  TimestampTz *valid_until);
extern const char *LifecycleChangeReason(CustomerState *old, CustomerState *new, const char *event);

#endif							/* CRM_LIFECYCLE_H */
