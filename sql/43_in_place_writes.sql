-- crm_grade writes state and history rows straight into its tables when
-- they are plain; what the executor's INSERT would honour must still be
-- honoured, or the SQL statement used instead.
SET crm_grade.as_of = '2025-01-10 12:00+00';
CREATE SCHEMA t43;
CREATE TABLE t43.orders (id serial PRIMARY KEY, customer_id int, amount numeric,
						 ordered_at timestamptz, paid_at timestamptz);
CREATE INDEX ON t43.orders (customer_id);
SELECT crm_grade.attach_orders('t43.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
INSERT INTO t43.orders (customer_id, amount, ordered_at)
	VALUES (1, 100, '2025-01-01'), (1, 50, '2025-01-02'), (2, 80, '2025-01-02');

-- A CREATE INDEX CONCURRENTLY that failed leaves an index not ready for
-- inserts, with no pages: the executor skips it, so must the direct writes
-- (history and state alike).
\set VERBOSITY terse
CREATE UNIQUE INDEX CONCURRENTLY history_reason_u ON crm_grade.history (reason);
CREATE UNIQUE INDEX CONCURRENTLY state_grade_u ON crm_grade.customer_state (grade);
\set VERBOSITY default
SELECT indexrelid::regclass, indisready, indisvalid FROM pg_index
 WHERE indexrelid IN ('crm_grade.history_reason_u'::regclass, 'crm_grade.state_grade_u'::regclass)
 ORDER BY 1;
INSERT INTO t43.orders (customer_id, amount, ordered_at) VALUES (4, 100, '2025-01-03');
UPDATE t43.orders SET amount = 70 WHERE customer_id = 1 AND amount = 50;
SELECT customer, orders_total, total_amount, grade FROM crm_grade.customer_state ORDER BY customer;
SELECT customer, new_grade, reason FROM crm_grade.history ORDER BY id;
DROP INDEX crm_grade.history_reason_u;
DROP INDEX crm_grade.state_grade_u;

-- A rule on the history table applies to the rows crm_grade writes, as it
-- applies to an INSERT.
CREATE TABLE t43.audit (customer text, reason text);
CREATE RULE history_audit AS ON INSERT TO crm_grade.history
	DO ALSO INSERT INTO t43.audit VALUES (NEW.customer, NEW.reason);
INSERT INTO t43.orders (customer_id, amount, ordered_at) VALUES (3, 100, '2025-01-04');
SELECT customer, reason FROM t43.audit;
DROP RULE history_audit ON crm_grade.history;
SELECT * FROM crm_grade.verify();

-- cleanup
SELECT crm_grade.detach('t43.orders');
DROP SCHEMA t43 CASCADE;
TRUNCATE crm_grade.history;

-- A column a DBA added, of a domain that refuses NULL and without a
-- default: the INSERT refuses the row, so must the direct write.
CREATE DOMAIN t43_nn AS text NOT NULL;
CREATE SCHEMA t43;
CREATE TABLE t43.orders (id serial PRIMARY KEY, customer_id int, amount numeric,
						 ordered_at timestamptz, paid_at timestamptz);
CREATE INDEX ON t43.orders (customer_id);
SELECT crm_grade.attach_orders('t43.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
ALTER TABLE crm_grade.history ADD COLUMN tag t43_nn;
INSERT INTO t43.orders (customer_id, amount, ordered_at) VALUES (5, 100, '2025-01-05');
SELECT count(*) AS null_tags FROM crm_grade.history WHERE tag IS NULL;
ALTER TABLE crm_grade.history DROP COLUMN tag;
SELECT crm_grade.detach('t43.orders');
DROP SCHEMA t43 CASCADE;
DROP DOMAIN t43_nn;
TRUNCATE crm_grade.history;

-- An index a DBA added with a predicate or an expression: the executor
-- maintains it, so the states are written by the SQL, and a customer read
-- through that index is found there.
CREATE SCHEMA t43;
CREATE TABLE t43.orders (id serial PRIMARY KEY, customer_id int, amount numeric,
						 ordered_at timestamptz, paid_at timestamptz);
CREATE INDEX ON t43.orders (customer_id);
SELECT crm_grade.attach_orders('t43.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
INSERT INTO t43.orders (customer_id, amount, ordered_at) VALUES (6, 10, '2025-01-05');
CREATE INDEX state_partial ON crm_grade.customer_state (customer) WHERE total_amount > 1000;
CREATE INDEX state_expr ON crm_grade.customer_state ((total_amount * 2));
INSERT INTO t43.orders (customer_id, amount, ordered_at) VALUES (6, 5000, '2025-01-06'), (7, 3000, '2025-01-06');
UPDATE t43.orders SET amount = 4000 WHERE customer_id = 7;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT customer FROM crm_grade.customer_state WHERE total_amount > 1000 ORDER BY customer;
SELECT customer FROM crm_grade.customer_state WHERE total_amount > 1000 ORDER BY customer;
EXPLAIN (COSTS OFF) SELECT customer FROM crm_grade.customer_state WHERE total_amount * 2 = 8000;
SELECT customer FROM crm_grade.customer_state WHERE total_amount * 2 = 8000;
RESET enable_seqscan;
RESET enable_bitmapscan;
DROP INDEX crm_grade.state_partial;
DROP INDEX crm_grade.state_expr;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t43.orders');
DROP SCHEMA t43 CASCADE;
TRUNCATE crm_grade.history;
