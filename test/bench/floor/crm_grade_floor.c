/*-------------------------------------------------------------------------
 *
 * crm_grade_floor.c
 *		The least a trigger can cost, for make bench-floor: what any design
 *		of crm_grade pays before it computes anything.
 *
 * crm_grade_floor_noop()	a trigger that does nothing, as a row trigger or
 *							as a statement trigger with a transition table
 *							(the machinery alone: the trigger event, the
 *							transition table filled and handed over)
 * crm_grade_floor_state()	an AFTER INSERT, UPDATE or DELETE row trigger
 *							that moves the row's amount into or out of ONE
 *							row of a state table found by its primary key:
 *							UPDATE state SET n = n + $3, total = total + $2
 *							WHERE customer = $1, through a plan prepared
 *							once per backend (once per row: an UPDATE that
 *							keeps the customer moves the difference; one
 *							that changes it runs the UPDATE twice).  The least any
 *							per-customer state kept in the same transaction
 *							costs: one index lookup, one row version, its
 *							WAL, and nothing computed.
 *
 * The table's customer and amount columns are the trigger's arguments;
 * the state table is its third.  Not part of crm_grade, never installed
 * with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(crm_grade_floor_noop);
PG_FUNCTION_INFO_V1(crm_grade_floor_state);

/* The kept plan, for the state table it was made for. */
static SPIPlanPtr state_plan = NULL;
static char *state_plan_table = NULL;

Datum
crm_grade_floor_noop(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crm_grade_floor_noop() must be called as a trigger")));
	return PointerGetDatum(NULL);
}

/* The UPDATE of the state table, prepared once and kept. */
static SPIPlanPtr
StatePlan(const char *table, Oid keytype)
{
	Oid			argtypes[3] = {keytype, NUMERICOID, INT8OID};
	char	   *sql;
	SPIPlanPtr	plan;

	if (state_plan != NULL && strcmp(state_plan_table, table) == 0)
		return state_plan;
	sql = psprintf("UPDATE %s SET n = n + $3, total = total + $2 WHERE customer = $1", table);
	plan = SPI_prepare(sql, 3, argtypes);
	if (plan == NULL || SPI_keepplan(plan) != 0)
		elog(ERROR, "crm_grade_floor: could not prepare \"%s\"", sql);
	if (state_plan != NULL)
		SPI_freeplan(state_plan);
	state_plan = plan;
	state_plan_table = MemoryContextStrdup(TopMemoryContext, table);
	return plan;
}

/* Add amount and rows to the state row of customer key. */
static void
AddToState(TriggerData *td, int keycol, Datum key, Datum amount, int64 rows)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Datum		args[3] = {key, amount, Int64GetDatum(rows)};
	char		nulls[3] = {' ', ' ', ' '};

	if (SPI_execute_plan(StatePlan(td->tg_trigger->tgargs[2], SPI_gettypeid(desc, keycol)),
						 args, nulls, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "crm_grade_floor: the state update failed");
}

/*
 * Move a row into (sign 1) or out of (sign -1) its customer's state; an
 * UPDATE's old and new rows of the same customer, as one difference.
 */
static void
MoveRows(TriggerData *td, HeapTuple out, HeapTuple in, int keycol, int amountcol)
{
	TupleDesc	desc = RelationGetDescr(td->tg_relation);
	Datum		okey = 0,
				oamount = 0,
				ikey = 0,
				iamount = 0;
	bool		onull = true,
				inull = true,
				isnull;
	int16		typlen;
	bool		typbyval;

	if (out)
	{
		okey = SPI_getbinval(out, desc, keycol, &onull);
		oamount = SPI_getbinval(out, desc, amountcol, &isnull);
		onull |= isnull;
	}
	if (in)
	{
		ikey = SPI_getbinval(in, desc, keycol, &inull);
		iamount = SPI_getbinval(in, desc, amountcol, &isnull);
		inull |= isnull;
	}
	get_typlenbyval(SPI_gettypeid(desc, keycol), &typlen, &typbyval);
	if (!onull && !inull && datumIsEqual(okey, ikey, typbyval, typlen))
	{
		AddToState(td, keycol, ikey, DirectFunctionCall2(numeric_sub, iamount, oamount), 0);
		return;
	}
	if (!onull)
		AddToState(td, keycol, okey, DirectFunctionCall1(numeric_uminus, oamount), -1);
	if (!inull)
		AddToState(td, keycol, ikey, iamount, 1);
}

Datum
crm_grade_floor_state(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	int			keycol,
				amountcol;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		!TRIGGER_FIRED_AFTER(td->tg_event) || td->tg_trigger->tgnargs != 3)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crm_grade_floor_state() must be an AFTER row trigger with three arguments"),
				 errhint("Its arguments are the customer column, the amount column and the state table.")));
	desc = RelationGetDescr(td->tg_relation);
	keycol = SPI_fnumber(desc, td->tg_trigger->tgargs[0]);
	amountcol = SPI_fnumber(desc, td->tg_trigger->tgargs[1]);
	if (keycol <= 0 || amountcol <= 0 || SPI_gettypeid(desc, amountcol) != NUMERICOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("\"%s\" has no column \"%s\" or no numeric column \"%s\"",
						RelationGetRelationName(td->tg_relation),
						td->tg_trigger->tgargs[0], td->tg_trigger->tgargs[1])));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade_floor: SPI_connect failed");
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		MoveRows(td, NULL, td->tg_trigtuple, keycol, amountcol);
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		MoveRows(td, td->tg_trigtuple, NULL, keycol, amountcol);
	else
		MoveRows(td, td->tg_trigtuple, td->tg_newtuple, keycol, amountcol);
	SPI_finish();
	return PointerGetDatum(NULL);
}
