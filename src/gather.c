/*-------------------------------------------------------------------------
 *
 * gather.c
 *		Read every attached table's rows of some customers, or of all of
 *		them, and hand them out one customer at a time, accumulated by the
 *		same MetricsAddRow() the triggers use.
 *
 * Each table is read through a cursor ordered by the key's text form in
 * byte order, as the table's owner in a security-restricted operation; the
 * cursors are merged, so memory holds one batch of rows per table and one
 * customer at a time, whatever the number of rows.  The column types are
 * checked on the relation, under its lock, before the cursor opens.
 *
 * Rows that a trigger would have refused (a NULL or infinite value that got
 * in while crm_grade's triggers were disabled) are left out and listed in
 * the customer's data_issues: one bad row never blocks other customers.
 *
 *-------------------------------------------------------------------------
 */
#include "errors.h"
#include "gather.h"
#include "metrics.h"

#include "access/detoast.h"
#include "access/relation.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define GATHER_BATCH 1000

typedef struct GatherCursor
{
	Source	   *src;
	Portal		portal;
	SPITupleTable *tuptable;
	uint64		pos;
	bool		done;
	SourceLayout layout;
	TupleTableSlot *slot;
	char	   *head;			/* key of the row at pos; NULL when done */
} GatherCursor;

struct SourceMerge
{
	MemoryContext cxt;
	int			ncursors;
	GatherCursor *cursors;
	int64		null_keys;
	int64		long_keys;		/* longer than CRM_KEY_MAX_BYTES */
};

/* Plans of the scans, by their SQL text, kept for the backend's life. */
#define MAX_SCAN_PLANS 32

typedef struct ScanPlan
{
	char	   *sql;
	bool		generic;
	SPIPlanPtr	plan;
} ScanPlan;

static ScanPlan scan_plans[MAX_SCAN_PLANS];
static int	next_scan_victim = 0;

static void CursorAdvance(SourceMerge *g, GatherCursor *c);

/*
 * The prepared plan of a scan (prepared by whoever runs it: the table's
 * owner).  generic: planned once for any keys, for the re-read of one
 * customer after an UPDATE or DELETE, where planning each call afresh cost
 * more than the scan (make bench-profile); a scan of many customers is
 * planned for its keys, as a seq scan may beat the index then.
 */
static SPIPlanPtr
ScanPlanFor(const char *sql, int nargs, Oid *argtypes, bool generic)
{
	int			i;
	SPIPlanPtr	plan;
	ScanPlan   *slot;

	for (i = 0; i < MAX_SCAN_PLANS; i++)
		if (scan_plans[i].sql && scan_plans[i].generic == generic &&
			strcmp(scan_plans[i].sql, sql) == 0)
			return scan_plans[i].plan;
	plan = CrmSpiPrepareKeptWith(sql, nargs, argtypes, generic ? CURSOR_OPT_GENERIC_PLAN : 0);
	slot = &scan_plans[next_scan_victim];
	next_scan_victim = (next_scan_victim + 1) % MAX_SCAN_PLANS;
	if (slot->sql)
	{
		SPI_freeplan(slot->plan);
		pfree(slot->sql);
		slot->sql = NULL;
	}
	slot->plan = plan;
	slot->generic = generic;
	slot->sql = MemoryContextStrdup(TopMemoryContext, sql);
	return plan;
}

/* The array type keys of a family are compared as. */
static const char *
FamilyArray(Oid key_type)
{
	switch (SourceKeyFamily(key_type))
	{
		case INT8OID:
			return "pg_catalog.int8[]";
		case UUIDOID:
			return "pg_catalog.uuid[]";
		default:
			return "pg_catalog.text[]";
	}
}

/*
 * The scan of one source: the key as text in byte order, then each
 * attached role column as stored, of the rows its filter admits (the
 * text filter.c checked and wrote).  filtered: only the keys in $1.  Keys
 * are compared in their family's widest type, so an integer key wider than
 * the column's type is simply not found instead of an error.
 */
static char *
ScanSql(Source *src, bool filtered)
{
	const KindDef *def = &SourceKinds[src->kind];
	const char *key = quote_identifier(src->columns[ROLE_KEY]);
	StringInfoData sql;
	int			r;

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT %s::pg_catalog.text COLLATE \"C\" AS k", key);
	for (r = 1; r < def->nroles; r++)
		if (src->columns[r])
			appendStringInfo(&sql, ", %s", quote_identifier(src->columns[r]));
	/* the name as it is now (the cached one may predate an ALTER ... RENAME) */
	appendStringInfo(&sql, " FROM %s", CrmRelName(src->relid));
	appendStringInfo(&sql, " WHERE (%s)", src->filter ? src->filter : "true");
	if (filtered)
		appendStringInfo(&sql, " AND %s OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]::%s)",
						 key, FamilyArray(src->key_type));
	appendStringInfoString(&sql, " ORDER BY 1");
	/* the lines of an order next to each other */
	if (SOURCE_HAS_LINES(src))
		appendStringInfo(&sql, ", %s::pg_catalog.text COLLATE \"C\"",
						 quote_identifier(src->columns[ORD_ORDER_ID]));
	return sql.data;
}

/*
 * Lock the table and check its columns, so that the scan reads what was
 * checked.  The attachment is looked up again once the lock is held: a
 * migration (a column renamed, a filter rewritten) that this transaction
 * waited for has committed its new attachment row by then, and the one
 * the caller had loaded before the wait names columns that are gone.
 * NULL when the table is gone or no longer attached: dropped or detached
 * by a transaction that committed while this one waited, whose own event
 * trigger re-grades everyone without it.
 */
static Source *
LockSource(Source *src)
{
	Relation	rel = try_relation_open(src->relid, AccessShareLock);
	Source	   *now;
	SourceLayout layout;

	if (rel == NULL)
		return NULL;
	now = SourceForRelid(src->relid, false);
	if (now != NULL)
		SourceLayoutForDesc(&layout, now, RelationGetDescr(rel), now->relname, false, false);
	relation_close(rel, NoLock);
	return now;
}

/* Open the cursor of one source, as the table's owner (nkeys < 0: every customer). */
static void
CursorOpen(SourceMerge *g, GatherCursor *c, Source *src, Datum keys, int nkeys)
{
	bool		filtered = nkeys >= 0;
	Oid			argtype = TEXTARRAYOID;
	CrmIdentity id;
	CrmScope	scope;
	SPIPlanPtr	plan;

	c->src = src = LockSource(src);
	if (src == NULL)
	{
		c->done = true;
		return;
	}
	CrmScopePush(&scope, "reading", src->relname);
	CrmBecomeTableOwner(&id, src->relid);
	/* the scan holds the filter's stored text (restored with the identity) */
	if (src->filter)
		(void) CrmPinTextFormats();
	plan = ScanPlanFor(ScanSql(src, filtered), filtered ? 1 : 0, &argtype, nkeys == 1);
	c->portal = CrmSpiCursorOpen(plan, filtered ? &keys : NULL, NULL);
	CrmRestoreIdentity(&id);
	CrmScopePop(&scope);
	if (c->portal == NULL)
		elog(ERROR, "crm_grade: could not open a cursor on %s", src->relname);
	SourceLayoutForDesc(&c->layout, src, c->portal->tupDesc, src->relname, true, false);
	c->slot = MakeSingleTupleTableSlot(c->portal->tupDesc, &TTSOpsHeapTuple);
	c->pos = 0;
	c->tuptable = NULL;
	CursorAdvance(g, c);
}

/* Fetch the next batch of a cursor, as the table's owner. */
static void
CursorFetch(GatherCursor *c)
{
	CrmIdentity id;
	CrmScope	scope;

	if (c->tuptable)
		SPI_freetuptable(c->tuptable);
	c->tuptable = NULL;
	CrmScopePush(&scope, "reading", c->src->relname);
	CrmBecomeTableOwner(&id, c->src->relid);
	CrmSpiCursorFetch(c->portal, GATHER_BATCH);
	CrmRestoreIdentity(&id);
	CrmScopePop(&scope);
	c->tuptable = SPI_tuptable;
	c->pos = 0;
	if (SPI_processed == 0)
		c->done = true;
}

/*
 * Move to the next row with a key (the first one when nothing was fetched
 * yet); NULL keys sort last and are counted, not graded.
 */
static void
CursorAdvance(SourceMerge *g, GatherCursor *c)
{
	if (c->head)
		pfree(c->head);
	c->head = NULL;
	for (;;)
	{
		bool		isnull;
		Datum		k;

		if (c->tuptable == NULL || c->pos >= c->tuptable->numvals)
		{
			if (c->done)
				return;
			CursorFetch(c);
			if (c->done)
				return;
		}
		k = SPI_getbinval(c->tuptable->vals[c->pos], c->tuptable->tupdesc, 1, &isnull);
		if (isnull)
			g->null_keys++;
		else if (toast_raw_datum_size(k) - VARHDRSZ > CRM_KEY_MAX_BYTES)
			g->long_keys++;
		else
		{
			c->head = MemoryContextStrdup(g->cxt, TextDatumGetCString(k));
			return;
		}
		c->pos++;
	}
}

/*
 * Start reading the rows of keys (sorted in byte order, distinct), or of
 * every customer when nkeys < 0.  Runs inside SPI as crm_grade's owner.
 */
SourceMerge *
GatherBegin(char **keys, int nkeys)
{
	return GatherBeginKind(keys, nkeys, SK_NKINDS);
}

/* The same, from the tables of one kind only (SK_NKINDS: of every kind). */
SourceMerge *
GatherBeginKind(char **keys, int nkeys, SourceKindId kind)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "crm_grade gather",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	SourceSet  *set = SourcesLoad();
	SourceMerge	   *g = palloc0(sizeof(SourceMerge));
	Datum		arg = (Datum) 0;
	int			i;

	g->cxt = cxt;
	g->ncursors = 0;
	g->cursors = palloc0(sizeof(GatherCursor) * Max(set->n, 1));
	if (nkeys >= 0)
	{
		Datum	   *elems = palloc(sizeof(Datum) * Max(nkeys, 1));

		for (i = 0; i < nkeys; i++)
			elems[i] = CStringGetTextDatum(keys[i]);
		arg = PointerGetDatum(construct_array(elems, nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	}
	for (i = 0; i < set->n; i++)
		if (kind == SK_NKINDS || set->items[i].kind == kind)
			CursorOpen(g, &g->cursors[g->ncursors++], &set->items[i], arg, nkeys);
	MemoryContextSwitchTo(oldcxt);
	return g;
}

/*
 * Accumulate one row of a cursor.  Lines of an order (consecutive in the
 * scan) are merged into *pending and added when the order is complete;
 * a line dated after now only says when it will count.
 */
static void
AddScannedRow(GatherCursor *c, SourceRow *row, CustomerState *st, EvalContext *ctx,
			  SourceRow *pending, bool *have_pending, MonthBatch *mb)
{
	if (!SOURCE_HAS_LINES(c->src) || row->t > ctx->now)
	{
		MetricsAddRowBatched(st, c->src->kind, row, ctx->now, ctx->ws, mb);
		return;
	}
	if (*have_pending && strcmp(pending->order_id, row->order_id) == 0)
	{
		MetricsMergeLine(pending, row);
		return;
	}
	if (*have_pending)
		MetricsAddRowBatched(st, c->src->kind, pending, ctx->now, ctx->ws, mb);
	*pending = *row;
	/* (the amount may point into a tuple the next fetch frees) */
	pending->amount = DatumGetNumericCopy(NumericGetDatum(row->amount));
	*have_pending = true;
}

/*
 * The next customer with rows in any source: its state from scratch, every
 * row accumulated at ctx's moment.  False when there is none left.
 */
bool
GatherNext(SourceMerge *g, CustomerState *st, EvalContext *ctx)
{
	char	   *key = NULL;
	MonthBatch	mb;
	int			i;

	for (i = 0; i < g->ncursors; i++)
		if (g->cursors[i].head && (key == NULL || strcmp(g->cursors[i].head, key) < 0))
			key = g->cursors[i].head;
	if (key == NULL)
		return false;
	StateInitEmpty(st, key);
	key = StateKey(st);
	MonthBatchInit(&mb);
	for (i = 0; i < g->ncursors; i++)
	{
		GatherCursor *c = &g->cursors[i];
		SourceRow	pending;
		bool		have_pending = false;

		while (c->head && strcmp(c->head, key) == 0)
		{
			SourceRow	row;

			ExecStoreHeapTuple(c->tuptable->vals[c->pos], c->slot, false);
			if (SourceReadRow(&c->layout, c->slot, &row, false))
				AddScannedRow(c, &row, st, ctx, &pending, &have_pending, &mb);
			else
				IssuesAdd(st, "row", c->src->relname, row.problem_column, row.problem_value,
						  psprintf("%s: the row is left out", row.problem));
			ExecClearTuple(c->slot);
			c->pos++;
			CursorAdvance(g, c);
		}
		if (have_pending)
			MetricsAddRowBatched(st, c->src->kind, &pending, ctx->now, ctx->ws, &mb);
	}
	MonthBatchApply(st, &mb);
	return true;
}

/* Close the cursors; say how many rows had no key. */
void
GatherEnd(SourceMerge *g)
{
	int			i;

	for (i = 0; i < g->ncursors; i++)
	{
		GatherCursor *c = &g->cursors[i];

		/* the slot first: its descriptor is the portal's, freed with it */
		if (c->slot)
			ExecDropSingleTupleTableSlot(c->slot);
		if (c->tuptable)
			SPI_freetuptable(c->tuptable);
		if (c->portal)
			SPI_cursor_close(c->portal);
	}
	if (g->null_keys > 0)
		ereport(WARNING,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("crm_grade left out " INT64_FORMAT " row(s) without a customer key", g->null_keys),
				 errdetail("They got into an attached table while crm_grade's triggers were disabled."),
				 errhint("Give them a customer key or delete them.")));
	if (g->long_keys > 0)
		ereport(WARNING,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("crm_grade left out " INT64_FORMAT " row(s) whose customer key is longer than %d bytes",
						g->long_keys, CRM_KEY_MAX_BYTES),
				 errdetail("No index entry of crm_grade's holds such a key; crm_grade refuses them when written since 0.10, so these got in earlier or while its triggers were disabled."),
				 errhint("Give them a shorter customer key or delete them.")));
	MemoryContextDelete(g->cxt);
}

/*
 * The distinct keys of the rows of one table (a partition being attached
 * or detached), read as its owner, in byte order.
 */
char	  **
GatherKeysOf(Oid relid, Source *src, int *nkeys)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel));
	SourceLayout layout;
	CrmIdentity id;
	char	  **keys;
	char	   *sql;
	uint64		i;

	SourceLayoutForDesc(&layout, src, RelationGetDescr(rel), relname, false, false);
	relation_close(rel, NoLock);
	sql = psprintf("SELECT DISTINCT k FROM (SELECT %s::pg_catalog.text COLLATE \"C\" AS k FROM %s) s "
				   "WHERE k IS NOT NULL AND pg_catalog.octet_length(k) <= %d ORDER BY 1",
				   quote_identifier(src->columns[ROLE_KEY]), relname, CRM_KEY_MAX_BYTES);
	CrmBecomeTableOwner(&id, relid);
	if (CrmSpiExecute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the keys of %s", relname);
	CrmRestoreIdentity(&id);
	keys = palloc(sizeof(char *) * Max(SPI_processed, 1));
	for (i = 0; i < SPI_processed; i++)
		keys[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	*nkeys = (int) SPI_processed;
	SPI_freetuptable(SPI_tuptable);
	return keys;
}
