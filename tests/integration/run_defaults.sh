#!/usr/bin/env bash
# run_defaults.sh - where `lingerlab run` puts its files: a fresh directory
# with report.json and capture.pcap when neither -o nor -w is given, the
# report beside the capture with -w alone, the report on stdout with -o -
# (summary on stderr then); and --rtt for scripts that set no rtt.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run output defaults"
mapfile -t targs < <(run_target_args)
top=$PWD

cat >"$TEST_TMP/nortt.scn" <<'SCN'
# nortt - one clean request, no rtt of its own
scenario nortt
connect
request GET /index.html close
wait closed 5s
expect response 1 status 200 complete
SCN

mkdir "$TEST_TMP/cwd"
cd "$TEST_TMP/cwd" || exit 1
"$LINGERLAB" run --builtin linger "${targs[@]}" --rtt 100ms "$TEST_TMP/nortt.scn" >"$TEST_TMP/a.out" 2>&1
check_eq "no -o/-w: exit 0" 0 "$?"
dir=$(ls -d lingerlab-run-* 2>/dev/null | head -1)
check "no -o/-w: a fresh lingerlab-run-DATE-TIME directory" test -n "$dir" -a -d "$dir"
check "no -o/-w: report.json and capture.pcap in it" test -s "$dir/report.json" -a -s "$dir/capture.pcap"
check "no -o/-w: the summary says where the report is" grep -q "report:  $dir/report.json" "$TEST_TMP/a.out"
check_jq "--rtt applies to a script without rtt" "$dir/report.json" \
	'.lab.emulated_rtt == 0.1 and .scenarios[0].rtt == 0.1'
check_jq "the report names its capture" "$dir/report.json" \
	".lab.capture == \"$dir/capture.pcap\" and .input.source == \"$dir/capture.pcap\""
# the emulated RTT shows on the wire: the client's ACK of the SYN-ACK comes ~100 ms after it
gap=$(tcpdump -tt -nr "$dir/capture.pcap" 2>/dev/null | head -3 | awk 'NR==2{a=$1} NR==3{b=$1} END{printf "%d", (b-a)*1000}')
check "the handshake shows the 100 ms RTT (got $gap ms)" test "$gap" -ge 90 -a "$gap" -le 150

"$LINGERLAB" run --builtin linger "${targs[@]}" -w "$TEST_TMP/only.pcap" "$TEST_TMP/nortt.scn" >/dev/null 2>&1
check_eq "-w alone: exit 0" 0 "$?"
check "-w alone: the report goes beside the capture" test -s "$TEST_TMP/only.json"

"$LINGERLAB" run --builtin linger "${targs[@]}" -o - -w "$TEST_TMP/so.pcap" "$TEST_TMP/nortt.scn" \
	>"$TEST_TMP/so.json" 2>"$TEST_TMP/so.err"
check_eq "-o -: exit 0" 0 "$?"
check_jq "-o -: the report is on stdout" "$TEST_TMP/so.json" '.command == "run" and (.scenarios | length) == 1'
check "-o -: the summary went to stderr" grep -q "^PASS: " "$TEST_TMP/so.err"

# one scenario's timeout must not cut the next one short
cat >"$TEST_TMP/quick.scn" <<'SCN'
# quick - done long before its 1 s timeout
scenario quick
timeout 1s
connect
request GET /index.html close
wait closed
SCN
cat >"$TEST_TMP/slow.scn" <<'SCN'
# slow - needs 1.5 s, longer than the previous scenario's timeout
scenario slow
connect
sleep 1500ms
request GET /index.html close
wait response 3s
expect response 1 status 200 complete
SCN
"$LINGERLAB" run --builtin linger "${targs[@]}" -o "$TEST_TMP/two.json" \
	"$TEST_TMP/quick.scn" "$TEST_TMP/slow.scn" >/dev/null 2>&1
check_eq "two scenarios: exit 0" 0 "$?"
check_jq "the second scenario ran to its end despite the first one's timeout" "$TEST_TMP/two.json" \
	'.scenarios[1].passed and .scenarios[1].summary.timed_out == false and .scenarios[0].summary.timed_out == false'
check_jq "scenario windows follow each other" "$TEST_TMP/two.json" \
	'.scenarios[0].end <= .scenarios[1].start and .scenarios[1].end - .scenarios[1].start >= 1.5'
cd "$top" || exit 1
finish
