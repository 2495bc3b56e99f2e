/*-------------------------------------------------------------------------
 *
 * policy.c
 *		Grading policies: parsing and validating the jsonb definition,
 *		caching the parsed form, and grading a customer with it.
 *
 * Validation and evaluation share one parser, so a policy that the policy
 * table accepted is exactly the policy the triggers evaluate.  Every error
 * names the JSON path of the bad field.
 *
 *-------------------------------------------------------------------------
 */
#include "policy_int.h"
#include "jsonb_build.h"

#include <math.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "commands/trigger.h"
#include "common/int.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(crm_grade_check_policy);
PG_FUNCTION_INFO_V1(crm_grade_policy_invalidate);
PG_FUNCTION_INFO_V1(crm_grade_score_of);

typedef enum CondKind
{
	COND_ALL,
	COND_ANY,
	COND_CMP
} CondKind;

typedef enum CmpOp
{
	OP_GE,
	OP_GT,
	OP_LE,
	OP_LT,
	OP_EQ,
	OP_NE
} CmpOp;

static const char *const OpNames[] = {">=", ">", "<=", "<", "=", "<>"};

/* A condition: all/any of children, or one metric comparison. */
typedef struct Cond
{
	CondKind	kind;
	int			nkids;
	struct Cond **kids;
	MetricId	metric;
	char	   *attr;			/* NAME of attr.NAME */
	CmpOp		op;
	Numeric		value;
} Cond;

static Cond *ParseCond(ParseCtx *ctx, JsonbValue *v, const char *path, int depth);
static void ParseCadence(ParseCtx *ctx, Policy *p, JsonbValue *v);
static bool EvalCond(Cond *c, CustomerState *st, TimestampTz now, const Population *pop);
static void CondValidUntil(Cond *c, CustomerState *st, TimestampTz now,
						   TimestampTz *valid_until);

const char *
PolicyValueType(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a value";
	}
}

bool
PolicyIsObject(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

bool
PolicyIsArray(JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* Look up a key of an object; NULL when absent. */
JsonbValue *
PolicyGetKey(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

char *
PolicyString(JsonbValue *v)
{
	return pnstrdup(v->val.string.val, v->val.string.len);
}

double
NumericToDouble(Numeric n)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, NumericGetDatum(n)));
}

/* Reject keys the format does not know: a typo must not pass silently. */
void
PolicyCheckKeys(ParseCtx *ctx, JsonbContainer *obj, const char *path,
		  const char *const *allowed, int nallowed)
{
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *key;
		int			i;
		bool		known = false;

		if (tok != WJB_KEY)
			continue;
		key = PolicyString(&v);
		for (i = 0; i < nallowed; i++)
			known |= (strcmp(key, allowed[i]) == 0);
		if (!known)
		{
			StringInfoData keys;

			initStringInfo(&keys);
			for (i = 0; i < nallowed; i++)
				appendStringInfo(&keys, "%s%s", i ? ", " : "", allowed[i]);
			POLICY_ERROR(ctx, *path ? psprintf("%s.%s", path, key) : key,
						 psprintf("Keys allowed here: %s.", keys.data),
						 "unknown key \"%s\"", key);
		}
	}
}

/* Keys that must be there. */
void
PolicyRequireKeys(ParseCtx *ctx, JsonbContainer *obj, const char *path,
				  const char *const *required, int nrequired, const char *hint)
{
	int			i;

	for (i = 0; i < nrequired; i++)
		if (PolicyGetKey(obj, required[i]) == NULL)
			POLICY_ERROR(ctx, *path ? psprintf("%s.%s", path, required[i]) : required[i],
						 hint, "missing");
}

/* A finite number. */
Numeric
PolicyParseNumber(ParseCtx *ctx, JsonbValue *v, const char *path, const char *hint)
{
	if (v == NULL || v->type != jbvNumeric)
		POLICY_ERROR(ctx, path, hint, "expected a number, found %s",
					 v ? PolicyValueType(v) : "nothing");
	if (numeric_is_nan(v->val.numeric) || numeric_is_inf(v->val.numeric))
		POLICY_ERROR(ctx, path, hint, "the number must be finite");
	return v->val.numeric;
}

/* An array of at least min_items elements. */
JsonbContainer *
PolicyParseArray(ParseCtx *ctx, JsonbValue *v, const char *path, int min_items, const char *hint)
{
	if (v == NULL || !PolicyIsArray(v))
		POLICY_ERROR(ctx, path, hint, "expected an array, found %s",
					 v ? PolicyValueType(v) : "nothing");
	if (JsonContainerSize(v->val.binary.data) < min_items)
		POLICY_ERROR(ctx, path, hint, "expected at least %d element%s, found %d", min_items,
					 min_items == 1 ? "" : "s", JsonContainerSize(v->val.binary.data));
	return v->val.binary.data;
}

/* Remember an attribute the policy reads (once). */
static void
NoteAttribute(Policy *p, const char *name)
{
	int			i;

	for (i = 0; i < p->nattrs; i++)
		if (strcmp(p->attrs[i], name) == 0)
			return;
	p->attrs = p->nattrs == 0 ? palloc(sizeof(char *)) :
		repalloc(p->attrs, sizeof(char *) * (p->nattrs + 1));
	p->attrs[p->nattrs++] = pstrdup(name);
}

/* A metric name: one of MetricNames, or attr.NAME. */
MetricId
PolicyParseMetric(ParseCtx *ctx, JsonbValue *v, const char *path, char **attr)
{
	char	   *name;
	int			i;

	if (v == NULL || v->type != jbvString)
		POLICY_ERROR(ctx, path, "Name a metric as a string, e.g. \"amount_12m\".",
					 "expected a metric name, found %s", v ? PolicyValueType(v) : "nothing");
	name = PolicyString(v);
	*attr = NULL;
	if (strncmp(name, "attr.", 5) == 0 && name[5] != '\0')
	{
		*attr = pstrdup(name + 5);
		NoteAttribute(ctx->policy, *attr);
		return M_ATTR;
	}
	for (i = 0; i < M_ATTR; i++)
		if (strcmp(name, MetricNames[i]) == 0)
		{
			if (i == M_REVENUE_SHARE_12M)
				ctx->policy->reads_population = true;
			return (MetricId) i;
		}
	{
		StringInfoData known;

		initStringInfo(&known);
		for (i = 0; i < M_ATTR; i++)
			appendStringInfo(&known, "%s, ", MetricNames[i]);
		appendStringInfoString(&known, "attr.NAME");
		POLICY_ERROR(ctx, path, psprintf("Known metrics: %s.", known.data),
					 "unknown metric \"%s\"", name);
	}
	return M_NMETRICS;			/* not reached */
}

/* A path short enough for a message: its start, when it runs long. */
static const char *
PolicyPathStart(const char *path)
{
	if (strlen(path) <= 120)
		return path;
	return psprintf("%.*s...", pg_mbcliplen(path, strlen(path), 120), path);
}

/* A condition object: {"all": [...]}, {"any": [...]} or a comparison. */
static Cond *
ParseCond(ParseCtx *ctx, JsonbValue *v, const char *path, int depth)
{
	static const char *const cmp_keys[] = {"metric", "op", "value"};
	JsonbContainer *obj;
	JsonbValue *all,
			   *any,
			   *op;
	Cond	   *c = palloc0(sizeof(Cond));
	int			i;

	/*
	 * The one recursion of a policy: a nesting deeper than the stack allows
	 * names its place, as any other fault of the policy, rather than failing
	 * with 54001 and no field.  No fixed depth limit: a stored policy that
	 * loads today must load tomorrow, or every write would fail.
	 */
	if (stack_is_too_deep())
		POLICY_ERROR(ctx, PolicyPathStart(path),
					 "Nest \"all\" and \"any\" less deeply: a condition that deep is rarely what was meant.",
					 "conditions nested too deeply (%d levels)", depth);
	if (v == NULL || !PolicyIsObject(v))
		POLICY_ERROR(ctx, path,
					 "A condition is {\"all\": [...]}, {\"any\": [...]} or {\"metric\": ..., \"op\": ..., \"value\": ...}.",
					 "expected a condition object, found %s", v ? PolicyValueType(v) : "nothing");
	obj = v->val.binary.data;
	all = PolicyGetKey(obj, "all");
	any = PolicyGetKey(obj, "any");
	if (all || any)
	{
		JsonbValue *list = all ? all : any;
		const char *key = all ? "all" : "any";
		char	   *lpath = psprintf("%s.%s", path, key);

		if (JsonContainerSize(obj) != 1)
			POLICY_ERROR(ctx, path, "Nest \"all\" and \"any\" instead of putting them side by side.",
						 "a condition with \"%s\" must have no other key", key);
		if (!PolicyIsArray(list))
			POLICY_ERROR(ctx, lpath, "Give a list of conditions.",
						 "expected an array, found %s", PolicyValueType(list));
		c->kind = all ? COND_ALL : COND_ANY;
		c->nkids = JsonContainerSize(list->val.binary.data);
		c->kids = palloc(sizeof(Cond *) * Max(c->nkids, 1));
		for (i = 0; i < c->nkids; i++)
			c->kids[i] = ParseCond(ctx, getIthJsonbValueFromContainer(list->val.binary.data, i),
								   psprintf("%s[%d]", lpath, i), depth + 1);
		return c;
	}
	PolicyCheckKeys(ctx, obj, path, cmp_keys, lengthof(cmp_keys));
	c->kind = COND_CMP;
	c->metric = PolicyParseMetric(ctx, PolicyGetKey(obj, "metric"), psprintf("%s.metric", path), &c->attr);
	op = PolicyGetKey(obj, "op");
	if (op == NULL || op->type != jbvString)
		POLICY_ERROR(ctx, psprintf("%s.op", path), "Operators: >=, >, <=, <, =, <>.",
					 "expected an operator string, found %s", op ? PolicyValueType(op) : "nothing");
	for (i = 0; i < lengthof(OpNames); i++)
		if (strcmp(PolicyString(op), OpNames[i]) == 0)
			break;
	if (i == lengthof(OpNames))
		POLICY_ERROR(ctx, psprintf("%s.op", path), "Operators: >=, >, <=, <, =, <>.",
					 "unknown operator \"%s\"", PolicyString(op));
	c->op = (CmpOp) i;
	v = PolicyGetKey(obj, "value");
	if (v == NULL || v->type != jbvNumeric)
		POLICY_ERROR(ctx, psprintf("%s.value", path), "Compare with a JSON number, e.g. 100000.",
					 "expected a number, found %s", v ? PolicyValueType(v) : "nothing");
	if (numeric_is_nan(v->val.numeric) || numeric_is_inf(v->val.numeric))
		POLICY_ERROR(ctx, psprintf("%s.value", path), "Compare with a finite number.",
					 "the value must be finite");
	c->value = v->val.numeric;
	return c;
}

/* A grade name: a non-empty string. */
char *
PolicyParseGrade(ParseCtx *ctx, JsonbValue *v, const char *path)
{
	if (v == NULL || v->type != jbvString || v->val.string.len == 0)
		POLICY_ERROR(ctx, path, "Name the grade as a non-empty string, e.g. \"A\".",
					 "expected a grade name, found %s",
					 v ? (v->type == jbvString ? "an empty string" : PolicyValueType(v)) : "nothing");
	return PolicyString(v);
}

/* Index of a grade in the policy (the default ngrades), or -1. */
static int
GradeIndex(Policy *p, const char *grade)
{
	int			i;

	for (i = 0; i < p->ngrades; i++)
		if (strcmp(p->grades[i], grade) == 0)
			return i;
	return strcmp(p->default_grade, grade) == 0 ? p->ngrades : -1;
}

/*
 * Add the next grade in rank order (what gives it: "rule", "band",
 * "segment"); the default must be known already.
 */
void
PolicyAddGrade(ParseCtx *ctx, const char *grade, const char *path)
{
	Policy	   *p = ctx->policy;
	const char *what = p->kind == PK_RULES ? "rule" : p->kind == PK_SCORE ? "band" : "segment";

	if (GradeIndex(p, grade) >= 0 && GradeIndex(p, grade) < p->ngrades)
		POLICY_ERROR(ctx, path, p->kind == PK_RULES ?
					 "Each grade may appear once; combine its conditions with \"any\"." :
					 "Each grade may appear once.",
					 "grade \"%s\" appears twice", grade);
	if (strcmp(grade, p->default_grade) == 0)
		POLICY_ERROR(ctx, path, psprintf("The default grade is given when no %s matches; it needs no %s.",
										 what, what),
					 "grade \"%s\" is also the default", grade);
	p->grades = p->ngrades == 0 ? palloc(sizeof(char *)) :
		repalloc(p->grades, sizeof(char *) * (p->ngrades + 1));
	p->grades[p->ngrades++] = pstrdup(grade);
}

/* Parse an interval without letting interval_in's own error escape. */
static Interval *
ParseInterval(ParseCtx *ctx, const char *text, const char *path)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	Interval   *result = NULL;
	bool		ok = true;

	PG_TRY();
	{
		result = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(text),
													   ObjectIdGetDatum(InvalidOid),
													   Int32GetDatum(-1)));
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		ok = false;
	}
	PG_END_TRY();
	if (!ok || result->month < 0 || result->day < 0 || result->time < 0 ||
		(result->month == 0 && result->day == 0 && result->time == 0))
		POLICY_ERROR(ctx, path, "Give a positive interval such as \"7 days\" or \"1 month\".",
					 "\"%s\" is not a positive interval", text);
	return result;
}

/*
 * A follow-up interval is at most 100 years: then every follow-up crm_grade
 * computes from a moment it grades (CrmTimeInRange) is one timestamptz
 * holds.  Only this limit is used, as an interval.
 */
static Interval CadenceLimit = {.time = 0,.day = 0,.month = 100 * MONTHS_PER_YEAR};

static bool
CadenceOverLimit(Interval *cadence)
{
	return DatumGetInt32(DirectFunctionCall2(interval_cmp, IntervalPGetDatum(cadence),
											 IntervalPGetDatum(&CadenceLimit))) > 0;
}

/* "cadence": {"A": "7 days", ...}, one entry for every grade. */
static void
ParseCadence(ParseCtx *ctx, Policy *p, JsonbValue *v)
{
	JsonbContainer *obj;
	int			i;
	int			ngrades = p->ngrades + 1;

	if (v == NULL || !PolicyIsObject(v))
		POLICY_ERROR(ctx, "cadence", "Give the follow-up interval of every grade, e.g. {\"A\": \"7 days\", \"B\": \"14 days\"}.",
					 "expected an object, found %s", v ? PolicyValueType(v) : "nothing");
	obj = v->val.binary.data;
	p->cadence = palloc0(sizeof(Interval *) * ngrades);
	for (i = 0; i < ngrades; i++)
	{
		const char *grade = i < p->ngrades ? p->grades[i] : p->default_grade;
		char	   *path = psprintf("cadence.%s", grade);
		JsonbValue *iv = PolicyGetKey(obj, grade);

		if (iv == NULL)
			POLICY_ERROR(ctx, path, "Every grade, the default included, needs a follow-up interval.",
						 "missing");
		if (iv->type != jbvString)
			POLICY_ERROR(ctx, path, "Give an interval as a string, e.g. \"14 days\".",
						 "expected a string, found %s", PolicyValueType(iv));
		p->cadence[i] = ParseInterval(ctx, PolicyString(iv), path);
		/*
		 * One over the limit (a policy that was never checked) is read as the
		 * limit, as verify() reads it: a write never fails on a stored
		 * policy's cadence.  CheckCadenceBounds() knows it by this pointer.
		 */
		if (CadenceOverLimit(p->cadence[i]))
			p->cadence[i] = &CadenceLimit;
	}
	if (JsonContainerSize(obj) != ngrades)
	{
		JsonbIterator *it = JsonbIteratorInit(obj);
		JsonbValue	kv;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &kv, true)) != WJB_DONE)
			if (tok == WJB_KEY && GradeIndex(p, PolicyString(&kv)) < 0)
				POLICY_ERROR(ctx, psprintf("cadence.%s", PolicyString(&kv)),
							 "Cadence keys must be grades the policy gives.",
							 "no grade \"%s\" in this policy", PolicyString(&kv));
	}
}

/* "kind": "rules" with "default", "grades" and "cadence". */
static void
ParseRules(ParseCtx *ctx, Policy *p, JsonbContainer *root)
{
	static const char *const rule_keys[] = {"grade", "when"};
	JsonbValue *grades = PolicyGetKey(root, "grades");
	int			i,
				n;

	p->default_grade = PolicyParseGrade(ctx, PolicyGetKey(root, "default"), "default");
	if (grades == NULL || !PolicyIsArray(grades) || JsonContainerSize(grades->val.binary.data) == 0)
		POLICY_ERROR(ctx, "grades", "List the grades in order: [{\"grade\": \"A\", \"when\": {...}}, ...].",
					 "expected a non-empty array, found %s",
					 grades ? (PolicyIsArray(grades) ? "an empty array" : PolicyValueType(grades)) : "nothing");
	n = JsonContainerSize(grades->val.binary.data);
	p->when = palloc(sizeof(Cond *) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *rule = getIthJsonbValueFromContainer(grades->val.binary.data, i);
		char	   *path = psprintf("grades[%d]", i);

		if (!PolicyIsObject(rule))
			POLICY_ERROR(ctx, path, "Each rule is {\"grade\": \"A\", \"when\": {...}}.",
						 "expected an object, found %s", PolicyValueType(rule));
		PolicyCheckKeys(ctx, rule->val.binary.data, path, rule_keys, lengthof(rule_keys));
		PolicyAddGrade(ctx, PolicyParseGrade(ctx, PolicyGetKey(rule->val.binary.data, "grade"),
											 psprintf("%s.grade", path)),
					   psprintf("%s.grade", path));
		p->when[i] = ParseCond(ctx, PolicyGetKey(rule->val.binary.data, "when"),
							   psprintf("%s.when", path), 0);
	}
}

/*
 * Parse and validate a policy definition.  The result lives in a memory
 * context of its own, a child of the current one.
 */
Policy *
PolicyParse(Jsonb *definition, const char *name)
{
	static const char *const rules_keys[] = {"kind", "default", "grades", "cadence", "description"};
	static const char *const score_keys[] = {"kind", "default", "dimensions", "bands", "cadence", "description"};
	static const char *const rfm_keys[] = {"kind", "segments", "lapsed", "default", "cadence", "description"};
	ParseCtx	ctx = {name ? name : "(unnamed)", NULL};
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "crm_grade policy",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	Policy	   *p = palloc0(sizeof(Policy));
	JsonbValue *kind;
	char	   *kindname;
	JsonbContainer *root;

	p->cxt = cxt;
	p->name = pstrdup(ctx.name);
	ctx.policy = p;
	if (definition == NULL || JB_ROOT_IS_SCALAR(definition) || !JB_ROOT_IS_OBJECT(definition))
		POLICY_ERROR(&ctx, "$", "A policy is a JSON object such as {\"kind\": \"rules\", ...}.",
					 "expected an object");

	/*
	 * Work on a copy owned by the policy: parsed values (the comparison
	 * numbers) point into it, and it outlives the caller's datum.
	 */
	p->definition = palloc(VARSIZE(definition));
	memcpy(p->definition, definition, VARSIZE(definition));
	root = &p->definition->root;
	kind = PolicyGetKey(root, "kind");
	if (kind == NULL || kind->type != jbvString)
		POLICY_ERROR(&ctx, "kind", "Set \"kind\" to \"rules\", \"score\" or \"rfm\".",
					 "expected a string, found %s", kind ? PolicyValueType(kind) : "nothing");
	kindname = PolicyString(kind);
	if (strcmp(kindname, "rules") == 0)
	{
		p->kind = PK_RULES;
		PolicyCheckKeys(&ctx, root, "", rules_keys, lengthof(rules_keys));
		ParseRules(&ctx, p, root);
	}
	else if (strcmp(kindname, "score") == 0)
	{
		p->kind = PK_SCORE;
		PolicyCheckKeys(&ctx, root, "", score_keys, lengthof(score_keys));
		ScoreParse(&ctx, p, root);
	}
	else if (strcmp(kindname, "rfm") == 0)
	{
		p->kind = PK_RFM;
		p->reads_population = true;
		PolicyCheckKeys(&ctx, root, "", rfm_keys, lengthof(rfm_keys));
		RfmParse(&ctx, p, root);
	}
	else
		POLICY_ERROR(&ctx, "kind", "Known kinds: rules, score, rfm.", "unknown kind \"%s\"", kindname);
	ParseCadence(&ctx, p, PolicyGetKey(root, "cadence"));
	MemoryContextSwitchTo(oldcxt);
	return p;
}

/* Keep a parsed policy for the backend's life (until PolicyFree). */
void
PolicyKeep(Policy *policy)
{
	MemoryContextSetParent(policy->cxt, CacheMemoryContext);
}

void
PolicyFree(Policy *policy)
{
	MemoryContextDelete(policy->cxt);
}

static bool
Compare(int cmp, CmpOp op)
{
	switch (op)
	{
		case OP_GE:
			return cmp >= 0;
		case OP_GT:
			return cmp > 0;
		case OP_LE:
			return cmp <= 0;
		case OP_LT:
			return cmp < 0;
		case OP_EQ:
			return cmp == 0;
		case OP_NE:
			return cmp != 0;
	}
	return false;
}

/* Does a condition hold?  A comparison with a NULL metric is false. */
static bool
EvalCond(Cond *c, CustomerState *st, TimestampTz now, const Population *pop)
{
	Numeric		value;
	int			i;

	switch (c->kind)
	{
		case COND_ALL:
			for (i = 0; i < c->nkids; i++)
				if (!EvalCond(c->kids[i], st, now, pop))
					return false;
			return true;
		case COND_ANY:
			for (i = 0; i < c->nkids; i++)
				if (EvalCond(c->kids[i], st, now, pop))
					return true;
			return false;
		case COND_CMP:
			if (!MetricValue(st, c->metric, c->attr, now, pop, &value))
				return false;
			return Compare(NumericCompare(value, c->value), c->op);
	}
	return false;
}

/*
 * For a comparison on a day count (tenure_days, days_since_last_order), the
 * first moment after now at which its truth value flips: the day count k
 * rises by one each day, and k <op> v can only flip at floor(v), floor(v)+1
 * or ceil(v).
 */
static void
CondValidUntil(Cond *c, CustomerState *st, TimestampTz now, TimestampTz *valid_until)
{
	TimestampTz base;
	int64		k0,
				cand[3];
	bool		truth0;
	double		v;
	int			i;

	if (c->kind != COND_CMP)
	{
		for (i = 0; i < c->nkids; i++)
			CondValidUntil(c->kids[i], st, now, valid_until);
		return;
	}
	if (!MetricDayBase(st, c->metric, &base))
		return;
	v = DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
										   NumericGetDatum(c->value)));
	if (v > 1e9 || v < -1e9)
		return;					/* never crossed within timestamp range */
	k0 = CrmDaysBetween(base, now);
	truth0 = Compare(NumericCompare(NumericFromInt64(k0), c->value), c->op);
	cand[0] = (int64) floor(v);
	cand[1] = (int64) floor(v) + 1;
	cand[2] = (int64) ceil(v);
	for (i = 0; i < 3; i++)
	{
		TimestampTz at;

		if (cand[i] <= k0 ||
			Compare(NumericCompare(NumericFromInt64(cand[i]), c->value), c->op) == truth0)
			continue;
		/* a flip beyond timestamptz's range never comes (the day count may be 1e9) */
		if (pg_mul_s64_overflow(cand[i], USECS_PER_DAY, &at) || pg_add_s64_overflow(base, at, &at) ||
			!IS_VALID_TIMESTAMP(at))
			continue;
		if (at < *valid_until)
			*valid_until = at;
	}
}

/* The first rule that holds (ngrades: none), and when time could change that. */
static int
RulesGrade(Policy *p, CustomerState *st, TimestampTz now, TimestampTz *valid_until)
{
	int			i;
	int			rank = p->ngrades;

	for (i = 0; i < p->ngrades; i++)
	{
		if (EvalCond(p->when[i], st, now, p->population))
		{
			rank = i;
			break;
		}
	}
	for (i = 0; i < p->ngrades; i++)
		CondValidUntil(p->when[i], st, now, valid_until);
	return rank;
}

/*
 * Grade a customer: set grade, grade_rank, score and policy, and lower
 * *valid_until to the first moment time alone could change the grade.
 */
void
PolicyGrade(Policy *policy, CustomerState *st, TimestampTz now, TimestampTz *valid_until)
{
	Numeric		score = NULL;
	int			rank;

	switch (policy->kind)
	{
		case PK_SCORE:
			rank = ScoreGrade(policy, st, now, valid_until, &score);
			break;
		case PK_RFM:
			rank = RfmGrade(policy, st, &score);
			break;
		default:
			rank = RulesGrade(policy, st, now, valid_until);
			break;
	}
	StateSet(st, SC_GRADE, CStringGetTextDatum(rank < policy->ngrades ?
											   policy->grades[rank] : policy->default_grade));
	StateSet(st, SC_GRADE_RANK, Int32GetDatum(rank + 1));
	if (score)
		StateSet(st, SC_SCORE, NumericGetDatum(score));
	else
		StateSetNull(st, SC_SCORE);
	StateSet(st, SC_POLICY, CStringGetTextDatum(policy->name));
}

/* The grade a policy gives at a moment, without touching the state. */
const char *
PolicyGradeOf(Policy *policy, CustomerState *st, TimestampTz now, int *rank)
{
	CustomerState copy = *st;
	TimestampTz ignored = DT_NOEND;

	PolicyGrade(policy, &copy, now, &ignored);
	*rank = DatumGetInt32(copy.values[SC_GRADE_RANK]);
	return TextDatumGetCString(copy.values[SC_GRADE]);
}

/* The rank (1 = first) of a grade in the policy; 0 if it gives none such. */
int
PolicyGradeRank(Policy *policy, const char *grade)
{
	return grade ? GradeIndex(policy, grade) + 1 : 0;
}

/* The grade of a rank (1 = first, the default last); NULL past the last. */
const char *
PolicyGradeName(Policy *policy, int rank)
{
	if (rank < 1 || rank > policy->ngrades + 1)
		return NULL;
	return rank <= policy->ngrades ? policy->grades[rank - 1] : policy->default_grade;
}

bool
PolicyReadsPopulation(Policy *policy)
{
	return policy->reads_population;
}

/* Evaluate with these population figures (kept by the caller). */
void
PolicySetPopulation(Policy *policy, const Population *pop)
{
	policy->population = pop;
}

const Population *
PolicyPopulation(Policy *policy)
{
	return policy->population;
}

/* explain(): the rule that matched, or null and the default. */
static void
RulesExplain(Policy *p, CustomerState *st, TimestampTz at, JsonbParseState **ps)
{
	JsonbValue *grades = PolicyGetKey(&p->definition->root, "grades");
	int			i;

	JbKey(ps, "rule");
	for (i = 0; i < p->ngrades; i++)
	{
		if (EvalCond(p->when[i], st, at, p->population))
		{
			JsonbValue *rule = getIthJsonbValueFromContainer(grades->val.binary.data, i);

			JbBeginObject(ps);
			JbKey(ps, "index");
			JbInt(ps, i);
			JbKey(ps, "grade");
			JbString(ps, p->grades[i]);
			JbKey(ps, "when");
			JbJsonb(ps, PolicyGetKey(rule->val.binary.data, "when"));
			JbEndObject(ps);
			return;
		}
	}
	JbString(ps, NULL);
	JbKey(ps, "default");
	JbString(ps, p->default_grade);
}

/* Every metric's value at a moment, and the attributes the policy reads. */
static void
MetricsExplain(Policy *p, CustomerState *st, TimestampTz at, JsonbParseState **ps)
{
	int			i;

	JbKey(ps, "metrics");
	JbBeginObject(ps);
	for (i = 0; i < M_ATTR; i++)
	{
		Numeric		v;

		JbKey(ps, MetricNames[i]);
		JbNumeric(ps, MetricValue(st, (MetricId) i, NULL, at, p->population, &v) ? v : NULL);
	}
	for (i = 0; i < p->nattrs; i++)
	{
		Numeric		v;

		JbKey(ps, psprintf("attr.%s", p->attrs[i]));
		JbNumeric(ps, MetricAttribute(st, p->attrs[i], &v, NULL) ? v : NULL);
	}
	JbKey(ps, "first_order_at");
	JbTimestamp(ps, STATE_TS(st, SC_FIRST_ORDER_AT), STATE_NULL(st, SC_FIRST_ORDER_AT));
	JbKey(ps, "last_order_at");
	JbTimestamp(ps, STATE_TS(st, SC_LAST_ORDER_AT), STATE_NULL(st, SC_LAST_ORDER_AT));
	JbKey(ps, "last_contact_at");
	JbTimestamp(ps, STATE_TS(st, SC_LAST_CONTACT_AT), STATE_NULL(st, SC_LAST_CONTACT_AT));
	JbEndObject(ps);
}

/*
 * The grading part of explain(): the policy, the metrics at the moment of
 * the evaluation, and what the kind made of them (keys pushed into the
 * caller's open object).
 */
void
PolicyExplain(Policy *p, CustomerState *st, TimestampTz at, JsonbParseState **ps)
{
	static const char *const kinds[] = {"rules", "score", "rfm"};

	JbKey(ps, "policy");
	JbString(ps, p->name);
	JbKey(ps, "kind");
	JbString(ps, kinds[p->kind]);
	MetricsExplain(p, st, at, ps);
	switch (p->kind)
	{
		case PK_SCORE:
			ScoreExplain(p, st, at, ps);
			break;
		case PK_RFM:
			RfmExplain(p, st, ps);
			break;
		default:
			RulesExplain(p, st, at, ps);
			break;
	}
}

/*
 * A longer cadence is refused when a policy is stored or checked, not when
 * a stored one is loaded: a policy stored before 0.10 (or with
 * crm_grade.policy_check off) keeps grading, its cadence read as the limit
 * (ParseCadence() put the limit in its place), rather than failing every
 * write.
 */
static void
CheckCadenceBounds(Policy *p, const char *name)
{
	ParseCtx	ctx = {name, p};
	JsonbContainer *cadence = PolicyGetKey(&p->definition->root, "cadence")->val.binary.data;
	int			i;

	for (i = 0; i <= p->ngrades; i++)
	{
		const char *grade = i < p->ngrades ? p->grades[i] : p->default_grade;

		if (p->cadence[i] == &CadenceLimit)
			POLICY_ERROR(&ctx, psprintf("cadence.%s", grade),
						 "A follow-up interval is at most 100 years, so that every follow-up crm_grade computes is a moment timestamptz can hold.",
						 "\"%s\" is longer than 100 years", PolicyString(PolicyGetKey(cadence, grade)));
	}
}

/* SQL: crm_grade.check_policy(definition jsonb, name text) */
Datum
crm_grade_check_policy(PG_FUNCTION_ARGS)
{
	Jsonb	   *definition = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	char	   *name = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	Policy	   *p;

	if (definition == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("invalid policy \"%s\": the definition is NULL", name ? name : "(unnamed)"),
				 errhint("A policy is a JSON object such as {\"kind\": \"rules\", ...}.")));
	p = PolicyParse(definition, name);
	CheckCadenceBounds(p, name ? name : "(unnamed)");
	MemoryContextDelete(p->cxt);
	PG_RETURN_VOID();
}

/*
 * SQL: crm_grade._invalidate() RETURNS trigger, AFTER ... FOR EACH
 * STATEMENT on crm_grade.policy, crm_grade.active_policy, crm_grade.source
 * and crm_grade.holiday: tell every backend (this one at its next command, the
 * others at commit) to reload what it cached of that table.
 */
Datum
crm_grade_policy_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crm_grade._invalidate() was not called by the trigger manager")));
	CacheInvalidateRelcache(td->tg_relation);
	return PointerGetDatum(NULL);
}

/*
 * The follow-up interval of a grade (at most 100 years: ParseCadence());
 * NULL when the policy gives none.
 */
Interval *
PolicyCadence(Policy *policy, const char *grade)
{
	int			i = GradeIndex(policy, grade);

	return i < 0 ? NULL : policy->cadence[i];
}

/*
 * SQL: crm_grade._score(definition jsonb, metrics jsonb) RETURNS numeric:
 * the score a score policy gives to metrics named in a jsonb object (attr.NAME
 * keys for attributes; a missing key is NULL).  For property tests.
 */
Datum
crm_grade_score_of(PG_FUNCTION_ARGS)
{
	Policy	   *p = PolicyParse(PG_GETARG_JSONB_P(0), "_score");
	Numeric		score;

	if (p->kind != PK_SCORE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("crm_grade._score() takes a score policy"),
				 errhint("Give a definition with \"kind\": \"score\".")));
	score = ScoreOfMetrics(p, PG_GETARG_JSONB_P(1));
	PG_RETURN_NUMERIC(score);
}

const char *
PolicyName(Policy *policy)
{
	return policy->name;
}

/* The distinct attributes (attr.NAME) the policy reads. */
int
PolicyAttributes(Policy *policy, char ***names)
{
	*names = policy->attrs;
	return policy->nattrs;
}

/*
 * The active policy, parsed, kept until crm_grade.policy or
 * crm_grade.active_policy changes: their statement triggers send a relcache
 * invalidation (crm_grade._invalidate), which reaches this backend at the
 * next command of the changing transaction or when it commits.
 */
static Policy *active_policy = NULL;
static Policy *retired_policy = NULL;
static bool active_policy_stale = true;
static Oid	policy_relids[3];

static void
ForgetActivePolicy(Datum arg, Oid relid)
{
	/* freeing waits for the next load: a caller may be using it now */
	if (relid == InvalidOid || relid == policy_relids[0] || relid == policy_relids[1] ||
		relid == policy_relids[2])
		active_policy_stale = true;
}

/* Read the active policy again at the next load (new population figures). */
void
PolicyForgetActive(void)
{
	active_policy_stale = true;
}

/*
 * Load the active policy, with the population figures when it reads them
 * (crm_grade.population invalidates it too).  Callers hold the locks on the
 * customers they grade, so a policy change that committed while they waited is taken:
 * pending invalidations are read first, and the policy is read with the
 * latest snapshot, not the transaction's, so that a REPEATABLE READ writer
 * does not grade by a policy that use_policy() has already replaced.
 * Must run inside an SPI connection, as crm_grade's owner.
 */
Policy *
PolicyLoadActive(void)
{
	static bool callback_registered = false;
	static SPIPlanPtr plan = NULL;
	Oid			relids[3];
	bool		isnull;
	Datum		name,
				definition;
	Policy	   *p;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetActivePolicy, (Datum) 0);
		callback_registered = true;
	}
	AcceptInvalidationMessages();
	relids[0] = CrmRelid("policy");
	relids[1] = CrmRelid("active_policy");
	relids[2] = CrmRelid("population");
	if (active_policy && !active_policy_stale &&
		relids[0] == policy_relids[0] && relids[1] == policy_relids[1] &&
		relids[2] == policy_relids[2])
		return active_policy;
	if (plan == NULL)
	{
		plan = CrmSpiPrepareKept("SELECT p.name, p.definition FROM crm_grade.policy p "
								 "WHERE p.name = COALESCE((SELECT a.name FROM crm_grade.active_policy a), 'abc')",
								 0, NULL);
	}
	if (CrmSpiExecuteSnapshot(plan, NULL, NULL, GetLatestSnapshot(), true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the active policy");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the active crm_grade policy does not exist"),
				 errhint("Choose a stored policy with SELECT crm_grade.use_policy('abc').")));
	name = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	definition = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	p = PolicyParse(DatumGetJsonbP(definition), TextDatumGetCString(name));
	SPI_freetuptable(SPI_tuptable);
	if (p->reads_population)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(p->cxt);

		p->population = PopulationRead(GetLatestSnapshot());
		MemoryContextSwitchTo(oldcxt);
	}
	PolicyKeep(p);

	/*
	 * The policy it replaces may still be in use by a caller further up the
	 * stack (a nested trigger): retire it, and free the one retired before.
	 */
	if (retired_policy)
		PolicyFree(retired_policy);
	retired_policy = active_policy;
	active_policy = p;
	policy_relids[0] = relids[0];
	policy_relids[1] = relids[1];
	policy_relids[2] = relids[2];
	active_policy_stale = false;
	return p;
}
