#!/usr/bin/env bash
# make demo: install missing Debian packages, build and install crm_grade, then run test/demo.sql
# (a sample CRM, graded and printed) in a throw-away cluster made by pg_virtualenv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -f test/demo.sql ]; then
    echo "demo: test/demo.sql does not exist" >&2
    exit 1
fi

bash test/install-deps.sh
make
make install
pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC \
    -o shared_preload_libraries=pg_cron -o cron.database_name=postgres \
    psql -X -v ON_ERROR_STOP=1 -f test/demo.sql
