/*-------------------------------------------------------------------------
 *
 * catalog.c
 *		Looking up crm_grade's own objects: its schema, its tables and the
 *		role that owns them.
 *
 * The schema's OID, its tables' OIDs and their owner are kept per backend,
 * since every write asks for them a dozen times: any invalidation of a
 * schema, or of a relation the cache names, forgets them all, so a DROP
 * EXTENSION and CREATE EXTENSION again, a rename or an ALTER ... OWNER in
 * the session is seen as the syscache would see it.
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
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

/* The cached lookups (InvalidOid: not known). */
#define CRM_CACHED_RELS 16

typedef struct CachedRel
{
	const char *name;
	Oid			relid;
} CachedRel;

static Oid	cached_schema = InvalidOid;
static Oid	cached_owner = InvalidOid;
static CachedRel cached_rels[CRM_CACHED_RELS];
static int	n_cached_rels = 0;
static bool callbacks_registered = false;

/* (the names stay, allocated once: only the OIDs are forgotten) */
static void
ForgetCatalog(void)
{
	int			i;

	cached_schema = InvalidOid;
	cached_owner = InvalidOid;
	for (i = 0; i < n_cached_rels; i++)
		cached_rels[i].relid = InvalidOid;
}

static void
ForgetCatalogForSchema(Datum arg, int cacheid, uint32 hashvalue)
{
	ForgetCatalog();
}

static void
ForgetCatalogForRelation(Datum arg, Oid relid)
{
	int			i;

	if (!OidIsValid(relid))
	{
		ForgetCatalog();
		return;
	}
	for (i = 0; i < n_cached_rels; i++)
		if (cached_rels[i].relid == relid)
		{
			ForgetCatalog();
			return;
		}
}

static void
RegisterCatalogCallbacks(void)
{
	if (callbacks_registered)
		return;
	CacheRegisterSyscacheCallback(NAMESPACEOID, ForgetCatalogForSchema, (Datum) 0);
	CacheRegisterRelcacheCallback(ForgetCatalogForRelation, (Datum) 0);
	callbacks_registered = true;
}

/* OID of schema crm_grade, or an error saying the extension is missing. */
Oid
CrmSchemaOid(void)
{
	Oid			nsp;

	if (OidIsValid(cached_schema))
		return cached_schema;
	RegisterCatalogCallbacks();
	nsp = get_namespace_oid(CRM_SCHEMA, true);
	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", CRM_SCHEMA),
				 errhint("Is the crm_grade extension installed in this database?")));
	cached_schema = nsp;
	return nsp;
}

/* OID of one of crm_grade's tables. */
Oid
CrmRelid(const char *relname)
{
	Oid			relid;
	int			i;

	for (i = 0; i < n_cached_rels; i++)
		if (strcmp(cached_rels[i].name, relname) == 0)
			break;
	if (i < n_cached_rels && OidIsValid(cached_rels[i].relid))
		return cached_rels[i].relid;
	relid = get_relname_relid(relname, CrmSchemaOid());
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s.%s\" does not exist", CRM_SCHEMA, relname),
				 errhint("Is the crm_grade extension installed in this database?")));
	if (i == n_cached_rels && i < CRM_CACHED_RELS)
		cached_rels[n_cached_rels++].name = MemoryContextStrdup(TopMemoryContext, relname);
	if (i < n_cached_rels)
		cached_rels[i].relid = relid;
	return relid;
}

/* Qualified, quoted name of a relation (an error when it is gone). */
char *
CrmRelName(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		elog(ERROR, "crm_grade: relation %u does not exist", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
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
	Oid			relid;
	HeapTuple	tup;

	if (OidIsValid(cached_owner))
		return cached_owner;
	relid = CrmRelid("customer_state");
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	cached_owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return cached_owner;
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
