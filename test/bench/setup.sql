-- Benchmark schema, three identical tables of each kind, created from the same DDL so that they
-- differ only by their triggers:
--   bench.orders,   bench.contacts          crm_grade attached (unless :attach is false)
--   bench.orders_plain, bench.contacts_plain        nothing
--   bench.orders_plpgsql, bench.contacts_plpgsql    the PL/pgSQL baseline (plpgsql_baseline.sql)
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
FROM unnest(ARRAY['bench.orders', 'bench.orders_plain', 'bench.orders_plpgsql',
                   -- make bench-floor's (floor.sh gives them their triggers)
                   'bench.orders_c_row_noop', 'bench.orders_c_stmt_noop', 'bench.orders_c_row_state',
                   'bench.orders_plpgsql_state']) AS t
\gexec

SELECT format($ddl$
    CREATE TABLE %1$s (
        id             bigserial PRIMARY KEY,
        customer_id    bigint NOT NULL,
        contacted_at   timestamptz NOT NULL,
        channel        text,
        outcome        text,
        next_action_at timestamptz
    );
    CREATE INDEX ON %1$s (customer_id)
$ddl$, t)
FROM unnest(ARRAY['bench.contacts', 'bench.contacts_plain', 'bench.contacts_plpgsql']) AS t
\gexec

\ir plpgsql_baseline.sql

\if :attach
CREATE EXTENSION IF NOT EXISTS crm_grade;
SELECT crm_grade.attach_orders('bench.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_contacts('bench.contacts', 'customer_id', 'contacted_at', 'channel', 'outcome', 'next_action_at');
\endif
