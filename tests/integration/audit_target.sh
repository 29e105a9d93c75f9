#!/usr/bin/env bash
# audit_target.sh - `audit` takes run's --target options (issue 10: the
# options run has): against the reference target on loopback inside a
# throwaway namespace (nothing of the real host is touched), `audit
# --target 127.0.0.1:PORT --filter-kernel-rst` judges as run does (exit 1:
# close fails pipelined-404; no leaked RST) and says what it changes on the
# host under its own name; with --allow-kernel-rst the kernel's RSTs leak
# and the lab cannot vouch for the result: exit 4, in the table and the
# JUnit XML. Usage mistakes are answered as run answers them.
source tests/lib.sh
source tests/integration/target_common.bash

err=$("$LINGERLAB" audit --builtin close --filter-kernel-rst 2>&1)
check_eq "--filter-kernel-rst without --target: run's answer" \
	"lingerlab audit: --filter-kernel-rst and --allow-kernel-rst only go with --target
(lingerlab audit --help shows the usage)" "$err"
err=$("$LINGERLAB" audit --builtin close --serve-user nobody 2>&1)
check_eq "--serve-user without --serve: run's answer" "lingerlab audit: --serve-user only goes with --serve
(lingerlab audit --help shows the usage)" "$err"

err=$("$LINGERLAB" audit --builtin close --tls-version 1.3 2>&1)
check_eq "--tls-version without --tls: run's answer" "lingerlab audit: --tls-version goes with --tls
(lingerlab audit --help shows the usage)" "$err"
err=$("$LINGERLAB" audit --builtin close --tls --tls-version 1.1 2>&1)
check_eq "--tls-version 1.1: run's answer" "lingerlab audit: --tls-version: expected 1.2 or 1.3, found '1.1'
(lingerlab audit --help shows the usage)" "$err"

mkdir -p "$TEST_TMP/scn"
cp scenarios/clean-close.scn scenarios/pipelined-404.scn "$TEST_TMP/scn/"

# --tls as run has it: the reference target serves TLS on 443, the keys
# go beside the capture
if need_root; then
	"$LINGERLAB" audit --builtin close --tls --tls-version 1.3 --scenarios "$TEST_TMP/scn" \
		-o "$TEST_TMP/tls" -q 2>"$TEST_TMP/tls.err"
	check_eq "audit --tls against close: exit 1 (pipelined-404's hazard over TLS)" 1 "$?"
	check_jq "... on port 443, the hazard found through TLS" "$TEST_TMP/tls/report.json" \
		'.lab.target.port == 443 and (.scenarios[] | select(.name == "pipelined-404") | .summary.rst_before_ack) == 1'
	check "... the session keys beside the capture (NSS key log)" grep -q "^CLIENT_HANDSHAKE_TRAFFIC_SECRET " "$TEST_TMP/tls/capture.keys"
fi

tgt_need_nft "audit --target needs root and nft (a throwaway namespace)"
PORT=8080
tgt_ns_up audtg
tgt_ref_target "$NS" 127.0.0.1:$PORT close
before=$(in_ns nft list ruleset)

A=(audit --target 127.0.0.1:$PORT --scenarios "$TEST_TMP/scn")

in_ns "$LINGERLAB" "${A[@]}" --filter-kernel-rst -o "$TEST_TMP/f" >"$TEST_TMP/f.out" 2>"$TEST_TMP/f.err"
check_eq "--target --filter-kernel-rst: exit 1 (pipelined-404 fails against close)" 1 "$?"
check_jq "... judged as run judges it, nothing leaked" "$TEST_TMP/f/report.json" \
	'.lab.target.kind == "remote" and .lab.leaked_rst == 0 and .verdict.exit_code == 1
	 and ([.scenarios[] | select(.passed | not) | .name] == ["pipelined-404"])'
check "... says what it changes on the host, under audit's name" \
	grep -q "^lingerlab audit: installed nftables table" "$TEST_TMP/f.err"
check "... the failed expectation under its row" grep -q "^    line 25: expect no rst_before_ack$" "$TEST_TMP/f.out"

in_ns "$LINGERLAB" "${A[@]}" --allow-kernel-rst -o "$TEST_TMP/a" --junit "$TEST_TMP/a.xml" \
	>"$TEST_TMP/a.out" 2>"$TEST_TMP/a.err"
check_eq "--target --allow-kernel-rst: the kernel's RSTs leak, exit 4" 4 "$?"
check_jq "... verdict.exit_code 4, the leak counted" "$TEST_TMP/a/report.json" \
	'.verdict.exit_code == 4 and .lab.leaked_rst > 0'
check "... the table's verdict says the lab cannot vouch" \
	grep -q "; the lab cannot vouch for this result: [0-9]* leaked RSTs\? from the client side\.$" "$TEST_TMP/a.out"
got=$(python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); print(r.get("errors"), [t.get("name") for t in r.iter("testcase")][-1])' "$TEST_TMP/a.xml" 2>&1)
check_eq "... JUnit: one error, the 'lab' case" "1 lab" "$got"
check_eq "the namespace's ruleset as before" "$before" "$(in_ns nft list ruleset)"
finish
