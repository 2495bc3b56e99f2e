#!/usr/bin/env bash
# pg_dump/pg_restore round trip of a database using crm_grade: state,
# history, policies, the active policy, holidays, live triggers and views
# whose customer column keeps the application's key type.  TAP output, run
# with prove against the server in PGHOST/PGPORT (make test does).
set -euo pipefail

src=crm_grade_dump_src
dst=crm_grade_dump_dst
dump=$(mktemp /tmp/crm_grade_dump.XXXXXX)
trap 'rm -f "$dump"; dropdb --if-exists $src 2>/dev/null; dropdb --if-exists $dst 2>/dev/null' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

echo "1..9"
dropdb --if-exists $src 2>/dev/null; dropdb --if-exists $dst 2>/dev/null
createdb $src
psql -X -q -v ON_ERROR_STOP=1 -d $src >/dev/null <<'SQL'
SET crm_grade.as_of = '2026-06-15 12:00+00';
CREATE EXTENSION crm_grade;
CREATE SCHEMA app;
CREATE TABLE app.customers (id uuid PRIMARY KEY, owner text, created_at timestamptz, attrs jsonb);
CREATE TABLE app.orders (id serial PRIMARY KEY, cust uuid NOT NULL REFERENCES app.customers,
						 amount numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON app.orders (cust);
INSERT INTO app.customers VALUES
	('11111111-1111-1111-1111-111111111111', 'rep1', '2025-01-01', '{}'),
	('22222222-2222-2222-2222-222222222222', 'rep2', '2025-02-01', '{}');
INSERT INTO app.orders (cust, amount, at) VALUES ('11111111-1111-1111-1111-111111111111', 700000, '2026-03-01');
SELECT crm_grade.attach_customers('app.customers', 'id', 'owner', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('app.orders', 'cust', 'amount', 'at');
INSERT INTO crm_grade.policy (name, definition) VALUES ('mine',
	'{"kind": "rules", "default": "x", "cadence": {"x": "30 days", "y": "7 days"},
	  "grades": [{"grade": "y", "when": {"metric": "orders_total", "op": ">=", "value": 1}}]}');
SELECT crm_grade.use_policy('mine');
INSERT INTO crm_grade.holiday VALUES ('2026-12-25', 'Christmas');
SQL
before=$(q $src "SELECT string_agg(customer || ':' || grade || ':' || total_amount, ',' ORDER BY customer) FROM crm_grade.customer_state")
history=$(q $src "SELECT count(*) FROM crm_grade.history")

pg_dump -Fc -d $src -f "$dump"
createdb $dst
pg_restore -d $dst --exit-on-error "$dump"

is "$(q $dst "SELECT string_agg(customer || ':' || grade || ':' || total_amount, ',' ORDER BY customer) FROM crm_grade.customer_state")" \
	"$before" "state comes back"
is "$(q $dst "SELECT count(*) FROM crm_grade.history")" "$history" "history comes back"
is "$(q $dst "SELECT string_agg(name, ',' ORDER BY name) FROM crm_grade.policy")" \
	"abc,four_class,mine,rfm,value_tier,weighted_score" "presets once, and the user's policy"
is "$(q $dst "SELECT name FROM crm_grade.active_policy")" "mine" "the active policy comes back"
is "$(q $dst "SELECT name FROM crm_grade.holiday")" "Christmas" "holidays come back"
is "$(q $dst "SELECT string_agg(DISTINCT pg_typeof(customer)::text, ',') FROM crm_grade.customer_grades")" \
	"uuid" "customer_grades.customer keeps the application's key type"
is "$(q $dst "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'app.orders'::regclass AND tgname LIKE 'crm_grade%'")" \
	"6" "crm_grade's triggers are restored"
q $dst "SET crm_grade.as_of = '2026-06-15 12:00+00'; INSERT INTO app.orders (cust, amount, at) VALUES ('22222222-2222-2222-2222-222222222222', 5, '2026-06-01')"
is "$(q $dst "SET crm_grade.as_of = '2026-06-15 12:00+00'; SELECT orders_total || ':' || grade FROM crm_grade.customer_grades WHERE customer = '22222222-2222-2222-2222-222222222222'")" \
	"1:y" "the restored triggers grade new orders"
is "$(q $dst "SET crm_grade.as_of = '2026-06-15 12:00+00'; SELECT count(*) FROM crm_grade.verify()")" "0" "verify() finds nothing after the restore"
exit $fail
