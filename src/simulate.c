/*-------------------------------------------------------------------------
 *
 * simulate.c
 *		crm_grade.simulate(definition): what a candidate policy would do —
 *		the migration matrix from the current grades to the candidate's,
 *		with customers and amount_12m per cell — without writing anything.
 *
 * One sequential pass over the stored states, each evaluated in C with the
 * candidate at T from its stored metrics (as use_policy() would, save that
 * customers whose valid_until has passed are not read again: run regrade()
 * first).  A candidate that reads population figures (RFM, revenue share)
 * gets them computed afresh, as use_policy() would store them.
 *
 *-------------------------------------------------------------------------
 */
#include "evaluate.h"
#include "errors.h"
#include "store.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(crm_grade_simulate);

/* One cell of the matrix. */
typedef struct Cell
{
	int64		customers;
	Numeric		amount;
} Cell;

/*
 * The matrix: rows are the active policy's grades in rank order, then
 * stored grades it does not give (left by an earlier policy); columns the
 * candidate's grades in rank order.
 */
typedef struct Matrix
{
	int			nactive;		/* grades of the active policy */
	int			nfrom;
	int			cap_from;
	char	  **from;
	int			nto;
	char	  **to;
	Cell	  **cells;			/* [from][to] */
} Matrix;

typedef struct SimulateCall
{
	Jsonb	   *definition;
	MemoryContext outer;
	Tuplestorestate *store;
	TupleDesc	desc;
} SimulateCall;

/* The grade names of a policy in rank order, the default last. */
static char **
GradeNames(Policy *p, int *n)
{
	int			count = 0;
	char	  **names;
	int			i;

	while (PolicyGradeName(p, count + 1) != NULL)
		count++;
	names = palloc(sizeof(char *) * count);
	for (i = 0; i < count; i++)
		names[i] = pstrdup(PolicyGradeName(p, i + 1));
	*n = count;
	return names;
}

static Cell *
NewRow(int nto)
{
	Cell	   *row = palloc(sizeof(Cell) * nto);
	int			i;

	for (i = 0; i < nto; i++)
	{
		row[i].customers = 0;
		row[i].amount = NumericFromInt64(0);
	}
	return row;
}

/* The row of a stored grade, added when the active policy does not give it. */
static int
FromRow(Matrix *m, Policy *active, const char *grade)
{
	int			r = PolicyGradeRank(active, grade);
	int			i;

	if (r > 0)
		return r - 1;
	for (i = m->nactive; i < m->nfrom; i++)
		if (strcmp(m->from[i], grade) == 0)
			return i;
	if (m->nfrom == m->cap_from)
	{
		m->cap_from *= 2;
		m->from = repalloc(m->from, sizeof(char *) * m->cap_from);
		m->cells = repalloc(m->cells, sizeof(Cell *) * m->cap_from);
	}
	m->from[m->nfrom] = pstrdup(grade);
	m->cells[m->nfrom] = NewRow(m->nto);
	return m->nfrom++;
}

static void
MatrixInit(Matrix *m, Policy *active, Policy *candidate)
{
	int			i;

	m->from = GradeNames(active, &m->nactive);
	m->nfrom = m->nactive;
	m->cap_from = m->nactive + 4;
	m->from = repalloc(m->from, sizeof(char *) * m->cap_from);
	m->to = GradeNames(candidate, &m->nto);
	m->cells = palloc(sizeof(Cell *) * m->cap_from);
	for (i = 0; i < m->nfrom; i++)
		m->cells[i] = NewRow(m->nto);
}

/* Every graded customer's state, evaluated with the candidate. */
static void
Tally(Matrix *m, Policy *active, Policy *candidate, TimestampTz now)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext rowcxt = AllocSetContextCreate(outer, "crm_grade simulate",
												 ALLOCSET_DEFAULT_SIZES);
	Portal		portal = StoreOpenAll(false);
	SPITupleTable *tt = NULL;
	uint64		pos = 0;
	CustomerState st;

	MemoryContextSwitchTo(rowcxt);
	while (StoreNextState(portal, &tt, &pos, &st, NULL))
	{
		int			from,
					to;
		Cell	   *cell;

		/* (a placeholder of a writer's own transaction has no grade) */
		if (!STATE_NULL(&st, SC_GRADED_AT) && !STATE_NULL(&st, SC_GRADE))
		{
			(void) PolicyGradeOf(candidate, &st, now, &to);
			MemoryContextSwitchTo(outer);
			from = FromRow(m, active, StateText(&st, SC_GRADE));
			cell = &m->cells[from][to - 1];
			cell->customers++;
			cell->amount = NumAdd(cell->amount, STATE_NUM(&st, SC_AMOUNT_12M));
			MemoryContextSwitchTo(rowcxt);
		}
		MemoryContextReset(rowcxt);
	}
	MemoryContextSwitchTo(outer);
	if (tt)
		SPI_freetuptable(tt);
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
}

static void
SimulateWork(CrmScope *scope, void *arg)
{
	SimulateCall *call = arg;
	CrmIdentity id;
	EvalContext ctx;
	Policy	   *candidate;
	Matrix		m;
	int			f,
				t;

	CrmEnter(&id);
	StateRequireCurrentCatalog();
	candidate = PolicyParse(call->definition, "candidate");
	EvalContextLoad(&ctx);
	if (PolicyReadsPopulation(candidate))
		PolicySetPopulation(candidate, PopulationCompute());
	MatrixInit(&m, ctx.policy, candidate);
	Tally(&m, ctx.policy, candidate, ctx.now);
	MemoryContextSwitchTo(call->outer);
	for (f = 0; f < m.nfrom; f++)
		for (t = 0; t < m.nto; t++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			if (m.cells[f][t].customers == 0)
				continue;
			values[0] = CStringGetTextDatum(m.from[f]);
			values[1] = CStringGetTextDatum(m.to[t]);
			values[2] = Int64GetDatum(m.cells[f][t].customers);
			values[3] = NumericGetDatum(m.cells[f][t].amount);
			tuplestore_putvalues(call->store, call->desc, values, nulls);
		}
	CrmLeave(&id);
}

/*
 * SQL: crm_grade.simulate(definition jsonb) RETURNS TABLE(from_grade text,
 * to_grade text, customers bigint, amount_12m numeric)
 */
Datum
crm_grade_simulate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SimulateCall call;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the policy to simulate must not be NULL"),
				 errhint("Give a definition, e.g. SELECT * FROM crm_grade.simulate((SELECT definition FROM crm_grade.policy WHERE name = 'rfm')).")));
	InitMaterializedSRF(fcinfo, 0);
	call.definition = PG_GETARG_JSONB_P(0);
	call.outer = CurrentMemoryContext;
	call.store = rsinfo->setResult;
	call.desc = rsinfo->setDesc;
	CrmRunScoped("simulate()", NULL, SimulateWork, &call);
	return (Datum) 0;
}
