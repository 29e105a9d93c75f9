#!/usr/bin/env bash
# real_captures_2.sh - the second set of real-server captures (a bug bash
# on traffic nobody here tuned for: TLS 1.2 and 1.3, a 128-byte snaplen,
# keep-alive races, pipelining with a bad request, servers killed), each
# check against a verdict judged by hand from the packets in
# tests/captures/real/README.md ("Second set"). Frame numbers as tcpdump
# numbers them, sequence numbers relative, TLS records counted from
# tshark's tls.record.length per packet.
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
no_finding() {
	check_jq "$1: RST $2: $3" "$TEST_TMP/$1.json" "all(.findings[]; .rst_packet != $2)"
}
conn() {
	if [ ! -s "$TEST_TMP/$1.jsonl" ]; then not_ok "$1: connection at $2: $3 (no --connections output)"; return; fi
	if jq -e -s "any(.[]; .first_packet == $2 and ($4))" "$TEST_TMP/$1.jsonl" >/dev/null 2>&1; then
		ok "$1: connection at $2: $3"
	else
		not_ok "$1: connection at $2: $3"
		diag "jq: $4 is false for first_packet $2 in $TEST_TMP/$1.jsonl"
	fi
}

# ------------------------------------------------ nginx-tls12-keepalive
# nginx 1.22 (TLS 1.2 only), lingering_close on, keepalive_timeout 2s.
analyze nginx-tls12-keepalive
# Conn 1-17: curl, two GETs on one connection. c2s records: ClientHello
# (4), ClientKeyExchange+CCS+Finished (8), 2 requests (10, 12), curl's
# close_notify (14) = 7; s2c: 4 handshake records (6), CCS+Finished (9),
# 2 responses = 8. nginx's FIN (15) is the first FIN: server-initiated.
conn nginx-tls12-keepalive 1 "TLS 1.2, records 7 c2s / 8 s2c (tshark)" \
	'.tls.version == "1.2" and .tls.records.c2s == 7 and .tls.records.s2c == 8'
conn nginx-tls12-keepalive 1 "graceful, nginx's FIN first" \
	'.kind == "graceful" and .close_initiator == "server" and .zeek_history == "ShADadfF"'
# Conn 18-32: curl PUT with Expect: 413 before any body: 6 / 7 records.
conn nginx-tls12-keepalive 18 "413 before the body: records 6 / 7" \
	'.tls.records.c2s == 6 and .tls.records.s2c == 7'
# Conn 33-49: openssl s_client -tls1_2 idles past keepalive_timeout:
# nginx's close_notify (45), FIN (47); the client ACKs both (46, and 48
# with ACK 1185) and answers with its own close_notify (48), data after
# nginx's close: RST (49, no ACK flag) seq 1185 = 48's ACK field. Every
# server byte was ACKed before: no finding.
conn nginx-tls12-keepalive 33 "keep-alive timeout: FIN, then RST for the client's close_notify" \
	'.kind == "fin_then_rst" and .server_end == "CLOSED" and .tls.records.c2s == 6 and .tls.records.s2c == 9'
conn nginx-tls12-keepalive 33 "Zeek: RSTR ShADadfr" '.zeek_conn_state == "RSTR" and .zeek_history == "ShADadfr"'
conn nginx-tls12-keepalive 33 "server FIN_WAIT_2 from the ACK of its FIN (48) to its RST" \
	'.fin_wait_2.server.ending == "server_rst" and .fin_wait_2.server.duration > 0.000028 and .fin_wait_2.server.duration < 0.00003'
no_finding nginx-tls12-keepalive 49 "RST after the client ACKed all (evidence: it answers 48)"
# Conn 50-67: python requests, three GETs, the client's FIN first.
conn nginx-tls12-keepalive 50 "client-initiated, records 7 / 9" \
	'.close_initiator == "client" and .tls.records.c2s == 7 and .tls.records.s2c == 9'
report nginx-tls12-keepalive "no rst_before_ack" '.summary.rst_before_ack == 0'

# ------------------------------------------------ nginx-tls13-snap128
# nginx (TLS 1.2 and 1.3) cut to 128 bytes a frame: every ServerHello
# (1.3, supported_versions behind a key share) is cut before its
# extensions end. legacy_version says 1.2 in a 1.3 ServerHello, so the
# version is unknown; lingerlab said "1.2" (with the whole capture
# tshark and lingerlab say 1.3).
analyze nginx-tls13-snap128
if jq -e -s 'length == 5 and all(.[]; .tls != null and .tls.version == null)' \
	"$TEST_TMP/nginx-tls13-snap128.jsonl" >/dev/null 2>&1; then
	ok "nginx-tls13-snap128: none of the 5 connections claims a TLS version"
else
	not_ok "nginx-tls13-snap128: none of the 5 connections claims a TLS version"
fi
conn nginx-tls13-snap128 1 "curl: version unknown (cut hello), not 1.2" '.tls != null and .tls.version == null'
conn nginx-tls13-snap128 111 "s_client: version unknown (cut hello), not 1.2" '.tls != null and .tls.version == null'
# the client's records are short: all 6 headers of conn 1 are in the
# first 128 bytes of their frames, as in the full capture (tshark: 6)
conn nginx-tls13-snap128 1 "curl's 6 records all read" '.tls.records.c2s == 6'

# ------------------------------------------------ nginx-pipe3-stale
# nginx 1.22, lingering_close off, keepalive_requests 100, timeout 2s.
analyze nginx-pipe3-stale
# Conn 1-12: GET, "GET /x HTTP/9.9 junk", GET in one segment (4): nginx
# answers 200 (6) and 505 (8) and closes (10): 2 requests were answered,
# the third was never parsed (parsing stops at the bad line). lingerlab
# said 1 request for 2 responses.
conn nginx-pipe3-stale 1 "a bad request line counts: 2 requests, 200 and 505" \
	'.http.requests == 2 and ([.http.responses[].status] == [200, 505]) and .http.unanswered == 0'
conn nginx-pipe3-stale 1 "graceful, nginx first" '.kind == "graceful" and .close_initiator == "server"'
# Conn 13-22: the keep-alive race: nginx's FIN (20, timeout) crosses the
# client's second GET (21, 0.77 ms later, ACK 268 covers the FIN); RST
# (22) seq 268 answers it. The response had been ACKed (19): no finding;
# the GET is lost (unanswered 1).
conn nginx-pipe3-stale 13 "keep-alive race: FIN, GET, RST; 1 request unanswered" \
	'.kind == "fin_then_rst" and .http.requests == 2 and .http.unanswered == 1'
conn nginx-pipe3-stale 13 "Zeek: RSTR ShADadfr" '.zeek_conn_state == "RSTR" and .zeek_history == "ShADadfr"'
no_finding nginx-pipe3-stale 22 "the response was ACKed at 19: no rst_before_ack"

# ------------------------------------------------ python-tls-put
# python3 http.server over TLS 1.3, a 1 MB PUT: 501 (17), close_notify +
# FIN (18), RST+ACK (19) 21 us later. The client's last ACK is frame 16
# (ACK 1268); the server's 17 ACKs 16 (evidence: it had ACK 1268), and
# timing says the same. data_end 1865: 597 bytes at risk. RST seq 1866 is
# the client's RCV.NXT after the FIN: reset, 597 bytes unACKed.
analyze python-tls-put
finding python-tls-put 19 "597 bytes at risk, reset before the client ACKed them" \
	'.sender == "server" and .bytes_at_risk_at_server == 597 and .client_impact == "reset_before_ack" and .impact.unacked_at_accept == 597'
finding python-tls-put 19 "what the server knew: ACK 1268" '.acked_at_capture == 1268 and .evidence.acked == 1268'
# python's shutdown(SHUT_WR) sent the FIN, close() with the PUT body
# unread sent the RST: unread_at_close (lingerlab said "abort: RST
# without FIN")
finding python-tls-put 19 "cause: the body left unread at close" '.cause == "unread_at_close"'
finding python-tls-put 19 "TLS 1.3: 2 records at risk (the 214 and 373 byte records), close_notify cannot be told" \
	'.tls.version == "1.3" and .tls.records_at_risk == 2 and .tls.close_notify == "cannot_tell"'
conn python-tls-put 1 "records 11 / 10 (tshark)" '.tls.records.c2s == 11 and .tls.records.s2c == 10'

# ------------------------------------------------ haproxy-tls
# HAProxy 2.6, TLS 1.3 on 29341, plain on 29340, keep-alive timeout 1s.
analyze haproxy-tls
# Conn 1-20: PUT 1 MB to /protected over TLS: 401 and close_notify in
# records 15-18 (250, 250, 248, 19), FIN (19), RST+ACK (20) seq 1544. The
# client's last ACK is 13 (ACK 756), proven by the server's 14: 787 bytes
# at risk; RST seq = RCV.NXT after the FIN: reset with 787 unACKed.
finding haproxy-tls 20 "787 bytes at risk, reset_before_ack, 4 records" \
	'.bytes_at_risk_at_server == 787 and .client_impact == "reset_before_ack" and .tls.records_at_risk == 4 and .cause == "unread_at_close"'
# Conn 21-29: the same PUT in clear: 401 (25), FIN (27); the client's body
# (28) ACKs 233, all of it; RST (29) seq 233 answers 28.
no_finding haproxy-tls 29 "RST answers a segment that ACKed the 401 and FIN"
conn haproxy-tls 21 "plain 401: fin_then_rst" '.kind == "fin_then_rst" and .http.responses[0].status == 401'
# Conn 30-46: three pipelined requests over TLS, FIN after close_notify.
conn haproxy-tls 30 "pipelined over TLS: graceful, records 4 / 11" \
	'.kind == "graceful" and .tls.records.c2s == 4 and .tls.records.s2c == 11'
# Conn 47-64: idle past the keep-alive timeout: close_notify (59), FIN
# (61) ACKed (62); a GET 0.16 s later (63) draws a RST (64): FIN_WAIT_2
# from 62 to 64.
conn haproxy-tls 47 "keep-alive timeout: FIN_WAIT_2 62 to the RST 64" \
	'.kind == "fin_then_rst" and .fin_wait_2.server.ending == "server_rst" and (.fin_wait_2.server.duration > 0.1576 and .fin_wait_2.server.duration < 0.1578)'
no_finding haproxy-tls 64 "everything ACKed at 62"
# Conn 65-79: the client half-closes (76) after its request; HAProxy
# answers, close_notify, FIN: the client's FIN_WAIT_2 ends at its FIN.
conn haproxy-tls 65 "half-close: client first, its FIN_WAIT_2 ends with the server's FIN" \
	'.close_initiator == "client" and .kind == "graceful" and .fin_wait_2.client.ending == "server_fin"'

# ------------------------------------------------ go-tls-put
# Go 1.19 net/http over TLS 1.3, a 1 MB PUT to /protected/ (401 unread
# body). Go answers (12), sends close_notify (13) but no TCP FIN
# (CloseWrite on a tls.Conn), stops reading (window 0 at 19, 21) and
# closes 500 ms later (rstAvoidanceDelay): RST+ACK (22) with the body
# unread. The client had ACKed all 1166 bytes at 14: no finding.
analyze go-tls-put
conn go-tls-put 1 "RST without FIN: abort by the server" \
	'.kind == "abort" and .close_initiator == "server" and .lingered == false'
conn go-tls-put 1 "Zeek: RSTR ShADadTwr" '.zeek_conn_state == "RSTR" and .zeek_history == "ShADadTwr"'
no_finding go-tls-put 22 "the client ACKed the 401 half a second before"
# c2s: tshark counts 11 whole records; the 12th (header in 18, body cut
# by the RST) is counted by lingerlab as a record begun
conn go-tls-put 1 "records 12 c2s (11 whole + 1 begun) / 9 s2c" \
	'.tls.version == "1.3" and .tls.records.c2s == 12 and .tls.records.s2c == 9'

# ------------------------------------------------ go-killed
# Go net/http streaming a chunked 300 KB response 10 KB every 50 ms,
# SIGKILLed at 0.4 s: the kernel sends what was queued and a FIN (48);
# curl ACKs and closes. TCP-wise graceful; the response never got its
# last chunk: incomplete.
analyze go-killed
conn go-killed 1 "killed server: graceful close by the server, response incomplete" \
	'.kind == "graceful" and .close_initiator == "server" and .http.responses[0].status == 200 and .http.responses[0].complete == false'

# ------------------------------------------------ nginx-linger-zero
# A health checker's close: the client reads the response, then closes
# with SO_LINGER {1, 0}: a RST, never a FIN.
analyze nginx-linger-zero
# Conn 1-10 (Connection: close): 200 (6), ACKed (7); nginx's FIN (8),
# ACKed (9); the client's RST+ACK (10). The RST's sender sent no FIN:
# abort, but nginx closed first; its FIN_WAIT_2 (9 to 10) ends with the
# client's RST; the server socket is gone (no TIME_WAIT).
conn nginx-linger-zero 1 "server FIN, client RST: abort, nginx first" \
	'.kind == "abort" and .close_initiator == "server" and .server_end == "CLOSED" and .client_end == "CLOSED"'
conn nginx-linger-zero 1 "server FIN_WAIT_2 ended by the client's RST" '.fin_wait_2.server.ending == "client_rst"'
conn nginx-linger-zero 1 "Zeek: RSTO ShADadfR" '.zeek_conn_state == "RSTO" and .zeek_history == "ShADadfR"'
# Conn 11-18 (keep-alive): the client's RST ends an open connection: abort
# by the client. Its request was ACKed: no finding either way.
conn nginx-linger-zero 11 "keep-alive: the client's RST, no FIN: abort by the client" \
	'.kind == "abort" and .close_initiator == "client" and .zeek_history == "ShADadR"'
report nginx-linger-zero "no finding" '(.findings | length) == 0'

# ------------------------------------------------ an older capture
# lab-python-flood (first set): 501 + FIN (71), RST+ACK (72) 19 us
# later with the PUT body unread: the README's hand verdict says "close
# with unread data"; lingerlab said abort.
analyze lab-python-flood
finding lab-python-flood 72 "cause: unread at close" '.cause == "unread_at_close"'
# apache2 (first set, cut to 128 bytes a frame): the 404 (6, 397 bytes)
# keeps 62 of them, the status line and part of the headers: its end was
# never seen. It is not "complete", and not short either: parse_lost
# (before, the record read "complete: false" alone, as if Apache had cut
# its response).
analyze apache2
conn apache2 1 "404 cut by the snaplen: parse_lost, not a short response" \
	'.http.responses[0].status == 404 and .http.responses[0].complete == false and .http.responses[0].parse_lost == true'
# go-killed: the chunked response the SIGKILL cut is short, and seen to
# its end (the FIN): no parse_lost
conn go-killed 1 "a response cut by the FIN is short, not lost" '.http.responses[0] | has("parse_lost") | not'
# explain on the TLS finding (haproxy-tls, RST 20): the first record at
# risk (15) is a session ticket, not the 401 (17): without keys the notes
# must not say "the response begins here"; and the RST followed a FIN, so
# not "RST without FIN".
"$LINGERLAB" explain --color=never "$TEST_TMP/haproxy-tls.json" >"$TEST_TMP/haproxy-tls.explain" 2>&1
check_eq "haproxy-tls: explain exits 0" 0 $?
if grep -q "bytes at risk begin here: TLS records" "$TEST_TMP/haproxy-tls.explain" &&
   ! grep -q "its response begins here" "$TEST_TMP/haproxy-tls.explain"; then
	ok "haproxy-tls: explain names TLS records at risk, not the response"
else
	not_ok "haproxy-tls: explain names TLS records at risk, not the response"
fi
if tr '\n' ' ' <"$TEST_TMP/haproxy-tls.explain" | tr -s ' |' ' ' | grep -q "even after a FIN sent by shutdown()" &&
   ! grep -q "RST without FIN" "$TEST_TMP/haproxy-tls.explain"; then
	ok "haproxy-tls: explain's cause follows the FIN"
else
	not_ok "haproxy-tls: explain's cause follows the FIN"
fi
# the HTML page says the same (it said "RST instead of FIN")
"$LINGERLAB" render "$TEST_TMP/haproxy-tls.json" -o "$TEST_TMP/haproxy-tls.html" >/dev/null 2>&1
check_eq "haproxy-tls: render exits 0" 0 $?
if grep -q "RST even after a FIN sent by shutdown()" "$TEST_TMP/haproxy-tls.html" &&
   ! grep -q "RST instead of FIN" "$TEST_TMP/haproxy-tls.html"; then
	ok "haproxy-tls: the page's cause follows the FIN"
else
	not_ok "haproxy-tls: the page's cause follows the FIN"
fi
# lab-client-abort (first set): the client's RST; the page said "the
# server closed while client data sat unread", the wrong way round
analyze lab-client-abort
"$LINGERLAB" render "$TEST_TMP/lab-client-abort.json" -o "$TEST_TMP/lab-client-abort.html" >/dev/null 2>&1
if grep -q "Why: the client closed while server data sat unread" "$TEST_TMP/lab-client-abort.html"; then
	ok "lab-client-abort: the page's cause names the client as the one that closed"
else
	not_ok "lab-client-abort: the page's cause names the client as the one that closed"
fi
finish
