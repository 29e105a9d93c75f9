#!/usr/bin/env bash
# scenarios_check.sh - the shipped scenarios (and the lessons in scenarios/lessons/ and the bug
# bash's scripts in scenarios/bash/) are well formed: each parses,
# opens with a comment "# NAME - what it shows", names itself after its
# file and says what it is about; and the error messages the language
# reference documents are the ones the parser's unit test asserts.
source tests/lib.sh

n=0
for f in scenarios/*.scn scenarios/lessons/*.scn scenarios/bash/*.scn; do
	[[ $f == scenarios/*/* ]] || n=$((n + 1))
	base=$(basename "$f" .scn)
	check "$base: parses" "$LINGERLAB" run --check -q "$f"
	check "$base: opens with '# $base - ...'" grep -q "^# $base - ." <(head -1 "$f")
	check "$base: scenario statement names the file" grep -qx "scenario $base" "$f"
	check "$base: has an about line" grep -q '^about "' "$f"
	check "$base: checks for leaked RSTs" grep -qx "expect no leaked_rst" "$f"
done
check "at least the six required scenarios ship" test "$n" -ge 6
for s in pipelined-404 put-unauthorized idle-client-fin-wait-2 vanishing-client clean-close \
         fin-wait-2-timeout; do
	check "$s ships" test -f "scenarios/$s.scn"
done

# every message in the reference's error table is asserted verbatim
python3 - docs/scenario-language.md tests/unit/test_scenario.c tests/unit/test_scenario_kclient.c \
	tests/unit/test_scenario_lessons.c >"$TEST_TMP/doc" <<'PY'
import re, sys
doc = open(sys.argv[1]).read()
test = "".join(open(f).read() for f in sys.argv[2:])
msgs = re.findall(r'^\| [^|]* \| `(s\.scn[^`]*)`', doc, re.M)
print("count", len(msgs))
for m in msgs:
    c = m.replace('\\', '\\\\').replace('"', '\\"')
    print(("ok " if c in test else "missing ") + m)
PY
check "the reference documents error messages" grep -qE "^count [1-9]" "$TEST_TMP/doc"
check_eq "each documented message is asserted by test_scenario.c, test_scenario_kclient.c or test_scenario_lessons.c" "" "$(grep '^missing ' "$TEST_TMP/doc")"
finish
