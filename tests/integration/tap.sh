#!/usr/bin/env bash
# tap.sh - `run --tap` and `audit --tap` (issue 10): the results as TAP
# version 13 on standard output, read back with a real TAP parser (perl's
# TAP::Parser, which prove uses): the plan, a test point per scenario, a
# YAML block naming each failed expectation's line and detail, nothing on
# stdout but TAP (the summary goes to stderr); the same content as the
# JUnit XML of the same run.
source tests/lib.sh
source tests/integration/run_common.bash

# usage, no lab needed
"$LINGERLAB" run --builtin close --tap -o - scenarios/clean-close.scn >"$TEST_TMP/o" 2>"$TEST_TMP/e"
check_eq "run --tap -o -: exit 2" 2 "$?"
check_eq "run --tap -o -: one line naming the clash" \
	"lingerlab run: --tap and -o - both write to standard output: give the report a file
(lingerlab run --help shows the usage)" "$(cat "$TEST_TMP/e")"
"$LINGERLAB" run --help | grep -q -- "--tap  .*TAP version 13"
check_eq "run --help names --tap" 0 "$?"
"$LINGERLAB" audit --help | grep -q -- "--tap  .*TAP version 13"
check_eq "audit --help names --tap" 0 "$?"

# a run that cannot happen (not root): TAP's "Bail out!", exit 3
if need_root && command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LINGERLAB" run --builtin close --tap \
		-o "/tmp/lingerlab-tap-nonroot-$$.json" scenarios/clean-close.scn >"$TEST_TMP/b.tap" 2>/dev/null
	check_eq "not root: exit 3" 3 "$?"
	check_eq "not root: TAP says Bail out! and why" "TAP version 13
Bail out! lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to make network namespaces); run as root" \
		"$(cat "$TEST_TMP/b.tap")"
	got=$(perl -MTAP::Parser -e 'open(my $fh, "<", $ARGV[0]) or die;
		my $p = TAP::Parser->new({ tap => do { local $/; <$fh> } });
		while (my $r = $p->next) { print "bailout\n" if $r->is_bailout }' "$TEST_TMP/b.tap")
	check_eq "not root: the TAP parser sees the bail-out" "bailout" "$got"
fi

need_lab "run --tap"
mapfile -t targs < <(run_target_args)

# clean-close holds under close, pipelined-404 does not (expect no rst_before_ack)
run_start tap --builtin close "${targs[@]}" -o "$TEST_TMP/r.json" --tap --junit "$TEST_TMP/r.xml" \
	scenarios/clean-close.scn scenarios/pipelined-404.scn
run_wait tap 120
check_eq "run --tap: exit 1 (an expectation failed)" 1 "$tap_rc"

# parse_tap FILE: "version plan tests passed failed unknown | name ... | message | failures..."
parse_tap() {
	perl -MTAP::Parser -e '
		open(my $fh, "<", $ARGV[0]) or die "$ARGV[0]: $!";
		my $p = TAP::Parser->new({ tap => do { local $/; <$fh> } });
		my (@names, $msg, @fails, $unknown);
		while (my $r = $p->next) {
			$unknown++ if $r->is_unknown;
			push @names, ($r->is_ok ? "ok:" : "not_ok:") . $r->description if $r->is_test;
			if ($r->is_yaml) {
				my $y = $r->data;
				$msg //= $y->{message};
				push @fails, map { "$_->{file}:$_->{line}:$_->{col}: $_->{expectation}: $_->{detail}" }
					@{ $y->{failures} || [] };
			}
		}
		printf "%s %s %d %d %d %d | %s | %s | %s\n", $p->version, $p->plan, $p->tests_run,
			scalar($p->passed), scalar($p->failed), $unknown // 0, join(" ", @names),
			$msg // "-", join(" // ", @fails);
	' "$1" 2>&1
}
got=$(parse_tap "$TEST_TMP/tap.out")
check_eq "run --tap: TAP version 13, a point per scenario, the failure's line in YAML" \
	"13 1..2 2 1 1 0 | ok:- clean-close not_ok:- pipelined-404 | line 25: expect no rst_before_ack | scenarios/pipelined-404.scn:25:1: expect no rst_before_ack: $(jq -r '.scenarios[1].expectations[] | select(.passed | not) | .detail' "$TEST_TMP/r.json")" \
	"$got"
check "run --tap: the summary went to stderr" grep -q "^FAIL: 1 of 2 scenarios failed" "$TEST_TMP/tap.err"
check "run --tap: the verdict closes the TAP stream as a comment" \
	grep -qx "# 1 of 2 scenarios failed its expectations; 1 rst_before_ack: .*" "$TEST_TMP/tap.out"
# the same content as JUnit: the failures' texts, name for name
junit=$(python3 - "$TEST_TMP/r.xml" <<'PY' 2>&1
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print(" // ".join(f.text for f in r.iter("failure")))
PY
)
check_eq "run --tap and --junit say the same" "$junit" "${got##* | }"

# a script's file name is the user's: quotes, a backslash, a '#' and a line
# break stay inside their YAML and XML values, printable (\x0a)
odd=$TEST_TMP/$'a"b\\c#d\ne.scn'
cp scenarios/pipelined-404.scn "$odd"
"$LINGERLAB" run --builtin close "${targs[@]}" -q -o "$TEST_TMP/odd.json" --tap --junit "$TEST_TMP/odd.xml" \
	"$odd" >"$TEST_TMP/odd.tap" 2>"$TEST_TMP/odd.err"
check_eq "an odd file name: exit 1" 1 "$?"
want="$TEST_TMP/a\"b\\c#d\\x0ae.scn"
got=$(perl -MTAP::Parser -e '
	open(my $fh, "<", $ARGV[0]) or die; my $p = TAP::Parser->new({ tap => do { local $/; <$fh> } });
	while (my $r = $p->next) { print $r->data->{file}, "\n" if $r->is_yaml }' "$TEST_TMP/odd.tap" 2>&1)
check_eq "an odd file name: TAP's YAML keeps it, printable" "$want" "$got"
got=$(python3 -c 'import sys, xml.etree.ElementTree as ET; print(next(ET.parse(sys.argv[1]).getroot().iter("testcase")).get("file"))' "$TEST_TMP/odd.xml" 2>&1)
check_eq "an odd file name: JUnit's attribute keeps it, printable" "$want" "$got"

finish
