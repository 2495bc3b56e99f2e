--
-- 08_drop: dropping an attached table detaches it (event trigger), and
-- DROP EXTENSION needs CASCADE once tables are attached and never drops
-- application rows.
--
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
SET crm_grade.timezone = 'UTC';
SELECT coalesce(max(id), 0) AS hist_start FROM crm_grade.history \gset

CREATE SCHEMA t08;
CREATE TABLE t08.web (customer_id int NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
CREATE TABLE t08.shop (LIKE t08.web);
CREATE INDEX ON t08.web (customer_id);
CREATE INDEX ON t08.shop (customer_id);
INSERT INTO t08.web VALUES (1, 100, '2026-01-10'), (2, 50, '2026-02-10');
INSERT INTO t08.shop VALUES (1, 600000, '2026-03-10');
SELECT crm_grade.attach_orders('t08.web', 'customer_id', 'amount', 'at');
SELECT crm_grade.attach_orders('t08.shop', 'customer_id', 'amount', 'at');
SELECT customer, grade, total_amount, orders_total FROM crm_grade.customer_grades ORDER BY customer;

-- dropping one attached table: its contribution leaves every customer
DROP TABLE t08.shop;
SELECT tbl FROM crm_grade.source ORDER BY 1;
SELECT customer, grade, total_amount, orders_total FROM crm_grade.customer_grades ORDER BY customer;
SELECT count(*) AS disagreements FROM crm_grade.verify();
SELECT customer, old_grade, new_grade FROM crm_grade.grade_history
 WHERE reason = 'detach' AND customer IN (1, 2) ORDER BY customer;

-- dropping a table that is not attached changes nothing
CREATE TABLE t08.unrelated (x int);
DROP TABLE t08.unrelated;
SELECT count(*) AS customers FROM crm_grade.customer_state;

-- dropping the last one leaves no customer behind
DROP TABLE t08.web;
SELECT count(*) AS sources FROM crm_grade.source;
SELECT count(*) AS customers FROM crm_grade.customer_state;

DROP SCHEMA t08;
DELETE FROM crm_grade.history WHERE id > :hist_start;
