-- Security of crm_grade 0.2 (README "Security"):
-- - who may execute what: SECURITY DEFINER functions pin search_path; no
--   C function that writes state, no trigger or event trigger function is
--   executable by PUBLIC; the functions views and verify() compute with
--   stay executable;
-- - installing crm_grade takes no DDL right away from any role;
-- - an application role writes orders without any privilege on crm_grade's
--   tables and cannot write them directly; a role with USAGE on the schema
--   cannot borrow crm_grade's trigger function;
-- - the non-superuser owner of an attached table cannot make crm_grade run
--   a cast of its own, nor become superuser through it;
-- - crm_grade.as_of is superuser-only, grantable with SET ON PARAMETER;
-- - identifiers are quoted; crm_grade's tables are registered for pg_dump;
--   application tables are never members of the extension.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;
SET LOCAL statement_timeout = '60s';
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.timezone = 'UTC';
SET LOCAL crm_grade.as_of = '2025-03-01 12:00:00+00';

SELECT plan(110);

-- ---------------------------------------------------------------- search_path

SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.prosecdef
			  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
		  NULL, 'every SECURITY DEFINER function in crm_grade pins search_path');

-- the check above sees a SECURITY DEFINER function without a pinned path
CREATE FUNCTION crm_grade.tap_canary() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1';
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.prosecdef
			  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
		  '{crm_grade.tap_canary()}', '... (it finds one when there is one)');
DROP FUNCTION crm_grade.tap_canary();

SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND l.lanname IN ('plpgsql', 'sql')
			  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
		  '{"crm_grade._sample_normal(integer,integer,bigint)","crm_grade._sample_uniform(integer,integer,bigint)"}',
		  'every SQL and PL/pgSQL function in crm_grade pins search_path, but the two inlined sample helpers');

-- those two are inlined by the planner, which a SET clause would prevent;
-- instead they name no operator or function outside pg_catalog and crm_grade
SELECT is((SELECT count(*) FROM pg_proc p
			WHERE p.oid IN ('crm_grade._sample_uniform(integer,integer,bigint)'::regprocedure,
							'crm_grade._sample_normal(integer,integer,bigint)'::regprocedure)
			  AND regexp_replace(p.prosrc, 'OPERATOR\(pg_catalog\.[^)]*\)|pg_catalog\.[a-z0-9_]+|crm_grade\._sample_uniform|::double precision|::bigint', '', 'g')
				  ~ '[-+*/&|]|[a-z_]+\('),
		  0::bigint, 'the inlined sample helpers qualify every operator and function');

-- a pinned path names no schema that ordinary roles may create objects in,
-- and never puts pg_temp first
SELECT is((SELECT array_agg(p.oid::regprocedure::text || ': ' || c ORDER BY p.oid::regprocedure::text, c)
			 FROM pg_proc p, unnest(p.proconfig) c
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND c LIKE 'search\_path=%'
			  AND (c ~ '(=|,)\s*("?\$user"?|public)\s*(,|$)' OR c ~ '=\s*pg_temp')),
		  NULL, 'pinned search_paths hold neither public nor $user, and pg_temp never first');

-- ---------------------------------------------------------------- who may execute what

-- no function keeps the default ACL (which lets PUBLIC execute it)
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) FROM pg_proc p
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.proacl IS NULL),
		  NULL, 'every function in crm_grade has an explicit ACL');

-- PUBLIC may execute exactly the functions that only compute (views and
-- verify() call them as the reader), _raise(), which only raises an
-- error (the PL/pgSQL functions a granted role calls re-raise through
-- it), _filter_admits(), which evaluates a filter it checks itself on a
-- row its caller gives (verify() reads each table as its owner, who must
-- execute it), _stalled_rows(), which shows a caller the open deals of a
-- table only if the caller may read that table (as its owner, or with the
-- caller's rights where row-level security restricts the caller), and the
-- trigger function, which PostgreSQL requires of whoever
-- creates a partition of an attached table and which works for
-- crm_grade's own triggers only; nothing that reads or writes state
SELECT is((SELECT array_agg(p.proname::text ORDER BY p.proname::text COLLATE "C")
			 FROM pg_proc p, aclexplode(p.proacl) a
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND a.grantee = 0 AND a.privilege_type = 'EXECUTE'),
		  ARRAY['_check_attacher', '_filter_admits', '_followups_as_of', '_key_cast_sql', '_key_family', '_key_max_bytes',
				'_month_index', '_owner_text', '_raise', '_sample_normal',
				'_sample_uniform', '_score', '_sql_condition', '_stalled_rows', '_time_in_range', '_time_in_range',
				'_time_in_range', '_timezone', '_verify_attributes',
				'_window_start', 'as_of', 'check_policy', 'source_trigger'],
		  'pg_proc ACLs: PUBLIC executes only the functions that compute');

-- the C functions that write state, and every other trigger and event
-- trigger function, are not executable by PUBLIC
SELECT ok(NOT has_function_privilege('public', p.oid, 'EXECUTE'),
		  p.oid::regprocedure::text || ' is not executable by PUBLIC')
  FROM pg_proc p
 WHERE p.oid IN ('crm_grade._on_sql_drop()'::regprocedure,
				 'crm_grade._on_ddl_end()'::regprocedure,
				 'crm_grade._on_ddl_start()'::regprocedure,
				 'crm_grade._invalidate()'::regprocedure,
				 'crm_grade._refresh_all(text)'::regprocedure,
				 'crm_grade._place_triggers(regclass,text)'::regprocedure,
				 'crm_grade._remove_triggers(regclass)'::regprocedure,
				 'crm_grade.regrade(integer)'::regprocedure,
				 'crm_grade.regrade_all()'::regprocedure,
				 'crm_grade.explain(anyelement)'::regprocedure,
				 'crm_grade.simulate(jsonb)'::regprocedure)
 ORDER BY p.oid::regprocedure::text;
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND l.lanname = 'c'
			  AND (p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
				   OR p.prosrc IN ('crm_grade_refresh_all', 'crm_grade_place_triggers', 'crm_grade_remove_triggers',
								   'crm_grade_regrade', 'crm_grade_regrade_all'))
			  AND p.oid <> 'crm_grade.source_trigger()'::regprocedure
			  AND has_function_privilege('public', p.oid, 'EXECUTE')),
		  NULL, 'no C trigger but source_trigger(), event trigger or state-writing function is executable by PUBLIC');
SELECT ok(has_function_privilege('public', 'crm_grade.as_of()', 'EXECUTE'), 'as_of() stays executable by PUBLIC');
SELECT ok(has_function_privilege('public', 'crm_grade.check_policy(jsonb,text)', 'EXECUTE'),
		  'check_policy() stays executable by PUBLIC');
SELECT is((SELECT array_agg(DISTINCT e.evtevent ORDER BY e.evtevent) FROM pg_event_trigger e
			WHERE e.evtfoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = 'crm_grade'::regnamespace)),
		  '{ddl_command_end,ddl_command_start,sql_drop}', 'crm_grade''s event triggers are in place');
SELECT is((SELECT array_agg(e.evtname || ' ' || e.evtfoid::regproc::text ORDER BY e.evtname) FROM pg_event_trigger e
			WHERE e.evtfoid IN (SELECT p.oid FROM pg_proc p WHERE p.pronamespace = 'crm_grade'::regnamespace)
			  AND (has_function_privilege('public', e.evtfoid, 'EXECUTE') OR e.evtenabled <> 'A')),
		  NULL, '... enabled, and none of their functions is executable by PUBLIC');

-- ---------------------------------------------------------------- roles

CREATE ROLE crm_grade_tap_writer NOLOGIN;	-- the application: writes orders
CREATE ROLE crm_grade_tap_owner NOLOGIN;	-- owns application tables
CREATE ROLE crm_grade_tap_dev NOLOGIN;		-- any other role
CREATE ROLE crm_grade_tap_bi NOLOGIN;		-- USAGE on schema crm_grade

-- run statements as a role (an error propagates, and the rollback of the
-- caller's subtransaction restores the role)
CREATE FUNCTION pg_temp.as_role(r name, q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format('SET LOCAL ROLE %I', r);
	EXECUTE q;
	RESET ROLE;
END $$;

-- ---------------------------------------------------------------- the application's writer role

CREATE SCHEMA sec;
CREATE TABLE sec.orders (
	id			integer PRIMARY KEY,
	customer	integer NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
);
CREATE INDEX ON sec.orders (customer);
INSERT INTO sec.orders VALUES (1, 101, 1000, '2025-01-10 10:00:00+00');
SELECT is(crm_grade.attach_orders('sec.orders', 'customer', 'amount', 'ordered_at'), 1::bigint, 'attach sec.orders');

GRANT USAGE ON SCHEMA sec TO crm_grade_tap_writer;
GRANT INSERT, UPDATE, DELETE ON sec.orders TO crm_grade_tap_writer;

SELECT ok(NOT has_table_privilege('crm_grade_tap_writer', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
		  'the writer has no privilege on ' || c.oid::regclass::text)
  FROM pg_class c
 WHERE c.relnamespace = 'crm_grade'::regnamespace AND c.relname IN ('customer_state', 'history', 'policy', 'source')
 ORDER BY c.relname;
SELECT ok(NOT has_schema_privilege('crm_grade_tap_writer', 'crm_grade', 'USAGE'), '... nor on schema crm_grade');

SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'INSERT INTO sec.orders VALUES (2, 101, 150000, ''2025-02-01 10:00+00''), (3, 102, 600000, ''2025-02-02 10:00+00'')')$$,
				'a role with only INSERT on the orders table inserts orders');
SELECT is(current_user, session_user, '... (back to the test''s own role)');
SELECT is((SELECT string_agg(customer || ':' || orders_total || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_state),
		  '101:2:B 102:1:A', '... and the customers'' state follows');

SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'UPDATE sec.orders SET amount = 7')$$,
				'the writer updates orders (without a WHERE, it has no SELECT)');
SELECT is((SELECT string_agg(customer || ':' || total_amount || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_state),
		  '101:14:C 102:7:C', '... and the state follows');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'DELETE FROM sec.orders')$$, 'the writer deletes orders');
SELECT is((SELECT count(*) FROM crm_grade.customer_state), 0::bigint, '... and the customers leave the state');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() is empty');

-- even with USAGE on the schema, crm_grade's tables are closed to it
GRANT USAGE ON SCHEMA crm_grade TO crm_grade_tap_writer;
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'INSERT INTO crm_grade.customer_state (customer) VALUES (''999'')')$$,
				 '42501', NULL, 'the writer cannot INSERT into crm_grade.customer_state');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'UPDATE crm_grade.customer_state SET grade = ''A''')$$,
				 '42501', NULL, 'the writer cannot UPDATE crm_grade.customer_state');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'DELETE FROM crm_grade.customer_state')$$,
				 '42501', NULL, 'the writer cannot DELETE from crm_grade.customer_state');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'INSERT INTO crm_grade.policy (name, definition) VALUES (''mine'', ''{}'')')$$,
				 '42501', NULL, 'the writer cannot INSERT into crm_grade.policy');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'UPDATE crm_grade.policy SET description = ''x''')$$,
				 '42501', NULL, 'the writer cannot UPDATE crm_grade.policy');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'INSERT INTO crm_grade.active_policy (name) VALUES (''four_class'')')$$,
				 '42501', NULL, 'the writer cannot change the active policy');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'INSERT INTO crm_grade.history (customer, changed_at, reason) VALUES (''1'', now(), ''x'')')$$,
				 '42501', NULL, 'the writer cannot write history');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'DELETE FROM crm_grade.source')$$,
				 '42501', NULL, 'the writer cannot detach tables by deleting from crm_grade.source');
SELECT is(current_user, session_user, 'the failed attempts left the test''s own role in place');
REVOKE USAGE ON SCHEMA crm_grade FROM crm_grade_tap_writer;

-- ---------------------------------------------------------------- crm_grade.as_of

SELECT is((SELECT context FROM pg_settings WHERE name = 'crm_grade.as_of'), 'superuser',
		  'crm_grade.as_of is a superuser setting');
SELECT is((SELECT context FROM pg_settings WHERE name = 'crm_grade.timezone'), 'superuser',
		  'crm_grade.timezone is a superuser setting');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'SELECT set_config(''crm_grade.as_of'', ''2031-01-01 00:00+00'', true)')$$,
				 '42501', NULL, 'the writer cannot set crm_grade.as_of');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'SELECT set_config(''crm_grade.timezone'', ''Asia/Tokyo'', true)')$$,
				 '42501', NULL, 'the writer cannot set crm_grade.timezone');
SELECT is(current_setting('crm_grade.as_of'), '2025-03-01 12:00:00+00', '... which kept its value');
GRANT SET ON PARAMETER crm_grade.as_of TO crm_grade_tap_writer;
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'SELECT set_config(''crm_grade.as_of'', ''2025-03-01 12:30:00+00'', true)')$$,
				'with GRANT SET ON PARAMETER crm_grade.as_of, it can');
SELECT is(current_setting('crm_grade.as_of'), '2025-03-01 12:30:00+00', '... and the value is taken');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_writer', 'SELECT set_config(''crm_grade.timezone'', ''Asia/Tokyo'', true)')$$,
				 '42501', NULL, '... but crm_grade.timezone still not');
REVOKE SET ON PARAMETER crm_grade.as_of FROM crm_grade_tap_writer;
SET LOCAL crm_grade.as_of = '2025-03-01 12:00:00+00';

-- ---------------------------------------------------------------- DDL of other roles

CREATE SCHEMA sec_dev AUTHORIZATION crm_grade_tap_dev;
SELECT ok((SELECT count(*) FROM crm_grade.source) > 0, 'a table is attached while other roles run DDL');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_dev',
	'CREATE TABLE sec_dev.t (a int, b text, c numeric);
	 ALTER TABLE sec_dev.t ADD COLUMN d date;
	 ALTER TABLE sec_dev.t ALTER COLUMN c TYPE text;
	 ALTER TABLE sec_dev.t RENAME COLUMN a TO a2;
	 ALTER TABLE sec_dev.t DROP COLUMN b')$$,
				'a role without any privilege on crm_grade creates and alters tables, and drops a column');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_dev',
	'CREATE TEMP TABLE crm_grade_tap_tmp (x int, y int);
	 ALTER TABLE crm_grade_tap_tmp DROP COLUMN y;
	 DROP TABLE crm_grade_tap_tmp')$$,
				'... creates a temp table, drops its column and the table');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_dev',
	'CREATE TABLE sec_dev.p (k int) PARTITION BY RANGE (k);
	 CREATE TABLE sec_dev.p1 PARTITION OF sec_dev.p FOR VALUES FROM (0) TO (10);
	 ALTER TABLE sec_dev.p DETACH PARTITION sec_dev.p1;
	 DROP TABLE sec_dev.p1, sec_dev.p')$$,
				'... creates, detaches and drops partitions');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_dev', 'DROP TABLE sec_dev.t')$$, '... drops its table');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_dev', 'DROP SCHEMA sec_dev CASCADE')$$, '... and its schema');

-- the non-superuser owner of an attached table
CREATE SCHEMA sec_own AUTHORIZATION crm_grade_tap_owner;
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'CREATE TABLE sec_own.orders (id int PRIMARY KEY, customer int NOT NULL, amount numeric NOT NULL,
								  ordered_at timestamptz NOT NULL, note text);
	 CREATE INDEX ON sec_own.orders (customer);
	 INSERT INTO sec_own.orders VALUES (1, 301, 100, ''2025-02-01 00:00+00'', ''x'')')$$,
				'the owner makes an order table');
SELECT is(crm_grade.attach_orders('sec_own.orders', 'customer', 'amount', 'ordered_at'), 1::bigint,
		  'the superuser attaches it');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'ALTER TABLE sec_own.orders DROP COLUMN note;
	 ALTER TABLE sec_own.orders ADD COLUMN channel text;
	 INSERT INTO sec_own.orders VALUES (2, 301, 200000, ''2025-02-02 00:00+00'', ''web'')')$$,
				'its owner drops a column crm_grade does not read, adds one, writes');
SELECT is((SELECT grade || ':' || total_amount FROM crm_grade.customer_state WHERE customer = '301'), 'B:200100',
		  '... and grading follows');
SELECT is((SELECT count(*) FROM pg_trigger WHERE tgrelid = 'sec_own.orders'::regclass AND tgname LIKE 'crm\_grade\_%'),
		  6::bigint, '... with crm_grade''s six triggers in place');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner', 'ALTER TABLE sec_own.orders DROP COLUMN amount')$$,
				 '2BP01', NULL, 'its owner cannot drop a column crm_grade reads');

-- the owner's cast trap: refused at the ALTER, and never run by crm_grade
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'CREATE TABLE sec_own.trap_log (who name);
	 GRANT INSERT ON sec_own.trap_log TO PUBLIC;
	 CREATE TYPE sec_own.evil AS (v numeric);
	 CREATE FUNCTION sec_own.evil_numeric(sec_own.evil) RETURNS numeric LANGUAGE plpgsql AS
		$f$BEGIN INSERT INTO sec_own.trap_log VALUES (current_user); ALTER ROLE crm_grade_tap_owner SUPERUSER; RETURN $1.v; END$f$;
	 CREATE CAST (sec_own.evil AS numeric) WITH FUNCTION sec_own.evil_numeric(sec_own.evil) AS IMPLICIT')$$,
				'the owner defines a type whose cast to numeric tries ALTER ROLE ... SUPERUSER');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner', 'SELECT ROW(1)::sec_own.evil::numeric')$$,
				 '42501', NULL, '... the trap is live: run by its owner, its ALTER ROLE is refused');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'ALTER TABLE sec_own.orders ALTER COLUMN amount TYPE sec_own.evil USING ROW(amount)::sec_own.evil')$$,
				 '42804', NULL, '... giving the amount that type is refused at the ALTER');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'ALTER TABLE sec_own.orders ADD COLUMN x sec_own.evil;
	 INSERT INTO sec_own.orders VALUES (3, 301, 1, ''2025-02-03 00:00+00'', NULL, ROW(1))')$$,
				'... a column crm_grade does not read may have it');
SELECT is(crm_grade.regrade_all(), 1::bigint, 'regrade_all() as the superuser');
SELECT is(crm_grade.use_policy('abc'), 0::bigint, 'use_policy() as the superuser');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() as the superuser is empty');
SELECT is((SELECT count(*) FROM sec_own.trap_log), 0::bigint, 'the cast never ran');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'crm_grade_tap_owner'), false, 'the owner is not superuser');

-- an enum label of the owner's, with a cast of the owner's to text that
-- would make whoever runs it a superuser: verify() as the superuser reads
-- the label through the enum's output function, never the cast
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'CREATE TYPE sec_own.outc AS ENUM (''ok'', ''lost'');
	 CREATE TABLE sec_own.contacts (customer int NOT NULL, at timestamptz NOT NULL, outcome sec_own.outc);
	 CREATE INDEX ON sec_own.contacts (customer);
	 INSERT INTO sec_own.contacts VALUES (301, ''2025-02-04 00:00+00'', ''ok'');
	 CREATE FUNCTION sec_own.outc_text(sec_own.outc) RETURNS text LANGUAGE plpgsql AS
		$f$BEGIN INSERT INTO sec_own.trap_log VALUES (current_user); ALTER ROLE crm_grade_tap_owner SUPERUSER; RETURN ''x''; END$f$;
	 CREATE CAST (sec_own.outc AS text) WITH FUNCTION sec_own.outc_text(sec_own.outc)')$$,
				'the owner makes a contact log with an enum outcome and a cast of it to text');
SELECT is(crm_grade.attach_contacts('sec_own.contacts', 'customer', 'at', outcome_column => 'outcome'), 1::bigint,
		  'the superuser attaches it');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() as the superuser is empty');
SELECT is((SELECT count(*) FROM sec_own.trap_log), 0::bigint, '... and never ran the cast');
SELECT is((SELECT rolsuper FROM pg_roles WHERE rolname = 'crm_grade_tap_owner'), false, '... the owner is not superuser');

-- partitions of an attached partitioned table, made by its owner (who
-- needs the right to execute the trigger function its row trigger calls)
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'CREATE TABLE sec_own.po (customer int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
							  region text NOT NULL) PARTITION BY LIST (region);
	 CREATE INDEX ON sec_own.po (customer);
	 CREATE TABLE sec_own.po_eu PARTITION OF sec_own.po FOR VALUES IN (''eu'')')$$,
				'the owner makes a partitioned order table');
SELECT is(crm_grade.attach_orders('sec_own.po', 'customer', 'amount', 'ordered_at'), 1::bigint,
		  'the superuser attaches it (customer 301, graded again with no rows in it)');
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner',
	'CREATE TABLE sec_own.po_us PARTITION OF sec_own.po FOR VALUES IN (''us'');
	 CREATE TABLE sec_own.po_cn (LIKE sec_own.po);
	 ALTER TABLE sec_own.po ATTACH PARTITION sec_own.po_cn FOR VALUES IN (''cn'');
	 CREATE TABLE sec_own.po_rest PARTITION OF sec_own.po DEFAULT;
	 INSERT INTO sec_own.po VALUES (302, 10, ''2025-02-01 00:00+00'', ''us''), (302, 5, ''2025-02-02 00:00+00'', ''cn''),
		(302, 1, ''2025-02-03 00:00+00'', ''br'');
	 INSERT INTO sec_own.po_us VALUES (302, 100, ''2025-02-04 00:00+00'', ''us'')')$$,
				'its owner creates, attaches and writes partitions');
SELECT is((SELECT total_amount FROM crm_grade.customer_state WHERE customer = '302'), 116::numeric,
		  '... and every row written through them is graded');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... verify() is empty');

-- its owner drops it: detached, and its customers leave
SET LOCAL client_min_messages = error;
SELECT lives_ok($$SELECT pg_temp.as_role('crm_grade_tap_owner', 'DROP TABLE sec_own.orders, sec_own.contacts, sec_own.po')$$,
				'the owner drops its attached tables');
SET LOCAL client_min_messages = warning;
SELECT is((SELECT count(*) FROM crm_grade.source WHERE tbl::text LIKE 'sec\_own.%'), 0::bigint, '... which is detached');
SELECT is((SELECT count(*) FROM crm_grade.customer_state WHERE customer IN ('301', '302')), 0::bigint, '... and their customers are gone');

-- ---------------------------------------------------------------- crm_grade's trigger function

GRANT USAGE ON SCHEMA crm_grade TO crm_grade_tap_bi;
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_bi',
	'CREATE TEMP TABLE crm_grade_tap_forge (customer int, amount numeric, ordered_at timestamptz);
	 CREATE TRIGGER forge AFTER INSERT ON crm_grade_tap_forge REFERENCING NEW TABLE AS n
		FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger(''orders'');
	 INSERT INTO crm_grade_tap_forge VALUES (101, -5000, ''2025-02-01 00:00+00'')')$$,
				 '55000', NULL, 'a role''s trigger calling source_trigger() on a table of its own is refused when it fires');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_bi', 'SELECT crm_grade._refresh_all(''forged'')')$$,
				 '42501', NULL, '... nor call _refresh_all()');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_bi', 'SELECT crm_grade.regrade_all()')$$,
				 '42501', NULL, '... nor regrade_all()');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_bi', 'SELECT crm_grade._place_triggers(''sec.orders'', ''orders'')')$$,
				 '42501', NULL, '... nor _place_triggers()');
SELECT throws_ok($$SELECT pg_temp.as_role('crm_grade_tap_bi', 'SELECT crm_grade.attach_orders(''sec.orders'', ''customer'', ''amount'', ''ordered_at'')')$$,
				 '42501', NULL, '... nor attach_orders()');
CREATE TABLE sec.unattached (customer int, amount numeric, ordered_at timestamptz);
CREATE TRIGGER by_mistake AFTER INSERT ON sec.unattached REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
SELECT throws_ok($$INSERT INTO sec.unattached VALUES (101, 1, '2025-02-01 00:00+00')$$,
				 '55000', NULL, 'a trigger on a table that is not attached is refused when it fires');
CREATE TRIGGER wrong_kind AFTER INSERT ON sec.orders REFERENCING NEW TABLE AS n
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('customers');
SELECT throws_ok($$INSERT INTO sec.orders VALUES (9, 101, 1, '2025-02-01 00:00+00')$$,
				 '55000', NULL, 'a trigger naming another kind than the attachment''s is refused');
DROP TRIGGER wrong_kind ON sec.orders;
CREATE TRIGGER no_tables AFTER INSERT ON sec.orders
	FOR EACH STATEMENT EXECUTE FUNCTION crm_grade.source_trigger('orders');
SELECT throws_ok($$INSERT INTO sec.orders VALUES (9, 101, 1, '2025-02-01 00:00+00')$$,
				 '39P01', NULL, 'a trigger without transition tables is refused');
DROP TRIGGER no_tables ON sec.orders;
SELECT is((SELECT count(*) FROM crm_grade.customer_state), 0::bigint, '... and none of them wrote state');

-- ---------------------------------------------------------------- identifiers are quoted

CREATE TABLE sec."Odd Orders; DROP TABLE sec.orders" (
	"Cust ""Id""" integer NOT NULL,
	"amount); DELETE FROM sec.orders; --" numeric NOT NULL,
	"At Time" timestamptz NOT NULL
);
CREATE INDEX ON sec."Odd Orders; DROP TABLE sec.orders" ("Cust ""Id""");
INSERT INTO sec."Odd Orders; DROP TABLE sec.orders" VALUES (201, 100, '2025-02-01 00:00+00');
SELECT lives_ok($$SELECT crm_grade.attach_orders('sec."Odd Orders; DROP TABLE sec.orders"', 'Cust "Id"',
												  'amount); DELETE FROM sec.orders; --', 'At Time')$$,
				'attach a table whose name and columns hold quotes, blanks and SQL');
INSERT INTO sec."Odd Orders; DROP TABLE sec.orders" VALUES (201, 200000, '2025-02-02 00:00+00'), (202, 5, '2025-02-03 00:00+00');
UPDATE sec."Odd Orders; DROP TABLE sec.orders" SET "amount); DELETE FROM sec.orders; --" = 6 WHERE "Cust ""Id""" = 202;
SELECT is((SELECT string_agg(customer || ':' || total_amount || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_state),
		  '201:200100:B 202:6:C', '... its rows are graded through triggers, back-fill and refresh');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, '... and verify() reads it too');
SELECT ok(to_regclass('sec.orders') IS NOT NULL, '... and nothing was spliced into SQL');

-- ---------------------------------------------------------------- pg_dump registration

SELECT ok((SELECT e.extconfig::regclass[]::text[] FROM pg_extension e WHERE e.extname = 'crm_grade')
		  @> ARRAY['crm_grade.customer_state', 'crm_grade.history', 'crm_grade.policy', 'crm_grade.source',
				   'crm_grade.active_policy', 'crm_grade.holiday'],
		  'crm_grade''s tables are registered with pg_extension_config_dump');
SELECT ok((SELECT e.extconfig::regclass[]::text[] FROM pg_extension e WHERE e.extname = 'crm_grade')
		  @> ARRAY['crm_grade.history_id_seq'], '... and so is the history sequence');

-- ---------------------------------------------------------------- membership

-- objects that depend on the extension as members
CREATE FUNCTION sec.members(cls regclass) RETURNS SETOF oid LANGUAGE sql AS $$
	SELECT d.objid FROM pg_depend d
	 WHERE d.refclassid = 'pg_extension'::regclass
	   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'crm_grade')
	   AND d.deptype = 'e' AND d.classid = cls
$$;

SELECT lives_ok($$SELECT crm_grade.create_sample_schema('crm_grade_tap_sample')$$, 'create_sample_schema');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text)
			 FROM pg_class c
			WHERE c.oid IN (SELECT sec.members('pg_class'))
			  AND c.relnamespace IN ('sec'::regnamespace, 'crm_grade_tap_sample'::regnamespace)),
		  NULL, 'attached application tables and the sample tables are not extension members');
SELECT is((SELECT count(*) FROM crm_grade.source), 6::bigint, '... though all six are attached (four sample tables and two of this test''s)');
SELECT is((SELECT array_agg(t.tgname || ' on ' || t.tgrelid::regclass::text ORDER BY t.tgname, t.tgrelid)
			 FROM pg_trigger t WHERE t.oid IN (SELECT sec.members('pg_trigger'))),
		  NULL, 'no trigger on an application table is an extension member');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY c.oid::regclass::text)
			 FROM pg_class c
			WHERE c.oid IN (SELECT sec.members('pg_class')) AND c.relnamespace <> 'crm_grade'::regnamespace),
		  NULL, 'every member relation lives in schema crm_grade');
SELECT ok('crm_grade.customer_state'::regclass::oid IN (SELECT sec.members('pg_class')),
		  'crm_grade.customer_state itself is a member (the check above sees members)');
SELECT is((SELECT count(*) FROM pg_namespace n WHERE n.oid IN (SELECT sec.members('pg_namespace'))
			 AND n.nspname = 'crm_grade_tap_sample'), 0::bigint, 'the sample schema is not a member');

SELECT * FROM finish();
ROLLBACK;
