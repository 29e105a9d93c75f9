#!/usr/bin/env bash
# run_kernel_fw2.sh - kernel samples are ground truth in lab runs: clients
# that never send their FIN leave the server's orphaned sockets in
# FIN_WAIT_2, which expire silently after net.ipv4.tcp_fin_timeout (set to
# 1 s by the scenario, in the server namespace only). The report must end
# those intervals where the kernel showed the socket gone (kernel_timeout,
# lasting ~1 s), not at the runner's clean-up RST that the wire shows; a
# second scenario with the namespace's default (60 s) must show none, and
# the host's own sysctl is untouched. A third scenario ends with a body
# still streaming, so the runner's clean-up RST leaves client data
# unacknowledged: that client rst_before_ack is a lab artefact, listed but
# counted nowhere.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "kernel FIN_WAIT_2 timeouts and clean-up RSTs"
mapfile -t targs < <(run_target_args)

cat >"$TEST_TMP/timeout.scn" <<'SCN'
# timeout - the orphans expire after tcp_fin_timeout
scenario timeout
tcp_fin_timeout 1s
connections 4 stagger 50ms
timeout 15s
fin never
connect
request GET /index.html close
wait fin 3s
hold 2500ms
expect fin_wait_2 ending kernel_timeout count == 4
expect kernel fin_wait_2 max <= 1500ms
expect kernel fin_wait_2 count == 4
expect no fin_wait_2 ending lab_cleanup
SCN
cat >"$TEST_TMP/default.scn" <<'SCN'
# default - the namespace's tcp_fin_timeout is back to 60 s
scenario default
connections 2 stagger 50ms
timeout 15s
fin never
connect
request GET /index.html close
wait fin 3s
hold 1500ms
expect no fin_wait_2 ending kernel_timeout
expect fin_wait_2 ending lab_cleanup count == 2
SCN
cat >"$TEST_TMP/streaming.scn" <<'SCN'
# streaming - the scenario ends while the body is still on its way
scenario streaming
rtt 200ms
timeout 15s
connect
request PUT /upload.bin length 1MiB
body 1MiB rate 64KiB/s chunk 1000
sleep 300ms
expect no client rst_before_ack
expect no leaked_rst
SCN

host_before=$(cat /proc/sys/net/ipv4/tcp_fin_timeout)
rep=$TEST_TMP/kfw2.json
run_start kfw2 --builtin close "${targs[@]}" -o "$rep" \
	"$TEST_TMP/timeout.scn" "$TEST_TMP/default.scn" "$TEST_TMP/streaming.scn"
run_wait kfw2 60
check_eq "exit 0: every expectation holds" 0 "$kfw2_rc"
[ "$kfw2_rc" = 0 ] || diag "$(cat "$TEST_TMP/kfw2.out" "$TEST_TMP/kfw2.err")"
check_eq "nothing left behind" "" "$(run_leftovers "$kfw2_pid")"
check_eq "the host's tcp_fin_timeout is untouched" "$host_before" \
	"$(cat /proc/sys/net/ipv4/tcp_fin_timeout)"
check "the report matches the schema" tests/support/validate-json reports/schema/report.schema.json "$rep"

# 1. the orphans' timeout
check_jq "the scenario says what it set" "$rep" '.scenarios[0].tcp_fin_timeout == 1'
check_jq "4 server FIN_WAIT_2 intervals ended kernel_timeout" "$rep" \
	'.scenarios[0].summary.fin_wait_2_timeouts == 4 and .scenarios[0].summary.fin_wait_2_endings.kernel_timeout == 4'
check_jq "the run counts them too" "$rep" '.lab.kernel.fin_wait_2_timeouts == 4'
check_jq "each connection's socket was followed by the kernel sampler" "$rep" \
	'[.scenarios[0].kernel_fin_wait_2[] | select(.ending == "kernel_timeout")] | length == 4'
durs=$(jq -r '[.scenarios[0].kernel_fin_wait_2[].seconds | tostring] | join(" ")' "$rep")
diag "kernel FIN_WAIT_2 durations with tcp_fin_timeout 1 s: $durs"
check_jq "each lasted tcp_fin_timeout: 1 s to 1.2 s (samples every 50 ms)" "$rep" \
	'[.scenarios[0].kernel_fin_wait_2[] | select(.seconds >= 1.0 and .seconds <= 1.2)] | length == 4'
check_jq "the interval ends where the sampled socket was gone" "$rep" \
	'[.scenarios[0].kernel_fin_wait_2[] | select(.end == .gone and ((.end - .start - .seconds) | fabs) < 0.000003)] | length == 4'
check_jq "the wire ended them only later, with the runner's clean-up RST" "$rep" \
	'[.scenarios[0].kernel_fin_wait_2[] | select(.wire_ending == "client_rst" and .wire_end > .end + 1)] | length == 4'
check_jq "the longest analyzer interval is the kernel's, not the wire's" "$rep" \
	'.scenarios[0].summary.kernel_fin_wait_2_max <= 1.2'

# 2. the default timeout: the clean-up RSTs end them
check_jq "no kernel_timeout with the namespace's default tcp_fin_timeout" "$rep" \
	'.scenarios[1].tcp_fin_timeout == null and .scenarios[1].summary.fin_wait_2_timeouts == 0'
check_jq "there the runner's clean-up RSTs ended them: lab_cleanup" "$rep" \
	'.scenarios[1].summary.fin_wait_2_endings.lab_cleanup == 2 and .scenarios[1].summary.fin_wait_2_endings.client_rst == 0'
check_jq "and they count as no client abort" "$rep" \
	'.scenarios[1].summary.client_aborts == 0 and .scenarios[1].summary.cleanup_rsts == 2'

# 3. the clean-up RST with client data in flight
check_jq "the runner reset the streaming connection" "$rep" \
	'.scenarios[2].summary.cleanup_rsts == 1 and (.scenarios[2].cleanup_rst_packets | length) == 1'
check_jq "the analyzer flags that RST as a client rst_before_ack" "$rep" \
	'[.scenarios[2].findings[] | select(.sender == "client")] | length == 1'
check_jq "... and the lab labels it a lab artefact: its rst_packet is the clean-up RST" "$rep" \
	'.scenarios[2].findings[0].lab_artefact == true and .scenarios[2].findings[0].rst_packet == .scenarios[2].cleanup_rst_packets[0]'
check_jq "it counts in no scenario summary" "$rep" \
	'.scenarios[2].summary.client_rst_before_ack == 0 and .scenarios[2].summary.lab_artefacts == 1 and .scenarios[2].summary.client_aborts == 0'
check_jq "the run lists every clean-up RST" "$rep" \
	'(.lab.cleanup_rst_packets | length) == 7 and (.lab.cleanup_rst_packets | index(.[0]) == 0)'
pkt=$(jq '.scenarios[2].cleanup_rst_packets[0]' "$rep")
cap=$(jq -r '.lab.capture' "$rep")
line=$(tcpdump -r "$cap" -nn -# 2>/dev/null | awk -v n="$pkt" '$1 == n')
diag "packet $pkt: $line"
check "packet $pkt of the capture is a RST from the raw client" \
	bash -c '[[ "$1" == *"Flags [R"* && "$1" == *".3."*" > "* ]]' _ "$line"
finish
