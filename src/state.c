/*-------------------------------------------------------------------------
 *
 * state.c
 *		A customer's state row as a C struct: conversion from and to tuples
 *		of crm_grade.customer_state, or of any record whose columns carry
 *		the same names (the set-based refresh passes such records).
 *
 * Columns are matched by name, once per row type, so the code does not
 * depend on column positions that an upgrade may change.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

/* Names and types of the columns, in StateCol order. */
static const char *const StateColumnNames[SC_NCOLS] = {
	"customer", "in_master", "owner", "created_at", "attributes",
	"total_amount", "orders_total", "amount_12m", "orders_12m",
	"first_order_at", "last_order_at", "order_months", "pay_days_sum",
	"pay_count", "oldest_window_at", "next_order_at",
	"avg_order_value_12m", "active_months_12m", "repurchase_rate",
	"avg_payment_days", "mean_interorder_days",
	"last_contact_at", "contacts_90d", "last_outcome", "next_action_at",
	"open_opportunities", "first_seen_at",
	"grade", "grade_rank", "score", "lifecycle", "risk",
	"next_follow_up_at", "policy", "graded_at", "valid_until"
};

static const Oid StateColumnTypes[SC_NCOLS] = {
	TEXTOID, BOOLOID, TEXTOID, TIMESTAMPTZOID, JSONBOID,
	NUMERICOID, INT8OID, NUMERICOID, INT8OID,
	TIMESTAMPTZOID, TIMESTAMPTZOID, INT4ARRAYOID, INT8OID,
	INT8OID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	NUMERICOID, INT4OID, NUMERICOID,
	NUMERICOID, NUMERICOID,
	TIMESTAMPTZOID, INT4OID, TEXTOID, TIMESTAMPTZOID,
	INT4OID, TIMESTAMPTZOID,
	TEXTOID, INT4OID, NUMERICOID, TEXTOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID
};

/* Attribute -> StateCol map of one row type, kept for the backend's life. */
typedef struct ColumnMap
{
	Oid			typid;
	int32		typmod;
	int			natts;
	int		   *col;			/* per attribute: StateCol, or -1 */
	int			attno[SC_NCOLS];	/* per StateCol: 0-based attribute, or -1 */
} ColumnMap;

#define MAX_MAPS 8

static ColumnMap *GetColumnMap(TupleDesc desc);
static void StateInitEmpty(CustomerState *st, const char *customer);

/* The StateCol of a column name, or -1. */
int
StateColumnIndex(const char *name)
{
	int			c;

	for (c = 0; c < SC_NCOLS; c++)
		if (strcmp(name, StateColumnNames[c]) == 0)
			return c;
	return -1;
}

/* Build the name map of a row type in the current memory context. */
static void
BuildColumnMap(ColumnMap *map, TupleDesc desc)
{
	int			i;

	map->typid = desc->tdtypeid;
	map->typmod = desc->tdtypmod;
	map->natts = desc->natts;
	map->col = palloc(sizeof(int) * Max(desc->natts, 1));
	for (i = 0; i < SC_NCOLS; i++)
		map->attno[i] = -1;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			c = att->attisdropped ? -1 : StateColumnIndex(NameStr(att->attname));

		map->col[i] = c;
		if (c < 0)
			continue;
		if (att->atttypid != StateColumnTypes[c])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("crm_grade state column \"%s\" has type %s, expected %s",
							StateColumnNames[c], format_type_be(att->atttypid),
							format_type_be(StateColumnTypes[c])),
					 errhint("The extension's objects may be damaged; reinstall crm_grade.")));
		map->attno[c] = i;
	}
}

/*
 * The name map of a row type.  Named and blessed record types are cached
 * for the backend's life (a changed column count means a new map); an
 * unblessed record gets a map of its own in the current memory context.
 */
static ColumnMap *
GetColumnMap(TupleDesc desc)
{
	static ColumnMap maps[MAX_MAPS];
	static int	nmaps = 0;
	static int	next_victim = 0;
	ColumnMap  *map;
	MemoryContext oldcxt;
	int			i;

	if (desc->tdtypeid == RECORDOID && desc->tdtypmod < 0)
	{
		map = palloc(sizeof(ColumnMap));
		BuildColumnMap(map, desc);
		return map;
	}
	for (i = 0; i < nmaps; i++)
	{
		map = &maps[i];
		if (map->typid == desc->tdtypeid && map->typmod == desc->tdtypmod &&
			map->natts == desc->natts)
			return map;
	}
	if (nmaps < MAX_MAPS)
		map = &maps[nmaps++];
	else
	{
		map = &maps[next_victim];
		next_victim = (next_victim + 1) % MAX_MAPS;
		pfree(map->col);
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	BuildColumnMap(map, desc);
	MemoryContextSwitchTo(oldcxt);
	return map;
}

/* A new customer: no orders, nothing graded. */
static void
StateInitEmpty(CustomerState *st, const char *customer)
{
	Datum		zero = NumericGetDatum(NumericFromInt64(0));
	int			i;

	for (i = 0; i < SC_NCOLS; i++)
	{
		st->values[i] = (Datum) 0;
		st->isnull[i] = true;
	}
	if (customer)
		StateSet(st, SC_CUSTOMER, CStringGetTextDatum(customer));
	StateSet(st, SC_IN_MASTER, BoolGetDatum(false));
	StateSet(st, SC_TOTAL_AMOUNT, zero);
	StateSet(st, SC_ORDERS_TOTAL, Int64GetDatum(0));
	StateSet(st, SC_AMOUNT_12M, zero);
	StateSet(st, SC_ORDERS_12M, Int64GetDatum(0));
	StateSet(st, SC_ORDER_MONTHS,
			 PointerGetDatum(construct_empty_array(INT4OID)));
	StateSet(st, SC_PAY_DAYS_SUM, Int64GetDatum(0));
	StateSet(st, SC_PAY_COUNT, Int64GetDatum(0));
	StateSet(st, SC_ACTIVE_MONTHS_12M, Int32GetDatum(0));
}

/* Copy the named columns of a tuple into the struct (others keep defaults). */
static void
FillFromTuple(CustomerState *st, HeapTuple tuple, TupleDesc desc)
{
	ColumnMap  *map = GetColumnMap(desc);
	int			i;

	StateInitEmpty(st, NULL);
	for (i = 0; i < desc->natts; i++)
	{
		int			c = map->col[i];
		bool		isnull;
		Datum		d;
		Form_pg_attribute att;

		if (c < 0)
			continue;
		d = heap_getattr(tuple, i + 1, desc, &isnull);
		if (isnull)
		{
			/* accumulators keep their zero defaults */
			if (st->isnull[c])
				continue;
			if (c == SC_TOTAL_AMOUNT || c == SC_AMOUNT_12M || c == SC_ORDERS_TOTAL ||
				c == SC_ORDERS_12M || c == SC_ORDER_MONTHS || c == SC_PAY_DAYS_SUM ||
				c == SC_PAY_COUNT || c == SC_IN_MASTER || c == SC_ACTIVE_MONTHS_12M)
				continue;
			st->isnull[c] = true;
			continue;
		}
		att = TupleDescAttr(desc, i);
		st->values[c] = datumCopy(d, att->attbyval, att->attlen);
		st->isnull[c] = false;
	}
	if (map->attno[SC_CUSTOMER] < 0 || st->isnull[SC_CUSTOMER])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("crm_grade cannot evaluate a customer without a key")));
}

/* From a composite Datum (the argument of crm_grade._evaluate). */
void
StateFromTuple(CustomerState *st, HeapTupleHeader td)
{
	TupleDesc	desc;
	HeapTupleData tuple;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td),
								  HeapTupleHeaderGetTypMod(td));
	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	PG_TRY();
	{
		FillFromTuple(st, &tuple, desc);
	}
	PG_FINALLY();
	{
		ReleaseTupleDesc(desc);
	}
	PG_END_TRY();
}

/* Form a tuple of the given descriptor (customer_state's row type). */
HeapTuple
StateToTuple(CustomerState *st, TupleDesc desc)
{
	ColumnMap  *map = GetColumnMap(desc);
	Datum	   *values = palloc0(sizeof(Datum) * desc->natts);
	bool	   *isnull = palloc(sizeof(bool) * desc->natts);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		int			c = map->col[i];

		isnull[i] = (c < 0) ? true : st->isnull[c];
		values[i] = (c < 0) ? (Datum) 0 : st->values[c];
	}
	return heap_form_tuple(desc, values, isnull);
}

void
StateSet(CustomerState *st, StateCol col, Datum value)
{
	st->values[col] = value;
	st->isnull[col] = false;
}

void
StateSetNull(CustomerState *st, StateCol col)
{
	st->values[col] = (Datum) 0;
	st->isnull[col] = true;
}

/* Lower a timestamp column to t (NULL counts as +infinity). */
void
StateSetMinTs(CustomerState *st, StateCol col, TimestampTz t)
{
	if (st->isnull[col] || t < STATE_TS(st, col))
		StateSet(st, col, TimestampTzGetDatum(t));
}

/* Raise a timestamp column to t (NULL counts as -infinity). */
void
StateSetMaxTs(CustomerState *st, StateCol col, TimestampTz t)
{
	if (st->isnull[col] || t > STATE_TS(st, col))
		StateSet(st, col, TimestampTzGetDatum(t));
}

/* Do two states agree on a text column (NULLs equal)? */
bool
StateTextEquals(CustomerState *a, CustomerState *b, StateCol col)
{
	if (a->isnull[col] || b->isnull[col])
		return a->isnull[col] == b->isnull[col];
	return DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
											   a->values[col], b->values[col]));
}

/* The row type of crm_grade.customer_state. */
Oid
StateRowType(void)
{
	Oid			nsp = get_namespace_oid("crm_grade", false);
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum("customer_state"),
										ObjectIdGetDatum(nsp));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type crm_grade.customer_state does not exist"),
				 errhint("Is the crm_grade extension installed in this database?")));
	return typid;
}
