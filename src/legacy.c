/*-------------------------------------------------------------------------
 *
 * legacy.c
 *		Entry points that only crm_grade 0.1's SQL objects call.
 *
 * After the 0.2 library is installed and before ALTER EXTENSION crm_grade
 * UPDATE has run in a database, that database still has 0.1's functions
 * and triggers, which call these symbols.  The library must keep them (and
 * CREATE EXTENSION crm_grade VERSION '0.1' needs them to exist).
 *
 * The 0.1 triggers let the application's writes through with a WARNING:
 * the update re-evaluates every customer from the attached tables, so the
 * writes made in between are graded then.  The other functions refuse to
 * run with a hint to update.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/array.h"

PG_FUNCTION_INFO_V1(crm_grade_orders_trigger);
PG_FUNCTION_INFO_V1(crm_grade_customers_trigger);
PG_FUNCTION_INFO_V1(crm_grade_evaluate);
PG_FUNCTION_INFO_V1(crm_grade_months_from_bits);

static void
LegacyTrigger(FunctionCallInfo fcinfo)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("this crm_grade 0.1 trigger function was not called by the trigger manager")));
	ereport(WARNING,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("crm_grade's library has been updated, but this database still has crm_grade 0.1"),
			 errdetail("The write is kept; its customers are graded when the extension is updated."),
			 errhint("Run ALTER EXTENSION crm_grade UPDATE in this database.")));
}

/* 0.1: trigger on an attached order table. */
Datum
crm_grade_orders_trigger(PG_FUNCTION_ARGS)
{
	LegacyTrigger(fcinfo);
	return PointerGetDatum(NULL);
}

/* 0.1: trigger on the attached customer master. */
Datum
crm_grade_customers_trigger(PG_FUNCTION_ARGS)
{
	LegacyTrigger(fcinfo);
	return PointerGetDatum(NULL);
}

/* 0.1: crm_grade._evaluate(), used by its set-based refresh. */
Datum
crm_grade_evaluate(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("crm_grade's library has been updated, but this database still has crm_grade 0.1"),
			 errhint("Run ALTER EXTENSION crm_grade UPDATE in this database.")));
	PG_RETURN_NULL();
}

/*
 * 0.1: crm_grade._months_from_bits(bits bigint, base int) RETURNS int[]:
 * the month indexes base + i for each bit i of bits, ascending.
 */
Datum
crm_grade_months_from_bits(PG_FUNCTION_ARGS)
{
	uint64		bits = PG_ARGISNULL(0) ? 0 : (uint64) PG_GETARG_INT64(0);
	int32		base = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
	Datum		months[64];
	int			n = 0;
	int			i;

	for (i = 0; i < 64; i++)
		if (bits & (UINT64CONST(1) << i))
			months[n++] = Int32GetDatum(base + i);
	PG_RETURN_ARRAYTYPE_P(construct_array(months, n, INT4OID, 4, true, TYPALIGN_INT));
}
