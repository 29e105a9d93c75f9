#!/usr/bin/env bash
# bugbash.sh - the true answers for the captures and commands of the bug
# bash (docs/bugbash.md): real servers and clients on this machine, each
# capture judged by hand from its packets, and the --target mistakes a
# user made there.
source tests/lib.sh
source tests/integration/target_common.bash
D=tests/data/bugbash

analyze() { # analyze NAME: $TEST_TMP/NAME.json and NAME.jsonl from $D/NAME.pcap
	"$LINGERLAB" analyze -r "$D/$1.pcap" -o "$TEST_TMP/$1.json" \
		--connections "$TEST_TMP/$1.jsonl" 2>"$TEST_TMP/$1.err"
	check_eq "$1: analyze exits 0" 0 "$?"
}

# --- B1: a client RST without ACK whose seq is its FIN + 1 -------------------
# node 20 behind a 2 Mbit/s uplink; curl PUTs 2 MiB to /protected/ (Expect
# off), reads the 401, sends its FIN (pkt 74, seq 63878:65702) and closes;
# node ACKs the FIN (pkt 75, ack 65703) and sends 47 more bytes (pkt 76,
# ack 65703); the closed socket answers with RST seq 65703, no ACK flag
# (pkt 77, tcp_v4_send_reset copies the segment's ACK field, RFC 9293
# 3.10.7.1). The client had its FIN and every byte acknowledged: no
# client rst_before_ack.
analyze client-rst-seq-fin-plus-1
J=$TEST_TMP/client-rst-seq-fin-plus-1
check_jq "B1 capture: the client closed first, then reset late data (fin_then_rst)" "$J.jsonl" \
	'.close_initiator == "client" and .kind == "fin_then_rst" and .c2s.fin_seq == 65702 and .c2s.rst_packet == 77'
check_jq "B1 capture: the client's FIN_WAIT_2 ended by its own RST" "$J.jsonl" \
	'.fin_wait_2.client.ending == "client_rst" and .fin_wait_2.server == null'
check_jq "B1: a RST whose seq is the sender's FIN+1 proves its data ACKed: no client rst_before_ack" "$J.json" \
	'.summary.rst_before_ack == 0 and .findings == []'

# --- B1: the same with seq == data_end (the FIN not yet ACKed) ---------------
# ab against a server closing with SO_LINGER 0 (abortive close), client
# behind the same uplink: the server's 5060-byte response and its RST
# (pkt 6, 7) reach a client that has already closed (its FIN, pkt 8, ACKs
# nothing of the response); the server's reply RST to that FIN (pkt 9);
# the client's reply RST to the response data (pkt 10): seq 86 = its
# data_end, the ACK field of pkt 6, which acknowledged all 85 request
# bytes. The server's RST is a true finding (5060 bytes never ACKed).
analyze client-rst-seq-data-end
J=$TEST_TMP/client-rst-seq-data-end
check_jq "B1b capture: the server aborted (RST, no FIN) with 5060 response bytes unACKed" "$J.json" \
	'[.findings[] | select(.sender == "server") | .bytes_at_risk_at_server] == [5060]'
check_jq "B1b capture: kind abort, closed by the server" "$J.jsonl" \
	'.kind == "abort" and .close_initiator == "server"'
check_jq "B1b: a RST without ACK whose seq is the sender's data_end proves its request ACKed: no client finding" \
	"$J.json" '.summary.rst_before_ack_client == 0'

# --- B3: the ACK of the server's FIN recorded before the FIN -----------------
# lingerlab run -6 --serve node, idle-client-fin-wait-2: the lab's capture
# holds the raw client's ACK of the server's FIN (pkt 8, ack 127) 11 us
# before the FIN itself (pkt 9, seq 126). The server was in FIN_WAIT_2
# from its FIN until the client's RST (pkt 10): the kernel sampler saw
# 50 sockets there, the analyzer 49.
analyze ack-before-fin
J=$TEST_TMP/ack-before-fin
check_jq "B3 capture: the server's FIN is acknowledged" "$J.jsonl" \
	'.s2c.fin_seq == 126 and .s2c.acked == 127 and .c2s.rst_packet == 10'
check_jq "B3: a FIN whose ACK came first still puts its sender in FIN_WAIT_2, ended by the client's RST" "$J.jsonl" \
	'.fin_wait_2.server.ending == "client_rst" and .fin_wait_2.server.duration > 3'

# --- a true finding, pinned: haproxy loses the client its 401 ----------------
# haproxy 2.6 (option httpclose, `http-request return status 401`), a
# python upload client that writes 512 KiB before reading, 20% of the
# server's segments dropped before the client: haproxy sends the 401 and
# FIN (pkt 7, 8) and resets 39 us later (pkt 9, RST seq 108); the client
# never ACKed a byte of it, and its read returned ECONNRESET and 0 bytes:
# the 401 was lost.
analyze haproxy-401-lost
J=$TEST_TMP/haproxy-401-lost
check_jq "haproxy: rst_before_ack, 106 response bytes at risk, reset_before_ack" "$J.json" \
	'.summary.rst_before_ack_server == 1 and .findings[0].bytes_at_risk_at_server == 106
	 and .findings[0].client_impact == "reset_before_ack" and .findings[0].response.status == 401'
check_jq "haproxy: FIN then RST, closed by the server" "$J.jsonl" \
	'.kind == "fin_then_rst" and .close_initiator == "server"'

# --- --target: what a target outside the lab cannot run ---------------------
tgt_need_nft "--target checks need root and nft (a throwaway namespace)"
PORT=8080
tgt_ns_up bugbash
tgt_ref_target "$NS" 127.0.0.1:$PORT linger
before=$(ns_state)

# B2 (fixed here): `run --target` refused `client kernel` only once the
# host was changed, with exit 3 "namespace: invalid name ''"
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/k.json" \
	scenarios/put-unauthorized-kernel.scn >/dev/null 2>"$TEST_TMP/k.err"
check_eq "B2: run --target refuses client kernel as bad usage (exit 2)" 2 "$?"
check_eq "B2: ... saying why, before changing anything" \
	"lingerlab run: --target: scenario put-unauthorized-kernel uses \`client kernel\`, the lab's client namespace; --target has none (run the server in the lab with --serve)" \
	"$(cat "$TEST_TMP/k.err")"

# B2 (fixed here): `audit --target` refused the whole audit for one scenario
# it cannot run (the README's own example exited 2); it leaves them out
mkdir -p "$TEST_TMP/scn"
cp scenarios/clean-close.scn scenarios/fin-wait-2-timeout.scn scenarios/put-unauthorized-kernel.scn "$TEST_TMP/scn/"
in_ns "$LINGERLAB" audit --target 127.0.0.1:$PORT --filter-kernel-rst --scenarios "$TEST_TMP/scn" \
	-o "$TEST_TMP/a" --color=never >"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err"
check_eq "B2: audit --target runs what it can (clean-close holds: exit 0)" 0 "$?"
check_jq "B2: ... the report has clean-close only" "$TEST_TMP/a/report.json" \
	'[.scenarios[].name] == ["clean-close"] and .lab.target.kind == "remote"'
check "B2: ... fin-wait-2-timeout left out, with the reason" \
	grep -q "fin-wait-2-timeout.scn: left out: it sets tcp_fin_timeout" "$TEST_TMP/a.err"
check "B2: ... put-unauthorized-kernel left out, with the reason" \
	grep -q "put-unauthorized-kernel.scn: left out: \`client kernel\` lives in the lab's client namespace" "$TEST_TMP/a.err"

# B4: a client program of a --target run gets an empty LINGERLAB_URL
in_ns "$LINGERLAB" run -q --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/u.json" \
	--client 'printf "%s|%s|%s" "$LINGERLAB_ADDR" "$LINGERLAB_PORT" "$LINGERLAB_URL"' >/dev/null 2>&1
check_jq "B4 run: the client program ran" "$TEST_TMP/u.json" '.scenarios[0].program.exit_status == 0'
check_eq "B4: --target --client: LINGERLAB_URL names the target as ADDR and PORT do" \
	"127.0.0.1|$PORT|http://127.0.0.1:$PORT/" "$(jq -r '.scenarios[0].program.stdout_tail' "$TEST_TMP/u.json")"

# M2: a --target where nothing listens (every SYN answered by a RST) was
# judged as a server that failed its expectations (exit 1, "received 0
# responses"); like --serve's "nothing listens on port N" it is the
# environment's problem: exit 3, saying so, and no report to judge
in_ns "$LINGERLAB" run -q --target 127.0.0.1:$((PORT + 1)) --filter-kernel-rst \
	-o "$TEST_TMP/r.json" scenarios/clean-close.scn >/dev/null 2>"$TEST_TMP/r.err"
check_eq "M2: --target to a port nothing listens on is an environment problem (exit 3)" 3 "$?"
check "M2: ... saying that nothing listens there" \
	grep -q "^lingerlab run: --target 127.0.0.1:$((PORT + 1)): connection refused: a RST answered each of the 1 SYNs; nothing listens there" "$TEST_TMP/r.err"
check "M2: ... and no report that judges a server" test ! -e "$TEST_TMP/r.json"

check_eq "the namespace's ruleset and reserved ports as before" "$before" "$(ns_state)"
finish
