#!/usr/bin/env bash
# lab_ipv6.sh - `lingerlab lab up -6`: the lab prints its IPv6 addresses
# beside the IPv4 ones, the reference target listens on [ADDR]:PORT, a
# kernel client in the client namespace (its own ::2) reaches it over IPv6
# at once (no address is tentative), the server namespace's neighbour entry
# for the raw ::3 is PERMANENT, and SIGTERM removes everything.
source tests/lib.sh
source tests/support/lab.bash
trap lab_cleanup EXIT

if ! need_root || [ ! -d /proc/sys/net/ipv6 ]; then
	skip "lab up -6 (needs root and IPv6)"
	finish
fi

if ! lab_start L -6 --builtin close; then
	not_ok "lab up -6 --builtin close: ready"
	sed 's/^/# /' "$TEST_TMP/L.err"
	finish
fi
ok "lab up -6 --builtin close: ready"
check "server_addr6 is fd6c:6c6c:XXYY::1" bash -c '[[ $0 =~ ^fd6c:6c6c:[0-9a-f]{1,4}::1$ ]]' "$L_server_addr6"
check_eq "raw_addr6 is the server's /64 with ::3" "${L_server_addr6%::1}::3" "$L_raw_addr6"
check "the IPv4 addresses stay" bash -c '[[ $0 =~ ^10\. ]]' "$L_server_addr"
check "the target listens on [ADDR]:80" grep -qF -- "--listen '[$L_server_addr6]:80'" "$TEST_TMP/L.out"
check_eq "nothing tentative in either namespace" "" \
	"$(ip -n "$L_server_ns" -6 addr show tentative; ip -n "$L_client_ns" -6 addr show tentative)"
check "the raw ::3 is a PERMANENT neighbour of the server" \
	bash -c "ip -n $L_server_ns -6 neigh show $L_raw_addr6 | grep -q PERMANENT"
got=$(in_client L timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/80" || exit 9
	printf "GET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3; head -1 <&3' "$L_server_addr6" | tr -d '\r')
check_eq "a kernel client reaches the target over IPv6 (404)" "HTTP/1.1 404 Not Found" "$got"
lab_stop L
check_eq "SIGTERM: exit 0" 0 "$L_rc"
check_eq "SIGTERM: both namespaces gone" "" \
	"$(ip netns list | awk '{print $1}' | grep -E "^ll${L_pid}[a-z]+$")"
finish
