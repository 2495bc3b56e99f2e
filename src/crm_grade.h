/*-------------------------------------------------------------------------
 *
 * crm_grade.h
 *		Declarations shared by every part of crm_grade: the extension's own
 *		objects, whose rights code runs with, settings and the calendar.
 *
 * Each concern has a header of its own (state.h, source.h, metrics.h,
 * policy.h, evaluate.h, store.h, refresh.h); this one holds what all of
 * them need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_GRADE_H
#define CRM_GRADE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "pgtime.h"
#include "utils/timestamp.h"

#if PG_VERSION_NUM < 150000
#error "crm_grade requires PostgreSQL 15 or later"
#endif

#define CRM_SCHEMA "crm_grade"

/* ---------- the extension's objects (catalog.c) ---------- */

extern Oid	CrmSchemaOid(void);
extern Oid	CrmRelid(const char *relname);
extern Oid	CrmExtensionOwner(void);

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
extern void CrmRestoreIdentity(CrmIdentity *saved);
extern void CrmEnter(CrmIdentity *id);
extern void CrmLeave(CrmIdentity *id);

/* ---------- settings (settings.c) ---------- */

extern TimestampTz CrmNow(void);
extern bool CrmAsOfIsSet(void);
extern const char *CrmTimezoneName(void);
extern pg_tz *CrmTz(void);

/* ---------- calendar (calendar.c) ---------- */

extern TimestampTz CrmWindowStart(TimestampTz t);
extern TimestampTz CrmWindowExit(TimestampTz t, TimestampTz now);
extern TimestampTz CrmWindowReentry(TimestampTz now);
extern int	CrmMonthIndex(TimestampTz t);
extern TimestampTz CrmNextMonthStart(TimestampTz t);
extern int64 CrmDaysBetween(TimestampTz from, TimestampTz to);
extern TimestampTz CrmLocalToTimestampTz(Timestamp local);

/* ---------- guard against reacting to crm_grade's own DDL (ddl.c) ---------- */

extern int	crm_own_ddl_depth;

#endif							/* CRM_GRADE_H */
