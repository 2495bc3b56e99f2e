/*-------------------------------------------------------------------------
 *
 * errors.h
 *		One line of context for errors raised inside crm_grade's work.
 *
 * crm_grade runs generated SQL (scans of attached tables, writes of its
 * state) on behalf of a statement that only wrote a row or called
 * regrade().  An error there would otherwise carry that SQL as context,
 * which tells a user nothing.  Scopes name what crm_grade was doing: the
 * innermost adds one line, "crm_grade: <outer>, <inner>", and an entry
 * point that runs its work through CrmRunScoped() drops the context lines
 * raised below that line before the error leaves crm_grade.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_ERRORS_H
#define CRM_ERRORS_H

#include "crm_grade.h"

typedef struct CrmScope
{
	ErrorContextCallback callback;
	const char *what;			/* "regrade_all()", "reading", ... */
	const char *object;		/* what it acts on (a table), or NULL */
} CrmScope;

extern void CrmScopePush(CrmScope *scope, const char *what, const char *object);
extern void CrmScopePop(CrmScope *scope);
extern void CrmRunScoped(const char *what, const char *object,
						 void (*work) (CrmScope *scope, void *arg), void *arg);

#endif							/* CRM_ERRORS_H */
