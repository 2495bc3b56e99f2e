/*-------------------------------------------------------------------------
 *
 * population.c
 *		The figures over every customer (crm_grade.population): computed by
 *		one sort per measure (bounded by work_mem) from the stored states or
 *		from a full re-grade's first pass, equal to what ntile(5) gives in
 *		plain SQL, stored, and read back for the evaluations between two
 *		refreshes.
 *
 * The quintile cut-off of tile k (k = 1..4) is the largest value in it;
 * a value's tile is 1 + the number of cut-offs it exceeds, which is the
 * tile ntile() gives it whenever ties do not straddle two tiles.  Recency
 * is measured by last_order_at itself, not by a day count, so that the
 * passing of time moves no customer from one tile to another.
 *
 * Callers run inside SPI as crm_grade's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "population.h"
#include "metrics.h"
#include "store.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplesort.h"
#include "utils/typcache.h"
#include "miscadmin.h"

const char *const RfmMeasureNames[RFM_NMEASURES] = {"recency", "frequency", "monetary"};

/* crm_grade.population_refresh, in seconds (settings.c) */
int			crm_population_refresh = 86400;

static const Oid CutTypes[RFM_NMEASURES] = {TIMESTAMPTZOID, INT8OID, NUMERICOID};

/* Cut-offs from an array Datum (copied into the current context). */
static void
ReadCuts(Population *pop, RfmMeasure m, Datum arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(CutTypes[m], &typlen, &typbyval, &typalign);
	deconstruct_array(DatumGetArrayTypeP(arr), CutTypes[m], typlen, typbyval, typalign,
					  &elems, &nulls, &n);
	if (n > 4)
		elog(ERROR, "crm_grade: %d %s cut-offs in crm_grade.population, at most 4 expected",
			 n, RfmMeasureNames[m]);
	pop->ncuts[m] = 0;
	for (i = 0; i < n; i++)
		if (!nulls[i])
			pop->cuts[m][pop->ncuts[m]++] = datumCopy(elems[i], typbyval, typlen);
}

/* The row in SPI_tuptable (computed_at, customers, total, three arrays) as a Population. */
static Population *
FromTuple(void)
{
	Population *pop = palloc0(sizeof(Population));
	HeapTuple	tup = SPI_tuptable->vals[0];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		isnull;
	int			m;

	pop->valid = true;
	pop->computed_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
	pop->customers = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	pop->amount_total = DatumGetNumericCopy(SPI_getbinval(tup, desc, 3, &isnull));
	for (m = 0; m < RFM_NMEASURES; m++)
		ReadCuts(pop, (RfmMeasure) m, SPI_getbinval(tup, desc, 4 + m, &isnull));
	return pop;
}

/* The stored figures as a snapshot sees them; valid is false when none are. */
Population *
PopulationRead(Snapshot snapshot)
{
	static SPIPlanPtr plan = NULL;
	Population *pop;

	if (plan == NULL)
		plan = CrmSpiPrepareKept("SELECT computed_at, customers, amount_12m_total, recency_cutoffs, "
								 "frequency_cutoffs, monetary_cutoffs FROM crm_grade.population",
								 0, NULL);
	if (CrmSpiExecuteSnapshot(plan, NULL, NULL, snapshot, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read crm_grade.population");
	if (SPI_processed == 0)
		pop = palloc0(sizeof(Population));
	else
		pop = FromTuple();
	SPI_freetuptable(SPI_tuptable);
	return pop;
}


/*
 * The figures of a stream of customers (a full re-grade's first pass): the
 * revenue total, and one sort per measure of the customers with an order in
 * the window, bounded by work_mem (spilled to disk beyond it).
 */
struct PopulationBuilder
{
	TimestampTz at;
	Numeric		total;
	int64		n;
	Tuplesortstate *sorts[RFM_NMEASURES];
};

PopulationBuilder *
PopulationBegin(TimestampTz at)
{
	PopulationBuilder *b = palloc0(sizeof(PopulationBuilder));
	int			m;

	b->at = at;
	b->total = NumericFromInt64(0);
	for (m = 0; m < RFM_NMEASURES; m++)
		b->sorts[m] = tuplesort_begin_datum(CutTypes[m],
											lookup_type_cache(CutTypes[m], TYPECACHE_LT_OPR)->lt_opr,
											InvalidOid, false, work_mem, NULL, TUPLESORT_NONE);
	return b;
}

/* One customer: its amount_12m, and its three measures when it ordered in the window. */
void
PopulationAdd(PopulationBuilder *b, Numeric amount_12m, bool in_window, Datum last_order_at,
			  Datum orders_12m)
{
	Numeric		total = NumAdd(b->total, amount_12m);

	pfree(b->total);			/* one running total, not one a customer */
	b->total = total;
	if (!in_window)
		return;
	tuplesort_putdatum(b->sorts[RFM_RECENCY], last_order_at, false);
	tuplesort_putdatum(b->sorts[RFM_FREQUENCY], orders_12m, false);
	tuplesort_putdatum(b->sorts[RFM_MONETARY], NumericGetDatum(amount_12m), false);
	b->n++;
}

/*
 * The cut-offs of a sorted measure: the last value of each of tiles 1..4
 * as ntile(5) cuts n rows (the first n % 5 tiles hold one row more; with
 * fewer than 5 rows, one row a tile).
 */
static void
CutsOfSort(Population *pop, RfmMeasure m, Tuplesortstate *sort, int64 n)
{
	int64		pos = 0,
				end = 0;
	int			k;

	tuplesort_performsort(sort);
	pop->ncuts[m] = 0;
	for (k = 1; k <= 4; k++)
	{
		int64		size = n / 5 + (k <= n % 5 ? 1 : 0);

		if (size == 0)
			break;
		end += size;
		for (; pos < end; pos++)
		{
			Datum		value;
			bool		isnull;

			if (!tuplesort_getdatum(sort, true, &value, &isnull, NULL))
				elog(ERROR, "crm_grade: %s sort ended early", RfmMeasureNames[m]);
			if (pos == end - 1)
				pop->cuts[m][pop->ncuts[m]++] = value;
			else if (m == RFM_MONETARY)
				pfree(DatumGetPointer(value));	/* a copy made for the caller */
		}
	}
	tuplesort_end(sort);
}

Population *
PopulationEnd(PopulationBuilder *b)
{
	Population *pop = palloc0(sizeof(Population));
	int			m;

	pop->valid = true;
	pop->computed_at = b->at;
	pop->customers = b->n;
	pop->amount_total = b->total;
	for (m = 0; m < RFM_NMEASURES; m++)
		CutsOfSort(pop, (RfmMeasure) m, b->sorts[m], b->n);
	pfree(b);
	return pop;
}

/*
 * The figures now, over the stored states of graded customers, read with a
 * snapshot taken now (so that it sees the states just written) through the
 * same sorts as a full re-grade's.  Writes nothing.
 */
Population *
PopulationCompute(void)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext rowcxt = AllocSetContextCreate(outer, "crm_grade population rows",
												 ALLOCSET_DEFAULT_SIZES);
	PopulationBuilder *b = PopulationBegin(CrmNow());
	Portal		portal = StoreOpenAll(false);
	SPITupleTable *tt = NULL;
	uint64		pos = 0;
	CustomerState st;
	Population *pop;

	MemoryContextSwitchTo(rowcxt);
	while (StoreNextState(portal, &tt, &pos, &st, NULL))
	{
		if (!STATE_NULL(&st, SC_GRADED_AT))
		{
			MemoryContextSwitchTo(outer);
			PopulationAdd(b, STATE_NUM(&st, SC_AMOUNT_12M), STATE_I64(&st, SC_ORDERS_12M) > 0,
						  st.values[SC_LAST_ORDER_AT], st.values[SC_ORDERS_12M]);
			MemoryContextSwitchTo(rowcxt);
		}
		MemoryContextReset(rowcxt);
	}
	MemoryContextSwitchTo(outer);
	if (tt)
		SPI_freetuptable(tt);
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
	pop = PopulationEnd(b);
	return pop;
}

/* Cut-offs as an array Datum. */
static Datum
CutsArray(Population *pop, RfmMeasure m)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(CutTypes[m], &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(pop->cuts[m], pop->ncuts[m], CutTypes[m],
										   typlen, typbyval, typalign));
}

/* Store the figures (the one row of crm_grade.population). */
void
PopulationStore(Population *pop)
{
	static SPIPlanPtr plan = NULL;
	Datum		values[6];

	if (plan == NULL)
	{
		Oid			argtypes[6] = {TIMESTAMPTZOID, INT8OID, NUMERICOID, TIMESTAMPTZARRAYOID,
		INT8ARRAYOID, NUMERICARRAYOID};

		plan = CrmSpiPrepareKept("INSERT INTO crm_grade.population AS p (singleton, computed_at, customers, "
								 "amount_12m_total, recency_cutoffs, frequency_cutoffs, monetary_cutoffs) "
								 "VALUES (true, $1, $2, $3, $4, $5, $6) ON CONFLICT (singleton) DO UPDATE SET "
								 "computed_at = $1, customers = $2, amount_12m_total = $3, "
								 "recency_cutoffs = $4, frequency_cutoffs = $5, monetary_cutoffs = $6",
								 6, argtypes);
	}
	values[0] = TimestampTzGetDatum(pop->computed_at);
	values[1] = Int64GetDatum(pop->customers);
	values[2] = NumericGetDatum(pop->amount_total);
	values[3] = CutsArray(pop, RFM_RECENCY);
	values[4] = CutsArray(pop, RFM_FREQUENCY);
	values[5] = CutsArray(pop, RFM_MONETARY);
	if (CrmSpiExecutePlan(plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "crm_grade: could not store the population figures");
}

/*
 * Are the stored figures missing or older than crm_grade.population_refresh
 * (or dated after now, crm_grade.as_of having gone back)?  Read with the
 * latest snapshot, under the lock that serialises refreshes.
 */
bool
PopulationDue(TimestampTz now)
{
	Population *pop = PopulationRead(GetLatestSnapshot());

	if (!pop->valid || pop->computed_at > now)
		return true;
	return now - pop->computed_at >= (int64) crm_population_refresh * USECS_PER_SEC;
}

/* A value's tile, 1..5: one more than the cut-offs it exceeds. */
int
PopulationTile(const Population *pop, RfmMeasure m, Datum value)
{
	int			tile = 1;
	int			i;

	if (pop == NULL || !pop->valid)
		return 1;
	for (i = 0; i < pop->ncuts[m]; i++)
	{
		int			cmp;

		if (m == RFM_MONETARY)
			cmp = DatumGetInt32(DirectFunctionCall2(numeric_cmp, value, pop->cuts[m][i]));
		else
			cmp = DatumGetInt64(value) > DatumGetInt64(pop->cuts[m][i]) ? 1 : -1;
		if (cmp > 0)
			tile++;
	}
	return tile;
}
