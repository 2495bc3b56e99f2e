-- The baseline: what a DBA writes instead of crm_grade.  make bench runs the same writes against
-- a table with crm_grade attached, an identical plain table, and an identical table with these
-- PL/pgSQL triggers, and reports crm_grade's extra time per row as a share of this trigger's.
--
-- Written as one would write it by hand, honest and simple, not tuned against crm_grade:
--   * one row-level AFTER INSERT/UPDATE/DELETE trigger on the order table keeps a per-customer
--     row in bench.plpgsql_state: totals, first and last order, the 12-month amount and count,
--     and a grade A/B/C from the 12-month amount;
--   * INSERT adds the order to its customer's row (INSERT ... ON CONFLICT DO UPDATE);
--   * UPDATE and DELETE re-aggregate the customer's orders through the index on customer_id: a
--     minimum, a maximum or a 12-month window cannot be "un-added";
--   * the 12-month window moves with time: bench.plpgsql_refresh(since) is the nightly job that
--     re-aggregates the customers whose orders left the window since its last run (what
--     crm_grade.regrade() does for crm_grade);
--   * TRUNCATE of the order table empties the state;
--   * the contact log gets the same treatment with its own state table (number of contacts,
--     last contact, contacts in the last 90 days, latest promised next action).
-- crm_grade computes much more per write (payment days, repurchase rate, monthly amounts,
-- lifecycle, risk, follow-up, a policy's grade, history): the comparison is against what a
-- DBA would settle for, which is the point.
--
-- bench.plpgsql_check() compares both state tables with a GROUP BY of their tables, as
-- crm_grade.verify() does for crm_grade; make bench requires it to find nothing.
--
-- Included by setup.sql after the tables bench.orders_plpgsql and bench.contacts_plpgsql exist.

-- One definition of the thresholds, for the stored grade and for the check.
CREATE FUNCTION bench.plpgsql_grade(amount_12m numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN amount_12m >= 10000 THEN 'A' WHEN amount_12m >= 2000 THEN 'B' ELSE 'C' END;

CREATE TABLE bench.plpgsql_state (
    customer       bigint PRIMARY KEY,
    total_amount   numeric NOT NULL,
    orders_total   bigint NOT NULL,
    first_order_at timestamptz NOT NULL,
    last_order_at  timestamptz NOT NULL,
    amount_12m     numeric NOT NULL,
    orders_12m     bigint NOT NULL,
    grade          text GENERATED ALWAYS AS (bench.plpgsql_grade(amount_12m)) STORED
);

CREATE TABLE bench.plpgsql_contact_state (
    customer        bigint PRIMARY KEY,
    contacts_total  bigint NOT NULL,
    last_contact_at timestamptz NOT NULL,
    contacts_90d    bigint NOT NULL,
    next_action_at  timestamptz
);

-- Recompute one customer's row from its orders (or delete it when none is left).
CREATE FUNCTION bench.plpgsql_order_reaggregate(c bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- Lock the customer's row first.  This waits for a concurrent transaction that has added an
    -- order to it, and the aggregate below (a statement with a new snapshot) then sees that
    -- order; without the lock it could overwrite that addition with a sum that lacks it.
    PERFORM 1 FROM bench.plpgsql_state WHERE customer = c FOR UPDATE;
    INSERT INTO bench.plpgsql_state AS s
           (customer, total_amount, orders_total, first_order_at, last_order_at, amount_12m, orders_12m)
    SELECT customer_id, sum(amount), count(*), min(ordered_at), max(ordered_at),
           coalesce(sum(amount) FILTER (WHERE ordered_at > now() - interval '12 months'), 0),
           count(*) FILTER (WHERE ordered_at > now() - interval '12 months')
      FROM bench.orders_plpgsql
     WHERE customer_id = c
     GROUP BY customer_id
    ON CONFLICT (customer) DO UPDATE
       SET total_amount = EXCLUDED.total_amount, orders_total = EXCLUDED.orders_total,
           first_order_at = EXCLUDED.first_order_at, last_order_at = EXCLUDED.last_order_at,
           amount_12m = EXCLUDED.amount_12m, orders_12m = EXCLUDED.orders_12m;
    IF NOT FOUND THEN
        DELETE FROM bench.plpgsql_state WHERE customer = c;
    END IF;
END $$;

CREATE FUNCTION bench.plpgsql_orders_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO bench.plpgsql_state AS s
               (customer, total_amount, orders_total, first_order_at, last_order_at, amount_12m, orders_12m)
        VALUES (NEW.customer_id, NEW.amount, 1, NEW.ordered_at, NEW.ordered_at,
                CASE WHEN NEW.ordered_at > now() - interval '12 months' THEN NEW.amount ELSE 0 END,
                CASE WHEN NEW.ordered_at > now() - interval '12 months' THEN 1 ELSE 0 END)
        ON CONFLICT (customer) DO UPDATE
           SET total_amount   = s.total_amount + EXCLUDED.total_amount,
               orders_total   = s.orders_total + 1,
               first_order_at = least(s.first_order_at, EXCLUDED.first_order_at),
               last_order_at  = greatest(s.last_order_at, EXCLUDED.last_order_at),
               amount_12m     = s.amount_12m + EXCLUDED.amount_12m,
               orders_12m     = s.orders_12m + EXCLUDED.orders_12m;
    ELSE
        PERFORM bench.plpgsql_order_reaggregate(OLD.customer_id);
        IF TG_OP = 'UPDATE' AND NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
            PERFORM bench.plpgsql_order_reaggregate(NEW.customer_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION bench.plpgsql_orders_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE bench.plpgsql_state;
    RETURN NULL;
END $$;

CREATE TRIGGER plpgsql_state
    AFTER INSERT OR UPDATE OF customer_id, amount, ordered_at OR DELETE ON bench.orders_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.plpgsql_orders_trigger();
CREATE TRIGGER plpgsql_state_truncate
    AFTER TRUNCATE ON bench.orders_plpgsql
    FOR EACH STATEMENT EXECUTE FUNCTION bench.plpgsql_orders_truncate();

-- The same for the contact log.
CREATE FUNCTION bench.plpgsql_contact_reaggregate(c bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM bench.plpgsql_contact_state WHERE customer = c FOR UPDATE;  -- as above
    INSERT INTO bench.plpgsql_contact_state AS s
           (customer, contacts_total, last_contact_at, contacts_90d, next_action_at)
    SELECT customer_id, count(*), max(contacted_at),
           count(*) FILTER (WHERE contacted_at > now() - interval '90 days'), max(next_action_at)
      FROM bench.contacts_plpgsql
     WHERE customer_id = c
     GROUP BY customer_id
    ON CONFLICT (customer) DO UPDATE
       SET contacts_total = EXCLUDED.contacts_total, last_contact_at = EXCLUDED.last_contact_at,
           contacts_90d = EXCLUDED.contacts_90d, next_action_at = EXCLUDED.next_action_at;
    IF NOT FOUND THEN
        DELETE FROM bench.plpgsql_contact_state WHERE customer = c;
    END IF;
END $$;

CREATE FUNCTION bench.plpgsql_contacts_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO bench.plpgsql_contact_state AS s
               (customer, contacts_total, last_contact_at, contacts_90d, next_action_at)
        VALUES (NEW.customer_id, 1, NEW.contacted_at,
                CASE WHEN NEW.contacted_at > now() - interval '90 days' THEN 1 ELSE 0 END,
                NEW.next_action_at)
        ON CONFLICT (customer) DO UPDATE
           SET contacts_total  = s.contacts_total + 1,
               last_contact_at = greatest(s.last_contact_at, EXCLUDED.last_contact_at),
               contacts_90d    = s.contacts_90d + EXCLUDED.contacts_90d,
               next_action_at  = greatest(s.next_action_at, EXCLUDED.next_action_at);
    ELSE
        PERFORM bench.plpgsql_contact_reaggregate(OLD.customer_id);
        IF TG_OP = 'UPDATE' AND NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
            PERFORM bench.plpgsql_contact_reaggregate(NEW.customer_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION bench.plpgsql_contacts_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE bench.plpgsql_contact_state;
    RETURN NULL;
END $$;

CREATE TRIGGER plpgsql_contact_state
    AFTER INSERT OR UPDATE OF customer_id, contacted_at, next_action_at OR DELETE ON bench.contacts_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.plpgsql_contacts_trigger();
CREATE TRIGGER plpgsql_contact_state_truncate
    AFTER TRUNCATE ON bench.contacts_plpgsql
    FOR EACH STATEMENT EXECUTE FUNCTION bench.plpgsql_contacts_truncate();

-- The nightly job: re-aggregate the customers with an order (a contact) that has left the
-- 12-month (90-day) window since `since`, the job's previous run.  Returns how many it did.
CREATE FUNCTION bench.plpgsql_refresh(since timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
    n bigint := 0;
BEGIN
    FOR c IN SELECT DISTINCT customer_id FROM bench.orders_plpgsql
              WHERE ordered_at > since - interval '12 months' AND ordered_at <= now() - interval '12 months'
    LOOP
        PERFORM bench.plpgsql_order_reaggregate(c);
        n := n + 1;
    END LOOP;
    FOR c IN SELECT DISTINCT customer_id FROM bench.contacts_plpgsql
              WHERE contacted_at > since - interval '90 days' AND contacted_at <= now() - interval '90 days'
    LOOP
        PERFORM bench.plpgsql_contact_reaggregate(c);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

-- Every field where a state row differs from a GROUP BY of its table (a missing or extra row
-- shows as all its fields), in the shape of crm_grade.verify().  `windowed` marks the fields
-- that time alone changes (the nightly job's business); the others must always agree.
CREATE FUNCTION bench.plpgsql_check()
RETURNS TABLE (state text, customer bigint, field text, windowed boolean, stored text, recomputed text)
LANGUAGE sql STABLE AS $$
    WITH want AS (
        SELECT customer_id AS customer, sum(amount) AS total_amount, count(*) AS orders_total,
               min(ordered_at) AS first_order_at, max(ordered_at) AS last_order_at,
               coalesce(sum(amount) FILTER (WHERE ordered_at > now() - interval '12 months'), 0) AS amount_12m,
               count(*) FILTER (WHERE ordered_at > now() - interval '12 months') AS orders_12m
          FROM bench.orders_plpgsql
         GROUP BY customer_id)
    SELECT 'plpgsql_state', coalesce(h.customer, w.customer), f.field, f.windowed, f.stored, f.recomputed
      FROM bench.plpgsql_state h
      FULL JOIN want w ON w.customer = h.customer
     CROSS JOIN LATERAL (VALUES
           ('total_amount', false, h.total_amount IS DISTINCT FROM w.total_amount, h.total_amount::text, w.total_amount::text),
           ('orders_total', false, h.orders_total IS DISTINCT FROM w.orders_total, h.orders_total::text, w.orders_total::text),
           ('first_order_at', false, h.first_order_at IS DISTINCT FROM w.first_order_at, h.first_order_at::text, w.first_order_at::text),
           ('last_order_at', false, h.last_order_at IS DISTINCT FROM w.last_order_at, h.last_order_at::text, w.last_order_at::text),
           ('amount_12m', true, h.amount_12m IS DISTINCT FROM w.amount_12m, h.amount_12m::text, w.amount_12m::text),
           ('orders_12m', true, h.orders_12m IS DISTINCT FROM w.orders_12m, h.orders_12m::text, w.orders_12m::text),
           ('grade', true, h.grade IS DISTINCT FROM bench.plpgsql_grade(w.amount_12m), h.grade, bench.plpgsql_grade(w.amount_12m))
           ) AS f(field, windowed, differs, stored, recomputed)
     WHERE f.differs
    UNION ALL
    SELECT 'plpgsql_contact_state', coalesce(h.customer, w.customer), f.field, f.windowed, f.stored, f.recomputed
      FROM bench.plpgsql_contact_state h
      FULL JOIN (SELECT customer_id AS customer, count(*) AS contacts_total, max(contacted_at) AS last_contact_at,
                        count(*) FILTER (WHERE contacted_at > now() - interval '90 days') AS contacts_90d,
                        max(next_action_at) AS next_action_at
                   FROM bench.contacts_plpgsql
                  GROUP BY customer_id) w ON w.customer = h.customer
     CROSS JOIN LATERAL (VALUES
           ('contacts_total', false, h.contacts_total IS DISTINCT FROM w.contacts_total, h.contacts_total::text, w.contacts_total::text),
           ('last_contact_at', false, h.last_contact_at IS DISTINCT FROM w.last_contact_at, h.last_contact_at::text, w.last_contact_at::text),
           ('contacts_90d', true, h.contacts_90d IS DISTINCT FROM w.contacts_90d, h.contacts_90d::text, w.contacts_90d::text),
           ('next_action_at', false, h.next_action_at IS DISTINCT FROM w.next_action_at, h.next_action_at::text, w.next_action_at::text)
           ) AS f(field, windowed, differs, stored, recomputed)
     WHERE f.differs
$$;
