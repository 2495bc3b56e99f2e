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

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
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
