/*-------------------------------------------------------------------------
 *
 * months.c
 *		A customer's calendar months in its state: the sorted set of months
 *		with an order in the 12-month window (order_months), and the order
 *		amount of every month holding a row (amount_months, month_amounts,
 *		behind growth_months), with batches that merge many rows' months at
 *		once.
 *
 *-------------------------------------------------------------------------
 */
#include "metrics.h"
#include "months.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/numeric.h"

/* The elements of an int4[] state column (order_months, amount_months). */
static int32 *
IntArray(CustomerState *st, StateCol col, int *n)
{
	ArrayType  *arr = DatumGetArrayTypeP(st->values[col]);

	*n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	return *n > 0 ? (int32 *) ARR_DATA_PTR(arr) : NULL;
}

/* month_amounts' elements, parallel to amount_months'. */
static Datum *
MonthAmountDatums(CustomerState *st)
{
	Datum	   *amounts;
	int			na;

	deconstruct_array(DatumGetArrayTypeP(st->values[SC_MONTH_AMOUNTS]), NUMERICOID, -1, false,
					  TYPALIGN_INT, &amounts, NULL, &na);
	return amounts;
}

/* The position of month in amount_months, or -1. */
static int
MonthPosition(CustomerState *st, int month)
{
	int			n,
				i;
	int32	   *months = IntArray(st, SC_AMOUNT_MONTHS, &n);

	for (i = 0; i < n; i++)
		if (months[i] == month)
			return i;
	return -1;
}

/*
 * The order amount of each month from month down to month - n + 1 into
 * out[0..n-1]: 0 where no row is.
 */
void
MonthAmounts(CustomerState *st, int month, int n, Numeric *out)
{
	int			nm,
				i,
				k;
	int32	   *months = IntArray(st, SC_AMOUNT_MONTHS, &nm);
	Datum	   *amounts = MonthAmountDatums(st);

	for (k = 0; k < n; k++)
		out[k] = NULL;
	for (i = 0; i < nm; i++)
	{
		k = month - months[i];
		if (k >= 0 && k < n)
			out[k] = DatumGetNumeric(amounts[i]);
	}
	for (k = 0; k < n; k++)
		if (out[k] == NULL)
			out[k] = NumericFromInt64(0);
}

/*
 * Merge sorted months (repeats allowed) into the sorted set of active
 * months, rewriting it once.
 */
static void
MergeMonths(CustomerState *st, const int32 *add, int nadd)
{
	int			n;
	int32	   *old = IntArray(st, SC_ORDER_MONTHS, &n);
	Datum	   *months = palloc(sizeof(Datum) * (n + nadd));
	int			i = 0,
				j = 0,
				m = 0;

	while (i < n || j < nadd)
	{
		int32		next = (j >= nadd || (i < n && old[i] <= add[j])) ? old[i] : add[j];

		if (m == 0 || DatumGetInt32(months[m - 1]) != next)
			months[m++] = Int32GetDatum(next);
		if (i < n && old[i] == next)
			i++;
		else
			j++;
	}
	StateSet(st, SC_ORDER_MONTHS,
			 PointerGetDatum(construct_array(months, m, INT4OID, 4, true, TYPALIGN_INT)));
}

/*
 * Add sums to the months' amounts (months sorted, distinct), rewriting
 * amount_months and month_amounts once.
 */
static void
MergeMonthAmounts(CustomerState *st, const int32 *add, Numeric *sums, int nadd)
{
	int			n;
	int32	   *old = IntArray(st, SC_AMOUNT_MONTHS, &n);
	Datum	   *amounts = MonthAmountDatums(st);
	Datum	   *months = palloc(sizeof(Datum) * (n + nadd));
	Datum	   *out = palloc(sizeof(Datum) * (n + nadd));
	int			i = 0,
				j = 0,
				m = 0;

	while (i < n || j < nadd)
	{
		if (j >= nadd || (i < n && old[i] < add[j]))
		{
			months[m] = Int32GetDatum(old[i]);
			out[m++] = amounts[i++];
		}
		else if (i >= n || add[j] < old[i])
		{
			months[m] = Int32GetDatum(add[j]);
			out[m++] = NumericGetDatum(sums[j++]);
		}
		else
		{
			months[m] = Int32GetDatum(old[i]);
			out[m++] = NumericGetDatum(NumAdd(DatumGetNumeric(amounts[i++]), sums[j++]));
		}
	}
	StateSet(st, SC_AMOUNT_MONTHS,
			 PointerGetDatum(construct_array(months, m, INT4OID, 4, true, TYPALIGN_INT)));
	StateSet(st, SC_MONTH_AMOUNTS,
			 PointerGetDatum(construct_array(out, m, NUMERICOID, -1, false, TYPALIGN_INT)));
}

/* Add a calendar month to the sorted set of active months. */
void
MonthAddOrderMonth(CustomerState *st, int month)
{
	int32		m = month;

	MergeMonths(st, &m, 1);
}

/*
 * Add an order row's amount to its calendar month, in the parallel sorted
 * arrays amount_months (month indexes) and month_amounts.  Only months
 * holding a row are kept: a customer's whole history, one entry a month,
 * whatever the span of its dates.
 */
void
MonthAddAmount(CustomerState *st, int month, Numeric amount)
{
	int32		m = month;

	MergeMonthAmounts(st, &m, &amount, 1);
}

void
MonthBatchInit(MonthBatch *mb)
{
	memset(mb, 0, sizeof(MonthBatch));
}

/* A row's amount for its month. */
void
MonthBatchAddAmount(MonthBatch *mb, int month, Numeric amount)
{
	if (mb->n == mb->cap)
	{
		mb->cap = Max(16, mb->cap * 2);
		mb->months = mb->months ? repalloc(mb->months, sizeof(int32) * mb->cap) :
			palloc(sizeof(int32) * mb->cap);
		mb->amounts = mb->amounts ? repalloc(mb->amounts, sizeof(Numeric) * mb->cap) :
			palloc(sizeof(Numeric) * mb->cap);
	}
	mb->months[mb->n] = month;
	mb->amounts[mb->n++] = amount;
}

/* The month of an order in the window. */
void
MonthBatchAddOrderMonth(MonthBatch *mb, int month)
{
	if (mb->norder == mb->caporder)
	{
		mb->caporder = Max(16, mb->caporder * 2);
		mb->order_months = mb->order_months ?
			repalloc(mb->order_months, sizeof(int32) * mb->caporder) :
			palloc(sizeof(int32) * mb->caporder);
	}
	mb->order_months[mb->norder++] = month;
}

static int
CompareInt32(const void *a, const void *b)
{
	int32		x = *(const int32 *) a,
				y = *(const int32 *) b;

	return (x > y) - (x < y);
}

static int
CompareBatchMonths(const void *a, const void *b, void *arg)
{
	const MonthBatch *mb = arg;

	return CompareInt32(&mb->months[*(const int32 *) a], &mb->months[*(const int32 *) b]);
}

/*
 * Merge what a batch collected into the state's month arrays, once: each
 * row's rewrite of both arrays (MonthAddAmount) made a bulk load's rows
 * cost as much as their customers' whole histories.
 */
void
MonthBatchApply(CustomerState *st, MonthBatch *mb)
{
	int			i,
				j,
				k = 0;

	if (mb->norder > 0)
	{
		qsort(mb->order_months, mb->norder, sizeof(int32), CompareInt32);
		MergeMonths(st, mb->order_months, mb->norder);
	}
	if (mb->n > 0)
	{
		int32	   *order = palloc(sizeof(int32) * mb->n);
		int32	   *months = palloc(sizeof(int32) * mb->n);
		Numeric    *sums = palloc(sizeof(Numeric) * mb->n);

		/* positions sorted by month: the rows of each month summed */
		for (i = 0; i < mb->n; i++)
			order[i] = i;
		qsort_arg(order, mb->n, sizeof(int32), CompareBatchMonths, mb);
		for (i = 0; i < mb->n; i = j)
		{
			months[k] = mb->months[order[i]];
			sums[k] = mb->amounts[order[i]];
			for (j = i + 1; j < mb->n && mb->months[order[j]] == months[k]; j++)
				sums[k] = NumAdd(sums[k], mb->amounts[order[j]]);
			k++;
		}
		MergeMonthAmounts(st, months, sums, k);
	}
	mb->n = mb->norder = 0;
}

/*
 * The amount stored for a calendar month (false: no row of that month is
 * counted).
 */
bool
MonthAmountOf(CustomerState *st, int month, Numeric *amount)
{
	int			i = MonthPosition(st, month);

	if (i < 0)
		return false;
	*amount = DatumGetNumeric(MonthAmountDatums(st)[i]);
	return true;
}

/* Does the state count a row in this calendar month? */
bool
MonthHasRow(CustomerState *st, int month)
{
	return MonthPosition(st, month) >= 0;
}
