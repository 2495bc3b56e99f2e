/*-------------------------------------------------------------------------
 *
 * work.h
 *		What one statement did to attached tables, collected row by row and
 *		read back customer by customer in key byte order, in memory bounded
 *		by work_mem whatever the statement's size (work.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_WORK_H
#define CRM_WORK_H

#include "source.h"

#include "executor/tuptable.h"
#include "utils/tuplesort.h"

/* A customer to re-read, and the event that asks for it. */
typedef struct KeyEvent
{
	char	   *key;
	const char *event;
} KeyEvent;

/*
 * The order, contact and deal rows a statement inserted or changed (to
 * extend their customers' stored states with) and the customers it asks
 * to re-read.  In memory until they take more than work_mem, then all in
 * a sort spilled to disk.  Collected over all of crm_grade's triggers of
 * the statement (trigger.c) and applied at once (refresh.c).
 */
typedef struct StatementWork
{
	CommandId	since;			/* the command that wrote the rows */
	MemoryContext parent;		/* where the work was started */
	MemoryContext cxt;			/* the arrays and the rows read into it
								 * (WorkRowContext); NULL: nothing yet */
	int			nrows,
				caprows;
	SourceRow  *rows;
	int			nkeys,
				capkeys;
	KeyEvent   *keys;
	Tuplesortstate *spill;		/* once beyond work_mem: every item, by key */
	TupleTableSlot *slot;		/* to put items into the spill */
	MemoryContext spill_tmp;	/* an item's datums while it is put */
} StatementWork;

/* One customer of the work, as read back in key order. */
typedef struct WorkCustomer
{
	char	   *key;
	const char *event;			/* the history reason */
	bool		reread;			/* re-read from every table, not extended */
	SourceRow  *rows;			/* its rows (none when reread) */
	int			nrows;
} WorkCustomer;

/* Reading a work back, customer by customer. */
typedef struct WorkReader
{
	StatementWork *work;
	int			row,			/* in memory: the next row and key */
				key;
	MemoryContext cxt;			/* where the reader began: holds next's tuple */
	TupleTableSlot *next;		/* spilled: the next item, if have_next */
	bool		have_next;
	int			max_rows;		/* more rows than that: re-read instead */
} WorkReader;

extern void WorkInit(StatementWork *work, CommandId since);
extern MemoryContext WorkRowContext(StatementWork *work);
extern void WorkAddRow(StatementWork *work, const SourceRow *row);
extern void WorkAddKey(StatementWork *work, char *key, const char *event);
extern void WorkRowDone(StatementWork *work);
extern bool WorkIsEmpty(StatementWork *work);
extern void WorkReaderBegin(WorkReader *r, StatementWork *work);
extern bool WorkReaderNext(WorkReader *r, WorkCustomer *c);
extern void WorkReaderEnd(WorkReader *r);
extern void WorkEnd(StatementWork *work);

#endif							/* CRM_WORK_H */
