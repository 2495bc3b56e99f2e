/*-------------------------------------------------------------------------
 *
 * policy_score.c
 *		Score policies: weighted points over dimensions of metrics, and grade
 *		bands on the total (SPEC section 5).
 *
 * points(x) is piecewise linear between the given points and flat beyond
 * the ends; a NULL metric scores 0.  A dimension's score is the weighted
 * sum of its metrics' points, the total the weighted sum of the dimensions'
 * (weights sum to 1 at both levels), and the stored score is the total
 * rounded to 2 decimals, within 0..100; bands compare that.  The numeric
 * operations run in the order verify() writes them in SQL, so that both
 * give the same digits.
 *
 * Day counts rise between evaluations and move the score with them.  The
 * stored score is the one at graded_at; the grade never goes stale:
 * valid_until is set no later than the first moment the score could reach
 * another band, from the steepest slope of the points still ahead of each
 * day count (a Lipschitz bound), so regrade() looks again in time.
 *
 *-------------------------------------------------------------------------
 */
#include "policy_int.h"
#include "jsonb_build.h"

#include <math.h>

#include "utils/builtins.h"
#include "utils/timestamp.h"

typedef struct ScoreMetric
{
	char	   *name;			/* as written: amount_12m, attr.NAME */
	MetricId	metric;
	char	   *attr;
	Numeric		weight;
	int			npoints;
	Numeric    *x;
	Numeric    *y;
	/* as doubles, for valid_until's bound only */
	double		weight_d;
	double	   *slope_from;		/* [i]: the steepest |slope| of segments i.. */
} ScoreMetric;

typedef struct ScoreDim
{
	char	   *name;
	Numeric		weight;
	double		weight_d;
	int			nmetrics;
	ScoreMetric *metrics;
} ScoreDim;

struct ScorePolicy
{
	int			ndims;
	ScoreDim   *dims;
	Numeric    *band_min;		/* [ngrades], strictly decreasing */
	double	   *band_min_d;
};

/* How a score reads a metric: from a customer's state, or from jsonb. */
typedef struct MetricSource
{
	CustomerState *st;
	TimestampTz at;
	const Population *pop;
	Jsonb	   *metrics;
} MetricSource;

static Numeric
NumConst(const char *s)
{
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

static char *
NumText(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

/* A weight: a positive number. */
static Numeric
ParseWeight(ParseCtx *ctx, JsonbValue *v, const char *path)
{
	Numeric		w = PolicyParseNumber(ctx, v, path, "Give a weight as a positive number, e.g. 0.3.");

	if (NumericCompare(w, NumericFromInt64(0)) <= 0)
		POLICY_ERROR(ctx, path, "Give a weight as a positive number, e.g. 0.3.",
					 "the weight must be positive, not %s", NumText(w));
	return w;
}

/* Weights must add up to 1, within 1e-9 (whose: "the dimensions"). */
static void
CheckWeightSum(ParseCtx *ctx, Numeric sum, const char *path, const char *whose)
{
	Numeric		diff = NumSub(sum, NumericFromInt64(1));

	diff = DatumGetNumeric(DirectFunctionCall1(numeric_abs, NumericGetDatum(diff)));
	if (NumericCompare(diff, NumConst("0.000000001")) > 0)
		POLICY_ERROR(ctx, path, psprintf("The weights of %s must add up to 1.", whose),
					 "the weights of %s add up to %s, not 1", whose, NumText(sum));
}

/* "points": [[x, y], ...], x strictly increasing, y within 0..100. */
static void
ParsePoints(ParseCtx *ctx, ScoreMetric *m, JsonbValue *v, const char *path)
{
	static const char *hint = "Give points as [[x, y], ...] with x increasing and y from 0 to 100, e.g. [[0, 0], [100000, 60], [500000, 100]].";
	JsonbContainer *arr = PolicyParseArray(ctx, v, path, 2, hint);
	int			i;

	m->npoints = JsonContainerSize(arr);
	m->x = palloc(sizeof(Numeric) * m->npoints);
	m->y = palloc(sizeof(Numeric) * m->npoints);
	for (i = 0; i < m->npoints; i++)
	{
		JsonbValue *pt = getIthJsonbValueFromContainer(arr, i);
		char	   *ppath = psprintf("%s[%d]", path, i);

		if (!PolicyIsArray(pt) || JsonContainerSize(pt->val.binary.data) != 2)
			POLICY_ERROR(ctx, ppath, hint, "expected a pair [x, y], found %s",
						 PolicyIsArray(pt) ? psprintf("an array of %d", JsonContainerSize(pt->val.binary.data)) :
						 PolicyValueType(pt));
		m->x[i] = PolicyParseNumber(ctx, getIthJsonbValueFromContainer(pt->val.binary.data, 0),
									psprintf("%s[0]", ppath), hint);
		m->y[i] = PolicyParseNumber(ctx, getIthJsonbValueFromContainer(pt->val.binary.data, 1),
									psprintf("%s[1]", ppath), hint);
		if (i > 0 && NumericCompare(m->x[i], m->x[i - 1]) <= 0)
			POLICY_ERROR(ctx, ppath, hint, "x %s is not greater than the x before it, %s",
						 NumText(m->x[i]), NumText(m->x[i - 1]));
		if (NumericCompare(m->y[i], NumericFromInt64(0)) < 0 ||
			NumericCompare(m->y[i], NumericFromInt64(100)) > 0)
			POLICY_ERROR(ctx, psprintf("%s[1]", ppath), hint, "points must lie within 0..100, not %s",
						 NumText(m->y[i]));
	}
	/* from the last segment back: the steepest slope from segment i on */
	m->slope_from = palloc0(sizeof(double) * m->npoints);
	for (i = m->npoints - 2; i >= 0; i--)
		m->slope_from[i] = Max(m->slope_from[i + 1],
							   fabs(NumericToDouble(m->y[i + 1]) - NumericToDouble(m->y[i])) /
							   (NumericToDouble(m->x[i + 1]) - NumericToDouble(m->x[i])));
}

/* One metric of a dimension: {"metric": ..., "weight": ..., "points": ...}. */
static void
ParseScoreMetric(ParseCtx *ctx, ScoreMetric *m, JsonbValue *v, const char *path)
{
	static const char *const keys[] = {"metric", "weight", "points"};
	JsonbContainer *obj;

	if (!PolicyIsObject(v))
		POLICY_ERROR(ctx, path, "Each metric is {\"metric\": \"amount_12m\", \"weight\": 1, \"points\": [[0, 0], [100000, 100]]}.",
					 "expected an object, found %s", PolicyValueType(v));
	obj = v->val.binary.data;
	PolicyCheckKeys(ctx, obj, path, keys, lengthof(keys));
	PolicyRequireKeys(ctx, obj, path, keys, lengthof(keys),
					  "Each metric is {\"metric\": \"amount_12m\", \"weight\": 1, \"points\": [[0, 0], [100000, 100]]}.");
	m->metric = PolicyParseMetric(ctx, PolicyGetKey(obj, "metric"), psprintf("%s.metric", path), &m->attr);
	m->name = PolicyString(PolicyGetKey(obj, "metric"));
	m->weight = ParseWeight(ctx, PolicyGetKey(obj, "weight"), psprintf("%s.weight", path));
	m->weight_d = NumericToDouble(m->weight);
	ParsePoints(ctx, m, PolicyGetKey(obj, "points"), psprintf("%s.points", path));
}

/* One dimension: {"name": ..., "weight": ..., "metrics": [...]}. */
static void
ParseDimension(ParseCtx *ctx, ScorePolicy *sp, int d, JsonbValue *v, const char *path)
{
	static const char *const keys[] = {"name", "weight", "metrics", "description"};
	static const char *hint = "Each dimension is {\"name\": \"financial\", \"weight\": 0.3, \"metrics\": [...]}.";
	ScoreDim   *dim = &sp->dims[d];
	JsonbContainer *obj;
	JsonbContainer *metrics;
	JsonbValue *name;
	Numeric		sum = NumericFromInt64(0);
	int			i;

	if (!PolicyIsObject(v))
		POLICY_ERROR(ctx, path, hint, "expected an object, found %s", PolicyValueType(v));
	obj = v->val.binary.data;
	PolicyCheckKeys(ctx, obj, path, keys, lengthof(keys));
	PolicyRequireKeys(ctx, obj, path, keys, 3, hint);
	name = PolicyGetKey(obj, "name");
	if (name->type != jbvString || name->val.string.len == 0)
		POLICY_ERROR(ctx, psprintf("%s.name", path), hint, "expected a non-empty string, found %s",
					 name->type == jbvString ? "an empty string" : PolicyValueType(name));
	dim->name = PolicyString(name);
	for (i = 0; i < d; i++)
		if (strcmp(sp->dims[i].name, dim->name) == 0)
			POLICY_ERROR(ctx, psprintf("%s.name", path), "Give each dimension its own name.",
						 "dimension \"%s\" appears twice", dim->name);
	dim->weight = ParseWeight(ctx, PolicyGetKey(obj, "weight"), psprintf("%s.weight", path));
	dim->weight_d = NumericToDouble(dim->weight);
	metrics = PolicyParseArray(ctx, PolicyGetKey(obj, "metrics"), psprintf("%s.metrics", path), 1,
							   "List the dimension's metrics: [{\"metric\": ..., \"weight\": ..., \"points\": ...}, ...].");
	dim->nmetrics = JsonContainerSize(metrics);
	dim->metrics = palloc0(sizeof(ScoreMetric) * dim->nmetrics);
	for (i = 0; i < dim->nmetrics; i++)
	{
		ParseScoreMetric(ctx, &dim->metrics[i], getIthJsonbValueFromContainer(metrics, i),
						 psprintf("%s.metrics[%d]", path, i));
		sum = NumAdd(sum, dim->metrics[i].weight);
	}
	CheckWeightSum(ctx, sum, psprintf("%s.metrics", path), "the dimension's metrics");
}

/* "bands": [{"grade": ..., "min": ...}, ...], from the highest min down. */
static void
ParseBands(ParseCtx *ctx, Policy *p, ScorePolicy *sp, JsonbValue *v)
{
	static const char *const keys[] = {"grade", "min"};
	static const char *hint = "List the bands from the highest min down: [{\"grade\": \"core\", \"min\": 80}, {\"grade\": \"important\", \"min\": 60}].";
	JsonbContainer *bands = PolicyParseArray(ctx, v, "bands", 1, hint);
	int			n = JsonContainerSize(bands);
	int			i;

	sp->band_min = palloc(sizeof(Numeric) * n);
	sp->band_min_d = palloc(sizeof(double) * n);
	for (i = 0; i < n; i++)
	{
		JsonbValue *band = getIthJsonbValueFromContainer(bands, i);
		char	   *path = psprintf("bands[%d]", i);
		Numeric		min;

		if (!PolicyIsObject(band))
			POLICY_ERROR(ctx, path, hint, "expected an object, found %s", PolicyValueType(band));
		PolicyCheckKeys(ctx, band->val.binary.data, path, keys, lengthof(keys));
		PolicyRequireKeys(ctx, band->val.binary.data, path, keys, lengthof(keys), hint);
		PolicyAddGrade(ctx, PolicyParseGrade(ctx, PolicyGetKey(band->val.binary.data, "grade"),
											 psprintf("%s.grade", path)),
					   psprintf("%s.grade", path));
		min = PolicyParseNumber(ctx, PolicyGetKey(band->val.binary.data, "min"),
								psprintf("%s.min", path), hint);
		if (NumericCompare(min, NumericFromInt64(0)) < 0 ||
			NumericCompare(min, NumericFromInt64(100)) > 0)
			POLICY_ERROR(ctx, psprintf("%s.min", path), hint, "a score lies within 0..100, not %s",
						 NumText(min));
		if (i > 0 && NumericCompare(min, sp->band_min[i - 1]) >= 0)
			POLICY_ERROR(ctx, psprintf("%s.min", path), hint,
						 "%s is not below the band before's min %s (bands may not overlap)",
						 NumText(min), NumText(sp->band_min[i - 1]));
		sp->band_min[i] = min;
		sp->band_min_d[i] = NumericToDouble(min);
	}
}

/* "kind": "score" with "default", "dimensions", "bands" and "cadence". */
void
ScoreParse(ParseCtx *ctx, Policy *p, JsonbContainer *root)
{
	ScorePolicy *sp = palloc0(sizeof(ScorePolicy));
	JsonbContainer *dims;
	Numeric		sum = NumericFromInt64(0);
	int			i;

	p->score = sp;
	p->default_grade = PolicyParseGrade(ctx, PolicyGetKey(root, "default"), "default");
	dims = PolicyParseArray(ctx, PolicyGetKey(root, "dimensions"), "dimensions", 1,
							"List the dimensions: [{\"name\": \"financial\", \"weight\": 0.3, \"metrics\": [...]}, ...].");
	sp->ndims = JsonContainerSize(dims);
	sp->dims = palloc0(sizeof(ScoreDim) * sp->ndims);
	for (i = 0; i < sp->ndims; i++)
	{
		ParseDimension(ctx, sp, i, getIthJsonbValueFromContainer(dims, i), psprintf("dimensions[%d]", i));
		sum = NumAdd(sum, sp->dims[i].weight);
	}
	CheckWeightSum(ctx, sum, "dimensions", "the dimensions");
	ParseBands(ctx, p, sp, PolicyGetKey(root, "bands"));
}

/* A metric's value from where the score reads it; false for NULL. */
static bool
ReadMetric(MetricSource *src, ScoreMetric *m, Numeric *v)
{
	JsonbValue *jv;

	if (src->st)
		return MetricValue(src->st, m->metric, m->attr, src->at, src->pop, v);
	jv = PolicyGetKey(&src->metrics->root, m->name);
	if (jv == NULL || jv->type != jbvNumeric)
		return false;
	*v = jv->val.numeric;
	return true;
}

/* points(x): straight lines between the points, flat beyond the ends. */
static Numeric
PointsAt(ScoreMetric *m, Numeric x)
{
	int			i;

	if (NumericCompare(x, m->x[0]) <= 0)
		return m->y[0];
	for (i = 0; i < m->npoints - 1; i++)
		if (NumericCompare(x, m->x[i + 1]) < 0)
			return NumAdd(m->y[i], NumDiv(NumMul(NumSub(m->y[i + 1], m->y[i]), NumSub(x, m->x[i])),
										  NumSub(m->x[i + 1], m->x[i])));
	return m->y[m->npoints - 1];
}

static Numeric
MetricPoints(MetricSource *src, ScoreMetric *m)
{
	Numeric		v;

	return ReadMetric(src, m, &v) ? PointsAt(m, v) : NumericFromInt64(0);
}

static Numeric
DimensionScore(MetricSource *src, ScoreDim *dim)
{
	Numeric		sum = NumericFromInt64(0);
	int			i;

	for (i = 0; i < dim->nmetrics; i++)
		sum = NumAdd(sum, NumMul(dim->metrics[i].weight, MetricPoints(src, &dim->metrics[i])));
	return sum;
}

static Numeric
Total(ScorePolicy *sp, MetricSource *src)
{
	Numeric		sum = NumericFromInt64(0);
	int			d;

	for (d = 0; d < sp->ndims; d++)
		sum = NumAdd(sum, NumMul(sp->dims[d].weight, DimensionScore(src, &sp->dims[d])));
	return sum;
}

/* The stored score: the total rounded to 2 decimals, within 0..100. */
static Numeric
Rounded(Numeric total)
{
	Numeric		r = DatumGetNumeric(DirectFunctionCall2(numeric_round, NumericGetDatum(total),
														Int32GetDatum(2)));

	if (NumericCompare(r, NumericFromInt64(0)) < 0)
		return NumericFromInt64(0);
	if (NumericCompare(r, NumericFromInt64(100)) > 0)
		return NumericFromInt64(100);
	return r;
}

static int
BandRank(Policy *p, Numeric score)
{
	int			i;

	for (i = 0; i < p->ngrades; i++)
		if (NumericCompare(score, p->score->band_min[i]) >= 0)
			return i;
	return p->ngrades;
}

/*
 * Lower *valid_until to a moment no later than the first at which the
 * rising day counts could carry the rounded score into another band.  Over
 * n days each day count rises by at most n, so the total moves by at most
 * n times the sum of weight x steepest slope ahead.
 */
static void
ScoreValidUntil(Policy *p, CustomerState *st, TimestampTz now, Numeric total, int rank,
				TimestampTz *valid_until)
{
	ScorePolicy *sp = p->score;
	double		rate = 0;
	double		t;
	double		upper = rank > 0 ? sp->band_min_d[rank - 1] - 0.005 : INFINITY;
	double		lower = rank < p->ngrades ? sp->band_min_d[rank] - 0.005 : -INFINITY;
	double		margin;
	TimestampTz next_tick = DT_NOEND;
	int			d,
				i,
				j;

	for (d = 0; d < sp->ndims; d++)
	{
		for (i = 0; i < sp->dims[d].nmetrics; i++)
		{
			ScoreMetric *m = &sp->dims[d].metrics[i];
			TimestampTz base;
			int64		k;
			double		slope;

			if (!MetricIsDayCount(m->metric) || !MetricDayBase(st, m->metric, &base))
				continue;		/* a NULL day count stays NULL until a write */
			k = CrmDaysBetween(base, now);
			/* the first segment still ahead: its end lies beyond k */
			for (j = 0; j < m->npoints - 1; j++)
				if (NumericCompare(m->x[j + 1], NumericFromInt64(k)) > 0)
					break;
			slope = m->slope_from[j];
			if (slope == 0)
				continue;
			rate += sp->dims[d].weight_d * m->weight_d * slope;
			next_tick = Min(next_tick, base + (k + 1) * USECS_PER_DAY);
		}
	}
	if (rate <= 0)
		return;
	t = NumericToDouble(total);
	/* (1e-6 absorbs the doubles' rounding: the scores are at most 100) */
	margin = Min(upper - t, t - lower) - 1e-6;
	if (margin >= rate)
	{
		double		n = floor(margin / rate);

		if (n > 1e6)
			return;				/* not within this timestamp range */
		StateLowerValidUntil(valid_until, now + (int64) n * USECS_PER_DAY, now);
	}
	else
		StateLowerValidUntil(valid_until, next_tick, now);
}

/* Grade by score: the band's rank (ngrades: the default). */
int
ScoreGrade(Policy *p, CustomerState *st, TimestampTz now, TimestampTz *valid_until, Numeric *score)
{
	MetricSource src = {st, now, p->population, NULL};
	Numeric		total = Total(p->score, &src);
	int			rank;

	*score = Rounded(total);
	rank = BandRank(p, *score);
	ScoreValidUntil(p, st, now, total, rank, valid_until);
	return rank;
}

/* The score of metrics given as a jsonb object (crm_grade._score). */
Numeric
ScoreOfMetrics(Policy *p, Jsonb *metrics)
{
	MetricSource src = {NULL, 0, NULL, metrics};

	if (!JB_ROOT_IS_OBJECT(metrics) || JB_ROOT_IS_SCALAR(metrics))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metrics must be a JSON object"),
				 errhint("Give {\"amount_12m\": 120000, \"attr.referral\": 60, ...}.")));
	return Rounded(Total(p->score, &src));
}

/* explain(): each dimension's and metric's points, the total and the band. */
void
ScoreExplain(Policy *p, CustomerState *st, TimestampTz at, JsonbParseState **ps)
{
	ScorePolicy *sp = p->score;
	MetricSource src = {st, at, p->population, NULL};
	Numeric		total = Total(sp, &src);
	Numeric		score = Rounded(total);
	int			rank = BandRank(p, score);
	int			d,
				i;

	JbKey(ps, "dimensions");
	JbBeginArray(ps);
	for (d = 0; d < sp->ndims; d++)
	{
		ScoreDim   *dim = &sp->dims[d];
		Numeric		dscore = DimensionScore(&src, dim);

		JbBeginObject(ps);
		JbKey(ps, "name");
		JbString(ps, dim->name);
		JbKey(ps, "weight");
		JbNumeric(ps, dim->weight);
		JbKey(ps, "points");
		JbNumeric(ps, dscore);
		JbKey(ps, "contribution");
		JbNumeric(ps, NumMul(dim->weight, dscore));
		JbKey(ps, "metrics");
		JbBeginArray(ps);
		for (i = 0; i < dim->nmetrics; i++)
		{
			ScoreMetric *m = &dim->metrics[i];
			Numeric		v;
			bool		have = ReadMetric(&src, m, &v);
			Numeric		pts = have ? PointsAt(m, v) : NumericFromInt64(0);

			JbBeginObject(ps);
			JbKey(ps, "metric");
			JbString(ps, m->name);
			JbKey(ps, "value");
			JbNumeric(ps, have ? v : NULL);
			JbKey(ps, "weight");
			JbNumeric(ps, m->weight);
			JbKey(ps, "points");
			JbNumeric(ps, pts);
			JbKey(ps, "contribution");
			JbNumeric(ps, NumMul(m->weight, pts));
			JbEndObject(ps);
		}
		JbEndArray(ps);
		JbEndObject(ps);
	}
	JbEndArray(ps);
	JbKey(ps, "unrounded_total");
	JbNumeric(ps, total);
	JbKey(ps, "total");
	JbNumeric(ps, score);
	JbKey(ps, "band");
	if (rank < p->ngrades)
	{
		JbBeginObject(ps);
		JbKey(ps, "grade");
		JbString(ps, p->grades[rank]);
		JbKey(ps, "min");
		JbNumeric(ps, sp->band_min[rank]);
		JbEndObject(ps);
	}
	else
	{
		JbString(ps, NULL);
		JbKey(ps, "default");
		JbString(ps, p->default_grade);
	}
}
