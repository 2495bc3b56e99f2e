--
-- 32_opportunities: an opportunity table attached with attach_opportunities.
-- An open deal makes a customer without orders one with intent
-- (opportunity_opened), counted from the time its stage last changed (a
-- change dated later counts when T reaches it); closing it ends that; a
-- NULL open flag inside the filter is refused, outside it nothing is;
-- stalled_opportunities lists the open ones unchanged for more than 14
-- whole days; lifecycle_funnel counts the month's moves.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set stages 'SELECT customer, lifecycle, risk, next_follow_up_at FROM crm_grade.customer_grades WHERE customer BETWEEN 3201 AND 3299 ORDER BY customer'

CREATE SCHEMA t32;
CREATE TYPE t32.stage AS ENUM ('lead', 'qualified', 'proposal', 'won', 'lost');
CREATE TABLE t32.orders (id serial PRIMARY KEY, cust int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t32.orders (cust);
CREATE TABLE t32.deals (
	id			serial PRIMARY KEY,
	cust		int NOT NULL,
	stage		t32.stage NOT NULL,
	value		numeric(12,2),
	moved_at	timestamp NOT NULL,		-- local time
	open		boolean,
	archived	boolean NOT NULL DEFAULT false
);
CREATE INDEX ON t32.deals (cust);
INSERT INTO t32.orders (cust, amount, ordered_at) VALUES (3201, 100000, '2026-06-01 10:00+00');
INSERT INTO t32.deals (cust, stage, value, moved_at, open, archived) VALUES
	(3201, 'proposal', 50000, '2026-05-01 09:00', true, false),	-- a customer with orders: stays active
	(3202, 'qualified', 20000, '2026-06-10 09:00', true, false),	-- intent
	(3203, 'won', 5000, '2026-05-20 09:00', false, false),			-- closed: a prospect
	(3204, 'lead', NULL, '2026-05-31 12:00', true, false),			-- intent, stalled since 31 May 12:00
	(3205, 'lead', 100, '2026-06-20 09:00', true, false),			-- dated later
	(3206, 'lead', 100, '2026-05-01 09:00', NULL, true);			-- archived: outside the filter

-- Errors: a flag that is not boolean; a NULL flag inside the filter.
SELECT crm_grade.attach_opportunities('t32.deals', 'cust', 'stage', 'value', 'moved_at', 'stage');
SELECT crm_grade.attach_opportunities('t32.deals', 'cust', 'stage', 'value', 'moved_at', 'open');
SELECT crm_grade.attach_orders('t32.orders', 'cust', 'amount', 'ordered_at');
SELECT crm_grade.attach_opportunities('t32.deals', 'cust', 'stage', 'value', 'moved_at', 'open',
									  filter => 'NOT archived');
:stages;
SELECT * FROM crm_grade.stalled_opportunities WHERE customer BETWEEN 3201 AND 3299 ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- Writes: a deal opened for a prospect, one closed, a NULL flag refused.
INSERT INTO t32.deals (cust, stage, value, moved_at, open) VALUES (3203, 'lead', 900, '2026-06-15 08:00', true);
UPDATE t32.deals SET stage = 'lost', open = false, moved_at = '2026-06-15 09:00' WHERE cust = 3202;
INSERT INTO t32.deals (cust, stage, moved_at, open) VALUES (3207, 'lead', '2026-06-15 08:00', NULL);
UPDATE t32.deals SET open = NULL WHERE cust = 3206;		-- archived: nobody's business
:stages;
SELECT customer, old_lifecycle, new_lifecycle, reason FROM crm_grade.history
 WHERE id > :hist_start AND reason <> 'attach' ORDER BY id;
SELECT * FROM crm_grade.verify();

-- Time: 3204's deal has been unchanged for 14 whole days on 14 June 12:00
-- (listed since 15 days, 15 June 12:00); 3205's counts from 20 June.
SET crm_grade.as_of = '2026-06-14 12:00:00+00';
SELECT customer, days_in_stage FROM crm_grade.stalled_opportunities WHERE customer = 3204;
SET crm_grade.as_of = '2026-06-20 09:00:00+00';
SELECT crm_grade.regrade() > 0 AS regraded;
:stages;
SELECT customer, stage, days_in_stage FROM crm_grade.stalled_opportunities WHERE customer BETWEEN 3201 AND 3299 ORDER BY customer;
SELECT * FROM crm_grade.verify();

-- The funnel of this test's moves (June 2026).
SELECT month, prospects, intent, first_orders, conversions, dormant, churned, reactivations
  FROM crm_grade.lifecycle_funnel WHERE month = '2026-06-01';

-- cleanup
SELECT crm_grade.detach('t32.deals');
SELECT crm_grade.detach('t32.orders');
DROP SCHEMA t32 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
