#!/usr/bin/env bash
# golden.sh - captures built frame by frame (tests/golden/mkgolden.c) whose
# right answers follow from TCP alone: the seed PUT trace, pipelined-404, and
# a negative case for each finding. Each report (and each --connections
# line) must match the schema and tests/golden/<case>.json.
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json

# report_matches WHAT ACTUAL.json EXPECTED.json JQPATH: one check per member
# of the expected fragment at JQPATH, so a failure names what differs.
report_matches() {
	local what=$1 actual=$2 expected=$3 path=$4 key out
	for key in $(jq -r "$path | keys_unsorted[]" "$expected"); do
		out=$(jq -rn -L tests/golden --slurpfile a "$actual" --slurpfile e "$expected" \
		      --arg k "$key" "include \"match\"; \$a[0][\$k] | diffs(\$e[0]$path[\$k]; \$k)" 2>&1)
		if [ -z "$out" ]; then ok "$what: .$key as expected"
		else not_ok "$what: .$key as expected"; while IFS= read -r l; do diag "$l"; done <<<"$out"; fi
	done
}

if ! "$MKGOLDEN" "$TEST_TMP" >/dev/null; then
	not_ok "mkgolden wrote the golden captures"
	finish
fi

for expected in tests/golden/*.json; do
	name=$(basename "$expected" .json)
	pcap=$TEST_TMP/$name.pcap report=$TEST_TMP/$name.report.json lines=$TEST_TMP/$name.jsonl
	"$LINGERLAB" analyze -r "$pcap" -o "$report" --connections "$lines" 2>"$TEST_TMP/$name.err"
	rc=$?
	check_eq "$name: analyze exits 0" 0 "$rc"
	[ -s "$TEST_TMP/$name.err" ] && diag "stderr: $(head -3 "$TEST_TMP/$name.err")"
	if [ "$rc" -ne 0 ] || [ ! -s "$report" ]; then continue; fi
	check "$name: report matches the schema" "$VALIDATE" "$SCHEMA" "$report"
	check "$name: connection lines match the schema" "$VALIDATE" --lines connection "$SCHEMA" "$lines"
	check_eq "$name: one JSON line per connection" "$(jq '.summary.connections' "$report")" \
		"$(grep -c . "$lines")"
	check_jq "$name: retained connections carry their whole timeline" "$report" \
		'all(.connections[]; .timeline.omitted > 0 or
		     ((.timeline.packets | length) > 0 and .timeline.packets[0].i == .first_packet
		      and .timeline.packets[-1].i == .last_packet))'
	report_matches "$name" "$report" "$expected" '.report'
	if jq -e 'has("connections")' "$expected" >/dev/null; then
		jq -s . "$lines" >"$TEST_TMP/$name.lines.json"
		out=$(jq -rn -L tests/golden --slurpfile a "$TEST_TMP/$name.lines.json" --slurpfile e "$expected" \
		      'include "match"; $a[0] | diffs($e[0].connections; "connections")')
		if [ -z "$out" ]; then ok "$name: --connections lines as expected"
		else not_ok "$name: --connections lines as expected"; while IFS= read -r l; do diag "$l"; done <<<"$out"; fi
	fi
done

# The seed trace once more with the report on stdout and the capture on
# stdin, tcpdump style, and with a filter that keeps only the server's
# packets: the RST still carries its evidence (seq 1 < data_end).
"$LINGERLAB" analyze -r - <"$TEST_TMP/put-seed.pcap" >"$TEST_TMP/stdin.json"
check_jq "-r - reads the capture from standard input" "$TEST_TMP/stdin.json" \
	'.input.source == "-" and .findings[0].bytes_at_risk_at_server == 337'
"$LINGERLAB" analyze -r "$TEST_TMP/put-seed.pcap" -o "$TEST_TMP/filtered.json" src port 80
check_jq "a trailing BPF filter is applied and recorded" "$TEST_TMP/filtered.json" \
	'.input.filter == "src port 80" and .input.packets == 11 and .input.filtered == 5'
# Packet indexes stay positions in the file under a filter: the first RST
# is frame 8 of put-seed.pcap (as tcpdump -r numbers it), filtered or not.
check_jq "with a filter, the finding's RST is still frame 8 of the file" "$TEST_TMP/filtered.json" \
	'.findings[0].rst_packet == 8 and .findings[0].at_risk_packets == [3]'
check_eq "tcpdump -r shows the server's first RST as frame 8" \
	"8 Flags [R], seq 865216001," \
	"$(tcpdump -nn -r "$TEST_TMP/put-seed.pcap" 2>/dev/null | awk '/Flags \[R\]/ { print NR, $6, $7, $8, $9; exit }')"
# A small snaplen (tcpdump -s 58 here; -s 64 does the same to every segment
# with timestamps) cuts the SYNs inside their options and leaves no payload:
# the handshake, the byte counts and the finding must survive, only what
# needs the payload (the HTTP status at risk) may go.
/usr/bin/python3 - "$TEST_TMP/pipelined-404.pcap" "$TEST_TMP/snap58.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
e = '<' if d[:4] == b'\xd4\xc3\xb2\xa1' else '>'
out = bytearray(d[:16]) + struct.pack(e + 'I', 58) + d[20:24]
i = 24
while i + 16 <= len(d):
    sec, usec, cap, wire = struct.unpack(e + 'IIII', d[i:i + 16])
    n = min(cap, 58)
    out += struct.pack(e + 'IIII', sec, usec, n, wire) + d[i + 16:i + 16 + n]
    i += 16 + cap
open(sys.argv[2], 'wb').write(out)
PY
"$LINGERLAB" analyze -r "$TEST_TMP/snap58.pcap" -o "$TEST_TMP/snap58.json"
check_eq "snaplen 58: analyze exits 0" 0 $?
check_jq "snaplen 58: SYNs cut inside their options are still decoded" "$TEST_TMP/snap58.json" \
	'.input.truncated == 0 and .input.tcp_packets == .input.packets and .summary.role_inferred == 0'
check_eq "snaplen 58: the same finding as the whole capture, less what needs HTTP" \
	"$(jq -c '[.findings[] | del(.response, .summary, .unanswered_requests)]' "$TEST_TMP/pipelined-404.report.json")" \
	"$(jq -c '[.findings[] | del(.response, .summary, .unanswered_requests)]' "$TEST_TMP/snap58.json")"
check_eq "snaplen 58: byte counts come from the IP lengths" \
	"$(jq -c '[.connections[] | .c2s.bytes, .s2c.bytes, .kind]' "$TEST_TMP/pipelined-404.report.json")" \
	"$(jq -c '[.connections[] | .c2s.bytes, .s2c.bytes, .kind]' "$TEST_TMP/snap58.json")"
# --- the stories explain tells (tests/golden/stories/INDEX) ---------------
# Each story is the explain text of one real connection, pinned: a change
# in any note shows here as a diff, to be read against the packets before
# the golden file is updated (UPDATE_GOLDEN=1).
while read -r name capture conn format; do
	case $name in ''|'#'*) continue ;; esac
	ext=txt fmtarg=(--color=never)
	[ "${format:-}" = markdown ] && ext=md fmtarg=(--format markdown)
	golden=tests/golden/stories/$name.$ext
	rep=$TEST_TMP/story-$name.json
	"$LINGERLAB" analyze -r "$capture" -o "$rep" 2>/dev/null
	"$LINGERLAB" explain "${fmtarg[@]}" --connection "$conn" "$rep" >"$TEST_TMP/story-$name.out" 2>&1
	check_eq "story $name: explain exits 0" 0 "$?"
	tail -n +2 "$TEST_TMP/story-$name.out" >"$TEST_TMP/story-$name.body"
	if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$TEST_TMP/story-$name.body" "$golden"
	fi
	if diff -u "$golden" "$TEST_TMP/story-$name.body" >"$TEST_TMP/story-$name.diff" 2>&1; then
		ok "story $name: as in $golden"
	else
		not_ok "story $name: as in $golden"
		head -30 "$TEST_TMP/story-$name.diff" | while IFS= read -r l; do diag "$l"; done
	fi
done <tests/golden/stories/INDEX
finish
