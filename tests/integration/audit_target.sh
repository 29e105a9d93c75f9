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

if ! need_root || ! command -v nft >/dev/null; then
	skip "audit --target needs root and nft (a throwaway namespace)"
	finish
fi
NS=audtg$$
PORT=8080
tpid=""
cleanup() {
	[ -n "$tpid" ] && kill -KILL "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
ip netns add "$NS" && ip -n "$NS" link set lo up || { not_ok "make namespace $NS"; finish; }
in_ns "$LINGERLAB_TARGET" --listen 127.0.0.1:$PORT --policy close >"$TEST_TMP/target.log" 2>&1 &
tpid=$!
for ((i = 0; i < 100; i++)); do in_ns ss -Hltn "sport = :$PORT" | grep -q LISTEN && break; sleep 0.05; done
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
