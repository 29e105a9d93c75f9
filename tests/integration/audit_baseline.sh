#!/usr/bin/env bash
# audit_baseline.sh - `audit --baseline BASE.json` (issue 10): audit, then
# compare with BASE as `diff` does, in one step, for CI scripts under
# `set -e`: DIR/diff.json and DIR/diff.txt beside the report, exit 1 on a
# regression and 0 without one, even when expectations fail that already
# failed in BASE; the verdict's exit_code is the exit status; JUnit and
# TAP carry a "baseline" case. A BASE that cannot be compared is refused
# before any lab is built (exit 2).
source tests/lib.sh
source tests/integration/run_common.bash
MKGOLDEN=${BUILD:-build}/tests/mkgolden

# two scenarios keep it short: one that holds under close, one that does not
mkdir -p "$TEST_TMP/scn"
cp scenarios/clean-close.scn scenarios/pipelined-404.scn "$TEST_TMP/scn/"
A=(audit --scenarios "$TEST_TMP/scn")

# --- refused before anything is built (no root needed) ----------------------
err=$("$LINGERLAB" "${A[@]}" --builtin close -o "$TEST_TMP/x" --baseline "$TEST_TMP/none.json" 2>&1)
check_eq "missing baseline: exit 2" 2 "$?"
check_eq "missing baseline: one line" \
	"lingerlab audit: --baseline $TEST_TMP/none.json: No such file or directory" "$err"
check "missing baseline: nothing written" test ! -e "$TEST_TMP/x"
err=$("$LINGERLAB" "${A[@]}" --builtin close --baseline tests/fixtures/reports/handmade-lab-close.json 2>&1)
check_eq "other scenarios: exit 2" 2 "$?"
check_eq "other scenarios: says which" \
	"lingerlab audit: --baseline tests/fixtures/reports/handmade-lab-close.json: no scenario pipelined-404 in it (compare audits of the same scenarios)" "$err"
if "$MKGOLDEN" "$TEST_TMP" >/dev/null && "$LINGERLAB" analyze -r "$TEST_TMP/linger.pcap" -o "$TEST_TMP/an.json" 2>/dev/null; then
	err=$("$LINGERLAB" "${A[@]}" --builtin close --baseline "$TEST_TMP/an.json" 2>&1)
	check_eq "an analyze report as baseline: exit 2, says what to give" \
		"lingerlab audit: --baseline $TEST_TMP/an.json: an analyze report; give the report.json of an earlier audit" "$err"
else
	not_ok "mkgolden and analyze made an analyze report"
fi
err=$("$LINGERLAB" "${A[@]}" --builtin close -t rst_before_ack=1 2>&1)
check_eq "--tolerance without --baseline: exit 2" 2 "$?"
check_eq "--tolerance without --baseline: one line" "lingerlab audit: --tolerance only goes with --baseline
(lingerlab audit --help shows the usage)" "$err"
err=$("$LINGERLAB" "${A[@]}" --builtin close --baseline x.json -t nosuch=1 2>&1)
check "a bad tolerance: diff's message" grep -q "^lingerlab audit: --tolerance: unknown key 'nosuch'" <<<"$err"

need_lab "audit --baseline"
mapfile -t targs < <(run_target_args)
A+=("${targs[@]}")

# the baseline: a lingering build, every expectation holds
"$LINGERLAB" "${A[@]}" --builtin linger -q -o "$TEST_TMP/base" 2>"$TEST_TMP/base.err"
check_eq "baseline audit (linger): exit 0" 0 "$?"
B=$TEST_TMP/base/report.json

# a build that closes: regressions, exit 1, under `set -e` the script stops
# only after the comparison is written
( set -e
  "$LINGERLAB" "${A[@]}" --builtin close -o "$TEST_TMP/new" --baseline "$B" \
	--junit "$TEST_TMP/new.xml" >"$TEST_TMP/new.txt" 2>"$TEST_TMP/new.err"
  echo "not reached" )
rc=$?
check_eq "close against the linger baseline: exit 1" 1 "$rc"
check "the comparison is beside the report: diff.json, diff.txt" \
	test -s "$TEST_TMP/new/diff.json" -a -s "$TEST_TMP/new/diff.txt"
check_jq "diff.json: the regression of pipelined-404, compared scenario by scenario" "$TEST_TMP/new/diff.json" \
	'.compared == "scenarios" and .regression and
	 any(.items[]; .scope == "pipelined-404" and .metric == "rst_before_ack" and .regression)
	 and ([.items[] | select(.regression) | .scope] | index("clean-close") | not)'
"$LINGERLAB" diff "$B" "$TEST_TMP/new/report.json" | sed "s|^lingerlab diff: base .*|HEAD|" >"$TEST_TMP/d1.txt"
sed "s|^lingerlab diff: base .*|HEAD|" "$TEST_TMP/new/diff.txt" >"$TEST_TMP/d2.txt"
check "diff.txt says what \`lingerlab diff BASE NEW\` says" cmp -s "$TEST_TMP/d1.txt" "$TEST_TMP/d2.txt"
check "the report matches the schema" \
	tests/support/validate-json reports/schema/report.schema.json "$TEST_TMP/new/report.json"
n=$(jq .regressions "$TEST_TMP/new/diff.json")
check_jq "the report's verdict: exit_code 1, the regressions named" "$TEST_TMP/new/report.json" \
	".verdict.exit_code == 1 and (.verdict.text | endswith(\"; against the baseline $B: $n figures regressed\"))"
check "the table ends with the baseline's line" \
	grep -qx "baseline: REGRESSION: $n figures got worse beyond their tolerance against $B ([0-9]* better, [0-9]* worse within tolerance); see $TEST_TMP/new/diff.txt" "$TEST_TMP/new.txt"
got=$(python3 - "$TEST_TMP/new.xml" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
b = [t for t in r.iter("testcase") if t.get("name") == "baseline"][0]
f = b.findall("failure")
print(r.get("tests"), len(f), f[0].get("type"), f[0].get("message"))
PY
)
check_eq "JUnit: a 'baseline' case with a failure per regression" \
	"3 $n regression pipelined-404: rst_before_ack 0 -> 1" "$got"

# the same build again: no regression, exit 0; timing noise not listed
"$LINGERLAB" "${A[@]}" --builtin linger -o "$TEST_TMP/again" --baseline "$B" --tap \
	>"$TEST_TMP/again.tap" 2>"$TEST_TMP/again.err"
check_eq "linger against the linger baseline: exit 0" 0 "$?"
check_jq "... verdict.exit_code 0, no regression" "$TEST_TMP/again/report.json" \
	'.verdict.exit_code == 0 and (.verdict.text | contains("no regression against the baseline"))'
check "... TAP: the baseline point is ok" grep -qx "ok 3 - baseline" "$TEST_TMP/again.tap"
check "... the table went to stderr with --tap" grep -q "^baseline: no regression against $B" "$TEST_TMP/again.err"

# expectations that already failed in BASE do not fail the job
"$LINGERLAB" "${A[@]}" --builtin close -q -o "$TEST_TMP/close2" --baseline "$TEST_TMP/new/report.json" \
	--target-log "$TEST_TMP/target.log" >"$TEST_TMP/close2.out" 2>"$TEST_TMP/close2.err"
rc=$?; check_eq "close against a close baseline: exit 0 though pipelined-404 fails its expectation" 0 "$rc"; [ "$rc" = 0 ] || while IFS= read -r l; do diag "$l"; done < "$TEST_TMP/close2/diff.txt"
check_eq "audit -q: nothing on stdout or stderr" "" "$(cat "$TEST_TMP/close2.out" "$TEST_TMP/close2.err")"
check "audit --target-log: the target's own output kept" \
	grep -q "^lingerlab-target: listening on .*, policy close" "$TEST_TMP/target.log"
check_jq "... the scenario still fails in the report" "$TEST_TMP/close2/report.json" \
	'(.scenarios[] | select(.name == "pipelined-404") | .passed) == false and .verdict.exit_code == 0'
# a JUnit file that cannot be written: exit 3, and the report (written all
# the same) says 3 and why
"$LINGERLAB" "${A[@]}" --builtin linger -q -o "$TEST_TMP/nojunit" --baseline "$B" \
	--junit "$TEST_TMP/no/such/dir/j.xml" 2>"$TEST_TMP/nojunit.err"
check_eq "audit --junit into a missing directory: exit 3" 3 "$?"
check_jq "... the report's verdict: exit_code 3, the reason at its end" "$TEST_TMP/nojunit/report.json" \
	'.verdict.exit_code == 3 and (.verdict.text | endswith("j.xml: No such file or directory"))'
# a tolerance moves the line, as in diff
"$LINGERLAB" "${A[@]}" --builtin close -q -o "$TEST_TMP/tol" --baseline "$B" \
	-t rst_before_ack=inf -t bytes_at_risk=inf -t expectations=inf -t reset_seen=inf
check_eq "close against linger with the hazard's figures not gated: exit 0" 0 "$?"
finish
