#!/usr/bin/env bash
# target_remote6.sh - `run --target [ADDR]:PORT` against another host over
# IPv6, through a router, in throwaway namespaces (target_remote.sh is the
# IPv4 twin):
#
#   client host (tr6<pid>c)          router (tr6<pid>r)               server (tr6<pid>s)
#   c0 fd7b:1::2/64 -- veth -- r0 fd7b:1::1  r1 fd7b:2::1 -- veth -- s0 fd7b:2::2/64
#   default via fd7b:1::1            forwarding=1                     default via fd7b:2::1
#
# The client host's kernel owns fd7b:1::2, the address the raw client speaks
# from; the raw IPv6 socket hands each segment to that kernel, which routes
# it to the gateway and resolves the gateway's link address with NDP (no
# neighbour entry is set by hand here). The server host runs real servers:
# the reference target (policy close), nginx with lingering_close off and
# on, and Apache httpd.
# Checks: pipelined-404 against the reference target is judged as
# `--builtin close` judges it, 0 leaked RSTs, the report names interface
# c0, source fd7b:1::2 and gateway fd7b:1::1, the server host saw no RST
# from the client host but the raw client's own, the ip6 table and the
# reserved ports are gone afterwards; the negative control
# (--allow-kernel-rst): the client host kernel's RSTs reach the server and
# the leak check fails the run; a prefix the client host routes as
# unreachable is refused; a first hop with MTU 1280 carries every segment.
# Then what nginx (off/on) and Apache do. Last,
# every shipped scenario and lesson is run through the same router over
# IPv4 and over IPv6 (the hosts are dual-stack) against the reference target
# with the lesson's policy: the verdicts must agree.
source tests/lib.sh
source tests/integration/target_common.bash

if ! need_root; then
	skip "remote target tests need root (throwaway namespaces)"
	finish
fi

CADDR=fd7b:1::2 GW=fd7b:1::1 SADDR=fd7b:2::2 SHOST="[fd7b:2::2]"
# IPv4 beside it, for the comparison at the end
CADDR4=10.203.1.2 SADDR4=10.203.2.2
# ip6[53]: the TCP flags byte after the 40-byte IPv6 header; tcp[] is IPv4 only
RST_FILTER="ip6 and src host $CADDR and ip6[53] & 4 != 0"
tgt_router_up tr6 && tgt_router_family 6 $CADDR $GW fd7b:2::1 $SADDR 64 &&
	tgt_router_family 4 $CADDR4 10.203.1.1 10.203.2.1 $SADDR4 24 ||
	{ not_ok "build the IPv6 client-host/router/server topology"; finish; }
check "the reference target listens in the server host" tgt_ref_target $S "$SHOST:80" close
check "the client host reaches it through the router" \
	ip netns exec $C bash -c "exec 3<>/dev/tcp/$SADDR/80 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && timeout 2 head -c 12 <&3 | grep -q HTTP/1"
before=$(c_state)

# 1. the reference target, filtered; the gateway's link address is forgotten
# first, so the run's own segments make the kernel resolve it with NDP
ip -n $C -6 neigh flush dev c0
tgt_remote_reference
# ... and what is IPv6's own in it
check_jq "the ip6 rule dropped the client host kernel's RSTs" "$J" '.lab.target.route.kernel_rst_filter.dropped > 0'
check "the client host's kernel resolved the gateway with NDP (a learned entry, not a permanent one)" \
	bash -c 'ip -n "$1" -6 neigh show "$2" dev c0 | grep -v PERMANENT | grep -q lladdr' _ $C $GW
check "it printed the ip6 table it installed and removed" \
	bash -c 'grep -q "installed nftables table ip6 ll[0-9]*rst" "$1" && grep -q "removed nftables table ip6 ll[0-9]*rst" "$1"' _ "$TEST_TMP/remote.err"
check "the capture is IPv6, only the conversation with the target" \
	bash -c '[ "$(tcpdump -nn -r "$1" "not (ip6 and tcp port 80)" 2>/dev/null | wc -l)" = 0 ] && [ "$(tcpdump -nn -r "$1" 2>/dev/null | wc -l)" -gt 5 ]' _ "$TEST_TMP/remote.pcap"

# 2. negative control: no filter
tgt_remote_negative_control

# kernel expectations cannot be judged from another host
tgt_remote_kernel_expect

# 3. a prefix the client host's kernel routes as unreachable is refused
ip -n $C -6 route add unreachable fd7b:99::/64
ip netns exec $C "$LINGERLAB" run --target "[fd7b:99::1]:80" --filter-kernel-rst -o "$TEST_TMP/unr.json" \
	scenarios/pipelined-404.scn >/dev/null 2>"$TEST_TMP/unr.err"
check_eq "--target [fd7b:99::1] (routed unreachable) is refused with exit 2" 2 $?
# (for IPv6 the kernel answers RTM_GETROUTE with EHOSTUNREACH, not a route)
check "... because the kernel has no route to it, the address in brackets" \
	grep -q -- "--target \[fd7b:99::1\]: no route: No route to host" "$TEST_TMP/unr.err"
ip -n $C -6 route del unreachable fd7b:99::/64

# 3b. a first hop with a small MTU (a tunnel, a VPN: 1280, the IPv6
# minimum): a raw socket that writes its own header is neither fragmented
# nor PMTU-adjusted by the kernel, so the raw client must size its segments
# to the interface. Over both families: the SYN announces MTU - headers
# (1220 over IPv6, 1240 over IPv4), and a 64 KiB PUT reaches the server
# in full segments without a hole (the server never SACKs: none was lost).
cat >"$TEST_TMP/upload.scn" <<'SCN'
scenario mtu-upload
about "A 64 KiB PUT the server reads whole before it answers."
timeout 10s
connect
request PUT /upload.bin length 64KiB
body 64KiB chunk 1460
wait response 5s
shutdown
wait closed 3s
expect response 1 complete
expect no leaked_rst
SCN
# a dual-stack reference target for this part (the one on port 80 is IPv6 only)
ip netns exec $S "$LINGERLAB_TARGET" --listen "[::]:8091" --policy close >"$TEST_TMP/mtu-target.log" 2>&1 &
mtu_tp=$!; bg_pids+=($mtu_tp)
check "a dual-stack reference target listens on [::]:8091" listening 8091
ip -n $C link set c0 mtu 1280 && ip -n $R link set r0 mtu 1280
for fam in 6 4; do
	if [ $fam = 6 ]; then tgt="[$SADDR]:8091" want=1220 src=$SADDR csrc=$CADDR
	else tgt=$SADDR4:8091 want=1240 src=$SADDR4 csrc=$CADDR4; fi
	ip netns exec $C "$LINGERLAB" run --target "$tgt" --filter-kernel-rst -o "$TEST_TMP/mtu$fam.json" \
		"$TEST_TMP/upload.scn" >"$TEST_TMP/mtu$fam.out" 2>&1
	check_eq "MTU 1280, IPv$fam: the upload ran, its response complete (exit 0)" 0 $?
	P=$TEST_TMP/mtu$fam.pcap
	check "MTU 1280, IPv$fam: the SYN announces MSS $want" \
		bash -c 'tcpdump -nn -r "$1" 2>/dev/null | grep "Flags \[S\]," | grep -q "mss $2,"' _ "$P" $want
	check "MTU 1280, IPv$fam: the body went out (more than 20 full segments)" \
		bash -c '[ "$(tcpdump -nn -r "$1" "src host $2" 2>/dev/null | grep -cE "length $(($3 - 12))(:|\$)")" -gt 20 ]' _ "$P" $csrc $want
	check_eq "MTU 1280, IPv$fam: the server saw no hole in it (no SACK block)" 0 \
		"$(tcpdump -nn -r "$P" "src host $src" 2>/dev/null | grep -c 'sack 1 {')"
done
ip -n $C link set c0 mtu 1500 && ip -n $R link set r0 mtu 1500
kill -TERM "$mtu_tp" 2>/dev/null; wait "$mtu_tp" 2>/dev/null

# 4. real servers in the server host, through --target
tgt_remote_real_servers

# 5. every shipped scenario and lesson, over IPv4 and IPv6 through the same
# router, against the reference target with the policy its header names
# ("# reference: lingerlab run --builtin POLICY"; close when none): exit
# status, findings and every expectation agree. (Kernel expectations fail
# on both: the server host's kernel is not sampled; scenarios that set
# tcp_fin_timeout are refused on both, exit 2, and so are those with a
# kernel-socket client, `client kernel`; they leave no report.)
tp=
differ=() compared=0
for scn in scenarios/*.scn scenarios/lessons/*.scn; do
	pol=$(sed -n 's/^# reference: lingerlab run --builtin \([a-z_-]*\).*/\1/p' "$scn" | head -1)
	pol=${pol:-close}
	if [ -n "$tp" ]; then kill -TERM "$tp" 2>/dev/null; wait "$tp" 2>/dev/null; fi
	ip netns exec $S "$LINGERLAB_TARGET" --listen "[::]:8090" --policy "$pol" >"$TEST_TMP/cmp-target.log" 2>&1 &
	tp=$!; bg_pids+=($tp)
	listening 8090 || { not_ok "the reference target (policy $pol) listens on [::]:8090"; break; }
	name=$(basename "$scn" .scn)
	# A difference must hold on a second pair of runs: some lessons race
	# by design (reset-at-close: whether body bytes were queued when the
	# server closed decides FIN-then-RST or RST alone), between two IPv4
	# runs as well.
	for try in 1 2; do
		for fam in 4 6; do
			if [ $fam = 4 ]; then tgt=$SADDR4:8090; else tgt="[$SADDR]:8090"; fi
			rm -f "$TEST_TMP/cmp$fam.json"
			ip netns exec $C "$LINGERLAB" run --target "$tgt" --filter-kernel-rst -o "$TEST_TMP/cmp$fam.json" \
				"$scn" >"$TEST_TMP/cmp$fam.out" 2>&1
			echo "rc=$? $(judged "$TEST_TMP/cmp$fam.json" 2>/dev/null) leaked=$(jq '.lab.leaked_rst' "$TEST_TMP/cmp$fam.json" 2>/dev/null)" \
				>"$TEST_TMP/cmp$fam-$name.v"
		done
		cmp -s "$TEST_TMP/cmp4-$name.v" "$TEST_TMP/cmp6-$name.v" && break
		diag "$name (policy $pol), try $try: IPv4 $(cat "$TEST_TMP/cmp4-$name.v")"
		diag "$name (policy $pol), try $try: IPv6 $(cat "$TEST_TMP/cmp6-$name.v")"
		[ $try = 2 ] && differ+=("$name")
	done
	compared=$((compared + 1))
done
check_eq "all $compared shipped scenarios and lessons: the same verdicts over IPv6 as over IPv4 through the router" \
	"" "${differ[*]}"
check_eq "... and none leaked a RST" "" \
	"$(grep -L 'leaked=\(0\|\)$' "$TEST_TMP"/cmp[46]-*.v | sed 's#.*/cmp##; s#\.v$##' | tr '\n' ' ')"
check_eq "... every one ran but those that set tcp_fin_timeout or use client kernel (refused, exit 2)" \
	"$(grep -lE '^(tcp_fin_timeout|client kernel)' scenarios/*.scn scenarios/lessons/*.scn | sed 's#.*/##; s#\.scn$##' | sort | tr '\n' ' ')" \
	"$(grep -l '^rc=2 ' "$TEST_TMP"/cmp4-*.v | sed 's#.*/cmp4-##; s#\.v$##' | sort | tr '\n' ' ')"
check_eq "nothing left in the client host after the comparison" "$before" "$(c_state)"

finish
