#!/usr/bin/env bash
# target_loopback.sh - `run --target 127.0.0.1:PORT` against the reference
# target on loopback, inside a throwaway namespace (so the "host" whose
# kernel owns 127.0.0.1 is the namespace, and nothing of the real host is
# touched). Checks: without --filter-kernel-rst the run is refused (exit
# 3) and says what the option would install, changing nothing; with it,
# pipelined-404 against policy close is judged exactly as `--builtin close`
# judges it, with 0 leaked RSTs, the interface and source address in the
# report, the changes printed, and afterwards the ruleset and every net.*
# sysctl exactly as before; the negative control (--allow-kernel-rst): the
# kernel's RSTs reach the wire and the leak check fails the run; the
# filter's scope: while it is installed, a kernel socket's own RST to the
# same target still leaves (tcpdump sees it, the rule's counter does not
# count it), and the kernel never hands out a reserved port; a SIGKILLed
# run leaves its table and reserved ports, and `lingerlab lab clean`
# removes both; broadcast, multicast and unspecified targets are refused.
source tests/lib.sh
source tests/integration/target_common.bash
VALIDATE=tests/support/validate-json
SCHEMA=reports/schema/report.schema.json

if ! need_root; then
	skip "target loopback tests need root (a throwaway namespace)"
	finish
fi
if ! command -v nft >/dev/null; then
	skip "target loopback tests need nft (make deps installs nftables)"
	finish
fi

PORT=8080
tgt_ns_up tgtlo
tgt_ref_target "$NS" 127.0.0.1:$PORT close

net_snapshot >"$TEST_TMP/before.txt"
reserved_before=$(reserved_ports)

# 1. refused without the option, with what the option would install
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT -o "$TEST_TMP/refused/report.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/refused.out" 2>"$TEST_TMP/refused.err"
check_eq "without --filter-kernel-rst: exit 3" 3 $?
check "the refusal names the option and the rule it would install" \
	grep -q -- "--filter-kernel-rst drops exactly those.*nftables table ip ll[0-9]*rst.*ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport [0-9]*-[0-9]* tcp dport $PORT tcp flags & rst == rst" "$TEST_TMP/refused.err"
check_eq "the refusal changed nothing" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check "the refusal made no report directory" test ! -e "$TEST_TMP/refused"

# 2. with the filter: the same judgement as --builtin close, for every
# shipped scenario but fin-wait-2-timeout (it sets tcp_fin_timeout, a
# sysctl of the server's host that --target never touches)
shipped=(scenarios/clean-close.scn scenarios/idle-client-fin-wait-2.scn scenarios/pipelined-404.scn
         scenarios/put-unauthorized.scn scenarios/vanishing-client.scn)
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/lo/new/report.json" \
	"${shipped[@]}" >"$TEST_TMP/lo.out" 2>"$TEST_TMP/lo.err"
lo_rc=$?
R=$TEST_TMP/lo/new/report.json
"$LINGERLAB" run --builtin close -o "$TEST_TMP/builtin.json" "${shipped[@]}" \
	>"$TEST_TMP/builtin.out" 2>&1
b_rc=$?
check_eq "--target loopback exits as --builtin close does" "$b_rc" "$lo_rc"
check_eq "every scenario: same findings and expectations as --builtin close" \
	"$(judged "$TEST_TMP/builtin.json")" "$(judged "$R")"
check_jq "the server's RST before the 404 was acknowledged is flagged" "$R" \
	'.scenarios[] | select(.name == "pipelined-404") | .summary.rst_before_ack == 1 and .findings[0].sender == "server"'
check_jq "0 leaked RSTs" "$R" '.lab.leaked_rst == 0 and ([.scenarios[].summary.leaked_rst] | add) == 0'
check_jq "the report says interface lo and source 127.0.0.1" "$R" \
	'.lab.target.kind == "remote" and .lab.target.route.interface == "lo" and .lab.target.route.source == "127.0.0.1" and .lab.target.route.local == true'
check_jq "the report names the table and its rule, which dropped the kernel's RSTs" "$R" \
	'(.lab.target.route.kernel_rst_filter.table | test("^ll[0-9]+rst$")) and .lab.target.route.kernel_rst_filter.dropped > 0'
check_jq "the kernel sampler saw the server's sockets (the target is on this host)" "$R" \
	'(.lab.kernel.samples | length) > 0 and .lab.kernel.peak.FIN_WAIT_2 >= 49'
check "the report is valid against the schema" "$VALIDATE" "$SCHEMA" "$R"
check "-o into a missing directory made it (capture beside the report)" test -s "$TEST_TMP/lo/new/report.pcap"
check "it printed the table it installed and removed" \
	bash -c 'grep -q "installed nftables table ip ll[0-9]*rst" "$1" && grep -q "removed nftables table ip ll[0-9]*rst" "$1"' _ "$TEST_TMP/lo.err"
check "it printed the reserved-ports change and its undoing" \
	bash -c 'grep -q "reserved ports [0-9]*-[0-9]* (net.ipv4.ip_local_reserved_ports" "$1" && grep -q "released ports" "$1"' _ "$TEST_TMP/lo.err"
check_eq "no table left, every net.* sysctl as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "reserved ports as before" "$reserved_before" "$(reserved_ports)"
check "the capture holds only the raw client's conversation with the target" \
	bash -c '[ "$(tcpdump -nn -r "$1" "not (tcp port $2)" 2>/dev/null | wc -l)" = 0 ] && [ "$(tcpdump -nn -r "$1" 2>/dev/null | wc -l)" -gt 5 ]' _ "$TEST_TMP/lo/new/report.pcap" $PORT

# 3. negative control: no filter, the kernel's RSTs leak, the run fails on it
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT --allow-kernel-rst -o "$TEST_TMP/leak/report.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
check_eq "--allow-kernel-rst: the lab cannot vouch for the run (exit 4)" 4 $?
check_jq "--allow-kernel-rst: verdict.exit_code 4" "$TEST_TMP/leak/report.json" '.verdict.exit_code == 4'
check_jq "the leak check counted the kernel's RSTs" "$TEST_TMP/leak/report.json" '.lab.leaked_rst > 0'
check_jq "expect no leaked_rst fails" "$TEST_TMP/leak/report.json" \
	'[.scenarios[0].expectations[] | select(.line == 26) | .passed] == [false]'
check "the summary says the run is not valid" grep -q "leaked RST" "$TEST_TMP/leak.out"
check "the kernel's RSTs are on the wire, from the client's ports" \
	bash -c '[ "$(tcpdump -nn -r "$1" "src host 127.0.0.1 and dst port $2 and tcp[tcpflags] & tcp-rst != 0" 2>/dev/null | wc -l)" -gt 0 ]' _ "$TEST_TMP/leak/report.pcap" $PORT
check_eq "reserved ports as before after the negative control" "$reserved_before" "$(reserved_ports)"
check "the negative control's table had no chain (it filtered nothing)" \
	grep -q "installed nftables table ip ll[0-9]*rst without a chain (it filters nothing" "$TEST_TMP/leak.err"
check_eq "no table left after the negative control" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"

# 3b. every exit path removes the table and gives the ports back
ip netns exec "$NS" "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/int/report.json" \
	scenarios/idle-client-fin-wait-2.scn >"$TEST_TMP/int.out" 2>"$TEST_TMP/int.err" &
ipid=$!; bg_pids+=($ipid)
for ((i = 0; i < 100; i++)); do grep -q "reserved ports" "$TEST_TMP/int.err" 2>/dev/null && break; sleep 0.05; done
sleep 0.5
kill -INT "$ipid"; wait "$ipid"
check_eq "SIGINT mid-run: exit 130" 130 $?
check_eq "SIGINT mid-run: no table, sysctls as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "SIGINT mid-run: reserved ports as before" "$reserved_before" "$(reserved_ports)"
# an error after the table is in: the capture cannot be created
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -w /proc/sys/lingerlab.pcap -o "$TEST_TMP/err.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/err.out" 2>"$TEST_TMP/err.err"
err_rc=$?
check "an error after the table was installed: exit 3, naming the capture ($(head -c 100 "$TEST_TMP/err.err" | tail -1))" \
	bash -c '[ "$1" = 3 ] && grep -q "installed nftables" "$2" && grep -q "/proc/sys/lingerlab.pcap" "$2"' _ "$err_rc" "$TEST_TMP/err.err"
check_eq "... and no table left, sysctls as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "... and reserved ports as before" "$reserved_before" "$(reserved_ports)"

# 4. the filter's scope, while it is installed
cat >"$TEST_TMP/slow.scn" <<'SCN'
scenario slow
about "Holds one connection open for 3 s: time to look at the filter from outside."
connect
sleep 3s
SCN
ip netns exec "$NS" tcpdump --immediate-mode -U -nn -i lo -w "$TEST_TMP/scope.pcap" "tcp port $PORT and tcp[tcpflags] & tcp-rst != 0" \
	2>"$TEST_TMP/tcpdump.err" &
bg_pids+=($!); tcpdump_pid=$!
for ((i = 0; i < 100; i++)); do grep -q "listening on" "$TEST_TMP/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
ip netns exec "$NS" "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/slow/report.json" \
	"$TEST_TMP/slow.scn" >"$TEST_TMP/slow.out" 2>"$TEST_TMP/slow.err" &
slow_pid=$!; bg_pids+=($slow_pid)
for ((i = 0; i < 100; i++)); do in_ns nft list tables | grep -q "ll${slow_pid}rst" && break; sleep 0.05; done
sleep 0.3
table=$(in_ns nft list table ip "ll${slow_pid}rst" 2>&1)
range=$(reserved_ports)
check_eq "the table holds one chain with one rule" "1 1" \
	"$(grep -c '^\s*chain ' <<<"$table") $(grep -c 'drop$' <<<"$table")"
check "the chain hooks output only, policy accept" grep -q "type filter hook output priority filter; policy accept;" <<<"$table"
check "the rule matches source, the reserved source ports, target, target port, RST, and not the client's mark" \
	grep -Eq "ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport ${range##*,} tcp dport $PORT tcp flags & rst == rst meta mark != 0x4c4c5254 counter packets [0-9]+ bytes [0-9]+ drop" <<<"$table"
# a kernel socket's own abortive close (SO_LINGER 0: a RST) to the same target
kport=$(in_ns python3 -c '
import socket, struct
s = socket.create_connection(("127.0.0.1", '$PORT'))
port = s.getsockname()[1]
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print(port)')
lo=${range##*,}; lo=${lo%-*}; hi=${range##*-}
check "the kernel gave its own socket a port outside the reserved range ($kport not in $lo-$hi)" \
	test "$kport" -lt "$lo" -o "$kport" -gt "$hi"
dropped_before=$(in_ns nft list table ip "ll${slow_pid}rst" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
sleep 0.3
wait "$slow_pid"
kill -TERM "$tcpdump_pid" 2>/dev/null; wait "$tcpdump_pid" 2>/dev/null
check "that RST left the host: the filter did not touch it" \
	bash -c '[ "$(tcpdump -nn -r "$1" "src port $2" 2>/dev/null | wc -l)" -ge 1 ]' _ "$TEST_TMP/scope.pcap" "$kport"
check_jq "nor did the rule count it (it dropped only what the raw client's ports drew)" "$TEST_TMP/slow/report.json" \
	".lab.target.route.kernel_rst_filter.dropped == ${dropped_before:-x}"
check_eq "no table left after the scope check" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"

# 5. a SIGKILLed run leaves its table and ports; lab clean removes both
ip netns exec "$NS" "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/killed/report.json" \
	"$TEST_TMP/slow.scn" >"$TEST_TMP/killed.out" 2>"$TEST_TMP/killed.err" &
kpid=$!; bg_pids+=($kpid)
for ((i = 0; i < 100; i++)); do grep -q "reserved ports" "$TEST_TMP/killed.err" 2>/dev/null && break; sleep 0.05; done
kill -KILL "$kpid"; wait "$kpid" 2>/dev/null
check "a SIGKILLed run leaves its table" bash -c 'ip netns exec "$1" nft list tables | grep -q "ll$2rst"' _ "$NS" "$kpid"
in_ns "$LINGERLAB" lab clean >"$TEST_TMP/clean.out" 2>&1
check "lab clean removes the dead run's table and gives its ports back" \
	grep -q "removed nftables table ip ll${kpid}rst; ports [0-9]*-[0-9]* no longer reserved" "$TEST_TMP/clean.out"
check_eq "after lab clean: ruleset and sysctls as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "after lab clean: reserved ports as before" "$reserved_before" "$(reserved_ports)"

# 6. addresses that are not a server
for bad in 0.0.0.0 224.0.0.1 255.255.255.255 239.1.2.3; do
	in_ns "$LINGERLAB" run --target $bad:80 --filter-kernel-rst -o "$TEST_TMP/bad/report.json" \
		scenarios/pipelined-404.scn >/dev/null 2>"$TEST_TMP/bad.err"
	rc=$?
	check "--target $bad:80 is refused (exit 2: $(head -c 120 "$TEST_TMP/bad.err"))" \
		bash -c '[ "$1" = 2 ] && grep -Eq "unspecified|multicast|broadcast" "$2"' _ "$rc" "$TEST_TMP/bad.err"
done
in_ns "$LINGERLAB" run --target 127.0.0.1:$PORT --filter-kernel-rst -o "$TEST_TMP/fw2t/report.json" \
	scenarios/fin-wait-2-timeout.scn >/dev/null 2>"$TEST_TMP/fw2t.err"
check_eq "a scenario that sets tcp_fin_timeout is refused with --target (exit 2)" 2 $?
check "... saying that sysctl is not --target's to change" \
	grep -q "scenario fin-wait-2-timeout sets tcp_fin_timeout, a sysctl of the server's host; --target never changes it" "$TEST_TMP/fw2t.err"
check_eq "refused targets and scenarios changed nothing" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"

finish
