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

/* Customers a refresh wrote, and those whose grade changed. */
typedef struct RefreshCounts
{
	int64		evaluated;
	int64		changed;
} RefreshCounts;

/* A customer to re-read, and the event that asks for it. */
typedef struct KeyEvent
{
	char	   *key;
	const char *event;
} KeyEvent;

/*
 * What one statement did to attached tables: the order rows it inserted,
 * and the customers whose rows changed otherwise.  Collected over all of
 * crm_grade's triggers of the statement and applied at once (trigger.c).
 */
typedef struct StatementWork
{
	CommandId	since;			/* the command that wrote the rows */
	int			nrows,
				caprows;
	SourceRow  *rows;
	int			nkeys,
				capkeys;
	KeyEvent   *keys;
} StatementWork;

extern void WorkInit(StatementWork *work, CommandId since);
extern void WorkAddRows(StatementWork *work, SourceRow *rows, int n);
extern void WorkAddKeys(StatementWork *work, char **keys, int n, const char *event);
extern void WorkApply(StatementWork *work);
extern void RefreshKeys(char **keys, int n, const char *event);
extern RefreshCounts RefreshAll(const char *event);
extern char **SortDistinctKeys(char **keys, int n, int *nout);

#endif							/* CRM_REFRESH_H */
