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

#include "errors.h"
#include "filter.h"
#include "gather.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/tablecmds.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "tcop/deparse_utility.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(crm_grade_place_triggers);
PG_FUNCTION_INFO_V1(crm_grade_remove_triggers);
PG_FUNCTION_INFO_V1(crm_grade_on_sql_drop);
PG_FUNCTION_INFO_V1(crm_grade_on_ddl_end);
PG_FUNCTION_INFO_V1(crm_grade_on_ddl_start);
PG_FUNCTION_INFO_V1(crm_grade_lock_before_attach);

/* While crm_grade runs DDL of its own, its event triggers stand aside. */
int			crm_own_ddl_depth = 0;

/*
 * The customers of the partitions a DROP is about to take, read at
 * ddl_command_start (after the drop, nothing says whose rows they were),
 * re-read at sql_drop.  Valid in the transaction that read them.
 */
/*
 * Filters analysed before an ALTER TYPE or ALTER SCHEMA (their types and
 * enum labels held by OID), written again after it: a renamed enum type,
 * label or schema would otherwise leave a stored filter naming what no
 * longer exists, and every write to its table would fail.
 */
typedef struct StashedFilter
{
	Oid			relid;
	Node	   *expr;
} StashedFilter;

static LocalTransactionId stashed_lxid = InvalidLocalTransactionId;
static List *stashed_filters = NIL;

static LocalTransactionId pending_drop_lxid = InvalidLocalTransactionId;
static char **pending_drop_keys = NULL;
static int	pending_drop_nkeys = 0;

static const char *const StatementTriggers[] = {
	"crm_grade_begin", "crm_grade_insert", "crm_grade_update", "crm_grade_delete", "crm_grade_truncate"
};

#define REPLICA_TRIGGER "crm_grade_replica"

/* The views attach_*() creates with the application's key type (and followups_due()). */
static const char *const TypedViews[] = {
	"customer_grades", "grade_history", "data_issues", "stalled_opportunities"
};

/* Run one of crm_grade's own DDL statements. */
static void
OwnDdl(const char *sql)
{
	crm_own_ddl_depth++;
	PG_TRY();
	{
		if (CrmSpiExecute(sql, false, 0) < 0)
			elog(ERROR, "crm_grade: could not run \"%s\"", sql);
	}
	PG_FINALLY();
	{
		crm_own_ddl_depth--;
	}
	PG_END_TRY();
}

/* Does a relation have a trigger of this name that is not a partition's clone? */
static bool
HasOwnTrigger(Oid relid, const char *name)
{
	bool		clone = false;

	return CrmTriggerMode(relid, name, &clone) != '\0' && !clone;
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
				OwnDdl(psprintf("DROP TRIGGER %s ON %s", StatementTriggers[i], CrmRelName(rel)));
	}
	if (root && HasOwnTrigger(relid, REPLICA_TRIGGER))
		OwnDdl(psprintf("DROP TRIGGER %s ON %s", REPLICA_TRIGGER, CrmRelName(relid)));
}

/*
 * Place crm_grade's triggers on a relation and every partition under it:
 * statement triggers with transition tables on each (a write straight into
 * a partition fires only that partition's statement triggers), a BEFORE
 * statement trigger that only makes sure the library is loaded before the
 * statement finishes, and on the root a row trigger for replicated rows,
 * which PostgreSQL clones to every partition, present and future.
 */
static void
PlaceTriggers(Oid relid, const char *kind, bool root)
{
	char	   *arg = quote_literal_cstr(kind);
	ListCell   *lc;

	RemoveTriggers(relid, root);
	foreach(lc, PartitionTree(relid))
	{
		char	   *name = CrmRelName(lfirst_oid(lc));

		/* loads crm_grade before the statement finishes (see trigger.c) */
		OwnDdl(psprintf("CREATE TRIGGER crm_grade_begin BEFORE INSERT OR UPDATE OR DELETE ON %s "
						"FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger(%s)", name, arg));
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
		char	   *name = CrmRelName(relid);

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
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) || crm_own_ddl_depth > 0 || !StateCatalogCurrent())
		return false;			/* (not updated yet: the update re-reads everything) */
	CrmEnter(id);
	if (SourcesLoad()->n > 0)
		return true;
	CrmLeave(id);
	return false;
}

/* "following ALTER TABLE": an event trigger's work, for its errors' context. */
static const char *
EventName(FunctionCallInfo fcinfo)
{
	EventTriggerData *trigdata = (EventTriggerData *) fcinfo->context;

	return psprintf("following %s", GetCommandTagName(trigdata->tag));
}

/* ---------------------------------------------------------------- filters */

/* Does the source's filter name this column? */
static bool
FilterNames(Source *src, const char *column)
{
	ListCell   *lc;

	if (src->filter == NULL || column == NULL)
		return false;
	foreach(lc, FilterColumns(src->filter))
		if (strcmp((char *) lfirst(lc), column) == 0)
			return true;
	return false;
}

/* Is the column one of the attachment's roles? */
static bool
IsRoleColumn(Source *src, const char *column)
{
	int			r;

	for (r = 0; r < SourceKinds[src->kind].nroles; r++)
		if (column && src->columns[r] && strcmp(src->columns[r], column) == 0)
			return true;
	return false;
}

/* Does crm_grade read the column, as one of its roles or in the filter? */
static bool
ReadsColumn(Source *src, const char *column)
{
	return IsRoleColumn(src, column) || FilterNames(src, column);
}

/* Store the filter of an attached table as it is now written. */
static void
StoreFilter(Oid relid, const char *filter)
{
	if (CrmSpiExecuteWithArgs("UPDATE crm_grade.source s SET filter = $2 "
							  "WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
							  "AND s.filter IS DISTINCT FROM $2",
							  2, (Oid[]) {OIDOID, TEXTOID},
							  (Datum[]) {ObjectIdGetDatum(relid), CStringGetTextDatum(filter)},
							  NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "crm_grade: could not store the filter of relation %u", relid);
	SourcesForget();
}

/*
 * Check the filter again after one of its columns was renamed or changed
 * type, and store it as PostgreSQL now writes it; a filter that no longer
 * holds (an operator the new type lacks) refuses the ALTER.
 */
static void
RewriteFilter(Source *src, Oid relid, const char *oldname, const char *newname)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	char	   *hint = oldname ? NULL : psprintf("The filter of %s no longer fits the column's new type: attach the table again with a filter for it, then repeat the ALTER, or detach it first with crm_grade.detach('%s').",
							   src->relname, src->relname);
	int			nestlevel;
	char	   *filter;

	/* the stored text, read as it was written */
	nestlevel = CrmPinTextFormats();
	filter = FilterCanonical(rel, src->filter, src->relname, oldname, newname, hint);
	AtEOXact_GUC(true, nestlevel);
	relation_close(rel, NoLock);
	StoreFilter(relid, filter);
}

/*
 * The names a stored filter would print of the types or schema a statement
 * renames or moves (ALTER TYPE ... RENAME [VALUE] / SET SCHEMA, ALTER
 * SCHEMA ... RENAME, ALTER EXTENSION ... SET SCHEMA of an extension's
 * enums): "schema." for a schema, "schema.type" for a type; NIL when no
 * filter can name them.  A filter names a type of the application's only
 * as an enum (attach_*() admits nothing else), always schema-qualified
 * (crm_grade writes it with search_path pg_catalog): a statement about
 * anything else, or by a role that may not run it (PostgreSQL refuses it
 * next), is none of crm_grade's business, whoever runs it.
 */
static List *ExtensionEnumNames(const char *extname);

static List *
RenamedNames(Node *parsetree)
{
	List	   *typename = NIL;
	Oid			typid;

	if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA)
	{
		const char *schema = ((RenameStmt *) parsetree)->subname;
		Oid			nsp = get_namespace_oid(schema, true);

		if (!OidIsValid(nsp) || !pg_namespace_ownercheck(nsp, GetUserId()))
			return NIL;
		return list_make1(psprintf("%s.", quote_identifier(schema)));
	}
	if (IsA(parsetree, AlterObjectSchemaStmt) &&
		((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_EXTENSION)
		return ExtensionEnumNames(strVal(((AlterObjectSchemaStmt *) parsetree)->object));
	if (IsA(parsetree, RenameStmt) && ((RenameStmt *) parsetree)->renameType == OBJECT_TYPE)
		typename = (List *) ((RenameStmt *) parsetree)->object;
	else if (IsA(parsetree, AlterObjectSchemaStmt) &&
			 ((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_TYPE)
		typename = (List *) ((AlterObjectSchemaStmt *) parsetree)->object;
	else if (IsA(parsetree, AlterEnumStmt) && ((AlterEnumStmt *) parsetree)->oldVal != NULL)
		typename = ((AlterEnumStmt *) parsetree)->typeName;
	if (typename == NIL)
		return NIL;
	typid = LookupTypeNameOid(NULL, makeTypeNameFromNameList(typename), true);
	if (!OidIsValid(typid) || get_typtype(typid) != TYPTYPE_ENUM || !pg_type_ownercheck(typid, GetUserId()))
		return NIL;
	return list_make1(format_type_extended(typid, -1, FORMAT_TYPE_FORCE_QUALIFY));
}

/* The qualified names of an extension's enums, for its owner (ALTER EXTENSION ... SET SCHEMA). */
static List *
ExtensionEnumNames(const char *extname)
{
	Oid			ext = get_extension_oid(extname, true);
	List	   *names = NIL;
	Relation	depend;
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;

	if (!OidIsValid(ext) || !pg_extension_ownercheck(ext, GetUserId()))
		return NIL;
	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ExtensionRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_depend dep = (Form_pg_depend) GETSTRUCT(tup);

		if (dep->classid == TypeRelationId && dep->deptype == DEPENDENCY_EXTENSION &&
			get_typtype(dep->objid) == TYPTYPE_ENUM)
			names = lappend(names, format_type_extended(dep->objid, -1, FORMAT_TYPE_FORCE_QUALIFY));
	}
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return names;
}

/*
 * May a filter's text name this type or schema?  Where it stands after a
 * character that ends no identifier: "nce." is not in "NOT cancelled", and
 * "a.state" not in "data.state".
 */
static bool
FilterNamesAt(const char *filter, const char *name)
{
	const char *at;

	for (at = strstr(filter, name); at != NULL; at = strstr(at + 1, name))
		if (at == filter || !(isalnum((unsigned char) at[-1]) || at[-1] == '_' || at[-1] == '$' ||
							  at[-1] == '"' || IS_HIGHBIT_SET(at[-1])))
			return true;
	return false;
}

/* May a filter's text name any of these? */
static bool
FilterMayName(const char *filter, List *names)
{
	ListCell   *lc;

	foreach(lc, names)
		if (FilterNamesAt(filter, lfirst(lc)))
			return true;
	return false;
}

/*
 * Before such a statement: each filter that may name what it renames,
 * analysed while its names hold (the others are not opened, nor locked).
 */
static void
StashFilters(List *names)
{
	CrmIdentity id;
	SourceSet  *set;
	MemoryContext oldcxt;
	int			i;

	stashed_lxid = InvalidLocalTransactionId;
	CrmEnter(&id);
	set = SourcesLoad();
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	stashed_filters = NIL;
	for (i = 0; i < set->n; i++)
	{
		Source	   *src = &set->items[i];
		StashedFilter *sf;
		Relation	rel;

		if (src->filter == NULL || !FilterMayName(src->filter, names))
			continue;
		rel = relation_open(src->relid, AccessShareLock);
		sf = palloc(sizeof(StashedFilter));
		sf->relid = src->relid;
		sf->expr = FilterAnalyse(rel, src->filter, src->relname);
		relation_close(rel, NoLock);
		stashed_filters = lappend(stashed_filters, sf);
	}
	stashed_lxid = MyProc->lxid;
	MemoryContextSwitchTo(oldcxt);
	CrmLeave(&id);
}

/* After it: each stashed filter written with the names it now has. */
static void
RewriteStashedFilters(void)
{
	ListCell   *lc;

	if (stashed_lxid != MyProc->lxid)
		return;
	stashed_lxid = InvalidLocalTransactionId;
	foreach(lc, stashed_filters)
	{
		StashedFilter *sf = lfirst(lc);
		Relation	rel = relation_open(sf->relid, AccessShareLock);

		StoreFilter(sf->relid, FilterDeparse(rel, sf->expr));
		relation_close(rel, NoLock);
	}
	stashed_filters = NIL;
}

/* ---------------------------------------------------------------- sql_drop */

/* Dropping a column crm_grade reads, as a role or in the filter, is refused. */
static void
RefuseColumnDrop(Source *src, const char *column)
{
	int			r;

	if (FilterNames(src, column))
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop column \"%s\" of %s: crm_grade's filter reads it",
						column, src->relname),
				 errdetail("The filter is \"%s\".", src->filter),
				 errhint("Attach the table again with a filter that does not name it, then drop the column.")));

	for (r = 0; r < SourceKinds[src->kind].nroles; r++)
		if (column && src->columns[r] && strcmp(src->columns[r], column) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop column \"%s\" of %s: crm_grade reads it as the %s",
							column, src->relname, SourceKinds[src->kind].roles[r].what),
					 errhint("Detach the table first with crm_grade.detach('%s'), or attach it again with another column.",
							 src->relname)));
}

/*
 * The customer master's key must stay unique (attach_customers() checked
 * it): dropping its unique index or constraint is refused, else duplicate
 * rows would silently collapse into one customer.
 */
static void
CheckMasterStillUnique(void)
{
	Source	   *master = SourceMaster();

	if (master == NULL || get_rel_name(master->relid) == NULL)
		return;
	if (CrmSpiExecuteWithArgs("SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
							  "ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid "
							  "AND a.attnum OPERATOR(pg_catalog.=) i.indkey[0] "
							  "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique AND i.indpred IS NULL "
							  "AND i.indexprs IS NULL AND i.indnkeyatts OPERATOR(pg_catalog.=) 1 "
							  "AND a.attname::pg_catalog.text OPERATOR(pg_catalog.=) $2",
							  2, (Oid[]) {OIDOID, TEXTOID},
							  (Datum[]) {ObjectIdGetDatum(master->relid),
							  CStringGetTextDatum(master->columns[ROLE_KEY])},
							  NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not check the customer master's key");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot drop the unique index on the key of customer master %s", master->relname),
				 errdetail("crm_grade needs one row per customer in the customer master."),
				 errhint("Detach the customer master first with crm_grade.detach('%s'), or create another unique index on \"%s\" before dropping this one.",
						 master->relname, master->columns[ROLE_KEY])));
}

/* An attached table was dropped: its attachment goes, with a WARNING. */
static void
DetachDropped(Oid relid, const char *name)
{
	ereport(WARNING,
			(errmsg("crm_grade: attached table %s was dropped; it is detached", name),
			 errdetail("Every customer is graded again without its rows; each change is in crm_grade.grade_history with reason \"detach\"."),
			 errhint("Attach its replacement with crm_grade.attach_*().")));
	if (CrmSpiExecuteWithArgs("DELETE FROM crm_grade.source s WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
							  1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(relid)},
							  NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "crm_grade: could not detach a dropped table");
	SourcesForget();
}

/*
 * An attached table dropped: its attachment goes with a WARNING, and every
 * customer is re-read without it, each change logged.  A partition dropped:
 * the customers it held (read before the drop, see BeforeDrop) are re-read.
 * A column crm_grade reads: refused.
 */
static void
OnSqlDropWork(CrmScope *scope, void *arg)
{
	CrmIdentity *id = arg;
	bool		refresh = false;
	SPITupleTable *tt;
	uint64		i;

	if (CrmSpiExecute("SELECT d.objid, d.objsubid, d.object_type, d.address_names[3], d.object_identity "
					"FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					"WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass",
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

		if ((src = SourceForRelid(objid, false)) == NULL)
			continue;
		if (subid > 0)
			RefuseColumnDrop(src, SPI_getvalue(tup, tt->tupdesc, 4));
		else
			DetachDropped(objid, SPI_getvalue(tup, tt->tupdesc, 5));
		if (subid == 0)
			refresh = true;
	}
	CheckMasterStillUnique();
	if (refresh)
	{
		if (CrmSpiExecute("SELECT crm_grade._build_views()", false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not rebuild the views");
		RefreshAll("detach");
	}
	else if (pending_drop_lxid == MyProc->lxid && pending_drop_nkeys > 0)
		RefreshKeys(pending_drop_keys, pending_drop_nkeys, "partition_dropped");
	pending_drop_lxid = InvalidLocalTransactionId;
	CrmLeave(id);
}

Datum
crm_grade_on_sql_drop(PG_FUNCTION_ARGS)
{
	CrmIdentity id;

	if (!EnterIfAttached(fcinfo, &id))
		PG_RETURN_VOID();
	CrmRunScoped(EventName(fcinfo), NULL, OnSqlDropWork, &id);
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
			 errdetail("%s would inherit from %s.", CrmRelName(child), CrmRelName(parent)),
			 errhint("Use declarative partitioning (PARTITION BY), which crm_grade follows, or detach %s first.",
					 src->relname)));
}

/*
 * The rows of a table becoming a partition are graded facts: refuse NULL,
 * NaN and infinite values as attach_*() does (crm_grade._check_rows, which
 * counts them as the partition's owner through _count_as_owner(): this
 * runs as crm_grade's owner, who need not own the partition).
 */
static void
CheckRowsOf(Oid relid, Source *src)
{
	crm_rows_checked = relid;
	PG_TRY();
	{
		if (CrmSpiExecuteWithArgs("SELECT crm_grade._check_rows($1, s.kind, s.columns, s.filter) FROM crm_grade.source s "
								  "WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $2",
								  2, (Oid[]) {REGCLASSOID, OIDOID},
								  (Datum[]) {ObjectIdGetDatum(relid), ObjectIdGetDatum(src->relid)},
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not check the rows of %s", CrmRelName(relid));
	}
	PG_FINALLY();
	{
		crm_rows_checked = InvalidOid;
	}
	PG_END_TRY();
}

/*
 * A foreign table cannot take the statement triggers (their transition
 * tables), and its rows are written where no trigger of crm_grade's sees
 * them: refused before anything reads it, with crm_grade's own words.
 */
static void
RefuseForeignPartition(Oid partition, Source *src)
{
	ListCell   *lc;

	foreach(lc, PartitionTree(partition))
		if (get_rel_relkind(lfirst_oid(lc)) == RELKIND_FOREIGN_TABLE)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("foreign table %s cannot become a partition of attached table %s",
							CrmRelName(lfirst_oid(lc)), src->relname),
					 errdetail("crm_grade grades a row in the transaction that writes it, which cannot see the writes of a foreign table."),
					 errhint("Keep the foreign table outside %s, or first detach %s from crm_grade with crm_grade.detach('%s').",
							 src->relname, src->relname, src->relname)));
}

/* A new or attached partition of an attached table: triggers, and its customers. */
static void
OnPartitionAdded(Oid parent, Oid partition, bool has_rows)
{
	Source	   *src = SourceForRelid(parent, true);
	Source	   *own = SourceForRelid(partition, false);

	if (src == NULL)
		return;
	RefuseForeignPartition(partition, src);
	if (own != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_IN_USE),
				 errmsg("%s is attached to crm_grade on its own and cannot become a partition of attached table %s",
						own->relname, src->relname),
				 errdetail("Its rows would be graded twice."),
				 errhint("Detach it first with crm_grade.detach('%s').", own->relname)));
	if (has_rows)
		CheckRowsOf(partition, src);
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
 * (else the ALTER is refused), a key whose type changed rebuilds the typed
 * views, and since a rewrite may have changed values (USING, rounding, a
 * timestamp read in another zone), a column crm_grade reads re-grades
 * everyone.  Returns whether it read such a column.
 */
static bool
OnColumnTypeChanged(Oid relid, const char *column)
{
	Source	   *src = SourceForRelid(relid, false);
	Relation	rel;
	SourceLayout layout;
	Oid			newtype;
	bool		filtered;
	bool		read;

	if (src == NULL)
		return false;
	rel = relation_open(relid, AccessShareLock);
	SourceLayoutForDesc(&layout, src, RelationGetDescr(rel), src->relname, false, false);
	relation_close(rel, NoLock);
	filtered = FilterNames(src, column);
	read = filtered || IsRoleColumn(src, column);
	if (filtered)
		RewriteFilter(src, relid, NULL, NULL);
	newtype = layout.type[ROLE_KEY];
	if (newtype == src->key_type)
		return read;
	if (CrmSpiExecuteWithArgs("SELECT crm_grade._key_type_changed($1, $2)", 2,
							  (Oid[]) {REGCLASSOID, REGTYPEOID},
							  (Datum[]) {ObjectIdGetDatum(relid), ObjectIdGetDatum(newtype)},
							  NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not follow the new key type of %s", src->relname);
	SourcesForget();
	return read;
}

/* A renamed column of an attached table: follow it. */
static void
OnColumnRenamed(Oid relid, const char *oldname, const char *newname)
{
	Source	   *src = SourceForRelid(relid, false);
	int			r;

	if (src == NULL)
		return;
	if (FilterNames(src, oldname))
		RewriteFilter(src, relid, oldname, newname);
	for (r = 0; r < SourceKinds[src->kind].nroles; r++)
	{
		if (src->columns[r] == NULL || strcmp(src->columns[r], oldname) != 0)
			continue;
		if (CrmSpiExecuteWithArgs("UPDATE crm_grade.source s SET columns = pg_catalog.jsonb_set(s.columns, "
								  "ARRAY[$2], pg_catalog.to_jsonb($3)) "
								  "WHERE s.tbl::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
								  3, (Oid[]) {OIDOID, TEXTOID, TEXTOID},
								  (Datum[]) {ObjectIdGetDatum(relid),
									  CStringGetTextDatum(SourceKinds[src->kind].roles[r].name),
								  CStringGetTextDatum(newname)},
								  NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "crm_grade: could not follow a renamed column");
		SourcesForget();
	}
}

/*
 * The mode each of crm_grade's triggers must fire in: the statement
 * triggers as the application's writes do (origin), the row trigger only
 * for replicated rows, TRUNCATE always.  ALTER TABLE ... ENABLE TRIGGER
 * ALL (a restore procedure, say) resets them all to origin: put them back,
 * leaving disabled ones disabled.
 */
static char
TriggerMode(const char *name)
{
	if (strcmp(name, REPLICA_TRIGGER) == 0)
		return TRIGGER_FIRES_ON_REPLICA;
	if (strcmp(name, "crm_grade_truncate") == 0)
		return TRIGGER_FIRES_ALWAYS;
	return TRIGGER_FIRES_ON_ORIGIN;
}

static void
FixTriggerModes(Oid relid)
{
	ListCell   *lc;
	uint64		i;

	if (SourceForRelid(relid, true) == NULL)
		return;
	foreach(lc, PartitionTree(relid))
	{
		Oid			rel = lfirst_oid(lc);
		SPITupleTable *tt;

		if (CrmSpiExecuteWithArgs("SELECT g.tgname::pg_catalog.text, g.tgenabled FROM pg_catalog.pg_trigger g "
								  "WHERE g.tgrelid OPERATOR(pg_catalog.=) $1 "
								  "AND g.tgname::pg_catalog.text OPERATOR(pg_catalog.~~) 'crm\\_grade\\_%'",
								  1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(rel)},
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not read the triggers of %s", CrmRelName(rel));
		tt = SPI_tuptable;
		for (i = 0; i < tt->numvals; i++)
		{
			bool		isnull;
			char	   *name = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			char		mode = DatumGetChar(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
			char		want = TriggerMode(name);

			if (mode == TRIGGER_DISABLED || mode == want)
				continue;
			OwnDdl(psprintf("ALTER TABLE %s ENABLE %s TRIGGER %s", CrmRelName(rel),
							want == TRIGGER_FIRES_ON_REPLICA ? "REPLICA" :
							want == TRIGGER_FIRES_ALWAYS ? "ALWAYS" : "",
							quote_identifier(name)));
		}
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

/* What one DDL command asks crm_grade to do, resolved as the command was. */
typedef enum DdlActionKind
{
	ACT_PARTITION_ADDED,
	ACT_PARTITION_CREATED,
	ACT_PARTITION_DETACHED,
	ACT_TYPE_CHANGED,
	ACT_INHERIT,
	ACT_RENAMED,
	ACT_TRIGGER_MODES
} DdlActionKind;

typedef struct DdlAction
{
	DdlActionKind kind;
	Oid			relid;
	Oid			other;			/* partition, inheritance parent */
	char	   *name;			/* column */
	char	   *newname;
} DdlAction;

static List *
AddAction(List *actions, DdlActionKind kind, Oid relid, Oid other, char *name, char *newname)
{
	DdlAction  *a = palloc0(sizeof(DdlAction));

	a->kind = kind;
	a->relid = relid;
	a->other = other;
	a->name = name;
	a->newname = newname;
	return lappend(actions, a);
}

/* The actions of the subcommands of one ALTER TABLE. */
static List *
AlterTableActions(List *actions, CollectedCommand *cmd)
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
				actions = AddAction(actions, ACT_PARTITION_ADDED, relid, PartitionOf(at), NULL, NULL);
				break;
			case AT_DetachPartition:
			case AT_DetachPartitionFinalize:
				actions = AddAction(actions, ACT_PARTITION_DETACHED, relid, PartitionOf(at), NULL, NULL);
				break;
			case AT_AlterColumnType:
				actions = AddAction(actions, ACT_TYPE_CHANGED, relid, InvalidOid, at->name, NULL);
				break;
			case AT_AddInherit:
				actions = AddAction(actions, ACT_INHERIT, relid,
									RangeVarGetRelid((RangeVar *) at->def, NoLock, false), NULL, NULL);
				break;
			case AT_EnableTrig:
			case AT_EnableAlwaysTrig:
			case AT_EnableReplicaTrig:
			case AT_EnableTrigAll:
			case AT_EnableTrigUser:
				actions = AddAction(actions, ACT_TRIGGER_MODES, relid, InvalidOid, NULL, NULL);
				break;
			default:
				break;
		}
	}
	return actions;
}

/*
 * What the commands of this ddl_command_end ask for.  Runs as the role that
 * ran the DDL, with its search_path, so that the names in the commands
 * resolve as they did.
 */
static List *
CollectDdlActions(void)
{
	List	   *actions = NIL;
	SPITupleTable *tt;
	uint64		i;

	if (CrmSpiExecute("SELECT c.objid, c.classid, c.command FROM pg_catalog.pg_event_trigger_ddl_commands() c",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the DDL commands");
	tt = SPI_tuptable;
	for (i = 0; i < tt->numvals; i++)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull));
		Oid			classid = DatumGetObjectId(SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull));
		CollectedCommand *cmd = (CollectedCommand *) DatumGetPointer(SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &isnull));

		if (isnull || cmd == NULL || classid != RelationRelationId)
			continue;
		if (cmd->type == SCT_AlterTable)
			actions = AlterTableActions(actions, cmd);
		else if (cmd->type == SCT_Simple && (IsA(cmd->parsetree, CreateStmt) ||
											 IsA(cmd->parsetree, CreateForeignTableStmt)))
		{
			/* a CreateForeignTableStmt begins with its CreateStmt */
			CreateStmt *stmt = (CreateStmt *) cmd->parsetree;
			ListCell   *lc;

			if (stmt->partbound != NULL)
				actions = AddAction(actions, ACT_PARTITION_CREATED, relid, InvalidOid, NULL, NULL);
			else if (stmt->inhRelations != NIL)
				foreach(lc, InheritanceParents(relid))
					actions = AddAction(actions, ACT_INHERIT, relid, lfirst_oid(lc), NULL, NULL);
		}
		else if (cmd->type == SCT_Simple && IsA(cmd->parsetree, RenameStmt) &&
				 ((RenameStmt *) cmd->parsetree)->renameType == OBJECT_COLUMN)
		{
			RenameStmt *stmt = (RenameStmt *) cmd->parsetree;

			actions = AddAction(actions, ACT_RENAMED, cmd->d.simple.address.objectId, InvalidOid,
								pstrdup(stmt->subname), pstrdup(stmt->newname));
		}
	}
	return actions;
}

/*
 * ALTER TYPE ... RENAME VALUE of an enum that a column crm_grade reads as
 * an owner, channel, outcome or stage holds: what crm_grade stored of
 * those labels (an owner, the outcome a stage follows) is the old text, so
 * every customer is graded again.  (A filter comparing with the label is
 * written again with its new name; it admits the same rows.)
 */
static Oid
RenamedLabelType(Node *parsetree)
{
	AlterEnumStmt *stmt = (AlterEnumStmt *) parsetree;

	/* (the name as the statement resolved it: the caller's search_path) */
	if (parsetree == NULL || !IsA(parsetree, AlterEnumStmt) || stmt->oldVal == NULL)
		return InvalidOid;
	return typenameTypeId(NULL, makeTypeNameFromNameList(stmt->typeName));
}

static bool
ReadsLabelsOf(Oid enumtype)
{
	SourceSet  *set;
	int			i,
				r;

	if (!OidIsValid(enumtype))
		return false;
	set = SourcesLoad();
	for (i = 0; i < set->n; i++)
	{
		Source	   *src = &set->items[i];

		for (r = 0; r < SourceKinds[src->kind].nroles; r++)
		{
			AttrNumber	att;

			if (src->columns[r] == NULL || SourceKinds[src->kind].roles[r].type != RT_LABEL)
				continue;
			att = get_attnum(src->relid, src->columns[r]);
			if (att != InvalidAttrNumber && getBaseType(get_atttype(src->relid, att)) == enumtype)
				return true;
		}
	}
	return false;
}

/* Carry out the actions (a List *), as crm_grade's owner. */
static void
RunDdlActions(CrmScope *scope, void *arg)
{
	List	   *actions = arg;
	bool		refresh_all = false;
	ListCell   *lc;

	foreach(lc, actions)
	{
		DdlAction  *a = lfirst(lc);

		switch (a->kind)
		{
			case ACT_PARTITION_ADDED:
				OnPartitionAdded(a->relid, a->other, true);
				break;
			case ACT_PARTITION_CREATED:
				OnPartitionAdded(get_partition_parent(a->relid, true), a->relid, false);
				break;
			case ACT_PARTITION_DETACHED:
				OnPartitionDetached(a->relid, a->other);
				break;
			case ACT_TYPE_CHANGED:
				refresh_all |= OnColumnTypeChanged(a->relid, a->name);
				break;
			case ACT_INHERIT:
				RefuseInheritance(a->relid, a->other);
				break;
			case ACT_RENAMED:
				OnColumnRenamed(a->relid, a->name, a->newname);
				break;
			case ACT_TRIGGER_MODES:
				FixTriggerModes(a->relid);
				break;
		}
	}
	if (refresh_all)
		RefreshAll("column_altered");
}

/* Every customer graded again: values of a column crm_grade reads changed. */
static void
RefreshAllAltered(CrmScope *scope, void *arg)
{
	RefreshAll("column_altered");
}

/*
 * ddl_command_end: follow the application's migrations of attached
 * tables (see the file header).
 */
Datum
crm_grade_on_ddl_end(PG_FUNCTION_ARGS)
{
	CrmIdentity id;
	List	   *actions;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) || crm_own_ddl_depth > 0 || !StateCatalogCurrent())
		PG_RETURN_VOID();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade: SPI_connect failed");
	if (stashed_lxid == MyProc->lxid)
	{
		Oid			relabelled = RenamedLabelType(((EventTriggerData *) fcinfo->context)->parsetree);

		CrmBecomeOwner(&id);
		RewriteStashedFilters();
		if (ReadsLabelsOf(relabelled))
			CrmRunScoped(EventName(fcinfo), NULL, RefreshAllAltered, NULL);
		CrmRestoreIdentity(&id);
	}
	actions = CollectDdlActions();
	if (actions != NIL)
	{
		CrmBecomeOwner(&id);
		if (SourcesLoad()->n > 0)
			CrmRunScoped(EventName(fcinfo), NULL, RunDdlActions, actions);
		CrmRestoreIdentity(&id);
	}
	SPI_finish();
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
static void
BeforeDropExtension(DropBehavior behavior)
{
	CrmIdentity id;
	SourceSet  *set;
	int			i;

	CrmEnter(&id);
	set = SourcesLoad();
	for (i = 0; i < set->n; i++)
		if (get_rel_name(set->items[i].relid) != NULL)
			RemoveTriggers(set->items[i].relid, true);
	for (i = 0; i < lengthof(TypedViews); i++)
		if (OidIsValid(get_relname_relid(TypedViews[i], CrmSchemaOid())))
			OwnDdl(psprintf("DROP VIEW crm_grade.%s %s", TypedViews[i],
							behavior == DROP_CASCADE ? "CASCADE" : "RESTRICT"));
	OwnDdl(psprintf("DROP FUNCTION IF EXISTS crm_grade.followups_due(timestamptz, text) %s",
					behavior == DROP_CASCADE ? "CASCADE" : "RESTRICT"));
	CrmLeave(&id);
}

/* Is the relation, or any partition under it, attached on its own? */
static Source *
AttachedInTree(Oid relid)
{
	ListCell   *lc;

	foreach(lc, PartitionTree(relid))
	{
		Source	   *src = SourceForRelid(lfirst_oid(lc), false);

		if (src)
			return src;
	}
	return NULL;
}

/* ------------------------------------------ lock order of DDL that re-grades */

/*
 * May role run DDL on the relation: does it own it, or its schema (DROP
 * SCHEMA takes other roles' tables)?  The command refuses a role that may
 * not; crm_grade must not make it wait for the writers first, and them for
 * it.  Reads the catalog alone: a relation gone since its lookup may not.
 */
static bool
MayChange(Oid relid, Oid role)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner,
				nsp;

	if (!HeapTupleIsValid(tup))
		return false;
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	nsp = ((Form_pg_class) GETSTRUCT(tup))->relnamespace;
	ReleaseSysCache(tup);
	return has_privs_of_role(role, owner) ||
		(SearchSysCacheExists1(NAMESPACEOID, ObjectIdGetDatum(nsp)) &&
		 pg_namespace_ownercheck(nsp, role));
}

/*
 * Before DDL that will end in re-grading customers (everyone, or a
 * partition's): the re-grade's locks and the relations the command locks
 * (relids, each in the mode of the parallel list modes), now, so that the
 * DDL never waits for one while holding the other (see
 * RefreshAllLockBeforeEach).  Not while the database's crm_grade is out of
 * date: the DDL's handlers re-grade nothing then.
 */
static void
LockBeforeRegrade(List *relids, List *modes)
{
	if (StateCatalogCurrent())
		RefreshAllLockBeforeEach(relids, modes);
}

/* Add relid and every partition under it, in mode. */
static void
AddTree(List **relids, List **modes, Oid relid, LOCKMODE mode)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		*relids = lappend_oid(*relids, lfirst_oid(lc));
		*modes = lappend_int(*modes, mode);
	}
}

/*
 * Add what a DROP of relid locks in ACCESS EXCLUSIVE: relid and every
 * partition under it, and first, for a partition, its parent, which
 * PostgreSQL locks before it (a writer through the root holds the parent
 * and goes on to the states: left out, the DROP would wait for it while
 * holding them; found by a workload review).
 */
static void
AddDropped(List **relids, List **modes, Oid relid)
{
	Oid			parent = InvalidOid;

	if (get_rel_relispartition(relid))
		parent = get_partition_parent(relid, true);
	if (OidIsValid(parent))
	{
		*relids = lappend_oid(*relids, parent);
		*modes = lappend_int(*modes, AccessExclusiveLock);
	}
	AddTree(relids, modes, relid, AccessExclusiveLock);
}

/* Add crm_grade's views (a new key type replaces them), ACCESS EXCLUSIVE. */
static void
AddViews(List **relids, List **modes)
{
	int			i;

	for (i = 0; i < lengthof(TypedViews); i++)
	{
		Oid			view = get_relname_relid(TypedViews[i], CrmSchemaOid());

		if (OidIsValid(view))
		{
			*relids = lappend_oid(*relids, view);
			*modes = lappend_int(*modes, AccessExclusiveLock);
		}
	}
}

/*
 * Will the views get another key type (_build_views() then replaces them)
 * once a table of key type add_type (InvalidOid: none) is attached and the
 * relations dropped are detached?  Asked of SQL's _views_change(), the one
 * definition, with a snapshot taken now (not read-only): asked again under
 * crm_grade's locks, it sees what a concurrent attach_*(), detach() or
 * DROP committed meanwhile.  Runs inside an SPI connection.
 */
static bool
ViewsChange(Oid add_type, List *dropped)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(list_length(dropped), 1));
	int			n = 0;
	ListCell   *lc;
	bool		isnull;
	Datum		args[2];

	/*
	 * A catalog before 0.10 has no such function (between make install and
	 * ALTER EXTENSION UPDATE): the update builds the views again anyway.
	 * 0.11 failed every DROP of an attached table then (found by review).
	 */
	if (!OidIsValid(CrmFunctionOid("_views_change", 2, (Oid[]) {REGTYPEOID, REGCLASSARRAYOID})))
		return false;
	foreach(lc, dropped)
		oids[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	args[0] = ObjectIdGetDatum(add_type);
	args[1] = PointerGetDatum(construct_array(oids, n, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT));
	if (CrmSpiExecuteWithArgs("SELECT crm_grade._views_change($1, $2)", 2,
							  (Oid[]) {REGTYPEOID, REGCLASSARRAYOID}, args,
							  OidIsValid(add_type) ? "  " : "n ", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not tell whether the views change key type");
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * In REPEATABLE READ or SERIALIZABLE, every question is asked of the
 * transaction's snapshot, taken before crm_grade's locks were waited for:
 * if a concurrent attach_*(), detach() or DROP replaced the views after it,
 * the snapshot cannot tell whether they change again (and replacing them
 * from it fails), so the transaction is refused, to be retried, as an
 * UPDATE of a row changed after the snapshot is.  Runs inside an SPI
 * connection.
 */
static void
RefuseViewsNewerThanSnapshot(void)
{
	Oid			view = get_relname_relid("customer_grades", CrmSchemaOid());
	Datum		arg = ObjectIdGetDatum(view);

	if (!IsolationUsesXactSnapshot() || !OidIsValid(view))
		return;
	if (CrmSpiExecuteWithArgs("SELECT 1 FROM pg_catalog.pg_class WHERE oid OPERATOR(pg_catalog.=) $1", 1,
							  (Oid[]) {OIDOID}, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the views' catalog row");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent change of crm_grade's views"),
				 errdetail("A concurrent attach_*(), detach() or DROP replaced crm_grade's views after this transaction's snapshot was taken."),
				 errhint("The transaction might succeed if retried.")));
}

/*
 * The views were left out of the locks taken before a re-grade (locked:
 * false) because their key type was not going to change; asked again now
 * that crm_grade's locks are held, it may: a concurrent attach_*(),
 * detach() or DROP that changed it committed while this one waited.  The
 * views are then taken only if free: waiting for a report that read one
 * while holding crm_grade's locks is the deadlock taking them first
 * avoids, so the command is refused instead, to be run again.  Runs
 * inside an SPI connection.
 */
static void
LockViewsIfStale(bool locked, Oid add_type, List *dropped)
{
	List	   *relids = NIL;
	List	   *modes = NIL;
	ListCell   *lc,
			   *lm;

	RefuseViewsNewerThanSnapshot();
	if (locked || !ViewsChange(add_type, dropped))
		return;
	AddViews(&relids, &modes);
	forboth(lc, relids, lm, modes)
		if (!ConditionalLockRelationOid(lfirst_oid(lc), lfirst_int(lm)))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not lock crm_grade's view %s, whose key type changes", CrmRelName(lfirst_oid(lc))),
					 errdetail("A concurrent attach_*(), detach() or DROP changed the key type crm_grade's views take while this command waited for crm_grade's locks, and a transaction is reading the view."),
					 errhint("Run the command again.")));
}

/*
 * The relations an ALTER TABLE of relid that re-grades locks, with their
 * modes: the table, in the command's mode, and every partition under it for
 * a column type change, which recurses; crm_grade's views when the key's
 * new type changes theirs (key_type: they are replaced); and for ATTACH or DETACH PARTITION, the
 * partition named (and the partitions under one being attached, which
 * PostgreSQL checks) and the parent's default partition, all in ACCESS
 * EXCLUSIVE, as PostgreSQL takes them after the table.  Any of them left
 * out, a transaction reading it, then writing an attached table, would wait
 * for crm_grade's locks held by a command waiting for it.
 */
static void
AlterTableLocks(AlterTableStmt *stmt, Oid relid, bool key_type, List **relids, List **modes)
{
	ListCell   *lc;
	bool		recursed = false;

	*relids = list_make1_oid(relid);
	*modes = list_make1_int(AlterTableGetLockLevel(stmt->cmds));
	if (key_type)
		AddViews(relids, modes);
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *at = lfirst(lc);
		Oid			partition;
		Oid			deflt;

		if (!IsA(at, AlterTableCmd))
			continue;
		if (at->subtype == AT_AlterColumnType && stmt->relation->inh && !recursed)
		{
			AddTree(relids, modes, relid, AccessExclusiveLock);
			recursed = true;
		}
		if (at->subtype != AT_AttachPartition && at->subtype != AT_DetachPartition)
			continue;
		partition = RangeVarGetRelid(((PartitionCmd *) at->def)->name, NoLock, true);
		if (OidIsValid(partition))
		{
			if (at->subtype == AT_AttachPartition)
				AddTree(relids, modes, partition, AccessExclusiveLock);
			else
			{
				*relids = lappend_oid(*relids, partition);
				*modes = lappend_int(*modes, AccessExclusiveLock);
			}
		}
		deflt = get_default_partition_oid(relid);
		if (OidIsValid(deflt) && deflt != partition)
			AddTree(relids, modes, deflt, AccessExclusiveLock);
	}
}

/*
 * The base type each ALTER COLUMN ... TYPE of stmt names (by position in
 * stmt->cmds; InvalidOid for other commands, or a type not found, which the
 * ALTER refuses), resolved as the command resolves it: with the caller's
 * search_path, before CrmEnter() pins crm_grade's own.
 */
static Oid *
AlterTypesNamed(AlterTableStmt *stmt)
{
	Oid		   *types = palloc0(sizeof(Oid) * Max(list_length(stmt->cmds), 1));
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *at = lfirst(lc);
		Oid			type;

		if (!IsA(at, AlterTableCmd) || at->subtype != AT_AlterColumnType)
			continue;
		type = LookupTypeNameOid(NULL, ((ColumnDef *) at->def)->typeName, true);
		types[foreach_current_index(lc)] = OidIsValid(type) ? getBaseType(type) : InvalidOid;
	}
	return types;
}

/*
 * Will this ALTER TABLE of relid re-grade customers (see RunDdlActions)?
 * A column crm_grade reads changing type re-grades everyone; a partition
 * attached to or detached from an attached table, its customers.  Not a
 * DETACH ... CONCURRENTLY: it commits half-way, letting go of any lock
 * taken here.  types: AlterTypesNamed()'s.  *new_key: the type the key
 * column takes (InvalidOid: it keeps its own); *key_type: that replaces
 * the views too (a type not found, which the ALTER will refuse, is counted
 * as if it did).  Runs inside CrmEnter().
 */
static bool
AlterTableRegrades(AlterTableStmt *stmt, Oid relid, const Oid *types, bool *key_type, Oid *new_key)
{
	ListCell   *lc;
	bool		regrades = false;

	*key_type = false;
	*new_key = InvalidOid;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *at = lfirst(lc);
		Source	   *src;

		if (!IsA(at, AlterTableCmd))
			continue;
		switch (at->subtype)
		{
			case AT_AlterColumnType:
				src = SourceForRelid(relid, false);
				if (src && ReadsColumn(src, at->name))
					regrades = true;
				if (src && strcmp(at->name, src->columns[ROLE_KEY]) == 0)
				{
					*new_key = types[foreach_current_index(lc)];
					*key_type = !OidIsValid(*new_key) ||
						ViewsChange(*new_key, list_make1_oid(relid));
				}
				break;
			case AT_DetachPartition:
				if (((PartitionCmd *) at->def)->concurrent)
					break;
				/* FALLTHROUGH */
			case AT_AttachPartition:
			case AT_DetachPartitionFinalize:
				if (SourceForRelid(relid, true))
					regrades = true;
				break;
			default:
				break;
		}
	}
	return regrades;
}

/*
 * The attachment whose grades a partition's rows feed, or fed until a
 * DETACH ... CONCURRENTLY that has not finished (a DROP of such a
 * partition re-grades its customers, which may still count its rows).
 */
static Source *
SourceOfPartition(Oid relid)
{
	Source	   *src = SourceForRelid(relid, true);

	return src ? src : SourceForDetaching(relid);
}

/*
 * Will this DROP re-grade customers: does it take an attached table (every
 * customer is re-graded without it), or a partition of one (its
 * customers)?  Runs inside CrmEnter(); role is the one running the DROP.
 */
static bool
DropRegrades(List *relids, Oid role)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);

		if ((SourceOfPartition(relid) || AttachedInTree(relid)) && MayChange(relid, role))
			return true;
	}
	return false;
}

/*
 * ALTER TABLE parent ATTACH PARTITION x, refused before PostgreSQL tries to
 * clone crm_grade's row trigger onto x, when x (or a partition under it) is
 * attached on its own: into an attached table its rows would count twice;
 * into any other, statements naming the new parent would write into x
 * without firing x's statement triggers, ungraded.
 */
static void
BeforeAttachPartition(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *at = lfirst(lc);
		Oid			parent,
					partition;
		Source	   *src,
				   *own;

		if (!IsA(at, AlterTableCmd) || at->subtype != AT_AttachPartition)
			continue;
		parent = RangeVarGetRelid(stmt->relation, NoLock, true);
		partition = RangeVarGetRelid(((PartitionCmd *) at->def)->name, NoLock, true);
		if (!OidIsValid(parent) || !OidIsValid(partition))
			continue;
		own = AttachedInTree(partition);
		src = own ? SourceForRelid(parent, true) : NULL;
		if (own && src)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("%s is attached to crm_grade on its own and cannot become part of attached table %s",
							own->relname, src->relname),
					 errdetail("Its rows would be graded twice."),
					 errhint("Detach it first with crm_grade.detach('%s').", own->relname)));
		if (own)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("%s is attached to crm_grade and cannot become part of partitioned table %s",
							own->relname, CrmRelName(parent)),
					 errdetail("Statements naming %s would write into it without crm_grade seeing them.",
							   CrmRelName(parent)),
					 errhint("Detach it with crm_grade.detach('%s'), attach the partition, then attach %s.",
							 own->relname, CrmRelName(parent))));
	}
}

/*
 * ALTER TABLE: a partition crm_grade cannot follow is refused; before one
 * that will re-grade, the re-grade's locks.  Every table crm_grade grades
 * carries its TRUNCATE trigger, partitions included: a catalog look-up
 * that leaves every other ALTER TABLE alone, without SPI.
 */
static void
BeforeAlterTable(AlterTableStmt *stmt)
{
	Oid			relid;
	Oid			role = GetUserId();
	bool		clone;
	bool		regrades;
	bool		key_type;
	Oid			new_key;
	Oid		   *types;
	CrmIdentity id;

	BeforeAttachPartition(stmt);
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || CrmTriggerMode(relid, "crm_grade_truncate", &clone) == '\0' ||
		!MayChange(relid, role))
		return;
	types = AlterTypesNamed(stmt);
	CrmEnter(&id);
	regrades = AlterTableRegrades(stmt, relid, types, &key_type, &new_key);
	CrmLeave(&id);
	if (regrades)
	{
		List	   *relids;
		List	   *modes;

		AlterTableLocks(stmt, relid, key_type, &relids, &modes);
		LockBeforeRegrade(relids, modes);
		if (OidIsValid(new_key))
		{
			CrmEnter(&id);
			LockViewsIfStale(key_type, new_key, list_make1_oid(relid));
			CrmLeave(&id);
		}
	}
}

/* Tables and partitioned tables whose catalog column col equals value. */
static List *
RelationsWhere(const char *col, Oid value)
{
	List	   *relids = NIL;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade: SPI_connect failed");
	if (CrmSpiExecuteWithArgs(psprintf("SELECT c.oid FROM pg_catalog.pg_class c WHERE %s OPERATOR(pg_catalog.=) $1 "
									   "AND c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p}'::pg_catalog.\"char\"[])", col),
							  1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(value)},
							  NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not list the relations a DROP takes");
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		relids = lappend_oid(relids, DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
																	SPI_tuptable->tupdesc, 1, &isnull)));
	}
	SPI_finish();
	return relids;
}

/* The tables (and partitioned tables) a DROP TABLE, SCHEMA or OWNED takes. */
static List *
DropCandidates(Node *parsetree)
{
	List	   *relids = NIL;
	ListCell   *lc;

	if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_TABLE)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList(lfirst(lc)), NoLock, true);

			if (OidIsValid(relid))
				relids = lappend_oid(relids, relid);
		}
		return relids;
	}
	if (IsA(parsetree, DropStmt) && ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA)
	{
		foreach(lc, ((DropStmt *) parsetree)->objects)
		{
			Oid			nsp = get_namespace_oid(strVal(lfirst(lc)), true);

			if (OidIsValid(nsp))
				relids = list_concat(relids, RelationsWhere("c.relnamespace", nsp));
		}
		return relids;
	}
	if (IsA(parsetree, DropOwnedStmt))
	{
		foreach(lc, ((DropOwnedStmt *) parsetree)->roles)
		{
			Oid			role = get_rolespec_oid(lfirst(lc), true);

			if (OidIsValid(role))
				relids = list_concat(relids, RelationsWhere("c.relowner", role));
		}
	}
	return relids;
}

/*
 * Before a DROP: if it will re-grade, the re-grade's locks first; then the
 * customers of every partition of an attached table it will take (locked
 * first, as the DROP would, so that no write slips in between), for
 * sql_drop to re-read once the rows are gone.
 */
static void
BeforeDrop(Node *parsetree)
{
	List	   *relids = DropCandidates(parsetree);
	Oid			role = GetUserId();
	MemoryContext oldcxt;
	CrmIdentity id;
	ListCell   *lc;

	pending_drop_lxid = InvalidLocalTransactionId;
	if (relids == NIL)
		return;
	CrmEnter(&id);
	if (DropRegrades(relids, role))
	{
		List	   *locks = NIL;
		List	   *modes = NIL;
		bool		views;

		/*
		 * The DROP takes the partitions too, and a new key type, the views;
		 * nothing of a relation the role may not drop (the DROP refuses it
		 * before locking it: no role queues a lock on another's table)
		 */
		foreach(lc, relids)
			if (MayChange(lfirst_oid(lc), role))
				AddDropped(&locks, &modes, lfirst_oid(lc));
		views = ViewsChange(InvalidOid, relids);
		if (views)
			AddViews(&locks, &modes);
		LockBeforeRegrade(locks, modes);
		LockViewsIfStale(views, InvalidOid, relids);
	}
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	pending_drop_keys = NULL;
	pending_drop_nkeys = 0;
	foreach(lc, relids)
	{
		Oid			relid = lfirst_oid(lc);
		Source	   *src = SourceOfPartition(relid);
		char	  **keys;
		int			n,
					i;

		if (src == NULL || src->relid == relid)
			continue;			/* not graded, or an attached table: sql_drop detaches it */
		if (!MayChange(relid, role))
			continue;			/* the DROP refuses it: no lock (a wait) for nothing */
		LockRelationOid(relid, AccessExclusiveLock);
		keys = GatherKeysOf(relid, src, &n);
		pending_drop_keys = pending_drop_keys == NULL ?
			palloc(sizeof(char *) * Max(n, 1)) :
			repalloc(pending_drop_keys, sizeof(char *) * (pending_drop_nkeys + n + 1));
		for (i = 0; i < n; i++)
			pending_drop_keys[pending_drop_nkeys++] = keys[i];
	}
	if (pending_drop_nkeys > 0)
		pending_drop_keys = SortDistinctKeys(pending_drop_keys, pending_drop_nkeys, &pending_drop_nkeys);
	pending_drop_lxid = MyProc->lxid;
	MemoryContextSwitchTo(oldcxt);
	CrmLeave(&id);
}

/*
 * SQL: crm_grade._lock_before_attach(tbl regclass, mode text, add_type
 * regtype): attach_*() (mode 'create', add_type the key's type) and
 * detach() ('drop', NULL) lock the table and its partitions (CREATE
 * TRIGGER in SHARE ROW EXCLUSIVE, DROP TRIGGER in ACCESS EXCLUSIVE), maybe
 * replace the views, then re-grade everyone under crm_grade's locks: taken
 * here first, all together, as before DDL, so that a writer that wrote
 * another attached table and goes on to write this one (or a report that
 * read a view) does not deadlock with them.
 */
Datum
crm_grade_lock_before_attach(PG_FUNCTION_ARGS)
{
	Oid			relid;
	bool		drop;
	Oid			add_type;
	List	   *dropped;
	List	   *relids = NIL;
	List	   *modes = NIL;
	bool		views;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the table and mode of crm_grade._lock_before_attach() must not be NULL")));
	relid = PG_GETARG_OID(0);
	drop = strcmp(text_to_cstring(PG_GETARG_TEXT_PP(1)), "drop") == 0;
	add_type = drop || PG_ARGISNULL(2) ? InvalidOid : PG_GETARG_OID(2);
	dropped = list_make1_oid(relid);

	/*
	 * Only a table the caller owns (attach_*() and detach() check that
	 * first): the function is its owner's to call, and an owner who is not
	 * a superuser must not lock another role's table, or pg_class, with it.
	 */
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table %s to attach or detach it", CrmRelName(relid)),
				 errhint("Run attach_*() or detach() as the table's owner or a superuser.")));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade: SPI_connect failed");
	views = ViewsChange(add_type, dropped);
	AddTree(&relids, &modes, relid, drop ? AccessExclusiveLock : ShareRowExclusiveLock);
	if (views)
		AddViews(&relids, &modes);
	RefreshAllLockBeforeEach(relids, modes);
	LockViewsIfStale(views, add_type, dropped);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Is name one of the triggers crm_grade places on a table it grades? */
static bool
IsCrmTrigger(const char *name)
{
	int			i;

	for (i = 0; i < lengthof(StatementTriggers); i++)
		if (strcmp(name, StatementTriggers[i]) == 0)
			return true;
	return strcmp(name, REPLICA_TRIGGER) == 0;
}

/*
 * DROP TRIGGER, ALTER TRIGGER ... RENAME or ... DEPENDS ON EXTENSION (a
 * DROP EXTENSION of that one would take it), or CREATE OR REPLACE TRIGGER
 * of one of crm_grade's triggers on a table it grades (or a partition of
 * one) is refused: grading would stop without a word, and verify() would
 * find every write since.  Only detach() takes them off (it runs its DDL
 * as crm_grade's own, which this trigger lets by).  A role that may not do
 * it (the table's owner drops, renames and ties it; TRIGGER privilege
 * suffices to replace it) is left to PostgreSQL's own refusal.
 */
static void
RefuseTriggerDdl(RangeVar *rv, const char *trigger, const char *what)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	bool		replace = strcmp(what, "replace") == 0;
	bool		clone;
	Source	   *src;

	if (!OidIsValid(relid) || !IsCrmTrigger(trigger) ||
		CrmTriggerMode(relid, trigger, &clone) == '\0')
		return;
	if (replace ? pg_class_aclcheck(relid, GetUserId(), ACL_TRIGGER) != ACLCHECK_OK :
		!MayChange(relid, GetUserId()))
		return;
	/* (crm_grade.source is read as crm_grade's owner: SourcesLoad()) */
	if ((src = SourceForRelid(relid, true)) == NULL)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg("cannot %s trigger %s on %s%s: crm_grade grades %s through it",
					what, trigger, CrmRelName(relid), strcmp(what, "tie") == 0 ? " to an extension" : "",
					src->relname),
			 errdetail("Without it, writes to the table would no longer reach customers' grades."),
			 errhint("To stop grading the table, detach it: SELECT crm_grade.detach('%s');",
					 src->relname)));
}

/*
 * The triggers a DROP TRIGGER names (relation's names, then the
 * trigger's), an ALTER TRIGGER, or a CREATE OR REPLACE TRIGGER.
 */
static void
BeforeTriggerDdl(Node *parsetree)
{
	ListCell   *lc;

	if (IsA(parsetree, RenameStmt))
	{
		RenameStmt *rs = (RenameStmt *) parsetree;

		if (rs->renameType == OBJECT_TRIGGER)
			RefuseTriggerDdl(rs->relation, rs->subname, "rename");
		return;
	}
	if (IsA(parsetree, AlterObjectDependsStmt))
	{
		AlterObjectDependsStmt *ds = (AlterObjectDependsStmt *) parsetree;

		if (ds->objectType == OBJECT_TRIGGER && !ds->remove)
			RefuseTriggerDdl(ds->relation, strVal(linitial((List *) ds->object)), "tie");
		return;
	}
	if (IsA(parsetree, CreateTrigStmt))
	{
		CreateTrigStmt *ct = (CreateTrigStmt *) parsetree;

		if (ct->replace)
			RefuseTriggerDdl(ct->relation, ct->trigname, "replace");
		return;
	}
	foreach(lc, ((DropStmt *) parsetree)->objects)
	{
		List	   *names = lfirst(lc);

		RefuseTriggerDdl(makeRangeVarFromNameList(list_truncate(list_copy(names), list_length(names) - 1)),
						 strVal(llast(names)), "drop");
	}
}

/*
 * ddl_command_start: DROP EXTENSION crm_grade; ALTER TABLE ... ATTACH
 * PARTITION, which must be refused before PostgreSQL acts on it; the
 * DROPs that may take partitions of attached tables; and, before any DDL
 * that will re-grade, the re-grade's locks.
 */
Datum
crm_grade_on_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	DropBehavior behavior;
	List	   *renamed;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) || crm_own_ddl_depth > 0)
		PG_RETURN_VOID();
	trigdata = (EventTriggerData *) fcinfo->context;
	if (trigdata->parsetree == NULL)
		PG_RETURN_VOID();
	if (DropsCrmGrade(trigdata->parsetree, &behavior))
		BeforeDropExtension(behavior);
	else if ((renamed = RenamedNames(trigdata->parsetree)) != NIL)
		StashFilters(renamed);
	else if (IsA(trigdata->parsetree, AlterTableStmt))
		BeforeAlterTable((AlterTableStmt *) trigdata->parsetree);
	else if ((IsA(trigdata->parsetree, DropStmt) &&
			  ((DropStmt *) trigdata->parsetree)->removeType == OBJECT_TRIGGER) ||
			 IsA(trigdata->parsetree, RenameStmt) || IsA(trigdata->parsetree, CreateTrigStmt) ||
			 IsA(trigdata->parsetree, AlterObjectDependsStmt))
		BeforeTriggerDdl(trigdata->parsetree);
	else
		BeforeDrop(trigdata->parsetree);
	PG_RETURN_VOID();
}
