/*-------------------------------------------------------------------------
 *
 * merge.h
 *		MERGE that would move rows between partitions of an attached table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_GRADE_MERGE_H
#define CRM_GRADE_MERGE_H

#include "executor/execdesc.h"

extern void CrmCheckMerge(QueryDesc *queryDesc);

#endif							/* CRM_GRADE_MERGE_H */
