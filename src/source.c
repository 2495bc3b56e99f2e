/*-------------------------------------------------------------------------
 *
 * source.c
 *		Source kinds and roles, the attachments recorded in crm_grade.source,
 *		and reading a row of an attached table.
 *
 * Column types are checked each time a tuple descriptor is read (a trigger
 * call, a scan), not only at attach time: a column's type may have changed
 * since, and a Datum read as the wrong type is garbage or a crash.
 *
 *-------------------------------------------------------------------------
 */
#include "source.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/partition.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(crm_grade_check_columns);
PG_FUNCTION_INFO_V1(crm_grade_owner_text);
PG_FUNCTION_INFO_V1(crm_grade_key_max_bytes);

const KindDef SourceKinds[SK_NKINDS] = {
	[SK_ORDERS] = {"orders", 5, {
			{"customer", RT_KEY, true, "customer key"},
			{"amount", RT_AMOUNT, true, "amount"},
			{"ordered_at", RT_TIME, true, "order time"},
			{"paid_at", RT_TIME, false, "payment time"},
			{"order_id", RT_ORDER_ID, false, "order id"}}},
	[SK_CUSTOMERS] = {"customers", 4, {
			{"customer", RT_KEY, true, "customer key"},
			{"owner", RT_LABEL, false, "owner"},
			{"created_at", RT_TIME, false, "creation time"},
			{"attributes", RT_JSONB, false, "attributes"}}},
	[SK_CONTACTS] = {"contacts", 5, {
			{"customer", RT_KEY, true, "customer key"},
			{"contacted_at", RT_TIME, true, "contact time"},
			{"channel", RT_LABEL, false, "channel"},
			{"outcome", RT_LABEL, false, "outcome"},
			{"next_action_at", RT_TIME, false, "next action time"}}},
	[SK_OPPORTUNITIES] = {"opportunities", 5, {
			{"customer", RT_KEY, true, "customer key"},
			{"stage", RT_LABEL, true, "stage"},
			{"amount", RT_AMOUNT, true, "amount"},
			{"stage_changed_at", RT_TIME, true, "stage change time"},
			{"is_open", RT_BOOL, true, "open flag"}}},
};

static const char *const RoleTypeRules[] = {
	[RT_KEY] = "A customer key must be smallint, integer, bigint, text, varchar or uuid",
	[RT_AMOUNT] = "An amount must be smallint, integer, bigint, numeric, real or double precision",
	[RT_TIME] = "A time must be timestamptz, timestamp or date",
	[RT_JSONB] = "Attributes must be jsonb",
	[RT_LABEL] = "An owner, channel or outcome must be of a built-in type such as text, or an enum",
	[RT_ORDER_ID] = "An order id must be smallint, integer, bigint, text, varchar or uuid",
	[RT_BOOL] = "An open flag must be boolean",
};

/* The cached attachments, and the crm_grade.source they were read from. */
static SourceSet *cached_sources = NULL;
static Oid	cached_sources_relid = InvalidOid;
static bool callback_registered = false;

static void ForgetSources(Datum arg, Oid relid);
static bool RoleAccepts(RoleType type, Oid basetype);

/* Does the collation tell apart every two different strings? */
static bool
CollationDeterministic(Oid coll)
{
	return !OidIsValid(coll) || coll == DEFAULT_COLLATION_OID || coll == C_COLLATION_OID ||
		coll == POSIX_COLLATION_OID || get_collation_isdeterministic(coll);
}

SourceKindId
SourceKindByName(const char *name)
{
	int			k;

	for (k = 0; k < SK_NKINDS; k++)
		if (strcmp(SourceKinds[k].name, name) == 0)
			return (SourceKindId) k;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown kind of source \"%s\"", name),
			 errhint("Known kinds: orders, customers, contacts, opportunities.")));
	return SK_NKINDS;			/* not reached */
}

/* The type all keys of a family are compared as: bigint, text or uuid. */
Oid
SourceKeyFamily(Oid key_type)
{
	switch (key_type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
			return INT8OID;
		case TEXTOID:
		case VARCHAROID:
			return TEXTOID;
		default:
			return key_type;
	}
}

/* Is a base type one crm_grade can read for this kind of role? */
static bool
RoleAccepts(RoleType type, Oid t)
{
	switch (type)
	{
		case RT_KEY:
		case RT_ORDER_ID:
			return t == INT2OID || t == INT4OID || t == INT8OID || t == TEXTOID ||
				t == VARCHAROID || t == UUIDOID;
		case RT_AMOUNT:
			return t == INT2OID || t == INT4OID || t == INT8OID || t == NUMERICOID ||
				t == FLOAT4OID || t == FLOAT8OID;
		case RT_TIME:
			return t == TIMESTAMPTZOID || t == TIMESTAMPOID || t == DATEOID;
		case RT_JSONB:
			return t == JSONBOID;
		case RT_BOOL:
			return t == BOOLOID;
		case RT_LABEL:
			/* its output function is PostgreSQL's own, never a role's */
			return (t < FirstNormalObjectId && get_typtype(t) == TYPTYPE_BASE) ||
				type_is_enum(t);
	}
	return false;
}

/* Any change to crm_grade.source (or a reset) forgets the cached list. */
static void
ForgetSources(Datum arg, Oid relid)
{
	int			i;

	if (relid == InvalidOid || relid == cached_sources_relid)
	{
		cached_sources_relid = InvalidOid;
		return;
	}
	/* an attached table renamed or moved: its name is part of the cache */
	for (i = 0; cached_sources && i < cached_sources->n; i++)
		if (cached_sources->items[i].relid == relid)
			cached_sources_relid = InvalidOid;
}

/* Forget the cached list at once (crm_grade.source was just changed). */
void
SourcesForget(void)
{
	cached_sources_relid = InvalidOid;
}

/* Load one attachment from a row of crm_grade.source. */
static void
LoadSource(Source *s, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	Jsonb	   *columns;
	const KindDef *def;
	int			r;

	s->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	s->kind = SourceKindByName(TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull)));
	s->key_type = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
	s->relname = SPI_getvalue(tup, desc, 5);
	s->filter = SPI_getvalue(tup, desc, 6);
	columns = DatumGetJsonbP(SPI_getbinval(tup, desc, 4, &isnull));
	def = &SourceKinds[s->kind];
	for (r = 0; r < def->nroles; r++)
	{
		JsonbValue *v = getKeyJsonValueFromContainer(&columns->root, def->roles[r].name,
													  strlen(def->roles[r].name), NULL);

		s->columns[r] = (v && v->type == jbvString) ?
			pnstrdup(v->val.string.val, v->val.string.len) : NULL;
	}
}

/*
 * Every attachment, cached until crm_grade.source changes.  Read as
 * crm_grade's owner, in an SPI connection of its own: a trigger call
 * reading a writer's rows asks for it with the writer's identity.
 */
SourceSet *
SourcesLoad(void)
{
	Oid			relid = CrmRelid("source");
	MemoryContext oldcxt;
	SourceSet  *set;
	CrmIdentity id;
	uint64		i;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetSources, (Datum) 0);
		callback_registered = true;
	}
	if (cached_sources && cached_sources_relid == relid)
		return cached_sources;
	/* as crm_grade's owner: a writer's trigger call may read it (TriggerWork) */
	CrmEnter(&id);
	if (CrmSpiExecute("SELECT s.tbl::pg_catalog.oid, s.kind, s.key_type::pg_catalog.oid, s.columns, "
					"s.tbl::pg_catalog.text, s.filter FROM crm_grade.source s ORDER BY 1",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read crm_grade.source");
	oldcxt = MemoryContextSwitchTo(CacheMemoryContext);
	set = palloc0(sizeof(SourceSet));
	set->n = (int) SPI_processed;
	set->items = palloc0(sizeof(Source) * Max(set->n, 1));
	for (i = 0; i < SPI_processed; i++)
		LoadSource(&set->items[i], SPI_tuptable->vals[i], SPI_tuptable->tupdesc);
	MemoryContextSwitchTo(oldcxt);
	SPI_freetuptable(SPI_tuptable);
	CrmLeave(&id);
	/* the old list may still be in use by a caller; it is small, so keep it */
	cached_sources = set;
	cached_sources_relid = relid;
	return set;
}

/*
 * The attachment of a table, or of the partitioned table it is a partition
 * of (at any depth) when with_ancestors; NULL if none.
 */
Source *
SourceForRelid(Oid relid, bool with_ancestors)
{
	SourceSet  *set = SourcesLoad();
	List	   *ancestors = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < set->n; i++)
		if (set->items[i].relid == relid)
			return &set->items[i];
	if (!with_ancestors || !get_rel_relispartition(relid))
		return NULL;
	ancestors = get_partition_ancestors(relid);
	foreach(lc, ancestors)
	{
		for (i = 0; i < set->n; i++)
			if (set->items[i].relid == lfirst_oid(lc))
				return &set->items[i];
	}
	return NULL;
}

/*
 * The parent of a partition and whether a DETACH PARTITION ... CONCURRENTLY
 * of it is pending (InvalidOid: not a partition).
 */
static Oid
PartitionParent(Oid relid, bool *pending)
{
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			parent = InvalidOid;

	*pending = false;
	ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		parent = ((Form_pg_inherits) GETSTRUCT(tup))->inhparent;
		*pending = ((Form_pg_inherits) GETSTRUCT(tup))->inhdetachpending;
	}
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	return parent;
}

/*
 * The attachment of the tree a partition is leaving: one of its ancestors
 * (at any depth) is attached, and a DETACH PARTITION ... CONCURRENTLY
 * between them has committed its first transaction and not finished (it
 * waits, or was cancelled until ... FINALIZE).  PostgreSQL's scans of the
 * tree leave such a partition out, and so does crm_grade: its rows no
 * longer count.  NULL if none (get_partition_ancestors() stops at such a
 * link, so SourceForRelid() does not find the tree).
 */
Source *
SourceForDetaching(Oid relid)
{
	bool		pending_seen = false;
	Oid			rel = relid;

	while (get_rel_relispartition(rel))
	{
		bool		pending;
		Oid			parent = PartitionParent(rel, &pending);
		Source	   *src;

		if (!OidIsValid(parent))
			break;
		pending_seen |= pending;
		rel = parent;
		if (pending_seen && (src = SourceForRelid(rel, false)) != NULL)
			return src;
	}
	return NULL;
}

/* The attached customer master, or NULL. */
Source *
SourceMaster(void)
{
	SourceSet  *set = SourcesLoad();
	int			i;

	for (i = 0; i < set->n; i++)
		if (set->items[i].kind == SK_CUSTOMERS)
			return &set->items[i];
	return NULL;
}

/* Attribute number of a column by name in a descriptor, 0 if none. */
static int
AttnumByName(TupleDesc desc, const char *name)
{
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i + 1;
	}
	return 0;
}

/*
 * Resolve a source's role columns in a tuple descriptor: the relation's
 * own (by name: a partition may order its columns otherwise than its
 * root), or a scan's result (by position: the key as text first, then
 * each attached role in role order).  Every type is checked here.
 */
void
SourceLayoutForDesc(SourceLayout *layout, Source *src, TupleDesc desc,
					const char *relname, bool by_position, bool attaching)
{
	const KindDef *def = &SourceKinds[src->kind];
	int			next = 1;
	int			r;

	memset(layout, 0, sizeof(SourceLayout));
	layout->src = src;
	layout->relname = relname;
	for (r = 0; r < def->nroles; r++)
	{
		const RoleDef *role = &def->roles[r];
		Form_pg_attribute att;
		Oid			typoutput;
		bool		isvarlena;

		if (src->columns[r] == NULL)
			continue;
		layout->att[r] = by_position ? next++ : AttnumByName(desc, src->columns[r]);
		if (layout->att[r] == 0 || layout->att[r] > desc->natts)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation %s does not exist", src->columns[r], relname),
					 errdetail("crm_grade reads it as the %s of %s.", role->what, src->relname),
					 attaching ?
					 errhint("Give the name of the %s column exactly as it is spelled in %s; names are case-sensitive.",
							 role->what, relname) :
					 errhint("It was renamed or dropped while crm_grade's event triggers were not firing: attach %s again with crm_grade.attach_%s().",
							 src->relname, def->name)));
		att = TupleDescAttr(desc, layout->att[r] - 1);
		layout->type[r] = getBaseType(att->atttypid);
		if (by_position && r == ROLE_KEY)
			layout->type[r] = TEXTOID;	/* the scan casts the key to text */
		else if (!RoleAccepts(role->type, layout->type[r]))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation %s has type %s, which crm_grade cannot use as the %s",
							src->columns[r], relname, format_type_be(att->atttypid), role->what),
					 errdetail("%s.", RoleTypeRules[role->type]),
					 attaching ?
					 errhint("Attach a column of a usable type, or add one (for example a generated column with a cast).") :
					 errhint("Change the column back to a usable type, or detach %s with crm_grade.detach() first.",
							 src->relname)));
		if ((role->type == RT_KEY || role->type == RT_ORDER_ID) && !by_position &&
			!CollationDeterministic(att->attcollation))
			ereport(ERROR,
					(errcode(ERRCODE_INDETERMINATE_COLLATION),
					 errmsg("column \"%s\" of relation %s has the nondeterministic collation %s, which crm_grade cannot use for the %s",
							src->columns[r], relname, get_collation_name(att->attcollation), role->what),
					 errdetail("crm_grade tells keys apart byte by byte; the collation makes some different keys equal, so the application and crm_grade would count customers differently."),
					 attaching ?
					 errhint("Attach a column with a deterministic collation, for example a generated column holding the key in one case.") :
					 errhint("Change the column back to a deterministic collation, or detach %s with crm_grade.detach() first.",
							 src->relname)));
		if (r == ROLE_KEY && !by_position && OidIsValid(src->key_type) &&
			SourceKeyFamily(layout->type[r]) != SourceKeyFamily(src->key_type))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column \"%s\" of relation %s has type %s, but %s is attached with keys of type %s",
							src->columns[r], relname, format_type_be(att->atttypid), src->relname,
							format_type_be(src->key_type)),
					 errdetail("Every attached table identifies customers with the same kind of key."),
					 errhint("Change the column back, or detach %s and attach it again.", src->relname)));
		if (role->type == RT_KEY || role->type == RT_LABEL || role->type == RT_ORDER_ID)
		{
			getTypeOutputInfo(layout->type[r], &typoutput, &isvarlena);
			fmgr_info(typoutput, &layout->out[r]);
		}
	}
}

/* The column name of a role, for messages. */
static const char *
RoleColumn(SourceLayout *layout, int role)
{
	return layout->src->columns[role];
}

/* A time's problem that is not its infiniteness (see ReadTimeRole()). */
#define TIME_OUT_OF_RANGE "out of range"

/* The hint of a row's problem, by its SQLSTATE. */
static const char *
ProblemHint(int sqlstate, const char *problem)
{
	switch (sqlstate)
	{
		case ERRCODE_NOT_NULL_VIOLATION:
			return "Set the column, or leave such rows (carts, drafts) out of grading with the attachment's filter.";
		case ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE:
			return "crm_grade sums amounts exactly; store a finite number (a refund is a negative amount).";
		case ERRCODE_PROGRAM_LIMIT_EXCEEDED:
			return "Use a shorter customer key (an id), or leave such rows out of grading with the attachment's filter.";
		default:
			if (strcmp(problem, TIME_OUT_OF_RANGE) == 0)
				return "crm_grade grades moments from 4712 BC to 89999 AD (UTC; a date or local time as read in crm_grade.timezone), so that every moment it derives from them (follow-ups, window ends, risk) stays within timestamptz's range.";
			return "crm_grade needs a real moment to place the row in time.";
	}
}

/* The error a strict read raises for a row's problem. */
static void
RaiseProblem(SourceLayout *layout, const char *key, int role, int sqlstate, const char *problem)
{
	const RoleDef *def = &SourceKinds[layout->src->kind].roles[role];

	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("%s of a row in %s is %s (column \"%s\")", def->what, layout->relname,
					problem, RoleColumn(layout, role)),
			 key ? errdetail("The row belongs to customer %s.", key) :
			 sqlstate == ERRCODE_PROGRAM_LIMIT_EXCEEDED ?
			 errdetail("crm_grade keeps every customer's key in a B-tree index, whose entries hold keys of up to %d bytes.",
					   CRM_KEY_MAX_BYTES) :
			 errdetail("crm_grade grades customers from this table and needs the %s of every row.",
					   def->what),
			 errhint("%s", ProblemHint(sqlstate, problem))));
}

/*
 * Report a value crm_grade cannot grade.  Strict reads (rows being written)
 * raise an error; lenient reads (rows already in a table, which a trigger
 * that was disabled let in) mark the row so that it is left out and shown
 * in crm_grade.data_issues.
 */
static bool
BadValue(SourceLayout *layout, SourceRow *row, bool strict, int role, int sqlstate,
		 const char *problem, const char *value)
{
	if (strict)
		RaiseProblem(layout, row->key, role, sqlstate, problem);
	row->problem = problem;
	row->problem_column = RoleColumn(layout, role);
	row->problem_value = value ? pstrdup(value) : NULL;
	row->problem_role = role;
	row->problem_sqlstate = sqlstate;
	return false;
}

/* Raise the error a strict read would have raised for a row read leniently. */
void
SourceRaiseProblem(SourceLayout *layout, SourceRow *row)
{
	RaiseProblem(layout, row->key, row->problem_role, row->problem_sqlstate, row->problem);
}

/* A value as text, for data_issues. */
static char *
ValueText(Oid type, Datum d)
{
	Oid			typoutput;
	bool		isvarlena;

	getTypeOutputInfo(type, &typoutput, &isvarlena);
	return OidOutputFunctionCall(typoutput, d);
}

/* An amount as a numeric, whatever numeric type the column has. */
static Numeric
AmountNumeric(Oid type, Datum d)
{
	switch (type)
	{
		case INT2OID:
			return int64_to_numeric(DatumGetInt16(d));
		case INT4OID:
			return int64_to_numeric(DatumGetInt32(d));
		case INT8OID:
			return int64_to_numeric(DatumGetInt64(d));
		case FLOAT4OID:
			return DatumGetNumeric(DirectFunctionCall1(float4_numeric, d));
		case FLOAT8OID:
			return DatumGetNumeric(DirectFunctionCall1(float8_numeric, d));
		default:
			/*
			 * A copy: a row read from a transition table is kept until the
			 * statement's end, and a tuplestore that spilled to disk frees
			 * the tuple a long numeric would point into at the next fetch.
			 */
			return DatumGetNumericCopy(d);
	}
}

/*
 * A time column as a timestamptz (maybe infinite); false when NULL.
 * *in_range is false for a date or local time that names no moment within
 * timestamptz's range once read in crm_grade.timezone (ReadTimeRole() then
 * checks crm_grade's narrower range, CrmTimeInRange()).
 */
static bool
TimeValue(SourceLayout *layout, TupleTableSlot *slot, int role, TimestampTz *result,
		  Datum *raw, bool *in_range)
{
	bool		isnull;
	Datum		d;

	*in_range = true;
	if (layout->att[role] == 0)
		return false;
	d = slot_getattr(slot, layout->att[role], &isnull);
	if (isnull)
		return false;
	*raw = d;
	switch (layout->type[role])
	{
		case DATEOID:
			*in_range = CrmLocalDateToTimestampTz(DatumGetDateADT(d), result);
			break;
		case TIMESTAMPOID:
			*in_range = CrmLocalToTimestampTzChecked(DatumGetTimestamp(d), result);
			break;
		default:
			*result = DatumGetTimestampTz(d);
			break;
	}
	return true;
}

/* Read a time role into *t; false (after BadValue) when unusable. */
static bool
ReadTimeRole(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict,
			 int role, bool required, TimestampTz *t, bool *present)
{
	Datum		raw = (Datum) 0;
	bool		in_range;

	*present = TimeValue(layout, slot, role, t, &raw, &in_range);
	if (!*present)
		return !required || BadValue(layout, row, strict, role, ERRCODE_NOT_NULL_VIOLATION,
									 "NULL", NULL);
	if (in_range && TIMESTAMP_NOT_FINITE(*t))
		return BadValue(layout, row, strict, role, ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
						"infinite", ValueText(layout->type[role], raw));
	if (!in_range || !CrmTimeInRange(*t))
		return BadValue(layout, row, strict, role, ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
						TIME_OUT_OF_RANGE, ValueText(layout->type[role], raw));
	return true;
}

/* The order-specific roles of a row. */
static bool
ReadOrderRoles(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, layout->att[ORD_AMOUNT], &isnull);

	if (isnull)
		return BadValue(layout, row, strict, ORD_AMOUNT, ERRCODE_NOT_NULL_VIOLATION, "NULL", NULL);
	row->amount = AmountNumeric(layout->type[ORD_AMOUNT], d);
	if (numeric_is_nan(row->amount) || numeric_is_inf(row->amount))
		return BadValue(layout, row, strict, ORD_AMOUNT, ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
						"not a finite number", ValueText(layout->type[ORD_AMOUNT], d));
	if (!ReadTimeRole(layout, slot, row, strict, ORD_TIME, true, &row->t, &row->has_t))
		return false;
	row->date_days = layout->type[ORD_TIME] == DATEOID ||
		(layout->att[ORD_PAID] != 0 && layout->type[ORD_PAID] == DATEOID);
	if (layout->att[ORD_ORDER_ID] != 0)
	{
		d = slot_getattr(slot, layout->att[ORD_ORDER_ID], &isnull);
		if (isnull)
			return BadValue(layout, row, strict, ORD_ORDER_ID, ERRCODE_NOT_NULL_VIOLATION,
							"NULL", NULL);
		row->order_id = OutputFunctionCall(&layout->out[ORD_ORDER_ID], d);
	}
	return ReadTimeRole(layout, slot, row, strict, ORD_PAID, false, &row->paid, &row->has_paid);
}

/*
 * A label (owner, outcome) as text, as a cast to text gives it: a char(n)
 * value without its trailing blanks.
 */
static char *
LabelText(SourceLayout *layout, int role, Datum d)
{
	char	   *s = OutputFunctionCall(&layout->out[role], d);

	if (layout->type[role] == BPCHAROID)
	{
		size_t		n = strlen(s);

		while (n > 0 && s[n - 1] == ' ')
			s[--n] = '\0';
	}
	return s;
}

/*
 * An owner as crm_grade keeps it: at most OWNER_MAX_BYTES, cut at a
 * character boundary.  The owner is indexed (followups_due() reads one
 * owner's customers by it), and a B-tree entry holds about 2,700 bytes:
 * a longer owner must not fail the application's write to its master.
 */
#define OWNER_MAX_BYTES 1000

static char *
OwnerText(char *s)
{
	int			len = strlen(s);

	if (len > OWNER_MAX_BYTES)
		s[pg_mbcliplen(s, len, OWNER_MAX_BYTES)] = '\0';
	return s;
}

/* SQL: crm_grade._key_max_bytes(), for verify() and _check_rows(). */
Datum
crm_grade_key_max_bytes(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(CRM_KEY_MAX_BYTES);
}

/* The same for verify()'s SQL: crm_grade._owner_text(text). */
Datum
crm_grade_owner_text(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(OwnerText(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

/* The customer-master roles of a row. */
static bool
ReadMasterRoles(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	bool		isnull;
	Datum		d;

	if (layout->att[CUS_OWNER] != 0)
	{
		d = slot_getattr(slot, layout->att[CUS_OWNER], &isnull);
		if (!isnull)
			row->owner = OwnerText(LabelText(layout, CUS_OWNER, d));
	}
	if (layout->att[CUS_ATTRS] != 0)
	{
		d = slot_getattr(slot, layout->att[CUS_ATTRS], &isnull);
		if (!isnull)
			row->attributes = DatumGetJsonbPCopy(d);
	}
	return ReadTimeRole(layout, slot, row, strict, CUS_CREATED, false, &row->t, &row->has_t);
}

/* The contact-specific roles of a row (the channel is not read: no metric uses it). */
static bool
ReadContactRoles(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	bool		isnull;
	Datum		d;

	if (!ReadTimeRole(layout, slot, row, strict, CON_TIME, true, &row->t, &row->has_t))
		return false;
	if (layout->att[CON_OUTCOME] != 0)
	{
		d = slot_getattr(slot, layout->att[CON_OUTCOME], &isnull);
		if (!isnull)
			row->outcome = LabelText(layout, CON_OUTCOME, d);
	}
	return ReadTimeRole(layout, slot, row, strict, CON_NEXT_ACTION, false, &row->next_action,
						&row->has_next_action);
}

/*
 * The opportunity-specific roles of a row: when its stage last changed and
 * whether it is open (stage and amount are for stalled_opportunities only).
 */
static bool
ReadOpportunityRoles(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	bool		isnull;
	Datum		d;

	if (!ReadTimeRole(layout, slot, row, strict, OPP_CHANGED, true, &row->t, &row->has_t))
		return false;
	d = slot_getattr(slot, layout->att[OPP_OPEN], &isnull);
	if (isnull)
		return BadValue(layout, row, strict, OPP_OPEN, ERRCODE_NOT_NULL_VIOLATION, "NULL", NULL);
	row->is_open = DatumGetBool(d);
	return true;
}

/*
 * Read one row.  Strict: any value crm_grade cannot grade is an error
 * naming the table, the column and the customer.  Lenient: returns false
 * and leaves the reason in row->problem.
 */
bool
SourceReadRow(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	bool		isnull;
	Datum		d;

	memset(row, 0, sizeof(SourceRow));
	row->kind = layout->src->kind;
	d = slot_getattr(slot, layout->att[ROLE_KEY], &isnull);
	if (isnull)
		return BadValue(layout, row, strict, ROLE_KEY, ERRCODE_NOT_NULL_VIOLATION, "NULL", NULL);
	row->key = (layout->type[ROLE_KEY] == TEXTOID) ? TextDatumGetCString(d) :
		OutputFunctionCall(&layout->out[ROLE_KEY], d);
	if (strlen(row->key) > CRM_KEY_MAX_BYTES)
	{
		/*
		 * A key that no index of crm_grade's can hold has no customer; kept
		 * as the value, so that an UPDATE refuses a new such key and lets an
		 * unchanged one (in a row that got in while triggers were disabled)
		 * be updated or deleted.
		 */
		char	   *key = row->key;

		row->key = NULL;
		return BadValue(layout, row, strict, ROLE_KEY, ERRCODE_PROGRAM_LIMIT_EXCEEDED,
						"longer than " CppAsString2(CRM_KEY_MAX_BYTES) " bytes", key);
	}
	switch (layout->src->kind)
	{
		case SK_ORDERS:
			return ReadOrderRoles(layout, slot, row, strict);
		case SK_CONTACTS:
			return ReadContactRoles(layout, slot, row, strict);
		case SK_OPPORTUNITIES:
			return ReadOpportunityRoles(layout, slot, row, strict);
		default:
			return ReadMasterRoles(layout, slot, row, strict);
	}
}

static int
CompareTs(bool has_a, TimestampTz a, bool has_b, TimestampTz b)
{
	if (has_a != has_b)
		return has_a ? 1 : -1;
	if (!has_a || a == b)
		return 0;
	return a < b ? -1 : 1;
}

static int
CompareStrings(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL) - (b == NULL);
	return strcmp(a, b);
}

/* The scale of an amount as written (-1 for a NaN or infinity, which no graded row holds). */
static int
AmountScale(Numeric n)
{
	if (numeric_is_nan(n) || numeric_is_inf(n))
		return -1;
	return DatumGetInt32(DirectFunctionCall1(numeric_scale, NumericGetDatum(n)));
}

/*
 * Total order over rows by everything crm_grade reads of them (the key
 * first), so that an UPDATE's old and new rows can be matched as multisets
 * and an update of other columns costs nothing.
 */
int
SourceCompareRows(const SourceRow *a, const SourceRow *b, SourceKindId kind)
{
	int			c = strcmp(a->key, b->key);

	if (c != 0)
		return c;
	if ((c = CompareTs(a->has_t, a->t, b->has_t, b->t)) != 0)
		return c;
	if (kind == SK_ORDERS)
	{
		if ((c = CompareTs(a->has_paid, a->paid, b->has_paid, b->paid)) != 0)
			return c;
		if ((c = CompareStrings(a->order_id, b->order_id)) != 0)
			return c;
		if ((c = DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a->amount),
												   NumericGetDatum(b->amount)))) != 0)
			return c;
		/* 1 and 1.000 differ: a sum takes the larger scale, and averages show it */
		return AmountScale(a->amount) - AmountScale(b->amount);
	}
	if (kind == SK_OPPORTUNITIES)
		return (int) a->is_open - (int) b->is_open;
	if (kind == SK_CONTACTS)
	{
		if ((c = CompareStrings(a->outcome, b->outcome)) != 0)
			return c;
		return CompareTs(a->has_next_action, a->next_action, b->has_next_action, b->next_action);
	}
	if ((c = CompareStrings(a->owner, b->owner)) != 0)
		return c;
	if (a->attributes == NULL || b->attributes == NULL)
		return (a->attributes == NULL) - (b->attributes == NULL);
	return compareJsonbContainers(&a->attributes->root, &b->attributes->root);
}

/*
 * Order over rows a lenient read could not use: key, then which value was
 * wrong and how, so that an UPDATE that leaves such a row as it was can
 * be told from one that writes a bad value.
 */
int
SourceCompareProblems(const SourceRow *a, const SourceRow *b)
{
	int			c = CompareStrings(a->key, b->key);

	if (c != 0)
		return c;
	if ((c = a->problem_role - b->problem_role) != 0)
		return c;
	if ((c = strcmp(a->problem, b->problem)) != 0)
		return c;
	return CompareStrings(a->problem_value, b->problem_value);
}

/*
 * SQL: crm_grade._check_columns(tbl regclass, kind text, columns jsonb)
 * RETURNS regtype.  Checks that every role the kind requires is given,
 * that no unknown role is, and that each column exists with a usable type;
 * returns the key's base type.  The same checks run on every trigger call.
 */
Datum
crm_grade_check_columns(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	SourceKindId kind = SourceKindByName(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	Jsonb	   *columns = PG_GETARG_JSONB_P(2);
	const KindDef *def = &SourceKinds[kind];
	Relation	rel;
	Source		src;
	SourceLayout layout;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			r;

	memset(&src, 0, sizeof(src));
	src.relid = relid;
	src.kind = kind;
	rel = relation_open(relid, AccessShareLock);
	src.relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
											 RelationGetRelationName(rel));
	it = JsonbIteratorInit(&columns->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *name;

		if (tok != WJB_KEY)
			continue;
		name = pnstrdup(v.val.string.val, v.val.string.len);
		for (r = 0; r < def->nroles; r++)
			if (strcmp(def->roles[r].name, name) == 0)
				break;
		if (r == def->nroles)
			elog(ERROR, "crm_grade: unknown role \"%s\" for a source of kind %s", name, def->name);
	}
	for (r = 0; r < def->nroles; r++)
	{
		JsonbValue *cv = getKeyJsonValueFromContainer(&columns->root, def->roles[r].name,
													   strlen(def->roles[r].name), NULL);

		if (cv && cv->type == jbvString)
			src.columns[r] = pnstrdup(cv->val.string.val, cv->val.string.len);
		else if (def->roles[r].required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the %s column of %s must not be NULL", def->roles[r].what, src.relname),
					 errhint("Name the column of the table that holds the %s.", def->roles[r].what)));
	}
	SourceLayoutForDesc(&layout, &src, RelationGetDescr(rel), src.relname, false, true);
	relation_close(rel, AccessShareLock);
	PG_RETURN_OID(layout.type[ROLE_KEY]);
}
