#!/usr/bin/env bash
# make test: install missing Debian packages, build and install crm_grade, then run every
# pg_regress, isolation, pgTAP (test/pgtap/*.sql) and TAP script (test/t/*.t) test inside ONE
# throw-away cluster made by pg_virtualenv.
#
#   bash test/run-tests.sh                  the whole thing (what `make test` runs)
#   bash test/run-tests.sh --in-cluster     only the suites; pg_virtualenv calls this with
#                                           PGHOST/PGPORT/PGUSER/PGPASSWORD set
#
# The last line printed is "N passed, M failed", counting test files over the four suites, plus
# one check that the server neither restarted nor reinitialised after a crashed backend during
# the suites.  Exit status is non-zero when any test failed or a suite could not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
LOGDIR="$ROOT/tmp_check/run-tests"   # tmp_check/ is git-ignored and removed by make clean
SUMMARY="$LOGDIR/summary"

if [ "${1:-}" != "--in-cluster" ]; then
    bash test/install-deps.sh
    make clean
    make
    make install
    # make bench-floor's triggers: built only, so that they keep compiling without warnings
    make -C test/bench/floor clean all
    # -t keeps the cluster in a temporary directory even as root, so a stale or concurrent run
    # never collides in /etc/postgresql; UTF8/C.UTF-8 and UTC make the output machine-independent.
    # wal_level=logical: test/t/logical_replication.t replicates between two databases of this
    # cluster (the defaults max_replication_slots = max_wal_senders = 10 and
    # max_worker_processes = 8 leave room for its slot, walsender, apply and table-sync workers
    # besides pg_cron's launcher).
    rm -f "$SUMMARY"
    rc=0
    pg_virtualenv -t -c '--locale=C.UTF-8 --encoding=UTF8' -o timezone=UTC \
        -o shared_preload_libraries=pg_cron -o cron.database_name=postgres -o wal_level=logical \
        bash "$ROOT/test/run-tests.sh" --in-cluster || rc=$?
    # pg_virtualenv prints its own lines (and the server log on failure) after the suites:
    # repeat the summary so that it is the last line.
    if [ -s "$SUMMARY" ]; then
        echo
        cat "$SUMMARY"
    else
        echo "run-tests: the suites did not run (pg_virtualenv exit $rc)" >&2
        [ "$rc" -ne 0 ] || rc=1
    fi
    exit "$rc"
fi

# ---------------------------------------------------------------------------------------------
# Inside the cluster.

rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

PASSED=0
FAILED=0
FAILED_NAMES=()
SUITE_ERRORS=0

note() { printf '\n=== %s\n' "$*"; }

echo "cluster: $(psql -XAtc 'SELECT version()')"
echo "         PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER"
if [ "$(psql -XAtc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'")" -ge 1 ]; then
    echo "pg_cron: preloaded, launcher running (cron.database_name=postgres)"
else
    echo "pg_cron: WARNING: shared_preload_libraries=$(psql -XAtc 'SHOW shared_preload_libraries') but no pg_cron launcher"
fi

# Smoke check: the installed extension can be created at all (the suites below would each
# report it too, but this says it once and plainly, and also when there are no tests yet).
PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists crm_grade_smoke
createdb crm_grade_smoke
if smoke=$(psql -X -v ON_ERROR_STOP=1 -d crm_grade_smoke -Atc "CREATE EXTENSION crm_grade" \
               -c "SELECT extversion FROM pg_extension WHERE extname = 'crm_grade'" 2>&1); then
    echo "CREATE EXTENSION crm_grade: ok, version $(tail -1 <<<"$smoke")"
else
    echo "CREATE EXTENSION crm_grade: FAILED"
    echo "$smoke"
    SUITE_ERRORS=$((SUITE_ERRORS + 1))
    FAILED_NAMES+=("CREATE EXTENSION crm_grade (not a test file, not counted)")
fi
dropdb crm_grade_smoke

# The server must survive the whole run: a backend that crashes makes the postmaster terminate
# every session and reinitialise, which pg_postmaster_start_time() does not show (it changes
# only when the postmaster itself restarts).  So, before the suites: the start time, a session
# that stays connected to the end (a crash terminates it), and where the server log ends now.
# check_server, after the suites, counts as one test.
SERVER_START=$(psql -XAtc "SELECT pg_postmaster_start_time()")
SERVER_LOG=""
for f in "${PGSYSCONFDIR:+${PGSYSCONFDIR%/*}/log/postgresql-${PGVERSION:-}-regress.log}" \
         $(pg_lsclusters -h 2>/dev/null | awk '$2 == "regress" { print $7 }'); do
    if [ -n "$f" ] && [ -r "$f" ]; then SERVER_LOG=$f; break; fi
done
SERVER_LOG_START=0
[ -z "$SERVER_LOG" ] || SERVER_LOG_START=$(stat -c %s "$SERVER_LOG")
SENTINEL_PID=""
coproc SENTINEL { exec psql -X -q -At -d postgres 2>&1; }
echo "SET application_name = 'run-tests sentinel'; SELECT pg_backend_pid();" >&"${SENTINEL[1]}"
read -r -t 30 SENTINEL_PID <&"${SENTINEL[0]}" || true
echo "server:  started $SERVER_START; sentinel session: backend ${SENTINEL_PID:-?}; log: ${SERVER_LOG:-not found}"

# The value of a variable as the Makefile (and PGXS) define it.
make_var() {
    make --no-print-directory -s -f Makefile -f - "print-$1" <<'EOF'
print-%:
	@echo $($*)
EOF
}

# run_pg_regress LABEL VAR OTHER_VAR EXPECTED_DIR OUTPUT_PREFIX TEST...
#   Runs `make installcheck` with VAR set to the tests and OTHER_VAR empty, so the two PGXS
#   suites run separately and a failure in one does not stop the other.
run_pg_regress() {
    local label=$1 var=$2 other=$3 expdir=$4 outdir=$5
    shift 5
    local tests=("$@") present=() missing=() t
    if [ ${#tests[@]} -eq 0 ]; then
        note "$label: no tests found, skipped"
        return 0
    fi
    for t in "${tests[@]}"; do
        if compgen -G "$expdir/$t.out" >/dev/null || compgen -G "$expdir/${t}_[0-9].out" >/dev/null; then
            present+=("$t")
        else
            missing+=("$t")
        fi
    done

    # A test without expected output would make pg_regress abort the whole run; run each such
    # test on its own first so that its actual output is there to be reviewed, and count it failed.
    for t in "${missing[@]}"; do
        note "$label: $t has no $expdir/$t.out"
        make --no-print-directory installcheck "$other=" "$var=$t" >"$LOGDIR/$label-$t-missing.log" 2>&1 || true
        if [ -f "${outdir}results/$t.out" ]; then
            echo "    its output is in ${outdir}results/$t.out: review it, then copy it to $expdir/$t.out"
        else
            echo "    it produced no output; see $LOGDIR/$label-$t-missing.log"
        fi
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$label/$t (no expected output)")
    done

    if [ ${#present[@]} -eq 0 ]; then
        return 0
    fi

    note "$label: make installcheck ($var: ${present[*]})"
    local log="$LOGDIR/$label.log" rc=0
    make --no-print-directory installcheck "$other=" "$var=${present[*]}" 2>&1 | tee "$log" || rc=$?

    # PostgreSQL 15 prints "test NAME ... ok|FAILED" (parallel groups: "     NAME ... ok");
    # 16 and later print "ok 1 - NAME" / "not ok 1 - NAME".
    local ok_names bad_names
    ok_names=$(sed -nE -e 's/^(test +| +)([^ ]+) +\.\.\. +(ok|failed \(ignored\)).*/\2/p' \
                      -e 's/^ok +[0-9]+ +[-+] +([^ ]+).*/\1/p' "$log" | sort -u)
    bad_names=$(sed -nE -e 's/^(test +| +)([^ ]+) +\.\.\. +FAILED.*/\2/p' \
                       -e 's/^not ok +[0-9]+ +[-+] +([^ ]+).*/\1/p' "$log" | sort -u)
    local reported=0
    for t in "${present[@]}"; do
        if grep -qxF -- "$t" <<<"$bad_names"; then
            FAILED=$((FAILED + 1)); FAILED_NAMES+=("$label/$t")
        elif grep -qxF -- "$t" <<<"$ok_names"; then
            PASSED=$((PASSED + 1))
        else
            FAILED=$((FAILED + 1)); FAILED_NAMES+=("$label/$t (did not run)")
            continue
        fi
        reported=$((reported + 1))
    done

    if [ "$rc" -ne 0 ]; then
        [ "$reported" -eq ${#present[@]} ] || SUITE_ERRORS=$((SUITE_ERRORS + 1))
        note "$label FAILED (make installcheck exit $rc)"
        local diffs="${outdir}regression.diffs"
        if [ -s "$diffs" ]; then
            local lines
            lines=$(wc -l <"$diffs")
            echo "--- $ROOT/$diffs ($lines lines)"
            head -n 3000 "$diffs"
            [ "$lines" -le 3000 ] || echo "... (first 3000 lines shown; the rest is in the file)"
            echo "--- end of $ROOT/$diffs"
        else
            echo "(no $diffs; the full log is $log)"
        fi
        echo "actual outputs: $ROOT/${outdir}results/"
    fi
}

# shellcheck disable=SC2207  # test names never contain blanks
REGRESS_TESTS=($(make_var REGRESS))
# shellcheck disable=SC2207
ISOLATION_TESTS=($(make_var ISOLATION))

run_pg_regress regress REGRESS ISOLATION expected "" "${REGRESS_TESTS[@]}"
run_pg_regress isolation ISOLATION REGRESS test/isolation/expected output_iso/ "${ISOLATION_TESTS[@]}"

# The same two suites with work_mem at its minimum, 64kB: a statement that writes more than a few
# rows then spills crm_grade's work to a sort on disk (src/work.c), so the spilled path is checked
# by every test, not only by 40_statement_memory and 41_statement_memory_kept.
SAVED_PGOPTIONS=${PGOPTIONS-}
export PGOPTIONS="$SAVED_PGOPTIONS -c work_mem=64kB"
run_pg_regress regress-64kB REGRESS ISOLATION expected "" "${REGRESS_TESTS[@]}"
run_pg_regress isolation-64kB ISOLATION REGRESS test/isolation/expected output_iso/ "${ISOLATION_TESTS[@]}"
export PGOPTIONS="$SAVED_PGOPTIONS"

# run_tap LABEL GLOB_DESCRIPTION COMMAND... -- FILE...
#   Runs a TAP harness (pg_prove or prove) over the files and counts them: a file passed when the
#   harness printed "FILE ..... ok" (or "skipped") for it and did not list it in its "Test Summary
#   Report" ("FILE   (Wstat: ..."); any other file failed.
run_tap() {
    local label=$1 what=$2
    shift 2
    local cmd=() files=() f
    while [ "$1" != "--" ]; do cmd+=("$1"); shift; done
    shift
    files=("$@")
    if [ ${#files[@]} -eq 0 ]; then
        note "$label: no test files in $what, skipped (0 $label tests run)"
        return 0
    fi
    note "$label: ${cmd[*]} $what"
    local log="$LOGDIR/$label.log" rc=0 ok bad failed=0
    "${cmd[@]}" "${files[@]}" 2>&1 | tee "$log" || rc=$?
    # a file's verdict follows its progress line, on the same line or, when the file printed
    # diagnostics meanwhile, on a line of its own
    ok=$(awk '/^[^ ]+ \.+ ?/ { f = $1; if ($0 ~ / (ok|skipped)/) { print f; f = "" }; next }
              f != "" && /^(ok|skipped)/ { print f; f = "" }' "$log" | sort -u)
    bad=$(sed -nE 's/^([^ ]+) +\(Wstat: .*/\1/p' "$log" | sort -u)
    for f in "${files[@]}"; do
        if grep -qxF -- "$f" <<<"$bad" || ! grep -qxF -- "$f" <<<"$ok"; then
            failed=$((failed + 1)); FAILED_NAMES+=("$label/$(basename "$f")")
        fi
    done
    if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
        # The harness failed although every file looked fine: count them all failed.
        failed=${#files[@]}
        FAILED_NAMES+=("$label (${cmd[0]} exit $rc, see $log)")
    fi
    PASSED=$((PASSED + ${#files[@]} - failed))
    FAILED=$((FAILED + failed))
}

shopt -s nullglob
PGTAP_FILES=(test/pgtap/*.sql)
SHELL_TAP_FILES=(test/t/*.t)
shopt -u nullglob

# pgTAP: each file creates its own extensions inside a transaction and rolls back.
PGOPTIONS="-c client_min_messages=warning" dropdb --if-exists crm_grade_tap
createdb crm_grade_tap
run_tap pgtap 'test/pgtap/*.sql' pg_prove -d crm_grade_tap --ext .sql --failures -- "${PGTAP_FILES[@]}"

# TAP scripts (e.g. pg_dump/pg_restore round trips) that make their own databases through
# PGHOST/PGPORT; prove runs each by its #! line.
run_tap tap 'test/t/*.t' prove --failures -- "${SHELL_TAP_FILES[@]}"

# The server did not restart and no backend crashed during the suites (see above).
check_server() {
    local problems=() now pid="" crashes=""
    note "server: no restart, no crashed backend during the suites"
    if ! now=$(psql -XAtc "SELECT pg_postmaster_start_time()" 2>&1); then
        problems+=("the server does not answer: $now")
    elif [ "$now" != "$SERVER_START" ]; then
        problems+=("pg_postmaster_start_time() was $SERVER_START before the suites and is $now after: the server restarted")
    fi
    if [ -n "${SENTINEL[1]:-}" ] && { echo "SELECT pg_backend_pid();" >&"${SENTINEL[1]}"; } 2>/dev/null; then
        read -r -t 30 pid <&"${SENTINEL[0]}" || true
    fi
    if [ -z "$SENTINEL_PID" ] || [ "$pid" != "$SENTINEL_PID" ]; then
        problems+=("the session opened before the suites (backend ${SENTINEL_PID:-?}) did not survive them${pid:+ (it says: $pid)}: a backend crashed and the server reinitialised, or it was terminated")
    fi
    if [ -n "$SERVER_LOG" ]; then
        crashes=$(tail -c +"$((SERVER_LOG_START + 1))" "$SERVER_LOG" |
                  grep -E -A2 'terminated by signal|was terminated by exception|exited with exit code ([2-9]|[1-9][0-9])|all server processes terminated|terminating any other active server processes|PANIC:' || true)
        [ -z "$crashes" ] || problems+=("the server log reports a crash")
    else
        problems+=("the server log was not found, so it could not be searched for crashes")
    fi
    if [ ${#problems[@]} -eq 0 ]; then
        echo "ok: the server ran from $SERVER_START to the end, the sentinel session survived, the log shows no crash"
        PASSED=$((PASSED + 1))
    else
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        echo "!!! THE SERVER RESTARTED OR A BACKEND CRASHED DURING THE SUITES"
        printf '!!! %s\n' "${problems[@]}"
        if [ -n "$crashes" ]; then
            echo "!!! from $SERVER_LOG:"
            printf '%s\n' "$crashes" | head -n 60
        fi
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("server: restarted or a backend crashed during the suites")
    fi
    local fd=${SENTINEL[1]:-}
    [ -z "$fd" ] || exec {fd}>&-   # end the sentinel session
}
check_server

echo
if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
    echo "failed:"
    printf '    %s\n' "${FAILED_NAMES[@]}"
fi
echo "logs: $LOGDIR"
echo "$PASSED passed, $FAILED failed" | tee "$SUMMARY"
if [ "$FAILED" -gt 0 ] || [ "$SUITE_ERRORS" -gt 0 ]; then
    exit 1
fi
