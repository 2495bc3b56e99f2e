/*-------------------------------------------------------------------------
 *
 * followup.h
 *		When a customer is next to be contacted (SPEC 8).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_FOLLOWUP_H
#define CRM_FOLLOWUP_H

#include "lifecycle.h"
#include "policy.h"
#include "state.h"

extern void FollowUpEvaluate(CustomerState *st, Policy *policy, const LifecycleRules *rules,
							 TimestampTz now, TimestampTz *valid_until);
extern TimestampTz FollowUpAddLocal(TimestampTz base, const Interval *interval);
extern void FollowUpExplain(CustomerState *st, Policy *policy, const LifecycleRules *rules,
							TimestampTz at, struct JsonbParseState **ps);

#endif							/* CRM_FOLLOWUP_H */
