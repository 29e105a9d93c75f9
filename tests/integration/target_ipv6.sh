#!/usr/bin/env bash
# target_ipv6.sh - lingerlab-target over IPv6 on loopback: --listen
# '[::1]:PORT' answers (404 for a missing page), says where it listens as
# [ADDR]:PORT on the ready fd and on stdout, logs its peers as
# [ADDR]:PORT; '[::]:PORT' also takes an IPv4 client (a dual-stack socket,
# net.ipv6.bindv6only permitting); a bad --listen is refused.
source tests/lib.sh

if [ ! -e /proc/sys/net/ipv6 ] || ! ip -6 addr show lo 2>/dev/null | grep -q '::1/128'; then
	skip "target over IPv6 (no ::1 on this host's loopback)"
	finish
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TEST_TMP"; }
trap cleanup EXIT

# start NAME LISTEN: the target on LISTEN with --ready-fd 3 (into NAME.ready);
# waits for the ready line.
start() {
	local name=$1 listen=$2 i
	"$LINGERLAB_TARGET" --listen "$listen" --policy close -v --ready-fd 3 \
		3>"$TEST_TMP/$name.ready" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do
		[ -s "$TEST_TMP/$name.ready" ] && return 0
		sleep 0.05
	done
	return 1
}
# get HOST PORT PATH: one request over bash /dev/tcp; prints the status line
get() {
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 9
		printf "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" "$2" >&3; head -1 <&3' \
		"$1" "$2" "$3" 2>/dev/null | tr -d '\r'
}

# a free port: another program on this host may hold the one drawn
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	ss -Htln "( sport = :$port or sport = :$((port + 1)) )" 2>/dev/null | grep -q . || break
done
if start v6 "[::1]:$port"; then
	ok "listens on [::1]:$port"
	check_eq "ready fd: listening [::1]:PORT" "listening [::1]:$port" "$(cat "$TEST_TMP/v6.ready")"
	check "stdout: listening on [::1]:PORT" grep -q "listening on \[::1\]:$port," "$TEST_TMP/v6.out"
	check_eq "a GET over IPv6 is answered 404" "HTTP/1.1 404 Not Found" "$(get ::1 "$port" /not_here.html)"
	sleep 0.2
	check "its log names the peer as [::1]:PORT" grep -qE "accepted from \[::1\]:[0-9]+" "$TEST_TMP/v6.err"
else
	not_ok "listens on [::1]:$port"; diag "$(cat "$TEST_TMP/v6.err")"
fi

port2=$((port + 1))
if [ "$(cat /proc/sys/net/ipv6/bindv6only 2>/dev/null)" = 0 ] && start any "[::]:$port2"; then
	check_eq "[::]: an IPv4 client is answered too" "HTTP/1.1 200 OK" "$(get 127.0.0.1 "$port2" /)"
	sleep 0.2
	check "[::]: the IPv4 peer logged as [::ffff:127.0.0.1]:PORT" \
		grep -qE "accepted from \[::ffff:127\.0\.0\.1\]:[0-9]+" "$TEST_TMP/any.err"
else
	skip "[::] dual stack (net.ipv6.bindv6only is not 0)"
fi

"$LINGERLAB_TARGET" --listen "[::1]$port" >/dev/null 2>"$TEST_TMP/bad.err"
check_eq "--listen '[::1]PORT' (no colon): exit 2" 2 "$?"
"$LINGERLAB_TARGET" --listen "[10.0.0.1]:$port" >/dev/null 2>"$TEST_TMP/bad.err"
check_eq "--listen '[10.0.0.1]:PORT' (IPv4 in brackets): exit 2" 2 "$?"
finish
