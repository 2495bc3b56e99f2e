--
-- 41_statement_memory_kept: what crm_grade reads of a statement's rows but
-- does not keep (rows the filter leaves out, an UPDATE's rows unchanged as
-- crm_grade reads them) stays within work_mem too; and an UPDATE whose
-- transition tables are not pair for pair (a row moved to a partition whose
-- BEFORE INSERT trigger drops it) refuses only new bad rows that are not old
-- ones unchanged, as before 0.7.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
\set verify 'SELECT count(*) AS disagreements FROM crm_grade.verify()'
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t41;
CREATE TABLE t41.orders (
	id			int PRIMARY KEY,
	cust		int NOT NULL,
	amount		numeric NOT NULL,
	at			timestamptz NOT NULL,
	status		text NOT NULL DEFAULT 'ok',
	note		text
);
CREATE INDEX ON t41.orders (cust);
SELECT crm_grade.attach_orders('t41.orders', 'cust', 'amount', 'at',
							   filter => 'status <> ''cancelled''');
INSERT INTO t41.orders (id, cust, amount, at)
SELECT g, g % 500, g % 97, '2026-06-01 00:00+00'::timestamptz - (g % 700) * interval '1 day'
  FROM generate_series(1, 30000) g;
-- crm_grade's memory of the statement, seen by an AFTER trigger that fires
-- after crm_grade's own (the work is applied when the statement finishes)
CREATE FUNCTION t41.work_kb() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE NOTICE 'statement work within work_mem: %',
		(SELECT coalesce(sum(total_bytes), 0) <= 2 * 64 * 1024
		   FROM pg_backend_memory_contexts WHERE name = 'crm_grade statement work');
	RETURN NULL;
END $$;
CREATE TRIGGER zz_work_kb AFTER INSERT OR UPDATE ON t41.orders
	FOR EACH STATEMENT EXECUTE FUNCTION t41.work_kb();
SET work_mem = '64kB';
-- nothing crm_grade reads changes
UPDATE t41.orders SET note = 'seen';
-- a few changes among many rows unchanged
UPDATE t41.orders SET note = 'again', amount = CASE WHEN id % 100 = 0 THEN amount + 1 ELSE amount END;
-- rows the filter leaves out (never read: nothing kept of them)
INSERT INTO t41.orders (id, cust, amount, at, status)
SELECT 100000 + g, g % 500, 1, '2026-06-01 00:00+00', 'cancelled' FROM generate_series(1, 30000) g;
RESET work_mem;
:verify;

-- a row moved to a partition whose BEFORE INSERT trigger drops it: the
-- UPDATE's old rows have one more than its new rows
CREATE TABLE t41.parted (id int, region int, cust int, amount numeric, at timestamptz, note text)
	PARTITION BY LIST (region);
CREATE TABLE t41.parted1 PARTITION OF t41.parted FOR VALUES IN (1);
CREATE TABLE t41.parted2 PARTITION OF t41.parted FOR VALUES IN (2);
CREATE INDEX ON t41.parted (cust);
SELECT crm_grade.attach_orders('t41.parted', 'cust', 'amount', 'at');
CREATE FUNCTION t41.drop_it() RETURNS trigger LANGUAGE plpgsql
	AS $$ BEGIN RETURN CASE WHEN NEW.note = 'drop' THEN NULL ELSE NEW END; END $$;
CREATE TRIGGER drop_it BEFORE INSERT ON t41.parted2 FOR EACH ROW EXECUTE FUNCTION t41.drop_it();
INSERT INTO t41.parted VALUES (1, 1, 4101, 10, '2026-01-01'), (3, 1, 4103, 30, '2026-01-01');
-- a bad row that got in while the triggers were disabled
ALTER TABLE t41.parted1 DISABLE TRIGGER ALL;
INSERT INTO t41.parted1 VALUES (2, 1, 4102, 'NaN', '2026-01-01');
ALTER TABLE t41.parted1 ENABLE TRIGGER ALL;
-- row 1 moves and is dropped; the bad row keeps its bad amount: accepted
UPDATE t41.parted SET region = CASE WHEN id = 1 THEN 2 ELSE region END,
					  note = CASE WHEN id = 1 THEN 'drop' ELSE 'kept' END;
SELECT id, region, note FROM t41.parted ORDER BY id;
-- a new bad value is still refused
UPDATE t41.parted SET amount = 'Infinity' WHERE id = 3;
:verify;

SELECT crm_grade.detach('t41.orders');
SELECT crm_grade.detach('t41.parted');
DROP SCHEMA t41 CASCADE;
DELETE FROM crm_grade.history WHERE id > :hist_start;
