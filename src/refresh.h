/*-------------------------------------------------------------------------
 *
 * refresh.h
 *		Bringing customers' states up to date: incrementally for inserted
 *		rows, from every attached table for anything else, for some
 *		customers or for all of them.  Callers run inside SPI as
 *		crm_grade's owner.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_REFRESH_H
#define CRM_REFRESH_H

#include "source.h"
#include "store.h"
#include "work.h"

#include "storage/lockdefs.h"

/* Customers a refresh wrote, and those whose grade changed. */
typedef struct RefreshCounts
{
	int64		evaluated;
	int64		changed;
} RefreshCounts;

extern void WorkApply(StatementWork *work);
extern void RefreshKeys(char **keys, int n, const char *event);
extern RefreshCounts RefreshAll(const char *event);
extern void RefreshAllLock(void);
extern void RefreshAllLockBefore(List *relids, LOCKMODE mode);
extern void RefreshAllLockBeforeEach(List *relids, List *modes);
extern char **SortDistinctKeys(char **keys, int n, int *nout);

#endif							/* CRM_REFRESH_H */
