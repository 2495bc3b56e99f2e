--
-- 56_backend_memory: what crm_grade keeps for a backend's life (the OIDs of
-- its schema and tables, their owner, the attachments) does not grow with
-- invalidations: each one that touches crm_grade's tables (statistics,
-- options, an index) forgets the cached OIDs, and the next write looks them
-- up again without allocating anew (0.12.1's first build allocated the
-- names again each time, about 165 bytes per write; found by review).
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE SCHEMA t56;
CREATE TABLE t56.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL,
						 at timestamptz NOT NULL DEFAULT '2026-06-01 00:00+00');
CREATE INDEX ON t56.orders (cust);
SELECT crm_grade.attach_orders('t56.orders', 'cust', 'amount', 'at');
-- warm up: every cache of the write path filled once
DO $$
BEGIN
	FOR i IN 1..50 LOOP
		ALTER TABLE crm_grade.population SET (autovacuum_enabled = true);
		INSERT INTO t56.orders (cust, amount) VALUES (i % 7, 10);
	END LOOP;
END $$;
SELECT sum(used_bytes) AS top_before FROM pg_backend_memory_contexts
 WHERE name = 'TopMemoryContext' \gset
DO $$
BEGIN
	FOR i IN 1..2000 LOOP
		ALTER TABLE crm_grade.population SET (autovacuum_enabled = true);
		INSERT INTO t56.orders (cust, amount) VALUES (i % 7, 10);
	END LOOP;
END $$;
SELECT sum(used_bytes) - :top_before < 20000 AS top_memory_flat
  FROM pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t56.orders');
DROP SCHEMA t56 CASCADE;
TRUNCATE crm_grade.history;
