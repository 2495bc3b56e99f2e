/*-------------------------------------------------------------------------
 *
 * settings.c
 *		The settings crm_grade.as_of and crm_grade.timezone, and the moment
 *		"now" means for every computation.
 *
 * Both settings change stored state (the moment a customer is graded at,
 * the calendar its months are counted in), so only a superuser sets them,
 * or a role granted SET ON PARAMETER.  An application role that may insert
 * orders must not be able to grade its own writes at a moment of its
 * choosing.
 *
 *-------------------------------------------------------------------------
 */
#include "crm_grade.h"
#include "population.h"
#include "utility.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(crm_grade_as_of);
PG_FUNCTION_INFO_V1(crm_grade_timezone);

void		_PG_init(void);

static char *as_of_string = NULL;
static char *timezone_string = NULL;

/* Parsed forms, set by the assign hooks. */
static bool as_of_set = false;
static TimestampTz as_of_value = 0;
static pg_tz *crm_tz = NULL;

/*
 * A crm_grade.as_of set before this module was loaded that did not survive
 * its definition: it was invalid, or set by a role without the right to.
 * The GUC machinery only warns and falls back to '', which would silently
 * grade a back-dated load at the current time, so CrmNow() refuses to run
 * until the setting is given again.
 */
static char *rejected_as_of = NULL;

/* The lifecycle thresholds (SPEC 6), in days. */
int			crm_dormant_days = 180;
int			crm_churned_days = 365;
int			crm_intent_days = 90;

static bool ParseAsOf(const char *str, TimestampTz *result);
static bool CheckAsOf(char **newval, void **extra, GucSource source);
static void AssignAsOf(const char *newval, void *extra);
static bool CheckTimezone(char **newval, void **extra, GucSource source);
static void AssignTimezone(const char *newval, void *extra);

/* Module load: define the settings, install the hooks. */
void
_PG_init(void)
{
	const char *early = GetConfigOption("crm_grade.as_of", true, false);
	char	   *early_copy = (early && early[0]) ? MemoryContextStrdup(TopMemoryContext, early) : NULL;

	DefineCustomStringVariable("crm_grade.as_of",
							   "The moment crm_grade treats as now; empty means the moment of the write.",
							   "For deterministic tests, back-dated loads and simulations.  Only a superuser, "
							   "or a role granted SET ON PARAMETER crm_grade.as_of, may set it.",
							   &as_of_string,
							   "",
							   PGC_SUSET,
							   0,
							   CheckAsOf, AssignAsOf, NULL);
	DefineCustomStringVariable("crm_grade.timezone",
							   "Time zone for calendar months, business days and working hours.",
							   "Set it once per database; after a change, run crm_grade.regrade_all().",
							   &timezone_string,
							   "UTC",
							   PGC_SUSET,
							   0,
							   CheckTimezone, AssignTimezone, NULL);
	DefineCustomIntVariable("crm_grade.dormant_days",
							"Days without an order after which a customer is dormant.",
							"SPEC 6: dormant when days_since_last_order exceeds it.  Set it once per "
							"database; after a change, run crm_grade.regrade_all().",
							&crm_dormant_days, 180, 1, 36500, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("crm_grade.churned_days",
							"Days without an order after which a customer is churned.",
							"SPEC 6: churned when days_since_last_order exceeds it.  Set it once per "
							"database; after a change, run crm_grade.regrade_all().",
							&crm_churned_days, 365, 1, 36500, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("crm_grade.intent_days",
							"Days a contact with outcome intent keeps a customer without orders in stage intent.",
							"SPEC 6: the window (T - N days, T].  Set it once per database; after a "
							"change, run crm_grade.regrade_all().",
							&crm_intent_days, 90, 1, 36500, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("crm_grade.population_refresh",
							"How old the population figures (revenue total, RFM cut-offs) may grow before regrade() refreshes them.",
							"use_policy() and regrade_all() always refresh them; regrade() does once they are "
							"this old, when the active policy reads them.  0: at every regrade().",
							&crm_population_refresh, 86400, 0, INT_MAX, PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("crm_grade");
	if (early_copy && !as_of_set)
		rejected_as_of = early_copy;
	CrmInstallTriggerHooks();
	CrmInstallUtilityHook();
}

/*
 * A timestamptz literal of a moment crm_grade grades (finite, 4712 BC to
 * 89999 AD: see CrmTimeInRange()), parsed without throwing.
 */
static bool
ParseAsOf(const char *str, TimestampTz *result)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;

	if (strlen(str) >= MAXDATELEN ||
		ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf) != 0 ||
		DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0)
		return false;
	if (dtype == DTK_EPOCH)
	{
		*result = SetEpochTimestamp();
		return true;
	}
	return dtype == DTK_DATE && tm2timestamp(&tt, fsec, &tz, result) == 0 &&
		CrmTimeInRange(*result);
}

/*
 * GUC check hooks report problems through GUC_check_errdetail, so a bad
 * SET fails cleanly instead of throwing from inside the GUC machinery.
 */
static bool
CheckAsOf(char **newval, void **extra, GucSource source)
{
	TimestampTz parsed;
	TimestampTz *copy;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		*extra = NULL;
		return true;
	}
	if (!ParseAsOf(*newval, &parsed))
	{
		GUC_check_errdetail("\"%s\" is not a finite timestamp with time zone from 4712 BC to 89999 AD.", *newval);
		GUC_check_errhint("Use a value such as '2026-01-31 12:00+08', or '' for the moment of the write.");
		return false;
	}
	copy = malloc(sizeof(TimestampTz));	/* GUC frees extra with free() */
	if (copy == NULL)
		return false;
	*copy = parsed;
	*extra = copy;
	return true;
}

static void
AssignAsOf(const char *newval, void *extra)
{
	rejected_as_of = NULL;
	as_of_set = (extra != NULL);
	as_of_value = extra ? *(TimestampTz *) extra : 0;
}

/* Accept any zone name pg_tzset knows, as SET TIME ZONE does. */
static bool
CheckTimezone(char **newval, void **extra, GucSource source)
{
	pg_tz	   *tz;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("crm_grade.timezone must not be empty.");
		GUC_check_errhint("Use a zone name such as 'UTC' or 'Asia/Shanghai'.");
		return false;
	}
	tz = pg_tzset(*newval);
	if (tz == NULL || !pg_tz_acceptable(tz))
	{
		GUC_check_errdetail("\"%s\" is not a time zone PostgreSQL knows.", *newval);
		GUC_check_errhint("SELECT name FROM pg_timezone_names lists them.");
		return false;
	}
	*extra = malloc(sizeof(pg_tz *));
	if (*extra == NULL)
		return false;
	*(pg_tz **) *extra = tz;
	return true;
}

static void
AssignTimezone(const char *newval, void *extra)
{
	crm_tz = extra ? *(pg_tz **) extra : NULL;
}

/* The zone of every calendar computation. */
pg_tz *
CrmTz(void)
{
	if (crm_tz == NULL)
		crm_tz = pg_tzset("UTC");
	return crm_tz;
}

const char *
CrmTimezoneName(void)
{
	return timezone_string ? timezone_string : "UTC";
}

/* Refuse to run on an as_of that was given but could not be honoured. */
static void
CheckRejectedAsOf(void)
{
	TimestampTz ignored;

	if (rejected_as_of == NULL)
		return;
	if (ParseAsOf(rejected_as_of, &ignored))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set parameter \"crm_grade.as_of\""),
				 errdetail("It was set to \"%s\" before crm_grade was loaded in this session, by a role that may not set it.",
						   rejected_as_of),
				 errhint("crm_grade.as_of changes stored grades: a superuser sets it, or grants SET ON PARAMETER crm_grade.as_of. Open a new session without setting it to grade at the moment of the write.")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for parameter \"crm_grade.as_of\": \"%s\"", rejected_as_of),
			 errdetail("It was set before crm_grade was loaded in this session and is not a finite timestamp with time zone."),
			 errhint("SET crm_grade.as_of again, to a value such as '2026-01-31 12:00+08' or '' for the moment of the write.")));
}

bool
CrmAsOfIsSet(void)
{
	CheckRejectedAsOf();
	return as_of_set;
}

/*
 * T, the moment of a computation that writes state: crm_grade.as_of, or
 * the current time.  Not the transaction's start: an order stamped at or
 * before its INSERT must count at once, even inside a long transaction.
 */
TimestampTz
CrmNow(void)
{
	CheckRejectedAsOf();
	return as_of_set ? as_of_value : GetCurrentTimestamp();
}

/*
 * SQL: crm_grade.as_of(): crm_grade.as_of, or the start of the current
 * statement, which is stable within a query and never earlier than the
 * moment any earlier statement's writes were graded at.
 */
Datum
crm_grade_as_of(PG_FUNCTION_ARGS)
{
	if (CrmAsOfIsSet())
		PG_RETURN_TIMESTAMPTZ(as_of_value);
	PG_RETURN_TIMESTAMPTZ(GetCurrentStatementStartTimestamp());
}

/* SQL: crm_grade._timezone() */
Datum
crm_grade_timezone(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(CrmTimezoneName()));
}
