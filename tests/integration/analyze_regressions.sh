#!/usr/bin/env bash
# Regressions found by fuzzing the analyzer, replayed through the CLI.
source tests/lib.sh

# A SYN that reuses a tuple still in FIN_WAIT_2 closed the old interval at
# that connection's last packet, after a later point had already been
# recorded: the FIN_WAIT_2 series went back in time.
r=$TEST_TMP/fw2.json
"$LINGERLAB" analyze -r tests/fuzz/repro/fw2-series-order.pcap -o "$r"
check_eq "reused tuple: analyze exits 0" 0 $?
check_jq "reused tuple: server FIN_WAIT_2 series is in time order" "$r" \
	'[.fin_wait_2.server.series[][0]] as $t | $t == ($t | sort)'
check_jq "reused tuple: series returns to 0 sockets" "$r" '.fin_wait_2.server.series[-1][1] == 0'
check_jq "reused tuple: peak is at least 1 with a FIN_WAIT_2 counted" "$r" \
	'.fin_wait_2.server.count == 0 or .fin_wait_2.server.peak >= 1'
if [ -x tests/support/validate-json ]; then
	check "reused tuple: report matches the schema" tests/support/validate-json reports/schema/report.schema.json "$r"
fi
finish
