/*-------------------------------------------------------------------------
 *
 * utility.c
 *		TRUNCATE of an attached table: crm_grade's locks first.
 *
 * A TRUNCATE of an attached table, or of a partition of one, re-grades
 * every customer from its AFTER TRUNCATE trigger (trigger.c), under SHARE
 * ROW EXCLUSIVE on customer_state.  Taken there, after the TRUNCATE's
 * ACCESS EXCLUSIVE on the table, that lock closes a cycle with any writer
 * that holds ROW EXCLUSIVE on the states and goes on to read the table.
 * Event triggers do not fire for TRUNCATE, so this hook takes the
 * re-grade's locks and the tables' together (RefreshAllLockBefore) before
 * PostgreSQL locks the tables.
 *
 * It runs for every utility statement of every role: anything but a
 * TRUNCATE returns at once; the tables are found without locking them,
 * from the catalogs alone (no user code runs), and nothing is locked for
 * a role the TRUNCATE will refuse.  The hook is in place once the library
 * is loaded in the session (see the README).
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "refresh.h"
#include "state.h"
#include "utility.h"

#include "catalog/heap.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/*
 * The relations a TRUNCATE empties: those it names, their inheritance
 * children and partitions unless ONLY, and with CASCADE the tables whose
 * foreign keys reference any of them, as ExecuteTruncate() finds them,
 * without a lock.  False when the role may not truncate a table named
 * (the TRUNCATE will fail before any trigger fires).
 */
static bool
TruncateTargets(TruncateStmt *stmt, List **relids)
{
	ListCell   *lc;

	*relids = NIL;
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst(lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		bool		missing = false;

		if (!OidIsValid(relid))
			continue;			/* the TRUNCATE reports it */
		if (pg_class_aclcheck_ext(relid, GetUserId(), ACL_TRUNCATE, &missing) != ACLCHECK_OK)
			return false;
		*relids = list_concat_unique_oid(*relids, rv->inh ?
										 find_all_inheritors(relid, NoLock, NULL) :
										 list_make1_oid(relid));
	}
	while (stmt->behavior == DROP_CASCADE)
	{
		List	   *more = list_difference_oid(heap_truncate_find_FKs(*relids), *relids);

		if (more == NIL)
			break;
		*relids = list_concat(*relids, more);
	}
	return true;
}

/* Does any of the relations carry crm_grade's TRUNCATE trigger, not disabled? */
static bool
AnyTruncateTrigger(List *relids)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		bool		clone = false;
		char		mode = CrmTriggerMode(lfirst_oid(lc), "crm_grade_truncate", &clone);

		if (mode != '\0' && mode != TRIGGER_DISABLED)
			return true;
	}
	return false;
}

/*
 * Will this TRUNCATE re-grade every customer?  Only if crm_grade is
 * installed in this database, up to date (else its trigger only warns),
 * and a table it empties (*relids) carries crm_grade's trigger.
 */
static bool
TruncateRegrades(TruncateStmt *stmt, List **relids)
{
	Oid			nsp;

	if (crm_own_ddl_depth > 0 || !OidIsValid(get_extension_oid("crm_grade", true)))
		return false;
	if (!TruncateTargets(stmt, relids) || !AnyTruncateTrigger(*relids))
		return false;
	nsp = get_namespace_oid(CRM_SCHEMA, true);
	return OidIsValid(nsp) && OidIsValid(get_relname_relid("customer_state", nsp)) &&
		StateCatalogCurrent();
}

static void
CrmProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				  ProcessUtilityContext context, ParamListInfo params,
				  QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	List	   *relids;

	if (IsA(pstmt->utilityStmt, TruncateStmt) &&
		TruncateRegrades((TruncateStmt *) pstmt->utilityStmt, &relids))
		RefreshAllLockBefore(relids, AccessExclusiveLock);
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Called by _PG_init. */
void
CrmInstallUtilityHook(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = CrmProcessUtility;
}
