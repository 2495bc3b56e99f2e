/*-------------------------------------------------------------------------
 *
 * refresh.c
 *		Bringing customers' states up to date.
 *
 * - WorkApply(): what one statement did to attached tables, all its
 *   triggers together: its new order rows extend each customer's stored
 *   accumulators without reading the customer's other rows, when the
 *   stored state is the state at the current moment and does not already
 *   hold those rows; everything else (updates, deletes, the customer
 *   master, states time has changed) re-reads the customers' rows from
 *   every attached table.
 * - RefreshAll(): every customer, in one pass over every table, merged
 *   with the stored states (back-fill, policy changes, regrade_all()).
 *
 * All of them lock the customers first, then load the evaluation context,
 * then read, so that what they compute includes whatever the previous
 * holder of the locks committed.
 *
 *-------------------------------------------------------------------------
 */
#include "refresh.h"

#include "errors.h"
#include "evaluate.h"
#include "gather.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(crm_grade_refresh_all);
PG_FUNCTION_INFO_V1(crm_grade_regrade);
PG_FUNCTION_INFO_V1(crm_grade_regrade_all);

/* At most this many customers are locked, held in memory and written at once. */
#define CHUNK_CUSTOMERS 5000

/* Keys sorted in byte order without duplicates (a new array; keys is sorted). */
char	  **
SortDistinctKeys(char **keys, int n, int *nout)
{
	char	  **out = palloc(sizeof(char *) * Max(n, 1));
	int			i,
				m = 0;

	qsort(keys, n, sizeof(char *), StoreCompareKeys);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
			out[m++] = keys[i];
	*nout = m;
	return out;
}

/* Note the new state of a customer that has rows, and its history. */
static void
KeepState(StoreBatch *batch, LockedState *ls, CustomerState *st, const char *event,
		  RefreshCounts *counts)
{
	CustomerState *old = (ls == NULL || ls->placeholder || ls->created) ? NULL : &ls->st;

	if (ls == NULL)
		StoreBatchInsert(batch, st);
	else if (!ls->created)
		StoreBatchUpdate(batch, st, ItemPointerIsValid(&ls->tid) ? &ls->tid : NULL);
	if (StateGradeChanged(old, st))
		StoreBatchHistory(batch, old, st, ChangeReason(old, st, event));
	counts->evaluated++;
	if (old == NULL ? !STATE_NULL(st, SC_GRADE) : !StateTextEquals(old, st, SC_GRADE))
		counts->changed++;
}

/* A customer left every source: its state goes, with a history row. */
static void
DropState(StoreBatch *batch, CustomerState *old, bool placeholder, const char *event,
		  RefreshCounts *counts)
{
	StoreBatchDelete(batch, StateKey(old));
	if (!placeholder && !STATE_NULL(old, SC_GRADE))
	{
		StoreBatchHistory(batch, old, NULL, event);
		counts->changed++;
	}
}

/*
 * Re-read locked customers (keys sorted, distinct; locked[i] is key i's
 * state) from every attached table and evaluate them; events[i] is the
 * history reason of key i.
 */
static void
RefreshLocked(char **keys, LockedState *locked, const char **events, int n, EvalContext *ctx,
			  StoreBatch *batch, RefreshCounts *counts)
{
	SourceMerge *g = GatherBegin(keys, n);
	CustomerState st;
	int			i = 0;

	while (GatherNext(g, &st, ctx))
	{
		char	   *key = StateKey(&st);

		for (; i < n && strcmp(keys[i], key) < 0; i++)
			DropState(batch, &locked[i].st, locked[i].placeholder, events[i], counts);
		if (i >= n || strcmp(keys[i], key) != 0)
			continue;			/* not asked for (cannot happen: the scans filter) */
		EvaluateCustomer(&st, ctx);
		KeepState(batch, &locked[i], &st, events[i], counts);
		i++;
	}
	for (; i < n; i++)
		DropState(batch, &locked[i].st, locked[i].placeholder, events[i], counts);
	GatherEnd(g);
}

/*
 * Customers to re-read, in key order: from every table, or (with sts) from
 * the order tables alone, when an order that bounded a minimum, a maximum
 * or a month came out and every other accumulator of sts[i] is exact (the
 * stored state, extended with the statement's other rows): the contact
 * log, the master and the deals, each a cursor of its own, are not read.
 */
typedef struct Rereads
{
	int			n,
				cap;			/* at most cap customers (the chunk's) */
	char	  **keys;
	const char **events;
	LockedState *locked;
	CustomerState *sts;
} Rereads;

/*
 * Note one more customer, with st for an order-table re-read; the arrays
 * are made by the first (most chunks need none).
 */
static void
RereadAdd(Rereads *r, char *key, const char *event, LockedState *ls, CustomerState *st)
{
	if (r->keys == NULL)
	{
		r->keys = palloc(sizeof(char *) * r->cap);
		r->events = palloc(sizeof(char *) * r->cap);
		r->locked = palloc(sizeof(LockedState) * r->cap);
		r->sts = st ? palloc(sizeof(CustomerState) * r->cap) : NULL;
	}
	r->keys[r->n] = key;
	r->events[r->n] = event;
	r->locked[r->n] = *ls;
	if (st)
		r->sts[r->n] = *st;
	r->n++;
}

/*
 * Re-read the order tables of r's customers and evaluate them.  A
 * customer left with no order row, or with an order row to leave out (a
 * data issue), is added to the full re-reads instead: its state may go,
 * or its issues be merged.
 */
static void
RefreshOrders(Rereads *r, EvalContext *ctx, StoreBatch *batch, RefreshCounts *counts,
			  Rereads *full)
{
	SourceMerge *g = GatherBeginKind(r->keys, r->n, SK_ORDERS);
	CustomerState fresh;
	int			i = 0;

	while (i < r->n)
	{
		bool		have = GatherNext(g, &fresh, ctx);
		char	   *key = have ? StateKey(&fresh) : NULL;

		/* the customers before key have no order row left */
		for (; i < r->n && (key == NULL || strcmp(r->keys[i], key) <= 0); i++)
		{
			if (key && strcmp(r->keys[i], key) == 0 && STATE_NULL(&fresh, SC_DATA_ISSUES))
			{
				StateTakeGroup(&r->sts[i], &fresh, SG_ORDERS);
				EvaluateCustomer(&r->sts[i], ctx);
				KeepState(batch, &r->locked[i], &r->sts[i], r->events[i], counts);
			}
			else
				RereadAdd(full, r->keys[i], r->events[i], &r->locked[i], NULL);
		}
	}
	GatherEnd(g);
}

/* Merge r's two key-sorted runs, [0, na) and [na, n), into one sorted run. */
static void
RereadsMerge(Rereads *r, int na)
{
	int			n = r->n;
	char	  **k = palloc(sizeof(char *) * Max(n, 1));
	const char **e = palloc(sizeof(char *) * Max(n, 1));
	LockedState *s = palloc(sizeof(LockedState) * Max(n, 1));
	int			a = 0,
				b = na,
				m;

	for (m = 0; m < n; m++)
	{
		int			from = (b >= n || (a < na && strcmp(r->keys[a], r->keys[b]) < 0)) ? a++ : b++;

		k[m] = r->keys[from];
		e[m] = r->events[from];
		s[m] = r->locked[from];
	}
	r->keys = k;
	r->events = e;
	r->locked = s;
}

/* One event for n customers. */
static const char **
SameEvent(const char *event, int n)
{
	const char **events = palloc(sizeof(char *) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		events[i] = event;
	return events;
}

/*
 * Extend a customer's state with its rows of the statement: inserted rows
 * added, changed order rows applied as rows out and in.  False when that
 * is not exact (st is then half-changed): the customer is re-read.
 */
static bool
ExtendState(CustomerState *st, SourceRow *rows, int n, EvalContext *ctx)
{
	SourceRow  *orders;
	int			i,
				norders = 0;

	for (i = 0; i < n && !rows[i].removed; i++)
		;
	if (i == n)
	{
		/* inserts only: each row adds to the accumulators */
		MonthBatch	mb;

		MonthBatchInit(&mb);
		for (i = 0; i < n; i++)
			MetricsAddRowBatched(st, rows[i].kind, &rows[i], ctx->now, ctx->ws, &mb);
		MonthBatchApply(st, &mb);
		return true;
	}
	orders = palloc(sizeof(SourceRow) * n);
	for (i = 0; i < n; i++)
	{
		if (rows[i].kind == SK_ORDERS)
			orders[norders++] = rows[i];
		else
			MetricsAddRow(st, rows[i].kind, &rows[i], ctx->now, ctx->ws);
	}
	return MetricsApplyOrderChanges(st, orders, norders, ctx->now, ctx->ws);
}

/*
 * What NewCustomerState() needs: the chunk's customers and the evaluation
 * context, which it loads when it first needs it (before any lock).
 */
typedef struct NewCustomers
{
	WorkCustomer *cs;
	EvalContext *ctx;
	bool		loaded;
} NewCustomers;

/*
 * The state of chunk customer i, which has none yet, from its rows of the
 * statement, as the loop of ApplyChunk() would compute it from an empty
 * placeholder; false when it would re-read the customer instead.
 */
static bool
NewCustomerState(int i, CustomerState *st, void *arg)
{
	NewCustomers *nc = arg;
	WorkCustomer *c = &nc->cs[i];

	if (c->reread)
		return false;
	if (!nc->loaded)
	{
		EvalContextLoad(nc->ctx);
		nc->loaded = true;
	}
	StateInitEmpty(st, c->key);
	if (!ExtendState(st, c->rows, c->nrows, nc->ctx))
		return false;
	EvaluateCustomer(st, nc->ctx);
	return true;
}

/*
 * Apply the work of n customers (in key order): extend the stored state
 * where that is exact, re-read the others.  New customers' states are
 * computed before their rows are created, and written once.
 */
static void
ApplyChunk(WorkCustomer *cs, int n, CommandId since, bool stale)
{
	char	  **keys = palloc(sizeof(char *) * n);
	LockedState *locked = palloc(sizeof(LockedState) * n);
	RefreshCounts counts = {0, 0};
	EvalContext ctx;
	NewCustomers nc = {cs, &ctx, false};
	Rereads		full = {0, n},
				orders = {0, n};
	StoreBatch	batch;
	int			g;

	for (g = 0; g < n; g++)
	{
		keys[g] = cs[g].key;
		cs[g].reread |= stale;
	}
	StoreLockOrCreate(keys, n, locked, since, NewCustomerState, &nc);

	/*
	 * The new customers' states were computed by a context loaded before
	 * the locks (nobody held their rows).  Any other customer is evaluated
	 * by one loaded after them: its lock may have been waited for, and the
	 * moment must then be later than what the holder committed (its rows,
	 * its graded_at), or those rows would count as future ones.
	 */
	for (g = 0; g < n && locked[g].created; g++)
		;
	if (!nc.loaded || g < n)
		EvalContextLoad(&ctx);
	StoreBatchInit(&batch, n);
	for (g = 0; g < n; g++)
	{
		LockedState *ls = &locked[g];
		WorkCustomer *c = &cs[g];
		CustomerState st;

		if (ls->created)
		{
			KeepState(&batch, ls, &ls->st, c->event, &counts);
			continue;
		}

		/*
		 * Re-read, rather than extend, a customer whose rows changed
		 * otherwise than by an insert, a state time has changed, or one
		 * this transaction wrote after the statement's rows were written
		 * (by a nested statement's triggers, say): it may hold them already.
		 */
		if (ls->placeholder)
			StateInitEmpty(&st, c->key);
		else
			st = ls->st;
		if (c->reread ||
			(!ls->placeholder && (ls->own_since || !StateCanExtend(&ls->st, &ctx))))
			RereadAdd(&full, c->key, c->event, ls, NULL);
		else if (!ExtendState(&st, c->rows, c->nrows, &ctx))
		{
			/*
			 * An order change the accumulators cannot take exactly: only
			 * the order tables are read again, when the other columns of
			 * st are exact and no row of any table is left out (issues).
			 */
			if (!ls->placeholder && STATE_NULL(&ls->st, SC_DATA_ISSUES))
				RereadAdd(&orders, c->key, c->event, ls, &st);
			else
				RereadAdd(&full, c->key, c->event, ls, NULL);
		}
		else
		{
			EvaluateCustomer(&st, &ctx);
			KeepState(&batch, ls, &st, c->event, &counts);
		}
	}
	if (orders.n > 0)
	{
		int			nfirst = full.n;

		RefreshOrders(&orders, &ctx, &batch, &counts, &full);
		if (nfirst > 0 && full.n > nfirst)
			RereadsMerge(&full, nfirst);
	}
	if (full.n > 0)
		RefreshLocked(full.keys, full.locked, full.events, full.n, &ctx, &batch, &counts);
	StoreBatchFlush(&batch, ctx.now);
}

/*
 * The next customers of the work, at most CHUNK_CUSTOMERS of them and no
 * more once their rows take work_mem (in the current context); false
 * when none is left.
 */
static bool
NextChunk(WorkReader *r, WorkCustomer *cs, int *n)
{
	MemoryContext cxt = CurrentMemoryContext;

	for (*n = 0; *n < CHUNK_CUSTOMERS; (*n)++)
	{
		if (*n > 0 && MemoryContextMemAllocated(cxt, true) > (Size) work_mem * 1024)
			break;
		if (!WorkReaderNext(r, &cs[*n]))
			break;
	}
	return *n > 0;
}

/* When, in this transaction, crm_grade last began to apply a statement's work. */
static LocalTransactionId applied_lxid = InvalidLocalTransactionId;
static CommandId applied_cid = InvalidCommandId;

/*
 * Has crm_grade applied another statement's work since this one's rows
 * were written?  That statement ran inside this one (an application's
 * AFTER ROW trigger cancelling or deleting the row just inserted, say), and
 * may have changed those rows and left a customer without a state row,
 * where nothing else marks the customer: the statement's own rows are then
 * stale, and every customer it touched is re-read (0.11 graded a new
 * customer from them: found by review).
 */
static bool
AppliedSince(CommandId since)
{
	bool		applied = applied_lxid == MyProc->lxid && applied_cid > since;

	applied_lxid = MyProc->lxid;
	applied_cid = GetCurrentCommandId(false);
	return applied;
}

/*
 * Apply one statement's work, and free it: every customer it touches is
 * locked once, in key byte order, whatever mix of inserts, updates and
 * deletes, into one table or several, the statement made; then extended
 * with its new rows or re-read.  A chunk of customers at a time, with one
 * statement each for locking, writing and history.
 */
void
WorkApply(StatementWork *work)
{
	MemoryContext chunkcxt;
	WorkReader	r;
	WorkCustomer *cs;
	bool		stale;
	int			n;

	if (WorkIsEmpty(work))
	{
		WorkEnd(work);
		return;
	}
	stale = AppliedSince(work->since);
	StoreLockForWriting();
	WorkReaderBegin(&r, work);
	cs = palloc(sizeof(WorkCustomer) * CHUNK_CUSTOMERS);
	chunkcxt = AllocSetContextCreate(CurrentMemoryContext, "crm_grade chunk",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(chunkcxt);
		bool		more = NextChunk(&r, cs, &n);

		if (more)
			ApplyChunk(cs, n, work->since, stale);
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(chunkcxt);
		if (!more)
			break;
	}
	MemoryContextDelete(chunkcxt);
	pfree(cs);
	WorkReaderEnd(&r);
	WorkEnd(work);
}

/* Re-read some customers from every attached table. */
void
RefreshKeys(char **keys, int n, const char *event)
{
	StatementWork work;
	int			i;

	WorkInit(&work, 0);
	for (i = 0; i < n; i++)
	{
		WorkAddKey(&work, keys[i], event);
		WorkRowDone(&work);
	}
	WorkApply(&work);
}

/*
 * Compute the population figures from the stored states and store them;
 * the active policy is read again with them.  Concurrent refreshes queue
 * on the lock.
 */
static void
RefreshPopulation(void)
{
	Population *pop;

	LockRelationOid(CrmRelid("population"), ShareRowExclusiveLock);
	pop = PopulationCompute();
	PopulationStore(pop);
	PolicyForgetActive();
}

/*
 * Before a full re-grade under a policy that reads them: the population
 * figures of the customers as they are about to be graded, from a first
 * pass over every attached table (the metrics, not yet the grades), so
 * that nobody is graded by the figures of states that are out of date.
 * The result equals PopulationCompute() over the states written next;
 * the sorts keep within work_mem.
 */
static void
StorePopulationFromSources(EvalContext *ctx)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext popcxt = AllocSetContextCreate(outer, "crm_grade population",
												 ALLOCSET_DEFAULT_SIZES);
	MemoryContext rowcxt = AllocSetContextCreate(outer, "crm_grade population rows",
												 ALLOCSET_DEFAULT_SIZES);
	PopulationBuilder *b;
	SourceMerge *g;
	CustomerState st;
	int64		rows = 0;

	MemoryContextSwitchTo(popcxt);
	b = PopulationBegin(ctx->now);
	g = GatherBegin(NULL, -1);
	MemoryContextSwitchTo(rowcxt);
	while (GatherNext(g, &st, ctx))
	{
		MemoryContextSwitchTo(popcxt);
		PopulationAdd(b, STATE_NUM(&st, SC_AMOUNT_12M), STATE_I64(&st, SC_ORDERS_12M) > 0,
					  st.values[SC_LAST_ORDER_AT], st.values[SC_ORDERS_12M]);
		MemoryContextSwitchTo(rowcxt);
		if (++rows % 1000 == 0)
			MemoryContextReset(rowcxt);
	}
	MemoryContextSwitchTo(popcxt);
	GatherEnd(g);
	PopulationStore(PopulationEnd(b));
	MemoryContextSwitchTo(outer);
	MemoryContextDelete(rowcxt);
	MemoryContextDelete(popcxt);
	PolicyForgetActive();
}

/* Did a re-evaluation move what the policy gives? */
static bool
GradingChanged(CustomerState *old, CustomerState *new)
{
	return StateGradeChanged(old, new) ||
		DatumGetInt32(old->values[SC_GRADE_RANK]) != DatumGetInt32(new->values[SC_GRADE_RANK]) ||
		STATE_NULL(old, SC_SCORE) != STATE_NULL(new, SC_SCORE) ||
		(!STATE_NULL(old, SC_SCORE) &&
		 NumericCompare(STATE_NUM(old, SC_SCORE), STATE_NUM(new, SC_SCORE)) != 0);
}

/*
 * After new population figures: every customer evaluated again from its
 * stored state (no source is read), and those whose grade or score moves
 * written.  Customers whose valid_until has passed are left to regrade().
 * Writers wait while it runs, as during regrade_all().
 */
static int64
RefreshFromStates(const char *event)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext pagecxt = AllocSetContextCreate(outer, "crm_grade population refresh",
												  ALLOCSET_DEFAULT_SIZES);
	RefreshCounts counts = {0, 0};
	EvalContext ctx;
	Portal		portal;
	uint64		i;

	StoreLockHolidays();
	LockRelationOid(CrmRelid("customer_state"), ShareRowExclusiveLock);
	EvalContextLoad(&ctx);
	portal = StoreOpenAll(false);
	for (;;)
	{
		StoreBatch	batch;

		CrmSpiCursorFetch(portal, 1000);
		if (SPI_processed == 0)
			break;
		MemoryContextSwitchTo(pagecxt);
		StoreBatchInit(&batch, SPI_processed);
		for (i = 0; i < SPI_processed; i++)
		{
			LockedState ls = {.placeholder = false,.own_since = false};
			CustomerState st;
			bool		isnull;

			StateFromDatum(&ls.st, SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			if (STATE_NULL(&ls.st, SC_GRADED_AT) || !StateCanExtend(&ls.st, &ctx))
				continue;
			StateCopy(&st, &ls.st);
			EvaluateCustomer(&st, &ctx);
			if (GradingChanged(&ls.st, &st))
				KeepState(&batch, &ls, &st, event, &counts);
		}
		StoreBatchFlush(&batch, ctx.now);
		MemoryContextSwitchTo(outer);
		MemoryContextReset(pagecxt);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(pagecxt);
	return counts.evaluated;
}

/*
 * Will this regrade() refresh the population figures: does the active
 * policy read them, and are they older than crm_grade.population_refresh?
 * If so, the locks of a full refresh are taken now, before regrade() locks
 * any customer: population, holidays, then SHARE ROW EXCLUSIVE on the
 * states.  Taken later, with customers' rows locked, a writer waiting for
 * one of them would wait for regrade() while it waits for the writer's
 * table lock; and two regrade()s would each wait for the other's.  A
 * regrade() that queued behind another's refresh finds the figures fresh.
 */
static bool
RegradeLocksPopulation(void)
{
	EvalContext ctx;

	EvalContextLoad(&ctx);
	if (!PolicyReadsPopulation(ctx.policy) || !PopulationDue(ctx.now))
		return false;
	RefreshAllLock();
	return PopulationDue(ctx.now);
}

/*
 * The table locks of a full re-grade, in this order everywhere: population,
 * holidays, then SHARE ROW EXCLUSIVE on the states, which waits for every
 * writer and keeps them out.  Lock only, no privilege is checked.
 */
void
RefreshAllLock(void)
{
	LockRelationOid(CrmRelid("population"), ShareRowExclusiveLock);
	StoreLockHolidays();
	LockRelationOid(CrmRelid("customer_state"), ShareRowExclusiveLock);
}

/* Does this transaction hold a lock on the relation in this mode? */
static bool
HeldByMe(Oid relid, LOCKMODE mode)
{
	LOCKTAG		tag;

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	return LockHeldByMe(&tag, mode);
}

/*
 * Take the locks of the relations not held before (each in its mode, a
 * list parallel to relids), without waiting; the first that is busy is
 * returned with its mode, and those taken are let go again.
 */
static Oid
TryLockAll(List *relids, List *modes, LOCKMODE *busy_mode)
{
	List	   *taken = NIL;
	List	   *taken_modes = NIL;
	ListCell   *lc,
			   *lm;

	forboth(lc, relids, lm, modes)
	{
		Oid			relid = lfirst_oid(lc);
		LOCKMODE	mode = lfirst_int(lm);

		if (HeldByMe(relid, mode))
			continue;
		if (!ConditionalLockRelationOid(relid, mode))
		{
			ListCell   *lt,
					   *ltm;

			forboth(lt, taken, ltm, taken_modes)
				UnlockRelationOid(lfirst_oid(lt), lfirst_int(ltm));
			*busy_mode = mode;
			return relid;
		}
		taken = lappend_oid(taken, relid);
		taken_modes = lappend_int(taken_modes, mode);
	}
	return InvalidOid;
}

/* Tries of RefreshAllLockBeforeEach() before it waits in the queue. */
#define LOCK_BEFORE_ROUNDS 3

/*
 * Before DDL that will end in a re-grade: its locks (RefreshAllLock) and
 * the application's tables the command locks (relids, each in the mode of
 * the parallel list modes), taken so that this transaction never waits for
 * one while holding the other.  Taken by the command, the table's lock
 * comes first, and a writer holding ROW EXCLUSIVE on the states that goes
 * on to read the table closes a cycle; taken first, the states' lock would
 * close one with a transaction that read the table and goes on to write.
 * So: wait for the re-grade's locks, then try the tables; if one is busy,
 * let go of everything, wait for that table (and let it go), and start
 * again, LOCK_BEFORE_ROUNDS times at most.  Locks this transaction held
 * before are kept, and then it waits as the command would have.
 */
void
RefreshAllLockBeforeEach(List *relids, List *modes)
{
	Oid			population = CrmRelid("population");
	Oid			holiday = CrmRelid("holiday");
	Oid			state = CrmRelid("customer_state");
	int			round;

	for (round = 1;; round++)
	{
		bool		had_population = HeldByMe(population, ShareRowExclusiveLock);
		bool		had_holiday = HeldByMe(holiday, AccessShareLock);
		LOCKMODE	busy_mode;
		Oid			busy;
		ListCell   *lc,
				   *lm;

		if (HeldByMe(state, ShareRowExclusiveLock))
		{
			RefreshAllLock();
			return;
		}
		RefreshAllLock();
		if (!OidIsValid(busy = TryLockAll(relids, modes, &busy_mode)))
			return;
		UnlockRelationOid(state, ShareRowExclusiveLock);
		if (!had_holiday)
			UnlockRelationOid(holiday, AccessShareLock);
		if (!had_population)
			UnlockRelationOid(population, ShareRowExclusiveLock);
		if (round >= LOCK_BEFORE_ROUNDS)
		{
			/*
			 * A table busy at every try (a steady stream of short writers,
			 * each let in while this one let go): wait for the tables in the
			 * queue now, as the command itself would, so that it is not
			 * starved, and only then for the re-grade's locks: the order of
			 * every single-statement writer (its table, then the states),
			 * with which waiting for the tables while holding the states
			 * deadlocked, cancelling application writes (found by a
			 * workload review).  Only a transaction that wrote an attached
			 * table before and goes on to write this one can still close a
			 * cycle (see README, Concurrency).
			 */
			forboth(lc, relids, lm, modes)
				LockRelationOid(lfirst_oid(lc), lfirst_int(lm));
			RefreshAllLock();
			return;
		}
		LockRelationOid(busy, busy_mode);
		UnlockRelationOid(busy, busy_mode);
		CHECK_FOR_INTERRUPTS();
	}
}

/* The same, every table in one mode. */
void
RefreshAllLockBefore(List *relids, LOCKMODE mode)
{
	List	   *modes = NIL;
	int			i;

	for (i = 0; i < list_length(relids); i++)
		modes = lappend_int(modes, mode);
	RefreshAllLockBeforeEach(relids, modes);
}

/*
 * Every customer: one pass over every attached table merged with one pass
 * over the stored states, both in key order.  Writers wait while it runs
 * (it holds SHARE ROW EXCLUSIVE on customer_state); readers do not.
 */
RefreshCounts
RefreshAll(const char *event)
{
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext chunkcxt = AllocSetContextCreate(outer, "crm_grade refresh",
												   ALLOCSET_DEFAULT_SIZES);
	RefreshCounts counts = {0, 0};
	EvalContext ctx;
	StoreBatch	batch;
	SourceMerge *g;
	Portal		portal;
	SPITupleTable *tt = NULL;
	uint64		pos = 0;
	CustomerState fresh,
				stored;
	ItemPointerData stored_tid;
	bool		have_fresh,
				have_stored;

	RefreshAllLock();
	EvalContextLoad(&ctx);
	if (PolicyReadsPopulation(ctx.policy))
	{
		StorePopulationFromSources(&ctx);
		EvalContextLoad(&ctx);
	}
	g = GatherBegin(NULL, -1);
	portal = StoreOpenAll(true);
	MemoryContextSwitchTo(chunkcxt);
	StoreBatchInit(&batch, CHUNK_CUSTOMERS);
	have_fresh = GatherNext(g, &fresh, &ctx);
	have_stored = StoreNextState(portal, &tt, &pos, &stored, &stored_tid);
	while (have_fresh || have_stored)
	{
		int			c = !have_fresh ? 1 : !have_stored ? -1 :
			strcmp(StateKey(&fresh), StateKey(&stored));

		if (c > 0)
			DropState(&batch, &stored, STATE_NULL(&stored, SC_GRADED_AT), event, &counts);
		else
		{
			LockedState ls;

			EvaluateCustomer(&fresh, &ctx);
			if (c == 0)
			{
				/* (stored holds no customer's state when c < 0: never read it then) */
				ls.st = stored;
				/* read under SHARE ROW EXCLUSIVE: no one else writes it */
				ls.tid = stored_tid;
				ls.placeholder = STATE_NULL(&stored, SC_GRADED_AT);
				ls.created = false;
				ls.own_since = false;
			}
			KeepState(&batch, c == 0 ? &ls : NULL, &fresh, event, &counts);
		}
		if (c <= 0)
			have_fresh = GatherNext(g, &fresh, &ctx);
		if (c >= 0)
			have_stored = StoreNextState(portal, &tt, &pos, &stored, &stored_tid);
		if (batch.nupdate + batch.ninsert + batch.ndelete >= CHUNK_CUSTOMERS - 1)
		{
			MemoryContext next = AllocSetContextCreate(outer, "crm_grade refresh",
													   ALLOCSET_DEFAULT_SIZES);
			CustomerState copy;

			StoreBatchFlush(&batch, ctx.now);
			/* carry the two pending states over to a fresh context */
			MemoryContextSwitchTo(next);
			if (have_fresh)
			{
				StateCopy(&copy, &fresh);
				fresh = copy;
			}
			if (have_stored)
			{
				StateCopy(&copy, &stored);
				stored = copy;
			}
			StoreBatchInit(&batch, CHUNK_CUSTOMERS);
			MemoryContextDelete(chunkcxt);
			chunkcxt = next;
		}
	}
	StoreBatchFlush(&batch, ctx.now);
	MemoryContextSwitchTo(outer);
	if (tt)
		SPI_freetuptable(tt);
	SPI_cursor_close(portal);
	GatherEnd(g);
	StoreCheckNoneUnseen();
	MemoryContextDelete(chunkcxt);
	if (counts.evaluated >= 100000)
		ereport(NOTICE,
				(errmsg("crm_grade: " INT64_FORMAT " customers evaluated (%s)", counts.evaluated, event)));
	return counts;
}

/*
 * SQL: crm_grade._refresh_all(event text, OUT evaluated bigint, OUT changed
 * bigint): re-evaluate every customer, logging changes with event.
 */
/* What a scoped refresh is asked and answers. */
typedef struct RefreshCall
{
	const char *event;
	RefreshCounts counts;
} RefreshCall;

static void
RefreshAllWork(CrmScope *scope, void *arg)
{
	RefreshCall *call = arg;
	CrmIdentity id;

	CrmEnter(&id);
	StateRequireCurrentCatalog();
	call->counts = RefreshAll(call->event);
	CrmLeave(&id);
}

/*
 * SQL: crm_grade._refresh_all(event text, OUT evaluated bigint, OUT changed
 * bigint): re-evaluate every customer, logging changes with event.
 */
Datum
crm_grade_refresh_all(PG_FUNCTION_ARGS)
{
	RefreshCall call = {text_to_cstring(PG_GETARG_TEXT_PP(0))};
	TupleDesc	desc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "crm_grade._refresh_all must return a record");
	CrmRunScoped("re-grading every customer", NULL, RefreshAllWork, &call);
	values[0] = Int64GetDatum(call.counts.evaluated);
	values[1] = Int64GetDatum(call.counts.changed);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* SQL: crm_grade.regrade_all() RETURNS bigint */
Datum
crm_grade_regrade_all(PG_FUNCTION_ARGS)
{
	RefreshCall call = {"regrade_all"};

	CrmRunScoped("regrade_all()", NULL, RefreshAllWork, &call);
	PG_RETURN_INT64(call.counts.evaluated);
}

static int
CompareLockedKeys(const void *a, const void *b)
{
	return strcmp(TextDatumGetCString(((const LockedState *) a)->st.values[SC_CUSTOMER]),
				  TextDatumGetCString(((const LockedState *) b)->st.values[SC_CUSTOMER]));
}

/*
 * Re-grade expired customers (locked, keys sorted).  One whose rows all
 * stand where its state counted them (none has entered or left a window
 * since it was graded: a stage threshold, a follow-up or a month start
 * expired it) is evaluated again from its stored state; the others are
 * re-read from every attached table.  So regrade()'s reads follow the
 * customers whose rows time moved, not every customer it re-grades.
 */
static void
RegradeLocked(char **keys, LockedState *locked, int n, EvalContext *ctx, StoreBatch *batch,
			  RefreshCounts *counts)
{
	char	  **reread_keys = palloc(sizeof(char *) * n);
	LockedState *reread = palloc(sizeof(LockedState) * n);
	int			nreread = 0,
				i;

	for (i = 0; i < n; i++)
	{
		CustomerState st;

		if (locked[i].placeholder || !StateCanExtend(&locked[i].st, ctx))
		{
			reread_keys[nreread] = keys[i];
			reread[nreread++] = locked[i];
			continue;
		}
		StateCopy(&st, &locked[i].st);
		EvaluateCustomer(&st, ctx);
		KeepState(batch, &locked[i], &st, "regrade", counts);
	}
	if (nreread > 0)
		RefreshLocked(reread_keys, reread, SameEvent("regrade", nreread), nreread, ctx, batch,
					  counts);
}

/* What a scoped regrade() is asked (max < 0: no limit) and answers. */
typedef struct RegradeCall
{
	int64		max;
	int64		done;
} RegradeCall;

/*
 * Re-evaluate the customers whose valid_until has passed, found through
 * its index by one cursor, in batches of 1000; rows others hold are
 * skipped.
 */
static void
RegradeWork(CrmScope *scope, void *arg)
{
	RegradeCall *call = arg;
	MemoryContext batchcxt;
	CrmIdentity id;
	TimestampTz now;
	bool		population;
	Portal		expired;

	CrmEnter(&id);
	StateRequireCurrentCatalog();
	population = RegradeLocksPopulation();
	StoreLockForWriting();
	now = CrmNow();
	batchcxt = AllocSetContextCreate(CurrentMemoryContext, "crm_grade regrade",
									 ALLOCSET_DEFAULT_SIZES);
	expired = StoreOpenExpired(now, call->max);
	for (;;)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(batchcxt);
		int			limit = (call->max < 0) ? 1000 : (int) Min(1000, call->max - call->done);
		LockedState *locked = palloc(sizeof(LockedState) * Max(limit, 1));
		char	  **keys;
		RefreshCounts counts = {0, 0};
		EvalContext ctx;
		StoreBatch	batch;
		int			n,
					i;

		n = limit > 0 ? StoreLockExpired(expired, limit, locked) : 0;
		if (n > 0)
		{
			qsort(locked, n, sizeof(LockedState), CompareLockedKeys);
			keys = palloc(sizeof(char *) * n);
			for (i = 0; i < n; i++)
				keys[i] = StateKey(&locked[i].st);
			EvalContextLoad(&ctx);
			StoreBatchInit(&batch, n);
			RegradeLocked(keys, locked, n, &ctx, &batch, &counts);
			StoreBatchFlush(&batch, ctx.now);
			call->done += n;
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(batchcxt);
		if (n < limit || n == 0)
			break;
	}
	SPI_cursor_close(expired);
	MemoryContextDelete(batchcxt);
	/* once every expired customer is current, never halfway */
	if (population && (call->max < 0 || call->done < call->max))
	{
		RefreshPopulation();
		call->done += RefreshFromStates("population_refresh");
	}
	CrmLeave(&id);
}

/* SQL: crm_grade.regrade(max_customers int DEFAULT NULL) RETURNS bigint */
Datum
crm_grade_regrade(PG_FUNCTION_ARGS)
{
	RegradeCall call = {-1, 0};

	if (!PG_ARGISNULL(0) && PG_GETARG_INT32(0) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_customers must be positive, not %d", PG_GETARG_INT32(0)),
				 errhint("Pass NULL to re-grade every expired customer.")));
	if (!PG_ARGISNULL(0))
		call.max = PG_GETARG_INT32(0);
	CrmRunScoped("regrade()", NULL, RegradeWork, &call);
	PG_RETURN_INT64(call.done);
}
