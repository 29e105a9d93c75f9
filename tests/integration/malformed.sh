#!/usr/bin/env bash
# malformed.sh - `lingerlab analyze` on broken captures (tests/fixtures/
# malformed/, see its README.md): a file it cannot read is one exact error
# line and exit 2; a file damaged part way still gets a report of what came
# before the damage, plus the error and exit 2; damaged frames in a readable
# file are counted in the report's input section and exit 0. Never a crash.
source tests/lib.sh
FIX=tests/fixtures/malformed
PFX="lingerlab analyze: "

# run FILE: analyze it into $TEST_TMP/r.json; sets rc and err (stderr).
run() {
	rm -f "$TEST_TMP/r.json"
	"$LINGERLAB" analyze -r "$1" -o "$TEST_TMP/r.json" 2>"$TEST_TMP/err" >/dev/null
	rc=$?
	err=$(cat "$TEST_TMP/err")
}

# unreadable FILE MESSAGE: exit 2, exactly one line of error, no report.
unreadable() {
	run "$FIX/$1"
	check_eq "$1: exit 2" 2 "$rc"
	check_eq "$1: error line" "$PFX$FIX/$1: $2" "$err"
	check "$1: no report written" test ! -s "$TEST_TMP/r.json"
}
unreadable empty.pcap "empty file (not a pcap or pcapng capture)"
unreadable short-header.pcap "truncated dump file; tried to read 24 file header bytes, only got 6"
unreadable wrong-magic.pcap "unknown file format (not a pcap or pcapng capture)"
unreadable garbage.bin "unknown file format (not a pcap or pcapng capture)"
unreadable no-such-file.pcap "No such file or directory"

# a link type not decoded is no error: exit 0, a report that counts its
# frames as unsupported and names the link type
run "$FIX/unsupported-linktype.pcap"
check_eq "unsupported link type: exit 0" 0 "$rc"
check_eq "unsupported link type: frames counted as unsupported" 3 \
	"$(jq '.input.unsupported' "$TEST_TMP/r.json")"
check_eq "unsupported link type: named in the report" \
	'[{"what":"link type IEEE802_15_4 (195)","packets":3}]' \
	"$(jq -c '.input.unsupported_kinds' "$TEST_TMP/r.json")"

# garbage on standard input is named as such
"$LINGERLAB" analyze -r - <"$FIX/garbage.bin" >/dev/null 2>"$TEST_TMP/err"
check_eq "stdin garbage: exit 2" 2 "$?"
check_eq "stdin garbage: error line" \
	"${PFX}standard input: unknown file format (not a pcap or pcapng capture)" \
	"$(cat "$TEST_TMP/err")"

# cut FILE PACKETS MESSAGE: damaged part way: exit 2 with the record's
# error, and a report of the PACKETS frames before it.
cut() {
	run "$FIX/$1"
	check_eq "$1: exit 2" 2 "$rc"
	check_eq "$1: error line" "$PFX$FIX/$1: $3" "$err"
	check_jq "$1: report counts the $2 frames before the damage" "$TEST_TMP/r.json" \
		".input.packets == $2 and .input.tcp_packets == $2"
	check_jq "$1: report carries the read error" "$TEST_TMP/r.json" \
		".input.read_error == \"$FIX/$1: $3\""
}
cut cut-record-header.pcap 2 "record 3: truncated dump file; tried to read 16 header bytes, only got 7"
cut cut-record-body.pcap 2 "record 3: truncated dump file; tried to read 54 captured bytes, only got 20"
cut cut.pcapng 2 "record 3: truncated pcapng dump file; tried to read 80 bytes, only got 22"
cut huge-caplen.pcap 1 "record 2: invalid packet capture length 300000, bigger than snaplen of 262144"

# counted FILE PACKETS TCP TRUNCATED INVALID: readable file with damaged
# frames: exit 0, nothing on stderr, the damage counted.
counted() {
	run "$FIX/$1"
	check_eq "$1: exit 0" 0 "$rc"
	check_eq "$1: quiet" "" "$err"
	check_jq "$1: input counts packets $2 tcp $3 truncated $4 invalid $5" "$TEST_TMP/r.json" \
		".input.packets == $2 and .input.tcp_packets == $3 and .input.truncated == $4 and .input.invalid == $5 and .input.read_error == null"
}
counted good.pcap 3 3 0 0
counted good.pcapng 3 3 0 0
counted nanosecond.pcap 3 3 0 0
counted header-only.pcap 0 0 0 0
counted caplen-over-len.pcap 3 2 0 1
counted caplen-zero.pcap 3 2 0 1
counted over-snaplen.pcap 3 0 3 0
counted bad-ihl.pcap 3 2 0 1
counted bad-doff.pcap 4 2 0 2

# random frames in a valid file: every frame accounted for, none is TCP
run "$FIX/garbage-frames.pcap"
check_eq "garbage-frames.pcap: exit 0" 0 "$rc"
check_jq "garbage-frames.pcap: 8 frames, all accounted, none TCP" "$TEST_TMP/r.json" \
	'.input.packets == 8 and .input.tcp_packets == 0 and
	 (.input.truncated + .input.invalid + .input.skipped + .input.fragments + .input.unsupported) == 8'

# the same capture through standard input reads the same
"$LINGERLAB" analyze -r - -o "$TEST_TMP/r.json" <"$FIX/bad-doff.pcap" 2>"$TEST_TMP/err"
check_eq "stdin: exit 0" 0 "$?"
check_jq "stdin: same counts as the file" "$TEST_TMP/r.json" \
	'.input.packets == 4 and .input.invalid == 2'

finish
