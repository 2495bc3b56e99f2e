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
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/syscache.h"

static void BecomeRole(CrmIdentity *saved, Oid role, int extra_flags);

static void
BecomeRole(CrmIdentity *saved, Oid role, int extra_flags)
{
	GetUserIdAndSecContext(&saved->save_userid, &saved->save_sec_context);
	SetUserIdAndSecContext(role, saved->save_sec_context | extra_flags |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	saved->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	saved->active = true;
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
