/*-------------------------------------------------------------------------
 *
 * policy.h
 *		Grading policies: parsing and validating the jsonb definition, the
 *		active policy, and grading a customer with it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_POLICY_H
#define CRM_POLICY_H

#include "metrics.h"
#include "population.h"
#include "state.h"

#include "datatype/timestamp.h"

typedef struct Policy Policy;

extern Policy *PolicyParse(Jsonb *definition, const char *name);
extern void PolicyKeep(Policy *policy);
extern void PolicyFree(Policy *policy);
extern Policy *PolicyLoadActive(void);
extern void PolicyForgetActive(void);
extern const char *PolicyName(Policy *policy);
extern int	PolicyAttributes(Policy *policy, char ***names);
extern Interval *PolicyCadence(Policy *policy, const char *grade);
extern void PolicyGrade(Policy *policy, CustomerState *st, TimestampTz now,
						TimestampTz *valid_until);
extern const char *PolicyGradeOf(Policy *policy, CustomerState *st, TimestampTz now, int *rank);
extern int	PolicyGradeRank(Policy *policy, const char *grade);
extern const char *PolicyGradeName(Policy *policy, int rank);
extern bool PolicyReadsPopulation(Policy *policy);
extern void PolicySetPopulation(Policy *policy, const Population *pop);
extern const Population *PolicyPopulation(Policy *policy);
extern void PolicyExplain(Policy *policy, CustomerState *st, TimestampTz at,
						  struct JsonbParseState **ps);

#endif							/* CRM_POLICY_H */
