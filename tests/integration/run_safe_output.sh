#!/usr/bin/env bash
# run_safe_output.sh - `lingerlab run` with strings from outside that are not
# UTF-8 (issue 13): a scenario whose `about` holds raw Latin-1 and 0x9B bytes
# and, through \xHH escapes, an ESC sequence, and a capture path with an ESC
# and a Latin-1 byte. The run writes its report (before the fix jansson
# refused those strings and the run ended with "out of memory"), the report
# is valid JSON that matches the schema with each invalid byte as its
# Latin-1 character, and the summary shows the capture path escaped.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run with strings that are not UTF-8"
mapfile -t targs < <(run_target_args)

printf '# about-bytes - an about line no terminal should see raw\nscenario about-bytes\nabout "caf\xe9 \\x1b[2J \x9b end"\nrtt 10ms\nconnect\nrequest GET /index.html close\nwait closed 5s\nexpect response 1 status 200 complete\n' \
	>"$TEST_TMP/about.scn"
cap=$(printf '%s/cap\033[2J\xe9.pcap' "$TEST_TMP")
"$LINGERLAB" run --builtin close "${targs[@]}" -w "$cap" -o "$TEST_TMP/r.json" "$TEST_TMP/about.scn" \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err"
check_eq "run: exit 0" 0 "$?"
check_eq "run: nothing on stderr" "" "$(cat "$TEST_TMP/err")"
check_jq "run: the report is valid JSON" "$TEST_TMP/r.json" "type == \"object\""
check "run: the report matches the schema" \
	tests/support/validate-json reports/schema/report.schema.json "$TEST_TMP/r.json"
check_jq "run: about, each invalid byte as its Latin-1 character, the ESC kept (JSON escapes it)" \
	"$TEST_TMP/r.json" '.scenarios[0].about == "caf\u00e9 \u001b[2J \u009b end"'
check_jq "run: the capture path, the same way" "$TEST_TMP/r.json" \
	".lab.capture == \"$TEST_TMP/cap\\u001b[2J\\u00e9.pcap\" and .input.source == .lab.capture"
check "run: the summary names the capture escaped" \
	grep -qxF "capture: $TEST_TMP/cap\\x1b[2J\\xe9.pcap" "$TEST_TMP/out"
check_eq "run: no ESC in the summary" 0 "$(LC_ALL=C grep -ca $'\033' "$TEST_TMP/out")"
finish
