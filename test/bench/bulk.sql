-- One bulk load: :rows orders over customers 1..:customers into :tbl, in one INSERT ... SELECT.
-- setseed makes every side (attached, plain, PL/pgSQL) receive exactly the same rows in a round.
\set ON_ERROR_STOP 1
SELECT setseed(:seed) \g /dev/null
INSERT INTO :tbl (customer_id, amount, ordered_at, paid_at)
SELECT customer_id, amount, ordered_at,
       CASE WHEN random() < 0.8 THEN least(ordered_at + random() * interval '60 days', now()) END
FROM (SELECT 1 + floor(random() * :customers)::bigint AS customer_id,
             round((1 + random() * 4999)::numeric, 2) AS amount,
             now() - random() * interval '730 days' AS ordered_at
      FROM generate_series(1, :rows)
      OFFSET 0) AS s;
