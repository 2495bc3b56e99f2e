/*-------------------------------------------------------------------------
 *
 * filter.h
 *		Row filters of attached tables: a boolean expression over the
 *		table's own columns saying which rows are crm_grade's facts.
 *
 * A filter is stored as the text PostgreSQL deparses from it, checked the
 * way a publication's row filter is: the table's columns, constants, and
 * PostgreSQL's own immutable functions and operators, so that no code a
 * table owner defines ever runs with crm_grade's rights.  The text is
 * analysed again against each relation it is evaluated on (a partition
 * may order its columns otherwise) and used as a WHERE clause by scans.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_FILTER_H
#define CRM_FILTER_H

#include "crm_grade.h"

#include "executor/tuptable.h"
#include "nodes/nodes.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

typedef struct FilterState FilterState;

extern FilterState *FilterCompile(Relation rel, const char *filter, const char *relname);
extern bool FilterRow(FilterState *fs, TupleTableSlot *slot);
extern List *FilterColumns(const char *filter);
extern Node *FilterAnalyse(Relation rel, const char *filter, const char *relname);
extern char *FilterDeparse(Relation rel, Node *expr);
extern char *FilterCanonical(Relation rel, const char *filter, const char *relname,
							 const char *renamed_from, const char *renamed_to, const char *hint);

#endif							/* CRM_FILTER_H */
