#!/usr/bin/env bash
# target_loopback6.sh - `run --target [::1]:PORT` against the reference
# target on the IPv6 loopback, inside a throwaway namespace (its kernel
# owns ::1; nothing of the real host is touched). Checks: without
# --filter-kernel-rst the run is refused (exit 3) naming the ip6 table and
# rule it would install; with it, pipelined-404 against policy close is
# judged as `--builtin close` judges it (over IPv4), with 0 leaked RSTs,
# interface lo and source ::1 in the report, an ip6 table installed and
# removed, the ruleset and every net.* sysctl as before; the negative
# control (--allow-kernel-rst): the kernel's RSTs leak and the run fails;
# `lab clean` removes an ip6 table a dead run left; an IPv6 address
# without brackets and ff02::1 are refused.
source tests/lib.sh
source tests/integration/target_common.bash
VALIDATE=tests/support/validate-json
SCHEMA=reports/schema/report.schema.json

if ! need_root; then
	skip "target loopback6 tests need root (a throwaway namespace)"
	finish
fi
if ! command -v nft >/dev/null; then
	skip "target loopback6 tests need nft (make deps installs nftables)"
	finish
fi
if [ ! -e /proc/sys/net/ipv6 ]; then
	skip "target loopback6 tests need IPv6 in the kernel"
	finish
fi

PORT=8080
tgt_ns_up tgtl6
for ((i = 0; i < 50; i++)); do ip -n "$NS" -6 addr show lo | grep -q '::1/128' && break; sleep 0.05; done
tgt_ref_target "$NS" "[::1]:$PORT" close

net_snapshot >"$TEST_TMP/before.txt"
reserved_before=$(reserved_ports)

# 1. refused without the option, naming the ip6 rule
in_ns "$LINGERLAB" run --target "[::1]:$PORT" -o "$TEST_TMP/refused/report.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/refused.out" 2>"$TEST_TMP/refused.err"
check_eq "without --filter-kernel-rst: exit 3" 3 $?
check "the refusal names the ip6 table and rule it would install" \
	grep -q -- "--target \[::1\]:$PORT: .*nftables table ip6 ll[0-9]*rst.*ip6 saddr ::1 ip6 daddr ::1 tcp sport [0-9]*-[0-9]* tcp dport $PORT tcp flags & rst == rst" "$TEST_TMP/refused.err"
check_eq "the refusal changed nothing" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"

# 2. with the filter: as --builtin close judges it
in_ns "$LINGERLAB" run --target "[::1]:$PORT" --filter-kernel-rst -o "$TEST_TMP/lo/report.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/lo.out" 2>"$TEST_TMP/lo.err"
lo_rc=$?
R=$TEST_TMP/lo/report.json
"$LINGERLAB" run --builtin close -o "$TEST_TMP/builtin.json" scenarios/pipelined-404.scn \
	>"$TEST_TMP/builtin.out" 2>&1
b_rc=$?
check_eq "--target [::1] exits as --builtin close does" "$b_rc" "$lo_rc"
check_eq "same findings and expectations as --builtin close" \
	"$(judged "$TEST_TMP/builtin.json")" "$(judged "$R")"
check_jq "the server's RST before the 404 was acknowledged is flagged" "$R" \
	'.scenarios[] | select(.name == "pipelined-404") | .summary.rst_before_ack == 1'
check_jq "0 leaked RSTs" "$R" '.lab.leaked_rst == 0 and ([.scenarios[].summary.leaked_rst] | add) == 0'
check_jq "the report says interface lo and source ::1" "$R" \
	'.lab.target.route.interface == "lo" and .lab.target.route.source == "::1" and .lab.target.route.local == true'
check_jq "the ip6 rule dropped the kernel's RSTs" "$R" '.lab.target.route.kernel_rst_filter.dropped > 0'
check "the report is valid against the schema" "$VALIDATE" "$SCHEMA" "$R"
check "it printed the ip6 table it installed and removed" \
	bash -c 'grep -q "installed nftables table ip6 ll[0-9]*rst" "$1" && grep -q "removed nftables table ip6 ll[0-9]*rst" "$1"' _ "$TEST_TMP/lo.err"
check_eq "no table left, every net.* sysctl as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "reserved ports as before" "$reserved_before" "$(reserved_ports)"
check "the capture is IPv6, only the conversation with the target" \
	bash -c '[ "$(tcpdump -nn -r "$1" "not (ip6 and tcp port $2)" 2>/dev/null | wc -l)" = 0 ] && [ "$(tcpdump -nn -r "$1" 2>/dev/null | wc -l)" -gt 5 ]' _ "$TEST_TMP/lo/report.pcap" $PORT

# 3. negative control: no filter, the kernel's RSTs leak, the run fails on it
in_ns "$LINGERLAB" run --target "[::1]:$PORT" --allow-kernel-rst -o "$TEST_TMP/leak/report.json" \
	scenarios/pipelined-404.scn >"$TEST_TMP/leak.out" 2>"$TEST_TMP/leak.err"
check_eq "--allow-kernel-rst: exit 4" 4 $?
check_jq "the leak check counted the kernel's RSTs" "$TEST_TMP/leak/report.json" '.lab.leaked_rst > 0'
# ip6[53]: the TCP flags byte (40-byte IPv6 header + 13; tcp[] is IPv4 only)
check "the kernel's RSTs are on the wire" \
	bash -c '[ "$(tcpdump -nn -r "$1" "ip6 and src host ::1 and tcp dst port $2 and ip6[53] & 4 != 0" 2>/dev/null | wc -l)" -gt 0 ]' _ "$TEST_TMP/leak/report.pcap" $PORT
check_eq "no table left after the negative control" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"

# 4. a SIGKILLed run leaves its ip6 table and ports; lab clean removes both
cat >"$TEST_TMP/slow.scn" <<'SCN'
scenario slow
about "Holds one connection open for 3 s."
connect
sleep 3s
SCN
# ip netns exec itself (not in_ns, a function: $! would be a subshell's)
ip netns exec "$NS" "$LINGERLAB" run --target "[::1]:$PORT" --filter-kernel-rst -o "$TEST_TMP/slow/report.json" \
	"$TEST_TMP/slow.scn" >"$TEST_TMP/slow.out" 2>"$TEST_TMP/slow.err" &
slow_pid=$!; bg_pids+=($slow_pid)
for ((i = 0; i < 100; i++)); do grep -q "reserved ports" "$TEST_TMP/slow.err" 2>/dev/null && break; sleep 0.05; done
kill -KILL "$slow_pid"; wait "$slow_pid" 2>/dev/null
check "SIGKILL: the ip6 table is left" bash -c 'ip netns exec "$1" nft list tables | grep -q "table ip6 ll$2rst"' _ "$NS" "$slow_pid"
in_ns "$LINGERLAB" lab clean >"$TEST_TMP/clean.out" 2>&1
check "lab clean removed the ip6 table and gave the ports back" \
	grep -q "removed nftables table ip6 ll${slow_pid}rst; ports [0-9]*-[0-9]* no longer reserved" "$TEST_TMP/clean.out"
check_eq "after lab clean: ruleset and sysctls as before" "$(cat "$TEST_TMP/before.txt")" "$(net_snapshot)"
check_eq "after lab clean: reserved ports as before" "$reserved_before" "$(reserved_ports)"

# 5. refusals
in_ns "$LINGERLAB" run --target "[ff02::1]:$PORT" --filter-kernel-rst scenarios/pipelined-404.scn \
	>/dev/null 2>"$TEST_TMP/mc.err"
check "a multicast IPv6 target is refused" grep -q "ff02::1.*multicast" "$TEST_TMP/mc.err"
in_ns "$LINGERLAB" run --target "::1:$PORT" --filter-kernel-rst scenarios/pipelined-404.scn \
	>/dev/null 2>"$TEST_TMP/nb.err"
check "an IPv6 address without brackets is refused" grep -q "IPv6 addresses go in brackets" "$TEST_TMP/nb.err"
finish
