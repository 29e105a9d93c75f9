#!/usr/bin/env bash
# analyze_retention.sh - the retention cap (10,000 kept findings) limits
# what the report lists, never what its verdict counts: a generated capture
# of 10,050 connections, each reset by the server behind 100 unacknowledged
# response bytes (the last behind 1400), is said as 10,050 resets with up
# to 1400 bytes, and the verdict says how many are listed.
source tests/lib.sh
N=10050
t0=$(date +%s%N)
tests/support/mkmanyrst "$N" "$TEST_TMP/many.pcap" || { not_ok "mkmanyrst wrote the capture"; finish; }
"$LINGERLAB" analyze -r "$TEST_TMP/many.pcap" -o "$TEST_TMP/many.json" 2>"$TEST_TMP/err"
check_eq "analyze exits 0" 0 "$?"
diag "generate + analyze: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# one pass of jq over the large report; the checks read the small extract
jq '{summary, n_findings: (.findings | length), verdict}' "$TEST_TMP/many.json" >"$TEST_TMP/sum.json"
check_jq "summary: every connection counted, 10,000 findings listed, 50 not" "$TEST_TMP/sum.json" \
	'.summary.connections == '$N' and .summary.rst_before_ack == '$N'
	 and .summary.rst_before_ack_server == '$N' and .summary.not_retained == 50
	 and .n_findings == 10000'
check_eq "verdict: the totals, and how many are listed" \
	"$N rst_before_ack: the server reset $N connections with up to 1400 response bytes unacknowledged; at the client: $N reset before it acknowledged the response (reset_before_ack); the report lists the first 10000 findings (findings[]); 50 more flagged connections are counted above but not listed (summary.not_retained)" \
	"$(jq -r .verdict.text "$TEST_TMP/sum.json")"

# below the cap nothing is said about it
tests/support/mkmanyrst 3 "$TEST_TMP/few.pcap"
"$LINGERLAB" analyze -r "$TEST_TMP/few.pcap" -o "$TEST_TMP/few.json"
check_eq "below the cap: the verdict has no retention clause" \
	"3 rst_before_ack: the server reset 3 connections with up to 1400 response bytes unacknowledged; at the client: 3 reset before it acknowledged the response (reset_before_ack)" \
	"$(jq -r .verdict.text "$TEST_TMP/few.json")"
finish
