# target_common.bash - helpers for the `--target` tests (tests/integration/
# target_*.sh, audit_target.sh, bugbash.sh): throwaway namespaces, the
# reference target in them, what may not change, and the client-host /
# router / server topology of the remote tests. Source it after
# tests/lib.sh; sourcing it changes nothing (no trap, no namespace).
#
#   tgt_need_nft WHY        the rest of the test needs root and nft: else
#                           one SKIP line (WHY) and finish
#   tgt_ns_up NAME          the namespace NS=NAME<pid> with lo up, removed
#                           with everything in it on every exit path; on
#                           failure: not ok, finish. in_ns CMD... runs there
#   tgt_listen_wait NS PORT wait until something listens on PORT in NS
#                           (10 s); status 1 when nothing does
#   tgt_ref_target NS LISTEN POLICY
#                           start the reference target in NS on LISTEN
#                           (ADDR:PORT, [ADDR]:PORT) with POLICY, output in
#                           $TEST_TMP/target.log; wait until it listens
#   ns_state                what a --target run may not leave behind in NS:
#                           its ruleset, then its reserved ports
#   reserved_ports          NS's net.ipv4.ip_local_reserved_ports
#   net_snapshot            NS's ruleset and every net.* sysctl but the
#                           reserved ports (and those that move by themselves)
#   judged REPORT           what a report judged: per scenario its name,
#                           rst_before_ack and each expectation's line and result
#   bg_pids                 pids to stop at exit (SIGTERM, 0.3 s, SIGKILL)
#
# The remote tests (target_remote.sh over IPv4, target_remote6.sh over IPv6)
# build three hosts:
#
#   client host ($C)             router ($R)                server ($S)
#   c0 CADDR -- veth -- r0 GW    r1 RADDR2 -- veth -- s0 SADDR
#   default via GW               forwarding on              default via RADDR2
#
#   tgt_router_up PREFIX    the namespaces C=PREFIX<pid>c, R=...r, S=...s,
#                           lo and the two veth pairs up, removed at exit
#   tgt_router_family 4|6 CADDR GW RADDR2 SADDR LEN
#                           addresses (LEN bits of prefix; IPv6 without
#                           duplicate detection), default routes and
#                           forwarding for one family
# and then, with SHOST (SADDR as the host of HOST:PORT: brackets for IPv6)
# and RST_FILTER (a pcap filter for the client host's RSTs) set, run the
# checks they share, each of which ends by comparing ns_state of $C with
# $before:
#   tgt_remote_reference    pipelined-404 against the reference target on
#                           SHOST:80, judged as --builtin close judges it
#                           (leaves $J, the report, and $TEST_TMP/remote.*)
#   tgt_remote_negative_control
#                           the same with --allow-kernel-rst: the leak
#   tgt_remote_kernel_expect a kernel expectation fails, saying why
#   tgt_remote_real_servers nginx (lingering_close off, on) and Apache on
#                           SHOST, through --target

source tests/integration/servers_common.bash

bg_pids=()
tgt_netns=()

_tgt_cleanup() {
	local p n
	for p in "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	[ "${#bg_pids[@]}" -gt 0 ] && sleep 0.3
	for p in "${bg_pids[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for n in "${tgt_netns[@]}"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}

tgt_need_nft() {
	if ! need_root || ! command -v nft >/dev/null; then
		skip "$1"
		finish
	fi
}

tgt_ns_up() {
	NS=$1$$
	tgt_netns+=("$NS")
	trap _tgt_cleanup EXIT
	ip netns add "$NS" && ip -n "$NS" link set lo up || { not_ok "make namespace $NS"; finish; }
}

in_ns() { ip netns exec "$NS" "$@"; }

tgt_listen_wait() {
	local i
	for ((i = 0; i < 200; i++)); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN && return 0
		sleep 0.05
	done
	return 1
}

tgt_ref_target() {
	ip netns exec "$1" "$LINGERLAB_TARGET" --listen "$2" --policy "$3" >"$TEST_TMP/target.log" 2>&1 &
	bg_pids+=($!)
	tgt_listen_wait "$1" "${2##*:}"
}

reserved_ports() { in_ns cat /proc/sys/net/ipv4/ip_local_reserved_ports; }
ns_state() { in_ns nft list ruleset; reserved_ports; }

net_snapshot() {
	in_ns nft list ruleset
	in_ns sysctl -a 2>/dev/null | grep '^net\.' | grep -v -e ip_local_reserved_ports -e '\.stable_secret' \
		-e 'nf_conntrack_count' -e 'fib_multipath_hash_seed'
}

judged() { jq -c '[.scenarios[] | {name, rst: .summary.rst_before_ack, x: [.expectations[] | [.line, .passed]]}]' "$1"; }

# ---- the remote tests' three hosts ----------------------------------------

tgt_router_up() {
	local n
	C=$1$$c R=$1$$r S=$1$$s
	tgt_netns+=("$C" "$R" "$S")
	trap _tgt_cleanup EXIT
	for n in $C $R $S; do ip netns add $n && ip -n $n link set lo up || return 1; done
	ip link add c0 netns $C type veth peer name r0 netns $R || return 1
	ip link add r1 netns $R type veth peer name s0 netns $S || return 1
	ip -n $C link set c0 up && ip -n $R link set r0 up && ip -n $R link set r1 up && ip -n $S link set s0 up
}

tgt_router_family() {
	local f=$1 c=$2 gw=$3 r2=$4 s=$5 len=$6 nodad=
	if [ "$f" = 6 ]; then
		nodad=nodad # the addresses are usable at once (no duplicate detection wait)
		ip netns exec $R sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
	else
		ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 || return 1
	fi
	ip -n $C -$f addr add $c/$len dev c0 $nodad && ip -n $R -$f addr add $gw/$len dev r0 $nodad &&
	ip -n $R -$f addr add $r2/$len dev r1 $nodad && ip -n $S -$f addr add $s/$len dev s0 $nodad &&
	ip -n $C -$f route add default via $gw && ip -n $S -$f route add default via $r2
}

# listening PORT: wait until something listens on PORT in the server host
listening() { tgt_listen_wait $S "$1"; }

# server-side capture of the client host's RSTs (RST_FILTER)
srv_cap_start() {
	ip netns exec $S tcpdump --immediate-mode -U -nn -i s0 -w "$TEST_TMP/srv-$1.pcap" \
		"$RST_FILTER" 2>"$TEST_TMP/$1.tcpdump" &
	cap_pid=$!; bg_pids+=($cap_pid)
	local i
	for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TEST_TMP/$1.tcpdump" 2>/dev/null && break; sleep 0.05; done
}
srv_cap_stop() { sleep 0.3; kill -TERM "$cap_pid" 2>/dev/null; wait "$cap_pid" 2>/dev/null; }
count() { tcpdump -nn -r "$TEST_TMP/srv-$1.pcap" 2>/dev/null | wc -l; }

# in_c CMD...: in the client host, where lingerlab runs as on an operator's machine
in_c() { ip netns exec $C "$@"; }
c_state() { local NS=$C; ns_state; }

tgt_remote_reference() {
	local r_rc b_rc n_cleanup
	srv_cap_start filtered
	in_c "$LINGERLAB" run --target "$SHOST:80" --filter-kernel-rst -o "$TEST_TMP/remote.json" \
		scenarios/pipelined-404.scn >"$TEST_TMP/remote.out" 2>"$TEST_TMP/remote.err"
	r_rc=$?
	srv_cap_stop
	J=$TEST_TMP/remote.json
	"$LINGERLAB" run --builtin close -o "$TEST_TMP/builtin.json" scenarios/pipelined-404.scn >/dev/null 2>&1
	b_rc=$?
	check_eq "remote target: exits as --builtin close does" "$b_rc" "$r_rc"
	check_eq "remote target: same findings and expectations as --builtin close" \
		"$(judged "$TEST_TMP/builtin.json")" "$(judged "$J")"
	check_jq "remote target: the server's RST before the 404 was acknowledged is flagged" "$J" \
		'.scenarios[0].summary.rst_before_ack == 1'
	check_jq "remote target: 0 leaked RSTs" "$J" '.lab.leaked_rst == 0'
	check_jq "the report says interface c0, source $CADDR, gateway $GW, not local" "$J" \
		".lab.target.route.interface == \"c0\" and .lab.target.route.source == \"$CADDR\" and .lab.target.route.gateway == \"$GW\" and .lab.target.route.local == false"
	check_jq "no kernel samples: the server host's kernel is not ours to read" "$J" '(.lab.kernel.samples | length) == 0'
	check "the report is valid against the schema" tests/support/validate-json reports/schema/report.schema.json "$J"
	n_cleanup=$(jq '.lab.cleanup_rst_packets | length' "$J")
	check_eq "the server host saw no RST from the client host but the raw client's own ($n_cleanup clean-up)" \
		"$n_cleanup" "$(count filtered)"
	check "the run printed the interface and source in its summary" grep -q "via c0 gateway $GW from $CADDR" "$TEST_TMP/remote.out"
	check_eq "nothing left in the client host (ruleset, reserved ports)" "$before" "$(c_state)"
}

tgt_remote_negative_control() {
	local l_rc leaked
	srv_cap_start leak
	in_c "$LINGERLAB" run --target "$SHOST:80" --allow-kernel-rst -o "$TEST_TMP/leak.json" \
		scenarios/pipelined-404.scn >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
	l_rc=$?
	srv_cap_stop
	check_eq "without the filter: the lab cannot vouch for the run (exit 4)" 4 "$l_rc"
	check_jq "without the filter: the leak check counts the client host kernel's RSTs" "$TEST_TMP/leak.json" '.lab.leaked_rst > 0'
	leaked=$(jq '.lab.leaked_rst' "$TEST_TMP/leak.json")
	check_eq "without the filter: each leaked RST reached the server host" "$leaked" "$(count leak)"
	check_eq "nothing left after the negative control" "$before" "$(c_state)"
}

# kernel expectations cannot be judged from another host: they fail, saying why
tgt_remote_kernel_expect() {
	cat >"$TEST_TMP/kernel.scn" <<'SCN'
scenario kernel-view
connect
request GET /index.html close
wait closed 3s
expect kernel established peak >= 1
SCN
	in_c "$LINGERLAB" run --target "$SHOST:80" --filter-kernel-rst -o "$TEST_TMP/kernel.json" \
		"$TEST_TMP/kernel.scn" >/dev/null 2>&1
	check_eq "a kernel expectation against another host: exit 1" 1 $?
	check_jq "... it fails and says the kernel was not sampled" "$TEST_TMP/kernel.json" \
		'.scenarios[0].expectations[0].passed == false and (.scenarios[0].expectations[0].detail | test("no kernel samples"))'
}

# real_server NAME PORT COMMAND...: start it in the server host, run pipelined-404 through --target
real_server() {
	local name=$1 port=$2; shift 2
	ip netns exec $S "$@" >"$TEST_TMP/$name.log" 2>&1 &
	bg_pids+=($!)
	if ! listening "$port"; then
		not_ok "$name listens on $port in the server host"; diag "$(tail -3 "$TEST_TMP/$name.log")"
		return 1
	fi
	in_c "$LINGERLAB" run --target "$SHOST:$port" --filter-kernel-rst -o "$TEST_TMP/$name.json" \
		scenarios/pipelined-404.scn >"$TEST_TMP/$name.out" 2>&1
	diag "$name: $(grep -E '^(PASS|FAIL)' "$TEST_TMP/$name.out")"
	check_jq "$name through --target: 0 leaked RSTs, the 404 came" "$TEST_TMP/$name.json" \
		'.lab.leaked_rst == 0 and ([.scenarios[0].expectations[] | select(.line == 24) | .passed] == [true])'
}

tgt_remote_real_servers() {
	local www=$TEST_TMP/www mode
	mkdir -p "$www"
	chmod 755 "$TEST_TMP"
	printf '<html><body>lab</body></html>\n' >"$www/index.html"
	chmod -R a+rX "$www"
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
  server { listen $SHOST:$([ $mode = off ] && echo 8081 || echo 8082); root $www; }
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
		apache_conf "$TEST_TMP/apache2.conf" "$SHOST:8083" "$www" "KeepAlive On" "MaxKeepAliveRequests 1"
		if real_server apache2 8083 apache2 -f "$TEST_TMP/apache2.conf" -DFOREGROUND; then
			check_jq "Apache (MaxKeepAliveRequests 1) closes with its lingering close: no rst_before_ack" \
				"$TEST_TMP/apache2.json" '.scenarios[0].summary.rst_before_ack == 0'
		fi
	else
		skip "Apache through --target (apache2 not installed; make deps installs it)"
	fi
	check_eq "nothing left in the client host after the real servers" "$before" "$(c_state)"
}
