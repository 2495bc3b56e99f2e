--
-- Preset policies (SPEC section 5).  They are inserted before the
-- validation trigger exists, checked explicitly, and marked builtin so that
-- dumps leave them out and nobody changes them in place.
--
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
}$$, 'core / key / normal / potential customers', true);

SELECT @extschema@.check_policy(p.definition, p.name) FROM @extschema@.policy p;

ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_check;
ALTER TABLE @extschema@.policy ENABLE TRIGGER policy_regrade;
