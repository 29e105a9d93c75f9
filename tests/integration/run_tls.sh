#!/usr/bin/env bash
# run_tls.sh - the lab over TLS (issue 9): the raw client runs a TLS
# handshake after TCP's (OpenSSL over memory BIOs) against the reference
# target with --tls, expectations judge the decrypted view, and the report
# names the response at risk from it; the session keys are written beside
# the capture and decrypt it in tshark; `tls` in a scenario sets the
# version and the close_notify policy; a server that does not speak TLS,
# a bad option and a bad `tls` line are named clearly.
source tests/lib.sh
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json

if ! need_root; then
	skip "TLS runs need root (namespace lab)"
	finish
fi

# The headline: close flags pipelined-404 over TLS and names the 404
"$LINGERLAB" run --builtin close --tls -q -o "$TEST_TMP/close.json" scenarios/pipelined-404.scn
check_eq "close --tls: exit 1 (the hazard)" 1 $?
check "close --tls: report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/close.json"
check_jq "close --tls: one server rst_before_ack" "$TEST_TMP/close.json" \
	'.summary.rst_before_ack_server == 1'
check_jq "close --tls: the response at risk is the 404, from the decrypted view" "$TEST_TMP/close.json" \
	'.scenarios[0].findings[0].response == {"index": 1, "status": 404, "from": "decrypted"}'
check_jq "close --tls: the analyzer counts the TLS records at risk" "$TEST_TMP/close.json" \
	'.findings[0].tls.version == "1.3" and .findings[0].tls.records_at_risk >= 1'
check_jq "close --tls: the client's TLS 1.3 handshake and the server's close_notify" "$TEST_TMP/close.json" \
	'.scenarios[0].client.tls == {"version": "TLSv1.3", "connections": 1, "server_close_notify": 1}'
check "close --tls: the key log is beside the capture" test -s "$TEST_TMP/close.keys"
check "close --tls: the key log is in NSS format" \
	grep -q '^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]\{64\} ' "$TEST_TMP/close.keys"
if command -v tshark >/dev/null; then
	codes=$(tshark -r "$TEST_TMP/close.pcap" -o "tls.keylog_file:$TEST_TMP/close.keys" -Y http.response \
		-T fields -e http.response.code 2>/dev/null | tr '\n' ' ')
	check_eq "close --tls: tshark decrypts the capture with the key log (the 404)" "404 " "$codes"
else
	skip "tshark decryption (tshark not installed)"
fi

"$LINGERLAB" run --builtin linger --tls -q -o "$TEST_TMP/linger.json" scenarios/pipelined-404.scn
check_eq "linger --tls: exit 0" 0 $?
check_jq "linger --tls: no finding, the 404 arrived" "$TEST_TMP/linger.json" \
	'.summary.rst_before_ack == 0 and .scenarios[0].client.responses[0].status == 404'

# Every shipped raw-client scenario over TLS against linger: same verdicts
# as plain (TLS is the raw client's; kernel clients and programs are refused)
mapfile -t raw < <(grep -L '^client ' scenarios/*.scn)
"$LINGERLAB" run --builtin linger --tls -q -o "$TEST_TMP/all.json" "${raw[@]}"
check_eq "linger --tls: every shipped raw-client scenario passes unchanged" 0 $?
out=$("$LINGERLAB" run --builtin linger --tls -q -o "$TEST_TMP/k.json" scenarios/put-unauthorized-kernel.scn 2>&1); rc=$?
check_eq "--tls with a 'client kernel' scenario: exit 2" 2 "$rc"
check "--tls with a 'client kernel' scenario: says TLS goes with the raw client" \
	grep -q 'TLS goes with the raw client only' <<<"$out"

# `tls` in a scenario: the version and the close_notify policy
sed 's/^tls version 1.3 close-notify send$/tls version 1.2 sni "lab.example" alpn "http\/1.1"/' \
	scenarios/tls/close-notify.scn >"$TEST_TMP/v12.scn"
"$LINGERLAB" run --builtin linger --port 443 --target-arg --tls -q -o "$TEST_TMP/v12.json" "$TEST_TMP/v12.scn"
check_eq "tls version 1.2: exit 0" 0 $?
check_jq "tls version 1.2: the handshake settled on TLS 1.2" "$TEST_TMP/v12.json" \
	'.scenarios[0].client.tls.version == "TLSv1.2" and .connections == [] and .findings == []'
for p in close linger; do
	"$LINGERLAB" run --builtin "$p" --port 443 --target-arg --tls -q -o "$TEST_TMP/cn-$p.json" \
		scenarios/tls/close-notify.scn
	check_eq "close-notify.scn against $p: its expectations hold" 0 $?
done
check_jq "close-notify: a server that closed answers the client's close_notify with a RST" \
	"$TEST_TMP/cn-close.json" '.scenarios[0].client.reset_seen == true and .summary.rst_before_ack == 0'
check_jq "close-notify: a lingering server reads it (no RST)" \
	"$TEST_TMP/cn-linger.json" '.scenarios[0].client.reset_seen == false and .summary.by_kind.graceful == 1'

# Errors said plainly
"$LINGERLAB" run --builtin close --port 443 -q -o "$TEST_TMP/plain.json" scenarios/tls/close-notify.scn
check_eq "a TLS scenario against a plain server: exit 1" 1 $?
check_jq "... and the note says the server sent nothing back" "$TEST_TMP/plain.json" \
	'.scenarios[0].notes[0] | test("TLS handshake was not over .*not a TLS server")'
out=$("$LINGERLAB" run --builtin close --tls-version 1.3 scenarios/pipelined-404.scn 2>&1); rc=$?
check_eq "--tls-version without --tls: exit 2" 2 "$rc"
check "--tls-version without --tls: says so" grep -q 'tls-version goes with --tls' <<<"$out"
printf 'scenario x\ntls version 1.1\nconnect\n' >"$TEST_TMP/bad.scn"
out=$("$LINGERLAB" run --check "$TEST_TMP/bad.scn" 2>&1); rc=$?
check_eq "tls version 1.1: exit 2" 2 "$rc"
check "tls version 1.1: file:line:col and what was expected" \
	grep -q 'bad.scn:2:13: .*a TLS version: 1.2 or 1.3' <<<"$out"
finish
