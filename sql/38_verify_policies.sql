--
-- 38_verify_policies: verify() checks what 0.5 stores.  A stored score,
-- grade_rank, growth_months or monthly amount that is wrong is reported,
-- under each kind of policy, as exactly that field (each corruption made
-- inside a transaction that is rolled back).  And the case verify() found
-- in the C: a month whose refunds outweigh its orders makes the empty
-- month after it a growth month, so valid_until must come by then.
--
-- T = 2026-07-09 12:00 UTC, crm_grade.timezone = UTC.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-07-09 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t38;
CREATE TABLE t38.orders (id int PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON t38.orders (cust);
-- 3801: weekly orders Jan..June, rising (growth in every month)
-- 3802: three orders, one in May
-- 3803: an order in 2024 only (lapsed under rfm)
INSERT INTO t38.orders
SELECT i, 3801, 100 + 10 * i, '2026-01-01 10:00+00'::timestamptz + i * interval '7 days' FROM generate_series(0, 25) i;
INSERT INTO t38.orders VALUES (100, 3802, 5000, '2026-05-10 10:00+00'), (101, 3802, 700, '2026-03-02 10:00+00'),
	(102, 3802, 300, '2025-12-24 10:00+00'), (103, 3803, 900, '2024-02-02 10:00+00');
SELECT crm_grade.attach_orders('t38.orders', 'cust', 'amount', 'at');
SELECT customer, amount_months, month_amounts, growth_months FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- each kind: a wrong stored score, grade_rank, growth_months or monthly
-- amount is reported as that field (and nothing else)
CREATE FUNCTION t38.corrupt(what text) RETURNS TABLE (customer text, field text) LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('UPDATE crm_grade.customer_state SET %s WHERE customer = %L',
		CASE what
			WHEN 'score' THEN 'score = coalesce(score + 0.01, 1)'
			WHEN 'grade_rank' THEN 'grade_rank = grade_rank + 1'
			WHEN 'growth_months' THEN 'growth_months = growth_months + 1'
			WHEN 'month_amounts' THEN 'month_amounts[1] = month_amounts[1] + 1'
			WHEN 'amount_months' THEN 'amount_months[1] = amount_months[1] - 1'
		END, '3801');
	RETURN QUERY SELECT v.customer, v.field FROM crm_grade.verify() v ORDER BY 1, 2;
END $$;
DO $$
DECLARE
	pol text;
	f text;
	got text;
BEGIN
	FOREACH pol IN ARRAY ARRAY['abc', 'weighted_score', 'rfm'] LOOP
		PERFORM crm_grade.use_policy(pol);
		FOREACH f IN ARRAY ARRAY['score', 'grade_rank', 'growth_months', 'month_amounts', 'amount_months'] LOOP
			BEGIN
				SELECT string_agg(c.customer || ' ' || c.field, ', ') INTO got FROM t38.corrupt(f) c;
				RAISE NOTICE '%: corrupt % -> verify() reports %', pol, f, coalesce(got, 'nothing');
				RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0001';
			EXCEPTION WHEN raise_exception THEN
				NULL;
			END;
		END LOOP;
		RAISE NOTICE '%: untouched -> verify() reports % rows', pol, (SELECT count(*) FROM crm_grade.verify());
	END LOOP;
END $$;

-- a month whose refund outweighs its orders: 3804 buys 200 in May and
-- 150 in June, and in July only refunds 50.  growth_months is 0 at T (June
-- 150 <= May 200), still 0 from 1 August (July -50 <= June 150), and 1
-- from 1 September (August 0 > July -50): valid_until must come by then.
SELECT crm_grade.use_policy('abc') > 0 AS changed;
INSERT INTO t38.orders VALUES (200, 3804, 200, '2026-05-05 10:00+00'), (201, 3804, 150, '2026-06-05 10:00+00');
INSERT INTO t38.orders VALUES (202, 3804, -50, '2026-07-08 10:00+00');
SELECT customer, amount_months, month_amounts, growth_months,
	   valid_until <= '2026-08-01 00:00+00' AS valid_until_by_august
  FROM crm_grade.customer_state WHERE customer = '3804';
SET crm_grade.as_of = '2026-08-01 00:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, growth_months, valid_until <= '2026-09-01 00:00+00' AS valid_until_by_september
  FROM crm_grade.customer_state WHERE customer = '3804';
SET crm_grade.as_of = '2026-09-01 00:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
SELECT customer, growth_months FROM crm_grade.customer_state WHERE customer = '3804';
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.use_policy('abc') >= 0 AS done;
SELECT crm_grade.detach('t38.orders');
DROP SCHEMA t38 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
SELECT * FROM crm_grade.verify();
