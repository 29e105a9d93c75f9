#!/usr/bin/env bash
# run_fin_wait_2.sh - many idle clients ACK the server's FIN and never send
# theirs: the FIN_WAIT_2 peak the analyzer infers from the capture must
# equal the peak the kernel's own socket table showed (sampled every 50 ms
# through NETLINK_SOCK_DIAG), within one, and both must reach N-1.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "fin_wait_2 analyzer vs kernel"

n=120
scn=$TEST_TMP/idle-$n.scn
# the shipped scenario with N clients instead of 50
sed -e "s/^connections 50 stagger 2ms/connections $n stagger 1ms/" \
    -e "s/>= 49/>= $((n - 1))/" scenarios/idle-client-fin-wait-2.scn >"$scn"
check "the variant has $n clients" grep -q "^connections $n " "$scn"

mapfile -t targs < <(run_target_args)
rep=$TEST_TMP/fw2.json
run_start fw2 --builtin close "${targs[@]}" -o "$rep" "$scn"
run_wait fw2 90
check_eq "exit 0: every expectation holds" 0 "$fw2_rc"
check_eq "nothing left behind" "" "$(run_leftovers "$fw2_pid")"
check_jq "all $n connections were driven and found in the capture" "$rep" \
	".scenarios[0].connections | length == $n"
check_jq "every client got its response" "$rep" \
	"[.scenarios[0].client.responses[] | select(.status == 200 and .complete)] | length == $n"
a=$(jq '.scenarios[0].summary.fin_wait_2_peak' "$rep")
k=$(jq '.scenarios[0].summary.kernel_peak.FIN_WAIT_2' "$rep")
diag "analyzer fin_wait_2 peak $a, kernel sampled peak $k"
check "analyzer peak ($a) = kernel peak ($k) within 1" test $(( a > k ? a - k : k - a )) -le 1
check "analyzer peak >= $((n - 1))" test "$a" -ge $((n - 1))
check "kernel peak >= $((n - 1))" test "$k" -ge $((n - 1))
check_jq "the run-wide kernel series shows the same peak" "$rep" ".lab.kernel.peak.FIN_WAIT_2 >= $((n - 1))"
check_jq "the analyzer's own fin_wait_2 summary agrees" "$rep" ".fin_wait_2.server.peak == $a"
finish
