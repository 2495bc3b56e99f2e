/*-------------------------------------------------------------------------
 *
 * source.h
 *		Attached application tables ("sources") as data: the kinds of
 *		source, the role each of their columns plays, the attachments
 *		recorded in crm_grade.source, and reading a row of one.
 *
 * A kind is a row of a table, not a copy of code: the checks made at
 * attach time, on every trigger call and on every read all come from
 * SourceKinds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_SOURCE_H
#define CRM_SOURCE_H

#include "crm_grade.h"

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/relcache.h"

/* The kinds of value a column can hold, each with the types accepted. */
typedef enum RoleType
{
	RT_KEY,						/* smallint, integer, bigint, text, varchar, uuid */
	RT_AMOUNT,					/* smallint, integer, bigint, numeric, real, double */
	RT_TIME,					/* timestamptz, timestamp, date */
	RT_JSONB,					/* jsonb */
	RT_LABEL,					/* any built-in type or enum, read as text */
	RT_ORDER_ID,				/* smallint, integer, bigint, text, varchar, uuid */
	RT_BOOL						/* boolean */
} RoleType;

typedef struct RoleDef
{
	const char *name;			/* key in crm_grade.source.columns */
	RoleType	type;
	bool		required;
	const char *what;			/* for messages: "amount", "order time" */
} RoleDef;

#define MAX_ROLES 8

/*
 * The longest customer key crm_grade grades, in bytes of its text: the key
 * is an entry of customer_state's primary key and of history's
 * (customer, changed_at) index, and a B-tree entry holds at most 2704 bytes
 * (BTMaxItemSize of an 8 kB page), less the entry's header, the key's length
 * word and the timestamp.  A longer key is refused (54000) naming its
 * table and column, instead of failing the write at the index; verify()
 * and attach_*()'s checks use the same figure (src/sql/common).
 */
#define CRM_KEY_MAX_BYTES 2600

typedef enum SourceKindId
{
	SK_ORDERS,
	SK_CUSTOMERS,
	SK_CONTACTS,
	SK_OPPORTUNITIES,
	SK_NKINDS
} SourceKindId;

typedef struct KindDef
{
	const char *name;
	int			nroles;
	RoleDef		roles[MAX_ROLES];
} KindDef;

/* Role positions; the key is role 0 of every kind. */
#define ROLE_KEY		0
#define ORD_AMOUNT		1
#define ORD_TIME		2
#define ORD_PAID		3
#define ORD_ORDER_ID	4
#define CUS_OWNER		1
#define CUS_CREATED		2
#define CUS_ATTRS		3
#define CON_TIME		1
#define CON_CHANNEL		2
#define CON_OUTCOME		3
#define CON_NEXT_ACTION	4
#define OPP_STAGE		1
#define OPP_AMOUNT		2
#define OPP_CHANGED		3
#define OPP_OPEN		4

extern const KindDef SourceKinds[SK_NKINDS];

/* One attachment: a row of crm_grade.source. */
typedef struct Source
{
	Oid			relid;			/* the attached table (a partitioned root, say) */
	SourceKindId kind;
	char	   *relname;		/* as regclass prints it, for messages */
	char	   *columns[MAX_ROLES]; /* NULL: role not attached */
	Oid			key_type;
	char	   *filter;			/* which rows count (filter.h); NULL: all */
} Source;

/* Rows sharing an order id are lines of one order. */
#define SOURCE_HAS_LINES(src) \
	((src)->kind == SK_ORDERS && (src)->columns[ORD_ORDER_ID] != NULL)

/* Every attachment, loaded once and kept until crm_grade.source changes. */
typedef struct SourceSet
{
	int			n;
	Source	   *items;
} SourceSet;

/* The columns of one tuple descriptor that play a source's roles. */
typedef struct SourceLayout
{
	Source	   *src;
	const char *relname;		/* the relation read, for messages */
	int			att[MAX_ROLES]; /* 1-based; 0 = role not attached */
	Oid			type[MAX_ROLES];	/* base types */
	FmgrInfo	out[MAX_ROLES]; /* output functions of key and labels */
} SourceLayout;

/* A source row, reduced to what the metrics need. */
typedef struct SourceRow
{
	SourceKindId kind;			/* the kind of source it was read from */
	const char *event;			/* an inserted row: its history reason */
	bool		removed;		/* an order row taken out (UPDATE's old row, DELETE) */
	char	   *key;
	Numeric		amount;
	TimestampTz t;				/* order, creation or contact time */
	bool		has_t;
	bool		has_paid;
	TimestampTz paid;
	bool		date_days;		/* order or payment time is a date column */
	char	   *order_id;		/* the order a line belongs to, as text */
	char	   *owner;
	Jsonb	   *attributes;
	char	   *outcome;		/* a contact's outcome, as text */
	bool		has_next_action;
	TimestampTz next_action;	/* the next step a contact promised */
	bool		is_open;		/* an opportunity still open */
	/* a row a lenient read could not use */
	const char *problem;
	const char *problem_column;
	char	   *problem_value;
	int			problem_role;
	int			problem_sqlstate;
} SourceRow;

extern SourceKindId SourceKindByName(const char *name);
extern SourceSet *SourcesLoad(void);
extern void SourcesForget(void);
extern Source *SourceForRelid(Oid relid, bool with_ancestors);
extern Source *SourceForDetaching(Oid relid);
extern Source *SourceMaster(void);
extern void SourceLayoutForDesc(SourceLayout *layout, Source *src, TupleDesc desc,
								const char *relname, bool by_position, bool attaching);
extern bool SourceReadRow(SourceLayout *layout, TupleTableSlot *slot, SourceRow *row,
						  bool strict);
extern void SourceRaiseProblem(SourceLayout *layout, SourceRow *row);
extern int	SourceCompareRows(const SourceRow *a, const SourceRow *b, SourceKindId kind);
extern int	SourceCompareProblems(const SourceRow *a, const SourceRow *b);
extern Oid	SourceKeyFamily(Oid key_type);

#endif							/* CRM_SOURCE_H */
