#!/usr/bin/env bash
# analyze_vxlan.sh - a real kernel VXLAN tunnel between two namespaces: HTTP
# connections to python3's http.server cross it while tcpdump records the
# underlay (outer UDP/4789 frames on the veth) and the overlay (the inner
# frames on the vxlan device). lingerlab must find in the underlay capture
# exactly the connections, teardowns and segments it finds in the overlay
# one. Needs root and the vxlan module (skipped otherwise); every
# namespace, process and file it makes, it removes.
source tests/lib.sh
if ! need_root; then skip "analyze_vxlan: needs root"; finish; fi
X=$(( $$ % 200 + 20 ))
A=llvxa$$ B=llvxb$$
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
ip netns add "$A" && ip netns add "$B" || { not_ok "namespaces made"; finish; }
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add "10.250.$X.1/24" dev va
ip -n "$B" addr add "10.250.$X.2/24" dev vb
ip -n "$A" link set va up; ip -n "$B" link set vb up
ip -n "$A" link set lo up; ip -n "$B" link set lo up
if ! ip -n "$A" link add vx type vxlan id 42 local "10.250.$X.1" remote "10.250.$X.2" dstport 4789 dev va 2>/dev/null; then
	skip "analyze_vxlan: no vxlan support in this kernel"; finish
fi
ip -n "$B" link add vx type vxlan id 42 local "10.250.$X.2" remote "10.250.$X.1" dstport 4789 dev vb
ip -n "$A" addr add "172.31.$X.1/24" dev vx; ip -n "$B" addr add "172.31.$X.2/24" dev vx
ip -n "$A" link set vx up; ip -n "$B" link set vx up

mkdir -p "$TEST_TMP/www"
head -c 3000 /dev/zero | tr '\0' 'x' >"$TEST_TMP/www/index.html"
ip netns exec "$B" python3 -m http.server --bind "172.31.$X.2" --directory "$TEST_TMP/www" 8080 \
	>/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$A" tcpdump -i va -U -n -s 0 -Z root -w "$TEST_TMP/outer.pcap" udp port 4789 2>"$TEST_TMP/t1.err" &
PIDS+=($!)
ip netns exec "$A" tcpdump -i vx -U -n -s 0 -Z root -w "$TEST_TMP/inner.pcap" tcp 2>"$TEST_TMP/t2.err" &
PIDS+=($!)
for _ in $(seq 50); do
	grep -q listening "$TEST_TMP/t1.err" 2>/dev/null && grep -q listening "$TEST_TMP/t2.err" 2>/dev/null &&
		(ip netns exec "$A" bash -c "exec 3<>/dev/tcp/172.31.$X.2/8080" 2>/dev/null) && break
	sleep 0.1
done
# three GETs, each its own connection (the probe above is a fourth)
ip netns exec "$A" python3 - "172.31.$X.2" <<'PY'
import sys, urllib.request
for i in range(3):
    with urllib.request.urlopen(f"http://{sys.argv[1]}:8080/index.html", timeout=5) as r:
        assert len(r.read()) == 3000
PY
check_eq "three GETs through the tunnel" 0 "$?"
sleep 1   # the last FIN and ACK reach both captures
for p in "${PIDS[@]:1}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
PIDS=("${PIDS[0]}")

"$LINGERLAB" analyze -r "$TEST_TMP/outer.pcap" -o "$TEST_TMP/outer.json" --connections "$TEST_TMP/outer.jsonl"
check_eq "underlay capture: exit 0" 0 "$?"
"$LINGERLAB" analyze -r "$TEST_TMP/inner.pcap" -o "$TEST_TMP/inner.json" --connections "$TEST_TMP/inner.jsonl"
check_eq "overlay capture: exit 0" 0 "$?"
n=$(jq '.summary.connections' "$TEST_TMP/inner.json")
diag "overlay: $n connections, $(jq '.input.tcp_packets' "$TEST_TMP/inner.json") segments"
check "overlay: at least the three GETs" test "$n" -ge 3
check_eq "underlay: as many connections as the overlay" "$n" "$(jq '.summary.connections' "$TEST_TMP/outer.json")"
check_eq "underlay: as many TCP segments as the overlay" \
	"$(jq '.input.tcp_packets' "$TEST_TMP/inner.json")" "$(jq '.input.tcp_packets' "$TEST_TMP/outer.json")"
check_eq "underlay: nothing unsupported" 0 "$(jq '.input.unsupported' "$TEST_TMP/outer.json")"
# the same connections: endpoints, who closed, how, and the bytes
summ='[.[] | [.client.port, .server.port, .kind, .close_initiator, .c2s.bytes, .s2c.bytes]] | sort'
check_eq "underlay: the same connections, teardowns and bytes as the overlay" \
	"$(jq -cs "$summ" "$TEST_TMP/inner.jsonl")" "$(jq -cs "$summ" "$TEST_TMP/outer.jsonl")"
finish
