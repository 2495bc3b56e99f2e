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
#include "merge.h"
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
	bool		detaching;		/* a partition leaving src's tree (SourceForDetaching) */
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
 * Is this one of the triggers crm_grade places, by its name and the event
 * that name stands for?  Every role may execute crm_grade.source_trigger()
 * (PostgreSQL checks that right against whoever creates a partition of an
 * attached table, which gets a copy of its row trigger), so a table's owner
 * could add a trigger of its own with it to an attached table: it would
 * count the table's rows twice.  Such a trigger is refused when it fires.
 */
static void
CheckTriggerIsOwn(TriggerData *td, const char *relname)
{
	const char *name = td->tg_trigger->tgname;
	int			ev = td->tg_event & TRIGGER_EVENT_OPMASK;
	const char *expected;

	if (TRIGGER_FIRED_FOR_ROW(td->tg_event))
		expected = "crm_grade_replica";
	else
		expected = ev == TRIGGER_EVENT_INSERT ? "crm_grade_insert" :
			ev == TRIGGER_EVENT_UPDATE ? "crm_grade_update" :
			ev == TRIGGER_EVENT_DELETE ? "crm_grade_delete" : "crm_grade_truncate";
	if (strcmp(name, expected) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("trigger \"%s\" on %s is not one of crm_grade's triggers", name, relname),
				 errdetail("crm_grade's trigger for this event is \"%s\", which crm_grade.attach_*() creates.",
						   expected),
				 errhint("DROP TRIGGER %s ON %s.", quote_identifier(name), relname)));
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
	call->detaching = call->src == NULL &&
		(call->src = SourceForDetaching(RelationGetRelid(call->rel))) != NULL;
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
	CheckTriggerIsOwn(td, call->relname);
	SourceLayoutForDesc(&call->layout, call->src, RelationGetDescr(call->rel), call->relname,
						false, false);
	call->filter = NULL;		/* CompileFilter(), as crm_grade's owner */
	call->since = StatementCommand();
}

/* The source's filter, parsed with crm_grade's search_path (see TriggerWork). */
static void
CompileFilter(TriggerCall *call)
{
	if (call->src->filter)
		call->filter = FilterCompile(call->rel, call->src->filter, call->relname);
}

/*
 * The rows of a transition table, or the one row of a row trigger, one at
 * a time: a statement's rows are never all in memory at once.
 */
typedef struct RowStream
{
	Tuplestorestate *store;
	TupleTableSlot *one;		/* a row trigger's row, until returned */
	TupleTableSlot *slot;		/* a transition table's current row */
} RowStream;

static void
RowStreamBegin(RowStream *s, TriggerCall *call, Tuplestorestate *store, TupleTableSlot *one)
{
	s->store = one ? NULL : store;
	s->one = one;
	s->slot = NULL;
	if (s->store == NULL)
		return;
	s->slot = MakeSingleTupleTableSlot(RelationGetDescr(call->rel), &TTSOpsMinimalTuple);
	tuplestore_rescan(s->store);
}

/* The next row, or NULL at the end. */
static TupleTableSlot *
RowStreamNext(RowStream *s)
{
	TupleTableSlot *one = s->one;

	if (s->store == NULL)
	{
		s->one = NULL;
		return one;
	}
	return tuplestore_gettupleslot(s->store, true, false, s->slot) ? s->slot : NULL;
}

static void
RowStreamEnd(RowStream *s)
{
	if (s->slot)
		ExecDropSingleTupleTableSlot(s->slot);
}

/* Read a row the source's filter admits (the others are not crm_grade's business). */
static bool
ReadAdmitted(TriggerCall *call, TupleTableSlot *slot, SourceRow *row, bool strict)
{
	if (slot == NULL || !FilterRow(call->filter, slot))
		return false;
	SourceReadRow(&call->layout, slot, row, strict);
	return true;
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
	const char *event = Events[call->src->kind].insert;
	bool		as_rows = !call->detaching &&
		((call->src->kind == SK_ORDERS && !SOURCE_HAS_LINES(call->src)) ||
		 call->src->kind == SK_CONTACTS || call->src->kind == SK_OPPORTUNITIES);
	RowStream	rs;
	TupleTableSlot *slot;

	RowStreamBegin(&rs, call, call->td->tg_newtable, one);
	while ((slot = RowStreamNext(&rs)) != NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(WorkRowContext(work));
		SourceRow	row;

		/* a leaving partition's rows count no more: no value is refused */
		if (ReadAdmitted(call, slot, &row, !call->detaching) && row.key)
		{
			row.event = event;
			if (as_rows)
				WorkAddRow(work, &row);
			else
				WorkAddKey(work, row.key, event);
		}
		MemoryContextSwitchTo(oldcxt);
		WorkRowDone(work);
	}
	RowStreamEnd(&rs);
}

/* Does an UPDATE leave the row as crm_grade reads it (bad or not)? */
static bool
SameRow(SourceKindId kind, const SourceRow *old, const SourceRow *new)
{
	if ((old->problem == NULL) != (new->problem == NULL))
		return false;
	return old->problem ? SourceCompareProblems(old, new) == 0 :
		SourceCompareRows(old, new, kind) == 0;
}

/*
 * Rows with a value crm_grade cannot grade that an UPDATE or DELETE took
 * out or put in and that their pair did not cancel, kept (in the call's
 * context: few) to be matched as multisets once every row is read.
 */
typedef struct BadRows
{
	SourceRow  *rows;
	int			n,
				cap;
	MemoryContext cxt;
} BadRows;

static void
KeepBad(BadRows *bad, const SourceRow *row)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(bad->cxt);
	SourceRow  *r;

	if (bad->n == bad->cap)
	{
		bad->cap = Max(bad->cap * 2, 8);
		bad->rows = bad->rows ? repalloc(bad->rows, sizeof(SourceRow) * bad->cap) :
			palloc(sizeof(SourceRow) * bad->cap);
	}
	r = &bad->rows[bad->n++];
	*r = *row;
	r->key = row->key ? pstrdup(row->key) : NULL;
	/* (copied too: the row's memory is reset after each pair of rows) */
	r->problem = pstrdup(row->problem);
	r->problem_value = row->problem_value ? pstrdup(row->problem_value) : NULL;
	MemoryContextSwitchTo(oldcxt);
}

static int
CompareProblemsQ(const void *a, const void *b)
{
	return SourceCompareProblems(a, b);
}

/*
 * Refuse a new bad row that is not an old one unchanged.  Matched as
 * multisets, not pair by pair: the transition tables of an UPDATE that
 * moved a row to a partition whose BEFORE INSERT trigger returned NULL hold
 * its old row and no new one, and every later pair is shifted.
 */
static void
RefuseNewBad(TriggerCall *call, BadRows *old, BadRows *new)
{
	int			i = 0,
				j = 0;

	if (new->n == 0)
		return;
	qsort(old->rows, old->n, sizeof(SourceRow), CompareProblemsQ);
	qsort(new->rows, new->n, sizeof(SourceRow), CompareProblemsQ);
	while (j < new->n)
	{
		int			c = i >= old->n ? 1 : SourceCompareProblems(&old->rows[i], &new->rows[j]);

		if (c > 0)
			SourceRaiseProblem(&call->layout, &new->rows[j]);
		if (c <= 0)
			i++;
		if (c == 0)
			j++;
	}
}

/*
 * An old row taken out or a new row put in by an UPDATE or DELETE: a new
 * row with a value crm_grade cannot grade is refused (RefuseNewBad()); an
 * old one re-reads its customer (a bad row that got in while triggers were
 * disabled can still be fixed or deleted).  Good rows go to the work as
 * changes (order rows, applied to the stored states) or as their keys.
 */
static void
AddChanged(TriggerCall *call, StatementWork *work, SourceRow *row, bool removed,
		   const char *event, bool as_changes, BadRows *bad)
{
	if (row->problem)
	{
		if (bad)
			KeepBad(bad, row);
		if (row->key)			/* an unreadable key has no customer */
			WorkAddKey(work, row->key, event);
		return;
	}
	if (!as_changes)
	{
		WorkAddKey(work, row->key, event);
		return;
	}
	row->removed = removed;
	row->event = event;
	WorkAddRow(work, row);
}

/*
 * UPDATE and DELETE: re-read the customers whose rows changed, except
 * that changed order rows (of a table without order lines) are applied to
 * their customers' stored states as rows out and rows in, where that is
 * exact (MetricsApplyOrderChanges; the others are re-read then).  The
 * transition tables hold an UPDATE's old and new rows in the same order
 * (but for a row moved to a partition whose BEFORE INSERT trigger dropped
 * it: an old row without a new one), so each old row is compared with its
 * new one: an update of columns crm_grade does not read costs nothing
 * further.  A pair that differs is applied as a row out and a row in,
 * which is right whichever rows are paired.  Rows are read leniently;
 * RefuseNewBad() refuses a new row that writes a bad value.
 */
static void
OnUpdateOrDelete(TriggerCall *call, StatementWork *work, TupleTableSlot *old_one,
				 TupleTableSlot *new_one)
{
	bool		update = TRIGGER_FIRED_BY_UPDATE(call->td->tg_event);
	const char *event = update ? Events[call->src->kind].update : Events[call->src->kind].delete;
	bool		as_changes = !call->detaching &&
		call->src->kind == SK_ORDERS && !SOURCE_HAS_LINES(call->src);
	RowStream	olds,
				news;
	BadRows		bad_old = {NULL, 0, 0, CurrentMemoryContext},
				bad_new = {NULL, 0, 0, CurrentMemoryContext};

	RowStreamBegin(&olds, call, call->td->tg_oldtable, old_one);
	RowStreamBegin(&news, call, update ? call->td->tg_newtable : NULL, new_one);
	for (;;)
	{
		TupleTableSlot *os = RowStreamNext(&olds);
		TupleTableSlot *ns = update ? RowStreamNext(&news) : NULL;
		MemoryContext oldcxt;
		SourceRow	old,
					new;
		bool		has_old,
					has_new;

		if (os == NULL && ns == NULL)
			break;
		oldcxt = MemoryContextSwitchTo(WorkRowContext(work));
		has_old = ReadAdmitted(call, os, &old, false);
		has_new = ReadAdmitted(call, ns, &new, false);
		if (!(has_old && has_new && SameRow(call->src->kind, &old, &new)))
		{
			if (has_new)
				AddChanged(call, work, &new, false, event, as_changes,
						   call->detaching ? NULL : &bad_new);
			if (has_old)
				AddChanged(call, work, &old, true, event, as_changes,
						   update ? &bad_old : NULL);
		}
		MemoryContextSwitchTo(oldcxt);
		WorkRowDone(work);
	}
	RowStreamEnd(&olds);
	RowStreamEnd(&news);
	RefuseNewBad(call, &bad_old, &bad_new);
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

	CrmCheckMerge(queryDesc);
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

/*
 * The work of one trigger call, in its scope (named once the table is
 * known).  Applying work, a TRUNCATE's refresh and parsing a filter run as
 * crm_grade's owner, with its search_path.  Reading an unfiltered table's
 * rows into the frame of the statement that wrote them needs neither: it
 * runs only PostgreSQL's own code on the row values (the key, time and
 * amount types are built-in ones; crm_grade.source is read, when not
 * cached, as crm_grade's owner by SourcesLoad()), so it keeps the writer's
 * identity, and the frame is applied as the owner when the statement
 * finishes: a single-row write switches identity once, not twice.
 */
static void
TriggerWork(CrmScope *scope, void *arg)
{
	TriggerData *td = arg;
	TriggerCall call;
	CrmIdentity id = {0};
	bool		row = TRIGGER_FIRED_FOR_ROW(td->tg_event);
	WorkFrame  *frame;
	StatementWork now;
	MemoryContext oldcxt;

	ResolveCall(&call, td, scope);
	frame = TRIGGER_FIRED_BY_TRUNCATE(td->tg_event) ? NULL : FrameFor(&call, row);
	if (frame == NULL || call.src->filter)
		CrmEnter(&id);
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		OnTruncate(&call);
		CrmLeave(&id);
		return;
	}
	CompileFilter(&call);
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
	if (id.active)
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
