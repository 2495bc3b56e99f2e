# Shared by the TAP tests in this folder (sourced, not run: prove only runs *.t).
# Each test counts its assertions in n and exits with $fail.
n=0
fail=0

# q DB SQL: the result, unaligned (one value, or lines).  An error goes to
# stderr as TAP diagnostics and the result is the word ERROR, so the
# assertion that reads it fails instead of the whole script stopping.
q() {
	local out
	if ! out=$(psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/# /' >&2
		printf 'ERROR\n'
		return 1
	fi
	printf '%s\n' "$out"
}

# is GOT EXPECTED NAME
is() {
	n=$((n + 1))
	if [ "$1" = "$2" ]; then echo "ok $n - $3"; else
		echo "not ok $n - $3"; fail=1
		printf '%s\n' "got:" "$1" "expected:" "$2" | sed 's/^/#   /'
	fi
}

# ok STATUS NAME [DIAGNOSTICS]: passes when STATUS is 0
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; fail=1
		[ -z "${3:-}" ] || printf '%s\n' "$3" | sed 's/^/#   /'
	fi
}

# same DB1 DB2 SQL NAME: the COPY output of SQL is identical in both
# databases (needs $tmp, a scratch folder)
same() {
	q "$1" "COPY ($3) TO STDOUT" >"$tmp/same.1"
	q "$2" "COPY ($3) TO STDOUT" >"$tmp/same.2"
	ok "$(cmp -s "$tmp/same.1" "$tmp/same.2"; echo $?)" "$4" "$(diff "$tmp/same.1" "$tmp/same.2" | head -20)"
}
