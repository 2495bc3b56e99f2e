/*-------------------------------------------------------------------------
 *
 * explain.c
 *		crm_grade.explain(customer): why a customer has its grade, stage,
 *		risk and follow-up time.
 *
 * The stored state is evaluated again with the active policy at the
 * moment it was graded (graded_at), so the metrics shown are the ones the
 * grade was given by and the score total equals the stored score to the
 * last digit.  Nothing is written.
 *
 *-------------------------------------------------------------------------
 */
#include "evaluate.h"
#include "errors.h"
#include "followup.h"
#include "jsonb_build.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(crm_grade_explain);

typedef struct ExplainCall
{
	char	   *key;
	MemoryContext outer;		/* where the result goes */
	Jsonb	   *result;
} ExplainCall;

/* The stored state of a customer; false when there is none. */
static bool
ReadState(const char *key, CustomerState *st)
{
	static SPIPlanPtr plan = NULL;
	Datum		arg = CStringGetTextDatum(key);
	bool		isnull;

	if (plan == NULL)
	{
		Oid			argtypes[1] = {TEXTOID};

		plan = CrmSpiPrepareKept("SELECT s FROM crm_grade.customer_state s "
								 "WHERE s.customer = $1 AND s.graded_at IS NOT NULL",
								 1, argtypes);
	}
	if (CrmSpiExecutePlan(plan, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "crm_grade: could not read customer_state");
	if (SPI_processed == 0)
		return false;
	StateFromDatum(st, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return true;
}

static void
ExplainWork(CrmScope *scope, void *arg)
{
	ExplainCall *call = arg;
	CrmIdentity id;
	CustomerState st;
	EvalContext ctx;
	JsonbParseState *ps = NULL;
	JsonbValue *root;
	TimestampTz at;

	CrmEnter(&id);
	StateRequireCurrentCatalog();
	if (!ReadState(call->key, &st))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("customer \"%s\" has no grade", call->key),
				 errhint("crm_grade grades the customers of the attached tables; SELECT customer FROM crm_grade.customer_grades lists them.")));
	EvalContextLoad(&ctx);
	at = STATE_TS(&st, SC_GRADED_AT);
	JbBeginObject(&ps);
	JbKey(&ps, "customer");
	JbString(&ps, call->key);
	JbKey(&ps, "evaluated_at");
	JbTimestamp(&ps, at, false);
	JbKey(&ps, "valid_until");
	JbTimestamp(&ps, STATE_TS(&st, SC_VALID_UNTIL), STATE_NULL(&st, SC_VALID_UNTIL));
	JbKey(&ps, "grade");
	JbString(&ps, StateText(&st, SC_GRADE));
	JbKey(&ps, "score");
	JbNumeric(&ps, STATE_NULL(&st, SC_SCORE) ? NULL : STATE_NUM(&st, SC_SCORE));
	PolicyExplain(ctx.policy, &st, at, &ps);
	JbKey(&ps, "lifecycle");
	JbString(&ps, StateText(&st, SC_LIFECYCLE));
	JbKey(&ps, "risk");
	JbString(&ps, StateText(&st, SC_RISK));
	FollowUpExplain(&st, ctx.policy, &ctx.lifecycle, at, &ps);
	root = pushJsonbValue(&ps, WJB_END_OBJECT, NULL);
	MemoryContextSwitchTo(call->outer);
	call->result = JbFinish(root);
	CrmLeave(&id);
}

/* SQL: crm_grade.explain(customer anyelement) RETURNS jsonb */
Datum
crm_grade_explain(PG_FUNCTION_ARGS)
{
	ExplainCall call;
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, 0);
	Oid			typoutput;
	bool		isvarlena;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the customer to explain must not be NULL"),
				 errhint("Give a key of the attached tables, e.g. crm_grade.explain(42).")));
	if (!OidIsValid(type))
		elog(ERROR, "crm_grade.explain: could not determine the key's type");
	getTypeOutputInfo(type, &typoutput, &isvarlena);
	call.key = OidOutputFunctionCall(typoutput, PG_GETARG_DATUM(0));
	call.outer = CurrentMemoryContext;
	call.result = NULL;
	CrmRunScoped("explain()", NULL, ExplainWork, &call);
	PG_RETURN_JSONB_P(call.result);
}
