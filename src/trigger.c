/*-------------------------------------------------------------------------
 *
 * trigger.c
 *		The statement-level AFTER triggers that crm_grade.attach_* places on
 *		application tables.
 *
 * Inserted orders are applied incrementally: each customer's state row is
 * locked once per statement, the new orders are added to its accumulators
 * and the customer is evaluated again, without reading the customer's other
 * orders.  Everything else (updates, deletes, truncation, the customer
 * master, and states whose valid_until has passed) goes through the
 * set-based refresh of the affected customers.
 *
 * The work runs as the extension's owner with a fixed search_path, so
 * application roles need no privileges on crm_grade's tables and cannot
 * redirect its queries.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(crm_grade_orders_trigger);
PG_FUNCTION_INFO_V1(crm_grade_customers_trigger);

/* Columns of an attached table, resolved from the trigger's arguments. */
typedef struct SourceColumns
{
	Relation	rel;
	const char *trigger;
	int			key_att;		/* attribute numbers, 0 when not attached */
	int			amount_att;
	int			time_att;
	int			paid_att;
	Oid			amount_type;	/* base types */
	Oid			time_type;
	Oid			paid_type;
	FmgrInfo	key_out;
	int			master_att[3];	/* customers: owner, created_at, attributes */
	FmgrInfo	master_out[3];
} SourceColumns;

/* One order row, reduced to what the metrics need. */
typedef struct OrderRow
{
	char	   *key;
	Numeric		amount;
	TimestampTz t;
	bool		has_paid;
	TimestampTz paid;
} OrderRow;

/* Plans kept for the backend's life. */
typedef struct Plans
{
	Oid			rowtype;		/* customer_state's row type the plans were made for */
	SPIPlanPtr	lock_one;
	SPIPlanPtr	lock_states;
	SPIPlanPtr	insert_placeholders;
	SPIPlanPtr	update_one;
	SPIPlanPtr	update_states;
	SPIPlanPtr	insert_history;
	SPIPlanPtr	active_policy;
	SPIPlanPtr	refresh_some;
	SPIPlanPtr	refresh_all;
} Plans;

static Plans plans;

static bool active_policy_stale = true;

/* What EnterOwnerContext() changed. */
typedef struct OwnerContext
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} OwnerContext;

static void CheckTriggerContext(FunctionCallInfo fcinfo, const char *fname);
static void ResolveColumns(TriggerData *td, SourceColumns *cols, bool orders);
static OrderRow *ReadOrderRows(SourceColumns *cols, Tuplestorestate *store, int *nrows);
static void ProcessOrderInserts(SourceColumns *cols, Tuplestorestate *store);
static void ProcessOrderChanges(SourceColumns *cols, Tuplestorestate *old,
								Tuplestorestate *new, const char *reason);
static void ProcessCustomerChanges(SourceColumns *cols, TriggerData *td);
static void RefreshCustomers(List *keys, const char *reason);
static void RefreshAll(const char *reason);
static void PreparePlans(void);
static void EnterOwnerContext(OwnerContext *saved);
static void LeaveOwnerContext(OwnerContext *saved);

/* The trigger must be an AFTER ... FOR EACH STATEMENT trigger. */
static void
CheckTriggerContext(FunctionCallInfo fcinfo, const char *fname)
{
	TriggerData *td;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() was not called by the trigger manager", fname),
				 errhint("crm_grade.attach_orders() and crm_grade.attach_customers() create the triggers.")));
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" must fire AFTER ... FOR EACH STATEMENT",
						td->tg_trigger->tgname, RelationGetRelationName(td->tg_relation)),
				 errhint("Drop it and attach the table with crm_grade.attach_*().")));
}

/* Attribute number of a column named by a trigger argument ("" = none). */
static int
ColumnByName(SourceColumns *cols, const char *name, Oid *basetype)
{
	TupleDesc	desc = RelationGetDescr(cols->rel);
	int			i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			if (basetype)
				*basetype = getBaseType(att->atttypid);
			return i + 1;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of relation \"%s\" does not exist",
					name, RelationGetRelationName(cols->rel)),
			 errdetail("Trigger \"%s\" was created by crm_grade for that column.", cols->trigger),
			 errhint("The column was renamed or dropped after it was attached: attach the table again.")));
	return 0;					/* not reached */
}

/*
 * Resolve the trigger's column-name arguments.  Names, not attribute
 * numbers, are stored in the trigger so that it survives pg_dump/pg_restore.
 */
static void
ResolveColumns(TriggerData *td, SourceColumns *cols, bool orders)
{
	Trigger    *trig = td->tg_trigger;
	Oid			keytype,
				outfunc;
	bool		isvarlena;
	int			i;

	memset(cols, 0, sizeof(SourceColumns));
	cols->rel = td->tg_relation;
	cols->trigger = trig->tgname;
	if (trig->tgnargs != 4)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("trigger \"%s\" on \"%s\" has %d arguments, expected 4",
						trig->tgname, RelationGetRelationName(cols->rel), trig->tgnargs),
				 errhint("Attach the table again with crm_grade.attach_*().")));
	cols->key_att = ColumnByName(cols, trig->tgargs[0], &keytype);
	getTypeOutputInfo(keytype, &outfunc, &isvarlena);
	fmgr_info(outfunc, &cols->key_out);
	if (orders)
	{
		cols->amount_att = ColumnByName(cols, trig->tgargs[1], &cols->amount_type);
		cols->time_att = ColumnByName(cols, trig->tgargs[2], &cols->time_type);
		cols->paid_att = ColumnByName(cols, trig->tgargs[3], &cols->paid_type);
		return;
	}
	for (i = 0; i < 3; i++)
	{
		Oid			type;

		cols->master_att[i] = ColumnByName(cols, trig->tgargs[i + 1], &type);
		if (cols->master_att[i] == 0)
			continue;
		getTypeOutputInfo(type, &outfunc, &isvarlena);
		fmgr_info(outfunc, &cols->master_out[i]);
	}
}

/* Report a NULL where crm_grade needs a value. */
static void
NullColumnError(SourceColumns *cols, int att, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NOT_NULL_VIOLATION),
			 errmsg("%s of a row in \"%s\" is NULL (column \"%s\")", what,
					RelationGetRelationName(cols->rel),
					NameStr(TupleDescAttr(RelationGetDescr(cols->rel), att - 1)->attname)),
			 errdetail("crm_grade grades customers from this table and needs the %s of every row.", what),
			 errhint("Set the column, or make it NOT NULL so that the application is told at once.")));
}

/* The key of a row as text, the form customer_state stores. */
static char *
ReadKey(SourceColumns *cols, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, cols->key_att, &isnull);

	if (isnull)
		NullColumnError(cols, cols->key_att, "customer key");
	return OutputFunctionCall(&cols->key_out, d);
}

/* An amount as a finite numeric, whatever numeric type the column has. */
static Numeric
ReadAmount(SourceColumns *cols, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, cols->amount_att, &isnull);
	Numeric		n;

	if (isnull)
		NullColumnError(cols, cols->amount_att, "amount");
	switch (cols->amount_type)
	{
		case INT2OID:
			n = DatumGetNumeric(DirectFunctionCall1(int2_numeric, d));
			break;
		case INT4OID:
			n = int64_to_numeric(DatumGetInt32(d));
			break;
		case INT8OID:
			n = int64_to_numeric(DatumGetInt64(d));
			break;
		case FLOAT4OID:
			n = DatumGetNumeric(DirectFunctionCall1(float4_numeric, d));
			break;
		case FLOAT8OID:
			n = DatumGetNumeric(DirectFunctionCall1(float8_numeric, d));
			break;
		default:
			n = DatumGetNumeric(d);
			break;
	}
	if (numeric_is_nan(n) || numeric_is_inf(n))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount of a row in \"%s\" is not a finite number (column \"%s\")",
						RelationGetRelationName(cols->rel),
						NameStr(TupleDescAttr(RelationGetDescr(cols->rel), cols->amount_att - 1)->attname)),
				 errhint("crm_grade sums amounts exactly; store a finite number (a refund is a negative amount).")));
	return n;
}

/* A time column as a finite timestamptz; false when NULL. */
static bool
ReadTime(SourceColumns *cols, TupleTableSlot *slot, int att, Oid type, TimestampTz *result)
{
	bool		isnull;
	Datum		d;

	if (att == 0)
		return false;
	d = slot_getattr(slot, att, &isnull);
	if (isnull)
		return false;
	if (type == DATEOID)
		*result = CrmLocalToTimestampTz(DatumGetTimestamp(DirectFunctionCall1(date_timestamp, d)));
	else if (type == TIMESTAMPOID)
		*result = TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)) ? DatumGetTimestamp(d) :
			CrmLocalToTimestampTz(DatumGetTimestamp(d));
	else
		*result = DatumGetTimestampTz(d);
	if (TIMESTAMP_NOT_FINITE(*result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("time of a row in \"%s\" is infinite (column \"%s\")",
						RelationGetRelationName(cols->rel),
						NameStr(TupleDescAttr(RelationGetDescr(cols->rel), att - 1)->attname)),
				 errhint("crm_grade needs a real moment to place the row in time.")));
	return true;
}

/* Reads one row of a transition table into *elem. */
typedef void (*RowReader) (SourceColumns *cols, TupleTableSlot *slot, void *elem);

/*
 * Every row of a transition table, read by read() into an array of
 * elements of the given size.
 */
static void *
ReadRows(SourceColumns *cols, Tuplestorestate *store, Size size, RowReader read, int *nrows)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(cols->rel),
													&TTSOpsMinimalTuple);
	int			cap = 16,
				n = 0;
	char	   *rows = palloc(size * cap);

	tuplestore_rescan(store);
	while (tuplestore_gettupleslot(store, true, false, slot))
	{
		if (n == cap)
		{
			cap *= 2;
			rows = repalloc_huge(rows, size * cap);
		}
		read(cols, slot, rows + size * n++);
	}
	ExecDropSingleTupleTableSlot(slot);
	*nrows = n;
	return rows;
}

/* An order row as the metrics need it. */
static void
ReadOrderRow(SourceColumns *cols, TupleTableSlot *slot, void *elem)
{
	OrderRow   *r = elem;

	r->key = ReadKey(cols, slot);
	r->amount = ReadAmount(cols, slot);
	if (!ReadTime(cols, slot, cols->time_att, cols->time_type, &r->t))
		NullColumnError(cols, cols->time_att, "order time");
	r->has_paid = ReadTime(cols, slot, cols->paid_att, cols->paid_type, &r->paid);
}

static OrderRow *
ReadOrderRows(SourceColumns *cols, Tuplestorestate *store, int *nrows)
{
	return ReadRows(cols, store, sizeof(OrderRow), ReadOrderRow, nrows);
}

static int
CompareRowKeys(const void *a, const void *b)
{
	return strcmp(((const OrderRow *) a)->key, ((const OrderRow *) b)->key);
}

/* Full order: key, time, payment, amount (to match old and new rows). */
static int
CompareRows(const void *a, const void *b)
{
	const OrderRow *x = a;
	const OrderRow *y = b;
	int			c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->has_paid != y->has_paid)
		return x->has_paid ? 1 : -1;
	if (x->has_paid && x->paid != y->paid)
		return x->paid < y->paid ? -1 : 1;
	return NumericCompare(x->amount, y->amount);
}

/* A negative amount is a refund: it counts in sums, not as an order. */
static bool
IsRefund(OrderRow *r)
{
	return NumericCompare(r->amount, NumericFromInt64(0)) < 0;
}

static Numeric
AddNumeric(Datum a, Numeric b)
{
	return DatumGetNumeric(DirectFunctionCall2(numeric_add, a, NumericGetDatum(b)));
}

/* Add a calendar month to the sorted set of active months. */
static void
AddMonth(CustomerState *st, int month)
{
	ArrayType  *arr = DatumGetArrayTypeP(st->values[SC_ORDER_MONTHS]);
	int			n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	int32	   *old = n > 0 ? (int32 *) ARR_DATA_PTR(arr) : NULL;
	Datum	   *months = palloc(sizeof(Datum) * (n + 1));
	int			i,
				j = 0;
	bool		added = false;

	for (i = 0; i < n; i++)
	{
		if (old[i] == month)
			return;
		if (!added && old[i] > month)
		{
			months[j++] = Int32GetDatum(month);
			added = true;
		}
		months[j++] = Int32GetDatum(old[i]);
	}
	if (!added)
		months[j++] = Int32GetDatum(month);
	StateSet(st, SC_ORDER_MONTHS,
			 PointerGetDatum(construct_array(months, j, INT4OID, 4, true, TYPALIGN_INT)));
}

/*
 * Add one order's contribution to the accumulators, as the refresh's SQL
 * aggregates would count it at now (window start ws).
 */
static void
AddOrder(CustomerState *st, OrderRow *r, TimestampTz now, TimestampTz ws)
{
	bool		in_window = r->t > ws;

	if (r->t > now)
	{
		StateSetMinTs(st, SC_NEXT_ORDER_AT, r->t);	/* counts once now reaches it */
		return;
	}
	StateSet(st, SC_TOTAL_AMOUNT, NumericGetDatum(AddNumeric(st->values[SC_TOTAL_AMOUNT], r->amount)));
	if (in_window)
	{
		StateSet(st, SC_AMOUNT_12M, NumericGetDatum(AddNumeric(st->values[SC_AMOUNT_12M], r->amount)));
		StateSetMinTs(st, SC_OLDEST_WINDOW_AT, r->t);
	}
	if (IsRefund(r))
		return;					/* a refund is not an order */
	StateSet(st, SC_ORDERS_TOTAL, Int64GetDatum(STATE_I64(st, SC_ORDERS_TOTAL) + 1));
	StateSetMinTs(st, SC_FIRST_ORDER_AT, r->t);
	StateSetMaxTs(st, SC_LAST_ORDER_AT, r->t);
	if (!in_window)
		return;
	StateSet(st, SC_ORDERS_12M, Int64GetDatum(STATE_I64(st, SC_ORDERS_12M) + 1));
	AddMonth(st, CrmMonthIndex(r->t));
	if (r->has_paid)
	{
		StateSet(st, SC_PAY_DAYS_SUM,
				 Int64GetDatum(STATE_I64(st, SC_PAY_DAYS_SUM) + CrmDaysBetween(r->t, r->paid)));
		StateSet(st, SC_PAY_COUNT, Int64GetDatum(STATE_I64(st, SC_PAY_COUNT) + 1));
	}
}

/* Build the plans once per backend (again if the extension was recreated). */
static void
PreparePlans(void)
{
	Oid			rowtype = StateRowType();
	Oid			text_arg[1] = {TEXTOID};
	Oid			keys_arg[1] = {TEXTARRAYOID};
	Oid			states_arg[1];
	Oid			refresh_args[2] = {TEXTARRAYOID, TEXTOID};
	Oid			history_args[9] = {TEXTARRAYOID, TIMESTAMPTZOID, TEXTARRAYOID, TEXTARRAYOID,
	TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};
	TupleDesc	desc;
	StringInfoData cols,
				vals,
				one,
				sql;
	int			i;

	if (plans.rowtype == rowtype && plans.update_states != NULL)
		return;
	if (plans.lock_states)
	{
		SPI_freeplan(plans.lock_one);
		SPI_freeplan(plans.lock_states);
		SPI_freeplan(plans.insert_placeholders);
		SPI_freeplan(plans.update_one);
		SPI_freeplan(plans.update_states);
		SPI_freeplan(plans.insert_history);
		SPI_freeplan(plans.active_policy);
		SPI_freeplan(plans.refresh_some);
		SPI_freeplan(plans.refresh_all);
		memset(&plans, 0, sizeof(plans));
	}

	/*
	 * UPDATE every column but the key, from one customer_state value or
	 * from an array of them.  A single row (the common single-row INSERT)
	 * goes through a plan keyed by a scalar, which the plan cache keeps as
	 * one generic plan; an array plan is re-planned for its size each time,
	 * which a batch of customers amortises.
	 */
	desc = lookup_rowtype_tupdesc(rowtype, -1);
	initStringInfo(&cols);
	initStringInfo(&vals);
	initStringInfo(&one);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *name = quote_identifier(NameStr(att->attname));

		if (att->attisdropped || strcmp(NameStr(att->attname), "customer") == 0)
			continue;
		appendStringInfo(&cols, "%s%s", cols.len ? ", " : "", name);
		appendStringInfo(&vals, "%su.%s", vals.len ? ", " : "", name);
		appendStringInfo(&one, "%s($1).%s", one.len ? ", " : "", name);
	}
	ReleaseTupleDesc(desc);
	initStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE crm_grade.customer_state s SET (%s) = ROW(%s) "
					 "WHERE s.customer = ($1).customer", cols.data, one.data);
	plans.update_one = SPI_prepare(sql.data, 1, &rowtype);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "UPDATE crm_grade.customer_state s SET (%s) = ROW(%s) "
					 "FROM unnest($1) u WHERE s.customer = u.customer", cols.data, vals.data);
	states_arg[0] = get_array_type(rowtype);
	plans.update_states = SPI_prepare(sql.data, 1, states_arg);

	/*
	 * Rows are locked in byte order of the key (COLLATE "C"): the order the
	 * keys are sorted in here, and in _refresh_some(), so writers never
	 * deadlock.  Each row comes back whole, as a composite of the named row
	 * type, whose column map is cached.
	 */
	plans.lock_one = SPI_prepare("SELECT s FROM crm_grade.customer_state s WHERE s.customer = $1 FOR UPDATE",
								 1, text_arg);
	plans.lock_states = SPI_prepare("SELECT s FROM crm_grade.customer_state s WHERE s.customer = ANY ($1) "
									"ORDER BY s.customer COLLATE \"C\" FOR UPDATE", 1, keys_arg);
	plans.insert_placeholders = SPI_prepare("INSERT INTO crm_grade.customer_state (customer) "
											"SELECT k FROM unnest($1) k ORDER BY k COLLATE \"C\" "
											"ON CONFLICT (customer) DO NOTHING", 1, keys_arg);
	plans.insert_history = SPI_prepare("INSERT INTO crm_grade.history (customer, changed_at, old_grade, "
									   "new_grade, old_lifecycle, new_lifecycle, old_risk, new_risk, reason) "
									   "SELECT u.c, $2, u.og, u.ng, u.ol, u.nl, u.orisk, u.nrisk, u.r "
									   "FROM unnest($1, $3, $4, $5, $6, $7, $8, $9) "
									   "AS u(c, og, ng, ol, nl, orisk, nrisk, r)", 9, history_args);
	plans.active_policy = SPI_prepare("SELECT p.name, p.definition FROM crm_grade.policy p WHERE p.name = "
									  "coalesce((SELECT a.name FROM crm_grade.active_policy a), 'abc')",
									  0, NULL);
	plans.refresh_some = SPI_prepare("SELECT crm_grade._refresh_some($1, $2)", 2, refresh_args);
	plans.refresh_all = SPI_prepare("SELECT crm_grade._refresh_all($1)", 1, text_arg);
	if (!plans.update_one || !plans.update_states || !plans.lock_one || !plans.lock_states ||
		!plans.insert_placeholders ||
		!plans.insert_history || !plans.active_policy || !plans.refresh_some || !plans.refresh_all)
		elog(ERROR, "crm_grade: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plans.update_one);
	SPI_keepplan(plans.update_states);
	SPI_keepplan(plans.lock_one);
	SPI_keepplan(plans.lock_states);
	SPI_keepplan(plans.insert_placeholders);
	SPI_keepplan(plans.insert_history);
	SPI_keepplan(plans.active_policy);
	SPI_keepplan(plans.refresh_some);
	SPI_keepplan(plans.refresh_all);
	plans.rowtype = rowtype;
}

/*
 * The active policy, parsed.  It is kept until a relcache invalidation
 * arrives: changes to crm_grade.policy and crm_grade.active_policy send one
 * (crm_grade._policy_invalidate), which also reaches this backend at the next
 * command of the changing transaction.
 */
static Policy *active_policy = NULL;

static void
ForgetActivePolicy(Datum arg, Oid relid)
{
	/* freeing waits for the next load: a caller may be using it now */
	active_policy_stale = true;
}

static Policy *
LoadActivePolicy(void)
{
	static bool callback_registered = false;
	bool		isnull;
	Datum		name,
				definition;
	Policy	   *p;

	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(ForgetActivePolicy, (Datum) 0);
		callback_registered = true;
	}
	if (active_policy && !active_policy_stale)
		return active_policy;
	active_policy_stale = false;
	if (SPI_execute_plan(plans.active_policy, NULL, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read the active policy");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the active crm_grade policy does not exist"),
				 errhint("Choose a stored policy with SELECT crm_grade.use_policy('abc').")));
	name = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	definition = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	p = PolicyParse(DatumGetJsonbP(definition), TextDatumGetCString(name));
	PolicyKeep(p);
	if (active_policy)
		PolicyFree(active_policy);
	active_policy = p;
	return p;
}

/* At most this many customers' states are held in memory at once. */
#define CHUNK_CUSTOMERS 5000

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
 * Lock and read the state rows of keys (sorted, distinct).  states[i] is
 * filled for each key found; found[i] says which.  Returns how many.
 */
static int
LockStates(char **keys, int n, CustomerState *states, bool *found)
{
	Datum		arg = (n == 1) ? CStringGetTextDatum(keys[0]) : TextArray(keys, n);
	uint64		r;
	int			i = 0,
				nfound = 0;

	if (SPI_execute_plan(n == 1 ? plans.lock_one : plans.lock_states, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not lock customer states");
	/* rows come back in the keys' order: merge */
	for (r = 0; r < SPI_processed; r++)
	{
		bool		isnull;
		HeapTupleHeader td = DatumGetHeapTupleHeader(SPI_getbinval(SPI_tuptable->vals[r],
																	 SPI_tuptable->tupdesc, 1, &isnull));
		CustomerState st;
		char	   *key;

		StateFromTuple(&st, td);
		key = TextDatumGetCString(st.values[SC_CUSTOMER]);
		while (i < n && strcmp(keys[i], key) < 0)
			i++;
		if (i < n && strcmp(keys[i], key) == 0)
		{
			states[i] = st;
			found[i] = true;
			nfound++;
		}
	}
	SPI_freetuptable(SPI_tuptable);
	return nfound;
}

/*
 * Lock and read every key's state row, creating the missing ones first: a
 * concurrent writer may create the same customer, and ON CONFLICT waits
 * for it.
 */
static void
LockOrCreateStates(char **keys, int n, CustomerState *states)
{
	bool	   *found = palloc0(sizeof(bool) * n);
	char	  **missing;
	int			nmissing = 0,
				i;

	if (LockStates(keys, n, states, found) == n)
		return;
	missing = palloc(sizeof(char *) * n);
	for (i = 0; i < n; i++)
		if (!found[i])
			missing[nmissing++] = keys[i];
	{
		Datum		arg = TextArray(missing, nmissing);

		if (SPI_execute_plan(plans.insert_placeholders, &arg, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "crm_grade: could not create customer states");
	}
	if (LockStates(keys, n, states, found) != n)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access to the state of a new customer"),
				 errhint("The transaction might succeed if retried.")));
}

/* History rows gathered for one statement's chunk. */
typedef struct HistoryRows
{
	int			n;
	char	  **cols[8];		/* customer, old/new grade, lifecycle, risk, reason */
} HistoryRows;

static char *
TextOrNull(CustomerState *st, StateCol col)
{
	return st->isnull[col] ? NULL : TextDatumGetCString(st->values[col]);
}

/* Note a history row when grade, stage or risk moved. */
static void
AddHistory(HistoryRows *h, CustomerState *old, CustomerState *st, const char *reason)
{
	int			i = h->n;

	if (StateTextEquals(st, old, SC_GRADE) && StateTextEquals(st, old, SC_LIFECYCLE) &&
		StateTextEquals(st, old, SC_RISK))
		return;
	h->cols[0][i] = TextDatumGetCString(st->values[SC_CUSTOMER]);
	h->cols[1][i] = TextOrNull(old, SC_GRADE);
	h->cols[2][i] = TextOrNull(st, SC_GRADE);
	h->cols[3][i] = TextOrNull(old, SC_LIFECYCLE);
	h->cols[4][i] = TextOrNull(st, SC_LIFECYCLE);
	h->cols[5][i] = TextOrNull(old, SC_RISK);
	h->cols[6][i] = TextOrNull(st, SC_RISK);
	h->cols[7][i] = (char *) reason;
	h->n++;
}

/* Insert the gathered history rows with one statement. */
static void
WriteHistory(HistoryRows *h, TimestampTz now)
{
	Datum		args[9];
	int			dims[1] = {h->n};
	int			lbs[1] = {1};
	int			c,
				i;

	if (h->n == 0)
		return;
	args[1] = TimestampTzGetDatum(now);
	for (c = 0; c < 8; c++)
	{
		Datum	   *elems = palloc(sizeof(Datum) * h->n);
		bool	   *nulls = palloc(sizeof(bool) * h->n);

		for (i = 0; i < h->n; i++)
		{
			nulls[i] = (h->cols[c][i] == NULL);
			elems[i] = nulls[i] ? (Datum) 0 : CStringGetTextDatum(h->cols[c][i]);
		}
		args[c == 0 ? 0 : c + 1] = PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs,
																	   TEXTOID, -1, false, TYPALIGN_INT));
	}
	if (SPI_execute_plan(plans.insert_history, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "crm_grade: could not write grade history");
}

/* Write the new states with one UPDATE. */
static void
WriteStates(CustomerState *states, bool *changed, int n)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(plans.rowtype, -1);
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	Datum		arg;
	int			i,
				m = 0;

	for (i = 0; i < n; i++)
		if (changed[i])
			elems[m++] = HeapTupleGetDatum(StateToTuple(&states[i], desc));
	ReleaseTupleDesc(desc);
	if (m == 0)
		return;
	arg = (m == 1) ? elems[0] :
		PointerGetDatum(construct_array(elems, m, plans.rowtype, -1, false, TYPALIGN_DOUBLE));
	if (SPI_execute_plan(m == 1 ? plans.update_one : plans.update_states, &arg, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "crm_grade: could not store customer states");
}

/*
 * Apply the inserted orders of customers [g0, g1) (groups of rows with one
 * key; start[g] is the first row of group g).  Customers whose stored state
 * cannot be extended (time has passed its valid_until, or crm_grade.as_of
 * went back before it was graded) are appended to *stale for a refresh.
 */
static void
ApplyChunk(OrderRow *rows, int *start, int g0, int g1, TimestampTz now, TimestampTz ws,
		   Policy *policy, List **stale, MemoryContext outer)
{
	int			n = g1 - g0;
	char	  **keys = palloc(sizeof(char *) * n);
	CustomerState *states = palloc(sizeof(CustomerState) * n);
	bool	   *changed = palloc0(sizeof(bool) * n);
	HistoryRows hist;
	int			g,
				c;

	hist.n = 0;
	for (c = 0; c < 8; c++)
		hist.cols[c] = palloc(sizeof(char *) * n);
	for (g = 0; g < n; g++)
		keys[g] = rows[start[g0 + g]].key;
	LockOrCreateStates(keys, n, states);

	for (g = 0; g < n; g++)
	{
		CustomerState *st = &states[g];
		CustomerState old;
		const char *reason = "order";
		int			r;

		if (!STATE_NULL(st, SC_GRADED_AT) &&
			(now < STATE_TS(st, SC_GRADED_AT) ||
			 (!STATE_NULL(st, SC_VALID_UNTIL) && now >= STATE_TS(st, SC_VALID_UNTIL))))
		{
			MemoryContext oldcxt = MemoryContextSwitchTo(outer);

			*stale = lappend(*stale, keys[g]);
			MemoryContextSwitchTo(oldcxt);
			continue;
		}
		old = *st;
		for (r = start[g0 + g]; r < start[g0 + g + 1]; r++)
		{
			AddOrder(st, &rows[r], now, ws);
			if (IsRefund(&rows[r]))
				reason = "refund";
		}
		if (STATE_I64(&old, SC_ORDERS_TOTAL) == 0 && STATE_I64(st, SC_ORDERS_TOTAL) > 0)
			reason = "first_order";
		EvaluateCustomer(st, now, policy);
		changed[g] = true;
		AddHistory(&hist, &old, st, reason);
	}
	WriteStates(states, changed, n);
	WriteHistory(&hist, now);
}

/*
 * INSERT: each customer's state is locked once per statement (in key order,
 * so concurrent writers never deadlock), extended with its new orders
 * without reading its other orders, evaluated, and written back; a chunk of
 * customers at a time, with one statement each for locking, writing and
 * history.
 */
static void
ProcessOrderInserts(SourceColumns *cols, Tuplestorestate *store)
{
	TimestampTz now = CrmAsOf();
	TimestampTz ws = CrmWindowStart(now);
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext chunkcxt;
	List	   *stale = NIL;
	Policy	   *policy;
	OrderRow   *rows;
	int		   *start;
	int			n,
				ngroups = 0,
				i,
				g0;

	rows = ReadOrderRows(cols, store, &n);
	if (n == 0)
		return;
	qsort(rows, n, sizeof(OrderRow), CompareRowKeys);
	start = palloc(sizeof(int) * (n + 1));
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(rows[i].key, rows[i - 1].key) != 0)
			start[ngroups++] = i;
	start[ngroups] = n;

	policy = LoadActivePolicy();
	chunkcxt = AllocSetContextCreate(outer, "crm_grade chunk", ALLOCSET_DEFAULT_SIZES);
	for (g0 = 0; g0 < ngroups; g0 += CHUNK_CUSTOMERS)
	{
		MemoryContextSwitchTo(chunkcxt);
		ApplyChunk(rows, start, g0, Min(ngroups, g0 + CHUNK_CUSTOMERS), now, ws, policy,
				   &stale, outer);
		MemoryContextSwitchTo(outer);
		MemoryContextReset(chunkcxt);
	}
	MemoryContextDelete(chunkcxt);
	if (stale != NIL)
		RefreshCustomers(stale, "order");
}

/*
 * The keys of the rows that old and new do not have in common, matched as
 * multisets under cmp.  Each element of both arrays starts with its key
 * (a char *).  Sorts both arrays.
 */
static List *
UnmatchedKeys(void *old, int nold, void *new, int nnew, Size size,
			  int (*cmp) (const void *, const void *))
{
	char	   *a = old,
			   *b = new;
	List	   *keys = NIL;
	int			i = 0,
				j = 0;

	if (nold > 1)
		qsort(a, nold, size, cmp);
	if (nnew > 1)
		qsort(b, nnew, size, cmp);
	while (i < nold || j < nnew)
	{
		int			c = (i >= nold) ? 1 : (j >= nnew) ? -1 : cmp(a + size * i, b + size * j);

		if (c == 0)
		{
			i++, j++;
			continue;
		}
		keys = lappend(keys, *(char **) (c < 0 ? a + size * i++ : b + size * j++));
	}
	return keys;
}

/*
 * UPDATE and DELETE: refresh the customers whose order rows really changed.
 * Old and new rows are matched as multisets, so an UPDATE of columns
 * crm_grade does not read costs nothing further.
 */
static void
ProcessOrderChanges(SourceColumns *cols, Tuplestorestate *old, Tuplestorestate *new,
					const char *reason)
{
	OrderRow   *a,
			   *b = NULL;
	int			na,
				nb = 0;
	List	   *keys;

	StaticAssertStmt(offsetof(OrderRow, key) == 0, "UnmatchedKeys reads the key first");
	a = ReadOrderRows(cols, old, &na);
	if (new)
		b = ReadOrderRows(cols, new, &nb);
	keys = UnmatchedKeys(a, na, b, nb, sizeof(OrderRow), CompareRows);
	if (keys != NIL)
		RefreshCustomers(keys, reason);
}

/* Sort, remove duplicates and refresh a list of customer keys. */
static void
RefreshCustomers(List *keys, const char *reason)
{
	int			n = list_length(keys);
	Datum	   *elems = palloc(sizeof(Datum) * n);
	char	  **sorted = palloc(sizeof(char *) * n);
	Datum		args[2];
	ListCell   *lc;
	int			i = 0,
				m = 0;

	foreach(lc, keys)
		sorted[i++] = lfirst(lc);
	qsort(sorted, n, sizeof(char *), pg_qsort_strcmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
			elems[m++] = CStringGetTextDatum(sorted[i]);
	args[0] = PointerGetDatum(construct_array(elems, m, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = CStringGetTextDatum(reason);
	if (SPI_execute_plan(plans.refresh_some, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not refresh customers");
}

static void
RefreshAll(const char *reason)
{
	Datum		arg = CStringGetTextDatum(reason);

	if (SPI_execute_plan(plans.refresh_all, &arg, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not refresh customers");
}

/* A customer master row as crm_grade reads it: its key and what it says. */
typedef struct MasterRow
{
	char	   *key;
	char	   *sig;			/* key, owner, created_at, attributes, length-prefixed */
} MasterRow;

static int
CompareMasterRows(const void *a, const void *b)
{
	return strcmp(((const MasterRow *) a)->sig, ((const MasterRow *) b)->sig);
}

/* A customer master row: its key and what crm_grade reads of it. */
static void
ReadMasterRow(SourceColumns *cols, TupleTableSlot *slot, void *elem)
{
	MasterRow  *r = elem;
	StringInfoData sig;
	int			i;

	r->key = ReadKey(cols, slot);
	initStringInfo(&sig);
	appendStringInfo(&sig, "%zu:%s", strlen(r->key), r->key);
	for (i = 0; i < 3; i++)
	{
		bool		isnull = true;
		Datum		d = (Datum) 0;

		if (cols->master_att[i] != 0)
			d = slot_getattr(slot, cols->master_att[i], &isnull);
		if (isnull)
			appendStringInfoString(&sig, "|-");
		else
		{
			char	   *v = OutputFunctionCall(&cols->master_out[i], d);

			appendStringInfo(&sig, "|%zu:%s", strlen(v), v);
		}
	}
	r->sig = sig.data;
}

/*
 * Customer master rows: refresh every customer they name.  For an UPDATE,
 * old and new rows are matched as multisets of what crm_grade reads (key,
 * owner, created_at, attributes), so changing another column (a name, a
 * phone number) costs nothing further.
 */
static void
ProcessCustomerChanges(SourceColumns *cols, TriggerData *td)
{
	List	   *keys;
	MasterRow  *a = NULL,
			   *b = NULL;
	int			na = 0,
				nb = 0;
	const char *reason;

	StaticAssertStmt(offsetof(MasterRow, key) == 0, "UnmatchedKeys reads the key first");
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		reason = "customer_created";
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		reason = "customer_updated";
	else
		reason = "customer_deleted";
	if (td->tg_oldtable)
		a = ReadRows(cols, td->tg_oldtable, sizeof(MasterRow), ReadMasterRow, &na);
	if (td->tg_newtable)
		b = ReadRows(cols, td->tg_newtable, sizeof(MasterRow), ReadMasterRow, &nb);
	keys = UnmatchedKeys(a, na, b, nb, sizeof(MasterRow), CompareMasterRows);
	if (keys != NIL)
		RefreshCustomers(keys, reason);
}

/* The owner of crm_grade's tables, as whom the triggers write. */
static Oid
ExtensionOwner(void)
{
	Oid			relid = get_relname_relid("customer_state", get_namespace_oid("crm_grade", false));
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation crm_grade.customer_state does not exist"),
				 errhint("Is the crm_grade extension installed in this database?")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Run as the extension owner in a security-restricted operation, with
 * search_path pinned, like a SECURITY DEFINER function with SET search_path.
 */
static void
EnterOwnerContext(OwnerContext *saved)
{
	Oid			owner = ExtensionOwner();

	GetUserIdAndSecContext(&saved->save_userid, &saved->save_sec_context);
	SetUserIdAndSecContext(owner, saved->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	saved->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

static void
LeaveOwnerContext(OwnerContext *saved)
{
	AtEOXact_GUC(false, saved->save_nestlevel);
	SetUserIdAndSecContext(saved->save_userid, saved->save_sec_context);
}

/* Common frame of both triggers. */
static Datum
RunTrigger(FunctionCallInfo fcinfo, const char *fname, bool orders)
{
	TriggerData *td;
	SourceColumns cols;
	OwnerContext saved;

	CheckTriggerContext(fcinfo, fname);
	td = (TriggerData *) fcinfo->context;
	ResolveColumns(td, &cols, orders);
	EnterOwnerContext(&saved);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "crm_grade: SPI_connect failed");
	PreparePlans();

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		RefreshAll(orders ? "orders_truncated" : "customers_truncated");
	else if (!orders)
		ProcessCustomerChanges(&cols, td);
	else if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ProcessOrderInserts(&cols, td->tg_newtable);
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		ProcessOrderChanges(&cols, td->tg_oldtable, td->tg_newtable, "order_updated");
	else
		ProcessOrderChanges(&cols, td->tg_oldtable, NULL, "order_deleted");

	SPI_finish();
	LeaveOwnerContext(&saved);
	return PointerGetDatum(NULL);
}

/* Trigger on an attached order table. */
Datum
crm_grade_orders_trigger(PG_FUNCTION_ARGS)
{
	return RunTrigger(fcinfo, "crm_grade.orders_trigger", true);
}

/* Trigger on the attached customer master. */
Datum
crm_grade_customers_trigger(PG_FUNCTION_ARGS)
{
	return RunTrigger(fcinfo, "crm_grade.customers_trigger", false);
}
