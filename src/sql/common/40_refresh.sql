--
-- Policy changes.  Re-evaluation itself is C (crm_grade._refresh_all,
-- regrade, regrade_all in 20_c_functions.sql).
--

CREATE OR REPLACE FUNCTION @extschema@.use_policy(name text) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	IF name IS NULL THEN
		RAISE EXCEPTION 'the policy name must not be NULL'
			USING ERRCODE = 'null_value_not_allowed',
				  HINT = 'SELECT name FROM crm_grade.policy lists the stored policies.';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM @extschema@.policy p WHERE p.name = use_policy.name) THEN
		RAISE EXCEPTION 'policy "%" does not exist', name
			USING ERRCODE = 'undefined_object',
				  HINT = 'SELECT name FROM crm_grade.policy lists the stored policies.';
	END IF;
	INSERT INTO @extschema@.active_policy (singleton, name) VALUES (true, use_policy.name)
	ON CONFLICT (singleton) DO UPDATE SET name = EXCLUDED.name;
	RETURN (@extschema@._refresh_all('policy')).changed;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the policy, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, format('use_policy(%L)', name), ctx);
END $$;
COMMENT ON FUNCTION @extschema@.use_policy(text) IS 'make a stored policy active and re-grade everyone; returns customers whose grade changed';

-- Changing the active policy's definition re-grades everyone at once.
CREATE OR REPLACE FUNCTION @extschema@._policy_changed() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	st text;
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	IF EXISTS (SELECT 1 FROM new_rows n
				WHERE n.name = coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc')) THEN
		PERFORM @extschema@._refresh_all('policy');
	END IF;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	-- one line of context naming the policy change, instead of the generated SQL's
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
							hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT;
	PERFORM @extschema@._raise(st, msg, det, hnt, 're-grading after a change to the active policy', ctx);
END $$;
DROP TRIGGER IF EXISTS policy_regrade ON @extschema@.policy;
CREATE TRIGGER policy_regrade AFTER UPDATE ON @extschema@.policy
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_changed();
