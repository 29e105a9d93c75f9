#!/usr/bin/env bash
# bench/compressed.sh - part of `make bench`: the bench capture compressed
# with gzip, zstd and xz, each read by `lingerlab analyze` directly, beside
# the bare decompression loop of the same library (bench/zcatloop.c) and
# the analysis of the uncompressed file. The decompressor runs in the
# reader thread beside the analyzer. Targets: CPU time (both threads) of
# analyze on the compressed file <= 1.1 x (bare decompression + analyze
# uncompressed): reading compressed costs the decompression and nothing
# more; wall time <= 1.1 x max(bare decompression, analyze uncompressed)
# on an idle host with two cores (a loaded host serializes the threads).
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
say "compressed captures ($(($(stat -c %s "$CAP") / 1048576)) MiB uncompressed), fastest of $RUNS runs"
say "  analyze uncompressed: $t_plain s wall, $c_plain s CPU"
for k in gz:gzip zst:zstd xz:xz; do
	ext=${k%%:*} name=${k##*:}
	{
		read -r t_z c_z _
		read -r t_a c_a _
	} < <("$OUT/runstat" "$RUNS" "$OUT/zcatloop" "$name" "$CAP.$ext" \
		-- "$LINGERLAB" analyze -r "$CAP.$ext" -o /dev/null)
	awk -v k="$name" -v sz="$(stat -c %s "$CAP.$ext")" -v tz="$t_z" -v ta="$t_a" -v tp="$t_plain" \
	    -v cz="$c_z" -v ca="$c_a" -v cp="$c_plain" 'BEGIN {
		floor = tz > tp ? tz : tp
		printf "bench:   %-4s %5.1f MiB: bare decompression %6.3f s (cpu %5.3f), analyze %6.3f s (cpu %5.3f): CPU %.2f x (bare + uncompressed), wall %.2f x max (targets <= 1.1)\n",
			k, sz / 1048576, tz, cz, ta, ca, ca / (cz + cp), ta / floor
	}'
done
say "  load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
