/*-------------------------------------------------------------------------
 *
 * merge.c
 *		Refuse a MERGE whose UPDATE sets a partition key column of an
 *		attached partitioned table.
 *
 * PostgreSQL 15 leaves a row that a MERGE's UPDATE moves to another
 * partition out of the statement's transition tables (a plain UPDATE that
 * moves the same row is captured), so crm_grade would never see the
 * move: the row's customer would keep it where it was, under its old date
 * or customer (found by a workload review), unless the MERGE also has an
 * INSERT and a DELETE action, whose transition tables then hold the move.
 * Which rows moved is not known, so a MERGE without them is refused
 * (rolled back) whenever an UPDATE action sets a column that partitions
 * the table at any level; an UPDATE does the same change and is graded.
 * Only MERGE statements pay for the check.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"
#include "merge.h"

#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "nodes/plannodes.h"
#include "nodes/value.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/rel.h"

/*
 * The names of the columns that partition a table at any level of the tree
 * under relid (as keys, or inside key expressions), as String nodes.
 */
static List *
PartitionColumns(Oid relid)
{
	List	   *names = NIL;
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Relation	rel;
		PartitionKey key;
		Bitmapset  *attnos = NULL;
		int			i,
					attno = -1;

		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_PARTITIONED_TABLE)
			continue;
		rel = table_open(lfirst_oid(lc), NoLock);
		key = RelationGetPartitionKey(rel);
		for (i = 0; i < key->partnatts; i++)
			if (key->partattrs[i] != 0)
				attnos = bms_add_member(attnos, key->partattrs[i] - FirstLowInvalidHeapAttributeNumber);
		pull_varattnos((Node *) key->partexprs, 1, &attnos);
		while ((attno = bms_next_member(attnos, attno)) >= 0)
			names = lappend(names, makeString(get_attname(RelationGetRelid(rel),
														  attno + FirstLowInvalidHeapAttributeNumber, false)));
		table_close(rel, NoLock);
	}
	return names;
}

/* Does the MERGE have an action of this kind? */
static bool
HasAction(ModifyTable *mt, CmdType kind)
{
	ListCell   *la,
			   *lc;

	foreach(la, mt->mergeActionLists)
		foreach(lc, (List *) lfirst(la))
			if (((MergeAction *) lfirst(lc))->commandType == kind)
				return true;
	return false;
}

/*
 * The MERGE's UPDATE actions, against the tree under the root they write.
 * A MERGE with both an INSERT and a DELETE action records a moved row in
 * their transition tables, as a delete and an insert (PostgreSQL sets up
 * those captures for the actions a MERGE has, whether they run or not):
 * crm_grade grades it so, and only a MERGE without one of them is refused.
 */
static void
RefuseMergeMoves(PlannedStmt *stmt)
{
	ModifyTable *mt = (ModifyTable *) stmt->planTree;
	Oid			root;
	bool		clone;
	List	   *keys;
	ListCell   *lr,
			   *la;

	if (mt == NULL || !IsA(mt, ModifyTable) || mt->rootRelation == 0)
		return;
	root = rt_fetch(mt->rootRelation, stmt->rtable)->relid;
	if (get_rel_relkind(root) != RELKIND_PARTITIONED_TABLE ||
		CrmTriggerMode(root, "crm_grade_update", &clone) == '\0' ||
		(HasAction(mt, CMD_INSERT) && HasAction(mt, CMD_DELETE)))
		return;
	keys = PartitionColumns(root);
	forboth(lr, mt->resultRelations, la, mt->mergeActionLists)
	{
		Oid			relid = rt_fetch(lfirst_int(lr), stmt->rtable)->relid;
		ListCell   *lc;

		foreach(lc, (List *) lfirst(la))
		{
			MergeAction *action = lfirst(lc);
			ListCell   *lcol;

			if (action->commandType != CMD_UPDATE)
				continue;
			foreach(lcol, action->updateColnos)
			{
				char	   *column = get_attname(relid, lfirst_int(lcol), false);

				if (list_member(keys, makeString(column)))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("MERGE cannot set column \"%s\" of %s, which partitions a table crm_grade grades",
									column, CrmRelName(root)),
							 errdetail("PostgreSQL 15 gives statement triggers the rows a MERGE moves to another partition only when the MERGE has both an INSERT and a DELETE action: crm_grade would not grade the move."),
							 errhint("Make the change with UPDATE, which is graded, or give the MERGE a WHEN MATCHED AND false THEN DELETE and a WHEN NOT MATCHED AND false THEN INSERT action.")));
			}
		}
	}
}

/*
 * Called as a statement finishes in the executor, before its AFTER
 * triggers (trigger.c): the library may have been loaded by the MERGE's
 * own BEFORE STATEMENT trigger, after ExecutorStart, and the error rolls
 * the MERGE back.
 */
void
CrmCheckMerge(QueryDesc *queryDesc)
{
	if (queryDesc->operation == CMD_MERGE)
		RefuseMergeMoves(queryDesc->plannedstmt);
}
