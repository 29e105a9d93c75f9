#!/usr/bin/env bash
# bench/compressed.sh - part of `make bench`: the bench capture compressed
# with gzip, zstd and xz, each read by `lingerlab analyze` directly, beside
# the bare decompression loop of the same library (bench/zcatloop.c) and
# the analysis of the uncompressed file. The decompressor runs in the
# reader thread beside the analyzer, so the target is: analyze on the
# compressed file <= 1.1 x max(bare decompression, analyze uncompressed).
# Figures are printed, never asserted. CAP (default the 1x bench capture).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=$BUILD/bench
CAP=${CAP:-$OUT/nginx-close-1x.pcap}
RUNS=${BENCH_RUNS:-5}
LINGERLAB=$BUILD/lingerlab
say() { printf 'bench: %s\n' "$*"; }
[ -s "$CAP" ] || { say "compressed: no capture at $CAP (run bench/run)"; exit 1; }
cc -O2 -std=c11 -Wall -Wextra -Werror -o "$OUT/zcatloop" bench/zcatloop.c \
	$(pkg-config --cflags --libs zlib libzstd liblzma)
[ -x "$OUT/runstat" ] || cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o "$OUT/runstat" bench/runstat.c
# compressed copies, cached beside the capture (levels: the tools' defaults)
[ -s "$CAP.gz" ] || gzip -c "$CAP" >"$CAP.gz"
[ -s "$CAP.zst" ] || zstd -q -c "$CAP" >"$CAP.zst"
[ -s "$CAP.xz" ] || xz -T1 -c "$CAP" >"$CAP.xz"
cat "$CAP" "$CAP.gz" "$CAP.zst" "$CAP.xz" >/dev/null
read -r t_plain c_plain _ < <("$OUT/runstat" "$RUNS" "$LINGERLAB" analyze -r "$CAP" -o /dev/null)
say "compressed captures ($(($(stat -c %s "$CAP") / 1048576)) MiB uncompressed), fastest of $RUNS runs:"
printf 'bench:   %-5s %8s %22s %22s %7s\n' kind size "bare decompression" "lingerlab analyze" ratio
for k in gz:gzip zst:zstd xz:xz; do
	ext=${k%%:*} name=${k##*:}
	{
		read -r t_z c_z _
		read -r t_a c_a _
	} < <("$OUT/runstat" "$RUNS" "$OUT/zcatloop" "$name" "$CAP.$ext" \
		-- "$LINGERLAB" analyze -r "$CAP.$ext" -o /dev/null)
	awk -v k="$name" -v sz="$(stat -c %s "$CAP.$ext")" -v tz="$t_z" -v ta="$t_a" -v tp="$t_plain" 'BEGIN {
		floor = tz > tp ? tz : tp
		printf "bench:   %-5s %5.1f MiB %9.3f s %22.3f s %6.2f  (analyze / max(bare %.3f s, uncompressed %.3f s); target <= 1.1)\n",
			k, sz / 1048576, tz, ta, ta / floor, tz, tp
	}'
done
