--
-- Preset policies (SPEC section 5), for a fresh install and an update
-- alike: inserted with the policy triggers off, checked explicitly, and
-- marked builtin so that dumps leave them out and nobody changes them in
-- place.  A policy of your own that has a new preset's name stops an
-- update (rename it first).
--
DO $$
DECLARE
	clash text;
BEGIN
	SELECT string_agg(format('%I', p.name), ', ') INTO clash FROM @extschema@.policy p
	 WHERE NOT p.builtin AND p.name IN ('abc', 'value_tier', 'four_class', 'weighted_score', 'rfm');
	IF clash IS NOT NULL THEN
		RAISE EXCEPTION 'crm_grade ships preset policies named %, and you have policies of your own with those names', clash
			USING ERRCODE = 'duplicate_object',
				  HINT = 'Rename yours first: UPDATE crm_grade.policy SET name = ''my_'' || name WHERE name IN (...) AND NOT builtin;';
	END IF;
END $$;

ALTER TABLE @extschema@.policy DISABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy DISABLE TRIGGER policy_regrade;

INSERT INTO @extschema@.policy (name, definition, description, builtin) VALUES
('abc', $${
	"kind": "rules", "default": "C",
	"grades": [
		{"grade": "A", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 500000}]}},
		{"grade": "B", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}
	],
	"cadence": {"A": "7 days", "B": "14 days", "C": "30 days"}
}$$, 'A: 12-month amount >= 500000; B: >= 100000; C: the rest', true),
('value_tier', $${
	"kind": "rules", "default": "low",
	"grades": [
		{"grade": "high", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 500000},
										   {"metric": "tenure_days", "op": ">=", "value": 365}]}},
		{"grade": "mid", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000}]}}
	],
	"cadence": {"high": "30 days", "mid": "45 days", "low": "182 days"}
}$$, 'high: 12-month amount >= 500000 and a customer for a year; mid: >= 100000; low: the rest', true),
('four_class', $${
	"kind": "rules", "default": "potential",
	"grades": [
		{"grade": "core", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 100000},
										   {"metric": "tenure_days", "op": ">=", "value": 365},
										   {"metric": "repurchase_rate", "op": ">=", "value": 0.8}]}},
		{"grade": "key", "when": {"all": [{"metric": "amount_12m", "op": ">=", "value": 50000}]}},
		{"grade": "normal", "when": {"all": [{"metric": "orders_total", "op": ">=", "value": 1}]}}
	],
	"cadence": {"core": "7 days", "key": "15 days", "normal": "30 days", "potential": "7 days"}
}$$, 'core / key / normal / potential customers', true),
-- Points: amount_12m 60 at abc's B line (100000) and 100 at its A line
-- (500000); payment within 30 days (the usual net-30 terms) 80 and more;
-- a year's tenure 60 (four_class's line), three years 100; a monthly buyer
-- 80; a repurchase rate of 0.8 (four_class's line) 80.  Qualitative
-- attributes are 0..100 scores already: their points are the identity.
('weighted_score', $${
	"kind": "score", "default": "potential",
	"dimensions": [
		{"name": "financial", "weight": 0.3, "metrics": [
			{"metric": "amount_12m", "weight": 0.5, "points": [[0, 0], [50000, 40], [100000, 60], [500000, 100]]},
			{"metric": "avg_order_value_12m", "weight": 0.25, "points": [[0, 0], [5000, 50], [20000, 80], [50000, 100]]},
			{"metric": "avg_payment_days", "weight": 0.25, "points": [[0, 100], [30, 80], [60, 40], [90, 0]]}]},
		{"name": "cooperation", "weight": 0.3, "metrics": [
			{"metric": "tenure_days", "weight": 0.4, "points": [[0, 0], [365, 60], [730, 80], [1095, 100]]},
			{"metric": "orders_12m", "weight": 0.3, "points": [[0, 0], [1, 20], [4, 50], [12, 80], [24, 100]]},
			{"metric": "repurchase_rate", "weight": 0.3, "points": [[0, 0], [0.5, 50], [0.8, 80], [1, 100]]}]},
		{"name": "demand", "weight": 0.2, "metrics": [
			{"metric": "attr.customization", "weight": 0.5, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.service_level", "weight": 0.5, "points": [[0, 0], [100, 100]]}]},
		{"name": "potential", "weight": 0.2, "metrics": [
			{"metric": "attr.industry_outlook", "weight": 0.4, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.expansion", "weight": 0.3, "points": [[0, 0], [100, 100]]},
			{"metric": "attr.referral", "weight": 0.3, "points": [[0, 0], [100, 100]]}]}
	],
	"bands": [{"grade": "core", "min": 80}, {"grade": "important", "min": 60}, {"grade": "regular", "min": 40}],
	"cadence": {"core": "7 days", "important": "14 days", "regular": "30 days", "potential": "60 days"}
}$$, 'weighted score: financial 0.3, cooperation 0.3, demand 0.2, potential 0.2; core >= 80, important >= 60, regular >= 40', true),
-- The ten-segment R x F map of many public RFM notebooks (M left free),
-- listed from the most valuable down: its order is the grades' rank.
('rfm', $${
	"kind": "rfm",
	"segments": [
		{"grade": "Champions", "r": [5, 5], "f": [4, 5]},
		{"grade": "Loyal", "r": [3, 4], "f": [4, 5]},
		{"grade": "Can't lose them", "r": [1, 2], "f": [5, 5]},
		{"grade": "At risk", "r": [1, 2], "f": [3, 4]},
		{"grade": "Potential loyalists", "r": [4, 5], "f": [2, 3]},
		{"grade": "Need attention", "r": [3, 3], "f": [3, 3]},
		{"grade": "New customers", "r": [5, 5], "f": [1, 1]},
		{"grade": "Promising", "r": [4, 4], "f": [1, 1]},
		{"grade": "About to sleep", "r": [3, 3], "f": [1, 2]},
		{"grade": "Hibernating", "r": [1, 2], "f": [1, 2]}
	],
	"lapsed": "Lost", "default": "Prospects",
	"cadence": {"Champions": "14 days", "Loyal": "14 days", "Can't lose them": "7 days", "At risk": "7 days",
				"Potential loyalists": "14 days", "Need attention": "7 days", "New customers": "7 days",
				"Promising": "14 days", "About to sleep": "7 days", "Hibernating": "30 days",
				"Lost": "60 days", "Prospects": "30 days"}
}$$, 'RFM segments by quintiles of recency, frequency and monetary value over the 12-month window', true)
ON CONFLICT (name) DO UPDATE SET definition = EXCLUDED.definition, description = EXCLUDED.description,
	builtin = true;

SELECT @extschema@.check_policy(p.definition, p.name) FROM @extschema@.policy p;

ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_regrade;
