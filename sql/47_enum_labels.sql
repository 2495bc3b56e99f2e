--
-- 47_enum_labels: an owner, outcome or stage may be an enum, and an enum's
-- owner may create a cast from it to text (and back).  Nothing crm_grade
-- runs may call such a cast: verify() and stalled_opportunities read the
-- attached tables as whoever calls them (a superuser, often), so they read
-- an enum through its output function, and evaluate a filter as the
-- checked expression, never its text parsed again.  And ALTER TYPE ...
-- RENAME VALUE of such an enum grades every customer again, since what
-- crm_grade keeps of a label is its text.
--
SET crm_grade.as_of = '2026-06-15 12:00:00+00';
CREATE ROLE regress_t47_owner LOGIN;
CREATE SCHEMA t47 AUTHORIZATION regress_t47_owner;
SET ROLE regress_t47_owner;
CREATE TYPE t47.outc AS ENUM ('ok', 'nope', 'won');
CREATE TYPE t47.rep AS ENUM ('alice', 'bob');
CREATE TYPE t47.stage AS ENUM ('lead', 'proposal');
CREATE TABLE t47.customers (id int PRIMARY KEY, owner t47.rep);
CREATE TABLE t47.contacts (customer_id int NOT NULL, contacted_at timestamptz NOT NULL, outcome t47.outc);
CREATE TABLE t47.deals (customer_id int NOT NULL, stage t47.stage NOT NULL, amount numeric NOT NULL,
						changed_at timestamptz NOT NULL, open boolean NOT NULL);
INSERT INTO t47.customers VALUES (1, 'alice'), (2, 'bob');
INSERT INTO t47.contacts VALUES (1, '2026-06-14 10:00+00', 'nope'), (2, '2026-06-10 10:00+00', 'ok');
INSERT INTO t47.deals VALUES (2, 'lead', 100, '2026-05-01 00:00+00', true);
RESET ROLE;
SELECT crm_grade.attach_customers('t47.customers', 'id', 'owner');
SELECT crm_grade.attach_contacts('t47.contacts', 'customer_id', 'contacted_at', outcome_column => 'outcome');
SELECT crm_grade.attach_opportunities('t47.deals', 'customer_id', 'stage', 'amount', 'changed_at', 'open');
-- the enum's owner adds casts that would make whoever runs them a superuser
SET ROLE regress_t47_owner;
CREATE FUNCTION t47.escalate(t47.outc) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		EXECUTE 'ALTER ROLE regress_t47_owner SUPERUSER';
	END IF;
	RETURN 'x';
END $$;
CREATE FUNCTION t47.escalate(t47.rep) RETURNS text LANGUAGE sql AS $$ SELECT t47.escalate('ok'::t47.outc) $$;
CREATE FUNCTION t47.escalate(t47.stage) RETURNS text LANGUAGE sql AS $$ SELECT t47.escalate('ok'::t47.outc) $$;
CREATE CAST (t47.outc AS text) WITH FUNCTION t47.escalate(t47.outc) AS IMPLICIT;
CREATE CAST (t47.rep AS text) WITH FUNCTION t47.escalate(t47.rep) AS IMPLICIT;
CREATE CAST (t47.stage AS text) WITH FUNCTION t47.escalate(t47.stage) AS IMPLICIT;
RESET ROLE;
-- a superuser checks and reads: the casts never run
SELECT * FROM crm_grade.verify();
SELECT customer, stage FROM crm_grade.stalled_opportunities;
SELECT customer, owner, last_outcome FROM crm_grade.customer_state ORDER BY customer;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_t47_owner';
-- a filter comparing the enum while the owner's implicit cast to text is
-- there: analysed now, it would call the owner's function; refused
SELECT crm_grade.attach_contacts('t47.contacts', 'customer_id', 'contacted_at', outcome_column => 'outcome',
								 filter => 'outcome <> ''won''');
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_t47_owner';
SET ROLE regress_t47_owner;
DROP CAST (t47.outc AS text);
DROP CAST (t47.rep AS text);
DROP CAST (t47.stage AS text);
RESET ROLE;
SELECT crm_grade.attach_contacts('t47.contacts', 'customer_id', 'contacted_at', outcome_column => 'outcome',
								 filter => 'outcome <> ''won''');
SELECT * FROM crm_grade.verify();
-- renaming labels crm_grade keeps grades everyone again (reason
-- column_altered): the owner, and the outcome the stage follows ('lost'
-- churns a prospect)
SELECT max(id) AS last_history FROM crm_grade.history \gset
SET ROLE regress_t47_owner;
ALTER TYPE t47.rep RENAME VALUE 'alice' TO 'alicia';
ALTER TYPE t47.outc RENAME VALUE 'nope' TO 'lost';
RESET ROLE;
SELECT customer, owner, last_outcome, lifecycle FROM crm_grade.customer_state ORDER BY customer;
SELECT customer, reason FROM crm_grade.history WHERE id > :last_history ORDER BY id;
SELECT * FROM crm_grade.verify();
-- the filter names the label it compares with, renamed too
ALTER TYPE t47.outc RENAME VALUE 'won' TO 'signed';
SELECT filter FROM crm_grade.source WHERE tbl = 't47.contacts'::regclass;
-- a label no attached column holds: nothing is graded again
CREATE TYPE t47.unused AS ENUM ('a');
SELECT max(id) AS last_history FROM crm_grade.history \gset
ALTER TYPE t47.unused RENAME VALUE 'a' TO 'b';
SELECT count(*) AS history_rows FROM crm_grade.history WHERE id > :last_history;
-- _filter_admits() takes only a row of the table it is told
SELECT crm_grade._filter_admits('t47.contacts', 'true', d.*) FROM t47.deals d;
SELECT crm_grade.detach('t47.contacts');
SELECT crm_grade.detach('t47.deals');
SELECT crm_grade.detach('t47.customers');
DROP SCHEMA t47 CASCADE;
DROP ROLE regress_t47_owner;
