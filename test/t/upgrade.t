#!/usr/bin/env bash
# ALTER EXTENSION crm_grade UPDATE from 0.1 to 0.2 on a database that crm_grade 0.1 graded.
#
# The 0.1 state is a fixture, test/upgrade/crm_grade-0.1.sql: a pg_dump made with the 0.1
# library and SQL (test/upgrade/make-fixture.sh says how, and regenerates it).  The installed
# 0.2 library keeps 0.1's C symbols but its 0.1 functions that compute refuse, so the state
# cannot be built here; it is restored: a database gets CREATE EXTENSION crm_grade VERSION '0.1',
# then the dump is loaded into it (its CREATE EXTENSION IF NOT EXISTS is skipped; only its
# CREATE SCHEMA crm_grade, which the extension already made, is left out).  Every computation
# runs at the fixture's moment T = 2026-06-15 12:00 UTC.
#
# Proves: every customer's state is kept except for the two documented definition changes
# (repurchase_rate capped at 1, avg_payment_days counting payments made by T); an order written
# between the library update and ALTER EXTENSION is graded by the update; history is kept, plus
# an 'upgrade' row exactly where a grade moved; policies, the active policy, holidays and
# attachments (now with columns jsonb) are kept; the attached tables carry 0.2's triggers;
# verify() is empty; new writes are graded; the state equals a fresh 0.2 install's on the same
# data; the catalog equals a fresh 0.2 install's (pg_dump --schema-only, and the extension's
# members compared through the catalogs, which pg_dump does not print); the upgraded database
# survives a dump and restore.  TAP output, run with prove against PGHOST/PGPORT.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixture="$here/upgrade/crm_grade-0.1.sql"
latest=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$here/../crm_grade.control")
up=crm_grade_upgrade           # the upgraded database
probe=crm_grade_upgrade_probe  # 0.1 state with a policy whose grades move by the new definitions
fresh=crm_grade_upgrade_fresh  # a fresh 0.2 install with the same application tables
restored=crm_grade_upgrade_restored
tmp=$(mktemp -d /tmp/crm_grade_upgrade.XXXXXX)
from2=crm_grade_upgrade_from_02  # created at 0.2, then updated
from3=crm_grade_upgrade_from_03  # created at 0.3, then updated
from4=crm_grade_upgrade_from_04  # created at 0.4, then updated
from5=crm_grade_upgrade_from_05  # created at 0.5, then updated
from6=crm_grade_upgrade_from_06  # created at 0.6, then updated
from7=crm_grade_upgrade_from_07  # created at 0.7, then updated
from8=crm_grade_upgrade_from_08  # created at 0.8, then updated
from9=crm_grade_upgrade_from_09  # created at 0.9, then updated
from10=crm_grade_upgrade_from_010  # created at 0.10, then updated
from11=crm_grade_upgrade_from_011  # created at 0.11, then updated
legacy=crm_grade_upgrade_filters  # 0.11 filters stored in a session's own formats
gone=crm_grade_upgrade_gone      # a 0.4 database whose attached table is dropped before the update
empty=crm_grade_upgrade_empty    # a fresh install, nothing attached
dbs=($up $probe $fresh $restored $from2 $from3 $from4 $from5 $from6 $from7 $from8 $from9 $from10 $from11 $legacy $gone $empty)
cleanup() {
	for d in "${dbs[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# T, and UTC for every text form of a time compared below.
export PGOPTIONS="-c crm_grade.as_of=2026-06-15T12:00:00+00 -c TimeZone=UTC -c client_min_messages=warning"

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

for d in "${dbs[@]}"; do dropdb --if-exists "$d" 2>/dev/null; done

# ---------------------------------------------------------------------------------------------
# The 0.1 database, restored from the fixture.
createdb $up
is "$(q $up "CREATE EXTENSION crm_grade VERSION '0.1'; SELECT extversion FROM pg_extension WHERE extname = 'crm_grade'")" \
	"0.1" "CREATE EXTENSION crm_grade VERSION '0.1' works with the 0.2 library installed"
# The fixture's "CREATE SCHEMA crm_grade;" would fail: the extension made it already.
sed '/^CREATE SCHEMA crm_grade;$/d' "$fixture" >"$tmp/fixture.sql"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $up -f "$tmp/fixture.sql" 2>&1 >/dev/null); rc=$?
ok $rc "the 0.1 fixture loads into it" "$out"
# Expected counts are those of the fixture's COPY data, counted in the file itself.
copy_rows() { sed -n "/^COPY $1 /,/^\\\\\\.\$/p" "$fixture" | grep -vc -e '^COPY ' -e '^\\\.$'; }
n_customers=$(copy_rows crm_grade.customer_state)
n_history=$(copy_rows crm_grade.history)
is "$(q $up "SELECT count(*) || ' ' || (SELECT count(*) FROM crm_grade.history) FROM crm_grade.customer_state")" \
	"$n_customers $n_history" "the 0.1 state and history are there ($n_customers customers, $n_history history rows)"

# What 0.1 stored, to compare with after the update (schema snap, left out of every comparison).
q $up "CREATE SCHEMA snap;
	CREATE TABLE snap.state AS SELECT * FROM crm_grade.customer_state;
	CREATE TABLE snap.history AS SELECT * FROM crm_grade.history;
	CREATE TABLE snap.policy AS SELECT * FROM crm_grade.policy;
	CREATE TABLE snap.active_policy AS SELECT * FROM crm_grade.active_policy;
	CREATE TABLE snap.holiday AS SELECT * FROM crm_grade.holiday;
	CREATE TABLE snap.source AS SELECT * FROM crm_grade.source" >/dev/null
# The probe database: the same 0.1 state (copied before anything else is written).
createdb -T $up $probe

# The library is 0.2 but the database still 0.1: an order is kept with a WARNING, and graded by
# the update.  Customer 15 is a prospect (potential under four_class) with no orders.
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $up \
	-c "INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (15, 60000, '2026-06-10 10:00+00', NULL)" 2>&1); rc=$?
ok $(( rc != 0 || $(grep -c "still has crm_grade 0.1" <<<"$out") != 1 )) \
	"before the update, a write through a 0.1 trigger is kept with a WARNING" "$out"

# ---------------------------------------------------------------------------------------------
# The update.
# (through every version since: 0.1 -> 0.2 -> ... -> the default version)
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $up -c "ALTER EXTENSION crm_grade UPDATE" 2>&1); rc=$?
ok $rc "ALTER EXTENSION crm_grade UPDATE (to $latest)" "$out"
is "$(q $up "SELECT extversion FROM pg_extension WHERE extname = 'crm_grade'")" "$latest" "the database is at $latest"
is "$(q $up "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty after the update"

# Every field of every customer kept, but for the documented changes and customer 15's new
# order: 0.2's two, and 0.3's payment days between an order time and a payment date, which
# count calendar days (customers 4, 5, 13, 20 and 103 pay into the date column paid_on).
# 0.2's new columns (next_paid_at, data_issues) are checked apart, and so are contacts_90d and
# open_opportunities, counts since 0.4 (0 without rows, where 0.1 left NULL), and lifecycle,
# risk and next_follow_up_at, which 0.4 computes (NULL before), with the valid_until their
# thresholds move (verify() checks them all).
is "$(q $up "SELECT string_agg(b.customer || ':' || f.key, ',' ORDER BY b.customer COLLATE \"C\", f.key)
			  FROM snap.state b JOIN crm_grade.customer_state a USING (customer),
				   jsonb_each(to_jsonb(b)) f
			 WHERE f.value IS DISTINCT FROM to_jsonb(a) -> f.key AND b.customer <> '15'
			   AND f.key NOT IN ('contacts_90d', 'open_opportunities', 'lifecycle', 'risk', 'valid_until',
								 'next_follow_up_at')")" \
	"1:repurchase_rate,103:avg_payment_days,103:pay_days_sum,13:avg_payment_days,13:pay_days_sum,2:avg_payment_days,2:pay_count,2:pay_days_sum,20:avg_payment_days,20:pay_days_sum,4:avg_payment_days,4:pay_days_sum,5:avg_payment_days,5:pay_days_sum" \
	"every customer's state is kept but for the documented definition changes"
is "$(q $up "SELECT count(*) FILTER (WHERE b.contacts_90d IS NULL AND a.contacts_90d = 0) = count(*)
			   AND count(*) FILTER (WHERE a.last_contact_at IS NULL AND a.first_contact_at IS NULL) = count(*)
			  FROM snap.state b JOIN crm_grade.customer_state a USING (customer)")" \
	"t" "contacts_90d counts 0 for every customer (no contact log attached); no contact times"
is "$(q $up "SELECT count(*) FROM snap.state b FULL JOIN crm_grade.customer_state a USING (customer) WHERE a IS NULL OR b IS NULL")" \
	"0" "the same customers, no more, no fewer"
# Customer 1: orders in 13 calendar months of the window, 0.1 stored 13/12; 0.2 caps it at 1.
is "$(q $up "SELECT b.repurchase_rate = 13 / 12.0 AND a.repurchase_rate = 1 FROM snap.state b JOIN crm_grade.customer_state a USING (customer) WHERE customer = '1'")" \
	"t" "repurchase_rate 13/12 becomes 1 (capped)"
# Customer 2: paid 10 days after one window order and 20 days after another, on 2026-06-30
# 09:00, after T: 0.1 averaged 15 days over both, 0.2 counts the payment made by T only, and
# that next payment is when time alone changes the customer.
is "$(q $up "SELECT b.avg_payment_days || ' -> ' || a.avg_payment_days::float8 || ', ' || a.pay_days_sum || '/' || a.pay_count
					|| ', next ' || a.next_paid_at || ', valid until ' || a.valid_until
			   FROM snap.state b JOIN crm_grade.customer_state a USING (customer) WHERE customer = '2'")" \
	"15.0000000000000000 -> 10, 10/1, next 2026-06-30 09:00:00+00, valid until 2026-06-30 09:00:00+00" \
	"avg_payment_days counts only the payment made by T"
is "$(q $up "SELECT count(*) FILTER (WHERE next_paid_at IS NOT NULL) || ' ' || count(*) FILTER (WHERE data_issues IS NOT NULL) FROM crm_grade.customer_state")" \
	"1 0" "next_paid_at only where a payment is to come; no data issues"
# Customer 15: the order written before the update is graded by it: four_class key (>= 50000).
is "$(q $up "SELECT grade || ' ' || orders_total || ' ' || amount_12m::float8 || ' ' || policy FROM crm_grade.customer_state WHERE customer = '15'")" \
	"key 1 60000 four_class" "the order written between library update and ALTER EXTENSION is graded"

is "$(q $up "SELECT count(*) FILTER (WHERE b.lifecycle IS NULL AND b.risk IS NULL
									AND a.lifecycle IS NOT NULL AND a.risk IS NOT NULL
									AND (a.next_follow_up_at IS NULL) = (a.lifecycle = 'churned')) = count(*)
			  FROM snap.state b JOIN crm_grade.customer_state a USING (customer)")" \
	"t" "every customer gets a lifecycle stage, a churn risk and, unless churned, a next follow-up (0.1 had none)"

# History: every 0.1 row as it was; new rows only 'upgrade', one per customer (each gets a
# stage and a risk), the grade moving only where the definitions move it.
is "$(q $up "SELECT count(*) FROM snap.history b FULL JOIN crm_grade.history a USING (id)
			  WHERE (b.id IS NULL AND (a.reason = 'upgrade') IS NOT TRUE) OR a.id IS NULL
				 OR (b.id IS NOT NULL AND to_jsonb(a) IS DISTINCT FROM to_jsonb(b))")" \
	"0" "every history row is kept; every new one has reason 'upgrade'"
is "$(q $up "SELECT string_agg(customer || ':' || old_grade || '->' || new_grade || '@' || changed_at, ',' ORDER BY customer)
			   FROM crm_grade.history WHERE id > (SELECT max(id) FROM snap.history) AND old_grade IS DISTINCT FROM new_grade")
$(q $up "SELECT count(DISTINCT customer) || ' ' || count(*) || ' ' || bool_and(old_lifecycle IS NULL AND new_lifecycle IS NOT NULL)
		   FROM crm_grade.history WHERE id > (SELECT max(id) FROM snap.history)")" \
	"15:potential->key@2026-06-15 12:00:00+00
$n_customers $n_customers true" "one 'upgrade' history row per customer (its new stage and risk), a grade moving only where the definitions move it"
is "$(q $up "SELECT string_agg(a.customer, ',') FROM snap.state b JOIN crm_grade.customer_state a USING (customer)
			  WHERE a.grade IS DISTINCT FROM b.grade")" \
	"15" "no other grade moved"

# Configuration.
is "$(q $up "SELECT count(*) FROM (SELECT * FROM snap.policy WHERE NOT builtin EXCEPT SELECT * FROM crm_grade.policy) x")
$(q $up "SELECT string_agg(name, ',' ORDER BY name) FROM crm_grade.policy WHERE NOT builtin")
$(q $up "SELECT name FROM crm_grade.active_policy")
$(q $up "SELECT count(*) FROM (SELECT * FROM snap.holiday EXCEPT SELECT * FROM crm_grade.holiday) x") $(q $up "SELECT count(*) FROM crm_grade.holiday")" \
	"0
outlook,payers
four_class
0 2" "user policies, the active policy four_class and the holidays are kept"
is "$(q $up "SELECT string_agg(format('%s %s %s %s %s', tbl, kind, key_type, columns, attached_at), E'\n' ORDER BY tbl::text) FROM crm_grade.source")" \
	'app.customers customers integer {"owner": "owner", "customer": "id", "attributes": "attrs", "created_at": "created_at"} 2026-06-01 08:00:00+00
app.orders orders integer {"amount": "amount", "paid_at": "paid_at", "customer": "customer_id", "ordered_at": "ordered_at"} 2026-06-01 08:01:00+00
app.store_orders orders bigint {"amount": "total", "paid_at": "paid_on", "customer": "customer_id", "ordered_at": "ordered_on"} 2026-06-01 08:02:00+00' \
	"attachments are kept, their columns now a role -> column jsonb"

# 0.2's triggers, and nothing of 0.1's.
expected_triggers=""
for t in app.customers:customers app.orders:orders app.store_orders:orders; do
	for g in crm_grade_begin:O crm_grade_delete:O crm_grade_insert:O crm_grade_replica:R crm_grade_truncate:A crm_grade_update:O; do
		expected_triggers+="${t%%:*} ${g%%:*} ${g##*:} crm_grade.source_trigger('${t##*:}')"$'\n'
	done
done
is "$(q $up "SELECT string_agg(format('%s %s %s %s', tgrelid::regclass, tgname, tgenabled,
									 regexp_replace(pg_get_triggerdef(oid), '.* EXECUTE FUNCTION ', '')), E'\n'
							  ORDER BY tgrelid::regclass::text, tgname)
			   FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE 'app.%'")" \
	"${expected_triggers%$'\n'}" "the attached tables carry 0.2's triggers (statement, TRUNCATE always, replica row)"
is "$(q $up "SELECT count(*) FROM pg_proc WHERE pronamespace = 'crm_grade'::regnamespace
			   AND proname IN ('orders_trigger', 'customers_trigger', '_evaluate', '_months_from_bits', '_refresh_sql')")" \
	"0" "0.1's functions are gone"
is "$(q $up "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'crm_grade.customer_grades'::regclass AND attname = 'customer'")
$(q $up "SELECT count(*) FROM crm_grade.customer_grades") $(q $up "SELECT count(*) FROM crm_grade.grade_history")" \
	"bigint
$n_customers $((n_history + n_customers))" "the views are rebuilt with the widest attached key (bigint)"

# ---------------------------------------------------------------------------------------------
# A fresh 0.2 install with the same application tables and data, attached the same way, with
# the same policies: its state must equal the upgraded one, and its catalog too.
createdb $fresh
q $fresh "CREATE EXTENSION crm_grade" >/dev/null
# The application schema as it is in the upgraded database, without crm_grade's triggers (the
# attach below places them): pg_dump writes each trigger and each ENABLE on one line.
pg_dump -n app $up | grep -v -E '^(CREATE TRIGGER crm_grade_|ALTER TABLE .* TRIGGER crm_grade_)' >"$tmp/app.sql"
! grep -v '^--' "$tmp/app.sql" | grep -q crm_grade || echo "# the application schema still mentions crm_grade" >&2
psql -X -q -v ON_ERROR_STOP=1 -d $fresh -f "$tmp/app.sql" >/dev/null 2>"$tmp/app.err" || cat "$tmp/app.err" >&2
q $up "SELECT format('SELECT crm_grade.attach_%s(%L, %s);', kind, tbl, CASE kind
			WHEN 'orders' THEN format('%L, %L, %L, %L', columns->>'customer', columns->>'amount', columns->>'ordered_at', columns->>'paid_at')
			ELSE format('%L, %L, %L, %L', columns->>'customer', columns->>'owner', columns->>'created_at', columns->>'attributes') END)
		 FROM crm_grade.source ORDER BY attached_at;
	   SELECT format('INSERT INTO crm_grade.policy (name, definition, description) VALUES (%L, %L, %L);', name, definition, description)
		 FROM crm_grade.policy WHERE NOT builtin ORDER BY name;
	   SELECT format('SELECT crm_grade.use_policy(%L);', name) FROM crm_grade.active_policy;
	   SELECT format('INSERT INTO crm_grade.holiday VALUES (%L, %L);', day, name) FROM crm_grade.holiday;
	   SELECT format('UPDATE crm_grade.source SET attached_at = %L WHERE tbl = %L::regclass;', attached_at, tbl) FROM crm_grade.source;" \
	>"$tmp/setup.sql"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $fresh -f "$tmp/setup.sql" 2>&1 >/dev/null); rc=$?
ok $rc "a fresh 0.2 database with the same tables attached" "$out"
is "$(q $fresh "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty in the fresh database"
state_sql="COPY (SELECT * FROM crm_grade.customer_state ORDER BY customer) TO STDOUT"
q $up "$state_sql" >"$tmp/state.up"
q $fresh "$state_sql" >"$tmp/state.fresh"
ok "$(cmp -s "$tmp/state.up" "$tmp/state.fresh"; echo $?)" \
	"every customer's state after the update equals a fresh 0.2 install's, column for column" \
	"$(diff "$tmp/state.up" "$tmp/state.fresh" | head -20)"
policies_sql="COPY (SELECT * FROM crm_grade.policy ORDER BY name) TO STDOUT"
q $up "$policies_sql" >"$tmp/policy.up"
q $fresh "$policies_sql" >"$tmp/policy.fresh"
ok "$(cmp -s "$tmp/policy.up" "$tmp/policy.fresh"; echo $?)" "the presets and policies equal a fresh install's" \
	"$(diff "$tmp/policy.up" "$tmp/policy.fresh" | head -20)"

# pg_dump --schema-only of both.  Normalised: the \restrict/\unrestrict lines (a random key per
# run), and the snap schema (this test's own copy of the 0.1 state) left out.  Nothing else needs
# normalising: pg_dump prints no OIDs, and sorts objects by kind and name whatever order they
# were created in (the upgraded database made its tables and triggers in another order).
# pg_dump prints the application's tables, their triggers, the typed views (not extension
# members) and CREATE EXTENSION, but no member of the extension: those are compared below.
schema_dump() { pg_dump --schema-only -N snap -d "$1" | sed -E '/^\\(un)?restrict /d'; }
schema_dump $up >"$tmp/schema.up"
schema_dump $fresh >"$tmp/schema.fresh"
ok "$(cmp -s "$tmp/schema.up" "$tmp/schema.fresh"; echo $?)" \
	"pg_dump --schema-only of the upgraded database equals a fresh install's" \
	"$(diff -U2 "$tmp/schema.up" "$tmp/schema.fresh" | head -80)"

# The extension's own objects and everything in its schema, property by property, named, not
# numbered.  Normalised: OIDs (objects are named; a dropped configuration table can only show
# as its number), the order of pg_extension.extconfig (sorted), dropped columns (columns are
# numbered by position among the live ones).
cat >"$tmp/catalog.sql" <<'SQL'
WITH ext AS (SELECT e.oid, e.extnamespace FROM pg_extension e WHERE e.extname = 'crm_grade'),
members AS (
	SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rels AS (
	SELECT c.* FROM pg_class c, ext
	 WHERE c.relnamespace = ext.extnamespace
		OR c.oid IN (SELECT objid FROM members WHERE classid = 'pg_class'::regclass)
),
procs AS (
	SELECT p.* FROM pg_proc p, ext
	 WHERE p.pronamespace = ext.extnamespace
		OR p.oid IN (SELECT objid FROM members WHERE classid = 'pg_proc'::regclass)
),
lines(section, name, value) AS (
	-- the extension: version, schema, configuration tables with their dump conditions
	SELECT 'extension', e.extname::text, format('version=%s relocatable=%s schema=%s', e.extversion, e.extrelocatable, e.extnamespace::regnamespace)
	  FROM pg_extension e, ext WHERE e.oid = ext.oid
	UNION ALL
	SELECT 'extension config', coalesce(to_regclass(c.cfg::regclass::text)::text, 'no such table: OID ' || c.cfg),
		   coalesce(e.extcondition[c.i], '<no condition>')
	  FROM pg_extension e, ext, unnest(e.extconfig) WITH ORDINALITY c(cfg, i) WHERE e.oid = ext.oid
	UNION ALL
	-- what is a member of the extension (the typed views must not be: pg_dump writes them)
	SELECT 'member', pg_describe_object(m.classid, m.objid, m.objsubid), 'member' FROM members m
	UNION ALL
	-- functions: the whole definition (language, volatility, strictness, SECURITY DEFINER,
	-- SET search_path, cost, rows, body or C symbol), owner, ACL, comment
	SELECT 'function', p.oid::regprocedure::text,
		   CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) ELSE 'kind ' || p.prokind::text END
	  FROM procs p
	UNION ALL
	SELECT 'function owner/acl', p.oid::regprocedure::text, format('owner=%s acl=%s', pg_get_userbyid(p.proowner), p.proacl)
	  FROM procs p
	UNION ALL
	SELECT 'function comment', p.oid::regprocedure::text, obj_description(p.oid, 'pg_proc') FROM procs p
	UNION ALL
	-- tables, views, indexes, sequences: kind, persistence, options, owner, ACL, comment, RLS
	SELECT 'relation', r.oid::regclass::text,
		   format('kind=%s persistence=%s options=%s owner=%s acl=%s rls=%s/%s', r.relkind, r.relpersistence,
				  r.reloptions, pg_get_userbyid(r.relowner), r.relacl, r.relrowsecurity, r.relforcerowsecurity)
	  FROM rels r
	UNION ALL
	SELECT 'relation comment', r.oid::regclass::text, obj_description(r.oid, 'pg_class') FROM rels r
	UNION ALL
	-- columns in order: type, collation, NOT NULL, default, identity, generated, ACL, comment
	SELECT 'column', r.oid::regclass::text || ' #' || lpad((row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum))::text, 3, '0'),
		   format('%s %s collate=%s notnull=%s default=%s identity=%s generated=%s acl=%s comment=%s',
				  a.attname, format_type(a.atttypid, a.atttypmod),
				  (SELECT co.collname FROM pg_collation co WHERE co.oid = a.attcollation),
				  a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated, a.attacl,
				  col_description(r.oid, a.attnum))
	  FROM rels r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
	  LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
	 WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
	UNION ALL
	SELECT 'constraint', co.conrelid::regclass::text || ' ' || co.conname,
		   pg_get_constraintdef(co.oid) || ' deferrable=' || co.condeferrable
	  FROM pg_constraint co WHERE co.conrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'index', i.indexrelid::regclass::text,
		   pg_get_indexdef(i.indexrelid) || format(' valid=%s clustered=%s', i.indisvalid, i.indisclustered)
	  FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'trigger', t.tgrelid::regclass::text || ' ' || t.tgname, pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
	  FROM pg_trigger t WHERE t.tgrelid IN (SELECT oid FROM rels) AND NOT t.tgisinternal
	UNION ALL
	SELECT 'row security policy', pol.polrelid::regclass::text || ' ' || pol.polname,
		   format('%s %s roles=%s using=%s check=%s', pol.polcmd, pol.polpermissive, pol.polroles::regrole[],
				  pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
	  FROM pg_policy pol WHERE pol.polrelid IN (SELECT oid FROM rels)
	UNION ALL
	SELECT 'rule', rw.ev_class::regclass::text || ' ' || rw.rulename, pg_get_ruledef(rw.oid)
	  FROM pg_rewrite rw WHERE rw.ev_class IN (SELECT oid FROM rels) AND rw.rulename <> '_RETURN'
	UNION ALL
	SELECT 'view', r.oid::regclass::text, pg_get_viewdef(r.oid) FROM rels r WHERE r.relkind IN ('v', 'm')
	UNION ALL
	-- sequences: parameters and owning column, not their value (that is data)
	SELECT 'sequence', s.seqrelid::regclass::text,
		   format('%s start=%s inc=%s min=%s max=%s cache=%s cycle=%s owned_by=%s', s.seqtypid::regtype, s.seqstart,
				  s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
				  (SELECT d.refobjid::regclass::text || '.' || a.attname FROM pg_depend d
					 JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
					WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
					  AND d.refclassid = 'pg_class'::regclass))
	  FROM pg_sequence s WHERE s.seqrelid IN (SELECT oid FROM rels)
	UNION ALL
	-- event triggers (database-wide members)
	SELECT 'event trigger', ev.evtname::text,
		   format('%s %s tags=%s enabled=%s owner=%s', ev.evtevent, ev.evtfoid::regprocedure, ev.evttags, ev.evtenabled,
				  pg_get_userbyid(ev.evtowner))
	  FROM pg_event_trigger ev
	 WHERE ev.oid IN (SELECT objid FROM members WHERE classid = 'pg_event_trigger'::regclass)
		OR ev.evtfoid IN (SELECT oid FROM procs)
	UNION ALL
	-- types of its own (other than tables' row types and arrays)
	SELECT 'type', t.oid::regtype::text, format('type=%s owner=%s acl=%s', t.typtype, pg_get_userbyid(t.typowner), t.typacl)
	  FROM pg_type t, ext WHERE t.typnamespace = ext.extnamespace AND t.typrelid = 0 AND t.typelem = 0
	UNION ALL
	-- the initial privileges of members: what pg_dump compares ACLs with to decide what to dump
	SELECT 'initial privileges', pg_describe_object(ip.classoid, ip.objoid, ip.objsubid), ip.privtype::text || ' ' || ip.initprivs::text
	  FROM pg_init_privs ip
	 WHERE (ip.classoid, ip.objoid) IN (SELECT classid, objid FROM members)
		OR (ip.classoid = 'pg_class'::regclass AND ip.objoid IN (SELECT oid FROM rels))
		OR (ip.classoid = 'pg_proc'::regclass AND ip.objoid IN (SELECT oid FROM procs))
	UNION ALL
	SELECT 'schema', n.nspname::text, format('owner=%s acl=%s comment=%s', pg_get_userbyid(n.nspowner), n.nspacl, obj_description(n.oid, 'pg_namespace'))
	  FROM pg_namespace n, ext WHERE n.oid = ext.extnamespace
)
SELECT section || ' | ' || name || ' | ' || coalesce(value, '<null>') FROM lines ORDER BY section, name, value;
SQL
psql -X -q -At -v ON_ERROR_STOP=1 -d $up -f "$tmp/catalog.sql" >"$tmp/catalog.up" 2>&1 || cat "$tmp/catalog.up" >&2
psql -X -q -At -v ON_ERROR_STOP=1 -d $fresh -f "$tmp/catalog.sql" >"$tmp/catalog.fresh" 2>&1 || cat "$tmp/catalog.fresh" >&2
# (the catalog query sees the objects: functions, tables, event triggers)
is "$(grep -c -e '^function | crm_grade.verify()' -e '^relation | crm_grade.customer_state ' -e '^event trigger | crm_grade_ddl_end ' "$tmp/catalog.fresh")" \
	"3" "the catalog query describes crm_grade's objects"
ok "$(cmp -s "$tmp/catalog.up" "$tmp/catalog.fresh"; echo $?)" \
	"the extension's members and schema equal a fresh install's (functions, tables, constraints, indexes, triggers, event triggers, views, ACLs, configuration tables)" \
	"$(diff "$tmp/catalog.up" "$tmp/catalog.fresh" | cut -c1-300 | head -60)"

# ---------------------------------------------------------------------------------------------
# New writes on the upgraded database are graded.
q $up "INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (16, 55000, '2026-06-12 10:00+00', '2026-06-13 10:00+00');
	   INSERT INTO app.store_orders (customer_id, total, ordered_on, paid_on) VALUES (17, 800, '2026-06-13 15:00', NULL);
	   UPDATE app.customers SET owner = 'rep9' WHERE id = 18;
	   DELETE FROM app.orders WHERE customer_id = 101 AND amount = 20000" >/dev/null
is "$(q $up "SELECT string_agg(format('%s %s %s %s', customer, grade, orders_total, coalesce(owner, '-')), ',' ORDER BY customer)
			   FROM crm_grade.customer_grades WHERE customer IN (16, 17, 18, 101)")" \
	"16 key 1 rep2,17 normal 1 rep3,18 potential 0 rep9,101 normal 1 -" \
	"after the update, INSERT, UPDATE and DELETE on the attached tables are graded"
is "$(q $up "SELECT string_agg(customer || ':' || reason, ',' ORDER BY id) FROM crm_grade.history WHERE id > (SELECT max(id) FROM snap.history) AND reason <> 'upgrade'")" \
	"16:first_order,17:first_order" "... with history"
is "$(q $up "SELECT count(*) FROM crm_grade.verify()")" "0" "verify() is empty after those writes"

# The upgraded database survives a dump and restore (its typed views included).
pg_dump -Fc -N snap -d $up -f "$tmp/up.dump"
createdb $restored
out=$(pg_restore -d $restored --exit-on-error "$tmp/up.dump" 2>&1); rc=$?
ok $rc "pg_dump/pg_restore of the upgraded database" "$out"
is "$(q $restored "SELECT count(*) FROM crm_grade.customer_grades")/$(q $restored "SELECT count(*) FROM crm_grade.grade_history")/$(q $restored "SELECT count(*) FROM crm_grade.verify()")" \
	"$(q $up "SELECT count(*) FROM crm_grade.customer_grades")/$(q $up "SELECT count(*) FROM crm_grade.grade_history")/0" \
	"the restored copy has its views, its history, and verify() is empty"

# ---------------------------------------------------------------------------------------------
# The probe database: grades that move because of the new definitions get 'upgrade' rows.
# Policy "probe" is four_class with two grades first: ten when avg_payment_days = 10, full when
# repurchase_rate = 1 with 14 orders or more.  Under 0.1's definitions nobody matches them
# (customer 2 averaged 15 days, customer 1 had 13/12), so probe grades everyone as 0.1 stored:
# 0.1's own verify() says so (it reports only the policy name).  Under 0.2's, customer 2 (10
# days) becomes ten and customer 1 (capped to 1, 14 orders) full.  The policy is made active
# by writing active_policy directly: under 0.1, use_policy() would need the 0.1 library.
cat >"$tmp/probe.sql" <<'SQL'
INSERT INTO crm_grade.policy (name, definition)
SELECT 'probe', definition
		|| jsonb_build_object('grades', '[{"grade": "ten", "when": {"metric": "avg_payment_days", "op": "=", "value": 10}},
										  {"grade": "full", "when": {"all": [{"metric": "repurchase_rate", "op": "=", "value": 1},
																			{"metric": "orders_total", "op": ">=", "value": 14}]}}]'::jsonb
										|| (definition -> 'grades'),
							  'cadence', (definition -> 'cadence') || '{"ten": "7 days", "full": "7 days"}')
  FROM crm_grade.policy WHERE name = 'four_class';
UPDATE crm_grade.active_policy SET name = 'probe';
SQL
psql -X -q -v ON_ERROR_STOP=1 -d $probe -f "$tmp/probe.sql" >/dev/null
is "$(q $probe "SELECT field || ' ' || count(*) FROM crm_grade.verify() GROUP BY field")" "policy $n_customers" \
	"under 0.1's definitions the probe policy grades everyone as stored (0.1 verify() differs in the policy name only)"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $probe -c "ALTER EXTENSION crm_grade UPDATE" 2>&1); rc=$?
ok $rc "ALTER EXTENSION crm_grade UPDATE with the probe policy active" "$out"
is "$(q $probe "SELECT string_agg(customer || ':' || old_grade || '->' || new_grade || ':' || reason, ',' ORDER BY customer)
				 FROM crm_grade.history WHERE id > $n_history AND old_grade IS DISTINCT FROM new_grade")/$(q $probe "SELECT count(*) FROM crm_grade.verify()")" \
	"1:core->full:upgrade,2:key->ten:upgrade/0" \
	"grades moved by the new definitions are logged as 'upgrade', and only those; verify() is empty"

# ---------------------------------------------------------------------------------------------
# Users of 0.2 to 0.11 update through the chain too (0.2 -> 0.3 -> ... -> latest, ...): the
# update paths exist, and a database created at each version and updated has the catalog of a
# fresh install (columns, functions and their bodies, triggers, indexes, constraints).
is "$(q $up "SELECT string_agg(source || ':' || path, ' ' ORDER BY source) FROM pg_extension_update_paths('crm_grade')
			  WHERE target = '$latest' AND source IN ('0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '0.10', '0.11')")" \
	"0.10:0.10--0.11--$latest 0.11:0.11--$latest 0.2:0.2--0.3--0.4--0.5--0.6--0.7--0.8--0.9--0.10--0.11--$latest 0.3:0.3--0.4--0.5--0.6--0.7--0.8--0.9--0.10--0.11--$latest 0.4:0.4--0.5--0.6--0.7--0.8--0.9--0.10--0.11--$latest 0.5:0.5--0.6--0.7--0.8--0.9--0.10--0.11--$latest 0.6:0.6--0.7--0.8--0.9--0.10--0.11--$latest 0.7:0.7--0.8--0.9--0.10--0.11--$latest 0.8:0.8--0.9--0.10--0.11--$latest 0.9:0.9--0.10--0.11--$latest" \
	"0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.10 and 0.11 update to $latest through the chain"
catalog_sql="SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
	SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' #' || a.attnum AS x
	  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
	 WHERE c.relnamespace = 'crm_grade'::regnamespace AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL SELECT 'function ' || p.oid::regprocedure || ' ' || md5(p.prosrc) || ' ' || p.prosecdef
	  FROM pg_proc p WHERE p.pronamespace = 'crm_grade'::regnamespace
	UNION ALL SELECT 'trigger ' || t.tgrelid::regclass || ' ' || pg_get_triggerdef(t.oid)
	  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = 'crm_grade'::regnamespace AND NOT t.tgisinternal
	UNION ALL SELECT 'index ' || pg_get_indexdef(i.indexrelid)
	  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'crm_grade'::regnamespace
	UNION ALL SELECT 'constraint ' || n.conrelid::regclass || ' ' || pg_get_constraintdef(n.oid)
	  FROM pg_constraint n JOIN pg_class c ON c.oid = n.conrelid WHERE c.relnamespace = 'crm_grade'::regnamespace) s"
createdb $empty
q $empty "CREATE EXTENSION crm_grade" >/dev/null
for v in 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 0.10 0.11; do
	db=$from2; [ "$v" = 0.3 ] && db=$from3; [ "$v" = 0.4 ] && db=$from4; [ "$v" = 0.5 ] && db=$from5
	[ "$v" = 0.6 ] && db=$from6; [ "$v" = 0.7 ] && db=$from7; [ "$v" = 0.8 ] && db=$from8; [ "$v" = 0.9 ] && db=$from9
	[ "$v" = 0.10 ] && db=$from10; [ "$v" = 0.11 ] && db=$from11
	createdb "$db"
	out=$(psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION crm_grade VERSION '$v'" -c "ALTER EXTENSION crm_grade UPDATE" 2>&1); rc=$?
	ok $rc "a database created at $v updates to $latest" "$out"
	diff_out=$(diff <(q "$db" "$catalog_sql") <(q $empty "$catalog_sql"))
	is "$diff_out" "" "... and its catalog equals a fresh $latest install's"
done

# ---------------------------------------------------------------------------------------------
# 0.11 stored a filter as the session that attached it (or any that renamed a type) wrote it; the
# update to 0.12 stores each again in fixed formats, read with the updating session's settings,
# and keeps one the check refuses (a cast through text that follows the session), with a WARNING.
createdb $legacy
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $legacy 2>&1 <<'SQL'
CREATE EXTENSION crm_grade VERSION '0.11';
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
						  ordered_on date NOT NULL);
CREATE TABLE shop.ratios (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL,
						  ratio float8 NOT NULL);
INSERT INTO shop.orders VALUES (1, 1, 100, '2026-03-10 12:00+00', '2026-03-10'), (2, 2, 100, '2026-03-20 12:00+00', '2026-03-20');
INSERT INTO shop.ratios VALUES (1, 3, 100, '2026-03-10 12:00+00', 0.5);
-- as 0.11 stored them from a session with DateStyle 'SQL, DMY' (4 March 2026) and a float cast
INSERT INTO crm_grade.source (tbl, kind, key_type, columns, filter)
VALUES ('shop.orders', 'orders', 'integer', '{"customer": "customer_id", "amount": "amount", "ordered_at": "ordered_at"}',
		$f$(ordered_on >= '04/03/2026'::date)$f$),
	   ('shop.ratios', 'orders', 'integer', '{"customer": "customer_id", "amount": "amount", "ordered_at": "ordered_at"}',
		$f$((ratio)::text <> '0.3'::text)$f$);
SQL
); rc=$?
ok $rc "a database at 0.11 with filters stored in a session's own formats" "$out"
out=$(PGOPTIONS="$PGOPTIONS -c DateStyle=SQL,DMY" psql -X -q -v ON_ERROR_STOP=1 -d $legacy \
		-c "ALTER EXTENSION crm_grade UPDATE" 2>&1); rc=$?
ok $rc "ALTER EXTENSION crm_grade UPDATE from a DMY session" "$out"
is "$(grep -c 'WARNING:  the filter of shop.orders is stored again, in fixed formats' <<<"$out")/$(grep -c 'WARNING:  the filter of shop.ratios is kept as 0.11 stored it' <<<"$out")" "1/1" \
	"... it says which filter it stored again, and warns of the one it kept"
is "$(q $legacy "SELECT count(*) FROM crm_grade.verify()")" "0" "... verify() is empty"
is "$(q $legacy "SELECT string_agg(tbl::text || ' ' || filter, ' | ' ORDER BY tbl::text) FROM crm_grade.source")" \
	"shop.orders (ordered_on >= '2026-03-04'::date) | shop.ratios ((ratio)::text <> '0.3'::text)" \
	"... the date is stored as ISO, read in the updating session's order; the refused filter is kept"
is "$(q $legacy "SELECT string_agg(customer, ',' ORDER BY customer) FROM crm_grade.customer_state")" \
	"1,2,3" "... both March orders count"
PGOPTIONS="$PGOPTIONS -c DateStyle=ISO,MDY" q $legacy "SELECT crm_grade.regrade_all()" >/dev/null
is "$(q $legacy "SELECT string_agg(customer, ',' ORDER BY customer) FROM crm_grade.customer_state")" \
	"1,2,3" "... and after regrade_all() in an MDY session too"

# A catalog older than the library's columns (0.4: crm_grade's DDL handlers leave it to the
# update) whose attached table is dropped between make install and the update: the update
# detaches it, with a WARNING, and grades its customers without it.
createdb $gone
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $gone 2>&1 <<'SQL'
CREATE EXTENSION crm_grade VERSION '0.4';
CREATE TABLE public.gone (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
CREATE TABLE public.kept (id int, customer_id int NOT NULL, amount numeric NOT NULL, ordered_at timestamptz NOT NULL);
INSERT INTO public.gone VALUES (1, 4, 100, '2026-03-10 12:00+00');
INSERT INTO public.kept VALUES (1, 5, 100, '2026-03-10 12:00+00');
INSERT INTO crm_grade.source (tbl, kind, key_type, columns)
SELECT t::regclass, 'orders', 'integer', '{"customer": "customer_id", "amount": "amount", "ordered_at": "ordered_at"}'
  FROM unnest(ARRAY['public.gone', 'public.kept']) t;
DROP TABLE public.gone;
SQL
); rc=$?
ok $rc "a database at 0.4 whose attached table is dropped with the new library installed" "$out"
out=$(psql -X -q -v ON_ERROR_STOP=1 -d $gone -c "ALTER EXTENSION crm_grade UPDATE" 2>&1); rc=$?
ok $rc "... updates" "$out"
is "$(grep -c 'WARNING:  an attached table (OID [0-9]*) was dropped before this update; it is detached' <<<"$out")/$(q $gone "SELECT string_agg(tbl::text, ',') FROM crm_grade.source")/$(q $gone "SELECT string_agg(customer, ',') FROM crm_grade.customer_state")/$(q $gone "SELECT count(*) FROM crm_grade.verify()")" \
	"1/kept/5/0" "... detaching the dropped table with a WARNING; the other graded, verify() empty"

echo "1..$n"
exit $fail
