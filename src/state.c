/*-------------------------------------------------------------------------
 *
 * state.c
 *		A customer's state row as a C struct: conversion from and to tuples
 *		of crm_grade.customer_state, and the generated column lists.
 *
 * Columns are matched by name, once per row type, so the code does not
 * depend on column positions (an upgraded table may order them otherwise
 * than a fresh one), and a column of the wrong type is an error rather
 * than a misread Datum.
 *
 *-------------------------------------------------------------------------
 */
#include "state.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#define CRM_STATE_NAME(id, name, type, init, group) #name,
static const char *const StateColumnNames[SC_NCOLS] = {
	CRM_STATE_COLUMNS(CRM_STATE_NAME)
};
#undef CRM_STATE_NAME

#define CRM_STATE_TYPE(id, name, type, init, group) type,
static const Oid StateColumnTypes[SC_NCOLS] = {
	CRM_STATE_COLUMNS(CRM_STATE_TYPE)
};
#undef CRM_STATE_TYPE

#define CRM_STATE_INIT(id, name, type, init, group) init,
static const StateInit StateColumnInits[SC_NCOLS] = {
	CRM_STATE_COLUMNS(CRM_STATE_INIT)
};
#undef CRM_STATE_INIT

#define CRM_STATE_GROUP(id, name, type, init, group) group,
static const StateGroup StateColumnGroups[SC_NCOLS] = {
	CRM_STATE_COLUMNS(CRM_STATE_GROUP)
};
#undef CRM_STATE_GROUP

/* Attribute -> StateCol map of one row type, kept for the backend's life. */
typedef struct ColumnMap
{
	Oid			typid;
	int32		typmod;
	int			natts;
	int		   *col;			/* per attribute: StateCol, or -1 */
} ColumnMap;

#define MAX_MAPS 8

const char *
StateColumnName(StateCol col)
{
	return StateColumnNames[col];
}

/* The StateCol of a column name, or -1. */
static int
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
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			c = att->attisdropped ? -1 : StateColumnIndex(NameStr(att->attname));

		map->col[i] = c;
		if (c >= 0 && att->atttypid != StateColumnTypes[c])
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("crm_grade state column \"%s\" has type %s, expected %s",
							StateColumnNames[c], format_type_be(att->atttypid),
							format_type_be(StateColumnTypes[c])),
					 errhint("The extension's objects may be damaged; reinstall crm_grade.")));
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
		if (map->col)
			pfree(map->col);
		map->col = NULL;
		map->natts = -1;		/* unusable until rebuilt */
	}
	oldcxt = MemoryContextSwitchTo(TopMemoryContext);
	PG_TRY();
	{
		BuildColumnMap(map, desc);
	}
	PG_CATCH();
	{
		/* leave no half-built map behind to be found by the next call */
		map->col = NULL;
		map->natts = -1;
		map->typid = InvalidOid;
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	return map;
}

/* A new customer: nothing counted, nothing graded. */
void
StateInitEmpty(CustomerState *st, const char *customer)
{
	int			c;

	for (c = 0; c < SC_NCOLS; c++)
	{
		st->isnull[c] = false;
		switch (StateColumnInits[c])
		{
			case INIT_NULL:
				st->values[c] = (Datum) 0;
				st->isnull[c] = true;
				break;
			case INIT_FALSE:
				st->values[c] = BoolGetDatum(false);
				break;
			case INIT_ZERO_NUMERIC:
				st->values[c] = NumericGetDatum(int64_to_numeric(0));
				break;
			case INIT_ZERO_INT8:
				st->values[c] = Int64GetDatum(0);
				break;
			case INIT_ZERO_INT4:
				st->values[c] = Int32GetDatum(0);
				break;
			case INIT_EMPTY_MONTHS:
				st->values[c] = PointerGetDatum(construct_empty_array(INT4OID));
				break;
			case INIT_EMPTY_NUMERICS:
				st->values[c] = PointerGetDatum(construct_empty_array(NUMERICOID));
				break;
		}
	}
	if (customer)
		StateSet(st, SC_CUSTOMER, CStringGetTextDatum(customer));
}

/*
 * Copy the named columns of a tuple into the struct; columns the tuple
 * lacks, and NULLs in columns that start from zero, keep their initial
 * values.
 */
void
StateFromHeapTuple(CustomerState *st, HeapTuple tuple, TupleDesc desc)
{
	ColumnMap  *map = GetColumnMap(desc);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	int			i;

	/* deformed once: column by column, a row with NULLs is read quadratically */
	heap_deform_tuple(tuple, desc, values, nulls);
	StateInitEmpty(st, NULL);
	for (i = 0; i < desc->natts; i++)
	{
		int			c = map->col[i];
		Form_pg_attribute att;

		if (c < 0)
			continue;
		if (nulls[i])
		{
			if (StateColumnInits[c] == INIT_NULL)
				StateSetNull(st, c);
			continue;
		}
		att = TupleDescAttr(desc, i);
		st->values[c] = datumCopy(values[i], att->attbyval, att->attlen);
		st->isnull[c] = false;
	}
	pfree(values);
	pfree(nulls);
	if (st->isnull[SC_CUSTOMER])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("crm_grade cannot evaluate a customer without a key")));
}

/* From a composite Datum of customer_state's (or a matching) row type. */
void
StateFromDatum(CustomerState *st, Datum composite)
{
	HeapTupleHeader td = DatumGetHeapTupleHeader(composite);
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
		StateFromHeapTuple(st, &tuple, desc);
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
	Datum	   *values = palloc0(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *isnull = palloc(sizeof(bool) * Max(desc->natts, 1));
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		int			c = map->col[i];

		isnull[i] = (c < 0) ? true : st->isnull[c];
		values[i] = (c < 0) ? (Datum) 0 : st->values[c];
	}
	return heap_form_tuple(desc, values, isnull);
}

/* A deep copy of a state in the current memory context. */
void
StateCopy(CustomerState *dst, CustomerState *src)
{
	int			c;

	for (c = 0; c < SC_NCOLS; c++)
	{
		int16		typlen;
		bool		typbyval;

		dst->isnull[c] = src->isnull[c];
		dst->values[c] = (Datum) 0;
		if (src->isnull[c])
			continue;
		get_typlenbyval(StateColumnTypes[c], &typlen, &typbyval);
		dst->values[c] = datumCopy(src->values[c], typbyval, typlen);
	}
}

/*
 * Give dst src's columns of one group (the values are shared, not copied:
 * both live in the caller's context).
 */
void
StateTakeGroup(CustomerState *dst, const CustomerState *src, StateGroup group)
{
	int			c;

	for (c = 0; c < SC_NCOLS; c++)
		if (StateColumnGroups[c] == group)
		{
			dst->values[c] = src->values[c];
			dst->isnull[c] = src->isnull[c];
		}
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

/* Does a state (NULL: none) hold exactly this text in a column? */
bool
StateTextIs(CustomerState *st, StateCol col, const char *value)
{
	return st != NULL && !st->isnull[col] && strcmp(StateText(st, col), value) == 0;
}

/* The customer key as a C string. */
char *
StateKey(CustomerState *st)
{
	return TextDatumGetCString(st->values[SC_CUSTOMER]);
}

/* A text column as a C string, or NULL. */
char *
StateText(CustomerState *st, StateCol col)
{
	return st->isnull[col] ? NULL : TextDatumGetCString(st->values[col]);
}

/* Which customer_state was checked, and whether it had every column. */
static Oid	checked_relid = InvalidOid;
static bool checked_current = false;

static void
ForgetCatalogCheck(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == checked_relid)
		checked_relid = InvalidOid;
}

/*
 * Has the database's crm_grade the newest function of this library's
 * version (new in 0.12; a later version that adds one names it here)?
 * Asked by the entry points a user calls, never by a write.
 */
static bool
CatalogHasNewestFunction(void)
{
	Oid			argtypes[1] = {REGCLASSOID};

	return OidIsValid(CrmFunctionOid("_stalled_rows", 1, argtypes));
}

/*
 * Does crm_grade.customer_state have every column this library reads and
 * writes?  Not in a database whose extension has not been updated to the
 * library's version yet (ALTER EXTENSION crm_grade UPDATE adds them).
 */
bool
StateCatalogCurrent(void)
{
	static bool callback_registered = false;
	Oid			relid = CrmRelid("customer_state");
	int			c;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetCatalogCheck, (Datum) 0);
		callback_registered = true;
	}
	if (relid == checked_relid)
		return checked_current;
	checked_current = true;
	for (c = 0; c < SC_NCOLS; c++)
		if (get_attnum(relid, StateColumnName((StateCol) c)) == InvalidAttrNumber)
			checked_current = false;
	checked_relid = relid;
	return checked_current;
}

/*
 * Refuse to grade with this library's definitions in a database not yet
 * updated to them: for entry points a user calls, which also need the
 * newest functions (0.11 took a 0.9 catalog for current: its columns had
 * not changed since 0.5).  Triggers warn instead (see trigger.c), so that
 * the application's writes go through, and follow DDL with the functions
 * the catalog has.
 */
void
StateRequireCurrentCatalog(void)
{
	if (!StateCatalogCurrent() || !CatalogHasNewestFunction())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("crm_grade's library has been updated, but this database's crm_grade has not"),
				 errhint("Run ALTER EXTENSION crm_grade UPDATE in this database.")));
}

/* The row type of crm_grade.customer_state. */
Oid
StateRowType(void)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum("customer_state"),
										ObjectIdGetDatum(CrmSchemaOid()));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type crm_grade.customer_state does not exist"),
				 errhint("Is the crm_grade extension installed in this database?")));
	return typid;
}

/*
 * "p.a, p.b, ..." over every state column (but the key, unless with_key),
 * each quoted, for the SQL that reads and writes the table.
 */
char *
StateColumnList(const char *prefix, bool with_key)
{
	StringInfoData buf;
	int			c;

	initStringInfo(&buf);
	for (c = 0; c < SC_NCOLS; c++)
	{
		if (c == SC_CUSTOMER && !with_key)
			continue;
		appendStringInfo(&buf, "%s%s%s%s", buf.len ? ", " : "",
						 prefix ? prefix : "", prefix ? "." : "",
						 quote_identifier(StateColumnNames[c]));
	}
	return buf.data;
}
