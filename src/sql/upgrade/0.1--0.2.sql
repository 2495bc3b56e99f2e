-- crm_grade upgrade 0.1 -> 0.2, assembled by the Makefile: this migration of
-- 0.1's tables, then every definition of 0.2 (src/sql/common), then
-- src/sql/upgrade/0.1--0.2-post.sql.
\echo Use "ALTER EXTENSION crm_grade UPDATE TO '0.2'" to load this file. \quit

-- 0.1's triggers on the application's tables go first (they call functions
-- dropped below); the post part places 0.2's.
DO $$
DECLARE
	s record;
	t name;
BEGIN
	FOR s IN SELECT x.tbl FROM @extschema@.source x LOOP
		FOR t IN SELECT g.tgname FROM pg_catalog.pg_trigger g
				  WHERE g.tgrelid = s.tbl AND NOT g.tgisinternal
					AND g.tgname IN ('crm_grade_insert', 'crm_grade_update', 'crm_grade_delete', 'crm_grade_truncate') LOOP
			EXECUTE format('DROP TRIGGER %I ON %s', t, s.tbl);
		END LOOP;
	END LOOP;
END $$;

-- The typed views 0.1's attach_* made read customer_state.customer, whose
-- type changes below: the post part builds them again.  (A view of your own
-- depending on them makes the update fail with the name of that view:
-- drop it first and create it again afterwards.)
DROP VIEW IF EXISTS @extschema@.customer_grades, @extschema@.grade_history;

-- 0.1 objects that 0.2 replaces or no longer has.
DROP EVENT TRIGGER crm_grade_sql_drop;
DROP TRIGGER policy_invalidate ON @extschema@.policy;
DROP TRIGGER active_policy_invalidate ON @extschema@.active_policy;
DROP FUNCTION @extschema@._policy_invalidate();
DROP FUNCTION @extschema@._on_sql_drop();
DROP FUNCTION @extschema@.orders_trigger();
DROP FUNCTION @extschema@.customers_trigger();
DROP FUNCTION @extschema@._evaluate(record, timestamptz, text, jsonb);
DROP FUNCTION @extschema@._months_from_bits(bigint, integer);
DROP FUNCTION @extschema@.regrade_all();
DROP FUNCTION @extschema@.regrade(integer);
DROP FUNCTION @extschema@._refresh_all(text);
DROP FUNCTION @extschema@._refresh_some(text[], text);
DROP FUNCTION @extschema@._refresh_sql(boolean);
DROP FUNCTION @extschema@._source_rows_sql(text, boolean);
DROP FUNCTION @extschema@._time_expr(regclass, name);
DROP FUNCTION @extschema@._attach(@extschema@.source, text, text[]);
DROP FUNCTION @extschema@.attach_orders(regclass, name, name, name, name);
DROP FUNCTION @extschema@.attach_customers(regclass, name, name, name, name);
DROP FUNCTION @extschema@._check_source(regclass, regtype);
DROP FUNCTION @extschema@._check_rows(regclass, name[], text[]);
DROP FUNCTION @extschema@._check_column(regclass, name, text, text);
DROP FUNCTION @extschema@._column_type(regclass, name, text);
DROP FUNCTION @extschema@._create_triggers(regclass, text, text[]);
DROP FUNCTION @extschema@._drop_triggers(regclass);
DROP FUNCTION @extschema@.verify();

-- crm_grade.source: a kind and a role -> column map instead of one column
-- per role.  Rebuilt rather than altered, so that it is column for column
-- what a fresh install creates.
ALTER TABLE @extschema@.source RENAME TO source_0_1;
ALTER INDEX @extschema@.source_pkey RENAME TO source_0_1_pkey;
ALTER TABLE @extschema@.source_0_1 RENAME CONSTRAINT source_kind_check TO source_0_1_kind_check;
CREATE TABLE @extschema@.source (
	tbl			regclass PRIMARY KEY,
	kind		text NOT NULL CHECK (kind IN ('orders', 'customers')),
	key_type	regtype NOT NULL,
	columns		jsonb NOT NULL CHECK (jsonb_typeof(columns) = 'object' AND columns ? 'customer'),
	attached_at	timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE @extschema@.source IS 'attached application tables: the kind of source and, in columns, the column playing each role';
INSERT INTO @extschema@.source (tbl, kind, key_type, columns, attached_at)
SELECT o.tbl, o.kind, o.key_type,
	   pg_catalog.jsonb_strip_nulls(CASE o.kind
		   WHEN 'orders' THEN pg_catalog.jsonb_build_object('customer', o.customer_column, 'amount', o.amount_column,
															'ordered_at', o.time_column, 'paid_at', o.paid_at_column)
		   ELSE pg_catalog.jsonb_build_object('customer', o.customer_column, 'owner', o.owner_column,
											  'created_at', o.created_at_column, 'attributes', o.attributes_column)
	   END),
	   o.attached_at
  FROM @extschema@.source_0_1 o;
ALTER EXTENSION crm_grade DROP TABLE @extschema@.source_0_1;
DROP TABLE @extschema@.source_0_1;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.source'::regclass, '');

-- customer_state: keys in byte order (the order every writer locks in), the
-- next payment that will count, and the values crm_grade could not use.
ALTER TABLE @extschema@.customer_state ALTER COLUMN customer TYPE text COLLATE "C";
ALTER TABLE @extschema@.customer_state ADD COLUMN next_paid_at timestamptz, ADD COLUMN data_issues jsonb;
