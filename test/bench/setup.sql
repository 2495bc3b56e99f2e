-- Benchmark schema: bench.orders (crm_grade attached unless :attach is false) and
-- bench.orders_plain, created from the same DDL so the two differ only by the triggers.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

SELECT format($ddl$
    CREATE TABLE %1$s (
        id          bigserial PRIMARY KEY,
        customer_id bigint NOT NULL,
        amount      numeric(12,2) NOT NULL,
        ordered_at  timestamptz NOT NULL,
        paid_at     timestamptz
    );
    CREATE INDEX ON %1$s (customer_id)
$ddl$, t)
FROM unnest(ARRAY['bench.orders', 'bench.orders_plain']) AS t
\gexec

\if :attach
CREATE EXTENSION IF NOT EXISTS crm_grade;
SELECT crm_grade.attach_orders('bench.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
\endif
