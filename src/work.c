/*-------------------------------------------------------------------------
 *
 * work.c
 *		A statement's work: the rows its triggers read, collected one at a
 *		time, and read back grouped by customer, in key byte order.
 *
 * A statement that writes a million order rows hands crm_grade a million
 * rows.  Held as an array, they took several times the statement's own
 * memory (0.5 kept a 400,000-row UPDATE's rows at twice the backend memory
 * of the same UPDATE without crm_grade).  So the work stays in memory
 * only while it takes at most work_mem; beyond that, everything goes into
 * a tuplesort, which keeps within work_mem and spills the rest to disk,
 * and the rows read from then on pass through a context reset after each
 * row.  Either way the reader returns each customer once, with its rows,
 * in the byte order of the keys: the one order in which every statement
 * locks its customers, so that two statements never deadlock on them.
 *
 *-------------------------------------------------------------------------
 */
#include "work.h"

#include "access/tupdesc.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

/* The columns of a spilled item. */
enum
{
	WA_KEY = 1,					/* text, sorted in byte order */
	WA_IS_KEY,					/* a customer to re-read, not a row */
	WA_EVENT,
	WA_KIND,
	WA_REMOVED,
	WA_AMOUNT,
	WA_T,
	WA_PAID,
	WA_DATE_DAYS,
	WA_ORDER_ID,
	WA_OWNER,
	WA_ATTRIBUTES,
	WA_OUTCOME,
	WA_NEXT_ACTION,
	WA_IS_OPEN,
	WA_NATTS = WA_IS_OPEN
};

/* Memory a work may hold before it spills, and a chunk before it is applied. */
static Size
WorkBudget(void)
{
	return (Size) work_mem * 1024;
}

/* Statement work: nothing yet (costs nothing for statements without any). */
void
WorkInit(StatementWork *work, CommandId since)
{
	memset(work, 0, sizeof(StatementWork));
	work->since = since;
}

/*
 * The context to read a row into before adding it: the work's own.  What
 * a row points to must live there (or longer); WorkRowDone() after each
 * row (or each pair of an UPDATE's rows).
 */
MemoryContext
WorkRowContext(StatementWork *work)
{
	if (work->cxt == NULL)
	{
		work->parent = CurrentMemoryContext;
		work->cxt = AllocSetContextCreate(work->parent, "crm_grade statement work",
										  ALLOCSET_DEFAULT_SIZES);
	}
	return work->cxt;
}

static TupleDesc
SpillDesc(void)
{
	static const Oid types[WA_NATTS] = {
		TEXTOID, BOOLOID, TEXTOID, INT2OID, BOOLOID, NUMERICOID, TIMESTAMPTZOID,
		TIMESTAMPTZOID, BOOLOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, TIMESTAMPTZOID, BOOLOID
	};
	TupleDesc	desc = CreateTemplateTupleDesc(WA_NATTS);
	int			i;

	for (i = 0; i < WA_NATTS; i++)
		TupleDescInitEntry(desc, i + 1, NULL, types[i], -1, 0);
	TupleDescInitEntryCollation(desc, WA_KEY, C_COLLATION_OID);
	return desc;
}

static void
SetText(Datum *values, bool *nulls, int att, const char *s)
{
	if (s == NULL)
		return;
	values[att - 1] = CStringGetTextDatum(s);
	nulls[att - 1] = false;
}

static void
SetDatum(Datum *values, bool *nulls, int att, bool present, Datum d)
{
	if (!present)
		return;
	values[att - 1] = d;
	nulls[att - 1] = false;
}

/* Put one item into the spill (row NULL: key is to be re-read). */
static void
SpillPut(StatementWork *work, const SourceRow *row, const char *key, const char *event)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(work->spill_tmp);
	TupleTableSlot *slot = work->slot;
	Datum	   *v = slot->tts_values;
	bool	   *n = slot->tts_isnull;

	ExecClearTuple(slot);
	memset(n, true, sizeof(bool) * WA_NATTS);
	SetText(v, n, WA_KEY, key);
	SetDatum(v, n, WA_IS_KEY, true, BoolGetDatum(row == NULL));
	SetText(v, n, WA_EVENT, event);
	if (row)
	{
		SetDatum(v, n, WA_KIND, true, Int16GetDatum((int16) row->kind));
		SetDatum(v, n, WA_REMOVED, true, BoolGetDatum(row->removed));
		SetDatum(v, n, WA_AMOUNT, row->amount != NULL, NumericGetDatum(row->amount));
		SetDatum(v, n, WA_T, row->has_t, TimestampTzGetDatum(row->t));
		SetDatum(v, n, WA_PAID, row->has_paid, TimestampTzGetDatum(row->paid));
		SetDatum(v, n, WA_DATE_DAYS, true, BoolGetDatum(row->date_days));
		SetText(v, n, WA_ORDER_ID, row->order_id);
		SetText(v, n, WA_OWNER, row->owner);
		SetDatum(v, n, WA_ATTRIBUTES, row->attributes != NULL, JsonbPGetDatum(row->attributes));
		SetText(v, n, WA_OUTCOME, row->outcome);
		SetDatum(v, n, WA_NEXT_ACTION, row->has_next_action, TimestampTzGetDatum(row->next_action));
		SetDatum(v, n, WA_IS_OPEN, true, BoolGetDatum(row->is_open));
	}
	ExecStoreVirtualTuple(slot);
	tuplesort_puttupleslot(work->spill, slot);
	ExecClearTuple(slot);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(work->spill_tmp);
}

/*
 * Beyond work_mem: everything so far goes into a sort by key, and so does
 * every later item.  The context then holds nothing the work needs (the
 * caller, done with its row, resets it).
 */
static void
WorkSpill(StatementWork *work)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(work->parent);
	AttrNumber	att = WA_KEY;
	Oid			lt = lookup_type_cache(TEXTOID, TYPECACHE_LT_OPR)->lt_opr;
	Oid			coll = C_COLLATION_OID;
	bool		nulls_first = false;
	TupleDesc	desc = SpillDesc();
	int			i;

	work->spill = tuplesort_begin_heap(desc, 1, &att, &lt, &coll, &nulls_first, work_mem, NULL,
									   TUPLESORT_NONE);
	work->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	work->spill_tmp = AllocSetContextCreate(work->parent, "crm_grade spill item",
											ALLOCSET_SMALL_SIZES);
	MemoryContextSwitchTo(oldcxt);
	for (i = 0; i < work->nrows; i++)
		SpillPut(work, &work->rows[i], work->rows[i].key, work->rows[i].event);
	for (i = 0; i < work->nkeys; i++)
		SpillPut(work, NULL, work->keys[i].key, work->keys[i].event);
	work->rows = NULL;
	work->keys = NULL;
	work->nrows = work->caprows = work->nkeys = work->capkeys = 0;
}

/* An inserted or changed row, to extend its customer's state with. */
void
WorkAddRow(StatementWork *work, const SourceRow *row)
{
	MemoryContext cxt = WorkRowContext(work);

	if (work->spill)
	{
		SpillPut(work, row, row->key, row->event);
		return;
	}
	if (work->nrows == work->caprows)
	{
		work->caprows = Max(work->caprows * 2, 16);
		work->rows = work->rows ?
			repalloc_huge(work->rows, sizeof(SourceRow) * work->caprows) :
			MemoryContextAlloc(cxt, sizeof(SourceRow) * work->caprows);
	}
	work->rows[work->nrows++] = *row;
}

/*
 * A customer to re-read from every attached table, with the event why (a
 * key repeated at once is kept once, with the later event).
 */
void
WorkAddKey(StatementWork *work, char *key, const char *event)
{
	MemoryContext cxt = WorkRowContext(work);

	if (work->spill)
	{
		SpillPut(work, NULL, key, event);
		return;
	}
	if (work->nkeys > 0 && strcmp(work->keys[work->nkeys - 1].key, key) == 0)
	{
		work->keys[work->nkeys - 1].event = event;
		return;
	}
	if (work->nkeys == work->capkeys)
	{
		work->capkeys = Max(work->capkeys * 2, 16);
		work->keys = work->keys ?
			repalloc_huge(work->keys, sizeof(KeyEvent) * work->capkeys) :
			MemoryContextAlloc(cxt, sizeof(KeyEvent) * work->capkeys);
	}
	work->keys[work->nkeys].key = key;
	work->keys[work->nkeys++].event = event;
}

/*
 * The caller is done with the row it read (and has added what it keeps of
 * it): the one place the work's memory is counted.  In memory, it stays
 * while it takes at most work_mem; beyond, it goes into the sort.  Then,
 * and while nothing is kept, the context holds only rows read (left out
 * by the filter, an UPDATE's row unchanged as crm_grade reads it, rows
 * already in the sort), which are freed: a statement of a million such
 * rows holds one at a time.
 */
void
WorkRowDone(StatementWork *work)
{
	if (work->cxt == NULL)
		return;
	if (work->spill == NULL && (work->nrows > 0 || work->nkeys > 0))
	{
		if (MemoryContextMemAllocated(work->cxt, false) <= WorkBudget())
			return;
		WorkSpill(work);
	}
	MemoryContextReset(work->cxt);
}

bool
WorkIsEmpty(StatementWork *work)
{
	return work->cxt == NULL || (work->spill == NULL && work->nrows == 0 && work->nkeys == 0);
}

static int
CompareRowKeys(const void *a, const void *b)
{
	return strcmp(((const SourceRow *) a)->key, ((const SourceRow *) b)->key);
}

static int
CompareKeyEvents(const void *a, const void *b)
{
	return strcmp(((const KeyEvent *) a)->key, ((const KeyEvent *) b)->key);
}

/*
 * The next spilled item into r->next, its tuple copied into the reader's
 * context: the caller's context is reset between chunks of customers.
 */
static void
ReadNextItem(WorkReader *r)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(r->cxt);

	r->have_next = tuplesort_gettupleslot(r->work->spill, true, true, r->next, NULL);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * Start reading the work back (no more may be added).  A customer with
 * more spilled rows than fit in a quarter of work_mem is re-read instead.
 */
void
WorkReaderBegin(WorkReader *r, StatementWork *work)
{
	memset(r, 0, sizeof(WorkReader));
	r->work = work;
	r->max_rows = (int) Max(WorkBudget() / 4 / (sizeof(SourceRow) + 64), 100);
	if (work->spill == NULL)
	{
		if (work->nrows > 1)
			qsort(work->rows, work->nrows, sizeof(SourceRow), CompareRowKeys);
		if (work->nkeys > 1)
			qsort(work->keys, work->nkeys, sizeof(KeyEvent), CompareKeyEvents);
		return;
	}
	tuplesort_performsort(work->spill);
	r->cxt = CurrentMemoryContext;
	r->next = MakeSingleTupleTableSlot(work->slot->tts_tupleDescriptor, &TTSOpsMinimalTuple);
	ReadNextItem(r);
}

/* The next customer of an in-memory work. */
static bool
NextInMemory(WorkReader *r, WorkCustomer *c)
{
	StatementWork *w = r->work;
	const char *rk = r->row < w->nrows ? w->rows[r->row].key : NULL;
	const char *kk = r->key < w->nkeys ? w->keys[r->key].key : NULL;

	if (rk == NULL && kk == NULL)
		return false;
	c->key = (rk && (kk == NULL || strcmp(rk, kk) <= 0)) ? (char *) rk : (char *) kk;
	c->event = NULL;
	c->reread = false;
	c->rows = w->rows + r->row;
	c->nrows = 0;
	for (; r->row < w->nrows && strcmp(w->rows[r->row].key, c->key) == 0; r->row++, c->nrows++)
		if (c->event == NULL)
			c->event = w->rows[r->row].event;
	for (; r->key < w->nkeys && strcmp(w->keys[r->key].key, c->key) == 0; r->key++)
	{
		/* re-read for several reasons: logged with the last one recorded */
		c->event = w->keys[r->key].event;
		c->reread = true;
	}
	return true;
}

static char *
ItemText(TupleTableSlot *slot, int att)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static bool
ItemTime(TupleTableSlot *slot, int att, TimestampTz *t)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, att, &isnull);

	*t = isnull ? 0 : DatumGetTimestampTz(d);
	return !isnull;
}

static bool
ItemBool(TupleTableSlot *slot, int att)
{
	bool		isnull;

	return DatumGetBool(slot_getattr(slot, att, &isnull));
}

/* A spilled row, copied into the current context. */
static void
ItemRow(TupleTableSlot *slot, SourceRow *row, char *key, const char *event)
{
	bool		isnull;
	Datum		d;

	memset(row, 0, sizeof(SourceRow));
	row->key = key;
	row->event = event;
	row->kind = (SourceKindId) DatumGetInt16(slot_getattr(slot, WA_KIND, &isnull));
	row->removed = ItemBool(slot, WA_REMOVED);
	d = slot_getattr(slot, WA_AMOUNT, &isnull);
	row->amount = isnull ? NULL : DatumGetNumericCopy(d);
	row->has_t = ItemTime(slot, WA_T, &row->t);
	row->has_paid = ItemTime(slot, WA_PAID, &row->paid);
	row->date_days = ItemBool(slot, WA_DATE_DAYS);
	row->order_id = ItemText(slot, WA_ORDER_ID);
	row->owner = ItemText(slot, WA_OWNER);
	d = slot_getattr(slot, WA_ATTRIBUTES, &isnull);
	row->attributes = isnull ? NULL : DatumGetJsonbPCopy(d);
	row->outcome = ItemText(slot, WA_OUTCOME);
	row->has_next_action = ItemTime(slot, WA_NEXT_ACTION, &row->next_action);
	row->is_open = ItemBool(slot, WA_IS_OPEN);
}

/* Is the key of the item in slot key (of length len)? */
static bool
ItemHasKey(TupleTableSlot *slot, const char *key, int len)
{
	bool		isnull;
	text	   *t = DatumGetTextPP(slot_getattr(slot, WA_KEY, &isnull));

	return VARSIZE_ANY_EXHDR(t) == len && memcmp(VARDATA_ANY(t), key, len) == 0;
}

/* The next customer of a spilled work, its rows copied into the current context. */
static bool
NextSpilled(WorkReader *r, WorkCustomer *c)
{
	int			cap = 0,
				len;

	if (!r->have_next)
		return false;
	c->key = ItemText(r->next, WA_KEY);
	len = strlen(c->key);
	c->event = NULL;
	c->reread = false;
	c->rows = NULL;
	c->nrows = 0;
	do
	{
		if (ItemBool(r->next, WA_IS_KEY))
		{
			c->event = ItemText(r->next, WA_EVENT);
			c->reread = true;
		}
		else if (!c->reread && c->nrows < r->max_rows)
		{
			if (c->nrows == cap)
			{
				cap = Max(cap * 2, 8);
				c->rows = c->rows ? repalloc_huge(c->rows, sizeof(SourceRow) * cap) :
					palloc(sizeof(SourceRow) * cap);
			}
			if (c->event == NULL)
				c->event = ItemText(r->next, WA_EVENT);
			ItemRow(r->next, &c->rows[c->nrows++], c->key, c->event);
		}
		else
			c->reread = true;	/* too many rows to hold: read its tables again */
		ReadNextItem(r);
	} while (r->have_next && ItemHasKey(r->next, c->key, len));
	if (c->reread)
		c->nrows = 0;
	return true;
}

/* The next customer in key byte order, or false at the end. */
bool
WorkReaderNext(WorkReader *r, WorkCustomer *c)
{
	return r->work->spill ? NextSpilled(r, c) : NextInMemory(r, c);
}

void
WorkReaderEnd(WorkReader *r)
{
	if (r->next)
		ExecDropSingleTupleTableSlot(r->next);
	r->next = NULL;
}

/* Free the work, and the sort's temporary files (at once, not at commit). */
void
WorkEnd(StatementWork *work)
{
	if (work->spill)
	{
		tuplesort_end(work->spill);
		ExecDropSingleTupleTableSlot(work->slot);
		MemoryContextDelete(work->spill_tmp);
		work->spill = NULL;
	}
	if (work->cxt)
		MemoryContextDelete(work->cxt);
	work->cxt = NULL;
	work->rows = NULL;
	work->keys = NULL;
	work->nrows = work->nkeys = 0;
}
