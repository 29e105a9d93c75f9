#!/usr/bin/env bash
# target_remote.sh - `run --target ADDR:PORT` against another host, built
# from throwaway namespaces since CI reaches no other host:
#
#   client host (tr<pid>c)          router (tr<pid>r)             server (tr<pid>s)
#   c0 10.201.1.2/24 -- veth -- r0 10.201.1.1  r1 10.201.2.1 -- veth -- s0 10.201.2.2/24
#   default via 10.201.1.1          ip_forward=1                  default via 10.201.2.1
#
# The client host's kernel owns 10.201.1.2, the address the raw client
# speaks from; lingerlab runs there (`ip netns exec`) exactly as on an
# operator's machine, and its packets are routed through the router. The
# server host runs real servers: the reference target (policy close),
# nginx with lingering_close off and on, and Apache httpd.
# Checks: pipelined-404 against the reference target is judged as
# `--builtin close` judges it, 0 leaked RSTs, the report names interface
# c0, source 10.201.1.2 and gateway 10.201.1.1, the server host saw no RST
# from the client host but the raw client's own, nothing is left in the
# client host afterwards; the negative control (--allow-kernel-rst): the
# client host kernel's RSTs reach the server and the leak check fails the
# run; a subnet's directed broadcast is refused. Then what nginx (off/on)
# and Apache do through --target.
source tests/lib.sh
source tests/integration/target_common.bash

if ! need_root; then
	skip "remote target tests need root (throwaway namespaces)"
	finish
fi

CADDR=10.201.1.2 GW=10.201.1.1 SADDR=10.201.2.2 SHOST=10.201.2.2
RST_FILTER="src host $CADDR and tcp[tcpflags] & tcp-rst != 0"
tgt_router_up tr && tgt_router_family 4 $CADDR $GW 10.201.2.1 $SADDR 24 ||
	{ not_ok "build the client-host/router/server topology"; finish; }
check "the reference target listens in the server host" tgt_ref_target $S $SADDR:80 close
check "the client host reaches it through the router" \
	ip netns exec $C bash -c "exec 3<>/dev/tcp/$SADDR/80 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && timeout 2 head -c 12 <&3 | grep -q HTTP/1"
before=$(c_state)

# 1. the reference target, filtered
tgt_remote_reference

# 2. negative control: no filter
tgt_remote_negative_control

# kernel expectations cannot be judged from another host
tgt_remote_kernel_expect

# 3. a directed broadcast is refused by what the kernel's route says
ip netns exec $C "$LINGERLAB" run --target 10.201.1.255:80 --filter-kernel-rst -o "$TEST_TMP/bc.json" \
	scenarios/pipelined-404.scn >/dev/null 2>"$TEST_TMP/bc.err"
check_eq "--target 10.201.1.255 (the link's broadcast) is refused with exit 2" 2 $?
check "... because the kernel routes it as broadcast" grep -q "routes it as a broadcast address" "$TEST_TMP/bc.err"

# 4. real servers in the server host, through --target
tgt_remote_real_servers

finish
