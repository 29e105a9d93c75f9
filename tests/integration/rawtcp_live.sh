#!/usr/bin/env bash
# rawtcp_live.sh - the raw TCP client against a real kernel: a GET, a PUT
# refused early, many idle connections, all through two throwaway network
# namespaces (ll<pid>s / ll<pid>c, veth, permanent neighbour entry for the
# unowned .3 address). Checks what a user of `lingerlab run` relies on: the
# handshake carries MSS / SACK-permitted / timestamps / window scale with
# correct checksums, the emulated RTT shows in the capture, no kernel RST
# leaks from the client side (and a leak IS counted when one happens), RSTs
# from the server are reported with what the client had received.
source tests/lib.sh

PROBE=$PWD/$BUILD/tests/rawtcp_probe
if ! need_root; then skip "rawtcp live tests need root"; finish; fi
for t in ip tcpdump; do
	command -v $t >/dev/null || { skip "rawtcp live tests need $t"; finish; }
done
if [ ! -x "$PROBE" ] || [ ! -x "$LINGERLAB_TARGET" ]; then
	not_ok "rawtcp_probe and lingerlab-target are built"; finish
fi

P=$$
S=ll${P}s C=ll${P}c VS=ll${P}vs VC=ll${P}vc
NET=10.$((200 + P % 50)).$((P % 251))
SRV=$NET.1 RAW=$NET.3
TPID=

cleanup() {
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; fi
	ip netns del $S 2>/dev/null
	ip netns del $C 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up() {
	ip netns add $S && ip netns add $C &&
	ip link add $VS netns $S type veth peer name $VC netns $C &&
	ip -n $S addr add $SRV/24 dev $VS && ip -n $S link set $VS up && ip -n $S link set lo up &&
	ip -n $C addr add $NET.2/24 dev $VC && ip -n $C link set $VC up && ip -n $C link set lo up &&
	local mac
	mac=$(ip -n $C -o link show $VC | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2) &&
	ip -n $S neigh replace $RAW lladdr "$mac" dev $VS nud permanent &&
	ip netns exec $C sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
}

# start_target ARGS...: the reference target on $SRV:80 in the server side.
start_target() {
	stop_target
	ip netns exec $S "$LINGERLAB_TARGET" --listen $SRV:80 "$@" >"$TEST_TMP/target.log" 2>&1 &
	TPID=$!
	for _ in $(seq 50); do
		ip netns exec $S ss -Hltn 'sport = :80' 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
stop_target() {
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=; fi
}

probe() { ip netns exec $C "$PROBE" "$@" --iface $VC --local $RAW --peer $SRV --port 80; }
val() { sed -n "s/^$1=//p" "$2" | head -1; }

check "lab namespaces and veth are made" lab_up || finish

# --- a GET, lingering server, 100 ms emulated RTT ---------------------------
check "the reference target starts (linger)" start_target --policy linger
probe get --rtt 100 --dump "$TEST_TMP/get.pcap" >"$TEST_TMP/get.out" 2>"$TEST_TMP/get.err"
check_eq "GET through the raw client exits 0" 0 $?
check_eq "GET: the response status is read" 200 "$(val status "$TEST_TMP/get.out")"
check_eq "GET: the connection ends normally (FINs both ways)" normal "$(val close_reason "$TEST_TMP/get.out")"
check_eq "GET: no leaked RST from the client side" 0 "$(val leaked_rsts "$TEST_TMP/get.out")"
check_eq "GET: the early receiver fed the TCP (no 1 ms capture-block wait)" 1 "$(val early_rx "$TEST_TMP/get.out")"
check_eq "GET: the peer's MSS was read from its SYN-ACK" 1460 "$(val peer_mss "$TEST_TMP/get.out")"

tcpdump -r "$TEST_TMP/get.pcap" -nn -vv -tt 2>/dev/null >"$TEST_TMP/get.txt"
syn=$(grep -A1 -E "^[0-9.]+ IP" "$TEST_TMP/get.txt" | grep -E "$RAW\.[0-9]+ > $SRV\.80: Flags \[S\]" | head -1)
check "GET: the SYN offers mss 1460, sackOK, timestamps and wscale 7" \
	grep -qE "options \[mss 1460,sackOK,TS val [0-9]+ ecr 0,nop,wscale 7\]" <<<"$syn"
ours=$(grep -cE "$RAW\.[0-9]+ > $SRV\.80: .*cksum 0x[0-9a-f]+ \(correct\)" "$TEST_TMP/get.txt")
bad=$(grep -E "$RAW\.[0-9]+ > $SRV\.80: " "$TEST_TMP/get.txt" | grep -c "incorrect")
check "GET: the client's segments are in the capture" test "$ours" -ge 4
check_eq "GET: every client segment has a correct TCP checksum" 0 "$bad"
check_eq "GET: the client side sent no RST" 0 \
	"$(tcpdump -r "$TEST_TMP/get.pcap" -nn 2>/dev/null | grep -cE "$RAW\.[0-9]+ > .*Flags \[R")"
check "GET: the server's FIN and the client's FIN are both on the wire" test \
	"$(tcpdump -r "$TEST_TMP/get.pcap" -nn 2>/dev/null | grep -cE 'Flags \[F')" -ge 2

# Handshake timing at the capture point (between the delay and the server):
# SYN -> SYN-ACK is the server's turnaround (~0), SYN-ACK -> ACK is the RTT.
read -r t_syn t_synack t_ack < <(tcpdump -r "$TEST_TMP/get.pcap" -nn -tt 2>/dev/null | awk -v raw="$RAW" '
	NR == 1 { base = $1 }
	/Flags \[S\],/ && s == "" { s = $1 - base }
	/Flags \[S\.\]/ && sa == "" { sa = $1 - base }
	sa != "" && a == "" && index($3, raw) == 1 && /Flags \[\.\]/ { a = $1 - base }
	END { printf "%.0f %.0f %.0f\n", s * 1e6, sa * 1e6, a * 1e6 }')
d1=$((t_synack - t_syn)) d2=$((t_ack - t_synack))
diag "SYN->SYN-ACK ${d1}us, SYN-ACK->ACK ${d2}us (requested RTT 100000us)"
check "GET: SYN -> SYN-ACK at the capture point is under 10 ms" test "$d1" -lt 10000
check "GET: SYN-ACK -> ACK is the emulated RTT (100 ms, +25 ms slack)" test "$d2" -ge 99000 -a "$d2" -le 125000
ip netns exec $C "$PROBE" rtt "$TEST_TMP/get.pcap" 100 $SRV >"$TEST_TMP/rtt.out"
med=$(val median_us "$TEST_TMP/rtt.out")
check "probe rtt agrees with tcpdump on the handshake spacing" test "${med:-0}" -ge 99000 -a "${med:-0}" -le 125000

# --- a PUT refused at once by a server that closes without lingering -------
check "the reference target starts (close)" start_target --policy close
probe put --path /protected/upload --body 1048576 --rate 4000000 --rtt 40 --timeout 5 \
	--dump "$TEST_TMP/put.pcap" >"$TEST_TMP/put.out" 2>"$TEST_TMP/put.err"
check_eq "PUT: the early 401 arrives" 401 "$(val status "$TEST_TMP/put.out")"
check_eq "PUT: the server's RST is seen" 1 "$(val peer_rst "$TEST_TMP/put.out")"
check_eq "PUT: the connection ends as reset" reset "$(val close_reason "$TEST_TMP/put.out")"
check "PUT: the bytes received before the RST are counted" test "$(val rx_received "$TEST_TMP/put.out")" -gt 0
check_eq "PUT: a flush-on-RST client would lose what it had not read" \
	"$(val rx_received "$TEST_TMP/put.out")" "$(val rst_lost_on_flush "$TEST_TMP/put.out")"
check_eq "PUT: no leaked RST from the client side" 0 "$(val leaked_rsts "$TEST_TMP/put.out")"
check "PUT: the capture holds the server's RSTs" test \
	"$(tcpdump -r "$TEST_TMP/put.pcap" -nn 2>/dev/null | grep -cE "$SRV\.80 > $RAW\.[0-9]+: Flags \[R")" -ge 1

# --- many idle connections, and the kernel's count of them ----------------
check "the reference target starts (never, no idle timeout)" \
	start_target --policy never --keepalive-timeout 0 --timeout 0
probe idle --conns 300 --batch 100 --hold 1.5 --timeout 10 >"$TEST_TMP/idle.out" 2>"$TEST_TMP/idle.err" &
ppid=$!
est=0
for _ in $(seq 40); do
	sleep 0.1
	est=$(ip netns exec $S ss -Htn state established '( sport = :80 )' | wc -l)
	[ "$est" -ge 300 ] && break
done
wait $ppid
check_eq "idle: the probe holds 300 connections" 300 "$(val held "$TEST_TMP/idle.out")"
check_eq "idle: the server kernel sees 300 established sockets" 300 "$est"
check_eq "idle: no leaked RST" 0 "$(val leaked_rsts "$TEST_TMP/idle.out")"
est=$(ip netns exec $S ss -Htn state established '( sport = :80 )' | wc -l)
check_eq "idle: our RSTs at the end leave no socket behind" 0 "$est"

# --- a leak is detected: let the client kernel own the raw address --------
check "the reference target starts (linger) again" start_target --policy linger
ip -n $C addr add $RAW/32 dev $VC
probe get --rtt 20 --timeout 2 >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
check "leak: a kernel RST from the raw address is counted as leaked" \
	test "$(val leaked_rsts "$TEST_TMP/leak.out")" -ge 1
ip -n $C addr del $RAW/32 dev $VC

stop_target
finish
