#!/usr/bin/env bash
# bench/live.sh - live capture under load: does `lingerlab analyze -i`
# keep up where `tcpdump -w /dev/null` does? Printed, never asserted.
#
# In a throwaway network namespace (its loopback only; removed on every
# exit), nginx (its own temporary config, keepalive_timeout 0) serves wrk
# with `Connection: close`, so every request is a whole connection (some 10
# packets). The same load runs twice, WRK_SECONDS each: once under
# `tcpdump -i lo -w /dev/null`, once under `lingerlab analyze -i lo`; the
# figures are printed side by side: packets captured, the kernel's drop
# count, and for lingerlab the connections it followed.
# Needs root. LIVE_BENCH_SECONDS (default 5), LIVE_BENCH_CONNS (wrk -c,
# default 50) and LIVE_BENCH_ARGS (extra analyze options, e.g. "-B 2MiB")
# change the load and the capture.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LINGERLAB=$BUILD/lingerlab
WRK_SECONDS=${LIVE_BENCH_SECONDS:-5}
WRK_CONNS=${LIVE_BENCH_CONNS:-50}
read -r -a EXTRA <<<"${LIVE_BENCH_ARGS:-}"

say() { printf 'live: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then say "skipped (needs root for a namespace and live capture)"; exit 0; fi
for t in ip nginx wrk tcpdump jq; do
	command -v "$t" >/dev/null || { say "skipped ($t not installed: make deps)"; exit 0; }
done
[ -x "$LINGERLAB" ] || { say "$LINGERLAB missing (run make first)"; exit 1; }

NS=ll$$live
PORT=8080
TMP=$(mktemp -d /tmp/lingerlab-live-bench.XXXXXX)
NGINX_PID= CAP_PID=
cleanup() {
	local p
	[ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
	for p in $CAP_PID $NGINX_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" && ip -n "$NS" link set lo up || { say "namespace set-up failed"; exit 1; }
inns() { ip netns exec "$NS" "$@"; }

# nginx's workers run as nobody: let them read the page
chmod 755 "$TMP"
mkdir -p "$TMP/www" "$TMP/tmp"
head -c 600 /dev/zero | tr '\0' 'x' >"$TMP/www/index.html"
cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 0;
    client_body_temp_path $TMP/tmp/body;
    proxy_temp_path $TMP/tmp/proxy;
    fastcgi_temp_path $TMP/tmp/fastcgi;
    server {
        listen 127.0.0.1:$PORT;
        location / { root $TMP/www; }
    }
}
EOF
ip netns exec "$NS" nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/error.log" &
NGINX_PID=$!
up=0
for _ in $(seq 50); do
	inns bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && { up=1; break; }
	sleep 0.1
done
[ "$up" = 1 ] || { say "nginx did not start: $(cat "$TMP/error.log" 2>/dev/null)"; exit 1; }

# wait_for FILE PATTERN: up to 5 s
wait_for() {
	for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
# load NAME: wrk against nginx; prints the requests wrk completed
load() {
	inns wrk -t 1 -c "$WRK_CONNS" -d "${WRK_SECONDS}s" -H 'Connection: close' \
		"http://127.0.0.1:$PORT/" >"$TMP/$1.wrk" 2>&1
	sleep 0.5   # the last teardowns
	awk '/requests in/ { print $1 }' "$TMP/$1.wrk"
}
# cpu_of PID: its CPU time so far (user+sys, all threads), in seconds
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo "?"
}
# stop_capture: SIGINT, then wait for it to write its figures. (The
# captures are started with `ip netns exec`, which execs them: the signal
# reaches the program itself, not a shell that ignores it.)
stop_capture() {
	kill -INT "$CAP_PID" 2>/dev/null
	for _ in $(seq 300); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=
}

say "nginx (keepalive_timeout 0) and wrk -t1 -c$WRK_CONNS -d${WRK_SECONDS}s -H 'Connection: close' in namespace $NS"

# ---- tcpdump -----------------------------------------------------------------
ip netns exec "$NS" tcpdump -i lo -Z root -w /dev/null "tcp port $PORT" 2>"$TMP/tcpdump.err" &
CAP_PID=$!
wait_for "$TMP/tcpdump.err" 'listening on' || { say "tcpdump did not start"; exit 1; }
req_t=$(load tcpdump)
cpu_t=$(cpu_of "$CAP_PID")
stop_capture
t_cap=$(awk '/packets captured/ { print $1 }' "$TMP/tcpdump.err")
t_drop=$(awk '/dropped by kernel/ { print $1 }' "$TMP/tcpdump.err")
t_ifdrop=$(awk '/dropped by interface/ { print $1 }' "$TMP/tcpdump.err")

# ---- lingerlab ---------------------------------------------------------------
ip netns exec "$NS" "$LINGERLAB" analyze -i lo -o "$TMP/report.json" "${EXTRA[@]}" "tcp port $PORT" \
	2>"$TMP/analyze.err" &
CAP_PID=$!
wait_for "$TMP/analyze.err" 'listening on' || { say "lingerlab did not start: $(cat "$TMP/analyze.err")"; exit 1; }
req_l=$(load lingerlab)
cpu_l=$(cpu_of "$CAP_PID")
stop_capture
if ! jq -e . "$TMP/report.json" >/dev/null 2>&1; then
	say "lingerlab wrote no report: $(cat "$TMP/analyze.err")"; exit 1
fi
read -r l_pk l_conn l_drop l_ifdrop < <(jq -r '[.input.packets, .summary.connections,
	(.input.kernel_dropped // "n/a"), (.input.interface_dropped // "n/a")] | @tsv' "$TMP/report.json")

f='live: %-28s %7s requests %8s packets %6s connections, kernel dropped %s, interface dropped %s, cpu %s s\n'
printf "$f" "tcpdump -i lo -w /dev/null" "${req_t:-?}" "${t_cap:-?}" "-" "${t_drop:-?}" "${t_ifdrop:--}" "$cpu_t"
printf "$f" "lingerlab analyze -i lo ${EXTRA[*]}" "${req_l:-?}" "$l_pk" "$l_conn" "$l_drop" "$l_ifdrop" "$cpu_l"
say "(a request is a whole connection of some 10 packets; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs)"
