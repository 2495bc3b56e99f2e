/*-------------------------------------------------------------------------
 *
 * trigger.c
 *		The triggers crm_grade places on attached tables: checking the call,
 *		reading the rows it carries, and handing them to the refresh.
 *
 * Every attached table, and each of its partitions, has AFTER ... FOR EACH
 * STATEMENT triggers with transition tables (a write straight into a
 * partition fires only that partition's statement triggers), and a row
 * trigger that fires only for replicated rows (session_replication_role =
 * replica: logical replication applies rows without statement triggers).
 * TRUNCATE fires always.
 *
 *-------------------------------------------------------------------------
 */
#include "errors.h"
#include "filter.h"
#include "refresh.h"

#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(crm_grade_source_trigger);

/* History reasons of each kind of source, by event. */
typedef struct KindEvents
{
	const char *insert;
	const char *update;
	const char *delete;
	const char *truncate;
} KindEvents;

static const KindEvents Events[SK_NKINDS] = {
	[SK_ORDERS] = {"order", "order_updated", "order_deleted", "orders_truncated"},
	[SK_CUSTOMERS] = {"customer_created", "customer_updated", "customer_deleted", "customers_truncated"},
	[SK_CONTACTS] = {"contact", "contact_updated", "contact_deleted", "contacts_truncated"},
	[SK_OPPORTUNITIES] = {"opportunity", "opportunity_updated", "opportunity_deleted", "opportunities_truncated"},
};

/* The full refresh a TRUNCATE made last: its transaction and command. */
static LocalTransactionId last_full_lxid = InvalidLocalTransactionId;
static CommandId last_full_cid = InvalidCommandId;

static CommandId StatementCommand(void);

/* What a trigger call is about. */
typedef struct TriggerCall
{
	TriggerData *td;
	Relation	rel;
	char	   *relname;
	Source	   *src;
	SourceLayout layout;
	FilterState *filter;		/* which rows count; NULL: all */
	CommandId	since;			/* the command that wrote the rows */
} TriggerCall;

/* crm_grade_begin: BEFORE INSERT OR UPDATE OR DELETE ... FOR EACH STATEMENT. */
static bool
IsBeginTrigger(TriggerData *td)
{
	return TRIGGER_FIRED_BEFORE(td->tg_event) && TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) &&
		!TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) &&
		strcmp(td->tg_trigger->tgname, "crm_grade_begin") == 0;
}

/* A trigger call must come from the trigger manager, AFTER, with its tables. */
static TriggerData *
CheckTriggerCall(FunctionCallInfo fcinfo)
{
	TriggerData *td;
	const char *missing = NULL;
	int			ev;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("crm_grade.source_trigger() was not called by the trigger manager"),
				 errhint("crm_grade.attach_*() creates the triggers that call it.")));
	td = (TriggerData *) fcinfo->context;
	ev = td->tg_event & TRIGGER_EVENT_OPMASK;
	if (IsBeginTrigger(td))
		return td;				/* nothing to check: it does nothing */
	if (!TRIGGER_FIRED_AFTER(td->tg_event))
		missing = "AFTER";
	else if (TRIGGER_FIRED_FOR_ROW(td->tg_event) && td->tg_trigger->tgenabled != TRIGGER_FIRES_ON_REPLICA)
		missing = "ENABLE REPLICA (its row trigger fires for replicated rows only)";
	else if (TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) && ev != TRIGGER_EVENT_TRUNCATE &&
			 ((ev != TRIGGER_EVENT_DELETE && td->tg_newtable == NULL) ||
			  (ev != TRIGGER_EVENT_INSERT && td->tg_oldtable == NULL)))
		missing = "REFERENCING transition tables";
	if (missing)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" calls crm_grade.source_trigger() without %s",
						td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation), missing),
				 errhint("Drop it; crm_grade.attach_*() creates the triggers crm_grade needs.")));
	return td;
}

/*
 * The attachment the trigger works for: its table must be attached (or a
 * partition of an attached table) as the kind its argument names.  The
 * scope is told the table as soon as it is known.
 * Anything else is refused, so no one grades customers from a table of
 * their own with crm_grade's trigger function.
 */
static void
ResolveCall(TriggerCall *call, TriggerData *td, CrmScope *scope)
{
	Trigger    *trig = td->tg_trigger;

	call->td = td;
	call->rel = td->tg_relation;
	call->relname = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(call->rel)),
											   RelationGetRelationName(call->rel));
	scope->object = call->relname;
	call->src = SourceForRelid(RelationGetRelid(call->rel), true);
	if (call->src == NULL || trig->tgnargs != 1 ||
		strcmp(trig->tgargs[0], SourceKinds[call->src->kind].name) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("trigger \"%s\" on %s does not belong to a crm_grade attachment",
						trig->tgname, call->relname),
				 call->src ?
				 errdetail("%s is attached as %s, and crm_grade's triggers on it take that kind as their one argument.",
						   call->src->relname, SourceKinds[call->src->kind].name) :
				 errdetail("%s is not attached to crm_grade, nor a partition of an attached table.",
						   call->relname),
				 errhint("DROP TRIGGER %s ON %s; crm_grade.attach_*() creates the triggers crm_grade needs.",
						 quote_identifier(trig->tgname), call->relname)));
	SourceLayoutForDesc(&call->layout, call->src, RelationGetDescr(call->rel), call->relname,
						false, false);
	call->filter = call->src->filter ?
		FilterCompile(call->rel, call->src->filter, call->relname) : NULL;
	call->since = StatementCommand();
}

/*
 * Every row of a transition table (or the one row of a row trigger) that
 * the source's filter admits: the others are not crm_grade's business.
 */
static SourceRow *
ReadRows(TriggerCall *call, Tuplestorestate *store, TupleTableSlot *one, bool strict,
		 int *nrows)
{
	TupleTableSlot *slot;
	int			cap = 16,
				n = 0;
	SourceRow  *rows = palloc(sizeof(SourceRow) * cap);

	if (one)
	{
		*nrows = 0;
		if (FilterRow(call->filter, one))
			SourceReadRow(&call->layout, one, &rows[(*nrows)++], strict);
		return rows;
	}
	slot = MakeSingleTupleTableSlot(RelationGetDescr(call->rel), &TTSOpsMinimalTuple);
	tuplestore_rescan(store);
	while (tuplestore_gettupleslot(store, true, false, slot))
	{
		if (!FilterRow(call->filter, slot))
			continue;
		if (n == cap)
		{
			cap *= 2;
			rows = repalloc_huge(rows, sizeof(SourceRow) * cap);
		}
		SourceReadRow(&call->layout, slot, &rows[n++], strict);
	}
	ExecDropSingleTupleTableSlot(slot);
	*nrows = n;
	return rows;
}

/* Keys of rows (an unreadable old row without a key has no customer). */
static char **
RowKeys(SourceRow *rows, int n, int *nkeys)
{
	char	  **keys = palloc(sizeof(char *) * Max(n, 1));
	int			i,
				m = 0;

	for (i = 0; i < n; i++)
		if (rows[i].key)
			keys[m++] = rows[i].key;
	return SortDistinctKeys(keys, m, nkeys);
}

static int
CompareRowsArg(const void *a, const void *b, void *arg)
{
	return SourceCompareRows(a, b, *(SourceKindId *) arg);
}

static int
CompareProblemsArg(const void *a, const void *b, void *arg)
{
	return SourceCompareProblems(a, b);
}

/* Split rows into those read fine (first) and those with a problem. */
static int
SplitGood(SourceRow *rows, int n, SourceRow **bad, int *nbad)
{
	SourceRow  *b = palloc(sizeof(SourceRow) * Max(n, 1));
	int			i,
				ngood = 0;

	*nbad = 0;
	for (i = 0; i < n; i++)
	{
		if (rows[i].problem == NULL)
			rows[ngood++] = rows[i];
		else
			b[(*nbad)++] = rows[i];
	}
	*bad = b;
	return ngood;
}

/*
 * Match old against new rows as multisets under cmp, adding the keys of
 * the rows left over, or, when left is given, the rows themselves (old
 * ones marked removed, each with event) to left's rows.  Unmatched new
 * rows are refused with refuse_new when given (an UPDATE that writes a bad
 * value).
 */
static int
MatchRows(SourceRow *old, int nold, SourceRow *new, int nnew, char **keys, int m,
		  int (*cmp) (const void *, const void *, void *), void *arg,
		  SourceLayout *refuse_new, StatementWork *left, const char *event)
{
	int			i = 0,
				j = 0;

	qsort_arg(old, nold, sizeof(SourceRow), cmp, arg);
	qsort_arg(new, nnew, sizeof(SourceRow), cmp, arg);
	while (i < nold || j < nnew)
	{
		int			c = (i >= nold) ? 1 : (j >= nnew) ? -1 : cmp(&old[i], &new[j], arg);
		SourceRow  *row = c < 0 ? &old[i] : &new[j];

		if (c == 0)
		{
			i++, j++;
			continue;
		}
		if (c < 0)
			i++;
		else
		{
			if (refuse_new)
				SourceRaiseProblem(refuse_new, row);
			j++;
		}
		if (left)
		{
			SourceRow	change = *row;

			change.removed = c < 0;
			change.event = event;
			WorkAddRows(left, &change, 1);
		}
		else if (row->key)
			keys[m++] = row->key;
	}
	return m;
}

/*
 * The customers whose rows really changed: old and new rows matched as
 * multisets of what crm_grade reads, so that an UPDATE of columns
 * crm_grade does not read costs nothing further, even over a bad row that
 * got in while triggers were disabled.  A new row with a value crm_grade
 * cannot grade that is not the old row unchanged is refused.  When changes
 * is given, the good rows left over go to its rows instead of their keys
 * (old ones marked removed, each with event): order rows, applied to the
 * stored states.
 */
static char **
ChangedKeys(TriggerCall *call, SourceRow *old, int nold, SourceRow *new, int nnew, int *nkeys,
			StatementWork *changes, const char *event)
{
	char	  **keys = palloc(sizeof(char *) * Max(nold + nnew, 1));
	SourceKindId kind = call->src->kind;
	SourceRow  *oldbad,
			   *newbad;
	int			noldbad,
				nnewbad,
				m;

	nold = SplitGood(old, nold, &oldbad, &noldbad);
	nnew = SplitGood(new, nnew, &newbad, &nnewbad);
	m = MatchRows(oldbad, noldbad, newbad, nnewbad, keys, 0, CompareProblemsArg, NULL,
				  &call->layout, NULL, NULL);
	m = MatchRows(old, nold, new, nnew, keys, m, CompareRowsArg, &kind, NULL, changes, event);
	return SortDistinctKeys(keys, m, nkeys);
}

/*
 * INSERT: orders, contacts and deals extend the stored states (each adds
 * to its customer's accumulators whatever the order rows come in); master
 * rows, and lines that may belong to an order already counted, re-read the
 * customers.
 */
static void
OnInsert(TriggerCall *call, StatementWork *work, TupleTableSlot *one)
{
	int			n,
				nkeys;
	SourceRow  *rows = ReadRows(call, call->td->tg_newtable, one, true, &n);
	const char *event = Events[call->src->kind].insert;

	if ((call->src->kind == SK_ORDERS && !SOURCE_HAS_LINES(call->src)) ||
		call->src->kind == SK_CONTACTS || call->src->kind == SK_OPPORTUNITIES)
	{
		int			i;

		for (i = 0; i < n; i++)
			rows[i].event = event;
		WorkAddRows(work, rows, n);
	}
	else
	{
		char	  **keys = RowKeys(rows, n, &nkeys);

		WorkAddKeys(work, keys, nkeys, event);
	}
}

/*
 * UPDATE and DELETE: re-read the customers whose rows changed, except
 * that changed order rows (of a table without order lines) are applied to
 * their customers' stored states as rows out and rows in, where that is
 * exact (MetricsApplyOrderChanges; the others are re-read then).  Rows are
 * read leniently (a bad row that got in while triggers were disabled can
 * still be fixed, deleted, or left alone by an update of other columns);
 * a new row that writes a bad value is refused in ChangedKeys.
 */
static void
OnUpdateOrDelete(TriggerCall *call, StatementWork *work, TupleTableSlot *old_one,
				 TupleTableSlot *new_one)
{
	bool		update = TRIGGER_FIRED_BY_UPDATE(call->td->tg_event);
	const char *event = update ? Events[call->src->kind].update : Events[call->src->kind].delete;
	bool		as_changes = call->src->kind == SK_ORDERS && !SOURCE_HAS_LINES(call->src);
	int			nold,
				nnew = 0,
				nkeys;
	SourceRow  *old = ReadRows(call, call->td->tg_oldtable, old_one, false, &nold);
	SourceRow  *new = update ? ReadRows(call, call->td->tg_newtable, new_one, false, &nnew) : NULL;
	char	  **keys;

	if (update || as_changes)
		keys = ChangedKeys(call, old, nold, new, nnew, &nkeys, as_changes ? work : NULL, event);
	else
		keys = RowKeys(old, nold, &nkeys);	/* a DELETE re-reads whom it touched */
	WorkAddKeys(work, keys, nkeys, event);
}

/*
 * TRUNCATE: every customer is re-read.  A TRUNCATE of a partitioned table
 * fires the trigger of every partition too; one full refresh after the
 * statement's truncation serves them all.
 */
static void
OnTruncate(TriggerCall *call)
{
	if (last_full_lxid == MyProc->lxid && last_full_cid != InvalidCommandId &&
		last_full_cid > call->since)
		return;
	RefreshAll(Events[call->src->kind].truncate);
	last_full_lxid = MyProc->lxid;
	last_full_cid = GetCurrentCommandId(false);
}

/*
 * One statement's work, over all of crm_grade's triggers it fires.
 *
 * A statement can fire several of crm_grade's triggers: an upsert its
 * UPDATE and INSERT triggers, a MERGE or a writable CTE several, one per
 * table.  Applied trigger by trigger, they would lock the statement's
 * customers in several rounds, each sorted on its own, and two such
 * statements could deadlock.  So while a statement finishes (its AFTER
 * triggers fire inside ExecutorFinish), crm_grade's triggers only collect
 * what it did into a frame, and the ExecutorFinish hook applies it all at
 * once, each customer locked once, in one order.  (crm_grade_begin, a
 * BEFORE statement trigger, makes sure the library and its hook are loaded
 * by then, even in a session's first statement.)  Statements that fire
 * triggers outside the executor (COPY, logical replication's apply, a
 * TRUNCATE) apply at once.
 */
typedef struct WorkFrame
{
	StatementWork work;
	MemoryContext cxt;			/* holds the work; NULL until there is some */
	CommandId	query_cid;		/* the statement's command */
	char	   *relname;		/* the first table whose trigger added work */
	struct WorkFrame *outer;
} WorkFrame;

static WorkFrame *current_frame = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;

/* The command of the statement whose triggers fire now (InvalidCommandId: unknown). */
static CommandId
StatementCommand(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot()->curcid : InvalidCommandId;
}

/* Apply a finished statement's work, as crm_grade's owner. */
static void
ApplyFrameWork(CrmScope *scope, void *arg)
{
	WorkFrame  *frame = arg;
	CrmIdentity id;
	MemoryContext oldcxt = MemoryContextSwitchTo(frame->cxt);

	CrmEnter(&id);
	MemoryContextSwitchTo(frame->cxt);
	WorkApply(&frame->work);
	CrmLeave(&id);
	MemoryContextSwitchTo(oldcxt);
}

static void
ApplyFrame(WorkFrame *frame)
{
	CrmRunScoped("grading after a write to", frame->relname, ApplyFrameWork, frame);
}

static void
CrmExecutorFinish(QueryDesc *queryDesc)
{
	WorkFrame	frame;

	frame.cxt = NULL;
	frame.relname = NULL;
	frame.query_cid = StatementCommand();
	frame.outer = current_frame;
	WorkInit(&frame.work, frame.query_cid);	/* used only when it matches a trigger's */
	current_frame = &frame;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		current_frame = frame.outer;
	}
	PG_END_TRY();
	if (frame.cxt == NULL)
		return;
	ApplyFrame(&frame);
	MemoryContextDelete(frame.cxt);
}

/* Called by _PG_init. */
void
CrmInstallTriggerHooks(void)
{
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = CrmExecutorFinish;
}

/*
 * The frame this trigger call's work goes into: the one of the statement
 * firing it, if it is finishing in the executor; else NULL (apply at once).
 */
static WorkFrame *
FrameFor(TriggerCall *call, bool row)
{
	WorkFrame  *frame = current_frame;

	if (frame == NULL || row || call->since == InvalidCommandId || frame->query_cid != call->since)
		return NULL;
	if (frame->cxt == NULL)
		frame->cxt = AllocSetContextCreate(CurTransactionContext, "crm_grade statement",
										   ALLOCSET_DEFAULT_SIZES);
	return frame;
}

/* The work of one trigger call, in its scope (named once the table is known). */
static void
TriggerWork(CrmScope *scope, void *arg)
{
	TriggerData *td = arg;
	TriggerCall call;
	CrmIdentity id;
	bool		row = TRIGGER_FIRED_FOR_ROW(td->tg_event);
	WorkFrame  *frame;
	StatementWork now;
	MemoryContext oldcxt;

	CrmEnter(&id);
	ResolveCall(&call, td, scope);
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		OnTruncate(&call);
		CrmLeave(&id);
		return;
	}
	frame = FrameFor(&call, row);
	oldcxt = MemoryContextSwitchTo(frame ? frame->cxt : CurrentMemoryContext);
	if (frame == NULL)
		WorkInit(&now, call.since == InvalidCommandId ? FirstCommandId : call.since);
	else if (frame->relname == NULL)
		frame->relname = pstrdup(call.relname);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		OnInsert(&call, frame ? &frame->work : &now, row ? td->tg_trigslot : NULL);
	else
		OnUpdateOrDelete(&call, frame ? &frame->work : &now, row ? td->tg_trigslot : NULL,
						 row && TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newslot : NULL);
	MemoryContextSwitchTo(oldcxt);
	if (frame == NULL)
		WorkApply(&now);
	CrmLeave(&id);
}

/*
 * SQL: crm_grade.source_trigger() RETURNS trigger: every trigger crm_grade
 * places on an attached table.  Its one argument is the kind of source.
 */
Datum
crm_grade_source_trigger(PG_FUNCTION_ARGS)
{
	TriggerData *td = CheckTriggerCall(fcinfo);

	/*
	 * BEFORE ... FOR EACH STATEMENT (crm_grade_begin) does nothing: calling
	 * it loaded this library, whose ExecutorFinish hook then collects the
	 * statement's work, even in a session's first statement.
	 */
	if (IsBeginTrigger(td))
		return PointerGetDatum(NULL);
	if (!StateCatalogCurrent())
	{
		/* the update re-evaluates every customer, this write's included */
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("crm_grade's library has been updated, but this database's crm_grade has not"),
				 errdetail("The write is kept; its customers are graded when the extension is updated."),
				 errhint("Run ALTER EXTENSION crm_grade UPDATE in this database.")));
		return PointerGetDatum(NULL);
	}
	CrmRunScoped("trigger on", NULL, TriggerWork, td);
	return PointerGetDatum(NULL);
}
