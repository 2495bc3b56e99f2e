#!/usr/bin/env bash
# Regenerate test/upgrade/crm_grade-0.1.sql: a plain-format pg_dump of a database graded by
# crm_grade 0.1 (its own library, its own SQL), which test/t/upgrade.t restores into a database
# where crm_grade is created at version 0.1 and then updates to 0.2.
#
#   bash test/upgrade/make-fixture.sh [COMMIT]      (COMMIT: the last 0.1 commit, b2e98a3)
#
# How, without touching the installed PostgreSQL or the installed crm_grade 0.2:
#   1. a git worktree of COMMIT in a temporary directory, built there with `make`;
#   2. a private copy of the PostgreSQL 15 server (/usr/lib/postgresql/15 and
#      /usr/share/postgresql/15) in the same temporary directory, with crm_grade removed from it
#      and the 0.1 build installed into it (make install DESTDIR=...).  PostgreSQL finds its
#      share/ and lib/ directories relative to its binaries, so that server sees crm_grade 0.1
#      only (PostgreSQL 15 has no extension_control_path);
#   3. initdb and a server on a Unix socket in the temporary directory (run as the postgres
#      user when this script runs as root), the SQL below, pg_dump, and everything removed.
# Needs: git, make, the PostgreSQL 15 server and server-dev packages (what `make` needs anyway).
#
# The dump is deterministic apart from its "Dumped from/by version" header and the random key of
# its \restrict line (pg_dump 15.14 and later; psql 15.14 or later reads it): every computation
# runs at crm_grade.as_of = '2026-06-15 12:00+00' (the moment test/t/upgrade.t uses), and the
# attach times are set to fixed values.  Review the diff before committing a regenerated file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
COMMIT=${1:-b2e98a3}
OUT="$ROOT/test/upgrade/crm_grade-0.1.sql"
PGVER=15

TMP=$(mktemp -d /tmp/crm_grade_fixture.XXXXXX)
chmod 755 "$TMP"
WT="$TMP/src"
PGROOT="$TMP/pg"
DATA="$TMP/data"
SOCK="$TMP/sock"
PORT=54391
BIN="$PGROOT/usr/lib/postgresql/$PGVER/bin"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
	set +e
	[ -f "$DATA/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1
	git -C "$ROOT" worktree remove --force "$WT" >/dev/null 2>&1
	rm -rf "$TMP"
}
trap cleanup EXIT

echo "make-fixture: building crm_grade at $COMMIT in $WT"
git -C "$ROOT" worktree add --quiet --detach "$WT" "$COMMIT" >/dev/null
grep -q "^default_version = '0.1'" "$WT/crm_grade.control" || { echo "$COMMIT is not crm_grade 0.1" >&2; exit 1; }
make -C "$WT" -s >/dev/null

echo "make-fixture: private PostgreSQL $PGVER with crm_grade 0.1 in $PGROOT"
mkdir -p "$PGROOT/usr/lib/postgresql" "$PGROOT/usr/share/postgresql"
cp -a "/usr/lib/postgresql/$PGVER" "$PGROOT/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PGVER" "$PGROOT/usr/share/postgresql/"
rm -rf "$PGROOT/usr/share/postgresql/$PGVER/extension/crm_grade"* \
	"$PGROOT/usr/lib/postgresql/$PGVER/lib/crm_grade.so" \
	"$PGROOT/usr/lib/postgresql/$PGVER/lib/bitcode/crm_grade"*
make -C "$WT" -s install DESTDIR="$PGROOT" >/dev/null
[ "$("$BIN/pg_config" --sharedir)" = "$PGROOT/usr/share/postgresql/$PGVER" ] ||
	{ echo "the private PostgreSQL copy does not find its own share directory" >&2; exit 1; }

mkdir -p "$DATA" "$SOCK"
[ "$(id -u)" != 0 ] || chown postgres: "$DATA" "$SOCK"
as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --locale=C.UTF-8 --encoding=UTF8 --no-sync >/dev/null
as_pg "$BIN/pg_ctl" -D "$DATA" -w -l "$DATA/server.log" \
	-o "-p $PORT -k $SOCK -c listen_addresses='' -c fsync=off -c timezone=UTC" start >/dev/null
export PGHOST="$SOCK" PGPORT="$PORT" PGUSER=postgres PGDATABASE=postgres
unset PGPASSWORD PGSERVICE PGSYSCONFDIR
versions=$("$BIN/psql" -X -At -c "SELECT string_agg(version, ',') FROM pg_available_extension_versions WHERE name = 'crm_grade'")
[ "$versions" = "0.1" ] || { echo "private server offers crm_grade versions '$versions', not just 0.1" >&2; exit 1; }

"$BIN/createdb" crm_grade_fixture
"$BIN/psql" -X -q -v ON_ERROR_STOP=1 -d crm_grade_fixture -o /dev/null <<'SQL'
\set VERBOSITY terse
-- Everything is computed at one moment, T = 2026-06-15 12:00 UTC; calendar months in UTC.
SET crm_grade.as_of = '2026-06-15 12:00+00';
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION crm_grade;

CREATE SCHEMA app;
-- The customer master: integer keys, owners, attributes.
CREATE TABLE app.customers (
	id			integer PRIMARY KEY,
	owner		text,
	created_at	timestamptz,
	attrs		jsonb
);
-- Orders: integer key, numeric amount, timestamptz times.
CREATE TABLE app.orders (
	id			serial PRIMARY KEY,
	customer_id	integer NOT NULL,
	amount		numeric(12,2) NOT NULL,
	ordered_at	timestamptz NOT NULL,
	paid_at		timestamptz
);
CREATE INDEX orders_customer_id_idx ON app.orders (customer_id);
-- A second order table: bigint key (so 0.2's views, typed with the widest key, become bigint
-- where 0.1 typed them with the master's integer), timestamp and date times.
CREATE TABLE app.store_orders (
	id			bigserial PRIMARY KEY,
	customer_id	bigint NOT NULL,
	total		numeric NOT NULL,
	ordered_on	timestamp NOT NULL,
	paid_on		date
);
CREATE INDEX store_orders_customer_id_idx ON app.store_orders (customer_id);

-- 20 customers in the master; 19 and 20 stay prospects until orders arrive below.
INSERT INTO app.customers
SELECT i, 'rep' || (i % 3 + 1), timestamptz '2024-01-01' + i * interval '10 days',
	   jsonb_build_object('industry_outlook', i % 5 * 20)
  FROM generate_series(1, 20) i;

-- Customer 1: an order in 2025-01, then one every month from 2025-06-20 to 2026-06-10, 13
-- calendar months inside the 12-month window (2025-06-15, 2026-06-15]: 0.1 stores
-- repurchase_rate 13/12, 0.2 caps it at 1.  core under four_class.
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (1, 20000, '2025-01-10 10:00+00', '2025-01-20 10:00+00');
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at)
SELECT 1, 10000, timestamptz '2025-06-20 10:00+00' + m * interval '1 month',
	   timestamptz '2025-06-20 10:00+00' + m * interval '1 month' + interval '5 days'
  FROM generate_series(0, 11) m;
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (1, 10000, '2026-06-10 10:00+00', '2026-06-12 10:00+00');
-- Customer 2: paid 10 days after one order, and 20 days after another on 2026-06-30, after T:
-- 0.1 stores avg_payment_days 15, 0.2 counts only the payment made by T: 10.
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES
	(2, 30000, '2026-05-01 09:00+00', '2026-05-11 09:00+00'),
	(2, 30000, '2026-06-10 09:00+00', '2026-06-30 09:00+00');
-- Customers 3..12: a few orders each, some unpaid.
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at)
SELECT c, 1000 * ((c * 7 + k * 13) % 40 + 1),
	   timestamptz '2025-03-01 08:00+00' + ((c * 37 + k * 53) % 460) * interval '1 day',
	   CASE WHEN k % 3 <> 0 THEN timestamptz '2025-03-01 08:00+00' + ((c * 37 + k * 53) % 460 + c % 9) * interval '1 day' END
  FROM generate_series(3, 12) c, generate_series(1, 4 + c % 4) k;
-- Orders of customers that are not in the master.
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES
	(101, 45000, '2026-02-01 12:00+00', '2026-02-03 12:00+00'),
	(101, 20000, '2026-04-01 12:00+00', NULL),
	(102, 700, '2024-11-11 11:11+00', '2024-11-12 11:11+00');
-- The second order table: customers 4, 5, 13 and 103 (not in the master).
INSERT INTO app.store_orders (customer_id, total, ordered_on, paid_on)
SELECT c, 500 * (k + c), timestamp '2025-08-01 14:30' + (k * 29 + c) * interval '1 day',
	   CASE WHEN k % 2 = 0 THEN date '2025-08-01' + (k * 29 + c + 3)::integer END
  FROM unnest('{4,5,13,103}'::bigint[]) c, generate_series(1, 6) k;

-- Attach: back-fill, history reason 'attach'.  Attach times fixed for a reproducible dump.
SELECT crm_grade.attach_customers('app.customers', 'id', 'owner', 'created_at', 'attrs');
SELECT crm_grade.attach_orders('app.orders', 'customer_id', 'amount', 'ordered_at', 'paid_at');
SELECT crm_grade.attach_orders('app.store_orders', 'customer_id', 'total', 'ordered_on', 'paid_on');

-- A table attached and detached again (history reason 'detach' for the grades it moved), then dropped.
CREATE TABLE app.import_orders (customer_id integer NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
CREATE INDEX ON app.import_orders (customer_id);
INSERT INTO app.import_orders VALUES (3, 600000, '2026-06-01'), (8, 150000, '2026-05-01');
SELECT crm_grade.attach_orders('app.import_orders', 'customer_id', 'amount', 'at');
SELECT crm_grade.detach('app.import_orders');
DROP TABLE app.import_orders;

-- Writes under the default policy abc: 'first_order', 'order', 'refund'.
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (19, 120000, '2026-06-01 10:00+00', '2026-06-02 10:00+00');
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (2, 500000, '2026-06-11 10:00+00', NULL);
INSERT INTO app.orders (customer_id, amount, ordered_at, paid_at) VALUES (2, -460000, '2026-06-12 10:00+00', NULL);

-- Two user policies: 'payers' (stored, never active) and 'outlook' (grades on an attribute);
-- under 'outlook', master writes move grades: 'policy', 'customer_updated', 'customer_deleted'.
INSERT INTO crm_grade.policy (name, definition, description) VALUES ('payers',
	'{"kind": "rules", "default": "slow",
	  "grades": [{"grade": "loyal", "when": {"metric": "repurchase_rate", "op": ">=", "value": 1}},
				 {"grade": "prompt", "when": {"all": [{"metric": "avg_payment_days", "op": "<=", "value": 12}]}}],
	  "cadence": {"loyal": "7 days", "prompt": "14 days", "slow": "30 days"}}',
	'loyal: an order every month; prompt: pays within 12 days; slow: the rest'),
('outlook',
	'{"kind": "rules", "default": "dim",
	  "grades": [{"grade": "bright", "when": {"metric": "attr.industry_outlook", "op": ">=", "value": 60}}],
	  "cadence": {"bright": "14 days", "dim": "60 days"}}',
	'bright: the account manager rates the industry outlook 60 or more');
SELECT crm_grade.use_policy('outlook');
UPDATE app.customers SET attrs = '{"industry_outlook": 80}' WHERE id = 11;
DELETE FROM app.customers WHERE id = 9;

-- four_class made active ('policy'), and writes under it: 'first_order', 'order_updated',
-- 'order_deleted', 'customer_created'.
SELECT crm_grade.use_policy('four_class');
INSERT INTO app.store_orders (customer_id, total, ordered_on, paid_on) VALUES (20, 900, '2026-06-14 09:00', '2026-06-14');
UPDATE app.orders SET amount = 10000 WHERE customer_id = 101 AND amount = 45000;
DELETE FROM app.orders WHERE id = (SELECT id FROM app.orders WHERE customer_id = 6 AND ordered_at > '2025-06-15 12:00+00'
									ORDER BY amount DESC, id LIMIT 1);
DELETE FROM app.orders WHERE customer_id = 102;
INSERT INTO app.customers VALUES (21, 'rep2', '2026-06-01 00:00+00', '{"industry_outlook": 80}');
UPDATE app.customers SET owner = 'rep3', attrs = attrs || '{"expansion": 60}' WHERE id = 5;
-- an attribute that is not a number (0.2 lists it in data_issues); four_class does not read it
UPDATE app.customers SET attrs = '{"service_level": "gold", "referral": 40}' WHERE id = 7;

INSERT INTO crm_grade.holiday VALUES ('2026-01-01', 'New Year'), ('2026-12-25', 'Christmas');
UPDATE crm_grade.source SET attached_at = timestamptz '2026-06-01 08:00+00' + (SELECT count(*) FROM crm_grade.source s2 WHERE s2.tbl::oid < source.tbl::oid) * interval '1 minute';

-- 0.1's own oracle agrees with its stored state.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM crm_grade.verify()) THEN
		RAISE EXCEPTION 'crm_grade 0.1 verify() is not empty: %', (SELECT string_agg(v::text, '; ') FROM crm_grade.verify() v);
	END IF;
END $$;
SQL

"$BIN/psql" -X -At -d crm_grade_fixture -c "SELECT 'make-fixture: ' || count(*) || ' customers, history reasons: ' || (SELECT string_agg(reason || ' ' || n, ', ' ORDER BY reason) FROM (SELECT reason, count(*) n FROM crm_grade.history GROUP BY reason) h) FROM crm_grade.customer_state"
"$BIN/pg_dump" --no-owner --no-privileges -d crm_grade_fixture -f "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "make-fixture: wrote $OUT ($(wc -l <"$OUT") lines)"
