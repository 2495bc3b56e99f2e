/*-------------------------------------------------------------------------
 *
 * ddl.c
 *		crm_grade's triggers on attached tables, and the event triggers that
 *		keep grading right through the application's migrations.
 *
 * - A partition created in, or attached to, an attached table gets the
 *   statement triggers, and the customers in an attached partition are
 *   re-read; a detached partition loses them, and its customers are
 *   re-read without it; a dropped partition re-reads everyone.
 * - A renamed attached column is followed; a column whose type changes to
 *   one crm_grade cannot read refuses the ALTER; a key widened from integer
 *   to bigint rebuilds the typed views.
 * - A dropped attached table is detached with a WARNING, and each customer
 *   it changes gets a history row; dropping a column crm_grade reads is
 *   refused; inheritance children are refused.
 * - DROP EXTENSION removes crm_grade's triggers from the application's
 *   tables first, so it needs no CASCADE and never touches their rows.
 *
 * Event triggers fire for every role's DDL: each handler returns at once
 * unless an attached table is involved, and does its work as crm_grade's
 * owner, so installing crm_grade takes no right away from anyone.
 *
 *-------------------------------------------------------------------------
 */
#include "refresh.h"

#include "gather.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/deparse_utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(crm_grade_place_triggers);
PG_FUNCTION_INFO_V1(crm_grade_remove_triggers);
PG_FUNCTION_INFO_V1(crm_grade_on_sql_drop);
PG_FUNCTION_INFO_V1(crm_grade_on_ddl_end);
PG_FUNCTION_INFO_V1(crm_grade_on_ddl_start);

/* While crm_grade runs DDL of its own, its event triggers stand aside. */
int			crm_own_ddl_depth = 0;

static const char *const StatementTriggers[] = {
	"crm_grade_insert", "crm_grade_update", "crm_grade_delete", "crm_grade_truncate"
};

#define REPLICA_TRIGGER "crm_grade_replica"

/* The views attach_*() creates with the application's key type. */
static const char *const TypedViews[] = {"customer_grades", "grade_history", "data_issues"};

/* Run one of crm_grade's own DDL statements. */
static void
OwnDdl(const char *sql)
{
	crm_own_ddl_depth++;
	PG_TRY();
	{
		if (SPI_execute(sql, false, 0) < 0)
			elog(ERROR, "crm_grade: could not run \"%s\"", sql);
	}
	PG_FINALLY();
	{
		crm_own_ddl_depth--;
	}
	PG_END_TRY();
}

/* Qualified, quoted name of a relation. */
static char *
RelName(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		elog(ERROR, "crm_grade: relation %u does not exist", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
}

/* Does a relation have a trigger of this name that is not a partition's clone? */
static bool
HasOwnTrigger(Oid relid, const char *name)
{
	HeapTuple	tup;
	bool		own = false;
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;

	ScanKeyInit(&key[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 2, key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
		own = !OidIsValid(((Form_pg_trigger) GETSTRUCT(tup))->tgparentid);
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return own;
}

/* The relation and every partition under it, at any depth. */
static List *
PartitionTree(Oid relid)
{
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
		return find_all_inheritors(relid, NoLock, NULL);
	return list_make1_oid(relid);
}

/* Drop crm_grade's statement triggers (and, on the root, its row trigger). */
static void
RemoveTriggers(Oid relid, bool root)
{
	ListCell   *lc;
	int			i;

	foreach(lc, PartitionTree(relid))
	{
		Oid			rel = lfirst_oid(lc);

		for (i = 0; i < lengthof(StatementTriggers); i++)
			if (HasOwnTrigger(rel, StatementTriggers[i]))
				OwnDdl(psprintf("DROP TRIGGER %s ON %s", StatementTriggers[i], RelName(rel)));
	}
	if (root && HasOwnTrigger(relid, REPLICA_TRIGGER))
		OwnDdl(psprintf("DROP TRIGGER %s ON %s", REPLICA_TRIGGER, RelName(relid)));
}

/*
 * Place crm_grade's triggers on a relation and every partition under it:
 * statement triggers with transition tables on each (a write straight into
 * a partition fires only that partition's statement triggers), and on the
 * root a row trigger for replicated rows, which PostgreSQL clones to every
 * partition, present and future.
 */
static void
PlaceTriggers(Oid relid, const char *kind, bool root)
{
	char	   *arg = quote_literal_cstr(kind);
	ListCell   *lc;

	RemoveTriggers(relid, root);
	foreach(lc, PartitionTree(relid))
	{
		char	   *name = RelName(lfirst_oid(lc));

		OwnDdl(psprintf("CREATE TRIGGER crm_grade_insert AFTER INSERT ON %s "
						"REFERENCING NEW TABLE AS crm_grade_new FOR EACH STATEMENT "
						"EXECUTE FUNCTION crm_grade.source_trigger(%s)", name, arg));
		OwnDdl(psprintf("CREATE TRIGGER crm_grade_update AFTER UPDATE ON %s "
						"REFERENCING OLD TABLE AS crm_grade_old NEW TABLE AS crm_grade_new "
						"FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger(%s)", name, arg));
		OwnDdl(psprintf("CREATE TRIGGER crm_grade_delete AFTER DELETE ON %s "
						"REFERENCING OLD TABLE AS crm_grade_old FOR EACH STATEMENT "
						"EXECUTE FUNCTION crm_grade.source_trigger(%s)", name, arg));
		OwnDdl(psprintf("CREATE TRIGGER crm_grade_truncate AFTER TRUNCATE ON %s "
						"FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger(%s)", name, arg));
		OwnDdl(psprintf("ALTER TABLE %s ENABLE ALWAYS TRIGGER crm_grade_truncate", name));
	}
	if (root)
	{
		char	   *name = RelName(relid);

		OwnDdl(psprintf("CREATE TRIGGER %s AFTER INSERT OR UPDATE OR DELETE ON %s "
						"FOR EACH ROW EXECUTE FUNCTION crm_grade.source_trigger(%s)",
						REPLICA_TRIGGER, name, arg));
		OwnDdl(psprintf("ALTER TABLE %s ENABLE REPLICA TRIGGER %s", name, REPLICA_TRIGGER));
	}
}

/* SQL: crm_grade._place_triggers(tbl regclass, kind text) */
Datum
crm_grade_place_triggers(PG_FUNCTION_ARGS)
{
	CrmIdentity id;

	CrmEnter(&id);
	PlaceTriggers(PG_GETARG_OID(0), text_to_cstring(PG_GETARG_TEXT_PP(1)), true);
	CrmLeave(&id);
	PG_RETURN_VOID();
}

/* SQL: crm_grade._remove_triggers(tbl regclass) */
Datum
crm_grade_remove_triggers(PG_FUNCTION_ARGS)
{
	CrmIdentity id;

	CrmEnter(&id);
	RemoveTriggers(PG_GETARG_OID(0), true);
	CrmLeave(&id);
	PG_RETURN_VOID();
}

/* Re-read the customers with rows in one relation (a partition). */
static void
RefreshKeysOf(Oid relid, Source *src, const char *event)
{
	int			n;
	char	  **keys = GatherKeysOf(relid, src, &n);

	if (n > 0)
		RefreshKeys(keys, n, event);
}

/*
 * The start of the sql_drop and ddl_command_end handlers: nothing to do
 * unless some table is attached (and crm_grade is not running DDL of its
 * own); otherwise connected to SPI as crm_grade's owner.
 */
static bool
EnterIfAttached(FunctionCallInfo fcinfo, CrmIdentity *id)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) || crm_own_ddl_depth > 0)
		return false;
	CrmEnter(id);
	if (SourcesLoad()->n > 0)
		return true;
	CrmLeave(id);
	return false;
}

/* ---------------------------------------------------------------- sql_drop */

/* Dropping a column crm_grade reads is refused. */
static void
RefuseColumnDrop(Source *src, const char *column)
{
	int			r;

	for (r = 0; r < SourceKinds[src->kind].nroles; r++)
		if (column && src->columns[r] && strcmp(src->columns[r], column) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop column \"%s\" of %s: crm_grade reads it as the %s",
							column, src->relname, SourceKinds[src->kind].roles[r].what),
					 errhint("Detach the table first with crm_grade.detach('%s'), or attach it again with another column.",
							 src->relname)));
}

/* An attached table was dropped: its attachment goes, with a WARNING. */
static void
DetachDropped(Oid relid, const char *name)
{
	ereport(WARNING,
			(errmsg("crm_grade: attached table %s was dropped; it is detached", name),
			 errdetail("Every customer is graded again without its rows; each change is in crm_grade.grade_history with reason \"detach\"."),
			 errhint("Attach its replacement with crm_grade.attach_*().")));
	if (SPI_execute_with_args("DELETE FROM crm_grade.source s WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
							  1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(relid)},
							  NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "crm_grade: could not detach a dropped table");
	SourcesForget();
}

/*
 * An attached table dropped: its attachment goes with a WARNING, and every
 * customer is re-read without it, each change logged.  A partition dropped:
 * every customer is re-read (which customers it held is gone with it).
 * A column crm_grade reads: refused.
 */
Datum
crm_grade_on_sql_drop(PG_FUNCTION_ARGS)
{
	CrmIdentity id;
	bool		refresh = false;
	const char *event = "partition_dropped";
	SPITupleTable *tt;
	uint64		i;

	if (!EnterIfAttached(fcinfo, &id))
		PG_RETURN_VOID();
	if (SPI_execute("SELECT d.objid, d.objsubid, d.object_type, d.address_names[3], d.object_identity "
					"FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					"OR (d.object_type OPERATOR(pg_catalog.=) 'trigger' AND d.object_identity "
					"OPERATOR(pg_catalog.~~) 'crm\\_grade\\_insert on %')",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the dropped objects");
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		Oid			objid = DatumGetObjectId(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		int32		subid = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 2, &isnull));
		Source	   *src;

		if (strcmp(SPI_getvalue(tup, tt->tupdesc, 3), "trigger") == 0)
		{
			refresh = true;
			continue;
		}
		if ((src = SourceForRelid(objid, false)) == NULL)
			continue;
		if (subid > 0)
			RefuseColumnDrop(src, SPI_getvalue(tup, tt->tupdesc, 4));
		else
			DetachDropped(objid, SPI_getvalue(tup, tt->tupdesc, 5));
		if (subid == 0)
		{
			refresh = true;
			event = "detach";
		}
	}
	if (refresh)
	{
		if (strcmp(event, "detach") == 0 &&
			SPI_execute("SELECT crm_grade._build_views()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not rebuild the views");
		RefreshAll(event);
	}
	CrmLeave(&id);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------- ddl_command_end */

/* Refuse inheritance: rows of an inheritance child are not the parent's facts. */
static void
RefuseInheritance(Oid child, Oid parent)
{
	Source	   *src = SourceForRelid(parent, false);

	if (src == NULL)
		src = SourceForRelid(child, false);
	if (src == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("crm_grade does not grade inheritance hierarchies: %s is attached", src->relname),
			 errdetail("%s would inherit from %s.", RelName(child), RelName(parent)),
			 errhint("Use declarative partitioning (PARTITION BY), which crm_grade follows, or detach %s first.",
					 src->relname)));
}

/* A new or attached partition of an attached table: triggers, and its customers. */
static void
OnPartitionAdded(Oid parent, Oid partition, bool has_rows)
{
	Source	   *src = SourceForRelid(parent, true);
	Source	   *own = SourceForRelid(partition, false);

	if (src == NULL)
		return;
	if (own != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("%s is attached to crm_grade on its own and cannot become a partition of attached table %s",
						own->relname, src->relname),
				 errdetail("Its rows would be graded twice."),
				 errhint("Detach it first with crm_grade.detach('%s').", own->relname)));
	PlaceTriggers(partition, SourceKinds[src->kind].name, false);
	if (has_rows)
		RefreshKeysOf(partition, src, "partition_attached");
}

/* A partition detached: no more triggers, and its customers without it. */
static void
OnPartitionDetached(Oid parent, Oid partition)
{
	Source	   *src = SourceForRelid(parent, true);

	if (src == NULL)
		return;
	RemoveTriggers(partition, false);
	RefreshKeysOf(partition, src, "partition_detached");
}

/*
 * A column of an attached table changed type: it must still be readable
 * (else the ALTER is refused), and a key whose type changed rebuilds the
 * typed views.
 */
static void
OnColumnTypeChanged(Oid relid)
{
	Source	   *src = SourceForRelid(relid, false);
	Relation	rel;
	SourceLayout layout;
	Oid			newtype;

	if (src == NULL)
		return;
	rel = relation_open(relid, AccessShareLock);
	SourceLayoutForDesc(&layout, src, RelationGetDescr(rel), src->relname, false, false);
	relation_close(rel, NoLock);
	newtype = layout.type[ROLE_KEY];
	if (newtype == src->key_type)
		return;
	if (SPI_execute_with_args("SELECT crm_grade._key_type_changed($1, $2)", 2,
							  (Oid[]) {REGCLASSOID, REGTYPEOID},
							  (Datum[]) {ObjectIdGetDatum(relid), ObjectIdGetDatum(newtype)},
							  NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not follow the new key type of %s", src->relname);
	SourcesForget();
}

/* A renamed column of an attached table: follow it. */
static void
OnColumnRenamed(RenameStmt *stmt, Oid relid)
{
	Source	   *src = SourceForRelid(relid, false);
	int			r;

	if (src == NULL || stmt->renameType != OBJECT_COLUMN)
		return;
	for (r = 0; r < SourceKinds[src->kind].nroles; r++)
	{
		if (src->columns[r] == NULL || strcmp(src->columns[r], stmt->subname) != 0)
			continue;
		if (SPI_execute_with_args("UPDATE crm_grade.source s SET columns = pg_catalog.jsonb_set(s.columns, "
								  "ARRAY[$2], pg_catalog.to_jsonb($3)) "
								  "WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
								  3, (Oid[]) {OIDOID, TEXTOID, TEXTOID},
								  (Datum[]) {ObjectIdGetDatum(relid),
									  CStringGetTextDatum(SourceKinds[src->kind].roles[r].name),
								  CStringGetTextDatum(stmt->newname)},
								  NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "crm_grade: could not follow a renamed column");
		SourcesForget();
	}
}

/* The partition an ATTACH or DETACH PARTITION subcommand names. */
static Oid
PartitionOf(AlterTableCmd *at)
{
	PartitionCmd *pc = (PartitionCmd *) at->def;

	if (pc == NULL || !IsA(pc, PartitionCmd) || pc->name == NULL)
		elog(ERROR, "crm_grade: unexpected ALTER TABLE ... PARTITION command");
	return RangeVarGetRelid(pc->name, NoLock, false);
}

/* The subcommands of one ALTER TABLE. */
static void
OnAlterTable(CollectedCommand *cmd)
{
	Oid			relid = cmd->d.alterTable.objectId;
	ListCell   *lc;

	foreach(lc, cmd->d.alterTable.subcmds)
	{
		CollectedATSubcmd *sub = lfirst(lc);
		AlterTableCmd *at = (AlterTableCmd *) sub->parsetree;

		if (!IsA(at, AlterTableCmd))
			continue;
		switch (at->subtype)
		{
			case AT_AttachPartition:
				OnPartitionAdded(relid, PartitionOf(at), true);
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				OnPartitionDetached(relid, PartitionOf(at));
				break;
			case AT_AlterColumnType:
				OnColumnTypeChanged(relid);
				break;
			case AT_AddInherit:
				RefuseInheritance(relid, sub->address.objectId);
				break;
			default:
				break;
		}
	}
}

/* The direct inheritance parents of a relation. */
static List *
InheritanceParents(Oid relid)
{
	List	   *parents = NIL;
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		parents = lappend_oid(parents, ((Form_pg_inherits) GETSTRUCT(tup))->inhparent);
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	return parents;
}

/* CREATE TABLE: a partition of an attached table, or an inheritance child. */
static void
OnCreateTable(CreateStmt *stmt, Oid relid)
{
	ListCell   *lc;

	if (stmt->partbound != NULL)
	{
		OnPartitionAdded(get_partition_parent(relid, true), relid, false);
		return;
	}
	if (stmt->inhRelations == NIL)
		return;
	foreach(lc, InheritanceParents(relid))
		RefuseInheritance(relid, lfirst_oid(lc));
}

/*
 * ddl_command_end: follow the application's migrations of attached
 * tables (see the file header).
 */
Datum
crm_grade_on_ddl_end(PG_FUNCTION_ARGS)
{
	CrmIdentity id;
	SPITupleTable *tt;
	uint64		i;

	if (!EnterIfAttached(fcinfo, &id))
		PG_RETURN_VOID();
	if (SPI_execute("SELECT c.objid, c.command FROM pg_catalog.pg_event_trigger_ddl_commands() c "
					"WHERE c.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass "
					"AND c.command_tag IN ('CREATE TABLE', 'ALTER TABLE')",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the DDL commands");
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		CollectedCommand *cmd = (CollectedCommand *) DatumGetPointer(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));

		if (isnull || cmd == NULL)
			continue;
		if (cmd->type == SCT_AlterTable)
			OnAlterTable(cmd);
		else if (cmd->type == SCT_Simple && IsA(cmd->parsetree, CreateStmt))
			OnCreateTable((CreateStmt *) cmd->parsetree, relid);
		else if (cmd->type == SCT_Simple && IsA(cmd->parsetree, RenameStmt))
			OnColumnRenamed((RenameStmt *) cmd->parsetree, relid);
	}
	CrmLeave(&id);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------- ddl_command_start */

/* Does a DROP EXTENSION statement name crm_grade? */
static bool
DropsCrmGrade(Node *parsetree, DropBehavior *behavior)
{
	DropStmt   *stmt = (DropStmt *) parsetree;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt) || stmt->removeType != OBJECT_EXTENSION)
		return false;
	*behavior = stmt->behavior;
	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);

		if (IsA(obj, String) && strcmp(strVal(obj), "crm_grade") == 0)
			return true;
	}
	return false;
}

/*
 * DROP EXTENSION crm_grade: take crm_grade's triggers off the
 * application's tables and drop the views attach_*() made, so that the
 * extension goes without CASCADE and no application row is touched.
 */
Datum
crm_grade_on_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	DropBehavior behavior;
	CrmIdentity id;
	SourceSet  *set;
	int			i;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) || crm_own_ddl_depth > 0)
		PG_RETURN_VOID();
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!DropsCrmGrade(trigdata->parsetree, &behavior))
		PG_RETURN_VOID();
	CrmEnter(&id);
	set = SourcesLoad();
	for (i = 0; i < set->n; i++)
		if (get_rel_name(set->items[i].relid) != NULL)
			RemoveTriggers(set->items[i].relid, true);
	for (i = 0; i < lengthof(TypedViews); i++)
		if (OidIsValid(get_relname_relid(TypedViews[i], CrmSchemaOid())))
			OwnDdl(psprintf("DROP VIEW crm_grade.%s %s", TypedViews[i],
							behavior == DROP_CASCADE ? "CASCADE" : "RESTRICT"));
	CrmLeave(&id);
	PG_RETURN_VOID();
}
