/*-------------------------------------------------------------------------
 *
 * population.h
 *		Figures over every customer that some metrics are relative to: the
 *		revenue total of revenue_share_12m and the RFM quintile cut-offs.
 *		Computed set-based from the stored states, kept in
 *		crm_grade.population, and read by the triggers between refreshes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_POPULATION_H
#define CRM_POPULATION_H

#include "crm_grade.h"

#include "utils/numeric.h"
#include "utils/snapshot.h"

typedef enum RfmMeasure
{
	RFM_RECENCY,				/* last_order_at */
	RFM_FREQUENCY,				/* orders_12m */
	RFM_MONETARY,				/* amount_12m */
	RFM_NMEASURES
} RfmMeasure;

extern const char *const RfmMeasureNames[RFM_NMEASURES];

typedef struct Population
{
	bool		valid;			/* false: never computed */
	TimestampTz computed_at;
	int64		customers;		/* customers with an order in the window */
	Numeric		amount_total;	/* every customer's amount_12m added up */
	int			ncuts[RFM_NMEASURES];
	Datum		cuts[RFM_NMEASURES][4]; /* timestamptz, int8, numeric */
} Population;

extern Population *PopulationRead(Snapshot snapshot);
extern Population *PopulationCompute(void);
typedef struct PopulationBuilder PopulationBuilder;
extern PopulationBuilder *PopulationBegin(TimestampTz at);
extern void PopulationAdd(PopulationBuilder *b, Numeric amount_12m, bool in_window,
						  Datum last_order_at, Datum orders_12m);
extern Population *PopulationEnd(PopulationBuilder *b);
extern void PopulationStore(Population *pop);
extern bool PopulationDue(TimestampTz now);
extern int	PopulationTile(const Population *pop, RfmMeasure m, Datum value);
extern int	crm_population_refresh;

#endif							/* CRM_POPULATION_H */
