#!/usr/bin/env bash
# golden_loopback.sh - real kernel TCP on 127.0.0.1, captured with tcpdump
# while it happens, then judged by `lingerlab analyze`: a server that
# close()s with the request body still arriving must be flagged
# rst_before_ack, one that lingers must not, and a server that closes first
# while the client stays open must show one FIN_WAIT_2 socket.
source tests/lib.sh
TINY=${BUILD:-build}/tests/tiny_server
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json

if ! need_root; then skip "loopback capture needs root (tcpdump -i lo)"; finish; fi

SERVER_PID= TCPDUMP_PID=
cleanup() {
	local p
	for p in $SERVER_PID $TCPDUMP_PID; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

# wait_for FILE PATTERN: up to 5 s for PATTERN to appear in FILE
wait_for() {
	local i
	for i in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# stop PID: SIGINT, up to 5 s to exit, then SIGKILL
stop() {
	local i
	kill -INT "$1" 2>/dev/null
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# run_case NAME SERVER_MODE CLIENT_ARGS...: one connection between the tiny
# server and client, captured on lo into $TEST_TMP/NAME.pcap. The server
# takes a port from the kernel, so parallel runs never share one. With
# MARK_AFTER=SECONDS a UDP datagram to that port is captured too.
run_case() {
	local name=$1 mode=$2 dir=$TEST_TMP/$1 port; shift 2
	mkdir -p "$dir"
	"$TINY" server "$mode" >"$dir/server.out" 2>"$dir/server.err" &
	SERVER_PID=$!
	wait_for "$dir/server.out" '^[0-9]' || { diag "$name: server did not start"; return 1; }
	port=$(head -1 "$dir/server.out")
	# --immediate-mode: without it packets still in the kernel's ring
	# when tcpdump is stopped are lost
	tcpdump -i lo -n -U --immediate-mode -Z root -w "$dir/cap.pcap" "port $port" \
		2>"$dir/tcpdump.err" &
	TCPDUMP_PID=$!
	wait_for "$dir/tcpdump.err" 'listening on' || { diag "$name: tcpdump did not start"; return 1; }
	local marker=
	if [ -n "${MARK_AFTER:-}" ]; then
		# one UDP datagram to the same port: a frame that is not TCP, so
		# the capture goes on past the connection's last TCP packet
		(sleep "$MARK_AFTER"; echo mark >"/dev/udp/127.0.0.1/$port") &
		marker=$!
	fi
	"$TINY" client "$port" "$@" >"$dir/client.out" 2>"$dir/client.err"
	[ -n "$marker" ] && wait "$marker"
	wait "$SERVER_PID"; SERVER_PID=
	sleep 0.2 # the last ACK reaches the capture
	stop "$TCPDUMP_PID"; TCPDUMP_PID=
	diag "$name: client: $(cat "$dir/client.out" "$dir/client.err")"
	diag "$name: server: $(tail -1 "$dir/server.out") $(cat "$dir/server.err")"
	cp "$dir/cap.pcap" "$TEST_TMP/$name.pcap"
}

# analyze NAME PCAP [ARGS...]: report in $TEST_TMP/NAME.json, lines in
# NAME.jsonl
analyze() {
	local name=$1 pcap=$2; shift 2
	"$LINGERLAB" analyze -r "$TEST_TMP/$pcap.pcap" -o "$TEST_TMP/$name.json" \
		--connections "$TEST_TMP/$name.jsonl" "$@"
	check_eq "$name: analyze exits 0" 0 "$?"
	check "$name: report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/$name.json"
	check "$name: connection lines match the schema" \
		"$VALIDATE" --lines connection "$SCHEMA" "$TEST_TMP/$name.jsonl"
}

# --- close(): the 1996 behaviour ---------------------------------------
# The server reads the PUT's head, writes 401 and close()s while the body
# is still unread: Linux answers with RST instead of FIN. Why the server's
# view has bytes at risk even on loopback, where every packet arrives in
# microseconds: the client turned delayed ACKs on (TCP_QUICKACK off) and
# sends nothing for 100 ms after its first segment, so the 401 waits for
# the 40 ms delayed-ACK timer, while the server's close() follows its
# write() within microseconds. The RST therefore leaves before any ACK of
# the response, in capture order and by the handshake's timing alike, and
# all of the 401 is unacknowledged at the server. (Without the pause a
# client piggybacks its ACK on body data in the same microseconds, and the
# result would depend on scheduling.)
if run_case close close put; then
	analyze close close
	check_jq "close: one rst_before_ack, sent by the server" "$TEST_TMP/close.json" \
		'.summary.rst_before_ack == 1 and .findings[0].sender == "server" and .summary.hazard'
	check_jq "close: response bytes at risk at the server" "$TEST_TMP/close.json" \
		'.findings[0].bytes_at_risk_at_server > 0 and .findings[0].response.status == 401'
	# cause: the server had ACKed the body it never read, so the wire alone
	# cannot tell close-with-unread-data from an SO_LINGER 0 abort
	check_jq "close: RST without FIN, no FIN ever sent" "$TEST_TMP/close.json" \
		'(.findings[0].cause | IN("unread_at_close", "abort")) and .connections[0].kind == "abort"
		 and .connections[0].s2c.fin_seq == null'
	check_jq "close: the flagged connection carries its timeline" "$TEST_TMP/close.json" \
		'(.connections[0].timeline.packets | map(select(.flags | test("R"))) | length) >= 1'
else
	not_ok "close: loopback capture"
fi

# --- lingering close: the cure -------------------------------------------
if run_case linger linger put; then
	analyze linger linger
	check_jq "linger: no finding" "$TEST_TMP/linger.json" \
		'.summary.rst_before_ack == 0 and (.findings | length) == 0 and (.summary.hazard | not)'
	check_jq "linger: the server lingered and drained the body" "$TEST_TMP/linger.jsonl" \
		'.lingered and .linger.bytes_drained > 0 and .close_initiator == "server" and .kind == "graceful"'
	check_jq "linger: report counts one lingering connection" "$TEST_TMP/linger.json" '.summary.lingered == 1'
else
	not_ok "linger: loopback capture"
fi

# --- FIN_WAIT_2: server closes first, client holds its end for 1 s -------
# A UDP datagram half-way through the hold marks a moment when the server
# socket is in FIN_WAIT_2; cutting the capture there (-c) must leave the
# socket still in FIN_WAIT_2 when the input ends.
if MARK_AFTER=0.5 run_case fin fin get 1000; then
	analyze fin fin
	check_jq "fin: one server FIN_WAIT_2 socket, ended by the client's FIN" "$TEST_TMP/fin.json" \
		'.fin_wait_2.server.count == 1 and .fin_wait_2.server.peak == 1
		 and .fin_wait_2.server.endings.client_fin == 1'
	check_jq "fin: it lasted about the client's 1 s hold" "$TEST_TMP/fin.json" \
		'.fin_wait_2.server.duration.max > 0.8 and .fin_wait_2.server.duration.max < 1.5'
	check_jq "fin: no finding; the UDP marker is skipped, not TCP" "$TEST_TMP/fin.json" \
		'.summary.rst_before_ack == 0 and .input.skipped == 1'
	fin_packet=$(jq '.c2s.fin_packet // 0' "$TEST_TMP/fin.jsonl")
	if [ "$fin_packet" -gt 1 ]; then
		analyze fin-cut fin -c $((fin_packet - 1))
		check_jq "fin, cut at the marker before the client's FIN: ended by capture_end" \
			"$TEST_TMP/fin-cut.json" \
			'.fin_wait_2.server.count == 1 and .fin_wait_2.server.endings.capture_end == 1
			 and .fin_wait_2.server.endings.client_fin == 0 and .input.skipped == 1
			 and .fin_wait_2.server.duration.max > 0.3 and .fin_wait_2.server.duration.max < 0.7
			 and .input.packets == '"$((fin_packet - 1))"
	else
		not_ok "fin: the client's FIN is in the capture"
	fi
else
	not_ok "fin: loopback capture"
fi
finish
