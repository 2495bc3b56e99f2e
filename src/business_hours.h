/*-------------------------------------------------------------------------
 *
 * business_hours.h
 *		The business calendar: the moments a follow-up may be scheduled at
 *		(working days and hours in crm_grade.timezone, less the days in
 *		crm_grade.holiday).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_BUSINESS_HOURS_H
#define CRM_BUSINESS_HOURS_H

#include "crm_grade.h"

extern TimestampTz CrmNextAllowedMoment(TimestampTz due);

#endif							/* CRM_BUSINESS_HOURS_H */
