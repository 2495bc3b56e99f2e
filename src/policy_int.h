/*-------------------------------------------------------------------------
 *
 * policy_int.h
 *		What the kinds of policy (policy.c: rules and the common parts,
 *		policy_score.c, policy_rfm.c) share: the parsed form and the parser's
 *		helpers.  Not for the rest of crm_grade, which sees policy.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_POLICY_INT_H
#define CRM_POLICY_INT_H

#include "policy.h"

#include "utils/jsonb.h"

typedef enum PolicyKind
{
	PK_RULES,
	PK_SCORE,
	PK_RFM
} PolicyKind;

typedef struct Cond Cond;
typedef struct ScorePolicy ScorePolicy;
typedef struct RfmPolicy RfmPolicy;

/*
 * A parsed policy.  grades[0 .. ngrades-1] are the grades it gives other
 * than the default, in rank order (rules, bands, segments then "lapsed");
 * the default ranks last, ngrades + 1.
 */
struct Policy
{
	MemoryContext cxt;
	char	   *name;
	Jsonb	   *definition;		/* the source, to recognise it in the cache */
	PolicyKind	kind;
	char	   *default_grade;
	int			ngrades;
	char	  **grades;
	Interval  **cadence;		/* [ngrades + 1], the default's last */
	Cond	  **when;			/* rules: [ngrades] */
	ScorePolicy *score;
	RfmPolicy  *rfm;
	int			nattrs;			/* distinct attr.NAME the policy reads */
	char	  **attrs;
	bool		reads_population;	/* revenue_share_12m or RFM */
	const Population *population;	/* the figures it is evaluated with */
};

/* Where the parser is, for error messages. */
typedef struct ParseCtx
{
	const char *name;
	Policy	   *policy;
} ParseCtx;

#define POLICY_ERROR(ctx, path, hint, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), \
			 errmsg("invalid policy \"%s\": %s: %s", (ctx)->name, (path), psprintf(__VA_ARGS__)), \
			 errhint("%s", (hint))))

extern const char *PolicyValueType(JsonbValue *v);
extern bool PolicyIsObject(JsonbValue *v);
extern bool PolicyIsArray(JsonbValue *v);
extern JsonbValue *PolicyGetKey(JsonbContainer *obj, const char *key);
extern char *PolicyString(JsonbValue *v);
extern void PolicyCheckKeys(ParseCtx *ctx, JsonbContainer *obj, const char *path,
							const char *const *allowed, int nallowed);
extern void PolicyRequireKeys(ParseCtx *ctx, JsonbContainer *obj, const char *path,
							  const char *const *required, int nrequired, const char *hint);
extern MetricId PolicyParseMetric(ParseCtx *ctx, JsonbValue *v, const char *path, char **attr);
extern char *PolicyParseGrade(ParseCtx *ctx, JsonbValue *v, const char *path);
extern void PolicyAddGrade(ParseCtx *ctx, const char *grade, const char *path);
extern Numeric PolicyParseNumber(ParseCtx *ctx, JsonbValue *v, const char *path,
								 const char *hint);
extern JsonbContainer *PolicyParseArray(ParseCtx *ctx, JsonbValue *v, const char *path,
										int min_items, const char *hint);
extern double NumericToDouble(Numeric n);

/* the kinds */
extern void ScoreParse(ParseCtx *ctx, Policy *p, JsonbContainer *root);
extern int	ScoreGrade(Policy *p, CustomerState *st, TimestampTz now, TimestampTz *valid_until,
					   Numeric *score);
extern void ScoreExplain(Policy *p, CustomerState *st, TimestampTz at, JsonbParseState **ps);
extern Numeric ScoreOfMetrics(Policy *p, Jsonb *metrics);
extern void RfmParse(ParseCtx *ctx, Policy *p, JsonbContainer *root);
extern int	RfmGrade(Policy *p, CustomerState *st, Numeric *score);
extern void RfmExplain(Policy *p, CustomerState *st, JsonbParseState **ps);

#endif							/* CRM_POLICY_INT_H */
