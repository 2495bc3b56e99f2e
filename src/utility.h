/*-------------------------------------------------------------------------
 *
 * utility.h
 *		crm_grade's ProcessUtility hook: TRUNCATE of an attached table takes
 *		the locks of its re-grade before the table's.
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_UTILITY_H
#define CRM_UTILITY_H

extern void CrmInstallUtilityHook(void);

#endif							/* CRM_UTILITY_H */
