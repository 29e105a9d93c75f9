#!/usr/bin/env bash
# exit_codes.sh - the exit codes CI tells apart (issue 10), each the same
# as the report's verdict.exit_code: 0 every expectation holds, 1 one
# failed, 2 bad usage, 4 the lab could not vouch for its result. Exit 4 is
# made for real: while `lingerlab run` waits between its connect and its
# request, the test gives the raw client's address to the lab's client
# namespace, whose kernel then answers the server's segments with RSTs of
# its own (leaked RSTs: what the raw client sees is no longer the whole
# conversation). (3, the environment, is in run_cli.sh and audit.sh: not
# root; analyze -i's 4, kernel drops, in analyze_live.sh.)
source tests/lib.sh
source tests/integration/run_common.bash

# 2: usage, for every command, before anything runs
for cmd in run audit diff analyze; do
	"$LINGERLAB" "$cmd" --no-such-option >/dev/null 2>&1
	check_eq "$cmd --no-such-option: exit 2" 2 "$?"
done
err=$("$LINGERLAB" audit --builtin close --frob 2>&1)
check_eq "audit: a mistyped option gets run's one-line answer" \
	"lingerlab audit: unknown option '--frob'
(lingerlab audit --help shows the usage)" "$err"
"$LINGERLAB" --help | tr "\n" " " | grep -q "4 the lab could not *vouch"
check_eq "lingerlab --help lists exit 4" 0 "$?"
for cmd in run audit; do
	"$LINGERLAB" "$cmd" --help | tr '\n' ' ' | grep -q "4 the lab could not vouch for *the result"
	check_eq "$cmd --help lists exit 4" 0 "$?"
done

need_lab "exit codes of lab runs"
mapfile -t targs < <(run_target_args)

cat >"$TEST_TMP/late.scn" <<'SCN'
# late - a GET sent 3 s after the handshake
scenario late
rtt 10ms
connect
sleep 3s
request GET /index.html close
wait response 5s
wait closed 5s
expect responses == 1
SCN

# 0 and 1, with the verdict saying the same
"$LINGERLAB" run --builtin linger "${targs[@]}" -q -o "$TEST_TMP/ok.json" scenarios/clean-close.scn
check_eq "all expectations hold: exit 0" 0 "$?"
check_jq "... verdict.exit_code 0" "$TEST_TMP/ok.json" '.verdict.exit_code == 0'
"$LINGERLAB" run --builtin close "${targs[@]}" -q -o "$TEST_TMP/fail.json" scenarios/pipelined-404.scn
check_eq "an expectation failed: exit 1" 1 "$?"
check_jq "... verdict.exit_code 1, nothing unvouched" "$TEST_TMP/fail.json" \
	'.verdict.exit_code == 1 and .lab.leaked_rst == 0 and .lab.capture_dropped == 0 and .lab.cleanup_error == null'

# 4: a leaked RST
run_start leak --builtin linger "${targs[@]}" -o "$TEST_TMP/leak.json" --junit "$TEST_TMP/leak.xml" \
	--tap "$TEST_TMP/late.scn"
pid=$leak_pid added=""
for _ in $(seq 100); do
	raw=$(ip -n "ll${pid}s" neigh show nud permanent 2>/dev/null | awk '{print $1; exit}')
	if [ -n "$raw" ] && ip -n "ll${pid}c" link show "ll${pid}vc" >/dev/null 2>&1; then
		ip -n "ll${pid}c" addr add "$raw/32" dev "ll${pid}vc" && added=$raw
		break
	fi
	sleep 0.1
done
check "the raw client's address ($added) given to the client namespace's kernel" test -n "$added"
run_wait leak 60
check_eq "leaked RSTs: exit 4" 4 "$leak_rc"
check_jq "leaked RSTs: counted, and verdict.exit_code 4" "$TEST_TMP/leak.json" \
	'.lab.leaked_rst > 0 and .verdict.exit_code == 4'
check "leaked RSTs: the report matches the schema (exit_code 4, lab.capture_dropped, lab.cleanup_error)" \
	tests/support/validate-json reports/schema/report.schema.json "$TEST_TMP/leak.json"
n=$(jq .lab.leaked_rst "$TEST_TMP/leak.json")
check_jq "leaked RSTs: the verdict says why it cannot vouch" "$TEST_TMP/leak.json" \
	".verdict.text | endswith(\"; the lab cannot vouch for this result: $n leaked RST$( [ "$n" = 1 ] || echo s) from the client side\")"
check "leaked RSTs: the summary says UNVOUCHED" grep -q "^UNVOUCHED: " "$TEST_TMP/leak.err"
got=$(python3 - "$TEST_TMP/leak.xml" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
c = [t for t in r.iter("testcase") if t.get("name") == "lab"]
print(r.get("errors"), len(c), c[0].find("error").get("type") if c else "-",
      c[0].find("error").get("message").split(":")[0] if c else "-")
PY
)
check_eq "leaked RSTs: JUnit has a 'lab' case in error" \
	"1 1 unvouched the lab could not vouch for this result" "$got"
check "leaked RSTs: TAP has a 'lab' point, not ok, severity error" \
	bash -c 'grep -qx "not ok 2 - lab" "$1" && grep -qx "  severity: error" "$1"' _ "$TEST_TMP/leak.out"
[ -n "$(run_leftovers "$pid")" ] && not_ok "the leak run left something behind" || ok "the leak run left nothing behind"
finish
