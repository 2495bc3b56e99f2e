/*-------------------------------------------------------------------------
 *
 * security.c
 *		Whose rights crm_grade's code runs with.
 *
 * Two identities, never the caller's for crm_grade's own writes:
 *
 * - crm_grade's state, history and configuration are written as the owner
 *   of crm_grade's tables, so application roles need no grants on them.
 * - an application table is read as that table's owner, the way
 *   PostgreSQL's foreign-key triggers read the referenced table: whatever
 *   code a read can run (a function in a row-level security policy, a
 *   foreign table's wrapper) is code that owner could run anyway, never
 *   code that gains the rights of the extension's owner.
 *
 * Both run as a security-restricted operation with search_path pinned to
 * pg_catalog, pg_temp, like a SECURITY DEFINER function with a SET clause.
 * On top of that, crm_grade reads only columns of built-in types (and
 * domains over them, whose checks a read never runs), so no cast, operator
 * or output function a role defined ever runs inside crm_grade.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tstoreReceiver.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/rls.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(crm_grade_count_as_owner);
PG_FUNCTION_INFO_V1(crm_grade_rows_as_owner);
PG_FUNCTION_INFO_V1(crm_grade_stalled_rows);

/*
 * The relation whose rows crm_grade checks for itself (ddl.c, a partition
 * attached to an attached table): _count_as_owner() runs _check_rows()'s
 * count of it for crm_grade's owner, who need not own it.
 */
Oid			crm_rows_checked = InvalidOid;

static void BecomeRole(CrmIdentity *saved, Oid role, int extra_flags);

/* crm_grade's own names only (at the current GUC nest level): no role's objects come first. */
static void
PinSearchPath(void)
{
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

static void
BecomeRole(CrmIdentity *saved, Oid role, int extra_flags)
{
	GetUserIdAndSecContext(&saved->save_userid, &saved->save_sec_context);
	SetUserIdAndSecContext(role, saved->save_sec_context | extra_flags |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	saved->save_nestlevel = NewGUCNestLevel();
	PinSearchPath();
	saved->active = true;
}

/*
 * The settings that change how a filter's constants are written and read
 * back, fixed wherever crm_grade writes a filter's text or parses the
 * stored text: dates and times in ISO (read the same in any DateStyle and
 * zone; the field order fixed too, for text 0.11 stored in another style),
 * intervals in PostgreSQL's style, floats exact, backslashes literal.  The
 * session of whoever runs a statement never changes which rows a filter
 * admits (found by review: any role's ALTER TYPE ... RENAME rewrote every
 * filter with its own DateStyle).  Pinned at a new GUC nest level, which
 * is returned for AtEOXact_GUC().
 */
int
CrmPinTextFormats(void)
{
	static const char *const pins[][2] = {
		{"DateStyle", "ISO, MDY"},
		{"IntervalStyle", "postgres"},
		{"extra_float_digits", "1"},
		{"standard_conforming_strings", "on"},
	};
	int			nestlevel = NewGUCNestLevel();
	int			i;

	for (i = 0; i < lengthof(pins); i++)
		(void) set_config_option(pins[i][0], pins[i][1], PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/* Become the owner of crm_grade's tables, to write its state. */
void
CrmBecomeOwner(CrmIdentity *saved)
{
	BecomeRole(saved, CrmExtensionOwner(), 0);
}

/*
 * Become the owner of an application table, to read it.  Row-level
 * security that the owner set with FORCE does not hide rows from crm_grade
 * (as for foreign keys): every row is a fact it grades.
 */
void
CrmBecomeTableOwner(CrmIdentity *saved, Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid),
				 errhint("An attached table was dropped concurrently; try again.")));
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	BecomeRole(saved, owner, SECURITY_NOFORCE_RLS);
}

/* Undo the last CrmBecome*() (in reverse order of switching). */
void
CrmRestoreIdentity(CrmIdentity *saved)
{
	if (!saved->active)
		return;
	AtEOXact_GUC(false, saved->save_nestlevel);
	SetUserIdAndSecContext(saved->save_userid, saved->save_sec_context);
	saved->active = false;
}

/*
 * Connect to SPI and become crm_grade's owner: how every SQL-callable
 * entry point that reads or writes crm_grade's tables starts.
 */
void
CrmEnter(CrmIdentity *id)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade: SPI_connect failed");
	CrmBecomeOwner(id);
}

void
CrmLeave(CrmIdentity *id)
{
	CrmRestoreIdentity(id);
	SPI_finish();
}

/*
 * Run one query over an application table into store: parsed and analysed
 * as the caller (crm_grade's own functions are found in its schema, which
 * the table's owner may not use), then planned and executed as the table's
 * owner.  Planning runs code of the owner's: the planner folds an index's
 * predicate and expressions, which may call the owner's immutable
 * functions, and would run them with the caller's rights.  The functions
 * the query calls must be executable by the owner (crm_grade's are
 * PUBLIC).  target: the row type the rows must have (NULL: as they come).
 */
static void
QueryAsTableOwner(Oid relid, const char *query, Tuplestorestate *store, TupleDesc target,
				  bool as_owner)
{
	int			nestlevel;
	List	   *raws;
	List	   *queries;
	Query	   *parsed;
	DestReceiver *dest;
	PlannedStmt *plan;
	QueryDesc  *qd;
	CrmIdentity id;

	/*
	 * crm_grade's own names only, whoever calls (_stalled_rows() is PUBLIC:
	 * an operator of the caller's found first on its search_path would run
	 * as the table's owner, found by review), and the formats the query's
	 * filter text was written in
	 */
	nestlevel = CrmPinTextFormats();
	PinSearchPath();
	raws = pg_parse_query(query);
	queries = list_length(raws) == 1 ?
		pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, raws), query, NULL, 0, NULL) : NIL;
	parsed = queries != NIL ? linitial_node(Query, queries) : NULL;
	/* one plain SELECT: the executor below runs nothing else */
	if (list_length(queries) != 1 || parsed->commandType != CMD_SELECT || parsed->utilityStmt != NULL ||
		parsed->hasModifyingCTE || parsed->rowMarks != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("crm_grade reads a table with exactly one SELECT statement"),
				 errhint("This function is crm_grade's own: attach_*() and verify() call it.")));
	dest = CreateDestReceiver(DestTuplestore);
	id.active = false;
	if (as_owner)
		CrmBecomeTableOwner(&id, relid);
	plan = pg_plan_query(parsed, query, CURSOR_OPT_PARALLEL_OK, NULL);
	SetTuplestoreDestReceiverParams(dest, store, CurrentMemoryContext, false, target,
									"crm_grade: a query over an attached table returned unexpected columns");
	PushActiveSnapshot(GetTransactionSnapshot());
	qd = CreateQueryDesc(plan, query, GetActiveSnapshot(), InvalidSnapshot, dest, NULL, NULL, 0);
	ExecutorStart(qd, 0);
	ExecutorRun(qd, ForwardScanDirection, 0, true);
	ExecutorFinish(qd);
	ExecutorEnd(qd);
	FreeQueryDesc(qd);
	PopActiveSnapshot();
	CrmRestoreIdentity(&id);
	AtEOXact_GUC(true, nestlevel);
	dest->rDestroy(dest);
}

/*
 * SQL: crm_grade._count_as_owner(tbl regclass, query text) RETURNS
 * bigint[]: _check_rows()'s count of tbl's rows, run as tbl's owner.
 * The query is any SQL, so only a caller who owns tbl (attach_*() is
 * refused otherwise), a superuser, or crm_grade checking a partition for
 * itself runs one: no role runs SQL as another through it.
 */
Datum
crm_grade_count_as_owner(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Tuplestorestate *rows = tuplestore_begin_heap(false, false, work_mem);
	TupleDesc	desc = CreateTemplateTupleDesc(1);
	TupleTableSlot *slot;
	bool		isnull = true;
	Datum		result = (Datum) 0;

	if (relid != crm_rows_checked && !pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to check its rows", get_rel_name(relid)),
				 errhint("Attach tables as their owner or a superuser.")));
	TupleDescInitEntry(desc, 1, "counts", INT8ARRAYOID, -1, 0);
	QueryAsTableOwner(relid, query, rows, desc, true);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	if (tuplestore_gettupleslot(rows, true, false, slot))
		result = slot_getattr(slot, 1, &isnull);
	if (!isnull)
		result = PointerGetDatum(PG_DETOAST_DATUM_COPY(result));
	ExecDropSingleTupleTableSlot(slot);
	tuplestore_end(rows);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * The SQL that reads an attached table for a purpose, built by crm_grade's
 * own function from crm_grade.source alone (no caller chooses it), as
 * crm_grade's owner; NULL when the table is not attached so.
 */
static char *
AttachmentSql(Oid relid, const char *builder, MemoryContext cxt)
{
	Datum		arg = ObjectIdGetDatum(relid);
	char	   *query = NULL;
	CrmIdentity id;
	bool		isnull;

	CrmEnter(&id);
	if (CrmSpiExecuteWithArgs(psprintf("SELECT %s FROM crm_grade.source s "
									   "WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1", builder),
							  1, (Oid[]) {OIDOID}, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the attachment of %s", get_rel_name(relid));
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			query = MemoryContextStrdup(cxt, TextDatumGetCString(d));
	}
	CrmLeave(&id);
	return query;
}

/*
 * The rows of the attached table given as the SRF's argument, read by the
 * SQL builder makes of its attachment (nothing when it is not attached
 * so), as the table's owner or (as_owner false) as the caller.
 */
static Datum
ReadAttachment(FunctionCallInfo fcinfo, const char *builder, bool as_owner)
{
	Oid			relid = PG_GETARG_OID(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	query = AttachmentSql(relid, builder, rsinfo->econtext->ecxt_per_query_memory);
	if (query != NULL)
		QueryAsTableOwner(relid, query, rsinfo->setResult, rsinfo->setDesc, as_owner);
	return (Datum) 0;
}

/*
 * SQL: crm_grade._rows_as_owner(tbl regclass) RETURNS SETOF record: the
 * rows verify() reads of an attached table (_verify_source_sql()), read as
 * the table's owner, so that verify() run by a superuser never plans a
 * query over the application's table with a superuser's rights.  Nothing
 * for a table not attached.
 */
Datum
crm_grade_rows_as_owner(PG_FUNCTION_ARGS)
{
	return ReadAttachment(fcinfo, "crm_grade._verify_source_sql(s.tbl, s.kind, s.columns, s.filter)",
						  true);
}

/*
 * SQL: crm_grade._stalled_rows(tbl regclass) RETURNS SETOF record: the open
 * deals of an attached opportunity table, as stalled_opportunities shows
 * them (_stalled_source_sql()), for a caller who may read the table.  Read
 * as the table's owner, as verify() reads (0.11 read them as the reader of
 * the view, often a superuser, who then ran the functions of an index's
 * predicate with its rights: found by review); a caller whom the table's
 * row-level security restricts reads it with its own rights instead, and
 * sees its own deals alone, as before.  So it is PUBLIC: it shows nobody a
 * row it could not read.
 */
Datum
crm_grade_stalled_rows(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errhint("stalled_opportunities shows the deals its reader may read: grant SELECT on the table.")));
	return ReadAttachment(fcinfo, "CASE WHEN s.kind OPERATOR(pg_catalog.=) 'opportunities' "
						  "THEN crm_grade._stalled_source_sql(s.tbl, s.columns, s.filter) END",
						  check_enable_rls(relid, InvalidOid, false) != RLS_ENABLED);
}
