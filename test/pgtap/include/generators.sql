-- Random generators shared by the generated workloads (01_workload,
-- 04_workload_paths), included with \ir inside their transaction: schema
-- gen is rolled back with the rest.  Not a test: pg_prove runs only
-- test/pgtap/*.sql.

CREATE SCHEMA gen;

CREATE FUNCTION gen.rnd_int(lo bigint, hi bigint) RETURNS bigint LANGUAGE sql VOLATILE AS
$$ SELECT lo + floor(random() * (hi - lo + 1))::bigint $$;

-- log-uniform amounts between 1 and 300000, 8% refunds
CREATE FUNCTION gen.rnd_amount() RETURNS numeric LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	IF random() < 0.08 THEN
		RETURN -round((random() * 20000)::numeric, 2);
	END IF;
	RETURN round(exp(random() * ln(300000))::numeric, 2);
END $$;

-- an order time around T: mostly inside the 12-month window, some older,
-- some in the future (near and more than a year ahead), some exactly on
-- T, on the window's start and on local month starts (each to the
-- microsecond either side)
CREATE FUNCTION gen.rnd_time() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	t timestamptz := crm_grade.as_of();
	tz text := current_setting('crm_grade.timezone');
	ws timestamptz := ((t AT TIME ZONE tz) - interval '12 months') AT TIME ZONE tz;
	r float8 := random();
BEGIN
	IF r < 0.60 THEN
		RETURN t - random() * interval '365 days';
	ELSIF r < 0.72 THEN
		RETURN t - interval '366 days' - random() * interval '900 days';
	ELSIF r < 0.82 THEN
		RETURN t + random() * interval '60 days';
	ELSIF r < 0.84 THEN
		RETURN t + interval '366 days' + random() * interval '400 days';
	ELSIF r < 0.87 THEN
		RETURN t;
	ELSIF r < 0.93 THEN
		RETURN ws + (gen.rnd_int(-1, 1) * interval '1 microsecond');
	ELSE
		RETURN ((date_trunc('month', t AT TIME ZONE tz) - gen.rnd_int(-1, 13) * interval '1 month')
				AT TIME ZONE tz) + (gen.rnd_int(-1, 0) * interval '1 microsecond');
	END IF;
END $$;

-- a payment moment for an order at t: 30% unpaid, some before the order
CREATE FUNCTION gen.rnd_paid(t timestamptz) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
	SELECT CASE WHEN random() < 0.3 THEN NULL ELSE t + (random() * 95 - 5) * interval '1 day' END
$$;
