--
-- 24_recipe_credit_notes: README recipe "Credit notes in their own table".
-- Invoices are orders; credit notes, stored with positive amounts in a
-- table of their own, are attached as a second order table through a
-- generated column holding the negated amount: refunds, which lower the
-- revenue and are not orders.  Void invoices are left out by a filter.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset
\set grades 'SELECT customer, grade, amount_12m, orders_12m, total_amount, orders_total FROM crm_grade.customer_grades WHERE customer BETWEEN 2401 AND 2499 ORDER BY customer'

CREATE SCHEMA credits;
CREATE TABLE credits.invoices (
	id serial PRIMARY KEY,
	customer_id int NOT NULL,
	total numeric(12,2) NOT NULL,
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
	issued_at timestamptz NOT NULL,
	paid_at timestamptz
);
CREATE INDEX ON credits.invoices (customer_id);
CREATE TABLE credits.credit_notes (
	id serial PRIMARY KEY,
	invoice_id int NOT NULL REFERENCES credits.invoices,
	customer_id int NOT NULL,
	amount numeric(12,2) NOT NULL CHECK (amount > 0),
	issued_at timestamptz NOT NULL
);
CREATE INDEX ON credits.credit_notes (customer_id);
INSERT INTO credits.invoices (customer_id, total, status, issued_at, paid_at) VALUES
	(2401, 600000, 'paid', '2026-04-01 10:00+00', '2026-04-11 10:00+00'),
	(2402, 150000, 'open', '2026-05-01 10:00+00', NULL),
	(2402, 900000, 'void', '2026-05-02 10:00+00', NULL);

-- The recipe.
SELECT crm_grade.attach_orders('credits.invoices', 'customer_id', 'total', 'issued_at', 'paid_at',
							   filter => $$status <> 'void'$$);
ALTER TABLE credits.credit_notes
	ADD COLUMN refund numeric(12,2) GENERATED ALWAYS AS (-amount) STORED;
SELECT crm_grade.attach_orders('credits.credit_notes', 'customer_id', 'refund', 'issued_at');
:grades;

-- A credit note of 150,000 on the 600,000 invoice: an A becomes a B, with still one order.
INSERT INTO credits.credit_notes (invoice_id, customer_id, amount, issued_at)
SELECT id, 2401, 150000, '2026-05-15 10:00+00' FROM credits.invoices WHERE customer_id = 2401;
:grades;
SELECT customer, old_grade, new_grade, reason FROM crm_grade.history
 WHERE id > :hist_start ORDER BY id;
-- corrected to 50,000, then cancelled
UPDATE credits.credit_notes SET amount = 50000 WHERE customer_id = 2401;
:grades;
DELETE FROM credits.credit_notes WHERE customer_id = 2401;
-- voiding an invoice takes it out; a credit note larger than all invoices leaves a negative revenue
UPDATE credits.invoices SET status = 'void' WHERE customer_id = 2402 AND status = 'open';
INSERT INTO credits.credit_notes (invoice_id, customer_id, amount, issued_at)
SELECT id, 2402, 1000, '2026-06-01 10:00+00' FROM credits.invoices WHERE customer_id = 2402 AND total = 150000;
:grades;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('credits.credit_notes');
SELECT crm_grade.detach('credits.invoices');
DROP SCHEMA credits CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
SELECT count(*) AS customers_left FROM crm_grade.customer_state;
