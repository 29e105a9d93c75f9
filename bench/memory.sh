#!/usr/bin/env bash
# bench/memory.sh - part of `make bench`: what the analyzer's connection
# store costs per connection when many are open at once, and what the
# memory bound (--max-memory, default 256 MiB) does with a flood of them.
# Captures made here with python3 (raw IP frames) and cached in
# $BUILD/bench/: N SYN-only flows (a scan or a SYN flood), and M servers
# parked in FIN_WAIT_2 (the server closes, the client ACKs and never sends
# its FIN; each with ISNs of its own). Issue 13's targets: 2,000,000
# SYN-only flows and 1,000,000 FIN_WAIT_2 connections, each tracked whole
# (nothing ended early: SYNs as embryos, holders parked, both rebuilt
# exactly when more comes) in under 256 MiB; the last line gives both
# peak RSS figures. Figures are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LINGERLAB=$BUILD/lingerlab
OUT=$BUILD/bench
SYNS=${BENCH_SYNS:-2000000}
FW2=${BENCH_FW2:-1000000}
FW2_WHOLE=${BENCH_FW2_WHOLE:-200000}   # the unbounded run: its cost per connection
mkdir -p "$OUT"
say() { printf 'memory: %s\n' "$*"; }

gen() { # gen KIND COUNT FILE
	python3 - "$1" "$2" "$3" <<'PY'
import struct, sys
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
M = 0xffffffff
def tcp(src, sport, seq, ack, flags, plen=0):
    t = struct.pack("!HHIIBBHHH", sport, 80, seq, ack, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + plen, 0, 0, 64, 6, 0, src, b"\x0a\xff\x00\x01")
    return ip + t + b"x" * plen
def rev(src, sport, seq, ack, flags, plen=0):
    t = struct.pack("!HHIIBBHHH", 80, sport, seq, ack, 0x50, flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + plen, 0, 0, 64, 6, 0, b"\x0a\xff\x00\x01", src)
    return ip + t + b"y" * plen
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
    t = 1700000000.0
    def put(frame):
        global t
        t += 1e-6
        f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(frame), len(frame)))
        f.write(frame)
    for i in range(n):
        src = bytes([10, 1 + (i >> 16) % 250, (i >> 8) & 255, i & 255])
        sport = 1024 + (i // 16000000) % 60000
        if kind == "syn":
            put(tcp(src, sport, i * 7, 0, 0x02))
            continue
        # ISNs differ from one connection to the next, as real ones do
        c, s = (i * 2654435761 + 1000) & M, (i * 40503 + 5000) * 7919 & M
        put(tcp(src, sport, c, 0, 0x02))
        put(rev(src, sport, s, (c + 1) & M, 0x12))
        put(tcp(src, sport, (c + 1) & M, (s + 1) & M, 0x10))
        put(tcp(src, sport, (c + 1) & M, (s + 1) & M, 0x18, 20))
        put(rev(src, sport, (s + 1) & M, (c + 21) & M, 0x19, 30))  # response + FIN
        put(tcp(src, sport, (c + 21) & M, (s + 32) & M, 0x10))      # ACK of the FIN
PY
}

SYNCAP=$OUT/syn-$SYNS.pcap
FW2CAP=$OUT/fw2isn-$FW2.pcap
FW2WCAP=$OUT/fw2isn-$FW2_WHOLE.pcap
[ -s "$SYNCAP" ] || { say "making $SYNCAP ($SYNS SYN-only flows) ..."; gen syn "$SYNS" "$SYNCAP"; }
[ -s "$FW2CAP" ] || { say "making $FW2CAP ($FW2 servers left in FIN_WAIT_2) ..."; gen fw2 "$FW2" "$FW2CAP"; }
[ -s "$FW2WCAP" ] || { say "making $FW2WCAP ($FW2_WHOLE servers left in FIN_WAIT_2) ..."; gen fw2 "$FW2_WHOLE" "$FW2WCAP"; }

run() { # run LABEL CAPTURE COUNT ARGS...; sets RSS_MIB and ENDED
	local label=$1 cap=$2 n=$3 rss t peak ev evf emb
	shift 3
	/usr/bin/time -f '%M %e' -o "$OUT/mem.time" "$LINGERLAB" analyze -r "$cap" -o "$OUT/mem.json" "$@"
	read -r rss t <"$OUT/mem.time"
	read -r peak ev evf emb < <(jq -r '.summary.memory | "\(.peak) \(.evicted) \(.evicted_fin_wait_2) \(.evicted_embryos)"' "$OUT/mem.json")
	local per="-"
	[ "$ev" = 0 ] && [ "$emb" = 0 ] && per="$((peak / n)) B/conn"
	printf 'memory: %-46s %6.2f s  peak RSS %5d MiB  store %5d MiB (%s)  ended early: %s in progress (%s FIN_WAIT_2), %s SYN-only\n' \
		"$label" "$t" $((rss / 1024)) $((peak / 1048576)) "$per" "$ev" "$evf" "$emb"
	RSS_MIB=$((rss / 1024))
	ENDED=$((ev + emb))
}
verdict() { # verdict RSS_MIB ENDED: whether a target is met
	if [ "$2" = 0 ] && [ "$1" -lt 256 ]; then echo "met"; else echo "NOT met"; fi
}
run "$SYNS SYN-only flows, no bound" "$SYNCAP" "$SYNS" --max-memory none
run "$SYNS SYN-only flows, default bound (256 MiB)" "$SYNCAP" "$SYNS"
syn_rss=$RSS_MIB syn_ended=$ENDED
run "$FW2_WHOLE in FIN_WAIT_2, no bound" "$FW2WCAP" "$FW2_WHOLE" --max-memory none
run "$FW2 in FIN_WAIT_2, default bound (256 MiB)" "$FW2CAP" "$FW2"
fw2_rss=$RSS_MIB fw2_ended=$ENDED
say "issue 13 targets (under 256 MiB, nothing ended early): $SYNS SYN-only flows: peak RSS $syn_rss MiB, $syn_ended ended early ($(verdict "$syn_rss" "$syn_ended")); $FW2 FIN_WAIT_2 connections: peak RSS $fw2_rss MiB, $fw2_ended ended early ($(verdict "$fw2_rss" "$fw2_ended"))"
