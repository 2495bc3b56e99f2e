--
-- 52_foreign_partitions: a foreign table never becomes part of an attached
-- table.  crm_grade grades a row in the transaction that writes it; a
-- foreign table's rows are written where no trigger of crm_grade's sees
-- them, and it cannot take the statement triggers (their transition
-- tables).  0.11 let CREATE FOREIGN TABLE ... PARTITION OF an attached
-- table through: the remote rows went ungraded (verify() disagreed) and
-- every INSERT routed to the partition failed with PostgreSQL's 0A000;
-- ATTACH PARTITION of a foreign table read it (as its owner) before
-- PostgreSQL refused the triggers (found by review).  Every case is refused
-- now with 42809, before anything reads the foreign table: the wrapper
-- below has no handler, so any read of it would fail with another error.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE ROLE regress_t52_app;
CREATE SCHEMA t52 AUTHORIZATION regress_t52_app;
CREATE FOREIGN DATA WRAPPER regress_t52_fdw;
CREATE SERVER regress_t52_server FOREIGN DATA WRAPPER regress_t52_fdw;
GRANT USAGE ON FOREIGN SERVER regress_t52_server TO regress_t52_app;
SET ROLE regress_t52_app;
CREATE TABLE t52.orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL)
	PARTITION BY RANGE (ordered_at);
CREATE TABLE t52.orders_2026 PARTITION OF t52.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX ON t52.orders (customer_id);
INSERT INTO t52.orders VALUES (1, 1, 100, '2026-05-01');
CREATE TABLE t52.plain_orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t52.plain_orders (customer_id);
RESET ROLE;
SELECT crm_grade.attach_orders('t52.orders', 'customer_id', 'amount', 'ordered_at');
SELECT crm_grade.attach_orders('t52.plain_orders', 'customer_id', 'amount', 'ordered_at');
SET ROLE regress_t52_app;

-- a foreign partition created under an attached table
\set VERBOSITY default
CREATE FOREIGN TABLE t52.orders_2025 PARTITION OF t52.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
	SERVER regress_t52_server;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a foreign table attached as a partition
CREATE FOREIGN TABLE t52.remote_2024 (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL)
	SERVER regress_t52_server;
ALTER TABLE t52.orders ATTACH PARTITION t52.remote_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a partitioned table holding a foreign partition, attached as a partition
CREATE TABLE t52.older (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL)
	PARTITION BY RANGE (ordered_at);
CREATE TABLE t52.older_2022 PARTITION OF t52.older FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE FOREIGN TABLE t52.older_2023 PARTITION OF t52.older FOR VALUES FROM ('2023-01-01') TO ('2024-01-01')
	SERVER regress_t52_server;
ALTER TABLE t52.orders ATTACH PARTITION t52.older FOR VALUES FROM ('2022-01-01') TO ('2024-01-01');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
-- a foreign table inheriting from an attached table, created so or altered (0.11 and 0.12's
-- first build let ALTER FOREIGN TABLE ... INHERIT through: found by review)
CREATE FOREIGN TABLE t52.plain_child () INHERITS (t52.plain_orders) SERVER regress_t52_server;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ALTER FOREIGN TABLE t52.remote_2024 INHERIT t52.plain_orders;
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT c.relname FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent IN ('t52.orders'::regclass, 't52.plain_orders'::regclass) ORDER BY 1;
-- the application's writes go on
INSERT INTO t52.orders VALUES (2, 2, 40, '2026-05-02');
RESET ROLE;

-- attach_*() of a partitioned table holding a foreign partition
\set VERBOSITY default
SELECT crm_grade.attach_orders('t52.older', 'customer_id', 'amount', 'ordered_at');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
-- a foreign partition of a table crm_grade does not grade is none of its business
SET ROLE regress_t52_app;
CREATE FOREIGN TABLE t52.older_2021 PARTITION OF t52.older FOR VALUES FROM ('2021-01-01') TO ('2022-01-01')
	SERVER regress_t52_server;
RESET ROLE;
SELECT customer, orders_total, total_amount FROM crm_grade.customer_state WHERE customer IN ('1', '2') ORDER BY 1;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT crm_grade.detach('t52.orders'), crm_grade.detach('t52.plain_orders');
DROP SCHEMA t52 CASCADE;
DROP SERVER regress_t52_server;
DROP FOREIGN DATA WRAPPER regress_t52_fdw;
DROP ROLE regress_t52_app;
