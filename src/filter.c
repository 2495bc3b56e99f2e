/*-------------------------------------------------------------------------
 *
 * filter.c
 *		Row filters: parsing and checking one, evaluating it on a row, the
 *		columns it names, and its text after a column is renamed.
 *
 * The checks follow those PostgreSQL 15 makes on a publication's row
 * filter (publicationcmds.c): one expression, no subqueries, aggregates,
 * window functions or system columns, and only PostgreSQL's own immutable
 * functions and operators.  Enums are allowed as well, since comparing
 * them runs only PostgreSQL's code; other types a role defined are not.
 *
 *-------------------------------------------------------------------------
 */
#include "errors.h"
#include "filter.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/regproc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

struct FilterState
{
	ExprState  *expr;
	ExprContext *econtext;
	char	   *quoted;			/* the filter's text in quotes, for errors */
};

/* What a filter check is about, for its messages. */
typedef struct FilterCheck
{
	const char *relname;
	const char *filter;
	const char *hint;			/* replaces PostgreSQL's, when set */
	bool		fresh;			/* a filter given to attach_*(), not a stored one */
} FilterCheck;

static void
RefuseFilter(FilterCheck *fc, const char *what, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("invalid filter for %s: %s", fc->relname, what),
			 errdetail("The filter is \"%s\".", fc->filter),
			 errhint("%s", hint)));
}

/* The single expression of a filter's text, parsed; nothing else is accepted. */
static Node *
ParseFilter(FilterCheck *fc)
{
	List	   *raw = raw_parser(fc->filter, RAW_PARSE_PLPGSQL_EXPR);
	SelectStmt *sel;
	ResTarget  *target;

	sel = list_length(raw) == 1 ? (SelectStmt *) linitial_node(RawStmt, raw)->stmt : NULL;
	if (sel == NULL || !IsA(sel, SelectStmt) || list_length(sel->targetList) != 1 ||
		sel->distinctClause || sel->fromClause || sel->whereClause || sel->groupClause ||
		sel->havingClause || sel->windowClause || sel->sortClause || sel->limitCount ||
		sel->limitOffset || sel->lockingClause || sel->withClause || sel->op != SETOP_NONE)
		RefuseFilter(fc, "it must be one boolean expression",
					 "Write a condition such as status <> 'cancelled' AND deleted_at IS NULL.");
	target = linitial_node(ResTarget, sel->targetList);
	if (target->name)
		RefuseFilter(fc, "it must be one boolean expression", "Leave out the AS clause.");
	return target->val;
}

/* May a value of this type appear in a filter? PostgreSQL's types and enums. */
static bool
TypeAllowed(Oid type)
{
	Oid			base = getBaseType(type);
	Oid			elem = get_element_type(base);

	if (OidIsValid(elem))
		base = getBaseType(elem);
	if (base < FirstNormalObjectId)
		return true;
	return type_is_enum(base);
}

static char *Canonical(Relation rel, FilterCheck *fc, const char *renamed_from,
					   const char *renamed_to);

static bool
FunctionAllowed(Oid funcid, void *context)
{
	FilterCheck *fc = context;

	if (funcid >= FirstNormalObjectId)
		RefuseFilter(fc, psprintf("function %s is not PostgreSQL's own", format_procedure(funcid)),
					 "A filter may call only PostgreSQL's built-in immutable functions and operators: crm_grade evaluates it with its own rights.");
	if (func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
		RefuseFilter(fc, psprintf("function %s is not immutable", format_procedure(funcid)),
					 "Which rows count must depend on the row alone, not on the time or the session; compare with constants.");
	return false;
}

/*
 * Does a type's text form (or an element's) follow a setting of the
 * session: written (output) or read (input)?
 */
static bool
TextFollowsSession(Oid type, bool output)
{
	Oid			base = getBaseType(type);
	Oid			elem = get_element_type(base);

	if (OidIsValid(elem))
		base = getBaseType(elem);
	/* IntervalStyle both ways; extra_float_digits, bytea_output written */
	return base == INTERVALOID ||
		(output && (base == FLOAT4OID || base == FLOAT8OID || base == BYTEAOID));
}

/*
 * A cast through text whose output (or, for interval, input) follows the
 * session's settings: a float written with the writer's extra_float_digits
 * would let the writer decide whether its own row counts (found by
 * review), though PostgreSQL calls those functions immutable.  Refused in
 * a filter given to attach_*(); one stored before 0.12 keeps working.
 */
static void
RefuseSessionText(FilterCheck *fc, CoerceViaIO *io)
{
	if (TextFollowsSession(exprType((Node *) io->arg), true) || TextFollowsSession(io->resulttype, false))
		RefuseFilter(fc, psprintf("a cast between %s and %s depends on the session's settings",
								  format_type_be(exprType((Node *) io->arg)), format_type_be(io->resulttype)),
					 "Compare the value itself with a constant of its type, e.g. ratio <> 0.3 rather than ratio::text <> '0.3'.");
}

/* Refuse anything but plain expressions over the table's columns. */
static bool
CheckNode(Node *node, void *context)
{
	FilterCheck *fc = context;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Var:
			if (((Var *) node)->varattno <= 0)
				RefuseFilter(fc, "system columns are not allowed", "Use the table's own columns.");
			break;
		case T_SubLink:
			RefuseFilter(fc, "subqueries are not allowed",
						 "A filter reads the row's own columns only; for a condition on another table, add a column (or a generated one) to this one.");
			break;
		case T_Aggref:
		case T_WindowFunc:
		case T_GroupingFunc:
			RefuseFilter(fc, "aggregate and window functions are not allowed",
						 "A filter decides about one row at a time.");
			break;
		case T_CoerceViaIO:
			if (fc->fresh)
				RefuseSessionText(fc, (CoerceViaIO *) node);
			break;
		case T_Const:
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_ScalarArrayOpExpr:
		case T_BoolExpr:
		case T_BooleanTest:
		case T_NullTest:
		case T_FuncExpr:
		case T_RelabelType:
		case T_ArrayExpr:
		case T_CoalesceExpr:
		case T_MinMaxExpr:
		case T_CaseExpr:
		case T_CaseWhen:
		case T_CaseTestExpr:
		case T_List:
			break;
		default:
			RefuseFilter(fc, psprintf("expressions of this kind (node %d) are not allowed", (int) nodeTag(node)),
						 "Use comparisons, IS [NOT] NULL, IN, AND, OR, NOT, CASE and built-in immutable functions.");
	}
	if (!IsA(node, List) && !TypeAllowed(exprType(node)))
		RefuseFilter(fc, psprintf("type %s is not PostgreSQL's own", format_type_be(exprType(node))),
					 "A filter may use PostgreSQL's built-in types and enums: the functions of other types would run with crm_grade's rights.");
	if (check_functions_in_node(node, FunctionAllowed, fc))
		return true;
	return expression_tree_walker(node, CheckNode, context);
}

/*
 * Analyse and check a filter against a relation; colnames, when given,
 * are the names its columns are known by (one per column that is not
 * dropped).
 */
static Node *
AnalyseFilterText(Relation rel, FilterCheck *fc, List *colnames)
{
	ParseState *pstate = make_parsestate(NULL);
	ParseNamespaceItem *nsitem;
	Node	   *expr;

	pstate->p_sourcetext = fc->filter;
	nsitem = addRangeTableEntryForRelation(pstate, rel, AccessShareLock,
										   colnames ? makeAlias(RelationGetRelationName(rel), colnames) : NULL,
										   false, false);
	addNSItemToQuery(pstate, nsitem, false, true, true);
	expr = transformExpr(pstate, ParseFilter(fc), EXPR_KIND_WHERE);
	expr = coerce_to_boolean(pstate, expr, "a crm_grade filter");
	assign_expr_collations(pstate, expr);
	CheckNode(expr, fc);
	free_parsestate(pstate);
	return expr;
}

/*
 * The same, with PostgreSQL's own errors (a syntax error, an unknown
 * column or function) told about the filter: without the position in it,
 * which would otherwise print the SQL of whatever called attach_*() as
 * the query, and with the filter and the table named.  (Parse analysis
 * holds no resources that an error would leak.)
 */
static Node *
AnalyseFilter(Relation rel, FilterCheck *fc, List *colnames)
{
	MemoryContext cxt = CurrentMemoryContext;
	Node	   *expr = NULL;

	PG_TRY();
	{
		expr = AnalyseFilterText(rel, fc, colnames);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->cursorpos = 0;
		edata->internalpos = 0;
		edata->internalquery = NULL;
		if (edata->detail == NULL)
			edata->detail = psprintf("In the filter of %s: \"%s\".", fc->relname, fc->filter);
		if (fc->hint)
			edata->hint = pstrdup(fc->hint);
		ReThrowError(edata);
	}
	PG_END_TRY();
	return expr;
}

/* The filter's text as PostgreSQL writes it, with the relation's column names. */
static char *
Deparse(Relation rel, Node *expr)
{
	int			nestlevel = CrmPinTextFormats();
	char	   *text;

	/* a time with its offset is read the same in any zone: UTC, for one text */
	(void) set_config_option("TimeZone", "UTC", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	text = deparse_expression(expr, deparse_context_for(RelationGetRelationName(rel),
														RelationGetRelid(rel)),
							  false, false);
	AtEOXact_GUC(true, nestlevel);
	return text;
}

/* A stored filter's text analysed, read as it was written (Deparse()). */
static Node *
AnalyseStored(Relation rel, FilterCheck *fc)
{
	int			nestlevel = CrmPinTextFormats();
	Node	   *expr = AnalyseFilter(rel, fc, NIL);

	AtEOXact_GUC(true, nestlevel);
	return expr;
}

/*
 * A filter analysed against a relation: its columns, types, operators and
 * enum labels held by OID, so that FilterDeparse writes it with whatever
 * names they have later (an ALTER TYPE ... RENAME in between).
 */
Node *
FilterAnalyse(Relation rel, const char *filter, const char *relname)
{
	FilterCheck fc = {relname, filter};

	return AnalyseStored(rel, &fc);
}

/* An analysed filter as PostgreSQL now writes it. */
char *
FilterDeparse(Relation rel, Node *expr)
{
	return Deparse(rel, expr);
}

/*
 * A filter checked against a relation, as it is to be stored.  When a
 * column was just renamed (renamed_from to renamed_to), the filter still
 * names it by its old name: it is read with that name and written with
 * the new one.  hint: what to do when it no longer holds (NULL:
 * PostgreSQL's own hint).
 */
char *
FilterCanonical(Relation rel, const char *filter, const char *relname,
				const char *renamed_from, const char *renamed_to, const char *hint)
{
	FilterCheck fc = {relname, filter, hint, false};

	return Canonical(rel, &fc, renamed_from, renamed_to);
}

static char *
Canonical(Relation rel, FilterCheck *fc, const char *renamed_from, const char *renamed_to)
{
	List	   *colnames = NIL;
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;

	if (renamed_from)
	{
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (att->attisdropped)
				continue;
			colnames = lappend(colnames,
							   makeString(strcmp(NameStr(att->attname), renamed_to) == 0 ?
										  pstrdup(renamed_from) : pstrdup(NameStr(att->attname))));
		}
	}
	return Deparse(rel, AnalyseFilter(rel, fc, colnames));
}

/* A filter ready to evaluate on rows of a relation, in the current memory context. */
FilterState *
FilterCompile(Relation rel, const char *filter, const char *relname)
{
	FilterCheck fc = {relname, filter};
	FilterState *fs = palloc(sizeof(FilterState));
	Expr	   *expr = (Expr *) AnalyseStored(rel, &fc);

	fs->expr = ExecInitExpr(expression_planner(expr), NULL);
	fs->econtext = CreateStandaloneExprContext();
	fs->quoted = psprintf("\"%s\"", filter);
	return fs;
}

/*
 * Does a row pass the filter?  NULL counts as false, as in a WHERE clause;
 * without a filter (fs NULL) every row does.
 */
bool
FilterRow(FilterState *fs, TupleTableSlot *slot)
{
	CrmScope	scope;
	bool		isnull;
	Datum		d;

	if (fs == NULL)
		return true;
	ResetExprContext(fs->econtext);
	fs->econtext->ecxt_scantuple = slot;
	CrmScopePush(&scope, "filter", fs->quoted);
	d = ExecEvalExprSwitchContext(fs->expr, fs->econtext, &isnull);
	CrmScopePop(&scope);
	return !isnull && DatumGetBool(d);
}

static bool
CollectColumnRefs(Node *node, void *context)
{
	List	  **names = context;

	if (node == NULL)
		return false;
	if (IsA(node, ColumnRef))
	{
		Node	   *last = llast(((ColumnRef *) node)->fields);

		if (IsA(last, String))
			*names = lappend(*names, strVal(last));
		return false;
	}
	return raw_expression_tree_walker(node, CollectColumnRefs, context);
}

/* The column names a (stored, valid) filter mentions. */
List *
FilterColumns(const char *filter)
{
	FilterCheck fc = {"", filter};
	List	   *names = NIL;
	int			nestlevel;

	/* read as it was written (Deparse()): a backslash is no escape */
	nestlevel = CrmPinTextFormats();
	CollectColumnRefs(ParseFilter(&fc), &names);
	AtEOXact_GUC(true, nestlevel);
	return names;
}

PG_FUNCTION_INFO_V1(crm_grade_check_filter);

/*
 * SQL: crm_grade._check_filter(tbl regclass, filter text) RETURNS text:
 * the filter checked against the table, as it is stored and used.
 */
Datum
crm_grade_check_filter(PG_FUNCTION_ARGS)
{
	Relation	rel = relation_open(PG_GETARG_OID(0), AccessShareLock);
	char	   *relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel));
	FilterCheck fc = {relname, text_to_cstring(PG_GETARG_TEXT_PP(1)), NULL, true};
	char	   *filter = Canonical(rel, &fc, NULL, NULL);

	relation_close(rel, AccessShareLock);
	PG_RETURN_TEXT_P(cstring_to_text(filter));
}

/* What crm_grade._filter_admits() keeps between rows of one query. */
typedef struct AdmitsCache
{
	Oid			relid;
	Oid			rowtype;		/* the relation's composite type */
	char	   *filter;
	FilterState *fs;
	TupleDesc	desc;
	TupleTableSlot *slot;
} AdmitsCache;

/* The compiled filter for this call site, made on its first row (or again if asked another). */
static AdmitsCache *
AdmitsCacheFor(FunctionCallInfo fcinfo, Oid relid, const char *filter)
{
	AdmitsCache *c = fcinfo->flinfo->fn_extra;
	MemoryContext oldcxt;
	Relation	rel;

	if (c != NULL && c->relid == relid && strcmp(c->filter, filter) == 0)
		return c;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errhint("Whoever evaluates a table's filter reads its rows: grant SELECT on it.")));
	oldcxt = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	c = palloc0(sizeof(AdmitsCache));
	rel = relation_open(relid, AccessShareLock);
	c->relid = relid;
	c->rowtype = RelationGetForm(rel)->reltype;
	c->filter = pstrdup(filter);
	c->fs = FilterCompile(rel, filter,
						  quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													 RelationGetRelationName(rel)));
	c->desc = CreateTupleDescCopy(RelationGetDescr(rel));
	c->slot = MakeSingleTupleTableSlot(c->desc, &TTSOpsHeapTuple);
	relation_close(rel, AccessShareLock);
	MemoryContextSwitchTo(oldcxt);
	fcinfo->flinfo->fn_extra = c;
	return c;
}

PG_FUNCTION_INFO_V1(crm_grade_filter_admits);

/*
 * SQL: crm_grade._filter_admits(tbl regclass, filter text, r record)
 * RETURNS boolean: does the filter admit r, a row of tbl?  verify(),
 * stalled_opportunities and the checks of attach_*() read the rows an
 * attached table's filter admits with this, not with the filter's text in
 * their SQL: the text would be parsed again by whoever runs them (a
 * superuser, often), and what a role adds to the catalog after the check
 * (a cast from its own enum to text, an implicit one) could make the same
 * text call that role's function.  This evaluates the checked expression
 * itself, as the triggers do.
 */
Datum
crm_grade_filter_admits(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *filter = text_to_cstring(PG_GETARG_TEXT_PP(1));
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(2);
	AdmitsCache *c = AdmitsCacheFor(fcinfo, relid, filter);
	HeapTupleData tup;
	bool		admitted;

	if (HeapTupleHeaderGetTypeId(row) != c->rowtype)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the row given is not a row of %s", get_rel_name(relid)),
				 errhint("Pass the table's whole row, as in crm_grade._filter_admits(t, filter, t.*).")));
	tup.t_len = HeapTupleHeaderGetDatumLength(row);
	ItemPointerSetInvalid(&tup.t_self);
	tup.t_tableOid = relid;
	tup.t_data = row;
	ExecStoreHeapTuple(&tup, c->slot, false);
	admitted = FilterRow(c->fs, c->slot);
	ExecClearTuple(c->slot);
	PG_RETURN_BOOL(admitted);
}
