/*-------------------------------------------------------------------------
 *
 * store.h
 *		Reading, locking and writing crm_grade.customer_state and
 *		crm_grade.history.  Callers run as crm_grade's owner, inside SPI.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_STORE_H
#define CRM_STORE_H

#include "state.h"

#include "executor/spi.h"
#include "storage/itemptr.h"
#include "utils/portal.h"

/* A customer's state row as a writer found it after locking it. */
typedef struct LockedState
{
	CustomerState st;
	ItemPointerData tid;		/* the locked row version */
	bool		placeholder;	/* created just now: nothing counted yet */
	bool		created;		/* created just now with the state the caller
								 * computed: written already */
	bool		own_since;		/* written by this transaction at or after the
								 * command given to StoreLockOrCreate */
} LockedState;

/* New states, deletions and history of a batch, written together. */
typedef struct StoreBatch
{
	int			cap;
	int			nupdate;
	CustomerState *update;
	ItemPointerData *update_tid;	/* invalid: not known */
	int			ninsert;
	CustomerState *insert;
	int			ndelete;
	char	  **delete;
	int			nhist;
	char	  **hist[8];		/* customer, old/new grade, lifecycle, risk, reason */
} StoreBatch;

extern int	StoreCompareKeys(const void *a, const void *b);
/* Compute the state of keys[i], which has none; false if it cannot. */
typedef bool (*StoreNewState) (int i, CustomerState *st, void *arg);

extern void StoreLockOrCreate(char **keys, int n, LockedState *out, CommandId since,
							  StoreNewState new_state, void *arg);
extern Portal StoreOpenExpired(TimestampTz now, int64 max);
extern int	StoreLockExpired(Portal portal, int limit, LockedState *out);
extern Portal StoreOpenAll(bool in_key_order);
extern bool StoreNextState(Portal portal, SPITupleTable **tt, uint64 *pos, CustomerState *st,
						   ItemPointer tid);
extern void StoreCheckNoneUnseen(void);
extern void StoreCheckNoneChanged(void);
extern void StoreLockHolidays(void);
extern void StoreBatchInit(StoreBatch *b, int cap);
extern void StoreBatchUpdate(StoreBatch *b, CustomerState *st, ItemPointer tid);
extern void StoreBatchInsert(StoreBatch *b, CustomerState *st);
extern void StoreBatchDelete(StoreBatch *b, const char *key);
extern void StoreBatchHistory(StoreBatch *b, CustomerState *old, CustomerState *new,
							  const char *reason);
extern void StoreBatchFlush(StoreBatch *b, TimestampTz now);
extern void StoreLockForWriting(void);

#endif							/* CRM_STORE_H */
