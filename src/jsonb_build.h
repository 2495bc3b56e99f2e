/*-------------------------------------------------------------------------
 *
 * jsonb_build.h
 *		Building a jsonb value in C, key by key (explain(), data_issues).
 *
 *-------------------------------------------------------------------------
 */
#ifndef CRM_JSONB_BUILD_H
#define CRM_JSONB_BUILD_H

#include "crm_grade.h"

#include "utils/jsonb.h"
#include "utils/numeric.h"

extern void JbBeginObject(JsonbParseState **ps);
extern void JbEndObject(JsonbParseState **ps);
extern void JbBeginArray(JsonbParseState **ps);
extern void JbEndArray(JsonbParseState **ps);
extern void JbKey(JsonbParseState **ps, const char *key);
extern void JbString(JsonbParseState **ps, const char *value);	/* NULL: null */
extern void JbNumeric(JsonbParseState **ps, Numeric value);	/* NULL: null */
extern void JbInt(JsonbParseState **ps, int64 value);
extern void JbTimestamp(JsonbParseState **ps, TimestampTz t, bool isnull);
extern void JbJsonb(JsonbParseState **ps, JsonbValue *v);
extern Jsonb *JbFinish(JsonbValue *root);

#endif							/* CRM_JSONB_BUILD_H */
