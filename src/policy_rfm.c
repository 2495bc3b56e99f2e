/*-------------------------------------------------------------------------
 *
 * policy_rfm.c
 *		RFM policies: recency, frequency and monetary scores 1..5 by the
 *		quintile cut-offs of crm_grade.population, mapped to named segments
 *		(SPEC section 5).
 *
 * Only customers with an order in the 12-month window have scores: R from
 * last_order_at, F from orders_12m, M from amount_12m.  The segments are
 * ranges of R, F and M tried in order; together they must cover all 125
 * combinations.  A customer who ordered before but not in the window gets
 * "lapsed" (when the policy names it), one who never ordered the default.
 * The stored score is the RFM cell, 100 R + 10 F + M (e.g. 543).
 *
 *-------------------------------------------------------------------------
 */
#include "policy_int.h"
#include "jsonb_build.h"

#include <math.h>

#include "utils/builtins.h"

struct RfmPolicy
{
	int			nsegments;
	int			(*lo)[RFM_NMEASURES];
	int			(*hi)[RFM_NMEASURES];
	bool		has_lapsed;
};

static const char *const RangeKeys[RFM_NMEASURES] = {"r", "f", "m"};

/* A score from 1 to 5 in a range. */
static int
ParseScore(ParseCtx *ctx, JsonbValue *v, const char *path, const char *hint)
{
	Numeric		n = PolicyParseNumber(ctx, v, path, hint);
	double		d = NumericToDouble(n);

	if (d != floor(d) || d < 1 || d > 5)
		POLICY_ERROR(ctx, path, hint, "expected a whole number from 1 to 5, found %s",
					 DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))));
	return (int) d;
}

/* "r": [lo, hi]; left out: [1, 5]. */
static void
ParseRange(ParseCtx *ctx, JsonbValue *v, const char *path, int *lo, int *hi)
{
	static const char *hint = "Give a range of scores as [lo, hi], e.g. [4, 5]; leave it out for any score.";

	*lo = 1;
	*hi = 5;
	if (v == NULL)
		return;
	if (!PolicyIsArray(v) || JsonContainerSize(v->val.binary.data) != 2)
		POLICY_ERROR(ctx, path, hint, "expected [lo, hi], found %s",
					 PolicyIsArray(v) ? psprintf("an array of %d", JsonContainerSize(v->val.binary.data)) :
					 PolicyValueType(v));
	*lo = ParseScore(ctx, getIthJsonbValueFromContainer(v->val.binary.data, 0),
					 psprintf("%s[0]", path), hint);
	*hi = ParseScore(ctx, getIthJsonbValueFromContainer(v->val.binary.data, 1),
					 psprintf("%s[1]", path), hint);
	if (*lo > *hi)
		POLICY_ERROR(ctx, path, hint, "lo %d is above hi %d", *lo, *hi);
}

/* Mark a segment's cells; false when an earlier segment had them all. */
static bool
Cover(bool covered[5][5][5], int lo[RFM_NMEASURES], int hi[RFM_NMEASURES])
{
	bool		any = false;
	int			r,
				f,
				m;

	for (r = lo[0]; r <= hi[0]; r++)
		for (f = lo[1]; f <= hi[1]; f++)
			for (m = lo[2]; m <= hi[2]; m++)
			{
				any |= !covered[r - 1][f - 1][m - 1];
				covered[r - 1][f - 1][m - 1] = true;
			}
	return any;
}

/* Every combination of scores must have a segment. */
static void
CheckCoverage(ParseCtx *ctx, bool covered[5][5][5])
{
	int			r,
				f,
				m;

	for (r = 5; r >= 1; r--)
		for (f = 5; f >= 1; f--)
			for (m = 5; m >= 1; m--)
				if (!covered[r - 1][f - 1][m - 1])
					POLICY_ERROR(ctx, "segments",
								 "Together the segments must cover every R, F and M from 1 to 5: widen one, or add a last segment without ranges.",
								 "no segment covers r = %d, f = %d, m = %d", r, f, m);
}

/* "kind": "rfm" with "segments", "lapsed", "default" and "cadence". */
void
RfmParse(ParseCtx *ctx, Policy *p, JsonbContainer *root)
{
	static const char *const keys[] = {"grade", "r", "f", "m"};
	static const char *hint = "Each segment is {\"grade\": \"Champions\", \"r\": [5, 5], \"f\": [4, 5], \"m\": [1, 5]}.";
	RfmPolicy  *rp = palloc0(sizeof(RfmPolicy));
	JsonbContainer *segs;
	JsonbValue *lapsed;
	bool		covered[5][5][5] = {{{false}}};
	int			i,
				k;

	p->rfm = rp;
	p->default_grade = PolicyParseGrade(ctx, PolicyGetKey(root, "default"), "default");
	segs = PolicyParseArray(ctx, PolicyGetKey(root, "segments"), "segments", 1,
							"List the segments in order: [{\"grade\": \"Champions\", \"r\": [5, 5], \"f\": [4, 5]}, ...].");
	rp->nsegments = JsonContainerSize(segs);
	rp->lo = palloc(sizeof(*rp->lo) * rp->nsegments);
	rp->hi = palloc(sizeof(*rp->hi) * rp->nsegments);
	for (i = 0; i < rp->nsegments; i++)
	{
		JsonbValue *seg = getIthJsonbValueFromContainer(segs, i);
		char	   *path = psprintf("segments[%d]", i);

		if (!PolicyIsObject(seg))
			POLICY_ERROR(ctx, path, hint, "expected an object, found %s", PolicyValueType(seg));
		PolicyCheckKeys(ctx, seg->val.binary.data, path, keys, lengthof(keys));
		PolicyAddGrade(ctx, PolicyParseGrade(ctx, PolicyGetKey(seg->val.binary.data, "grade"),
											 psprintf("%s.grade", path)),
					   psprintf("%s.grade", path));
		for (k = 0; k < RFM_NMEASURES; k++)
			ParseRange(ctx, PolicyGetKey(seg->val.binary.data, RangeKeys[k]),
					   psprintf("%s.%s", path, RangeKeys[k]), &rp->lo[i][k], &rp->hi[i][k]);
		if (!Cover(covered, rp->lo[i], rp->hi[i]))
			POLICY_ERROR(ctx, path, "Segments are tried in order: narrow or remove the earlier ones, or drop this one.",
						 "the segments before it already cover all of it");
	}
	CheckCoverage(ctx, covered);
	lapsed = PolicyGetKey(root, "lapsed");
	if (lapsed)
	{
		PolicyAddGrade(ctx, PolicyParseGrade(ctx, lapsed, "lapsed"), "lapsed");
		rp->has_lapsed = true;
	}
}

/* R, F and M of a customer with an order in the window. */
static void
Scores(Policy *p, CustomerState *st, int scores[RFM_NMEASURES])
{
	scores[RFM_RECENCY] = PopulationTile(p->population, RFM_RECENCY, st->values[SC_LAST_ORDER_AT]);
	scores[RFM_FREQUENCY] = PopulationTile(p->population, RFM_FREQUENCY, st->values[SC_ORDERS_12M]);
	scores[RFM_MONETARY] = PopulationTile(p->population, RFM_MONETARY, st->values[SC_AMOUNT_12M]);
}

static int
Segment(RfmPolicy *rp, int scores[RFM_NMEASURES])
{
	int			i,
				k;

	for (i = 0; i < rp->nsegments; i++)
	{
		for (k = 0; k < RFM_NMEASURES; k++)
			if (scores[k] < rp->lo[i][k] || scores[k] > rp->hi[i][k])
				break;
		if (k == RFM_NMEASURES)
			return i;
	}
	elog(ERROR, "crm_grade: no RFM segment for %d%d%d", scores[0], scores[1], scores[2]);
	return -1;					/* not reached: validation checks coverage */
}

/*
 * A customer's rank: its segment's with an order in the window (scores
 * set, *scored true), else lapsed's or the default's.
 */
static int
Place(Policy *p, CustomerState *st, int scores[RFM_NMEASURES], bool *scored)
{
	RfmPolicy  *rp = p->rfm;

	*scored = STATE_I64(st, SC_ORDERS_12M) > 0;
	if (*scored)
	{
		Scores(p, st, scores);
		return Segment(rp, scores);
	}
	if (STATE_I64(st, SC_ORDERS_TOTAL) > 0 && rp->has_lapsed)
		return rp->nsegments;
	return p->ngrades;
}

/* Grade by segment; *score is the RFM cell, NULL without an order in the window. */
int
RfmGrade(Policy *p, CustomerState *st, Numeric *score)
{
	int			scores[RFM_NMEASURES];
	bool		scored;
	int			rank = Place(p, st, scores, &scored);

	*score = scored ? NumericFromInt64(100 * scores[0] + 10 * scores[1] + scores[2]) : NULL;
	return rank;
}

/* The cut-offs in use, for explain(). */
static void
CutoffsExplain(const Population *pop, JsonbParseState **ps)
{
	int			k,
				i;

	JbKey(ps, "cutoffs");
	JbBeginObject(ps);
	for (k = 0; k < RFM_NMEASURES; k++)
	{
		JbKey(ps, RfmMeasureNames[k]);
		JbBeginArray(ps);
		for (i = 0; pop && pop->valid && i < pop->ncuts[k]; i++)
		{
			if (k == RFM_RECENCY)
				JbTimestamp(ps, DatumGetTimestampTz(pop->cuts[k][i]), false);
			else if (k == RFM_FREQUENCY)
				JbInt(ps, DatumGetInt64(pop->cuts[k][i]));
			else
				JbNumeric(ps, DatumGetNumeric(pop->cuts[k][i]));
		}
		JbEndArray(ps);
	}
	JbEndObject(ps);
	JbKey(ps, "computed_at");
	JbTimestamp(ps, pop ? pop->computed_at : 0, pop == NULL || !pop->valid);
}

/* explain(): R, F, M, the cut-offs, and the segment that matched. */
void
RfmExplain(Policy *p, CustomerState *st, JsonbParseState **ps)
{
	RfmPolicy  *rp = p->rfm;
	int			scores[RFM_NMEASURES];
	bool		scored;
	int			rank = Place(p, st, scores, &scored);
	int			k;

	JbKey(ps, "rfm");
	JbBeginObject(ps);
	for (k = 0; scored && k < RFM_NMEASURES; k++)
	{
		JbKey(ps, RangeKeys[k]);
		JbInt(ps, scores[k]);
	}
	CutoffsExplain(p->population, ps);
	JbEndObject(ps);
	JbKey(ps, "segment");
	if (!scored)
	{
		JbString(ps, NULL);
		JbKey(ps, rank < p->ngrades ? "lapsed" : "default");
		JbString(ps, rank < p->ngrades ? p->grades[rank] : p->default_grade);
		return;
	}
	JbBeginObject(ps);
	JbKey(ps, "index");
	JbInt(ps, rank);
	JbKey(ps, "grade");
	JbString(ps, p->grades[rank]);
	for (k = 0; k < RFM_NMEASURES; k++)
	{
		JbKey(ps, RangeKeys[k]);
		JbBeginArray(ps);
		JbInt(ps, rp->lo[rank][k]);
		JbInt(ps, rp->hi[rank][k]);
		JbEndArray(ps);
	}
	JbEndObject(ps);
}
