#!/usr/bin/env bash
# junit.sh - `run --junit` and `audit --junit` (issue 10): the results as
# JUnit XML that CI systems read, checked with a real XML parser
# (python3's xml.etree): one testcase per scenario, a <failure> naming the
# script line of each failed expectation, the verdict in <system-out>,
# counts that add up; a path that cannot be written is exit 3.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run and audit --junit"

mapfile -t targs < <(run_target_args)

# clean-close holds under close, pipelined-404 does not (expect no rst_before_ack)
run_start junit --builtin close "${targs[@]}" -q -o "$TEST_TMP/r.json" --junit "$TEST_TMP/r.xml" \
	scenarios/clean-close.scn scenarios/pipelined-404.scn
run_wait junit 120
check_eq "run --junit: exit 1 (an expectation failed)" 1 "$junit_rc"

read_xml() { # read_xml FILE: "tests failures | name:failures:first-message ..." or "ERROR"
	python3 - "$1" <<'PY' 2>/dev/null || echo ERROR
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites"
suites = root.findall("testsuite")
assert len(suites) == 1
cases = suites[0].findall("testcase")
out = [root.get("tests"), root.get("failures"), "|"]
for c in cases:
    fs = c.findall("failure")
    out.append("%s:%d:%s" % (c.get("name"), len(fs), fs[0].get("message") if fs else "-"))
out.append("|" + (suites[0].findtext("system-out") or "")[:40])
print(" ".join(out))
PY
}
got=$(read_xml "$TEST_TMP/r.xml")
check_eq "run --junit: parses, two testcases, the failure names its line" \
	"2 1 | clean-close:0:- pipelined-404:1:line 25: expect no rst_before_ack |1 of 2 scenarios failed its expectations" \
	"$got"
check "run --junit: the failure's text names the file, line and detail" \
	grep -q 'scenarios/pipelined-404.scn:25:1: expect no rst_before_ack: 1 rst_before_ack finding' "$TEST_TMP/r.xml"

# audit: every shipped scenario under linger, all hold
"$LINGERLAB" audit --builtin linger "${targs[@]}" -o "$TEST_TMP/aud" --junit "$TEST_TMP/a.xml" \
	>"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err"
check_eq "audit --junit under linger: exit 0" 0 "$?"
n=$(ls scenarios/*.scn | wc -l)
got=$(python3 - "$TEST_TMP/a.xml" <<'PY' 2>/dev/null || echo ERROR
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(r.get("tests"), r.get("failures"), len(list(r.iter("testcase"))), len(list(r.iter("failure"))))
PY
)
check_eq "audit --junit: one testcase per shipped scenario, no failure" "$n 0 $n 0" "$got"

# a JUnit path that cannot be written: an environment error, after the report
"$LINGERLAB" run --builtin close "${targs[@]}" -q -o "$TEST_TMP/r2.json" \
	--junit "$TEST_TMP/no/such/dir/r.xml" scenarios/clean-close.scn >/dev/null 2>"$TEST_TMP/e.txt"
check_eq "run --junit into a missing directory: exit 3" 3 "$?"
check "run --junit into a missing directory: says why" \
	grep -q "r.xml: No such file or directory" "$TEST_TMP/e.txt"
check_jq "run --junit into a missing directory: the report is written, its verdict says 3 and why" \
	"$TEST_TMP/r2.json" '.verdict.exit_code == 3 and (.verdict.text | endswith("r.xml: No such file or directory"))'
finish
