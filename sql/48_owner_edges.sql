--
-- 48_owner_edges: what a table's owner who is not a superuser does to an
-- attached table, and values at the edges.
--  - Partitions of an attached partitioned table: PostgreSQL checks the
--    right to execute crm_grade.source_trigger() against whoever creates or
--    attaches one (it copies the row trigger), so every role has it; a
--    trigger of the owner's own that calls it is refused when it fires.
--  - Temporary tables cannot be attached (they go without an event trigger).
--  - A key with a collation other than the database's is read as its
--    bytes; a nondeterministic collation is refused.
--  - Orders dated BC fall in the same months in C and in verify().
--  - regrade(-1) is refused like regrade(0).
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE ROLE regress_t48_owner LOGIN;
CREATE SCHEMA t48 AUTHORIZATION regress_t48_owner;
SET ROLE regress_t48_owner;
CREATE TABLE t48.po (customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
					 region text NOT NULL) PARTITION BY LIST (region);
CREATE INDEX ON t48.po (customer_id);
CREATE TABLE t48.po_eu PARTITION OF t48.po FOR VALUES IN ('eu');
RESET ROLE;
SELECT crm_grade.attach_orders('t48.po', 'customer_id', 'amount', 'ordered_at');
SET ROLE regress_t48_owner;
CREATE TABLE t48.po_us PARTITION OF t48.po FOR VALUES IN ('us');
CREATE TABLE t48.po_cn (LIKE t48.po);
INSERT INTO t48.po_cn VALUES (3, 30, '2026-06-01 00:00+00', 'cn');
ALTER TABLE t48.po ATTACH PARTITION t48.po_cn FOR VALUES IN ('cn');
CREATE TABLE t48.po_rest PARTITION OF t48.po DEFAULT;
INSERT INTO t48.po VALUES (1, 10, '2026-06-01 00:00+00', 'eu'), (2, 20, '2026-06-02 00:00+00', 'us'),
	(4, 40, '2026-06-03 00:00+00', 'br');
INSERT INTO t48.po_us VALUES (2, 5, '2026-06-04 00:00+00', 'us');
RESET ROLE;
SELECT customer, total_amount, orders_total FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- the owner's own trigger calling crm_grade's function would count rows
-- twice: refused when it fires, and nothing is written (the owner needs
-- USAGE on crm_grade's schema to name the function at all)
GRANT USAGE ON SCHEMA crm_grade TO regress_t48_owner;
SET ROLE regress_t48_owner;
CREATE TRIGGER twice AFTER INSERT ON t48.po_us REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
INSERT INTO t48.po_us VALUES (2, 1000, '2026-06-05 00:00+00', 'us');
DROP TRIGGER twice ON t48.po_us;
RESET ROLE;
REVOKE USAGE ON SCHEMA crm_grade FROM regress_t48_owner;
SELECT customer, total_amount FROM crm_grade.customer_state WHERE customer = '2';
SELECT crm_grade.detach('t48.po');
-- a temporary table is refused
CREATE TEMP TABLE t48_temp (customer_id int NOT NULL, contacted_at timestamptz NOT NULL);
SELECT crm_grade.attach_contacts('t48_temp', 'customer_id', 'contacted_at');
-- keys with another collation: read as bytes; verify() compares them so too
CREATE TABLE t48.posix (customer_id text COLLATE "POSIX" NOT NULL, amount numeric NOT NULL,
						ordered_at timestamptz NOT NULL);
CREATE INDEX ON t48.posix (customer_id);
SELECT crm_grade.attach_orders('t48.posix', 'customer_id', 'amount', 'ordered_at');
INSERT INTO t48.posix VALUES ('b', 1, '2026-06-01 00:00+00'), ('B', 2, '2026-06-01 00:00+00');
SELECT customer, total_amount FROM crm_grade.customer_state WHERE customer IN ('b', 'B') ORDER BY customer;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t48.posix');
-- a nondeterministic collation makes 'Bob' and 'bob' one key for the
-- application: refused at attach, and at an ALTER of an attached key
CREATE COLLATION t48.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE t48.ci_orders (customer_id text COLLATE t48.ci NOT NULL, amount numeric NOT NULL,
							ordered_at timestamptz NOT NULL);
SELECT crm_grade.attach_orders('t48.ci_orders', 'customer_id', 'amount', 'ordered_at');
ALTER TABLE t48.ci_orders ALTER COLUMN customer_id TYPE text COLLATE "C";
SELECT crm_grade.attach_orders('t48.ci_orders', 'customer_id', 'amount', 'ordered_at');
ALTER TABLE t48.ci_orders ALTER COLUMN customer_id TYPE text COLLATE t48.ci;
SELECT crm_grade.detach('t48.ci_orders');
-- orders dated BC: the same months in C and in verify() (1 BC is year 0)
CREATE TABLE t48.old (customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE INDEX ON t48.old (customer_id);
SELECT crm_grade.attach_orders('t48.old', 'customer_id', 'amount', 'ordered_at');
INSERT INTO t48.old VALUES (1, 5, '0001-06-15 00:00:00+00 BC'), (1, 7, '0001-01-15 00:00:00+00'),
	(1, 10, '2026-06-01 00:00+00');
SELECT customer, amount_months FROM crm_grade.customer_state WHERE customer = '1';
SELECT crm_grade._month_index('0001-12-15 00:00:00+00 BC') + 1 = crm_grade._month_index('0001-01-15 00:00:00+00') AS months_run_on;
SELECT * FROM crm_grade.verify();
SELECT crm_grade.detach('t48.old');
-- regrade(-1) is not "no limit"
SELECT crm_grade.regrade(-1);
SELECT crm_grade.regrade(0);
DROP SCHEMA t48 CASCADE;
DROP ROLE regress_t48_owner;
