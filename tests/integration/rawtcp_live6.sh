#!/usr/bin/env bash
# rawtcp_live6.sh - the raw TCP client over IPv6 against a real kernel, in
# an IPv6 lab (`lingerlab lab up -6` with the reference target): a GET
# through the raw ::3 is answered, the SYN offers MSS 1440 (a 1500-byte MTU
# less 40 + 20), every client segment's TCP checksum is right as tcpdump
# computes it over the IPv6 pseudo-header, the emulated RTT shows, the
# client side sends no RST and nothing leaks; and the negative control:
# once the client namespace's kernel owns ::3 it answers the server with
# RSTs of its own, and the leak check counts them.
source tests/lib.sh
source tests/support/lab.bash
trap lab_cleanup EXIT

PROBE=$PWD/$BUILD/tests/rawtcp_probe
if ! need_root || [ ! -d /proc/sys/net/ipv6 ]; then skip "rawtcp over IPv6 (needs root and IPv6)"; finish; fi
if [ ! -x "$PROBE" ]; then not_ok "rawtcp_probe is built"; finish; fi

if ! lab_start L -6 --builtin linger; then
	not_ok "an IPv6 lab with the reference target"; sed 's/^/# /' "$TEST_TMP/L.err"; finish
fi
RAW=$L_raw_addr6 SRV=$L_server_addr6
probe() { in_client L "$PROBE" "$@" --iface "$L_client_if" --local "$RAW" --peer "$SRV" --port 80; }
val() { sed -n "s/^$1=//p" "$2" | head -1; }

probe get --rtt 100 --dump "$TEST_TMP/get.pcap" >"$TEST_TMP/get.out" 2>"$TEST_TMP/get.err"
check_eq "GET over IPv6 through the raw client exits 0" 0 $?
check_eq "GET: the response status is read" 200 "$(val status "$TEST_TMP/get.out")"
check_eq "GET: the connection ends normally (FINs both ways)" normal "$(val close_reason "$TEST_TMP/get.out")"
check_eq "GET: no leaked RST from the client side" 0 "$(val leaked_rsts "$TEST_TMP/get.out")"
check_eq "GET: the server's MSS over IPv6 read from its SYN-ACK" 1440 "$(val peer_mss "$TEST_TMP/get.out")"

tcpdump -r "$TEST_TMP/get.pcap" -nn -vv -tt 2>/dev/null >"$TEST_TMP/get.txt"
check "GET: the SYN offers mss 1440, sackOK, timestamps and wscale 7" \
	grep -qE "options \[mss 1440,sackOK,TS val [0-9]+ ecr 0,nop,wscale 7\]" "$TEST_TMP/get.txt"
ours=$(grep -cE "$RAW\.[0-9]+ > $SRV\.80: .*cksum 0x[0-9a-f]+ \(correct\)" "$TEST_TMP/get.txt")
bad=$(grep -E "$RAW\.[0-9]+ > $SRV\.80: " "$TEST_TMP/get.txt" | grep -c "incorrect")
check "GET: the client's IPv6 segments are in the capture ($ours)" test "$ours" -ge 4
check_eq "GET: every client segment has a correct TCP checksum (IPv6 pseudo-header)" 0 "$bad"
check_eq "GET: the capture holds only IPv6 TCP" 0 \
	"$(tcpdump -r "$TEST_TMP/get.pcap" -nn 'not (ip6 and tcp)' 2>/dev/null | wc -l)"
check_eq "GET: the client side sent no RST" 0 \
	"$(tcpdump -r "$TEST_TMP/get.pcap" -nn 2>/dev/null | grep -cE "$RAW\.[0-9]+ > .*Flags \[R")"
read -r t_synack t_ack < <(tcpdump -r "$TEST_TMP/get.pcap" -nn -tt 2>/dev/null | awk -v raw="$RAW." '
	NR == 1 { base = $1 }
	/Flags \[S\.\]/ && sa == "" { sa = $1 - base }
	sa != "" && a == "" && index($3, raw) == 1 && /Flags \[\.\]/ { a = $1 - base }
	END { printf "%.0f %.0f\n", sa * 1e6, a * 1e6 }')
d=$((t_ack - t_synack))
diag "SYN-ACK -> ACK ${d}us (requested RTT 100000us)"
check "GET: SYN-ACK -> ACK is the emulated RTT (100 ms, +25 ms slack)" test "$d" -ge 99000 -a "$d" -le 125000

# --- the negative control: the client kernel owns ::3 -----------------------
ip -n "$L_client_ns" -6 addr add "$RAW/128" dev "$L_client_if" nodad
probe get --rtt 20 --timeout 2 >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
check "leak: the client kernel's RSTs from ::3 are counted as leaked ($(val leaked_rsts "$TEST_TMP/leak.out"))" \
	test "$(val leaked_rsts "$TEST_TMP/leak.out")" -ge 1
ip -n "$L_client_ns" -6 addr del "$RAW/128" dev "$L_client_if"

lab_stop L
check_eq "the lab is removed" "" "$(ip netns list | awk '{print $1}' | grep -E "^ll${L_pid}[a-z]+$")"
finish
