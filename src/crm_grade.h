/*-------------------------------------------------------------------------
 *
 * crm_grade.h
 *		Declarations shared by every part of crm_grade: the extension's own
 *		objects, whose rights code runs with, settings and the calendar.
 *
 * Each concern has a header of its own (state.h, source.h, filter.h,
 * metrics.h, policy.h, lifecycle.h, business_hours.h, evaluate.h, store.h,
 * refresh.h, work.h, errors.h); this one holds what all of them need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_GRADE_H
#define CRM_GRADE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "pgtime.h"
#include "utils/date.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM < 150000
#error "crm_grade requires PostgreSQL 15 or later"
#endif

#define CRM_SCHEMA "crm_grade"

/* ---------- the extension's objects (catalog.c) ---------- */

extern Oid	CrmSchemaOid(void);
extern Oid	CrmRelid(const char *relname);
extern char *CrmRelName(Oid relid);
extern Oid	CrmFunctionOid(const char *name, int nargs, const Oid *argtypes);
extern Oid	CrmExtensionOwner(void);
extern char CrmTriggerMode(Oid relid, const char *name, bool *clone);

/* ---------- whose rights code runs with (security.c) ---------- */

/* What an identity switch changed, to restore it. */
typedef struct CrmIdentity
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	bool		active;
} CrmIdentity;

extern void CrmBecomeOwner(CrmIdentity *saved);
extern void CrmBecomeTableOwner(CrmIdentity *saved, Oid relid);
extern Oid	crm_rows_checked;
extern void CrmRestoreIdentity(CrmIdentity *saved);
extern int	CrmPinTextFormats(void);
extern void CrmEnter(CrmIdentity *id);
extern void CrmLeave(CrmIdentity *id);

/* ---------- settings (settings.c) ---------- */

extern TimestampTz CrmNow(void);
extern bool CrmAsOfIsSet(void);
extern const char *CrmTimezoneName(void);
extern pg_tz *CrmTz(void);
extern int	crm_dormant_days;
extern int	crm_churned_days;
extern int	crm_intent_days;

/* ---------- calendar (calendar.c) ---------- */

extern void CrmToLocal(TimestampTz t, struct pg_tm *tm, fsec_t *fsec);
extern TimestampTz CrmWindowStart(TimestampTz t);
extern TimestampTz CrmWindowExit(TimestampTz t, TimestampTz now);
extern TimestampTz CrmWindowReentry(TimestampTz now);
extern int	CrmMonthIndex(TimestampTz t);
extern TimestampTz CrmNextMonthStart(TimestampTz t);
extern int64 CrmDaysBetween(TimestampTz from, TimestampTz to);
extern int64 CrmCalendarDaysBetween(TimestampTz from, TimestampTz to);
extern bool CrmTimeInRange(TimestampTz t);
extern bool CrmLocalToTimestampTzChecked(Timestamp local, TimestampTz *result);
extern bool CrmLocalDateToTimestampTz(DateADT d, TimestampTz *result);
extern TimestampTz CrmLocalToTimestampTz(Timestamp local);

/*
 * SPI calls return in SPI's procedure memory context, whatever context the
 * caller was in: these keep the caller's, so that what crm_grade allocates
 * after a call lives (and is reset) where it meant it to.
 */
#define CRM_SPI_KEEPING_CONTEXT(type, call) \
	do { \
		MemoryContext crm_spi_saved_ = CurrentMemoryContext; \
		type = (call); \
		MemoryContextSwitchTo(crm_spi_saved_); \
	} while (0)

static inline int
CrmSpiExecute(const char *src, bool read_only, long count)
{
	int			rc;

	CRM_SPI_KEEPING_CONTEXT(rc, SPI_execute(src, read_only, count));
	return rc;
}

static inline int
CrmSpiExecuteWithArgs(const char *src, int nargs, Oid *argtypes, Datum *values,
					  const char *nulls, bool read_only, long count)
{
	int			rc;

	CRM_SPI_KEEPING_CONTEXT(rc, SPI_execute_with_args(src, nargs, argtypes, values, nulls,
													  read_only, count));
	return rc;
}

static inline int
CrmSpiExecutePlan(SPIPlanPtr plan, Datum *values, const char *nulls, bool read_only, long count)
{
	int			rc;

	CRM_SPI_KEEPING_CONTEXT(rc, SPI_execute_plan(plan, values, nulls, read_only, count));
	return rc;
}

static inline int
CrmSpiExecuteSnapshot(SPIPlanPtr plan, Datum *values, const char *nulls, Snapshot snapshot,
					  bool read_only, long count)
{
	int			rc;

	CRM_SPI_KEEPING_CONTEXT(rc, SPI_execute_snapshot(plan, values, nulls, snapshot,
													 InvalidSnapshot, read_only, false, count));
	return rc;
}

static inline Portal
CrmSpiCursorOpen(SPIPlanPtr plan, Datum *values, const char *nulls)
{
	Portal		portal;

	CRM_SPI_KEEPING_CONTEXT(portal, SPI_cursor_open(NULL, plan, values, nulls, false));
	return portal;
}

static inline void
CrmSpiCursorFetch(Portal portal, long count)
{
	MemoryContext saved = CurrentMemoryContext;

	SPI_cursor_fetch(portal, true, count);
	MemoryContextSwitchTo(saved);
}

/* cursor_options: 0, or CURSOR_OPT_GENERIC_PLAN to plan once for any values */
static inline SPIPlanPtr
CrmSpiPrepareKeptWith(const char *src, int nargs, Oid *argtypes, int cursor_options)
{
	MemoryContext saved = CurrentMemoryContext;
	SPIPlanPtr	plan = SPI_prepare_cursor(src, nargs, argtypes, cursor_options);

	if (plan == NULL)
		elog(ERROR, "crm_grade: could not prepare \"%s\": %s", src,
			 SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	MemoryContextSwitchTo(saved);
	return plan;
}

static inline SPIPlanPtr
CrmSpiPrepareKept(const char *src, int nargs, Oid *argtypes)
{
	return CrmSpiPrepareKeptWith(src, nargs, argtypes, 0);
}

/* ---------- hooks (trigger.c) ---------- */

extern void CrmInstallTriggerHooks(void);

/* ---------- guard against reacting to crm_grade's own DDL (ddl.c) ---------- */

extern int	crm_own_ddl_depth;

#endif							/* CRM_GRADE_H */
