/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Looking up crm_grade's own objects: its schema, its tables and the
 *		role that owns them.
 *
 * Nothing is cached here: the extension can be dropped and created again
 * within a session, and the syscache lookups are cheap.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_trigger.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

/* OID of schema crm_grade, or an error saying the extension is missing. */
Oid
CrmSchemaOid(void)
{
	Oid			nsp = get_namespace_oid(CRM_SCHEMA, true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", CRM_SCHEMA),
				 errhint("Is the crm_grade extension installed in this database?")));
	return nsp;
}

/* OID of one of crm_grade's tables. */
Oid
CrmRelid(const char *relname)
{
	Oid			relid = get_relname_relid(relname, CrmSchemaOid());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", CRM_SCHEMA, relname),
				 errhint("Is the crm_grade extension installed in this database?")));
	return relid;
}

/*
 * OID of one of crm_grade's functions, or InvalidOid when this database's
 * catalog has none such (one older than the library).  The catalog alone:
 * whoever runs a write or DDL needs no USAGE on the schema.
 */
Oid
CrmFunctionOid(const char *name, int nargs, const Oid *argtypes)
{
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(CrmSchemaOid()));
}

/* The owner of crm_grade's tables: the role whose rights its writes need. */
Oid
CrmExtensionOwner(void)
{
	Oid			relid = CrmRelid("customer_state");
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * The firing mode (pg_trigger.tgenabled) of a relation's trigger of this
 * name, '\0' if it has none; *clone says whether it is a partition's clone
 * of its parent's.  Reads the catalog alone: the relation is not locked.
 */
char
CrmTriggerMode(Oid relid, const char *name, bool *clone)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	char		mode = '\0';

	ScanKeyInit(&key[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&key[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 2, key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		mode = ((Form_pg_trigger) GETSTRUCT(tup))->tgenabled;
		*clone = OidIsValid(((Form_pg_trigger) GETSTRUCT(tup))->tgparentid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return mode;
}
