#!/usr/bin/env bash
# real_captures.sh - lingerlab analyze against the hand verdicts on real
# servers' captures (tests/captures/real/README.md says how each capture
# was made and why each verdict is what it is; frame numbers as tcpdump
# numbers them, sequence numbers relative).
#
# Every check's comment is the hand judgement it holds. When one fails,
# read the packets again (README.md shows how): a check that is right is a
# bug report against the analyzer.
source tests/lib.sh
D=tests/captures/real

# analyze NAME: the report in $TEST_TMP/NAME.json, every connection in
# $TEST_TMP/NAME.jsonl
analyze() {
	"$LINGERLAB" analyze -r "$D/$1.pcap" -o "$TEST_TMP/$1.json" \
		--connections "$TEST_TMP/$1.jsonl" >/dev/null 2>"$TEST_TMP/$1.err"
	check_eq "$1: analyze exits 0" 0 $?
}
# report NAME WHAT JQ: JQ holds on the report
report() { check_jq "$1: $2" "$TEST_TMP/$1.json" "$3"; }
# finding NAME RST WHAT JQ: the finding whose RST is frame RST exists and
# JQ holds on it
finding() {
	check_jq "$1: RST $2: $3" "$TEST_TMP/$1.json" \
		"any(.findings[]; .rst_packet == $2 and ($4))"
}
# no_finding NAME RST WHAT: no finding names frame RST as its RST
no_finding() {
	check_jq "$1: RST $2: $3" "$TEST_TMP/$1.json" "all(.findings[]; .rst_packet != $2)"
}
# fate NAME RST PACKET SEQ ACCEPT WHAT: in RST's finding, the RST in frame
# PACKET has seq SEQ and fate ACCEPT at the client
fate() {
	check_jq "$1: RST $3 (finding $2) seq $4 is $5 at the client: $6" "$TEST_TMP/$1.json" \
		"any(.findings[]; .rst_packet == $2 and
		     any(.impact.rsts[]; .packet == $3 and .seq == $4 and .accept == \"$5\"))"
}
# conn NAME FIRST WHAT JQ: the connection whose first frame is FIRST (in
# --connections) exists and JQ holds on it
conn() {
	if [ ! -s "$TEST_TMP/$1.jsonl" ]; then not_ok "$1: connection at $2: $3 (no --connections output)"; return; fi
	if jq -e -s "any(.[]; .first_packet == $2 and ($4))" "$TEST_TMP/$1.jsonl" >/dev/null 2>&1; then
		ok "$1: connection at $2: $3"
	else
		not_ok "$1: connection at $2: $3"
		diag "jq: $4 is false for first_packet $2 in $TEST_TMP/$1.jsonl"
	fi
}
# no_server_finding NAME: the file has no rst_before_ack at all
no_server_finding() {
	report "$1" "no rst_before_ack in the file" \
		'.summary.rst_before_ack == 0 and ([.findings[] | select(.sender == "server")] | length) == 0'
}

# ---------------------------------------------------------------- loopback
# Linux client (client.py) and server on 127.0.0.1; capture on lo sees both
# ends at once.

# nginx-off: lingering_close off
analyze nginx-off
# Conn 1-24: nginx closes with requests unread: RST+ACK (24) seq 304. The
# client had ACKed the whole 404 (frame 23, ACK 304) 32 us before the RST,
# twice the loopback round trip: by timing the server had it; the RST's own
# ACK field only proves frame 20's ACK (1), which is a lower bound, not
# what the server knew. Nothing at risk: not an rst_before_ack.
no_finding nginx-off 24 "close with unread data after the client ACKed the 404 (timing): no rst_before_ack"
# Conn 25-34: RST (34, no ACK flag) seq 305 = frame 33's ACK field: it
# answers frame 33 (evidence, ACK 305). Nothing at risk.
no_finding nginx-off 34 "answers the client's GET that ACKed the 404 and FIN (evidence): no rst_before_ack"
no_server_finding nginx-off
# Conn 35-68: 413, nginx reads the whole body, FINs after it: no lingering.
conn nginx-off 35 "413 then the body read before the FIN: not lingered" '.lingered == false'

# nginx-off-delack: the client's kernel delays its ACKs; the only ACK of
# the 404 and FIN rides on GET #3 (8, 17), which nginx's orphaned socket
# answers with a RST 16 / 30 us later (seq 305 = that GET's ACK field).
# Evidence says the server had ACK 305: nothing at risk, whatever the
# timing estimate says of so short a gap.
analyze nginx-off-delack
no_finding nginx-off-delack 9 "answers GET 8, which carried the only ACK of the 404 (evidence)"
no_finding nginx-off-delack 18 "answers GET 17, which carried the only ACK of the 404 (evidence)"
no_server_finding nginx-off-delack

# nginx-on: lingering_close on, lingering_time 3s
analyze nginx-on
no_server_finding nginx-on
# Conn 1-22: FIN (8, ACK 82), the late GETs 82..393 ACKed, client FIN (21).
conn nginx-on 1 "lingered" '.lingered == true'
conn nginx-on 1 "drained 312 bytes (394 - 82)" '.linger.bytes_drained == 312'
conn nginx-on 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 23-186: lingered until lingering_time ran out; plain ACKs up to 4060
# (frame 183); then RST+ACK (186) with frames 184-185 unread. The RST
# answers nothing at risk: frame 183 ACKs frame 182, which carried ACK 305.
conn nginx-on 23 "lingered" '.lingered == true'
conn nginx-on 23 "drained 3978 bytes (4060 - 82; the RST's ACK field covers 78 bytes it threw away)" \
	'.linger.bytes_drained == 3978'
conn nginx-on 23 "linger ended by the server's RST (linger limit)" '.linger.ended_by == "server_rst"'
no_finding nginx-on 186 "RST after lingering, everything ACKed (evidence: frame 183 covers 182, ACK 305)"

# nginx-on6: the same over IPv6 loopback.
analyze nginx-on6
no_server_finding nginx-on6
conn nginx-on6 1 "lingered" '.lingered == true'
conn nginx-on6 1 "drained 312 bytes (394 - 82)" '.linger.bytes_drained == 312'
conn nginx-on6 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 23-213: plain ACKs up to 4762 (210), RST+ACK (213) with 211-212
# unread; 210 covers 209, which carried ACK 305: nothing at risk.
conn nginx-on6 23 "IPv6 connection" '.af == 6'
conn nginx-on6 23 "lingered" '.lingered == true'
conn nginx-on6 23 "drained 4680 bytes (4762 - 82; not the 78 bytes the RST's ACK covers)" \
	'.linger.bytes_drained == 4680'
conn nginx-on6 23 "linger ended by the server's RST (linger limit)" '.linger.ended_by == "server_rst"'
no_finding nginx-on6 213 "RST after lingering, everything ACKed (evidence: 210 covers 209, ACK 305)"

# nginx-on-cut: frames 23-150 of nginx-on (its second connection), cut
# while nginx lingers: FIN (8, ACK 82), GETs ACKed up to 3202 (128, last).
analyze nginx-on-cut
no_server_finding nginx-on-cut
conn nginx-on-cut 1 "lingered" '.lingered == true'
conn nginx-on-cut 1 "drained 3120 bytes (3202 - 82)" '.linger.bytes_drained == 3120'
conn nginx-on-cut 1 "linger ended by the end of the capture" '.linger.ended_by == "capture_end"'

# nginx-always: lingering_close always
analyze nginx-always
no_server_finding nginx-always
conn nginx-always 1 "lingered" '.lingered == true'
conn nginx-always 1 "drained 312 bytes (394 - 82)" '.linger.bytes_drained == 312'
conn nginx-always 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'

# apache2: event MPM, lingering close
analyze apache2
# No RST in the whole file.
no_server_finding apache2
conn apache2 1 "pipelined 404: lingered" '.lingered == true'
conn apache2 1 "drained 312 bytes (394 - 82)" '.linger.bytes_drained == 312'
conn apache2 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 25-66: the whole body read before the 401; FIN 5 s later, no client
# data after it.
conn apache2 25 "PUT 401 after reading the body: not lingered" '.lingered == false'
# Conn 67-82: a GET 3 s after the FIN is still ACKed.
conn apache2 67 "late GET 3 s after the FIN: lingered" '.lingered == true'
conn apache2 67 "drained 117 bytes (199 - 82)" '.linger.bytes_drained == 117'
conn apache2 67 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'

# lighttpd
analyze lighttpd
no_server_finding lighttpd
conn lighttpd 1 "pipelined 404: lingered" '.lingered == true'
conn lighttpd 1 "drained 312 bytes (394 - 82)" '.linger.bytes_drained == 312'
conn lighttpd 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 23-57: 413 and FIN (30, ACK 74), then the whole body read after it.
conn lighttpd 23 "PUT 413: lingered" '.lingered == true'
conn lighttpd 23 "drained the whole body, 262144 bytes (262218 - 74)" '.linger.bytes_drained == 262144'
conn lighttpd 23 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'

# haproxy: FIN after the response, then RST for the client's next segment
analyze haproxy
# RST 9 seq 100 answers frame 8 (ACK 100); RST 18 seq 233 answers frame 17
# (ACK 233): evidence, nothing at risk; both reset the client after it ACKed.
no_finding haproxy 9 "answers a GET that ACKed the 404 and FIN (evidence)"
no_finding haproxy 18 "answers a body segment that ACKed the 401 and FIN (evidence)"
no_server_finding haproxy
conn haproxy 1 "FIN then RST, no client data ACKed after the FIN: not lingered" '.lingered == false'

# Go net/http
analyze go-nethttp
no_finding go-nethttp 11 "answers a GET that ACKed the 404 and FIN (evidence)"
# Conn 12-32: 401, FIN (19, ACK 75), body ACKed up to 125003 (31), RST+ACK
# 500 ms after the FIN (32); frame 31 covers frame 30, which carried ACK 231.
no_finding go-nethttp 32 "RST 500 ms after the FIN, everything ACKed (evidence: 31 covers 30, ACK 231)"
no_server_finding go-nethttp
conn go-nethttp 12 "PUT 401: lingered (read the body after its FIN)" '.lingered == true'
conn go-nethttp 12 "drained 124928 bytes (125003 - 75)" '.linger.bytes_drained == 124928'
conn go-nethttp 12 "linger ended by the server's RST" '.linger.ended_by == "server_rst"'
conn go-nethttp 1 "404 then RST: not lingered" '.lingered == false'

# Node http
analyze node-http
no_finding node-http 11 "answers a GET that ACKed the 404 and FIN (evidence)"
no_server_finding node-http
# Conn 12-118: 401 without FIN, body read (keep-alive), FIN 6 s later.
conn node-http 12 "PUT 401 kept alive, FIN after the body: not lingered" '.lingered == false'

# python3 http.server
analyze python-http-server
no_finding python-http-server 13 "answers a GET that ACKed the 404 and FIN (evidence)"
no_finding python-http-server 25 "answers a body segment that ACKed the 501 and FIN (evidence)"
no_server_finding python-http-server

# --------------------------------------------------------------------- lab
# The raw client, h = RTT/2 away from the capture point next to the server.
# Basis: each first RST answers (or covers) a client segment that carried
# ACK 1, a proof of nothing acknowledged, which decides nothing; what shows
# the server lacked the ACK of its response is that the ACK was captured
# after the RST, next to the server: timing.
# Fates after a challenge ACK: a Linux client sends that ACK (the first of a
# socket is never rate-limited) and so sets RCV.WUP = RCV.NXT; a later RST
# with the same old seq is then out of window: ignored. The raw client sends
# no challenge ACKs, so the capture does not show it.

analyze lab-nginx-off
report lab-nginx-off "3 rst_before_ack findings, one per connection" '.summary.rst_before_ack == 3'
# Conn 1-33 (RTT 250 ms): RST 9 (no ACK flag, seq 1) answers frame 8 (ACK
# 1): the server had ACK 1 of a 303-byte 404.
finding lab-nginx-off 9 "server RST" '.sender == "server"'
finding lab-nginx-off 9 "303 bytes at risk at the server" '.bytes_at_risk_at_server == 303'
finding lab-nginx-off 9 "basis timing (the RST answers frame 8, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# The client ACKed 404 and FIN at 0.375 s (RCV.WUP 305); RSTs 9-19 (seq 1)
# arrive after that: stale, ignored. RST 21 (seq 304 = RCV.NXT - 1, client
# in LAST_ACK) resets it, 250 ms after it ACKed everything.
finding lab-nginx-off 9 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-nginx-off 9 "the client accepts RST 21" '.impact.accepted_rst_packet == 21'
for p in 9 11 13 15 17 19; do
	fate lab-nginx-off 9 $p 1 ignored "below RCV.WUP 305 (the client had ACKed past it)"
done
fate lab-nginx-off 9 21 304 reset "RCV.NXT - 1 after the server's FIN, client in LAST_ACK"
# Conn 34-58 (RTT 100 ms): RST 42 answers frame 41 (ACK 1): 303 at risk.
finding lab-nginx-off 42 "server RST" '.sender == "server"'
finding lab-nginx-off 42 "303 bytes at risk at the server" '.bytes_at_risk_at_server == 303'
finding lab-nginx-off 42 "basis timing (the RST answers frame 41, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# GET 49 left the client at 1.3615 with ACK 305 (RCV.WUP 305): RSTs 42-48
# (seq 1, arriving from 1.379) are stale; RST 50 (seq 305) resets.
finding lab-nginx-off 42 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-nginx-off 42 "the client accepts RST 50" '.impact.accepted_rst_packet == 50'
for p in 42 44 46 48; do
	fate lab-nginx-off 42 $p 1 ignored "below RCV.WUP 305 (GET 49 carried ACK 305)"
done
fate lab-nginx-off 42 50 305 reset "seq == RCV.NXT"
# Conn 59-69 (RTT 100 ms, delayed ACK, no FIN): RST 67 answers frame 66
# (ACK 1): 303 at risk.
finding lab-nginx-off 67 "server RST" '.sender == "server"'
finding lab-nginx-off 67 "303 bytes at risk at the server" '.bytes_at_risk_at_server == 303'
finding lab-nginx-off 67 "basis timing (the RST answers frame 66, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# At RST 67's arrival the client had the 404 and FIN (RCV.NXT 305) but had
# sent no ACK past 1 (RCV.WUP 1): in the window, not RCV.NXT or RCV.NXT - 1
# -> challenge ACK, which moves RCV.WUP to 305, so RST 69 (seq 1, 10 ms
# later) is stale: ignored. No RST in the capture resets a Linux client.
finding lab-nginx-off 67 "client_impact no_reset" '.client_impact == "no_reset"'
finding lab-nginx-off 67 "no RST accepted" '.impact.accepted_rst_packet == null'
fate lab-nginx-off 67 67 1 challenge_ack "in the window [1, 305+wnd], not RCV.NXT 305 nor 304"
fate lab-nginx-off 67 69 1 ignored "the challenge ACK for 67 moved RCV.WUP to 305"
conn lab-nginx-off 1 "no lingering (RSTs only after the FIN)" '.lingered == false'

analyze lab-python-put
report lab-python-put "1 rst_before_ack finding" '.summary.rst_before_ack == 1'
# RST 13 (no ACK flag, seq 1) answers frame 12 (ACK 1): data_end 554, 553
# bytes of the 501 at risk.
finding lab-python-put 13 "server RST" '.sender == "server"'
finding lab-python-put 13 "553 bytes at risk at the server" '.bytes_at_risk_at_server == 553'
finding lab-python-put 13 "basis timing (the RST answers frame 12, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# RST 13 reaches the client 1.7 ms after the 501 and FIN (RCV.NXT 555); its
# last ACK sent was 1 (RCV.WUP 1): challenge ACK; that ACK moves RCV.WUP to
# 555 and every later RST (seq 1) is stale. No reset in the capture.
finding lab-python-put 13 "client_impact no_reset" '.client_impact == "no_reset"'
finding lab-python-put 13 "no RST accepted" '.impact.accepted_rst_packet == null'
fate lab-python-put 13 13 1 challenge_ack "in the window [1, 555+wnd], not RCV.NXT 555 nor 554"
for p in 15 17 19; do
	fate lab-python-put 13 $p 1 ignored "the challenge ACK for 13 moved RCV.WUP to 555"
done

analyze lab-go-put
report lab-go-put "1 rst_before_ack finding" '.summary.rst_before_ack == 1'
# Conn 1-533: 401 kept alive, body read, FIN after it: no RST, no lingering.
conn lab-go-put 1 "PUT 401, FIN after the whole body: not lingered" '.lingered == false'
# Conn 534-566 (pipelined-404, RTT 250 ms): RST 542 answers frame 541 (ACK
# 1): 195 bytes of the 404 at risk.
finding lab-go-put 542 "server RST" '.sender == "server"'
finding lab-go-put 542 "195 bytes at risk at the server" '.bytes_at_risk_at_server == 195'
finding lab-go-put 542 "basis timing (the RST answers frame 541, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# The client ACKed 404 and FIN at 1.574 (RCV.WUP 197): RSTs 542-552 (seq
# 1) stale; RST 554 (seq 196 = RCV.NXT - 1, LAST_ACK) resets it.
finding lab-go-put 542 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-go-put 542 "the client accepts RST 554" '.impact.accepted_rst_packet == 554'
for p in 542 544 546 548 550 552; do
	fate lab-go-put 542 $p 1 ignored "below RCV.WUP 197 (the client had ACKed past it)"
done
fate lab-go-put 542 554 196 reset "RCV.NXT - 1 after the server's FIN, client in LAST_ACK"

analyze lab-python-flood
report lab-python-flood "1 rst_before_ack finding" '.summary.rst_before_ack == 1'
# RST+ACK 72 (seq 555, 19 us after the 501's FIN) covers frame 68, the last
# client segment before it, which carried ACK 1: 553 bytes at risk.
finding lab-python-flood 72 "server RST" '.sender == "server"'
finding lab-python-flood 72 "553 bytes at risk at the server" '.bytes_at_risk_at_server == 553'
finding lab-python-flood 72 "basis timing (its ACK covers frame 68, which proves only ACK 1: nothing; no ACK of the 501 anywhere)" '.basis == "timing"'
# It reaches the client right behind the 501 and FIN (RCV.NXT 555), which
# the client never ACKed (every client segment carries ACK 1): reset before
# the ACK, the hazard itself.
finding lab-python-flood 72 "client_impact reset_before_ack" '.client_impact == "reset_before_ack"'
finding lab-python-flood 72 "the client accepts RST 72" '.impact.accepted_rst_packet == 72'
fate lab-python-flood 72 72 555 reset "seq == RCV.NXT after the FIN, the 501 unACKed"

analyze lab-haproxy
report lab-haproxy "2 rst_before_ack findings" '.summary.rst_before_ack == 2'
# Conn 1-32 (pipelined-404, RTT 250 ms): RST 8 answers frame 7 (ACK 1): the
# 98-byte 404 at risk.
finding lab-haproxy 8 "server RST" '.sender == "server"'
finding lab-haproxy 8 "98 bytes at risk at the server" '.bytes_at_risk_at_server == 98'
finding lab-haproxy 8 "basis timing (the RST answers frame 7, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# The client ACKed 404 and FIN (RCV.WUP 100) before RSTs 8-16 (seq 1)
# came: stale. RST 18 (seq 99 = RCV.NXT - 1, LAST_ACK) resets it.
finding lab-haproxy 8 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-haproxy 8 "the client accepts RST 18" '.impact.accepted_rst_packet == 18'
for p in 8 10 12 14 16; do
	fate lab-haproxy 8 $p 1 ignored "below RCV.WUP 100 (the client had ACKed past it)"
done
fate lab-haproxy 8 18 99 reset "RCV.NXT - 1 after the server's FIN, client in LAST_ACK"
# Conn 33-130 (put-flood): RST 40 answers frame 39 (ACK 1): the 231-byte
# 401 at risk.
finding lab-haproxy 40 "server RST" '.sender == "server"'
finding lab-haproxy 40 "231 bytes at risk at the server" '.bytes_at_risk_at_server == 231'
finding lab-haproxy 40 "basis timing (the RST answers frame 39, which proves only ACK 1: nothing; the ACK of the response comes later)" '.basis == "timing"'
# RST 40 reaches the client 0.13 ms after the 401 and FIN (RCV.NXT 233)
# while its last ACK is still 1: challenge ACK (RCV.WUP -> 233), so 42...
# (seq 1) are stale. RST 130 (seq 232 = RCV.NXT - 1, CLOSE_WAIT) resets it
# after segment 129 had ACKed the 401.
finding lab-haproxy 40 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-haproxy 40 "the client accepts RST 130" '.impact.accepted_rst_packet == 130'
fate lab-haproxy 40 40 1 challenge_ack "in the window [1, 233+wnd], not RCV.NXT 233 nor 232"
for p in 42 44 46; do
	fate lab-haproxy 40 $p 1 ignored "the challenge ACK for 40 moved RCV.WUP to 233"
done

analyze lab-nginx-on
# No RST in the file.
no_server_finding lab-nginx-on
# Conn 1-29: FIN (7, ACK 82), late GETs ACKed up to 542, client FIN (28).
conn lab-nginx-on 1 "pipelined 404: lingered" '.lingered == true'
conn lab-nginx-on 1 "drained 460 bytes (542 - 82)" '.linger.bytes_drained == 460'
conn lab-nginx-on 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 30-346: 413, the body read, FIN after its last byte.
conn lab-nginx-on 30 "PUT 413, FIN after the whole body: not lingered" '.lingered == false'

analyze lab-apache2
# No server RST; the two client RSTs (32, 446) come with all client data
# ACKed: nothing at risk, no finding of either side.
report lab-apache2 "no rst_before_ack of either side" '.summary.rst_before_ack == 0 and (.findings | length) == 0'
# Conn 1-32: FIN (8, ACK 82), GETs ACKed up to 552, then the lab's RST from
# the client (32).
conn lab-apache2 1 "lingered" '.lingered == true'
conn lab-apache2 1 "drained 470 bytes (552 - 82)" '.linger.bytes_drained == 470'
conn lab-apache2 1 "linger ended by the client's RST" '.linger.ended_by == "client_rst"'
conn lab-apache2 33 "PUT 401, no server FIN: not lingered" '.lingered == false'

analyze lab-client-abort
report lab-client-abort "1 rst_before_ack finding (the client's)" '.summary.rst_before_ack == 1'
# The client's RST+ACK (8) left it 10 ms after its GET (4), 40 ms before
# nginx's ACK of the GET (5) could reach it: its 39 bytes at risk.
finding lab-client-abort 8 "client RST" '.sender == "client"'
finding lab-client-abort 8 "39 bytes at risk in the client's view" '.bytes_at_risk_at_server == 39'
finding lab-client-abort 8 "basis timing (no proof either way)" '.basis == "timing"'
finding lab-client-abort 8 "no client_impact for a client RST" '.client_impact == null'
# At the server, seq 40 == RCV.NXT: accepted.
finding lab-client-abort 8 "the server accepts it" '.impact.accepted_rst_packet == 8'
fate lab-client-abort 8 8 40 reset "seq == the server's RCV.NXT"
report lab-client-abort "no server finding" '([.findings[] | select(.sender == "server")] | length) == 0'

analyze lab-node
report lab-node "1 rst_before_ack finding" '.summary.rst_before_ack == 1'
# Conn 1-33 (pipelined-404, RTT 250 ms): RST 9 answers frame 8 (ACK 1); the
# client's ACK of the 155-byte 404 is captured only at 0.527 s.
finding lab-node 9 "server RST" '.sender == "server"'
finding lab-node 9 "155 bytes at risk at the server" '.bytes_at_risk_at_server == 155'
finding lab-node 9 "basis timing (frame 8's ACK 1 proves nothing)" '.basis == "timing"'
# The client ACKed the 404 and FIN (RCV.WUP 157) before RSTs 9-19 (seq 1)
# came: stale. RST 21 (seq 156 = RCV.NXT - 1, LAST_ACK) resets it.
finding lab-node 9 "client_impact reset_after_ack" '.client_impact == "reset_after_ack"'
finding lab-node 9 "the client accepts RST 21" '.impact.accepted_rst_packet == 21'
for p in 9 11 13 15 17 19; do
	fate lab-node 9 $p 1 ignored "below RCV.WUP 157 (the client had ACKed past it)"
done
fate lab-node 9 21 156 reset "RCV.NXT - 1 after the server's FIN, client in LAST_ACK"
# Conn 34-344: 401 kept alive, the body read, the lab's RST from the client.
conn lab-node 34 "PUT 401, no server FIN: not lingered" '.lingered == false'

analyze lab-lighttpd
# No RST in the file.
no_server_finding lab-lighttpd
# Conn 1-26: FIN (7, ACK 82), GETs ACKed up to 552, client FIN (25).
conn lab-lighttpd 1 "pipelined 404: lingered" '.lingered == true'
conn lab-lighttpd 1 "drained 470 bytes (552 - 82)" '.linger.bytes_drained == 470'
conn lab-lighttpd 1 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
# Conn 27-339: 413 and FIN (98, ACK 65161), the rest of the body read.
conn lab-lighttpd 27 "PUT 413: lingered" '.lingered == true'
conn lab-lighttpd 27 "drained 197065 bytes (262226 - 65161)" '.linger.bytes_drained == 197065'
conn lab-lighttpd 27 "linger ended by the client's FIN" '.linger.ended_by == "client_fin"'
finish
