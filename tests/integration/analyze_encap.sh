#!/usr/bin/env bash
# analyze_encap.sh - captures of tunnels and link types beyond Ethernet
# (tests/captures/encap, from tcpdump's test suite): the counts of each,
# lingerlab's TCP connections against tshark's TCP streams, unsupported
# kinds named in a report that validates against the schema; and, where
# tcpdump's whole test corpus is at hand (/work/shared/corpus), every one
# of its 830 files read with exit 0 or 2, never a crash or a hang.
source tests/lib.sh
ENC=tests/captures/encap
VALIDATE=tests/support/validate-json
SCHEMA=reports/schema/report.schema.json

# file: packets tcp_packets connections skipped unsupported (judged by hand
# with tshark -V: see the README beside them)
while read -r f want; do
	"$LINGERLAB" analyze -r "$ENC/$f" -o "$TEST_TMP/r.json" 2>"$TEST_TMP/err"
	check_eq "$f: exit 0" 0 "$?"
	check_eq "$f: packets, tcp, connections, skipped, unsupported" "$want" \
		"$(jq -r '[.input.packets, .input.tcp_packets, .summary.connections, .input.skipped, .input.unsupported] | join(" ")' "$TEST_TMP/r.json")"
	if command -v tshark >/dev/null; then
		streams=$(tshark -n -r "$ENC/$f" -Y tcp -T fields -e tcp.stream 2>/dev/null | sort -u | grep -c .)
		check_eq "$f: as many connections as tshark's TCP streams" "$streams" \
			"$(jq '.summary.connections' "$TEST_TMP/r.json")"
	else
		skip "$f: tshark not installed"
	fi
done <<'LIST'
bgp_vpn_attrset.pcap 1 1 1 0 0
geneve.pcap 39 33 1 6 0
gso-ipv4-vxlan-ipv4.pcap 1 1 1 0 0
gso-ipv6-geneve-ipv6.pcap 1 1 1 0 0
lspping-fec-ldp.pcap 13 3 2 10 0
wccp_redirect_gre.pcap 1 1 1 0 0
nflog.pcap 4 0 0 4 0
erspan-type-iii-ft-7.pcap 58 0 0 0 58
various_gre.pcap 100 0 0 80 20
LIST

# the Geneve connection: both directions (VNI 0x0a one way, 0x0b the
# other) are one connection, client 30.0.0.1 -> server 30.0.0.2:22 inside
"$LINGERLAB" analyze -r "$ENC/geneve.pcap" --connections "$TEST_TMP/c.jsonl" -o /dev/null
check_eq "geneve: the inner SSH connection, both directions" "1 22" \
	"$(jq -rs '[length, .[0].server.port] | join(" ")' "$TEST_TMP/c.jsonl" 2>/dev/null)"

# unsupported kinds are named, and the report is still valid
"$LINGERLAB" analyze -r "$ENC/various_gre.pcap" -o "$TEST_TMP/r.json"
check_eq "various_gre: the unsupported GRE protocol named" \
	'[{"what":"GRE version 0 protocol 0x8909","packets":20}]' \
	"$(jq -c '.input.unsupported_kinds' "$TEST_TMP/r.json")"
check "various_gre: report validates against the schema" \
	"$VALIDATE" "$SCHEMA" "$TEST_TMP/r.json"

# the whole corpus, if this machine has it: exit 0 (a report) or 2 (an
# unreadable file, one line naming it), nothing else, within 10 s each
CORPUS=/work/shared/corpus/tcpdump-tests
if [ -d "$CORPUS" ]; then
	bad=0 n=0
	for f in "$CORPUS"/*; do
		n=$((n + 1))
		timeout 10 "$LINGERLAB" analyze -r "$f" -o /dev/null 2>/dev/null
		rc=$?
		if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
			bad=$((bad + 1)); diag "$(basename "$f"): exit $rc"
		fi
	done
	check_eq "tcpdump corpus: all $n files exit 0 or 2" 0 "$bad"
else
	skip "tcpdump corpus not at $CORPUS"
fi
finish
