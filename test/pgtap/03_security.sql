-- Security: pinned search_path, an application role that writes orders
-- without any privilege on crm_grade's tables and cannot write them directly,
-- crm_grade's tables registered for pg_dump, application tables never
-- members of the extension.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS crm_grade;
SET LOCAL client_min_messages = warning;
SET LOCAL statement_timeout = '60s';
SET LOCAL TimeZone = 'UTC';
SET LOCAL crm_grade.timezone = 'UTC';
SET LOCAL crm_grade.as_of = '2025-03-01 12:00:00+00';

SELECT plan(38);

-- ---------------------------------------------------------------- search_path

SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text)
			 FROM pg_proc p
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.prosecdef
			  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
		  NULL, 'every SECURITY DEFINER function in crm_grade pins search_path');

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
SELECT is((SELECT array_agg(p.oid::regprocedure::text || ': ' || c ORDER BY 1)
			 FROM pg_proc p, unnest(p.proconfig) c
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND c LIKE 'search\_path=%'
			  AND (c ~ '(=|,)\s*("?\$user"?|public)\s*(,|$)' OR c ~ '=\s*pg_temp')),
		  NULL, 'pinned search_paths hold neither public nor $user, and pg_temp never first');

SELECT is((SELECT count(*) FROM pg_proc p
			WHERE p.pronamespace = 'crm_grade'::regnamespace AND p.prosecdef
			  AND has_function_privilege('public', p.oid, 'EXECUTE')
			  AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search\_path=%')),
		  0::bigint, 'no SECURITY DEFINER function callable by PUBLIC lacks a pinned search_path');

-- ---------------------------------------------------------------- the application's writer role

CREATE SCHEMA sec;
CREATE TABLE sec.orders (
	id			integer PRIMARY KEY,
	customer	integer NOT NULL,
	amount		numeric NOT NULL,
	ordered_at	timestamptz NOT NULL
);
INSERT INTO sec.orders VALUES (1, 101, 1000, '2025-01-10 10:00:00+00');
SELECT is(crm_grade.attach_orders('sec.orders', 'customer', 'amount', 'ordered_at'), 1::bigint, 'attach sec.orders');

CREATE ROLE crm_grade_tap_writer NOLOGIN;
GRANT USAGE ON SCHEMA sec TO crm_grade_tap_writer;
GRANT INSERT, UPDATE, DELETE ON sec.orders TO crm_grade_tap_writer;

-- run a statement as the writer (an error propagates, and the rollback of
-- the caller's subtransaction restores the role)
CREATE FUNCTION sec.as_writer(q text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL ROLE crm_grade_tap_writer;
	EXECUTE q;
	RESET ROLE;
END $$;

SELECT ok(NOT has_table_privilege('crm_grade_tap_writer', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE'),
		  'the writer has no privilege on ' || c.oid::regclass::text)
  FROM pg_class c
 WHERE c.relnamespace = 'crm_grade'::regnamespace AND c.relname IN ('customer_state', 'history', 'policy')
 ORDER BY c.relname;

SELECT lives_ok($$SELECT sec.as_writer('INSERT INTO sec.orders VALUES (2, 101, 150000, ''2025-02-01 10:00+00''), (3, 102, 600000, ''2025-02-02 10:00+00'')')$$,
				'a role with only INSERT on the orders table inserts orders');
SELECT is(current_user, session_user, '... (back to the test''s own role)');
SELECT is((SELECT string_agg(customer || ':' || orders_total || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_state),
		  '101:2:B 102:1:A', '... and the customers'' state follows');

SELECT lives_ok($$SELECT sec.as_writer('UPDATE sec.orders SET amount = 7')$$,
				'the writer updates orders (without a WHERE, it has no SELECT)');
SELECT is((SELECT string_agg(customer || ':' || total_amount || ':' || grade, ' ' ORDER BY customer) FROM crm_grade.customer_state),
		  '101:14:C 102:7:C', '... and the state follows');
SELECT lives_ok($$SELECT sec.as_writer('DELETE FROM sec.orders')$$, 'the writer deletes orders');
SELECT is((SELECT count(*) FROM crm_grade.customer_state), 0::bigint, '... and the customers leave the state');
SELECT is((SELECT count(*) FROM crm_grade.verify()), 0::bigint, 'verify() is empty');

SELECT throws_ok($$SELECT sec.as_writer('INSERT INTO crm_grade.customer_state (customer) VALUES (''999'')')$$,
				 '42501', NULL, 'the writer cannot INSERT into crm_grade.customer_state');
SELECT throws_ok($$SELECT sec.as_writer('UPDATE crm_grade.customer_state SET grade = ''A''')$$,
				 '42501', NULL, 'the writer cannot UPDATE crm_grade.customer_state');
SELECT throws_ok($$SELECT sec.as_writer('DELETE FROM crm_grade.customer_state')$$,
				 '42501', NULL, 'the writer cannot DELETE from crm_grade.customer_state');
SELECT throws_ok($$SELECT sec.as_writer('INSERT INTO crm_grade.policy (name, definition) VALUES (''mine'', ''{}'')')$$,
				 '42501', NULL, 'the writer cannot INSERT into crm_grade.policy');
SELECT throws_ok($$SELECT sec.as_writer('UPDATE crm_grade.policy SET description = ''x''')$$,
				 '42501', NULL, 'the writer cannot UPDATE crm_grade.policy');
SELECT throws_ok($$SELECT sec.as_writer('INSERT INTO crm_grade.active_policy (name) VALUES (''four_class'')')$$,
				 '42501', NULL, 'the writer cannot change the active policy');
SELECT throws_ok($$SELECT sec.as_writer('INSERT INTO crm_grade.history (customer, changed_at, reason) VALUES (''1'', now(), ''x'')')$$,
				 '42501', NULL, 'the writer cannot write history');
SELECT is(current_user, session_user, 'the failed attempts left the test''s own role in place');

-- ---------------------------------------------------------------- identifiers are quoted

CREATE TABLE sec."Odd Orders; DROP TABLE sec.orders" (
	"Cust ""Id""" integer NOT NULL,
	"amount); DELETE FROM sec.orders; --" numeric NOT NULL,
	"At Time" timestamptz NOT NULL
);
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
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1)
			 FROM pg_class c
			WHERE c.oid IN (SELECT sec.members('pg_class'))
			  AND c.relnamespace IN ('sec'::regnamespace, 'crm_grade_tap_sample'::regnamespace)),
		  NULL, 'attached application tables and the sample tables are not extension members');
SELECT is((SELECT count(*) FROM crm_grade.source), 4::bigint, '... though all four are attached');
SELECT is((SELECT array_agg(t.tgname || ' on ' || t.tgrelid::regclass::text ORDER BY 1)
			 FROM pg_trigger t WHERE t.oid IN (SELECT sec.members('pg_trigger'))),
		  NULL, 'no trigger on an application table is an extension member');
SELECT is((SELECT array_agg(c.oid::regclass::text ORDER BY 1)
			 FROM pg_class c
			WHERE c.oid IN (SELECT sec.members('pg_class')) AND c.relnamespace <> 'crm_grade'::regnamespace),
		  NULL, 'every member relation lives in schema crm_grade');
SELECT ok('crm_grade.customer_state'::regclass::oid IN (SELECT sec.members('pg_class')),
		  'crm_grade.customer_state itself is a member (the check above sees members)');
SELECT is((SELECT count(*) FROM pg_namespace n WHERE n.oid IN (SELECT sec.members('pg_namespace'))
			 AND n.nspname = 'crm_grade_tap_sample'), 0::bigint, 'the sample schema is not a member');

SELECT * FROM finish();
ROLLBACK;
