#!/usr/bin/env bash
# analyze_live.sh - `lingerlab analyze -i lo`: a live capture stops on
# Ctrl-C (SIGINT), on -c COUNT and on --duration, and then writes the same
# report a file would give, with the kernel's drop counters; frames the
# kernel dropped (a tiny -B, the analyzer stopped during a burst) are
# counted and said in the verdict and on stderr.
source tests/lib.sh
TINY=${BUILD:-build}/tests/tiny_server
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json

if ! need_root; then skip "live capture on lo needs root"; finish; fi

PIDS=
cleanup() {
	local p
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

wait_for() { # FILE PATTERN: up to 5 s
	local i
	for i in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# wait_exit PID TENTHS: the exit status, or 124 if still running after it
wait_exit() {
	local i
	for i in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$1" 2>/dev/null; then return 124; fi
	wait "$1"
}
# start_server MODE: sets PORT
start_server() {
	"$TINY" server "$1" >"$TEST_TMP/server.out" 2>&1 &
	PIDS="$PIDS $!"
	wait_for "$TEST_TMP/server.out" '^[0-9]' && PORT=$(head -1 "$TEST_TMP/server.out")
}
# start_analyze NAME ARGS...: in the background until it listens; sets APID
start_analyze() {
	local name=$1; shift
	"$LINGERLAB" analyze -i lo -o "$TEST_TMP/$name.json" "$@" 2>"$TEST_TMP/$name.err" &
	APID=$!
	PIDS="$PIDS $APID"
	wait_for "$TEST_TMP/$name.err" 'listening on lo'
}

# --- Ctrl-C ----------------------------------------------------------------
start_server fin || { not_ok "tiny server started"; finish; }
if start_analyze sigint --connections "$TEST_TMP/sigint.jsonl" "tcp port $PORT"; then
	check_eq "live: says where it listens" \
		"lingerlab analyze: listening on lo, link-type EN10MB; stop with Ctrl-C" \
		"$(head -1 "$TEST_TMP/sigint.err")"
	"$TINY" client "$PORT" get 0 >/dev/null
	sleep 0.3
	kill -INT "$APID"
	wait_exit "$APID" 50
	check_eq "live: SIGINT ends the capture and exits 0" 0 "$?"
	check "live: report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/sigint.json"
	check_jq "live: the report says where the packets came from" "$TEST_TMP/sigint.json" \
		'.input.live and .input.source == "lo" and .input.link_type == "EN10MB"
		 and .input.filter == "tcp port '"$PORT"'"'
	check_jq "live: the kernel's counters are in input, nothing dropped" "$TEST_TMP/sigint.json" \
		'.input.kernel_dropped == 0 and (.input.interface_dropped | type) == "number"
		 and (.verdict.text | contains("incomplete") | not)'
	check_jq "live: the whole connection was seen" "$TEST_TMP/sigint.jsonl" \
		'.handshake and .close_initiator == "server" and .kind == "graceful"
		 and .http.requests == 1 and .http.responses[0].status == 404'
else
	not_ok "live: analyze -i lo started listening"
fi

# --- -c COUNT --------------------------------------------------------------
start_server fin || { not_ok "tiny server started"; finish; }
if start_analyze count -c 4 "tcp port $PORT"; then
	"$TINY" client "$PORT" get 0 >/dev/null
	wait_exit "$APID" 50
	check_eq "live: -c 4 stops by itself and exits 0" 0 "$?"
	check_jq "live: -c 4 read exactly 4 frames" "$TEST_TMP/count.json" \
		'.input.packets == 4 and .options.count == 4'
else
	not_ok "live: analyze -i lo -c started listening"
fi

# --- --duration ------------------------------------------------------------
if start_analyze duration --duration 1 "tcp port $PORT"; then
	wait_exit "$APID" 50
	check_eq "live: --duration 1 stops by itself and exits 0" 0 "$?"
	check_jq "live: --duration is in the report" "$TEST_TMP/duration.json" '.options.duration == 1'
else
	not_ok "live: analyze -i lo --duration started listening"
fi
# --- progress on a terminal ---------------------------------------------------
# once a second: packets so far and the kernel's drops (never on a file)
if command -v script >/dev/null; then
	script -qec "$LINGERLAB analyze -i lo --duration 1.6 -o $TEST_TMP/tty.json 'tcp port $PORT'" \
		"$TEST_TMP/tty.log" >/dev/null 2>&1
	check "live: progress on a terminal: packets, packets/s, kernel drops" \
		grep -qE 'lingerlab analyze: [0-9]+ packets, [0-9]+ packets/s, kernel dropped 0' "$TEST_TMP/tty.log"
	check_jq "live: progress does not disturb the report" "$TEST_TMP/tty.json" '.input.kernel_dropped == 0'
	check_eq "live: no progress when stderr is not a terminal" 0 \
		"$(grep -c 'packets/s' "$TEST_TMP/sigint.err")"
else
	skip "live: progress on a terminal (needs script)"
fi

# --- frames the kernel dropped ---------------------------------------------
# Deterministic: the analyzer is stopped (SIGSTOP, every thread seen
# stopped) while N UDP datagrams go to a closed port on lo; with -B 1 (one
# KiB, which libpcap rounds up to a single 256 KiB block) the ring holds a
# few hundred and the kernel drops and counts the rest; with the default
# buffer (32 MiB) all of them fit. (On lo the kernel sees each frame twice,
# going out and coming in, and libpcap keeps the incoming one: so packets
# is below N and packets + kernel_dropped at least N.)
N=10000
stopped() { # PID: every thread in state T
	local st
	for st in $(awk '{ sub(/^.*\) /, ""); print $1 }' /proc/"$1"/task/*/stat 2>/dev/null); do
		[ "$st" = T ] || return 1
	done
	[ -n "$st" ]
}
# burst NAME ARGS...: capture on lo while stopped, N datagrams, then Ctrl-C
burst() {
	local name=$1 uport=$((40000 + RANDOM % 20000)) i; shift
	start_analyze "$name" "$@" "udp dst port $uport" || return 1
	kill -STOP "$APID"
	for i in $(seq 50); do stopped "$APID" && break; sleep 0.1; done
	stopped "$APID" || { kill -CONT "$APID"; return 1; }
	python3 - "$uport" "$N" <<-'EOF'
	import socket, sys
	port, n = int(sys.argv[1]), int(sys.argv[2])
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	for _ in range(n):
	    s.sendto(b"lingerlab burst!", ("127.0.0.1", port))
	EOF
	kill -CONT "$APID"
	sleep 0.5
	kill -INT "$APID"
	wait_exit "$APID" 50
}
if ! command -v python3 >/dev/null; then
	skip "live: kernel drops (needs python3)"
elif burst tiny -B 1; burst_rc=$?; [ "$burst_rc" -ne 1 ] && [ "$burst_rc" -ne 124 ]; then
	# (burst's 1 and 124: it could not start, stop or end the analyzer)
	check_eq "live: a capture whose kernel dropped frames exits 4 (unvouched)" 4 "$burst_rc"
	check_jq "live: verdict.exit_code says 4 too" "$TEST_TMP/tiny.json" '.verdict.exit_code == 4'
	check "live: tiny -B report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/tiny.json"
	check_jq "live: the kernel's drops are counted, the rest analyzed" "$TEST_TMP/tiny.json" \
		".input.kernel_dropped > 0 and .input.packets > 0 and .input.packets < $N
		 and .input.packets + .input.kernel_dropped >= $N"
	kd=$(jq -r .input.kernel_dropped "$TEST_TMP/tiny.json")
	check_jq "live: the verdict says the analysis is incomplete" "$TEST_TMP/tiny.json" \
		'.verdict.text | endswith("; analysis incomplete: the kernel dropped '"$kd"' packets")'
	check_eq "live: stderr says so too" \
		"lingerlab analyze: the kernel dropped $kd packets (capture buffer full; see -B): the analysis is incomplete" \
		"$(tail -1 "$TEST_TMP/tiny.err")"
else
	not_ok "live: analyze -i lo -B 1 started, stopped and ended"
fi
if command -v python3 >/dev/null && burst roomy; then
	check_jq "live: with the default buffer the same burst loses nothing" "$TEST_TMP/roomy.json" \
		".input.kernel_dropped == 0 and .input.packets == $N
		 and (.verdict.text | contains(\"incomplete\") | not)"
else
	command -v python3 >/dev/null && not_ok "live: analyze -i lo (default -B) started, stopped and ended"
fi
finish
