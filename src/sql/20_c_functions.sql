--
-- C functions.
--

-- The moment "now" means for every computation: crm_grade.as_of, or now().
CREATE FUNCTION @extschema@.as_of() RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_as_of' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.as_of() IS 'the moment crm_grade treats as now: setting crm_grade.as_of, or now()';

-- The validated value of crm_grade.timezone.
CREATE FUNCTION @extschema@._timezone() RETURNS text
	AS 'MODULE_PATHNAME', 'crm_grade_timezone' LANGUAGE C STABLE PARALLEL SAFE;

-- Start (exclusive) of the 12-month window ending at the given moment,
-- with the month arithmetic done in crm_grade.timezone.
CREATE FUNCTION @extschema@._window_start(timestamptz) RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'crm_grade_window_start' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- year * 12 + month - 1 of a moment in crm_grade.timezone.
CREATE FUNCTION @extschema@._month_index(timestamptz) RETURNS integer
	AS 'MODULE_PATHNAME', 'crm_grade_month_index' LANGUAGE C STABLE STRICT PARALLEL SAFE;

-- The sorted month indexes base + i for each bit i set in bits.
CREATE FUNCTION @extschema@._months_from_bits(bits bigint, base integer) RETURNS integer[]
	AS 'MODULE_PATHNAME', 'crm_grade_months_from_bits' LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Evaluate one customer: takes a record whose columns are named like
-- customer_state's accumulator columns, returns the complete state row with
-- derived metrics, grade and valid_until.
CREATE FUNCTION @extschema@._evaluate(acc record, as_of timestamptz, policy_name text, policy jsonb)
	RETURNS @extschema@.customer_state
	AS 'MODULE_PATHNAME', 'crm_grade_evaluate' LANGUAGE C STABLE PARALLEL SAFE;

-- Validate a policy definition; raises an error naming the JSON path.
CREATE FUNCTION @extschema@.check_policy(definition jsonb, name text DEFAULT NULL) RETURNS void
	AS 'MODULE_PATHNAME', 'crm_grade_check_policy' LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.check_policy(jsonb, text) IS 'raises an error naming the bad field if the definition is not a valid policy';

-- Trigger functions placed on attached application tables.
CREATE FUNCTION @extschema@.orders_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_orders_trigger' LANGUAGE C;
CREATE FUNCTION @extschema@.customers_trigger() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_customers_trigger' LANGUAGE C;

-- BEFORE INSERT OR UPDATE OR DELETE on crm_grade.policy: validate, and keep
-- presets and the active policy in place.
CREATE FUNCTION @extschema@._policy_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	active text := coalesce((SELECT ap.name FROM @extschema@.active_policy ap), 'abc');
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.builtin THEN
		RAISE EXCEPTION 'policy "%" is a preset and cannot be changed or deleted', OLD.name
			USING ERRCODE = 'insufficient_privilege',
				  HINT = format('Copy it under a new name: INSERT INTO crm_grade.policy (name, definition) SELECT ''my_%s'', definition FROM crm_grade.policy WHERE name = %L;', OLD.name, OLD.name);
	END IF;
	IF TG_OP = 'DELETE' THEN
		IF OLD.name = active THEN
			RAISE EXCEPTION 'policy "%" is the active policy and cannot be deleted', OLD.name
				USING ERRCODE = 'object_in_use',
					  HINT = 'Make another policy active first with crm_grade.use_policy().';
		END IF;
		RETURN OLD;
	END IF;
	IF NEW.builtin THEN
		RAISE EXCEPTION 'only crm_grade itself ships preset policies'
			USING ERRCODE = 'insufficient_privilege', HINT = 'Leave the builtin column false.';
	END IF;
	IF TG_OP = 'UPDATE' AND NEW.name <> OLD.name AND OLD.name = active THEN
		RAISE EXCEPTION 'policy "%" is the active policy and cannot be renamed', OLD.name
			USING ERRCODE = 'object_in_use',
				  HINT = 'Make another policy active first with crm_grade.use_policy().';
	END IF;
	PERFORM @extschema@.check_policy(NEW.definition, NEW.name);
	RETURN NEW;
END $$;
CREATE TRIGGER policy_check BEFORE INSERT OR UPDATE OR DELETE ON @extschema@.policy
	FOR EACH ROW EXECUTE FUNCTION @extschema@._policy_trigger();

-- Changes to the policies tell every backend to reload the active policy.
CREATE FUNCTION @extschema@._policy_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'crm_grade_policy_invalidate' LANGUAGE C;
CREATE TRIGGER policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_invalidate();
CREATE TRIGGER active_policy_invalidate AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.active_policy
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._policy_invalidate();
