#!/usr/bin/env bash
# run_kclient.sh - real clients in the lab (issue 11): the kernel-socket
# client mode and client programs, against the reference target.
#   1. put-unauthorized-kernel (`client kernel`, `read after send`)
#      against `close`: the server's RST makes the application's write
#      fail (EPIPE or ECONNRESET, recorded with the call and time), and
#      Linux still hands it the 401 it had received; against `linger`:
#      the whole body is written, the 401 is read, no syscall error.
#   2. a real curl (`run --client`) uploading to `close` (401 early): its
#      exit status, output and duration are in the report, its connection
#      is matched and analysed like any other.
#   3. scenarios/clients/python-pipeline.scn: a python3 script shipped
#      beside the scenario (LINGERLAB_SCENARIO_DIR).
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "kernel clients and client programs"
mapfile -t marker < <(run_target_args)

for pol in close linger; do
	rep=$TEST_TMP/k-$pol.json
	run_start "k$pol" --builtin $pol "${marker[@]}" -o "$rep" scenarios/put-unauthorized-kernel.scn
	run_wait "k$pol" 90
	pidv=k${pol}_pid; rcv=k${pol}_rc
	check_eq "kernel client vs $pol: nothing left behind" "" "$(run_leftovers "${!pidv}")"
	if [ ! -s "$rep" ]; then not_ok "kernel client vs $pol: report written"; continue; fi
	check "kernel client vs $pol: report matches the schema" \
		tests/support/validate-json reports/schema/report.schema.json "$rep"
	check_jq "kernel client vs $pol: client kind and one app connection from the client address" "$rep" \
		'.scenarios[0].client_kind == "kernel" and (.scenarios[0].app | length) == 1 and (.scenarios[0].connections | length) == 1 and .scenarios[0].app[0].read == "after send" and .scenarios[0].app[0].port >= 61000'
	check_jq "kernel client vs $pol: the application read the 401, complete" "$rep" \
		'.scenarios[0].app[0].responses[0].status == 401 and .scenarios[0].app[0].responses[0].complete and .scenarios[0].app[0].bytes_read > 0'
	check_jq "kernel client vs $pol: no leaked RST, no raw emulated RTT" "$rep" \
		'.lab.leaked_rst == 0 and .scenarios[0].rtt == 0'
	check_jq "kernel client vs $pol: the client namespace was sampled" "$rep" \
		'(.lab.kernel.samples | length) > 0 and (.lab.kernel.samples[0].client_states | type) == "object" and (.scenarios[0].client_kernel_peak | type) == "object"'
	if [ $pol = close ]; then
		check_eq "kernel client vs close: exit 1 (expect app no error fails)" 1 "${!rcv}"
		check_jq "kernel client vs close: a send failed with EPIPE or ECONNRESET, named with its time" "$rep" \
			'.scenarios[0].app[0].errors[0].call == "send" and (.scenarios[0].app[0].errors[0].errno | IN("EPIPE","ECONNRESET")) and .scenarios[0].app[0].errors[0].time > 0 and (.scenarios[0].app[0].errors_text | test("^send: E[A-Z]+ at [0-9.]+ s"))'
		check_jq "kernel client vs close: the body was cut short" "$rep" \
			'.scenarios[0].app[0].bytes_written < 1048576'
		check_jq "kernel client vs close: the failed expectation names the error" "$rep" \
			'[.scenarios[0].expectations[] | select(.passed | not) | .text] == ["expect app no error"]'
		check "kernel client vs close: the summary shows the application's view" \
			grep -q "app (port [0-9]*, read after send): got 401 (complete), read [0-9]* bytes and end-of-file; send: E" "$TEST_TMP/kclose.out"
		"$LINGERLAB" render "$rep" -o "$TEST_TMP/k-close.html" >/dev/null 2>&1
		check "kernel client vs close: the HTML report shows the application's view" \
			grep -qE "application: got 401 \(complete\); send: E[A-Z]+ at [0-9.]+ s" "$TEST_TMP/k-close.html"
	else
		check_eq "kernel client vs linger: exit 0" 0 "${!rcv}"
		check_jq "kernel client vs linger: the whole body written, end-of-file, no error" "$rep" \
			'.scenarios[0].app[0].bytes_written > 1048576 and .scenarios[0].app[0].eof and (.scenarios[0].app[0].errors | length) == 0 and .scenarios[0].app[0].errors_text == "no syscall error"'
		check_jq "kernel client vs linger: the server lingered" "$rep" '.scenarios[0].summary.lingered == 1'
	fi
done

# the delay line (lab/kdelay.h): a kernel client with `rtt 200ms`; in the
# capture (taken between the delay and the server) the client's handshake
# ACK leaves about an RTT after the server's SYN-ACK
scn=$TEST_TMP/rtt.scn
printf 'scenario kernel-rtt\nclient kernel\nrtt 200ms\ntimeout 20s\nread after send\nconnect\nrequest PUT /protected/x length 64KiB\nbody 64KiB\nwait closed 5s\nexpect app response 1 status 401 complete\n' >"$scn"
rep=$TEST_TMP/rtt.json
run_start rtt --builtin linger "${marker[@]}" -o "$rep" -w "$TEST_TMP/rtt.pcap" "$scn"
run_wait rtt 60
check_eq "kernel client with rtt: exit 0" 0 "$rtt_rc"
check_eq "kernel client with rtt: nothing left behind" "" "$(run_leftovers "$rtt_pid")"
if [ -s "$rep" ]; then
	check_jq "kernel client with rtt: rtt 0.2 in the report, connection matched, 401 read" "$rep" \
		'.scenarios[0].rtt == 0.2 and (.scenarios[0].connections | length) == 1 and .scenarios[0].app[0].responses[0].status == 401 and .lab.leaked_rst == 0'
	gap=$(tcpdump -ttnr "$TEST_TMP/rtt.pcap" 2>/dev/null | awk '
		/Flags \[S\.\]/ && !sa { sa = $1; next }
		sa && /Flags \[\.\]/ && !ack { ack = $1; print ack - sa; exit }')
	check "kernel client with rtt: the handshake ACK leaves at least 0.19 s (and under 1 s) after the SYN-ACK (got ${gap:-none})" \
		awk -v g="${gap:-0}" 'BEGIN { exit !(g >= 0.19 && g < 1.0) }'
else
	not_ok "kernel client with rtt: report written"
fi

# a bad kernel script: the rejected statement, with file:line:col, exit 2
bad=$TEST_TMP/bad.scn
printf 'scenario bad\nclient kernel\nconnect\nack never\n' >"$bad"
out=$("$LINGERLAB" run --check "$bad" 2>&1); rc=$?
check_eq "a raw-only step in a kernel script: exit 2" 2 "$rc"
check_eq "a raw-only step in a kernel script: the message" \
	"$bad:4:1: expected a step a kernel client can do (\"ack\" needs the raw client), found \"ack\"" "$out"

if ! command -v curl >/dev/null; then
	skip "curl in the lab (curl not installed; make deps installs it)"
else
	rep=$TEST_TMP/curl.json
	run_start curl --builtin close "${marker[@]}" -o "$rep" \
		--client 'head -c 1048576 /dev/zero | curl -sS -X PUT -H "Expect:" --data-binary @- -o /dev/null -w "%{http_code}\n" "${LINGERLAB_URL}protected/upload.bin"; echo "addr=$LINGERLAB_ADDR port=$LINGERLAB_PORT" >&2'
	run_wait curl 60
	check_eq "curl: nothing left behind" "" "$(run_leftovers "$curl_pid")"
	if [ -s "$rep" ]; then
		check "curl: report matches the schema" \
			tests/support/validate-json reports/schema/report.schema.json "$rep"
		check_jq "curl: one scenario \"client\" with the program's record" "$rep" \
			'.scenarios[0].name == "client" and .scenarios[0].client_kind == "command" and .scenarios[0].program.ran and .scenarios[0].program.duration > 0'
		check_jq "curl: it ran with the lab's address and port in its environment" "$rep" \
			'.lab.target.address as $a | .scenarios[0].program.stderr_tail | test("addr=" + $a + " port=80")'
		check_jq "curl: its exit status and the status code it printed are recorded" "$rep" \
			'(.scenarios[0].program.exit_status | type) == "number" and (.scenarios[0].program.exit_status != 0 or (.scenarios[0].program.stdout_tail | test("401")))'
		check_jq "curl: its connection was captured and analysed" "$rep" \
			'(.scenarios[0].connections | length) == 1 and .lab.leaked_rst == 0'
		check "curl: the summary shows its exit" grep -q "client program: exit [0-9]* after" "$TEST_TMP/curl.out"
		"$LINGERLAB" render "$rep" -o "$TEST_TMP/curl.html" >/dev/null 2>&1
		check "curl: the HTML report shows its exit" grep -qE "client program: exit [0-9]+ after" "$TEST_TMP/curl.html"
	else
		not_ok "curl: report written"
	fi
fi

# a client program through the delay line: --rtt applies to it too
if command -v curl >/dev/null; then
	rep=$TEST_TMP/curl-rtt.json
	run_start crtt --builtin linger "${marker[@]}" --rtt 100ms -o "$rep" \
		--client 'curl -sS -o /dev/null -w "%{http_code}\n" "$LINGERLAB_URL"'
	run_wait crtt 60
	check_eq "curl with --rtt: nothing left behind" "" "$(run_leftovers "$crtt_pid")"
	check_jq "curl with --rtt: delayed (two round trips at least), matched, got 200" "$rep" \
		'.scenarios[0].rtt == 0.1 and .scenarios[0].program.exit_status == 0 and .scenarios[0].program.duration >= 0.2 and (.scenarios[0].connections | length) == 1 and (.scenarios[0].program.stdout_tail | test("200"))'
fi

rep=$TEST_TMP/py.json
run_start py --builtin close "${marker[@]}" -o "$rep" scenarios/clients/python-pipeline.scn
run_wait py 60
if [ -s "$rep" ]; then
	check_jq "python-pipeline: the script ran from the scenario's directory and got the 404" "$rep" \
		'.scenarios[0].program.exit_status != null and (.scenarios[0].program.stdout_tail | test("status 404")) and ([.scenarios[0].expectations[] | select(.text | test("output contains")) | .passed] == [true])'
else
	not_ok "python-pipeline: report written"
fi

# expectations on the program: a failing exit is a failed expectation
scn=$TEST_TMP/exit.scn
printf 'scenario exit3\nclient command "echo hello; exit 3"\ntimeout 5s\nexpect client exit 0\nexpect client output contains "hello"\n' >"$scn"
rep=$TEST_TMP/exit.json
run_start ex --builtin linger "${marker[@]}" -o "$rep" "$scn"
run_wait ex 60
check_eq "client exit 3: the run exits 1" 1 "$ex_rc"
check_jq "client exit 3: exit fails with its status, output passes" "$rep" \
	'[.scenarios[0].expectations[] | .passed] == [false, true] and (.scenarios[0].expectations[0].detail | test("exited 3"))'
finish
