#!/usr/bin/env bash
# capbash.sh - the true answers for real traffic nobody here wrote
# (docs/capbash.md): real clients (chromium, curl, node fetch, Python)
# against real servers (nginx, node, Go, haproxy, Python), captured on
# loopback (-lo), or at one end (-srv, -cli) of a 25 ms each-way path
# between two namespaces. Each answer was read off the packets by hand;
# where a connection was captured at both ends, both captures must give
# the same answers.
source tests/lib.sh
D=tests/data/capbash

analyze() { # analyze NAME: $TEST_TMP/NAME.json and NAME.jsonl from $D/NAME.pcap
	"$LINGERLAB" analyze -r "$D/$1.pcap" -o "$TEST_TMP/$1.json" \
		--connections "$TEST_TMP/$1.jsonl" 2>"$TEST_TMP/$1.err"
	check_eq "$1: analyze exits 0" 0 "$?"
}

# --- C1: a RST that crossed the peer's FIN is not "after both FINs" --------
# nginx (keepalive_timeout 1s), a Python client that reuses its idle
# connection just as the timeout fires, captured at the client: the
# request (pkt 8, ack 331) crosses nginx's FIN (pkt 9, seq 331); the
# client, given the FIN, closes (pkt 10, FIN seq 75, ack 332); nginx's
# socket, gone since the request reached it in FIN_WAIT_1, answers the
# request with RST seq 331 (pkt 11; tcp_v4_send_reset copies the ACK
# field), which the client takes (RCV.NXT - 1 in LAST_ACK,
# tcp_reset_check), and the FIN with RST seq 332 (pkt 12). The RST left
# nginx 25 ms before the client's FIN reached it: nginx closed, then reset
# late data (fin_then_rst), though the capture shows both FINs first.
analyze nginx-idle-race-cli
J=$TEST_TMP/nginx-idle-race-cli
check_jq "C1 capture: one connection, both FINs before the first RST in the capture" "$J.jsonl" \
	'.s2c.fin_packet == 9 and .c2s.fin_packet == 10 and .s2c.rst_packet == 11'
check_jq "C1: the RST crossed the client's FIN: fin_then_rst, closed by the server" "$J.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "server"'
check_jq "C1: nothing was at risk: no finding; Zeek SF (both FINs), ShADadfFrr" "$J.jsonl" \
	'.findings == [] and .zeek_conn_state == "SF" and .zeek_history == "ShADadfFrr"'

# The mirror image, at the server: chromium (headless, --dump-dom)
# closes an idle connection (FIN pkt 19) while its favicon request's 404
# is on its way (pkt 18); nginx's FIN (pkt 20) follows; the client's
# socket answers the 404 with RST seq 1534 (pkt 21, captured 22 ms after
# nginx's FIN: it left the client before that FIN could reach it) and the
# FIN with RST seq 1535 (pkt 22).
analyze chromium-rst-crosses-fin-srv
J=$TEST_TMP/chromium-rst-crosses-fin-srv
check_jq "C1 (server end): chromium closed, then reset late data: fin_then_rst, closed by the client" "$J.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "client" and .c2s.rst_packet == 21'
check_jq "C1 (server end): 4 responses (3x 200, the favicon's 404), no finding" "$J.jsonl" \
	'[.http.responses[].status] == [200, 200, 200, 404] and .findings == []'

# --- C2: a reply RST dates what its sender knew, with a handshake too -------
# node http: a 413 written (157 bytes) while curl uploads 300 KB, then
# req.socket.destroy(): node's FIN, then RSTs seq 1 answering body
# segments sent before the 413 arrived. At the server (-srv) the first
# RST (pkt 27) left before the client's ACK of the 413 (pkt 30): 157
# bytes at risk, true. At the client (-cli) the same RST is pkt 47,
# 51.7 ms after the client's ACK (pkt 27), and the handshake's 50 ms
# round trip said that ACK had arrived in time; but a RST that answers a
# segment leaves when the segment arrives, and every segment with a
# higher ACK field was sent, and arrived, later.
for v in srv cli; do
	analyze node-destroy-upload-$v
	J=$TEST_TMP/node-destroy-upload-$v
	check_jq "C2 ($v): rst_before_ack, 157 bytes at risk, RST seq 1, the 413 at risk" "$J.json" \
		'.summary.rst_before_ack == 1 and .findings[0].bytes_at_risk_at_server == 157
		 and .findings[0].rst_seq == 1 and .findings[0].response.status == 413'
	check_jq "C2 ($v): the client ignores the RSTs seq 1 and takes seq 158 after ACKing all: reset_after_ack" "$J.json" \
		'.findings[0].client_impact == "reset_after_ack" and .findings[0].impact.rsts[0].accept == "ignored"
		 and ([.findings[0].impact.rsts[] | select(.accept == "reset")][0].seq == 158)'
	check_jq "C2 ($v): fin_then_rst closed by the server, Zeek RSTR" "$J.jsonl" \
		'.kind == "fin_then_rst" and .close_initiator == "server" and .zeek_conn_state == "RSTR"'
done
check_jq "C2 (cli): the basis is the RST's seq (evidence), not the timing estimate" \
	"$TEST_TMP/node-destroy-upload-cli.json" \
	'.findings[0].basis == "evidence" and .findings[0].evidence.acked == 1'

flat=$("$LINGERLAB" explain "$TEST_TMP/node-destroy-upload-cli.json" 2>&1 | sed 's/^ *| //' | tr '\n' ' ' | tr -s ' ')
check "C2 (cli): explain says the reply RST bounds what the server knew" \
	grep -q "so the server had the client's ACK up to 1\. And no more: the RST left when that segment arrived, and any client ACK beyond 1 was sent after it and arrived after it\." <<<"$flat"

# --- true answers kept (lingerlab was right) --------------------------------
# nginx TLS (keepalive_timeout 1s), Python ssl client reusing at the
# timeout, at the client: close_notify (31 bytes, pkt 14) and FIN cross
# the request; nginx answers it with RST seq 1798 (pkt 17): the alert was
# unACKed as nginx knew. The client had ACKed it (RCV.WUP 1829): RST 1798
# is below the window, ignored; RST 1829 (pkt 19, RCV.NXT - 1 in
# LAST_ACK) resets: reset_after_ack. No HTTP response at risk.
analyze nginx-tls-idle-race-cli
J=$TEST_TMP/nginx-tls-idle-race-cli
check_jq "TLS race: 31 bytes (close_notify) at risk, evidence, reset_after_ack at pkt 19, no response" "$J.json" \
	'.findings[0].bytes_at_risk_at_server == 31 and .findings[0].basis == "evidence"
	 and .findings[0].client_impact == "reset_after_ack" and .findings[0].impact.accepted_rst_packet == 19
	 and .findings[0].response == null'
check_jq "TLS race: fin_then_rst closed by the server; TLS 1.2 read (nginx 1.22 offers no 1.3 by default)" "$J.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "server" and .tls.version == "1.2"'

# Python ThreadingHTTPServer, a GET and a 200 KB POST pipelined, at the
# server: the 200 (185 bytes) and the 413 with FIN (251 bytes), then
# RST|ACK seq 438 40 us later (close with the body unread); the client
# had ACKed none of it, takes the RST (seq == RCV.NXT) and loses the
# 413 (its send() got EPIPE).
analyze python-pipelined-post-srv
J=$TEST_TMP/python-pipelined-post-srv
check_jq "python pipelined POST: 436 bytes at risk, reset_before_ack" "$J.json" \
	'.findings[0].bytes_at_risk_at_server == 436 and .findings[0].client_impact == "reset_before_ack"
	 and .findings[0].impact.accepted_rst_packet == 26'

# haproxy `http-request deny` (403) to a 300 KB upload, at the server:
# 403 and FIN, then RSTs seq 1 answering body segments (208 bytes at
# risk); the client had the 403 ACKed before it took RST seq 209.
analyze haproxy-deny-upload-srv
J=$TEST_TMP/haproxy-deny-upload-srv
check_jq "haproxy deny: 208 bytes at risk (the 403), reset_after_ack" "$J.json" \
	'.findings[0].bytes_at_risk_at_server == 208 and .findings[0].response.status == 403
	 and .findings[0].client_impact == "reset_after_ack"'

# Loopback, no finding: node fetch reuses a Go connection 0.9 ms after
# Go's IdleTimeout FIN (fetch failed: UND_ERR_SOCKET), Go answers with RST
# seq 2121 = its FIN + 1; nginx the same with a late Python request;
# nginx lingering_close off with a pipelined POST: RST|ACK whose ACK field
# covers the client segment that ACKed all 678 bytes (abort); nginx 413
# to an upload with client_max_body_size 1k: curl stops sending, closes
# first, graceful.
analyze node-fetch-go-idle-race-lo
check_jq "node fetch vs Go idle timeout: fin_then_rst by the server, no finding, RSTR ShADadfr" \
	"$TEST_TMP/node-fetch-go-idle-race-lo.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "server" and .findings == []
	 and .zeek_conn_state == "RSTR" and .zeek_history == "ShADadfr" and .s2c.rst_packet == 10'
analyze nginx-idle-late-request-lo
check_jq "nginx idle timeout, late request: fin_then_rst by the server, no finding" \
	"$TEST_TMP/nginx-idle-late-request-lo.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "server" and .findings == []'
analyze nginx-pipelined-post-abort-lo
check_jq "nginx lingering_close off, pipelined POST: abort by the server, all 678 bytes ACKed, no finding" \
	"$TEST_TMP/nginx-pipelined-post-abort-lo.jsonl" \
	'.kind == "abort" and .close_initiator == "server" and .s2c.acked == 679 and .findings == []'
analyze nginx-413-lingering-off-lo
check_jq "nginx 413 (client_max_body_size 1k): graceful, closed by the client, Zeek SF" \
	"$TEST_TMP/nginx-413-lingering-off-lo.jsonl" \
	'.kind == "graceful" and .close_initiator == "client" and .zeek_conn_state == "SF"
	 and [.http.responses[].status] == [413] and .findings == []'

# the whole set: one connection per capture, as tshark -z conv,tcp counts
n=0
for f in "$D"/*.pcap; do
	c=$(jq -r .summary.connections "$TEST_TMP/$(basename "$f" .pcap).json" 2>/dev/null)
	[ "$c" = 1 ] && n=$((n + 1))
done
check_eq "every capbash capture holds exactly one connection" "$(ls "$D"/*.pcap | wc -l)" "$n"
finish
