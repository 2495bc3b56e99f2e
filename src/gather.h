/*-------------------------------------------------------------------------
 *
 * gather.h
 *		Reading every attached table's rows of some customers (or of all of
 *		them), each table as its owner, merged into one stream of customers
 *		in key byte order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_GATHER_H
#define CRM_GATHER_H

#include "evaluate.h"
#include "state.h"

typedef struct SourceMerge SourceMerge;

extern SourceMerge *GatherBegin(char **keys, int nkeys);
extern SourceMerge *GatherBeginKind(char **keys, int nkeys, SourceKindId kind);
extern bool GatherNext(SourceMerge *g, CustomerState *st, EvalContext *ctx);
extern void GatherEnd(SourceMerge *g);
extern char **GatherKeysOf(Oid relid, Source *src, int *nkeys);

#endif							/* CRM_GATHER_H */
