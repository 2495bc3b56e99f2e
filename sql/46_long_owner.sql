--
-- 46_long_owner: an owner is indexed (followups_due() reads one owner's
-- customers through (owner, next_follow_up_at)), and a B-tree entry holds
-- about 2,700 bytes; so crm_grade keeps at most the owner's first 1,000
-- bytes, cut at a character boundary, and a longer owner never fails the
-- application's write to its master (it did before 0.8: "index row size
-- exceeds btree maximum", 54000).  verify() cuts it the same way.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE SCHEMA t46;
CREATE TABLE t46.customers (id int PRIMARY KEY, rep text, rep_c char(1200));
SELECT crm_grade.attach_customers('t46.customers', 'id', owner_column => 'rep');
-- 4,800 bytes that do not compress; 1,200 two-byte characters; a short one
INSERT INTO t46.customers (id, rep) VALUES
	(1, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 150) g)),
	(2, repeat('é', 1200)),
	(3, 'ann');
SELECT customer, octet_length(owner) AS bytes, length(owner) AS chars,
	   left(owner, 12) AS starts
  FROM crm_grade.customer_state ORDER BY customer;
-- what is kept is the start of the owner, whole characters only
SELECT count(*) AS kept_prefixes FROM crm_grade.customer_state s JOIN t46.customers m ON m.id::text = s.customer
 WHERE starts_with(m.rep, s.owner);
-- an UPDATE past the first 1,000 bytes changes nothing crm_grade keeps;
-- one within them moves the owner
UPDATE t46.customers SET rep = rep || 'x' WHERE id = 1;
UPDATE t46.customers SET rep = 'b' || rep WHERE id = 2;
SELECT customer, octet_length(owner) AS bytes, left(owner, 3) AS starts FROM crm_grade.customer_state ORDER BY customer;
SELECT * FROM crm_grade.verify();
-- the view shows the owner crm_grade keeps
SELECT customer, octet_length(owner) AS bytes FROM crm_grade.customer_grades ORDER BY customer;
-- a char(n) owner: its trailing blanks go before the cut, as a cast to text drops them
SELECT crm_grade.attach_customers('t46.customers', 'id', owner_column => 'rep_c');
UPDATE t46.customers SET rep_c = repeat('z', 1100) WHERE id = 3;
SELECT customer, octet_length(owner) AS bytes FROM crm_grade.customer_state WHERE customer = '3';
SELECT * FROM crm_grade.verify();
-- the SQL twin, as verify() and anyone may call it
SELECT octet_length(crm_grade._owner_text(repeat('ab', 600))) AS cut_ascii,
	   octet_length(crm_grade._owner_text(repeat('€', 400))) AS cut_three_byte,
	   crm_grade._owner_text('short') AS short, crm_grade._owner_text(NULL) IS NULL AS null_stays_null;
SELECT crm_grade.detach('t46.customers');
DROP SCHEMA t46 CASCADE;
