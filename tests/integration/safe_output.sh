#!/usr/bin/env bash
# safe_output.sh - output that cannot attack the reader (issue 13): a capture
# whose file name holds an ESC sequence, a raw CSI byte, a bidi override and
# Latin-1, and a report edited to carry OSC 8 hyperlinks, screen clears, C1
# and bidi controls and newlines in its strings. On a terminal (a pty, via
# script) explain and diff show them escaped (\x1b, \u009b, \u202e) and
# nothing but the tool's own colours reaches it; the exact escaped text is
# checked; the report of such a capture is valid JSON that matches the
# schema; explain -c refuses a FIFO, a device or a directory named by a
# report instead of hanging (bounded by timeout).
source tests/lib.sh
REPO=$PWD
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json
MKGOLDEN=${BUILD:-build}/tests/mkgolden

if ! "$MKGOLDEN" "$TEST_TMP" >/dev/null; then
	not_ok "mkgolden wrote the golden captures"
	finish
fi
cd "$TEST_TMP" || exit 1

# on a pty: script's standard output is what the terminal receives (its
# log file would start with a header that quotes the command raw).
# Only the tool's colours (ESC [ digits m) may reach the terminal: strip
# them, then look for any ESC, any C1 (raw or in UTF-8) and bidi controls
hostile_bytes() {
	LC_ALL=C sed 's/\x1b\[[0-9;]*m//g' "$1" |
		LC_ALL=C grep -caP '\x1b|\x9b|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|\xd8\x9c'
}

# --- a file name from an attacker -----------------------------------------
name=$(printf 'x\033[2J\033]8;;https:x\a\x9b\xe2\x80\xaeevil\xe9.pcap')
cp put-seed.pcap "$name"
"$LINGERLAB" analyze -r "$name" -o hostile.json 2>analyze.err
check_eq "a capture named with ESC, C1, bidi and Latin-1 bytes: exit 0" 0 "$?"
check_eq "  no complaint" "" "$(cat analyze.err)"
check_jq "  the report is valid JSON" hostile.json "type == \"object\""
check "  the report matches the schema" "$REPO/$VALIDATE" "$REPO/$SCHEMA" hostile.json
# JSON rule: valid UTF-8 kept (the ESCs, U+202E), the bytes 0x9B and 0xE9
# read as Latin-1 (U+009B, U+00E9)
check_jq "  input.source: invalid bytes as their Latin-1 characters" hostile.json \
	'.input.source == "x\u001b[2J\u001b]8;;https:x\u0007\u009b\u202eevil\u00e9.pcap"'
"$LINGERLAB" analyze -r "$name" --connections hostile.jsonl -o hostile2.json 2>/dev/null
check "  --connections wrote its line" test -s hostile.jsonl
check "  --connections lines match the schema too" "$REPO/$VALIDATE" --lines connection "$REPO/$SCHEMA" hostile.jsonl

# explain of that report on a terminal
script -qec "$LINGERLAB explain --color=auto hostile.json" /dev/null </dev/null >tty-explain.log 2>&1
check "explain on a pty: the tool's colours are there" grep -qa $'\033\\[1m' tty-explain.log
check_eq "explain on a pty: no ESC, C1 or bidi control from the file name" 0 "$(hostile_bytes tty-explain.log)"
first=$("$LINGERLAB" explain hostile.json | head -1)
check_eq "explain: the origin line, escaped" \
	'hostile.json: lingerlab analyze report of x\x1b[2J\x1b]8;;https:x\x07\u009b\u202eevil'$'\xc3\xa9''.pcap' "$first"

# an error message naming the file: the raw name never reaches stderr
"$LINGERLAB" explain "$name" >/dev/null 2>explain.err
check_eq "explain of the capture itself: exit 2" 2 "$?"
check_eq "explain: the error names the file escaped" \
	'lingerlab explain: x\x1b[2J\x1b]8;;https:x\x07\x9b\u202eevil\xe9.pcap:1:0: invalid JSON: unable to decode byte 0xd4' \
	"$(cat explain.err)"
check_eq "explain: no ESC or C1 byte in the error" 0 "$(hostile_bytes explain.err)"
script -qec "$LINGERLAB explain '$name'" /dev/null </dev/null >tty-err.log 2>&1
check_eq "explain's error on a pty: no ESC, C1 or bidi control" 0 "$(hostile_bytes tty-err.log)"
check "explain's error on a pty: the escaped name is there" grep -qaF 'x\x1b[2J\x1b]8;;https:x\x07' tty-err.log

# --- an edited report --------------------------------------------------
osc='\u001b]8;;http://x\u0007click\u001b]8;;\u0007'
for c in put-seed linger; do
	"$LINGERLAB" analyze -r $c.pcap -o $c.json 2>/dev/null || not_ok "analyze $c"
done
jq "
	.verdict.text = \"$osc\u001b[2J\u009b31m\u202eevil\nfake line\" |
	.findings[0].summary = \"summary $osc\u2066 done\" |
	.findings[0].type = \"rst\u001b[8m_before_ack\" |
	.connections[0].timeline.packets[0].flags = \"S\u001b[1A\" |
	.connections[0].client.addr = \"10.0.0.1\u001b[5m\"
" put-seed.json >edited.json
check "the edited report carries ESC bytes in its strings" grep -q 'u001b]8;;' edited.json
script -qec "$LINGERLAB explain --color=always edited.json" /dev/null </dev/null >tty-edited.log 2>&1
check "edited report on a pty: explained (the RST line is there)" grep -qa 'the RST' tty-edited.log
check_eq "edited report on a pty: no ESC, C1 or bidi control from the report" 0 "$(hostile_bytes tty-edited.log)"
out=$("$LINGERLAB" explain edited.json)
check "edited report: the verdict, escaped, newline included" grep -qxF \
	'verdict: \x1b]8;;http://x\x07click\x1b]8;;\x07\x1b[2J\u009b31m\u202eevil\x0afake line' <<<"$out"
check "edited report: the finding type, escaped" grep -qxF '  finding: rst\x1b[8m_before_ack' <<<"$out"
check "edited report: the summary paragraph, escaped" grep -qF 'summary \x1b]8;;http://x\x07click\x1b]8;;\x07\u2066 done' <<<"$out"
check "edited report: the client address, escaped" grep -qF 'client 10.0.0.1\x1b[5m:' <<<"$out"
check "edited report: the packet flags, escaped" grep -qF 'S\x1b[1A' <<<"$out"

lab=$REPO/tests/fixtures/reports/handmade-lab-close.json
jq '.scenarios[0].name = "sc\u001b]8;;http://x\u0007ene\u202e"' "$lab" >scn-a.json
jq '.scenarios[0].name = "sc\u001b]8;;http://x\u0007ene\u202e" |
    .scenarios[0].expectations[0].text = "expect \u001b[2J"' "$lab" >scn-b.json
script -qec "$LINGERLAB diff --color=always scn-a.json scn-b.json" /dev/null </dev/null >tty-diff.log 2>&1
check "diff on a pty: the scenario is compared" grep -qa 'changed' tty-diff.log
check_eq "diff on a pty: no ESC, C1 or bidi control from the reports" 0 "$(hostile_bytes tty-diff.log)"
dout=$("$LINGERLAB" diff scn-a.json scn-b.json 2>&1)
check "diff: a scenario name from a report, escaped" grep -qxF 'scenario sc\x1b]8;;http://x\x07ene\u202e' <<<"$dout"
check "diff: an expectation's text from a report, escaped" \
	grep -qxF '  changed  expectation "expect \x1b[2J": n/a -> failed' <<<"$dout"
check_eq "diff: no ESC from the reports in its text" 0 "$(printf '%s' "$dout" | LC_ALL=C grep -caP '\x1b')"
"$LINGERLAB" diff --json scn-a.json "$name" >/dev/null 2>diff.err
check_eq "diff: the error names the file escaped" 0 "$(hostile_bytes diff.err)"

# --- explain -c: a capture that is not a regular file ---------------------
# linger.json keeps no record of its (unflagged) connection 1: explain -c 1
# rebuilds it from the capture the report names, here edited to name a FIFO
# (which hung explain before), a device and a directory
mkfifo fifo.pcap
for what in fifo:"$TEST_TMP/fifo.pcap":"a FIFO" dev:/dev/zero:"a character device" dir:"$TEST_TMP":"a directory"; do
	k=${what%%:*}; rest=${what#*:}; path=${rest%%:*}; kind=${rest#*:}
	jq --arg p "$path" '.input.source = $p' linger.json >"named-$k.json"
	timeout 20 "$LINGERLAB" explain -c 1 "named-$k.json" >/dev/null 2>"named-$k.err"
	rc=$?
	check_eq "explain -c, the report names $kind: exit 2 (a hang would be 124)" 2 "$rc"
	check_eq "explain -c, $kind: the message" \
		"lingerlab explain: connection 1 is not in named-$k.json (it has records for no connection), and the capture cannot tell: $path: not a regular file ($kind)" \
		"$(cat "named-$k.err")"
done
# a regular capture is still read
jq --arg p "$TEST_TMP/linger.pcap" '.input.source = $p' linger.json >named-file.json
timeout 20 "$LINGERLAB" explain -c 1 named-file.json >named-file.out 2>&1
check_eq "explain -c: a regular capture is still read: exit 0" 0 "$?"
check "explain -c: the rebuilt connection is told" grep -q "this one was rebuilt" named-file.out
finish
