#!/usr/bin/env bash
# make memcheck / make sanitize: the pg_regress suite, the isolation specs and the generated pgTAP
# workloads against a
# server started for the purpose, with crm_grade built without optimisation and
#
#   bash test/memcheck.sh valgrind   every backend under valgrind memcheck (--track-origins)
#   bash test/memcheck.sh sanitize   crm_grade built with gcc's UndefinedBehaviorSanitizer
#                                    (overflows, misaligned or null accesses, out-of-bounds
#                                    indexes of known arrays, bad shifts and enum values)
#
# and reports every error in whose stack (or origin) a crm_grade function appears.  PostgreSQL's
# own reports (Debian's postgres is not built for valgrind: WAL and relcache padding writes, its
# regex cache) are counted and listed in the log folder, not failed on.  Not part of `make test`:
# under valgrind the suites take about an hour.  Works in /tmp/crm_grade-MODE (or
# $CRM_GRADE_MEMCHECK_DIR) and leaves the normal build and installation alone.
# Exit status 0 only when no crm_grade error was found and every test passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
MODE=${1:-valgrind}
case $MODE in valgrind | sanitize) ;; *) echo "usage: $0 [valgrind|sanitize]" >&2; exit 2 ;; esac

bash test/install-deps.sh valgrind || exit 1
# Everything happens in a folder of its own, outside the source tree: a copy of the sources, a
# private copy of the PostgreSQL installation (PostgreSQL finds its libraries, headers and share folder
# relative to its binaries) into which the instrumented build is installed, and the logs.  So
# `make test` can run meanwhile, and the normal installation is never touched.
WORK=${CRM_GRADE_MEMCHECK_DIR:-/tmp/crm_grade-$MODE}
LOGDIR=$WORK/log
rm -rf "$WORK"
mkdir -p "$WORK/src" "$WORK/pg" "$LOGDIR"
chmod 755 "$WORK"
tar -C "$ROOT" --exclude=./.git --exclude=./tmp_check -cf - . | tar -C "$WORK/src" -xf -
for d in "$(dirname "$(pg_config --bindir)")" "$(pg_config --sharedir)" "$(pg_config --includedir)"; do
    mkdir -p "$WORK/pg$(dirname "$d")" && cp -a "$d" "$WORK/pg$(dirname "$d")/" || exit 1
done
PG_CONFIG=$WORK/pg$(pg_config --bindir)/pg_config
BINDIR=$("$PG_CONFIG" --bindir)
[ "$BINDIR" = "$WORK/pg$(pg_config --bindir)" ] ||
    { echo "memcheck: this PostgreSQL is not relocatable ($BINDIR)" >&2; exit 1; }
export PATH="$BINDIR:$PATH"
cd "$WORK/src"
RUNAS=()
[ "$(id -u)" -ne 0 ] || RUNAS=(runuser -u postgres --)

# The instrumented build.
COPT='-O0 -g -fno-omit-frame-pointer'
# (AddressSanitizer is left to valgrind: it would have to be preloaded into Debian's postgres,
# whose postmaster then hangs at start.)
LINK=
[ "$MODE" = valgrind ] || { COPT="$COPT -fsanitize=undefined -fno-sanitize-recover=all"; LINK=-lubsan; }
make clean PG_CONFIG="$PG_CONFIG" >/dev/null
make PG_CONFIG="$PG_CONFIG" COPT="$COPT" SHLIB_LINK="$LINK" >"$LOGDIR/build.log" 2>&1 &&
    make PG_CONFIG="$PG_CONFIG" install >>"$LOGDIR/build.log" 2>&1 ||
    { cat "$LOGDIR/build.log"; exit 1; }

# A cluster of its own, in a temporary folder, on a free port.
DATA=$(mktemp -d /tmp/crm_grade_memcheck.XXXXXX)
chmod 755 "$DATA"
[ ${#RUNAS[@]} -eq 0 ] || chown postgres "$DATA"
export PGHOST=$DATA PGPORT=$((50000 + RANDOM % 10000)) PGUSER=postgres
SERVER=("$BINDIR/postgres" -D "$DATA/data" -p "$PGPORT" -k "$DATA" -c listen_addresses=
        -c fsync=off -c timezone=UTC -c max_connections=20 -c log_min_messages=warning)
SERVER_PID=""
# Stopped through pg_ctl: SERVER_PID is runuser's (or valgrind's), not the postmaster's.
stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    # (A fast shutdown that arrives during crash recovery can leave the postmaster waiting:
    # then immediate.)
    "${RUNAS[@]}" "$BINDIR/pg_ctl" -D "$DATA/data" stop -m fast -w -t 300 >/dev/null 2>&1 ||
        "${RUNAS[@]}" "$BINDIR/pg_ctl" -D "$DATA/data" stop -m immediate -w -t 60 >/dev/null 2>&1 ||
        pkill -KILL -f -- "-D $DATA/data"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
stop() {
    stop_server
    rm -rf "$DATA"
}
trap stop EXIT
"${RUNAS[@]}" "$BINDIR/initdb" -D "$DATA/data" -U postgres --locale=C.UTF-8 -E UTF8 >"$LOGDIR/initdb.log" 2>&1 ||
    { cat "$LOGDIR/initdb.log"; exit 1; }
if [ "$MODE" = valgrind ]; then
    # The postmaster forks its backends without exec: one log per process (%p).
    "${RUNAS[@]}" valgrind --quiet --tool=memcheck --trace-children=yes --track-origins=yes \
        --leak-check=no --num-callers=40 --error-limit=no --log-file="$DATA/vg.%p.log" \
        "${SERVER[@]}" >"$LOGDIR/server.log" 2>&1 &
else
    "${RUNAS[@]}" env UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path="$DATA/ubsan" \
        "${SERVER[@]}" >"$LOGDIR/server.log" 2>&1 &
fi
SERVER_PID=$!
for _ in $(seq 1 300); do pg_isready -q && break; sleep 1; done
pg_isready -q || { echo "memcheck: the server did not start"; cat "$LOGDIR/server.log"; exit 1; }

# The suites: pg_regress, the isolation specs, then the generated workloads and the policy
# properties.
rc=0
# CRM_GRADE_MEMCHECK_REGRESS (test names), CRM_GRADE_MEMCHECK_ISOLATION (spec names) and
# CRM_GRADE_MEMCHECK_PGTAP (pgTAP file names), each possibly "none", run a part of the suites, to check a change in less than the hours the whole
# takes.
if [ "${CRM_GRADE_MEMCHECK_REGRESS:-}" != none ]; then
    make --no-print-directory PG_CONFIG="$PG_CONFIG" installcheck ISOLATION= \
        ${CRM_GRADE_MEMCHECK_REGRESS:+REGRESS="$CRM_GRADE_MEMCHECK_REGRESS"} 2>&1 | tee "$LOGDIR/regress.log" || rc=1
fi
# The isolation specs (concurrent writers, DDL against writers: the lock-order code runs only
# there), unless CRM_GRADE_MEMCHECK_ISOLATION says which (or "none").  Under valgrind a step can
# take seconds; the specs' waits are for locks, not for time.
if [ "${CRM_GRADE_MEMCHECK_ISOLATION:-}" != none ]; then
    make --no-print-directory PG_CONFIG="$PG_CONFIG" installcheck REGRESS= \
        ${CRM_GRADE_MEMCHECK_ISOLATION:+ISOLATION="$CRM_GRADE_MEMCHECK_ISOLATION"} 2>&1 | tee "$LOGDIR/isolation.log" || rc=1
fi
createdb crm_grade_tap
# (copies without their 60-second statement_timeout, which a backend under valgrind exceeds)
mkdir -p "$LOGDIR/pgtap"
cp -r test/pgtap/include "$LOGDIR/pgtap/"
PGTAP_FILES=${CRM_GRADE_MEMCHECK_PGTAP:-01_workload 04_workload_paths 05_workload_filters 06_workload_lifecycle 07_policy_properties 08_workload_policies 09_workload_removals}
[ "$PGTAP_FILES" = none ] && PGTAP_FILES=
for f in $PGTAP_FILES; do
    sed '/statement_timeout/d' "test/pgtap/$f.sql" >"$LOGDIR/pgtap/$f.sql"
done
if [ -n "$PGTAP_FILES" ]; then
    pg_prove -d crm_grade_tap --ext .sql $(for f in $PGTAP_FILES; do echo "$LOGDIR/pgtap/$f.sql"; done) \
        2>&1 | tee "$LOGDIR/pgtap.log" || rc=1
fi
stop_server

# Every report, and those with a crm_grade function in them (our sources were built with -g, so
# their frames name src files; Debian's postgres is stripped and names none).
ours="\\(($(cd "$WORK/src/src" && ls *.c | sed 's/\.c$//' | paste -sd '|'))\\.c:[0-9]+\\)|crm_grade\\.so"
if [ "$MODE" = valgrind ]; then
    # A report is a run of "==PID== " lines between blank "==PID== " lines.
    cat "$DATA"/vg.*.log 2>/dev/null | awk '
        /^==[0-9]+== *$/ { if (b != "") print b "\n"; b = ""; next }
        /^==[0-9]+== / { b = b $0 "\n" }
        END { if (b != "") print b }' >"$LOGDIR/reports.txt"
    all=$(grep -c -E '^==[0-9]+== [A-Z]' "$LOGDIR/reports.txt" || true)
    # Ours: a crm_grade frame in the stack or the origin; except when PostgreSQL's shared
    # invalidation messages are the innermost part: their padding bytes, read when a backend
    # processes them (its smgr hash) or written into the commit record's WAL after a catalog
    # change made them, which Debian's build, not made for valgrind, reports whoever ran the
    # DDL or accepted the messages (crm_grade's frames, if any, being only its callers).
    awk -v RS= -v re="$ours" '
        $0 !~ re { next }
        {
            n = split($0, L, "\n"); first = 0; sinval = 0
            for (i = 1; i <= n && !first; i++) {
                if (L[i] ~ re) first = i
                else if (L[i] ~ /ReceiveSharedInvalidMessages|PrepareToInvalidateCacheTuple|CacheInvalidateHeapTuple/) sinval = 1
            }
            if (sinval) { print > pg; print "" > pg; next }
            print; print ""
        }' pg="$LOGDIR/postgresql-sinval-reports.txt" "$LOGDIR/reports.txt" >"$LOGDIR/crm_grade-reports.txt"
else
    cat "$DATA"/ubsan.* >"$LOGDIR/reports.txt" 2>/dev/null
    grep -E 'runtime error' "$LOGDIR/server.log" >>"$LOGDIR/reports.txt"
    all=$(grep -c -E 'runtime error' "$LOGDIR/reports.txt" || true)
    cp "$LOGDIR/reports.txt" "$LOGDIR/crm_grade-reports.txt"
fi
mine=$(grep -c -E '^(==[0-9]+== [A-Z]|.*runtime error)' "$LOGDIR/crm_grade-reports.txt" || true)

# A backend that crashed (a sanitizer aborts it) counts as one of ours too.
crashes=$(grep -c -E 'terminated by signal|was terminated by exception' "$LOGDIR/server.log" || true)
mine=$((mine + crashes))

echo
echo "$MODE: $all reports in all, $mine with crm_grade in them (logs: $LOGDIR)"
[ "$mine" -eq 0 ] || { cat "$LOGDIR/crm_grade-reports.txt"; rc=1; }
exit "$rc"
