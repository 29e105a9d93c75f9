#!/usr/bin/env bash
# bench/rawtcp.sh - the raw TCP client (lab/rawtcp) at scale, against the
# reference target in a throwaway namespace lab. Printed, never asserted:
#   - how many idle connections one client process holds in the idle
#     FIN_WAIT_2 scenario (each sends GET with Connection: close, ACKs the
#     server's FIN and never sends its own), with the server kernel's own
#     FIN_WAIT_2 count (ss) beside it, and the memory per connection;
#   - new connections per second (no emulated RTT, 256 handshakes in flight);
#   - how closely the emulated RTT matches the requested one, measured in the
#     saved capture as SYN-ACK -> ACK spacing. (The capture point sits between
#     the client's delay and the server, so SYN -> SYN-ACK there is the
#     server's turnaround, ~0, and the whole RTT shows on the client's side.)
#     The client runs with --realtime (rawtcp_realtime(): SCHED_FIFO): on a
#     shared, loaded machine the tail is otherwise the wait for a CPU.
#     RAWTCP_BENCH_RT_OPT= runs it as an ordinary process instead;
#     RAWTCP_BENCH_RTT_ONLY=1 skips the idle part; RAWTCP_BENCH_RTT_RUNS
#     ("RTT IN_FLIGHT CONNS,...") picks the rows.
# Needs root. RAWTCP_BENCH_CONNS sets the connection count (default 100000).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PROBE=$BUILD/tests/rawtcp_probe
TARGET=$BUILD/lingerlab-target
N=${RAWTCP_BENCH_CONNS:-100000}
# One address holds one connection per local port (20000..60999 by
# default): beyond 40,000 the client speaks from several (.3, .4, ...).
LOCALS=$(( (N + 39999) / 40000 ))

say() { printf 'rawtcp: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then say "skipped (needs root for namespaces and raw sockets)"; exit 0; fi
command -v ip >/dev/null || { say "skipped (needs iproute2)"; exit 0; }
[ -x "$PROBE" ] || make -s BUILD="$BUILD" "$PROBE" >/dev/null || { say "cannot build $PROBE"; exit 1; }
[ -x "$TARGET" ] || { say "$TARGET missing (run make first)"; exit 1; }

P=$$
S=ll${P}s C=ll${P}c VS=ll${P}vs VC=ll${P}vc NET=10.250.$((P % 251))
TMP=$(mktemp -d /tmp/lingerlab-rawtcp-bench.XXXXXX)
TPID=
stop_target() {
	if [ -n "$TPID" ]; then kill "$TPID" 2>/dev/null; wait "$TPID" 2>/dev/null; TPID=; fi
}
cleanup() {
	stop_target
	ip netns del $S 2>/dev/null
	ip netns del $C 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add $S && ip netns add $C &&
ip link add $VS netns $S type veth peer name $VC netns $C &&
ip -n $S addr add $NET.1/24 dev $VS && ip -n $S link set $VS up && ip -n $S link set lo up &&
ip -n $C addr add $NET.2/24 dev $VC && ip -n $C link set $VC up && ip -n $C link set lo up &&
mac=$(ip -n $C -o link show $VC | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2) &&
for i in $(seq 0 $LOCALS); do
	ip -n $S neigh replace $NET.$((3 + i)) lladdr "$mac" dev $VS nud permanent || { say "lab set-up failed"; exit 1; }
done

start_target() {
	stop_target
	# The target needs a descriptor per connection.
	(ulimit -n $((N + 1024)) 2>/dev/null; exec ip netns exec $S "$TARGET" --listen $NET.1:80 \
		--keepalive-timeout 0 --timeout 0 "$@" >"$TMP/target.log" 2>&1) &
	TPID=$!
	for _ in $(seq 50); do
		ip netns exec $S ss -Hltn 'sport = :80' 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	say "the target did not start: $(cat "$TMP/target.log")"
	exit 1
}
probe() { ip netns exec $C "$PROBE" "$@" --iface $VC --peer $NET.1 --port 80; }
val() { sed -n "s/^$1=//p" "$2" | head -1; }

say "one client process, lingerlab-target (policy close) in a namespace lab, $(nproc) cores"

# 1. Idle FIN_WAIT_2: hold N connections, sample the server kernel meanwhile.
if [ -z "${RAWTCP_BENCH_RTT_ONLY:-}" ]; then
start_target --policy close
probe idle --local $NET.3 --request --conns "$N" --locals $LOCALS --batch 256 --hold 3 --timeout 120 \
	--dump "$TMP/idle.pcap" >"$TMP/idle.out" 2>"$TMP/idle.err" &
ppid=$!
peak=0
for _ in $(seq 1200); do
	kill -0 $ppid 2>/dev/null || break
	n=$(ip netns exec $S ss -Htn state fin-wait-2 '( sport = :80 )' 2>/dev/null | wc -l)
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.25
done
wait $ppid
rc=$?
if [ $rc -ne 0 ]; then say "idle run failed (exit $rc): $(cat "$TMP/idle.err")"; fi
say "idle FIN_WAIT_2: $N requested, $(val established "$TMP/idle.out") established," \
	"$(val held "$TMP/idle.out") held by the client from $LOCALS address(es) ($NET.3..$NET.$((2 + LOCALS)));" \
	"server kernel FIN_WAIT_2 peak $peak (ss)"
say "memory: $(val rss_per_conn_bytes "$TMP/idle.out") bytes RSS per connection" \
	"(client total $(val rss_kib "$TMP/idle.out") KiB)"
say "new connections: $(val connect_rate_per_s "$TMP/idle.out") per second" \
	"(no emulated RTT, 256 handshakes in flight, capture saved)"
say "capture: $(val frames_dumped "$TMP/idle.out") frames saved, $(val pcap_drops "$TMP/idle.out") dropped;" \
	"leaked RSTs $(val leaked_rsts "$TMP/idle.out"), injection errors $(val inject_errors "$TMP/idle.out")"
rm -f "$TMP/idle.pcap"
fi

# 2. Emulated RTT accuracy: handshakes one at a time (the delay itself) and
# 100 at a time (a burst: one thread injects them one after the other, and
# each injection runs the server's TCP input in our sendto() via veth).
RT_OPT=${RAWTCP_BENCH_RT_OPT---realtime}
start_target --policy never
load() { printf 'load average %s, CPU pressure %s' "$(cut -d' ' -f1-3 /proc/loadavg)" \
	"$(sed -n 's/^some avg10=\([0-9.]*\).*/some avg10 \1%/p' /proc/pressure/cpu 2>/dev/null)"; }
say "emulated RTT, SYN-ACK -> ACK in the capture (client ${RT_OPT:-without --realtime}; $(load)):"
worst=0
runs=("0 1 40" "0 100 500" "10 1 40" "10 100 500" "50 1 40" "50 100 500" "250 1 20" "250 100 500")
[ -n "${RAWTCP_BENCH_RTT_RUNS:-}" ] && IFS=, read -r -a runs <<<"$RAWTCP_BENCH_RTT_RUNS"
for run in "${runs[@]}"; do
	read -r rtt batch conns <<<"$run"
	# From an address of its own: the idle part's ports are not reused.
	if ! probe idle --local $NET.$((3 + LOCALS)) --conns $conns --batch $batch --hold 0.2 --rtt $rtt --timeout 60 $RT_OPT \
		--dump "$TMP/rtt.pcap" >"$TMP/rtt.out" 2>"$TMP/rtt.err"; then
		say "  rtt $rtt ms: run failed: $(cat "$TMP/rtt.err") $(grep -E '^(established|held|peer_rsts)=' "$TMP/rtt.out" | tr '\n' ' ')"
		continue
	fi
	"$PROBE" rtt "$TMP/rtt.pcap" $rtt $NET.1 >"$TMP/rtt.stat"
	awk -F= -v rtt=$rtt -v b=$batch '{ v[$1] = $2 } END {
		printf "rawtcp:   requested %3d ms, %3d in flight, %3d samples: median %.2f ms, p99 %.2f ms, max %.2f ms, mean |error| %.2f ms\n",
			rtt, b, v["samples"], v["median_us"] / 1000, v["p99_us"] / 1000, v["max_us"] / 1000, v["mean_abs_err_us"] / 1000 }' \
		"$TMP/rtt.stat"
	if [ "$batch" = 100 ]; then
		err=$(awk -F= -v rtt=$rtt '$1 == "p99_us" { e = $2 - rtt * 1000; print (e < 0 ? -e : e) }' "$TMP/rtt.stat")
		worst=$(awk -v a="$worst" -v b="${err:-0}" 'BEGIN { print (b > a ? b : a) }')
	fi
	rm -f "$TMP/rtt.pcap"
done
awk -v w="$worst" 'BEGIN { printf "rawtcp: goal p99 error <= 1 ms with 100 in flight: worst %.2f ms, %s\n", w / 1000, w <= 1000 ? "met" : "missed" }'
say "(after the table: $(load))"
exit 0
