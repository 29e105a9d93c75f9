#!/usr/bin/env bash
# run_ipv6.sh - every shipped scenario gives the same verdicts over IPv6
# (`run -6`) as over IPv4 against the reference target, under each close
# policy: which scenarios pass, which expectation lines hold, the findings
# (type, sender), lingering and FIN_WAIT_2 counts and
# endings, what the client received. Timings and byte counts are not
# compared (the Host header and so the 404 page are longer over IPv6).
# Also: the IPv6 run's capture holds only IPv6 TCP, nothing leaks, the
# kernel sampler follows the IPv6 FIN_WAIT_2 sockets one by one (and a
# dual-stack server's IPv4-mapped ones), every
# place that prints the target puts the address in brackets before its
# port, and nothing is left behind.
#
# The client_impact grades (reset_before_ack / reset_after_ack / no_reset)
# are compared only as how many server RSTs were graded: a grade is the
# order, at the client, of the server's RST and the client's ACK of the
# response, a race the emulated RTT usually settles but load does not
# always: two IPv4 runs already disagree (under `abort`,
# idle-client-fin-wait-2 graded reset_before_ack 31, 44 and 50 of 50 in
# three runs; under `close`, one scenario's single RST flipped between
# before and after during a `make test` on the shared 2-core machine).
# The verdicts agree either way. A finding's cause is left out for the
# same reason: under `close`, whether the server's kernel sent FIN and then
# RST for the pipelined data (data_after_fin) or RST at once (abort)
# depends on whether that data arrived before the server's close(); one
# `make test` saw the two families differ there.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run -6 against the reference target"
if [ ! -d /proc/sys/net/ipv6 ]; then
	skip "run -6 (this kernel has no IPv6)"
	exit 0
fi

schema=reports/schema/report.schema.json
mapfile -t targs < <(run_target_args)
# the raw client's scenarios (kernel clients and programs speak IPv4 only:
# -6 refuses them, checked below)
mapfile -t scns < <(grep -L '^client ' scenarios/*.scn)

# The verdicts and findings of a lab report, per scenario, in a form two
# runs can be compared by (jq; $grades false keeps of the client_impact
# grades only how many RSTs were graded).
read -r -d '' SIG <<'EOF'
(.findings // []) as $all |
def grade: if $grades then . elif type == "object" then (to_entries | map(.value) | add)
           else null end;
{
  exit_code: .verdict.exit_code,
  hazard: .verdict.hazard,
  leaked_rst: .lab.leaked_rst,
  scenarios: [.scenarios[] | .connections as $conns | {
    name, passed,
    expectations: [.expectations[] | {line, passed}],
    rst_before_ack: .summary.rst_before_ack,
    at_risk: (.summary.bytes_at_risk > 0),
    client_rst_before_ack: .summary.client_rst_before_ack,
    client_impact: (.summary.client_impact | grade),
    lingered: .summary.lingered,
    linger_ended_by: .summary.linger_ended_by,
    fin_wait_2_count: .summary.fin_wait_2_count,
    fin_wait_2_endings: .summary.fin_wait_2_endings,
    cleanup_rsts: .summary.cleanup_rsts,
    client_aborts: .summary.client_aborts,
    leaked_rst: .summary.leaked_rst,
    timed_out: .summary.timed_out,
    reset_seen: .client.reset_seen,
    responses: [.client.responses[] | {connection: (.connection as $c | $conns | index($c)),
                                        index, status, complete}],
    findings: ([.findings[] | {sender, impact: (.impact | grade), lab_artefact}] | sort),
    causes: ([$all[] | select(.connection as $c | $conns | index($c) != null)
              | {type, sender, client_impact: (.client_impact | grade)}] | sort)
  }]
}
EOF

for policy in close linger abort never; do
	grades=false
	r4=$TEST_TMP/$policy-4.json r6=$TEST_TMP/$policy-6.json
	# both families at once: two labs, names carrying their own pids
	run_start "v4$policy" --builtin "$policy" "${targs[@]}" -o "$r4" "${scns[@]}"
	run_start "v6$policy" -6 --builtin "$policy" "${targs[@]}" -o "$r6" "${scns[@]}"
	run_wait "v4$policy" 150
	run_wait "v6$policy" 150
	pv4=v4${policy}_pid pv6=v6${policy}_pid rv4=v4${policy}_rc rv6=v6${policy}_rc
	check_eq "$policy: nothing left behind by either run" "" \
		"$(run_leftovers "${!pv4}")$(run_leftovers "${!pv6}")"
	check_eq "$policy: same exit status over IPv6 as over IPv4" "${!rv4}" "${!rv6}"
	if [ ! -s "$r4" ] || [ ! -s "$r6" ]; then
		not_ok "$policy: both reports written"; continue
	fi
	sig=$SIG
	# under abort the server resets each connection the moment it is
	# done: how many of 50 idle clients had ACKed first is a race even
	# between two IPv4 runs (35 vs 39 seen); the verdicts still agree
	[ "$policy" = abort ] && sig='{exit_code: .verdict.exit_code, scenarios: [.scenarios[] | {name, passed, expectations: [.expectations[] | {line, passed}]}]}'
	s4=$(jq --argjson grades "$grades" "$sig" "$r4")
	s6=$(jq --argjson grades "$grades" "$sig" "$r6")
	if [ -n "$s4" ] && [ "$s4" = "$s6" ]; then
		ok "$policy: every scenario's verdict and findings agree between IPv4 and IPv6"
	else
		not_ok "$policy: every scenario's verdict and findings agree between IPv4 and IPv6"
		diff <(echo "$s4") <(echo "$s6") | head -30 | sed 's/^/# /'
	fi
	check_jq "$policy: IPv6: $(echo "${scns[@]}" | wc -w) scenarios judged" "$r6" \
		"(.scenarios | length) == $(echo "${scns[@]}" | wc -w)"
	check_jq "$policy: IPv6: no leaked RST" "$r6" '.lab.leaked_rst == 0'
	check_jq "$policy: IPv6: the target's address is the lab's unique local one" "$r6" \
		'.lab.target.address | test("^fd6c:6c6c:[0-9a-f]{1,4}::1$")'
	check_jq "$policy: IPv6: the target listened on [ADDR]:80" "$r6" \
		'.lab.target.command | test("--listen .?\\[fd6c:6c6c:[0-9a-f]{1,4}::1\\]:80")'
	if [ -x tests/support/validate-json ]; then
		check "$policy: IPv6 report matches the schema" tests/support/validate-json "$schema" "$r6"
	fi
	cap=${r6%.json}.pcap
	frames=$(tcpdump -nr "$cap" 2>/dev/null | wc -l)
	other=$(tcpdump -nr "$cap" 'not (ip6 and tcp)' 2>/dev/null | wc -l)
	check "$policy: IPv6 capture: $frames frames, all IPv6 TCP" test "$frames" -gt 0 -a "$other" -eq 0
done

# The kernel sampler over IPv6: the idle clients' server sockets are seen in
# FIN_WAIT_2 by the kernel and followed one by one (peer = the raw ::3).
r6=$TEST_TMP/close-6.json
check_jq "IPv6: kernel sampler: 50 idle clients' sockets in FIN_WAIT_2, each followed" "$r6" \
	'.scenarios[] | select(.name == "idle-client-fin-wait-2") | .summary
	 | .kernel_peak.FIN_WAIT_2 >= 49 and .kernel_fin_wait_2_count >= 49'
check_jq "IPv6: kernel sampler: the orphans' timeouts seen (kernel_timeout endings)" "$r6" \
	'.scenarios[] | select(.name == "fin-wait-2-timeout") | .summary.fin_wait_2_endings.kernel_timeout >= 1'

# the requests name the target as an HTTP Host: an IPv6 literal in brackets
check "IPv6: requests carry 'Host: [fd6c:...::1]' (RFC 3986 IP-literal)" \
	bash -c "tcpdump -A -nr '${r6%.json}.pcap' 2>/dev/null | tr -d '\r' | grep -qE '^Host: \[fd6c:6c6c:[0-9a-f]+::1\]\$'"

# An IPv4 lab with a dual-stack server ([::]:80, as nginx and Apache often
# listen): the kernel shows its sockets as AF_INET6 with the raw client's
# address mapped (::ffff:10.X.Y.3); the runner still follows each one
# (before the address type it followed none: kernel_fin_wait_2_count 0).
run_start dual --serve "exec $LINGERLAB_TARGET --listen [::]:80 --policy linger --linger-timeout $run_marker" \
	--port 80 -o "$TEST_TMP/dual.json" scenarios/idle-client-fin-wait-2.scn
run_wait dual 60
check_jq "IPv4 lab, dual-stack server: each idle client's FIN_WAIT_2 socket followed in the kernel" \
	"$TEST_TMP/dual.json" '.scenarios[0].summary | .kernel_fin_wait_2_count >= 49 and .fin_wait_2_count == 50'

# Where the target is printed, an IPv6 address is bracketed before its port.
out=$(grep -o 'at \[fd6c:6c6c:[0-9a-f]*::1\]:80' "$TEST_TMP/v6close.out" | head -1)
check "run's summary: 'at [fd6c:...::1]:80'" test -n "$out"
"$LINGERLAB" explain "$r6" >"$TEST_TMP/explain.txt" 2>&1
check "explain: endpoints as [fd6c:...::3]:PORT" grep -qE '\[fd6c:6c6c:[0-9a-f]+::3\]:[0-9]+' "$TEST_TMP/explain.txt"
check "explain: no unbracketed IPv6 endpoint" \
	bash -c "! grep -qE '(^|[^[:alnum:]:\\[])fd6c:6c6c:[0-9a-f]+::[0-9]+:[0-9]+' '$TEST_TMP/explain.txt'"
"$LINGERLAB" render "$r6" -o "$TEST_TMP/r6.html" >/dev/null 2>&1
check "render: the target as [fd6c:...::1]:80" grep -qE 'at <code>\[fd6c:6c6c:[0-9a-f]+::1\]:80</code>' "$TEST_TMP/r6.html"

# -6 is for the lab's own addresses
"$LINGERLAB" run -6 --target 10.0.0.1:80 scenarios/clean-close.scn >"$TEST_TMP/t.out" 2>"$TEST_TMP/t.err"
rc=$?
check_eq "-6 with --target: exit 2" 2 "$rc"
check "-6 with --target: says -6 goes with --builtin or --serve" grep -q -- "-6 goes with --builtin or --serve" "$TEST_TMP/t.err"
# audit -6: one scenario, the table's header brackets the address
mkdir -p "$TEST_TMP/one"
cp scenarios/clean-close.scn "$TEST_TMP/one/"
"$LINGERLAB" audit -6 --builtin linger "${targs[@]}" --scenarios "$TEST_TMP/one" -o "$TEST_TMP/aud" \
	--color=never >"$TEST_TMP/aud.out" 2>&1
check_eq "audit -6: exit 0" 0 "$?"
check "audit -6: 'audit of the reference target ... at [fd6c:...::1]:80'" \
	grep -qE 'at \[fd6c:6c6c:[0-9a-f]+::1\]:80$' "$TEST_TMP/aud.out"
check_jq "audit -6: the report's target is IPv6" "$TEST_TMP/aud/report.json" '.lab.target.address | test("^fd6c:")'
"$LINGERLAB" audit -6 --target 10.0.0.1:80 >"$TEST_TMP/aud2.out" 2>&1
check_eq "audit -6 --target: exit 2" 2 "$?"

# a --serve target that listens over IPv4 only cannot serve an IPv6 lab:
# the launcher waits for an IPv6 listener and then says what is wrong
if command -v python3 >/dev/null; then
	run_start v4only -6 --serve 'exec python3 -m http.server 8080 --bind 0.0.0.0' --port 8080 \
		-o "$TEST_TMP/v4only.json" scenarios/clean-close.scn
	run_wait v4only 60
	check_eq "-6 --serve with an IPv4-only listener: exit 3" 3 "$v4only_rc"
	check "-6 --serve with an IPv4-only listener: says it listens over IPv4 only" \
		grep -q "listens on port 8080 in ll${v4only_pid}s over IPv4 only; with -6 it must listen on IPv6" \
		"$TEST_TMP/v4only.err"
	check_eq "-6 --serve with an IPv4-only listener: nothing left behind" "" "$(run_leftovers "$v4only_pid")"
fi
out=$("$LINGERLAB" run -6 --builtin close -q -o "$TEST_TMP/k6.json" scenarios/put-unauthorized-kernel.scn 2>&1); rc=$?
check_eq "-6 with a 'client kernel' scenario: exit 2" 2 "$rc"
check "-6 with a 'client kernel' scenario: says kernel clients speak IPv4" grep -q 'IPv4 only' <<<"$out"
finish
