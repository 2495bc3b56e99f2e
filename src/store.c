/*-------------------------------------------------------------------------
 *
 * store.c
 *		Reading, locking and writing crm_grade.customer_state and
 *		crm_grade.history, through plans prepared once per backend.
 *
 * Locking order is what keeps any number of writers free of deadlocks:
 * every writer first takes ROW EXCLUSIVE on customer_state (so a full
 * refresh, which takes SHARE ROW EXCLUSIVE, waits for writers or they for
 * it, never half of each), then locks or creates its customers' rows in
 * key byte order with one statement, so that no writer holds a row another
 * needs while waiting for one that other holds.
 *
 *-------------------------------------------------------------------------
 */
#include "store.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "rewrite/rewriteHandler.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

typedef enum StorePlanId
{
	P_LOCK_ONE,
	P_CREATE_LOCK,
	P_CREATE_FULL,
	P_READ_MANY,
	P_UPDATE_ONE,
	P_UPDATE_MANY,
	P_INSERT_MANY,
	P_DELETE_MANY,
	P_HISTORY,
	P_EXPIRED,
	P_ALL,
	P_ALL_ANY_ORDER,
	P_NPLANS
} StorePlanId;

/*
 * Plans kept for the backend's life, for the customer_state row type they
 * were made for (a new one after the extension was created again).  Each
 * is stored only once it is prepared and kept, so an error half-way leaves
 * nothing dangling.
 */
static SPIPlanPtr plans[P_NPLANS];
static Oid	plans_rowtype = InvalidOid;

static SPIPlanPtr GetPlan(StorePlanId id);
static Datum StateArray(CustomerState *states, int n);

/* The SQL and argument types of a plan. */
static char *
PlanSql(StorePlanId id, Oid rowtype, Oid *argtypes, int *nargs)
{
	StringInfoData sql;
	char	   *cols = StateColumnList(NULL, false);

	initStringInfo(&sql);
	*nargs = 1;
	argtypes[0] = TEXTARRAYOID;
	switch (id)
	{
		case P_LOCK_ONE:
			argtypes[0] = TEXTOID;
			appendStringInfoString(&sql, "SELECT s.ctid, s FROM crm_grade.customer_state s "
								   "WHERE s.customer = $1 FOR UPDATE");
			break;
		case P_CREATE_LOCK:
			/*
			 * inserts the missing rows and locks the others, in key order;
			 * returns the rows it inserted
			 */
			appendStringInfoString(&sql, "INSERT INTO crm_grade.customer_state AS s (customer) "
								   "SELECT k FROM pg_catalog.unnest($1) k ORDER BY k COLLATE \"C\" "
								   "ON CONFLICT (customer) DO UPDATE SET customer = EXCLUDED.customer WHERE false "
								   "RETURNING s.ctid, s");
			break;
		case P_CREATE_FULL:
			/* the same, the inserted rows with the states the caller computed */
			argtypes[0] = get_array_type(rowtype);
			appendStringInfo(&sql, "INSERT INTO crm_grade.customer_state AS s (%s) "
							 "SELECT %s FROM pg_catalog.unnest($1) u ORDER BY u.customer COLLATE \"C\" "
							 "ON CONFLICT (customer) DO UPDATE SET customer = EXCLUDED.customer WHERE false "
							 "RETURNING s.ctid, s",
							 StateColumnList(NULL, true), StateColumnList("u", true));
			break;
		case P_READ_MANY:
			appendStringInfoString(&sql, "SELECT s.ctid, s FROM crm_grade.customer_state s "
								   "WHERE s.customer OPERATOR(pg_catalog.=) ANY ($1) ORDER BY s.customer");
			break;
		case P_UPDATE_ONE:
			argtypes[0] = rowtype;
			appendStringInfo(&sql, "UPDATE crm_grade.customer_state s SET (%s) = ROW(%s) "
							 "WHERE s.customer = ($1).customer",
							 cols, StateColumnList("($1)", false));
			break;
		case P_UPDATE_MANY:
			argtypes[0] = get_array_type(rowtype);
			appendStringInfo(&sql, "UPDATE crm_grade.customer_state s SET (%s) = ROW(%s) "
							 "FROM pg_catalog.unnest($1) u WHERE s.customer = u.customer",
							 cols, StateColumnList("u", false));
			break;
		case P_INSERT_MANY:
			argtypes[0] = get_array_type(rowtype);
			appendStringInfo(&sql, "INSERT INTO crm_grade.customer_state (%s) SELECT %s "
							 "FROM pg_catalog.unnest($1) u",
							 StateColumnList(NULL, true), StateColumnList("u", true));
			break;
		case P_DELETE_MANY:
			appendStringInfoString(&sql, "DELETE FROM crm_grade.customer_state s "
								   "WHERE s.customer OPERATOR(pg_catalog.=) ANY ($1)");
			break;
		case P_HISTORY:
			*nargs = 9;
			argtypes[1] = TIMESTAMPTZOID;
			for (int i = 2; i < 9; i++)
				argtypes[i] = TEXTARRAYOID;
			appendStringInfoString(&sql, "INSERT INTO crm_grade.history (customer, changed_at, old_grade, "
								   "new_grade, old_lifecycle, new_lifecycle, old_risk, new_risk, reason) "
								   "SELECT u.c, $2, u.og, u.ng, u.ol, u.nl, u.orisk, u.nrisk, u.r "
								   "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($3), pg_catalog.unnest($4), "
								   "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), "
								   "pg_catalog.unnest($8), pg_catalog.unnest($9)) "
								   "AS u(c, og, ng, ol, nl, orisk, nrisk, r)");
			break;
		case P_EXPIRED:
			*nargs = 2;
			argtypes[0] = TIMESTAMPTZOID;
			argtypes[1] = INT8OID;
			/*
			 * rows a writer or another regrade() holds are being brought up
			 * to date; LIMIT NULL: no limit
			 */
			appendStringInfoString(&sql, "SELECT s.ctid, s FROM crm_grade.customer_state s "
								   "WHERE s.valid_until OPERATOR(pg_catalog.<=) $1 ORDER BY s.valid_until "
								   "LIMIT $2 FOR UPDATE SKIP LOCKED");
			break;
		case P_ALL:
			*nargs = 0;
			appendStringInfoString(&sql, "SELECT s, s.ctid FROM crm_grade.customer_state s ORDER BY s.customer");
			break;
		case P_ALL_ANY_ORDER:
			*nargs = 0;
			appendStringInfoString(&sql, "SELECT s, s.ctid FROM crm_grade.customer_state s");
			break;
		case P_NPLANS:
			break;
	}
	return sql.data;
}

static SPIPlanPtr
GetPlan(StorePlanId id)
{
	Oid			rowtype = StateRowType();
	Oid			argtypes[9];
	int			nargs;
	char	   *sql;
	SPIPlanPtr	plan;
	int			i;

	if (rowtype != plans_rowtype)
	{
		for (i = 0; i < P_NPLANS; i++)
		{
			if (plans[i])
				SPI_freeplan(plans[i]);
			plans[i] = NULL;
		}
		plans_rowtype = rowtype;
	}
	if (plans[id])
		return plans[id];
	sql = PlanSql(id, rowtype, argtypes, &nargs);
	/* the expired states are fetched a batch at a time: a plan that starts fast */
	plan = CrmSpiPrepareKeptWith(sql, nargs, argtypes, id == P_EXPIRED ? CURSOR_OPT_FAST_PLAN : 0);
	plans[id] = plan;
	return plan;
}

/* A text[] of C strings. */
static Datum
TextArray(char **strs, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(strs[i]);
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Did this transaction write the locked row version at tid at or after
 * command since?  The cmin system column is no help: once a subtransaction
 * that updated the row rolled back, it holds a combo command id, so the
 * tuple header is read (the caller holds the row lock).
 */
static bool
WrittenSince(ItemPointer tid, CommandId since)
{
	Relation	rel = table_open(CrmRelid("customer_state"), AccessShareLock);
	HeapTupleData tuple;
	Buffer		buf;
	bool		own = false;

	tuple.t_self = *tid;
	if (heap_fetch(rel, SnapshotAny, &tuple, &buf, true))
	{
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tuple.t_data)))
			own = HeapTupleHeaderGetCmin(tuple.t_data) >= since;
		LockBuffer(buf, BUFFER_LOCK_UNLOCK);
	}
	if (BufferIsValid(buf))
		ReleaseBuffer(buf);
	table_close(rel, AccessShareLock);
	return own;
}

/* The row version of key that scan (of the primary key) sees, into slot. */
static bool
ProbeKey(IndexScanDesc scan, const char *key, TupleTableSlot *slot)
{
	ScanKeyData skey;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(key));
	skey.sk_collation = scan->indexRelation->rd_indcollation[0];
	index_rescan(scan, &skey, 1, NULL, 0);
	return index_getnext_slot(scan, ForwardScanDirection, slot);
}

/*
 * The row version of key that snap sees, through the primary key index,
 * into slot.
 */
static bool
FindByKey(Relation rel, Oid pkey, Snapshot snap, const char *key, TupleTableSlot *slot)
{
	Relation	idx = index_open(pkey, AccessShareLock);
	IndexScanDesc scan = index_beginscan(rel, idx, snap, 1, 0);
	bool		found = ProbeKey(scan, key, slot);

	index_endscan(scan);
	index_close(idx, AccessShareLock);
	return found;
}

/* Fill a LockedState from a locked row version: its composite Datum and tid. */
static void
FillLocked(LockedState *ls, Datum row, ItemPointer tid, CommandId since, bool need_since)
{
	StateFromDatum(&ls->st, row);
	ls->tid = *tid;
	ls->placeholder = STATE_NULL(&ls->st, SC_GRADED_AT);
	ls->created = false;
	ls->own_since = need_since && !ls->placeholder && WrittenSince(tid, since);
}

/* Fill a LockedState from a (ctid, s) result row. */
static void
ReadLocked(HeapTuple tup, TupleDesc desc, LockedState *ls, CommandId since, bool need_since)
{
	bool		isnull;
	ItemPointer tid = (ItemPointer) DatumGetPointer(SPI_getbinval(tup, desc, 1, &isnull));

	FillLocked(ls, SPI_getbinval(tup, desc, 2, &isnull), tid, since, need_since);
}

/*
 * Lock one existing customer's state row as "SELECT ... WHERE customer = $1
 * FOR UPDATE" does, without the executor, whose start-up and shutdown cost
 * more than the lock on the single-row write path (make bench-profile): a
 * fresh snapshot as SPI would take, the primary key looked up, the row
 * version found locked with table_tuple_lock(), which waits for a writer
 * holding it and, under READ COMMITTED, follows its update chain to the
 * latest version (the key never changes, so there is nothing to recheck).
 * False, with nothing locked, whenever the row is missing or the lock did
 * not simply succeed (deleted meanwhile, a REPEATABLE READ snapshot that
 * cannot see the latest version, ...): the caller then takes the SQL route,
 * which creates the row or raises the error FOR UPDATE raises.
 */
static bool
LockOneDirect(const char *key, LockedState *out, CommandId since)
{
	Relation	rel = table_open(CrmRelid("customer_state"), RowShareLock);
	Oid			pkey = RelationGetPrimaryKeyIndex(rel);
	TupleTableSlot *slot;
	Snapshot	snap;
	bool		locked = false;

	if (!OidIsValid(pkey))
	{
		table_close(rel, RowShareLock);
		return false;
	}
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	snap = GetActiveSnapshot();
	slot = table_slot_create(rel, NULL);
	if (FindByKey(rel, pkey, snap, key, slot))
	{
		ItemPointerData tid = slot->tts_tid;
		TM_FailureData tmfd;

		locked = table_tuple_lock(rel, &tid, snap, slot, GetCurrentCommandId(true),
								  LockTupleExclusive, LockWaitBlock,
								  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
								  &tmfd) == TM_Ok;
		if (locked)
		{
			HeapTuple	tup = ExecFetchSlotHeapTuple(slot, false, NULL);

			/* only a row version this transaction made can be written since */
			bool		maybe_own = TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(tup->t_data));

			tid = slot->tts_tid;
			FillLocked(out, heap_copy_tuple_as_datum(tup, RelationGetDescr(rel)), &tid, since, maybe_own);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	PopActiveSnapshot();
	table_close(rel, RowShareLock);
	return locked;
}

/*
 * Writers take ROW EXCLUSIVE on customer_state before any row lock: a full
 * refresh (SHARE ROW EXCLUSIVE) then waits for them, or they for it, and
 * the two never deadlock over a row.  The holidays they read (to schedule
 * follow-ups) are locked first, as the holiday trigger locks them (a
 * TRUNCATE of crm_grade.holiday holds them before it locks customer_state).
 */
void
StoreLockForWriting(void)
{
	StoreLockHolidays();
	LockRelationOid(CrmRelid("customer_state"), RowExclusiveLock);
}

/* crm_grade.holiday, in the one order every locker takes: before customer_state. */
void
StoreLockHolidays(void)
{
	LockRelationOid(CrmRelid("holiday"), AccessShareLock);
}

/*
 * qsort/bsearch comparator of keys (char *) in byte order, the order in
 * which every writer locks customers.
 */
int
StoreCompareKeys(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * The (ctid, s) rows SPI returned, each put at its key's place in out
 * (keys sorted, distinct) and marked in got; frees them.  A row of a key
 * whose state the caller computed (computed[i]; computed may be NULL) is
 * one the INSERT wrote with that state: marked created.  Returns how many.
 */
static int
TakeLocked(char **keys, int n, LockedState *out, bool *got, CommandId since,
		   const bool *computed)
{
	uint64		r;
	int			taken = 0;

	for (r = 0; r < SPI_processed; r++)
	{
		LockedState ls;
		char	   *key;
		char	  **at;
		bool		created;

		ReadLocked(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, &ls, since, false);
		key = StateKey(&ls.st);
		at = bsearch(&key, keys, n, sizeof(char *), StoreCompareKeys);
		if (at == NULL || got[at - keys])
			continue;
		created = computed != NULL && computed[at - keys];
		if (!created && !ls.placeholder)
			ls.own_since = WrittenSince(&ls.tid, since);
		ls.created = created;
		out[at - keys] = ls;
		got[at - keys] = true;
		taken++;
	}
	SPI_freetuptable(SPI_tuptable);
	return taken;
}

/*
 * Which of keys (sorted, distinct) have no state row, unlocked: only a
 * guess, which the INSERT ... ON CONFLICT of StoreLockOrCreate() settles.
 * The primary key is probed with a dirty snapshot, as ON CONFLICT probes
 * it, not by a query: under SERIALIZABLE a query's read of the missing
 * keys' index pages would be a read that concurrent writers of other new
 * customers on those pages conflict with, and would fail them.  Returns
 * how many are missing.
 */
static int
FindMissing(char **keys, int n, bool *missing)
{
	Relation	rel = table_open(CrmRelid("customer_state"), AccessShareLock);
	Oid			pkey = RelationGetPrimaryKeyIndex(rel);
	Relation	idx;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	SnapshotData dirty;
	int			nmissing = 0;
	int			i;

	if (!OidIsValid(pkey))
	{
		/* (the INSERT ... ON CONFLICT (customer) reports that) */
		table_close(rel, AccessShareLock);
		for (i = 0; i < n; i++)
			missing[i] = false;
		return 0;
	}
	InitDirtySnapshot(dirty);
	idx = index_open(pkey, AccessShareLock);
	slot = table_slot_create(rel, NULL);
	scan = index_beginscan(rel, idx, &dirty, 1, 0);
	for (i = 0; i < n; i++)
	{
		missing[i] = !ProbeKey(scan, keys[i], slot);
		if (missing[i])
			nmissing++;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return nmissing;
}

/*
 * Insert the missing rows of keys (sorted, distinct) and lock the others,
 * in key order, in one statement.  A missing key whose state new_state
 * computes is inserted with it, and written once; any other as an empty
 * placeholder, which the caller updates.  computed[i] says which.
 */
static void
CreateAndLock(char **keys, int n, const bool *missing, StoreNewState new_state, void *arg,
			  bool *computed)
{
	CustomerState *states = NULL;
	Datum		param;
	int			i;

	for (i = 0; i < n; i++)
	{
		computed[i] = false;
		if (new_state == NULL || !missing[i])
			continue;
		if (states == NULL)
			states = palloc(sizeof(CustomerState) * n);
		computed[i] = new_state(i, &states[i], arg);
	}
	if (states == NULL)
	{
		param = TextArray(keys, n);
		if (CrmSpiExecutePlan(GetPlan(P_CREATE_LOCK), &param, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "crm_grade: could not create customer states");
		return;
	}
	for (i = 0; i < n; i++)
		if (!computed[i])
			StateInitEmpty(&states[i], keys[i]);
	(void) GetPlan(P_CREATE_FULL);	/* StateArray() needs its row type */
	param = StateArray(states, n);
	if (CrmSpiExecutePlan(GetPlan(P_CREATE_FULL), &param, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "crm_grade: could not create customer states");
}

/*
 * Lock the state rows of keys (sorted, distinct), creating those missing.
 * out[i] is key i's state.  own_since says whether this transaction wrote
 * the row at or after command since (0: at any command).  new_state (may
 * be NULL) computes the state of key i when it has none (false: it
 * cannot): such a row is inserted complete, and out[i].created says so,
 * instead of as a placeholder the caller writes again (with every index
 * entry again, as its indexed columns all change).  The guess of which
 * keys are missing costs an index probe per key of a statement of several
 * customers; a statement of one probes with its lock.
 */
void
StoreLockOrCreate(char **keys, int n, LockedState *out, CommandId since,
				  StoreNewState new_state, void *arg)
{
	Datum		param;
	bool	   *missing;
	bool	   *computed;
	bool	   *got;
	int			ngot,
				i;

	if (n == 1)
	{
		/* the common single-row INSERT of an existing customer: one lookup */
		if (LockOneDirect(keys[0], &out[0], since))
			return;
		param = CStringGetTextDatum(keys[0]);
		if (CrmSpiExecutePlan(GetPlan(P_LOCK_ONE), &param, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not lock a customer state");
		if (SPI_processed == 1)
		{
			ReadLocked(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, &out[0], since, true);
			SPI_freetuptable(SPI_tuptable);
			return;
		}
		SPI_freetuptable(SPI_tuptable);
	}
	missing = palloc(sizeof(bool) * n);
	computed = palloc(sizeof(bool) * n);
	if (n == 1)
		missing[0] = true;
	else if (new_state == NULL || FindMissing(keys, n, missing) == 0)
		new_state = NULL;
	CreateAndLock(keys, n, missing, new_state, arg, computed);
	got = palloc0(sizeof(bool) * n);
	ngot = TakeLocked(keys, n, out, got, since, computed);
	if (ngot < n)
	{
		/* the rows that existed: locked by the insert, read now */
		char	  **rest = palloc(sizeof(char *) * n);
		int			nrest = 0;

		for (i = 0; i < n; i++)
			if (!got[i])
				rest[nrest++] = keys[i];
		param = TextArray(rest, nrest);
		if (CrmSpiExecutePlan(GetPlan(P_READ_MANY), &param, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "crm_grade: could not read customer states");
		ngot += TakeLocked(keys, n, out, got, since, NULL);
	}
	if (ngot != n)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to the state of a customer"),
				 errdetail("Another transaction removed a customer's state while this one waited for it."),
				 errhint("The transaction might succeed if retried.")));
}

/*
 * A cursor over the states whose valid_until has passed at now, the oldest
 * first, at most max of them (max < 0: all); StoreLockExpired() fetches
 * from it.  One scan for a whole regrade(): a query for each batch would
 * start the index scan over, past the entries of every row the batches
 * before it re-graded (old versions this transaction updated, hundreds of
 * thousands of needless heap visits when a fifth of 100,000 customers
 * have expired).  The rows re-graded get new versions with a valid_until
 * after now, which the cursor's snapshot does not see anyway.
 */
Portal
StoreOpenExpired(TimestampTz now, int64 max)
{
	Datum		args[2] = {TimestampTzGetDatum(now), Int64GetDatum(max)};
	Portal		portal = CrmSpiCursorOpen(GetPlan(P_EXPIRED), args, max < 0 ? " n" : NULL);

	if (portal == NULL)
		elog(ERROR, "crm_grade: could not find expired customer states");
	return portal;
}

/*
 * Lock the next limit customers of a cursor of StoreOpenExpired(), skipping
 * those another transaction holds.  Returns how many (fewer than limit: the
 * cursor is at its end).
 */
int
StoreLockExpired(Portal portal, int limit, LockedState *out)
{
	uint64		r;
	int			n;

	CrmSpiCursorFetch(portal, limit);
	n = (int) SPI_processed;
	for (r = 0; r < SPI_processed; r++)
		ReadLocked(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, &out[r], 0, false);
	SPI_freetuptable(SPI_tuptable);
	return n;
}

/* A cursor over every state row in key order (the caller holds the table). */
Portal
StoreOpenAll(bool in_key_order)
{
	Portal		portal = CrmSpiCursorOpen(GetPlan(in_key_order ? P_ALL : P_ALL_ANY_ORDER), NULL, NULL);

	if (portal == NULL)
		elog(ERROR, "crm_grade: could not open a cursor on customer_state");
	return portal;
}

/*
 * The next state of a cursor of StoreOpenAll(), read a thousand rows at a
 * time, or false; *tt and *pos start NULL and 0, and the caller frees the
 * last *tt.  The state points into *tt until the next call.
 */
bool
StoreNextState(Portal portal, SPITupleTable **tt, uint64 *pos, CustomerState *st, ItemPointer tid)
{
	bool		isnull;

	if (*tt == NULL || *pos >= (*tt)->numvals)
	{
		if (*tt)
			SPI_freetuptable(*tt);
		CrmSpiCursorFetch(portal, 1000);
		*tt = SPI_tuptable;
		*pos = 0;
		if ((*tt)->numvals == 0)
			return false;
	}
	StateFromDatum(st, SPI_getbinval((*tt)->vals[*pos], (*tt)->tupdesc, 1, &isnull));
	if (tid)
		*tid = *(ItemPointer) DatumGetPointer(SPI_getbinval((*tt)->vals[*pos], (*tt)->tupdesc, 2, &isnull));
	(*pos)++;
	return true;
}

/*
 * What a snapshot (InvalidSnapshot: the transaction's) sees of the state
 * rows: their number, or, with versions, also a sum over the position of
 * each row version, which changes when a row is updated.
 */
static char *
StatesSeen(Snapshot snapshot, bool versions)
{
	const char *sql = versions ?
		"SELECT pg_catalog.count(*) || ' ' || coalesce(pg_catalog.sum(pg_catalog.hashtext(s.ctid::pg_catalog.text)"
		"::pg_catalog.int8), 0) FROM crm_grade.customer_state s" :
		"SELECT pg_catalog.count(*)::pg_catalog.text FROM crm_grade.customer_state s";
	int			rc;

	if (snapshot == InvalidSnapshot)
		rc = CrmSpiExecute(sql, false, 1);
	else
	{
		SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

		rc = CrmSpiExecuteSnapshot(plan, NULL, NULL, snapshot, true, 1);
		SPI_freeplan(plan);
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not count customer states");
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
}

/* In REPEATABLE READ or SERIALIZABLE: fail when the latest snapshot sees other state rows. */
static void
CheckSeen(bool versions, const char *detail)
{
	if (!IsolationUsesXactSnapshot())
		return;
	if (strcmp(StatesSeen(GetLatestSnapshot(), versions), StatesSeen(InvalidSnapshot, versions)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to the state of a customer"),
				 errdetail_internal("%s", detail),
				 errhint("The transaction might succeed if retried.")));
}

/*
 * After re-grading every customer in REPEATABLE READ or SERIALIZABLE: the
 * transaction's snapshot may predate customers that writers created while
 * it waited for the table, which it has neither seen nor graded.  Writing
 * a customer changed after the snapshot already fails; a customer created
 * after it shows as a state row the latest snapshot sees and this
 * transaction does not.
 */
void
StoreCheckNoneUnseen(void)
{
	CheckSeen(false, "Customers were created by a transaction that committed after this transaction's snapshot was taken.");
}

/*
 * Before a change that reads every state row but writes only some (a
 * holiday moving follow-ups): in REPEATABLE READ or SERIALIZABLE, a row a
 * writer changed after the snapshot would be judged by its old version.
 */
void
StoreCheckNoneChanged(void)
{
	CheckSeen(true, "Customers were changed by a transaction that committed after this transaction's snapshot was taken.");
}

/*
 * A write that reached fewer rows than it was meant to: a row this
 * transaction's snapshot cannot see (REPEATABLE READ, a customer created
 * by a transaction that committed while this one waited).
 */
static void
CheckWritten(uint64 processed, int expected)
{
	if (processed != (uint64) expected)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to the state of a customer"),
				 errdetail("A transaction that committed while this one waited changed customers this one's snapshot cannot see."),
				 errhint("The transaction might succeed if retried.")));
}

void
StoreBatchInit(StoreBatch *b, int cap)
{
	int			c;

	memset(b, 0, sizeof(StoreBatch));
	b->cap = cap;
	b->update = palloc(sizeof(CustomerState) * cap);
	b->update_tid = palloc(sizeof(ItemPointerData) * cap);
	b->insert = palloc(sizeof(CustomerState) * cap);
	b->delete = palloc(sizeof(char *) * cap);
	for (c = 0; c < 8; c++)
		b->hist[c] = palloc(sizeof(char *) * cap);
}

void
StoreBatchUpdate(StoreBatch *b, CustomerState *st, ItemPointer tid)
{
	Assert(b->nupdate < b->cap);
	if (tid)
		b->update_tid[b->nupdate] = *tid;
	else
		ItemPointerSetInvalid(&b->update_tid[b->nupdate]);
	b->update[b->nupdate++] = *st;
}

/*
 * Writing state rows in place, without the executor (whose start-up and
 * shutdown for a one-row UPDATE cost more than the update, and whose join
 * of a many-row UPDATE with the unnested batch costs more than the
 * updates: make bench-profile): each row version updated is the one this
 * transaction locked (FOR UPDATE, ON CONFLICT, SKIP LOCKED) or read under
 * the SHARE ROW EXCLUSIVE lock of a full refresh, and nothing has written
 * it since, so heap_update cannot meet a concurrent update; it takes the
 * serializable checks and WAL as an UPDATE does.  The indexes get new
 * entries unless the update is HOT; a unique index checks a new row as an
 * INSERT does.  Not usable when an index has expressions or a predicate or
 * is a deferred or exclusion constraint's, or the table has a CHECK
 * constraint, a trigger or a rule: the caller then runs the SQL.  An index
 * not yet ready for inserts (CREATE INDEX CONCURRENTLY) is left out, as the
 * executor leaves it out.
 */
typedef struct InPlace
{
	Relation	rel;
	List	   *oids;
	Relation   *indexes;		/* opened at the first new entry: a HOT */
	IndexInfo **infos;			/* update needs none of them */
	int			nindexes;
	bool		usable;
	bool		written;
	TupleTableSlot *slot;
} InPlace;

/*
 * Can an in-place write maintain this index as the executor would?  Not a
 * deferred or exclusion constraint's (checked otherwise than here), nor one
 * with expressions or a predicate.  Read from pg_index, without opening
 * the index: the table's lock keeps its indexes as they are.
 */
static bool
IndexUsableInPlace(Oid indexoid)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	bool		usable;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tup);
	usable = index->indimmediate && !index->indisexclusion &&
		heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
		heap_attisnull(tup, Anum_pg_index_indpred, NULL);
	ReleaseSysCache(tup);
	return usable;
}

static void
InPlaceOpen(InPlace *ip, const char *table)
{
	ListCell   *lc;

	ip->rel = table_open(CrmRelid(table), RowExclusiveLock);
	ip->oids = RelationGetIndexList(ip->rel);
	ip->indexes = NULL;
	ip->infos = NULL;
	ip->nindexes = 0;
	ip->usable = true;
	ip->written = false;
	foreach(lc, ip->oids)
		ip->usable &= IndexUsableInPlace(lfirst_oid(lc));
	/*
	 * nothing SQL would run besides the indexes: no CHECK constraint, no
	 * trigger, no rule (the rewriter would apply it to the SQL's statement)
	 */
	ip->usable &= (ip->rel->rd_att->constr == NULL || ip->rel->rd_att->constr->num_check == 0) &&
		ip->rel->trigdesc == NULL && !ip->rel->rd_rel->relhasrules;
	ip->slot = MakeSingleTupleTableSlot(RelationGetDescr(ip->rel), &TTSOpsHeapTuple);
}

/* Open the table's indexes, once, for the first new index entry. */
static void
InPlaceOpenIndexes(InPlace *ip)
{
	ListCell   *lc;

	if (ip->indexes)
		return;
	ip->indexes = palloc(sizeof(Relation) * Max(list_length(ip->oids), 1));
	ip->infos = palloc(sizeof(IndexInfo *) * Max(list_length(ip->oids), 1));
	foreach(lc, ip->oids)
	{
		Relation	index = index_open(lfirst_oid(lc), RowExclusiveLock);

		ip->infos[ip->nindexes] = BuildIndexInfo(index);
		ip->indexes[ip->nindexes++] = index;
	}
}

/*
 * The customer's row as a tuple, or NULL when in-place writes are not
 * usable or a NOT NULL column would be NULL (the SQL checks that).
 */
static HeapTuple
InPlaceTuple(InPlace *ip, CustomerState *st)
{
	TupleDesc	desc = RelationGetDescr(ip->rel);
	HeapTuple	tup;
	int			i;

	if (!ip->usable)
		return NULL;
	tup = StateToTuple(st, desc);
	for (i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attnotnull && heap_attisnull(tup, i + 1, NULL))
			return NULL;
	return tup;
}

/*
 * Index entries for a new row version (a unique index checks, as SQL does).
 * For an update, the primary key's entry is marked unchanged, as the
 * executor marks an index whose columns an UPDATE did not set: the key
 * never changes, and the hint lets the B-tree delete the old versions'
 * entries bottom-up instead of splitting pages (every non-HOT write of a
 * state adds one).
 */
static void
InPlaceIndex(InPlace *ip, HeapTuple tup, bool update)
{
	int			i;

	InPlaceOpenIndexes(ip);
	ExecStoreHeapTuple(tup, ip->slot, false);
	for (i = 0; i < ip->nindexes; i++)
	{
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		/*
		 * An index CREATE INDEX CONCURRENTLY has not built yet (or whose
		 * build failed) takes no entries, as in ExecInsertIndexTuples():
		 * it may have no pages at all.
		 */
		if (!ip->infos[i]->ii_ReadyForInserts)
			continue;
		FormIndexDatum(ip->infos[i], ip->slot, NULL, values, isnull);
		index_insert(ip->indexes[i], values, isnull, &tup->t_self, ip->rel,
					 ip->indexes[i]->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
					 update && ip->indexes[i]->rd_index->indisprimary, ip->infos[i]);
	}
	ExecClearTuple(ip->slot);
}

/*
 * heap_update at tid.  A REPEATABLE READ transaction's full refresh reads
 * the states with its snapshot, older than its lock: a row a writer
 * committed meanwhile fails as an UPDATE would, with a serialization
 * failure (the transaction's own rows and locked rows cannot meet one).
 */
static void
InPlaceHeapUpdate(Relation rel, ItemPointer tid, HeapTuple tup)
{
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	TM_Result	result = heap_update(rel, tid, tup, GetCurrentCommandId(true), InvalidSnapshot,
									 true, &tmfd, &lockmode);

	if (result == TM_Ok)
		return;
	if ((result == TM_Updated || result == TM_Deleted) && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent %s",
						result == TM_Updated ? "update" : "delete"),
				 errhint("The transaction might succeed if retried.")));
	elog(ERROR, "crm_grade: a customer state was changed while it was being written (%d)", (int) result);
}

/* Write one customer's row at tid; false (nothing done) when not possible. */
static bool
InPlaceUpdate(InPlace *ip, CustomerState *st, ItemPointer tid)
{
	HeapTuple	tup;

	if (!ItemPointerIsValid(tid) || (tup = InPlaceTuple(ip, st)) == NULL)
		return false;
	InPlaceHeapUpdate(ip->rel, tid, tup);
	ip->written = true;
	if (!HeapTupleIsHeapOnly(tup))
		InPlaceIndex(ip, tup, true);
	return true;
}

/* Insert a new row and its index entries. */
static void
InPlaceInsertTuple(InPlace *ip, HeapTuple tup)
{
	simple_heap_insert(ip->rel, tup);
	ip->written = true;
	InPlaceIndex(ip, tup, false);
}

/* Insert a new customer's row; false (nothing done) when not possible. */
static bool
InPlaceInsert(InPlace *ip, CustomerState *st)
{
	HeapTuple	tup = InPlaceTuple(ip, st);

	if (tup == NULL)
		return false;
	InPlaceInsertTuple(ip, tup);
	return true;
}

static void
InPlaceClose(InPlace *ip)
{
	int			i;

	ExecDropSingleTupleTableSlot(ip->slot);
	for (i = 0; i < ip->nindexes; i++)
		index_close(ip->indexes[i], RowExclusiveLock);
	list_free(ip->oids);
	table_close(ip->rel, RowExclusiveLock);
	if (ip->written)
		CommandCounterIncrement();
}

/*
 * Write the batch's updated and new states in place where possible; the
 * others are moved to the front of b->update and b->insert, whose counts
 * say how many are left for the SQL.
 */
static void
WriteInPlace(StoreBatch *b)
{
	InPlace		ip;
	int			i,
				left = 0;

	InPlaceOpen(&ip, "customer_state");
	for (i = 0; i < b->nupdate; i++)
		if (!InPlaceUpdate(&ip, &b->update[i], &b->update_tid[i]))
		{
			if (left != i)		/* (a struct copied onto itself is a memcpy overlap) */
			{
				b->update_tid[left] = b->update_tid[i];
				b->update[left] = b->update[i];
			}
			left++;
		}
	b->nupdate = left;
	left = 0;
	for (i = 0; i < b->ninsert; i++)
		if (!InPlaceInsert(&ip, &b->insert[i]))
		{
			if (left != i)
				b->insert[left] = b->insert[i];
			left++;
		}
	b->ninsert = left;
	InPlaceClose(&ip);
}

void
StoreBatchInsert(StoreBatch *b, CustomerState *st)
{
	Assert(b->ninsert < b->cap);
	b->insert[b->ninsert++] = *st;
}

void
StoreBatchDelete(StoreBatch *b, const char *key)
{
	Assert(b->ndelete < b->cap);
	b->delete[b->ndelete++] = pstrdup(key);
}

/* Note a history row: old or new may be NULL (a customer appears, leaves). */
void
StoreBatchHistory(StoreBatch *b, CustomerState *old, CustomerState *new, const char *reason)
{
	int			i = b->nhist++;

	Assert(i < b->cap);
	b->hist[0][i] = StateKey(new ? new : old);
	b->hist[1][i] = old ? StateText(old, SC_GRADE) : NULL;
	b->hist[2][i] = new ? StateText(new, SC_GRADE) : NULL;
	b->hist[3][i] = old ? StateText(old, SC_LIFECYCLE) : NULL;
	b->hist[4][i] = new ? StateText(new, SC_LIFECYCLE) : NULL;
	b->hist[5][i] = old ? StateText(old, SC_RISK) : NULL;
	b->hist[6][i] = new ? StateText(new, SC_RISK) : NULL;
	b->hist[7][i] = (char *) reason;
}

/* An array of state tuples. */
static Datum
StateArray(CustomerState *states, int n)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(plans_rowtype, -1);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = HeapTupleGetDatum(StateToTuple(&states[i], desc));
	ReleaseTupleDesc(desc);
	return PointerGetDatum(construct_array(elems, n, plans_rowtype, -1, false, TYPALIGN_DOUBLE));
}

/* The history columns a batch fills, in the order of b->hist after customer and changed_at. */
static const char *const HistoryColumns[] = {
	"customer", "changed_at", "old_grade", "new_grade", "old_lifecycle", "new_lifecycle",
	"old_risk", "new_risk", "reason"
};

#define NHISTCOLS lengthof(HistoryColumns)

/*
 * How each column of a history row is filled: from the batch (the index
 * into HistoryColumns) or by its default, evaluated as an INSERT would
 * (the id from its sequence).  False when the row cannot be written in
 * place: a column is missing or generated, or the table is not one that
 * InPlaceOpen() found plain, or has row-level security.
 */
static bool
HistoryLayout(InPlace *ip, EState *estate, int *source, ExprState **defaults)
{
	TupleDesc	desc = RelationGetDescr(ip->rel);
	int			found = 0;
	int			i,
				c;

	if (!ip->usable || ip->rel->rd_rel->relkind != RELKIND_RELATION || ip->rel->rd_rel->relrowsecurity)
		return false;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Node	   *expr;

		source[i] = -1;
		defaults[i] = NULL;
		if (att->attisdropped)
			continue;
		if (att->attgenerated)
			return false;
		for (c = 0; c < NHISTCOLS; c++)
			if (strcmp(NameStr(att->attname), HistoryColumns[c]) == 0)
				source[i] = c;
		if (source[i] >= 0)
		{
			found++;
			continue;
		}
		expr = build_column_default(ip->rel, i + 1);
		if (expr)
			defaults[i] = ExecPrepareExpr((Expr *) expr, estate);
		else if (get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			return false;		/* the INSERT checks the domain's constraints on the NULL */
	}
	return found == NHISTCOLS;
}

/* History row i of the batch, its other columns by their defaults (NULL: a NOT NULL column would be NULL). */
static HeapTuple
HistoryTuple(InPlace *ip, StoreBatch *b, int row, TimestampTz now, ExprContext *econtext,
			 int *source, ExprState **defaults)
{
	TupleDesc	desc = RelationGetDescr(ip->rel);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	int			i;

	for (i = 0; i < desc->natts; i++)
	{
		int			c = source[i];
		const char *text = c == 0 ? b->hist[0][row] : c > 1 ? b->hist[c - 1][row] : NULL;

		if (c == 1)
		{
			values[i] = TimestampTzGetDatum(now);
			nulls[i] = false;
		}
		else if (c >= 0)
		{
			nulls[i] = text == NULL;
			values[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(text);
		}
		else if (defaults[i])
			values[i] = ExecEvalExprSwitchContext(defaults[i], econtext, &nulls[i]);
		else
		{
			values[i] = (Datum) 0;
			nulls[i] = true;
		}
		if (nulls[i] && TupleDescAttr(desc, i)->attnotnull)
			return NULL;
	}
	return heap_form_tuple(desc, values, nulls);
}

/*
 * Write the batch's history rows in place, as the state rows are (see
 * InPlace): the INSERT of the SQL spent more on its executor and the
 * unnested arrays than on the rows (make bench-maintenance).  False
 * (nothing written) when the SQL must do it.
 */
static bool
HistoryInPlace(StoreBatch *b, TimestampTz now)
{
	InPlace		ip;
	EState	   *estate = CreateExecutorState();
	int		   *source;
	ExprState **defaults;
	HeapTuple  *tuples = palloc(sizeof(HeapTuple) * b->nhist);
	bool		usable;
	int			i;

	InPlaceOpen(&ip, "history");
	source = palloc(sizeof(int) * RelationGetDescr(ip.rel)->natts);
	defaults = palloc(sizeof(ExprState *) * RelationGetDescr(ip.rel)->natts);
	usable = HistoryLayout(&ip, estate, source, defaults);
	for (i = 0; usable && i < b->nhist; i++)
		usable = (tuples[i] = HistoryTuple(&ip, b, i, now, GetPerTupleExprContext(estate),
										   source, defaults)) != NULL;
	for (i = 0; usable && i < b->nhist; i++)
		InPlaceInsertTuple(&ip, tuples[i]);
	InPlaceClose(&ip);
	FreeExecutorState(estate);
	return usable;
}

static void
FlushHistory(StoreBatch *b, TimestampTz now)
{
	Datum		args[9];
	int			dims[1] = {b->nhist};
	int			lbs[1] = {1};
	int			c,
				i;

	args[1] = TimestampTzGetDatum(now);
	for (c = 0; c < 8; c++)
	{
		Datum	   *elems = palloc(sizeof(Datum) * b->nhist);
		bool	   *nulls = palloc(sizeof(bool) * b->nhist);

		for (i = 0; i < b->nhist; i++)
		{
			nulls[i] = (b->hist[c][i] == NULL);
			elems[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(b->hist[c][i]);
		}
		args[c == 0 ? 0 : c + 1] = PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
																	   TEXTOID, -1, false, TYPALIGN_INT));
	}
	if (CrmSpiExecutePlan(GetPlan(P_HISTORY), args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "crm_grade: could not write grade history");
}

/* Write what the batch holds, one statement per kind of write, and empty it. */
void
StoreBatchFlush(StoreBatch *b, TimestampTz now)
{
	Datum		arg;

	/* make sure the plans match the current row type before forming tuples */
	(void) GetPlan(P_UPDATE_ONE);
	if (b->nupdate > 0 || b->ninsert > 0)
		WriteInPlace(b);
	if (b->nupdate == 1)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc(plans_rowtype, -1);

		arg = HeapTupleGetDatum(StateToTuple(&b->update[0], desc));
		ReleaseTupleDesc(desc);
		if (CrmSpiExecutePlan(GetPlan(P_UPDATE_ONE), &arg, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "crm_grade: could not store a customer state");
		CheckWritten(SPI_processed, 1);
	}
	else if (b->nupdate > 1)
	{
		arg = StateArray(b->update, b->nupdate);
		if (CrmSpiExecutePlan(GetPlan(P_UPDATE_MANY), &arg, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "crm_grade: could not store customer states");
		CheckWritten(SPI_processed, b->nupdate);
	}
	if (b->ninsert > 0)
	{
		arg = StateArray(b->insert, b->ninsert);
		if (CrmSpiExecutePlan(GetPlan(P_INSERT_MANY), &arg, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "crm_grade: could not store customer states");
	}
	if (b->ndelete > 0)
	{
		arg = TextArray(b->delete, b->ndelete);
		if (CrmSpiExecutePlan(GetPlan(P_DELETE_MANY), &arg, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "crm_grade: could not remove customer states");
		CheckWritten(SPI_processed, b->ndelete);
	}
	if (b->nhist > 0 && !HistoryInPlace(b, now))
		FlushHistory(b, now);
	b->nupdate = b->ninsert = b->ndelete = b->nhist = 0;
}
