#!/usr/bin/env bash
# real_captures_tls.sh - lingerlab analyze against the hand verdicts on
# the lab's TLS captures of real servers (tests/captures/real/README.md,
# "Over TLS": how each was made, and why each verdict is what it is), and
# the key log beside each capture decrypting it in tshark. The analyzer
# reads them without keys (record boundaries only); the decrypted view is
# what the verdicts were judged on.
#
# Every check's comment is the hand judgement it holds. When one fails,
# read the packets again: a check that is right is a bug report against
# the analyzer.
source tests/lib.sh
D=tests/captures/real

analyze() {
	"$LINGERLAB" analyze -r "$D/$1.pcap" -o "$TEST_TMP/$1.json" \
		--connections "$TEST_TMP/$1.jsonl" >/dev/null 2>"$TEST_TMP/$1.err"
	check_eq "$1: analyze exits 0" 0 $?
}
report() { check_jq "$1: $2" "$TEST_TMP/$1.json" "$3"; }
finding() {
	check_jq "$1: RST $2: $3" "$TEST_TMP/$1.json" \
		"any(.findings[]; .rst_packet == $2 and ($4))"
}
fate() { # fate NAME RST PACKET SEQ ACCEPT WHAT
	check_jq "$1: RST $3 (finding $2) seq $4 is $5 at the client: $6" "$TEST_TMP/$1.json" \
		"any(.findings[]; .rst_packet == $2 and
		     any(.impact.rsts[]; .packet == $3 and .seq == $4 and .accept == \"$5\"))"
}
conn() { # conn NAME FIRST WHAT JQ
	if jq -e -s "any(.[]; .first_packet == $2 and ($4))" "$TEST_TMP/$1.jsonl" >/dev/null 2>&1; then
		ok "$1: connection at $2: $3"
	else
		not_ok "$1: connection at $2: $3"
		diag "jq: $4 is false for first_packet $2 in $TEST_TMP/$1.jsonl"
	fi
}
# decrypted NAME EXPECTED: tshark with NAME.keys names these HTTP
# statuses, in order
decrypted() {
	if ! command -v tshark >/dev/null; then
		skip "$1: decrypted with its key log (tshark not installed)"
		return
	fi
	local got
	got=$(tshark -r "$D/$1.pcap" -o "tls.keylog_file:$D/$1.keys" -Y http.response \
		-T fields -e http.response.code 2>/dev/null | tr '\n' ' ')
	check_eq "$1: the key log decrypts it (statuses $2)" "$2" "${got% }"
}

for f in lab-nginx-tls-off lab-nginx-tls-always lab-lighttpd-tls lab-haproxy-tls; do
	check "$f: capture and key log under 200 KB" \
		test "$(stat -c %s "$D/$f.pcap")" -lt 204800 -a -s "$D/$f.keys"
done

# lab-nginx-tls-off: nginx ssl, lingering_close off. Connection 1
# (pipelined-404): tickets, 404 and close_notify are bytes 745..1635,
# FIN 1636; RST 17 (R, seq 745) answers GET 16, which carried ACK 745:
# evidence, 1636 - 745 = 891 bytes at risk, 4 records. At the client the
# stale RSTs (seq 745, then 1016, 1287, 1612, below RCV.WUP 1637) are
# ignored; RST 35 (seq 1636 = RCV.NXT - 1, LAST_ACK) resets, after the
# client had ACKed everything. Connection 2 (close-notify): RST 70 answers
# the client's close_notify (seq 1596 = its ACK field): nothing at risk.
analyze lab-nginx-tls-off
decrypted lab-nginx-tls-off "404 200"
report lab-nginx-tls-off "1 rst_before_ack (the RST answering the close_notify is none)" '.summary.rst_before_ack == 1'
finding lab-nginx-tls-off 17 "891 bytes at risk, basis evidence, client data after the FIN" \
	'.bytes_at_risk_at_server == 891 and .basis == "evidence" and .cause == "data_after_fin"'
finding lab-nginx-tls-off 17 "4 TLS 1.3 records at risk, close_notify cannot be told" \
	'.tls.version == "1.3" and .tls.records_at_risk == 4 and .tls.close_notify == "cannot_tell"'
fate lab-nginx-tls-off 17 17 745 ignored "below RCV.WUP 1637"
fate lab-nginx-tls-off 17 31 1287 ignored "below RCV.WUP 1637"
# (the report lists the first 8 RSTs; 33, seq 1612, is ignored too)
finding lab-nginx-tls-off 17 "client_impact reset_after_ack, accepted RST 35 (seq 1636 = RCV.NXT - 1 in LAST_ACK)" \
	'.client_impact == "reset_after_ack" and .impact.accepted_rst_packet == 35'

# lab-nginx-tls-always: lingering_close always. Connection 1: 404,
# close_notify, FIN 15; nginx ACKs every late GET and the client's
# close_notify and FIN (37, ACK 1232): lingered, 1231 - 477 = 754 bytes
# drained, ended by the client's FIN. Connection 2 (close-notify): the
# client's close_notify (24 bytes) read: lingered, client_fin. No RST.
analyze lab-nginx-tls-always
decrypted lab-nginx-tls-always "404 200"
report lab-nginx-tls-always "no RST, no finding, both lingered" \
	'.summary.rst_before_ack == 0 and .findings == [] and .summary.lingered == 2'
conn lab-nginx-tls-always 1 "lingered 754 bytes, ended by client_fin" \
	'.lingered and .linger.bytes_drained == 754 and .linger.ended_by == "client_fin" and .kind == "graceful"'
conn lab-nginx-tls-always 38 "lingered over the client's close_notify (24 bytes)" \
	'.lingered and .linger.bytes_drained == 24 and .linger.ended_by == "client_fin"'

# lab-lighttpd-tls: lighttpd mod_openssl. Connection 1 (pipelined-404):
# 404 and close_notify (bytes 745..1794); lighttpd read GET 14 after its
# close_notify (FIN 15 carries ACK 550), then resets every later segment:
# RST 17 (seq 745) answers GET 16 (ACK 745): evidence, 1795 - 745 = 1050
# bytes at risk. At the client: stale RSTs ignored, RST 33 (seq 1795 =
# RCV.NXT - 1, LAST_ACK) resets after the ACK. Connection 2
# (close-notify): 200 and close_notify but no FIN; the client waits for
# one, lighttpd for the client's close_notify; the lab's clean-up RST
# (65) ends it: no server RST, not lingered.
analyze lab-lighttpd-tls
decrypted lab-lighttpd-tls "404 200"
report lab-lighttpd-tls "1 rst_before_ack" '.summary.rst_before_ack == 1'
finding lab-lighttpd-tls 17 "1050 bytes at risk, basis evidence, 4 records" \
	'.bytes_at_risk_at_server == 1050 and .basis == "evidence" and .tls.records_at_risk == 4'
fate lab-lighttpd-tls 17 31 1771 ignored "below RCV.WUP 1796"
finding lab-lighttpd-tls 17 "client_impact reset_after_ack, accepted RST 33 (seq 1795 = RCV.NXT - 1 in LAST_ACK)" \
	'.client_impact == "reset_after_ack" and .impact.accepted_rst_packet == 33'
conn lab-lighttpd-tls 48 "no server FIN: the client's (lab's) RST ends it" \
	'.kind == "abort" and .close_initiator == "client" and (.lingered | not)'

# lab-haproxy-tls: HAProxy ssl in front of the reference target.
# Connection 1: keep-alive, 12 responses; after `timeout client` (3 s)
# close_notify and FIN; RST 52 (seq 9263) answers the client's
# close_notify (51, ACK 9263): evidence, nothing at risk. Connection 2
# (close-notify): the same at once, RST 74 answers 73. No finding.
analyze lab-haproxy-tls
decrypted lab-haproxy-tls "404 200 200 200 200 200 200 200 200 200 200 200 200"
report lab-haproxy-tls "no rst_before_ack (its RSTs answer close_notify)" \
	'.summary.rst_before_ack == 0 and .findings == []'
conn lab-haproxy-tls 1 "server closed first, then RST" '.kind == "fin_then_rst" and .close_initiator == "server"'
conn lab-haproxy-tls 55 "server closed first, then RST" '.kind == "fin_then_rst" and .close_initiator == "server"'
finish
