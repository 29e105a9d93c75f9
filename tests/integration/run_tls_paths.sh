#!/usr/bin/env bash
# run_tls_paths.sh - the raw client's TLS paths when the server breaks
# them (issue 9): a server that resets right after reading the
# ClientHello, one that resets or closes (FIN) after part of its answer
# (tests/support/tls_breaker.py under --serve), a certificate that
# `tls verify` refuses, a server that refuses the version with an alert,
# and a body still going through TLS when the server's FIN comes. Each
# run must end at once with a note that names the TLS handshake and what
# the server did, exit 1 (the scenario failed), leave nothing behind, and
# under `make asan` (BUILD=build-asan) show no sanitizer report.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "TLS client paths"
for c in openssl python3; do
	if ! command -v $c >/dev/null; then
		skip "TLS client paths ($c not installed)"
		finish
	fi
done
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json
BREAKER=$PWD/tests/support/tls_breaker.py

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=lab -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" 2>/dev/null

# no_sanitizer NAME: the run's stderr holds no ASan/UBSan/LSan report
no_sanitizer() {
	check "$1: no sanitizer report" \
		bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$TEST_TMP/$1.err'"
}
# ended NAME SECONDS: the scenario took less than SECONDS
ended() {
	check_jq "$1: over in less than $2 s (no wait for a timeout)" "$TEST_TMP/$1.json" \
		"(.scenarios[0].end - .scenarios[0].start) < $2"
}
# note NAME 'regex': the connection's note
note_is() {
	check_jq "$1: the note: $2" "$TEST_TMP/$1.json" ".scenarios[0].notes[0] | test(\"$2\")"
}
common() { # common NAME: exit 1, a report that fits the schema, nothing left behind
	local pidv=${1}_pid rcv=${1}_rc
	check_eq "$1: exit 1 (connect failed)" 1 "${!rcv}"
	check "$1: report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/$1.json"
	check_eq "$1: nothing left behind" "" "$(run_leftovers "${!pidv}")"
	no_sanitizer "$1"
}

# A server that reads the ClientHello and resets, or answers part of the
# handshake and resets or closes
for m in rst-hello rst-flight fin-flight; do
	run_start "${m/-/_}" --serve "exec python3 $BREAKER $m 443 $TEST_TMP/cert.pem $TEST_TMP/key.pem" \
		--port 443 --tls -q -o "$TEST_TMP/${m/-/_}.json" scenarios/clean-close.scn
done
for m in rst_hello rst_flight fin_flight; do run_wait "$m" 60; common "$m"; ended "$m" 5; done
note_is rst_hello "^connection 1 \\\\(port [0-9]+\\\\): line 10: TLS handshake cut: the server reset the connection after our ClientHello, before the server sent a byte$"
note_is rst_flight "line 10: TLS handshake cut: the server reset the connection; the server had sent 60 bytes, not the whole handshake$"
note_is fin_flight "line 10: TLS handshake cut: the server closed the connection \\\\(FIN\\\\); the server had sent 60 bytes, not the whole handshake$"
check_jq "rst_hello: the response expectation fails, no response" "$TEST_TMP/rst_hello.json" \
	'.scenarios[0].client.responses == [] and .scenarios[0].passed == false'
check_jq "fin_flight: the client closes in order (no RST of ours at the end)" "$TEST_TMP/fin_flight.json" \
	'.scenarios[0].cleanup_rst_packets == [] or .scenarios[0].cleanup_rst_packets == null'

# `tls verify` against a self-signed certificate (the reference target's)
printf 'scenario verify\ntls verify sni "lab"\nconnect\nrequest GET / close\nwait closed 2s\nexpect response 1 status 200\n' \
	>"$TEST_TMP/verify.scn"
run_start verify --builtin linger --port 443 --target-arg --tls $(run_target_args) -q \
	-o "$TEST_TMP/verify.json" "$TEST_TMP/verify.scn"
run_wait verify 60
common verify
note_is verify "TLS: handshake failed: certificate verify failed: self-signed certificate \\\\(.tls verify. checks the chain against the system.s CAs and the name\\\\)"

# A server that will not speak the version pinned: its alert by name
run_start alert --serve "exec openssl s_server -quiet -accept 443 -tls1_2 -cert $TEST_TMP/cert.pem -key $TEST_TMP/key.pem -www" \
	--port 443 --tls --tls-version 1.3 -q -o "$TEST_TMP/alert.json" scenarios/clean-close.scn
run_wait alert 60
common alert
note_is alert "TLS: handshake failed: the server sent the alert protocol version \\\\(70\\\\)"

# The server's FIN while the body still goes through TLS: our close_notify
# waits for the body's end (it used to cut it: "protocol is shutdown")
run_start body --builtin linger --tls $(run_target_args) -q -o "$TEST_TMP/body.json" \
	-w "$TEST_TMP/body.pcap" scenarios/put-unauthorized.scn
run_wait body 60
check_eq "body: exit 0" 0 "$body_rc"
no_sanitizer body
check_jq "body: no note" "$TEST_TMP/body.json" '.scenarios[0].notes == []'
if command -v tshark >/dev/null; then
	# the client's stream: 1 MiB of body plus head and records, its
	# close_notify (24 bytes) last
	last=$(tshark -r "$TEST_TMP/body.pcap" -o "tls.keylog_file:$TEST_TMP/body.keys" \
		-Y 'tcp.dstport == 443 && tls' -T fields -e tcp.nxtseq -e tls.alert_message.desc 2>/dev/null | tail -1)
	check "body: the whole 1 MiB body went before the client's close_notify ($last)" \
		awk -v l="$last" 'BEGIN { split(l, f, "\t"); exit !(f[1] > 1048576 && f[2] == "0") }'
else
	skip "body: the body's end on the wire (tshark not installed)"
fi
finish
