#!/usr/bin/env bash
# scenario_dirs.sh - where audit finds its scenarios (issue 10): every
# --scenarios DIR in order (repeatable; a file name an earlier DIR has is
# left out), else LINGERLAB_SCENARIOS (colon-separated), else those
# installed beside the binary (`make install`), found from the binary's
# own location whatever the working directory. Checked with `audit
# --check`, which finds and parses the scenarios without a lab.
source tests/lib.sh

mkdir -p "$TEST_TMP/one" "$TEST_TMP/two" "$TEST_TMP/empty"
cp scenarios/clean-close.scn "$TEST_TMP/one/"
cp scenarios/pipelined-404.scn scenarios/vanishing-client.scn "$TEST_TMP/two/"
# a file of the same name in the later directory is shadowed by the first
sed 's/^scenario clean-close$/scenario clean-close-2/' scenarios/clean-close.scn >"$TEST_TMP/two/clean-close.scn"

names() { sed -n 's/^.*: scenario \([^:]*\):.*/\1/p' | tr '\n' ' '; }

out=$("$LINGERLAB" audit --check --scenarios "$TEST_TMP/one" --scenarios "$TEST_TMP/two")
check_eq "--scenarios twice: exit 0" 0 "$?"
check_eq "--scenarios twice: both directories, in order, the first's clean-close wins" \
	"clean-close pipelined-404 vanishing-client " "$(names <<<"$out")"
check_eq "--scenarios twice: says where from" "scenarios from $TEST_TMP/one, $TEST_TMP/two:" "$(head -1 <<<"$out")"

out=$(LINGERLAB_SCENARIOS="$TEST_TMP/two::$TEST_TMP/one" "$LINGERLAB" audit --check)
check_eq "LINGERLAB_SCENARIOS: colon-separated, empty entries skipped, in order" \
	"clean-close-2 pipelined-404 vanishing-client " "$(names <<<"$out")"
out=$(LINGERLAB_SCENARIOS="$TEST_TMP/two" "$LINGERLAB" audit --check --scenarios "$TEST_TMP/one")
check_eq "--scenarios wins over LINGERLAB_SCENARIOS" "clean-close " "$(names <<<"$out")"
err=$(LINGERLAB_SCENARIOS="$TEST_TMP/one:$TEST_TMP/nope" "$LINGERLAB" audit --check 2>&1)
check_eq "LINGERLAB_SCENARIOS with a missing directory: exit 2" 2 "$?"
check_eq "... named" "lingerlab audit: LINGERLAB_SCENARIOS: $TEST_TMP/nope: No such file or directory" "$err"
err=$("$LINGERLAB" audit --check --scenarios "$TEST_TMP/empty" 2>&1)
check_eq "an empty directory: named" "lingerlab audit: $TEST_TMP/empty: no scenario (*.scn) in it" "$err"
cp "$TEST_TMP/two/clean-close.scn" "$TEST_TMP/one/other.scn"
cp "$TEST_TMP/two/clean-close.scn" "$TEST_TMP/two/same.scn"
err=$("$LINGERLAB" audit --check --scenarios "$TEST_TMP/one" --scenarios "$TEST_TMP/two" 2>&1)
check_eq "two files of one scenario name: exit 2" 2 "$?"
rm "$TEST_TMP/one/other.scn" "$TEST_TMP/two/same.scn"
check_eq "... named: diff could not pair them" \
	"lingerlab audit: scenario clean-close-2 is in $TEST_TMP/one/other.scn and in $TEST_TMP/two/same.scn: names must be unique" "$err"

# installed: found from /proc/self/exe, wherever we stand, even where a
# ./scenarios of some other project lies
inst=$TEST_TMP/inst
if make -s install DESTDIR="$inst" PREFIX=/opt/ll BUILD="${BUILD:-build}" >"$TEST_TMP/make.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/opt/ll"
	mkdir -p "$TEST_TMP/elsewhere/scenarios"
	cp "$TEST_TMP/one/clean-close.scn" "$TEST_TMP/elsewhere/scenarios/"
	out=$(cd "$TEST_TMP/elsewhere" && env -u LINGERLAB_SCENARIOS "$inst/opt/ll/bin/lingerlab" audit --check)
	check_eq "installed binary: exit 0" 0 "$?"
	check_eq "installed binary: its own share/lingerlab/scenarios, not ./scenarios" \
		"scenarios from $inst/opt/ll/share/lingerlab/scenarios:" "$(head -1 <<<"$out")"
	check_eq "installed binary: every shipped scenario" "$(ls scenarios/*.scn | wc -l)" "$(names <<<"$out" | wc -w)"
	out=$(cd / && env -u LINGERLAB_SCENARIOS "$inst/opt/ll/bin/lingerlab" audit --check | head -1)
	check_eq "installed binary from /: the same" "scenarios from $inst/opt/ll/share/lingerlab/scenarios:" "$out"
	rm -rf "$inst/opt/ll/share/lingerlab/scenarios"
	out=$(cd "$TEST_TMP/elsewhere" && env -u LINGERLAB_SCENARIOS "$inst/opt/ll/bin/lingerlab" audit --check | head -1)
	check_eq "nothing installed: ./scenarios at last" "scenarios from scenarios:" "$out"
	err=$(cd / && env -u LINGERLAB_SCENARIOS "$inst/opt/ll/bin/lingerlab" audit --check 2>&1)
	check_eq "none anywhere: exit 2, what was tried" \
		"lingerlab audit: no scenario directory: not $inst/opt/ll/bin/../share/lingerlab/scenarios, $inst/opt/ll/bin/../scenarios nor ./scenarios (give one with --scenarios DIR or LINGERLAB_SCENARIOS)" "$err"
else
	not_ok "make install DESTDIR=... PREFIX=/opt/ll"
	sed 's/^/# /' "$TEST_TMP/make.log" | head -10
fi
# the build tree's binary finds the tree's scenarios from anywhere
out=$(cd / && env -u LINGERLAB_SCENARIOS "$LINGERLAB" audit --check | head -1)
check_eq "the build tree's binary, run from /: the tree's scenarios" "scenarios from $PWD/scenarios:" "$out"
finish
