/*-------------------------------------------------------------------------
 *
 * errors.c
 *		Scopes that give an error raised inside crm_grade's work one line
 *		of context, and crm_grade._raise() for its PL/pgSQL functions.
 *
 * Only the innermost scope writes a line, built from every scope around
 * it, so nested work (a trigger that re-reads a table) still reads as one
 * line.  Scopes are found through error_context_stack itself, which
 * PG_TRY restores on every error: nothing can be left pointing at a stack
 * frame an error has unwound.
 *
 *-------------------------------------------------------------------------
 */
#include "errors.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(crm_grade_raise);

#define SCOPE_PREFIX "crm_grade: "

static void ScopeCallback(void *arg);

/* The crm_grade scope nearest to the top of the stack from entry on. */
static CrmScope *
ScopeFrom(ErrorContextCallback *entry)
{
	for (; entry != NULL; entry = entry->previous)
		if (entry->callback == ScopeCallback)
			return (CrmScope *) entry->arg;
	return NULL;
}

/* "regrade_all(), reading public.orders": the scopes outermost first. */
static void
AppendScopes(StringInfo line, CrmScope *scope)
{
	CrmScope   *outer = ScopeFrom(scope->callback.previous);

	if (outer)
	{
		AppendScopes(line, outer);
		appendStringInfoString(line, ", ");
	}
	appendStringInfoString(line, scope->what);
	if (scope->object)
		appendStringInfo(line, " %s", scope->object);
}

static void
ScopeCallback(void *arg)
{
	CrmScope   *scope = arg;
	StringInfoData line;

	if (ScopeFrom(error_context_stack) != scope)
		return;					/* an inner scope wrote the line */
	initStringInfo(&line);
	AppendScopes(&line, scope);
	errcontext(SCOPE_PREFIX "%s", line.data);
}

void
CrmScopePush(CrmScope *scope, const char *what, const char *object)
{
	scope->what = what;
	scope->object = object;
	scope->callback.callback = ScopeCallback;
	scope->callback.arg = scope;
	scope->callback.previous = error_context_stack;
	error_context_stack = &scope->callback;
}

void
CrmScopePop(CrmScope *scope)
{
	Assert(error_context_stack == &scope->callback);
	error_context_stack = scope->callback.previous;
}

/*
 * Drop what was raised below crm_grade's line: the generated SQL that
 * SPI adds as context (and as an internal query, for a syntax error).
 */
static void
TrimContext(ErrorData *edata)
{
	const char *at;

	if (edata->context == NULL)
		return;
	if (strncmp(edata->context, SCOPE_PREFIX, strlen(SCOPE_PREFIX)) == 0)
		at = edata->context;
	else if ((at = strstr(edata->context, "\n" SCOPE_PREFIX)) != NULL)
		at++;
	else
		return;					/* not raised inside a scope */
	edata->context = pstrdup(at);
	edata->internalquery = NULL;
	edata->internalpos = 0;
}

/*
 * Run work(scope, arg) inside a scope, so that an error it raises leaves
 * with crm_grade's one line where the generated SQL's would be.
 */
void
CrmRunScoped(const char *what, const char *object,
			 void (*work) (CrmScope *scope, void *arg), void *arg)
{
	MemoryContext cxt = CurrentMemoryContext;
	CrmScope	scope;

	CrmScopePush(&scope, what, object);
	PG_TRY();
	{
		work(&scope, arg);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		TrimContext(edata);
		ReThrowError(edata);
	}
	PG_END_TRY();
	CrmScopePop(&scope);
}

/* A SQLSTATE's five characters, or NULL when s is not one. */
static const char *
ValidSqlstate(const char *s)
{
	if (s == NULL || strlen(s) != 5 || strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		return NULL;
	return s;
}

static char *
TextArgOrNull(FunctionCallInfo fcinfo, int n)
{
	return PG_ARGISNULL(n) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/*
 * The context line of an error a PL/pgSQL function of crm_grade caught
 * while doing operation: "crm_grade: operation", and then what the caught
 * error's own crm_grade line said, if it had one.
 */
static char *
RaisedContext(const char *operation, const char *caught)
{
	const char *inner = NULL;

	if (caught && strncmp(caught, SCOPE_PREFIX, strlen(SCOPE_PREFIX)) == 0)
		inner = caught;
	else if (caught)
		inner = strstr(caught, "\n" SCOPE_PREFIX);
	if (inner)
		inner = strstr(inner, SCOPE_PREFIX) + strlen(SCOPE_PREFIX);
	if (inner && operation)
		return psprintf(SCOPE_PREFIX "%s, %.*s", operation, (int) strcspn(inner, "\n"), inner);
	if (inner)
		return psprintf(SCOPE_PREFIX "%.*s", (int) strcspn(inner, "\n"), inner);
	return operation ? psprintf(SCOPE_PREFIX "%s", operation) : NULL;
}

/*
 * SQL: crm_grade._raise(sqlstate text, message text, detail text, hint
 * text, operation text, caught_context text): raise, for a PL/pgSQL
 * function that caught an error of its generated SQL, that error with one
 * line of context naming the operation (NULL: the caught line alone).  RAISE would add a line of its
 * own and keep the SQL; this re-throws without calling any context
 * callback, so the callers' lines are not added either.
 */
Datum
crm_grade_raise(PG_FUNCTION_ARGS)
{
	const char *state = ValidSqlstate(TextArgOrNull(fcinfo, 0));
	char	   *message = TextArgOrNull(fcinfo, 1);
	char	   *detail = TextArgOrNull(fcinfo, 2);
	char	   *hint = TextArgOrNull(fcinfo, 3);
	char	   *context = RaisedContext(TextArgOrNull(fcinfo, 4), TextArgOrNull(fcinfo, 5));
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		ereport(ERROR,
				(errcode(state ? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
						 : ERRCODE_INTERNAL_ERROR),
				 errmsg_internal("%s", message ? message : "error without a message"),
				 (detail && *detail) ? errdetail_internal("%s", detail) : 0,
				 (hint && *hint) ? errhint("%s", hint) : 0));
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		edata->context = context;
		ReThrowError(edata);
	}
	PG_END_TRY();
	PG_RETURN_VOID();
}
