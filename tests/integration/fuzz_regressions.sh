#!/usr/bin/env bash
# fuzz_regressions.sh - what fuzzing the report readers and the scenario
# parser found (tests/fuzz/README.md), replayed through the CLI.
source tests/lib.sh

# rf_load() quoted jansson's "near '...'" raw: a string with a backslash
# before a line break (fuzz_report, first run) gave a message of two lines,
# and a backslash before an ESC put the ESC on the terminal. The reader's
# message is one line with control bytes written \xHH, in every command.
for f in tests/fuzz/repro/report-escape-newline.json tests/fuzz/repro/report-escape-esc.json; do
	name=$(basename "$f" .json)
	for cmd in explain render diff; do
		args=("$f")
		[ "$cmd" = diff ] && args=("$f" "$f")
		[ "$cmd" = render ] && args+=(-o "$TEST_TMP/out.html")
		"$LINGERLAB" "$cmd" "${args[@]}" >/dev/null 2>"$TEST_TMP/err"
		check_eq "$name: $cmd exits 2 (unreadable report)" 2 $?
		check_eq "$name: $cmd says it in one line" 1 "$(wc -l <"$TEST_TMP/err")"
		check "$name: $cmd writes no control byte but the newline" \
			bash -c '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$1")' _ "$TEST_TMP/err"
		check "$name: $cmd names the invalid escape, \\xHH" \
			grep -qE "^lingerlab $cmd: $f:[0-9]+:[0-9]+: invalid JSON: invalid escape near '\"[a-z]+\\\\\\\\x(0a|1b)'\$" "$TEST_TMP/err"
	done
done
[ -e "$TEST_TMP/out.html" ] && not_ok "render wrote no page for an unreadable report" || ok "render wrote no page for an unreadable report"
finish
