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
VALIDATE=tests/support/validate-json
SCHEMA=reports/schema/report.schema.json

if ! need_root; then
	skip "remote target tests need root (throwaway namespaces)"
	finish
fi

C=tr6$$c R=tr6$$r S=tr6$$s
CADDR=fd7b:1::2 GW=fd7b:1::1 SADDR=fd7b:2::2 RADDR2=fd7b:2::1
# IPv4 beside it, for the comparison at the end
CADDR4=10.203.1.2 GW4=10.203.1.1 SADDR4=10.203.2.2 RADDR24=10.203.2.1
bg_pids=()
cleanup() {
	local p n
	for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for n in $C $R $S; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

topo() {
	local n
	for n in $C $R $S; do ip netns add $n && ip -n $n link set lo up || return 1; done
	ip link add c0 netns $C type veth peer name r0 netns $R || return 1
	ip link add r1 netns $R type veth peer name s0 netns $S || return 1
	# nodad: the addresses are usable at once (no duplicate detection wait)
	ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1 &&
	ip -n $C -6 addr add $CADDR/64 dev c0 nodad && ip -n $C link set c0 up &&
	ip -n $R -6 addr add $GW/64 dev r0 nodad && ip -n $R link set r0 up &&
	ip -n $R -6 addr add $RADDR2/64 dev r1 nodad && ip -n $R link set r1 up &&
	ip -n $S -6 addr add $SADDR/64 dev s0 nodad && ip -n $S link set s0 up &&
	ip -n $C -6 route add default via $GW && ip -n $S -6 route add default via $RADDR2 &&
	ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 &&
	ip -n $C addr add $CADDR4/24 dev c0 && ip -n $R addr add $GW4/24 dev r0 &&
	ip -n $R addr add $RADDR24/24 dev r1 && ip -n $S addr add $SADDR4/24 dev s0 &&
	ip -n $C route add default via $GW4 && ip -n $S route add default via $RADDR24
}
topo || { not_ok "build the IPv6 client-host/router/server topology"; finish; }
listening() { # listening PORT: wait until something listens on PORT in the server host
	local i
	for ((i = 0; i < 200; i++)); do ip netns exec $S ss -Hltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.05; done
	return 1
}
ip netns exec $S "$LINGERLAB_TARGET" --listen "[$SADDR]:80" --policy close >"$TEST_TMP/target.log" 2>&1 &
bg_pids+=($!)
check "the reference target listens in the server host" listening 80
check "the client host reaches it through the router" \
	ip netns exec $C bash -c "exec 3<>/dev/tcp/$SADDR/80 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && timeout 2 head -c 12 <&3 | grep -q HTTP/1"

snapshot() { ip netns exec $C nft list ruleset; ip netns exec $C cat /proc/sys/net/ipv4/ip_local_reserved_ports; }
before=$(snapshot)

# server-side capture of RSTs from the client host (ip6[53]: the TCP flags
# byte after the 40-byte IPv6 header; tcp[] is IPv4 only)
srv_cap_start() {
	ip netns exec $S tcpdump --immediate-mode -U -nn -i s0 -w "$TEST_TMP/srv-$1.pcap" \
		"ip6 and src host $CADDR and ip6[53] & 4 != 0" 2>"$TEST_TMP/$1.tcpdump" &
	cap_pid=$!; bg_pids+=($cap_pid)
	for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TEST_TMP/$1.tcpdump" 2>/dev/null && break; sleep 0.05; done
}
srv_cap_stop() { sleep 0.3; kill -TERM "$cap_pid" 2>/dev/null; wait "$cap_pid" 2>/dev/null; }
count() { tcpdump -nn -r "$TEST_TMP/srv-$1.pcap" 2>/dev/null | wc -l; }

# 1. the reference target, filtered; the gateway's link address is forgotten
# first, so the run's own segments make the kernel resolve it with NDP
ip -n $C -6 neigh flush dev c0
srv_cap_start filtered
ip netns exec $C "$LINGERLAB" run --target "[$SADDR]:80" --filter-kernel-rst -o "$TEST_TMP/remote.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/remote.out" 2>"$TEST_TMP/remote.err"
r_rc=$?
srv_cap_stop
J=$TEST_TMP/remote.json
"$LINGERLAB" run --builtin close -o "$TEST_TMP/builtin.json" scenarios/pipelined-404.scn >/dev/null 2>&1
b_rc=$?
judged() { jq -c '[.scenarios[] | {name, rst: .summary.rst_before_ack, x: [.expectations[] | [.line, .passed]]}]' "$1"; }
check_eq "remote target: exits as --builtin close does" "$b_rc" "$r_rc"
check_eq "remote target: same findings and expectations as --builtin close" \
	"$(judged "$TEST_TMP/builtin.json")" "$(judged "$J")"
check_jq "remote target: the server's RST before the 404 was acknowledged is flagged" "$J" \
	'.scenarios[0].summary.rst_before_ack == 1'
check_jq "remote target: 0 leaked RSTs" "$J" '.lab.leaked_rst == 0'
check_jq "the report says interface c0, source $CADDR, gateway $GW, not local" "$J" \
	".lab.target.route.interface == \"c0\" and .lab.target.route.source == \"$CADDR\" and .lab.target.route.gateway == \"$GW\" and .lab.target.route.local == false"
check_jq "the ip6 rule dropped the client host kernel's RSTs" "$J" '.lab.target.route.kernel_rst_filter.dropped > 0'
check_jq "no kernel samples: the server host's kernel is not ours to read" "$J" '(.lab.kernel.samples | length) == 0'
check "the report is valid against the schema" "$VALIDATE" "$SCHEMA" "$J"
n_cleanup=$(jq '.lab.cleanup_rst_packets | length' "$J")
check_eq "the server host saw no RST from the client host but the raw client's own ($n_cleanup clean-up)" \
	"$n_cleanup" "$(count filtered)"
check "the client host's kernel resolved the gateway with NDP (a learned entry, not a permanent one)" \
	bash -c 'ip -n "$1" -6 neigh show "$2" dev c0 | grep -v PERMANENT | grep -q lladdr' _ $C $GW
check "the run printed the interface and source in its summary" grep -q "via c0 gateway $GW from $CADDR" "$TEST_TMP/remote.out"
check "it printed the ip6 table it installed and removed" \
	bash -c 'grep -q "installed nftables table ip6 ll[0-9]*rst" "$1" && grep -q "removed nftables table ip6 ll[0-9]*rst" "$1"' _ "$TEST_TMP/remote.err"
check "the capture is IPv6, only the conversation with the target" \
	bash -c '[ "$(tcpdump -nn -r "$1" "not (ip6 and tcp port 80)" 2>/dev/null | wc -l)" = 0 ] && [ "$(tcpdump -nn -r "$1" 2>/dev/null | wc -l)" -gt 5 ]' _ "$TEST_TMP/remote.pcap"
check_eq "nothing left in the client host (ruleset, reserved ports)" "$before" "$(snapshot)"

# 2. negative control: no filter
srv_cap_start leak
ip netns exec $C "$LINGERLAB" run --target "[$SADDR]:80" --allow-kernel-rst -o "$TEST_TMP/leak.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
l_rc=$?
srv_cap_stop
check_eq "without the filter: the lab cannot vouch for the run (exit 4)" 4 "$l_rc"
check_jq "without the filter: the leak check counts the client host kernel's RSTs" "$TEST_TMP/leak.json" '.lab.leaked_rst > 0'
leaked=$(jq '.lab.leaked_rst' "$TEST_TMP/leak.json")
check_eq "without the filter: each leaked RST reached the server host" "$leaked" "$(count leak)"
check_eq "nothing left after the negative control" "$before" "$(snapshot)"

# kernel expectations cannot be judged from another host: they fail, saying why
cat >"$TEST_TMP/kernel.scn" <<'SCN'
scenario kernel-view
connect
request GET /index.html close
wait closed 3s
expect kernel established peak >= 1
SCN
ip netns exec $C "$LINGERLAB" run --target "[$SADDR]:80" --filter-kernel-rst -o "$TEST_TMP/kernel.json" \
	"$TEST_TMP/kernel.scn" >/dev/null 2>&1
check_eq "a kernel expectation against another host: exit 1" 1 $?
check_jq "... it fails and says the kernel was not sampled" "$TEST_TMP/kernel.json" \
	'.scenarios[0].expectations[0].passed == false and (.scenarios[0].expectations[0].detail | test("no kernel samples"))'

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
www=$TEST_TMP/www
mkdir -p "$www"
chmod 755 "$TEST_TMP"
printf '<html><body>lab</body></html>\n' >"$www/index.html"
chmod -R a+rX "$www"
real_server() { # real_server NAME PORT COMMAND...: start it in the server host, run pipelined-404 through --target
	local name=$1 port=$2; shift 2
	ip netns exec $S "$@" >"$TEST_TMP/$name.log" 2>&1 &
	bg_pids+=($!)
	if ! listening "$port"; then
		not_ok "$name listens on $port in the server host"; diag "$(tail -3 "$TEST_TMP/$name.log")"
		return 1
	fi
	ip netns exec $C "$LINGERLAB" run --target "[$SADDR]:$port" --filter-kernel-rst -o "$TEST_TMP/$name.json" \
		scenarios/pipelined-404.scn >"$TEST_TMP/$name.out" 2>&1
	diag "$name: $(grep -E '^(PASS|FAIL)' "$TEST_TMP/$name.out")"
	check_jq "$name through --target: 0 leaked RSTs, the 404 came" "$TEST_TMP/$name.json" \
		'.lab.leaked_rst == 0 and ([.scenarios[0].expectations[] | select(.line == 24) | .passed] == [true])'
}
if command -v nginx >/dev/null; then
	for mode in off on; do
		cat >"$TEST_TMP/nginx-$mode.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TEST_TMP/nginx-$mode.pid;
error_log $TEST_TMP/nginx-$mode.error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/body-$mode;
  proxy_temp_path $TEST_TMP/proxy-$mode;
  fastcgi_temp_path $TEST_TMP/fastcgi-$mode;
  uwsgi_temp_path $TEST_TMP/uwsgi-$mode;
  scgi_temp_path $TEST_TMP/scgi-$mode;
  keepalive_requests 1;
  lingering_close $mode;
  server { listen [$SADDR]:$([ $mode = off ] && echo 8081 || echo 8082); root $www; }
}
CONF
	done
	if real_server nginx-off 8081 nginx -c "$TEST_TMP/nginx-off.conf"; then
		check_jq "nginx lingering_close off: resets before the 404 is acknowledged" "$TEST_TMP/nginx-off.json" \
			'.scenarios[0].summary.rst_before_ack >= 1'
	fi
	if real_server nginx-on 8082 nginx -c "$TEST_TMP/nginx-on.conf"; then
		check_jq "nginx lingering_close on: no rst_before_ack" "$TEST_TMP/nginx-on.json" \
			'.scenarios[0].summary.rst_before_ack == 0'
	fi
else
	skip "nginx through --target (nginx not installed; make deps installs nginx-light)"
fi
if command -v apache2 >/dev/null; then
	mods=/usr/lib/apache2/modules
	cat >"$TEST_TMP/apache2.conf" <<CONF
ServerRoot $TEST_TMP
ServerName lab
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
Listen [$SADDR]:8083
PidFile $TEST_TMP/apache2.pid
ErrorLog $TEST_TMP/apache2.error.log
DefaultRuntimeDir $TEST_TMP
Mutex file:$TEST_TMP default
User www-data
Group www-data
DocumentRoot $www
KeepAlive On
MaxKeepAliveRequests 1
<Directory $www>
  Require all granted
</Directory>
CONF
	if real_server apache2 8083 apache2 -f "$TEST_TMP/apache2.conf" -DFOREGROUND; then
		check_jq "Apache (MaxKeepAliveRequests 1) closes with its lingering close: no rst_before_ack" \
			"$TEST_TMP/apache2.json" '.scenarios[0].summary.rst_before_ack == 0'
	fi
else
	skip "Apache through --target (apache2 not installed; make deps installs it)"
fi
check_eq "nothing left in the client host after the real servers" "$before" "$(snapshot)"

# 5. every shipped scenario and lesson, over IPv4 and IPv6 through the same
# router, against the reference target with the policy its header names
# ("# reference: lingerlab run --builtin POLICY"; close when none): exit
# status, findings and every expectation agree. (Kernel expectations fail
# on both: the server host's kernel is not sampled; scenarios that set
# tcp_fin_timeout are refused on both, exit 2, and so is a kernel-socket
# client, `client kernel`, exit 3; they leave no report.)
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
check_eq "... every one ran but those that set tcp_fin_timeout (refused, exit 2)" \
	"$(grep -l '^tcp_fin_timeout' scenarios/*.scn scenarios/lessons/*.scn | sed 's#.*/##; s#\.scn$##' | sort | tr '\n' ' ')" \
	"$(grep -l '^rc=2 ' "$TEST_TMP"/cmp4-*.v | sed 's#.*/cmp4-##; s#\.v$##' | sort | tr '\n' ' ')"
check_eq "nothing left in the client host after the comparison" "$before" "$(snapshot)"

finish
