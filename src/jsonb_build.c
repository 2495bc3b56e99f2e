/*-------------------------------------------------------------------------
 *
 * jsonb_build.c
 *		Building a jsonb value in C, key by key, over pushJsonbValue.
 *
 *-------------------------------------------------------------------------
 */
#include "jsonb_build.h"

#include "utils/builtins.h"
#include "utils/timestamp.h"

void
JbBeginObject(JsonbParseState **ps)
{
	pushJsonbValue(ps, WJB_BEGIN_OBJECT, NULL);
}

void
JbEndObject(JsonbParseState **ps)
{
	pushJsonbValue(ps, WJB_END_OBJECT, NULL);
}

void
JbBeginArray(JsonbParseState **ps)
{
	pushJsonbValue(ps, WJB_BEGIN_ARRAY, NULL);
}

void
JbEndArray(JsonbParseState **ps)
{
	pushJsonbValue(ps, WJB_END_ARRAY, NULL);
}

/* A scalar: the value of the pending key, or an element of an array. */
static void
PushScalar(JsonbParseState **ps, JsonbValue *v)
{
	pushJsonbValue(ps, (*ps)->contVal.type == jbvArray ? WJB_ELEM : WJB_VALUE, v);
}

void
JbKey(JsonbParseState **ps, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	pushJsonbValue(ps, WJB_KEY, &k);
}

void
JbString(JsonbParseState **ps, const char *value)
{
	JsonbValue	v;

	if (value == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvString;
		v.val.string.val = (char *) value;
		v.val.string.len = strlen(value);
	}
	PushScalar(ps, &v);
}

void
JbNumeric(JsonbParseState **ps, Numeric value)
{
	JsonbValue	v;

	if (value == NULL)
		v.type = jbvNull;
	else
	{
		v.type = jbvNumeric;
		v.val.numeric = value;
	}
	PushScalar(ps, &v);
}

void
JbInt(JsonbParseState **ps, int64 value)
{
	JbNumeric(ps, int64_to_numeric(value));
}

/* A moment as text in the session's TimeZone, as timestamptz prints it. */
void
JbTimestamp(JsonbParseState **ps, TimestampTz t, bool isnull)
{
	JbString(ps, isnull ? NULL :
			 DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t))));
}

/* Any value already in jsonb form (a part of a policy's definition). */
void
JbJsonb(JsonbParseState **ps, JsonbValue *v)
{
	if (v->type == jbvBinary)
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	x;
		JsonbIteratorToken tok;

		while ((tok = JsonbIteratorNext(&it, &x, false)) != WJB_DONE)
			pushJsonbValue(ps, tok, tok < WJB_BEGIN_ARRAY ? &x : NULL);
		return;
	}
	PushScalar(ps, v);
}

Jsonb *
JbFinish(JsonbValue *root)
{
	return JsonbValueToJsonb(root);
}
