#!/usr/bin/env bash
# analyze_inputs.sh - what `analyze -r` reads: several files merged by
# timestamp as mergecap merges them (a rotating set given file by file or
# as a quoted pattern, two link types at once, ties in file order), and
# gzip, zstd and xz captures from a file or a pipe, told by content.
# The reference is always the same capture read plainly: the analysis
# (everything but "input") must be the same, byte for byte.
source tests/lib.sh
REAL=$PWD/tests/captures/real
SPLIT=$PWD/tests/support/pcapsplit
MKNG=$PWD/tests/support/mkpcapng
VALIDATE=$PWD/tests/support/validate-json
SCHEMA=$PWD/reports/schema/report.schema.json
cd "$TEST_TMP" || exit 1

# same_analysis WHAT A.json B.json: equal but for input and generated_at
same_analysis() {
	check "$1" cmp -s <(jq -S 'del(.input, .generated_at)' "$2") <(jq -S 'del(.input, .generated_at)' "$3")
}

# lab-haproxy: two connections, two rst_before_ack findings (judged in
# tests/captures/real/README.md); as classic pcap for the splitter
editcap -F pcap "$REAL/lab-haproxy.pcap" hap.pcap || { not_ok "editcap converted the capture"; finish; }
"$LINGERLAB" analyze -r hap.pcap -o ref.json
check_eq "reference: 130 packets, 2 findings" "130 2" "$(jq -r '[.input.packets, (.findings|length)] | join(" ")' ref.json)"

# -- a rotating set (tcpdump -C names: trace.pcap, trace.pcap1, ...) -----
mkdir set
"$SPLIT" rotate hap.pcap set/trace.pcap 3
"$LINGERLAB" analyze -r set/trace.pcap2 -r set/trace.pcap -r set/trace.pcap1 -o rot.json
check_eq "rotating set, files in any order: exit 0" 0 "$?"
same_analysis "rotating set: the analysis of the whole capture" ref.json rot.json
check_eq "rotating set: each file's records and where they sit" \
	'[["set/trace.pcap2",42,[[89,1,42]]],["set/trace.pcap",44,[[1,1,44]]],["set/trace.pcap1",44,[[45,1,44]]]]' \
	"$(jq -c '[.input.files[] | [.path, .packets, .runs]]' rot.json)"
"$LINGERLAB" analyze -r 'set/trace.pcap*' -o glob.json
check_eq "quoted pattern: exit 0" 0 "$?"
same_analysis "quoted pattern: the same analysis" ref.json glob.json
check_eq "quoted pattern: three files" 3 "$(jq '.input.files | length' glob.json)"
check_eq "quoted pattern: input.source is the word given" "set/trace.pcap*" "$(jq -r '.input.source' glob.json)"
check "report with files validates against the schema" "$VALIDATE" "$SCHEMA" glob.json
# mergecap agrees on the packet numbering (same link type: a pcap out)
mergecap -F pcap -w merged.pcap set/trace.pcap2 set/trace.pcap set/trace.pcap1
"$LINGERLAB" analyze -r merged.pcap -o merged.json
same_analysis "mergecap's merge: the same analysis, the same packet indexes" merged.json glob.json

# a file of the set cut inside a record: the error names that file and
# record (libpcap's words), the report covers what came before
cp set/trace.pcap1 cut1.pcap
truncate -s -7 cut1.pcap
"$LINGERLAB" analyze -r set/trace.pcap -r cut1.pcap -r set/trace.pcap2 -o cutset.json 2>err.txt
check_eq "a cut file among several: exit 2" 2 "$?"
check_eq "a cut file among several: its name and record" \
	"lingerlab analyze: cut1.pcap: record 44: truncated dump file; tried to read 54 captured bytes, only got 47" "$(cat err.txt)"
check_eq "a cut file among several: the records before it analyzed" 87 "$(jq '.input.packets' cutset.json)"

# -- two link types, interleaved ---------------------------------------------
"$SPLIT" alternate hap.pcap odd.pcap even.pcap
"$LINGERLAB" analyze -r even.pcap -r odd.pcap -o alt.json
check_eq "Ethernet and raw IP files: exit 0" 0 "$?"
same_analysis "Ethernet and raw IP interleaved: the analysis of the whole capture" ref.json alt.json
check_eq "mixed link types named so" "mixed RAW EN10MB" \
	"$(jq -r '[.input.link_type, .input.files[].link_type] | join(" ")' alt.json)"
check_eq "packet 1 is odd.pcap's record 1, packet 2 even.pcap's record 1" \
	'[[2,1,1],[1,1,1]]' "$(jq -c '[.input.files[].runs[0]]' alt.json)"
# the finding's RST packet, located through the runs
rst=$(jq '.findings[0].rst_packet' ref.json)
check_eq "the first finding's RST packet sits in one file's runs" 1 \
	"$(jq --argjson p "$rst" '[.input.files[] | .runs[] | select(.[0] <= $p and $p < .[0] + .[2])] | length' alt.json)"

# -- ties: equal timestamps keep the order the files were given ---------------
"$SPLIT" rotate hap.pcap one.pcap 1
"$LINGERLAB" analyze -r one.pcap -r hap.pcap -c 4 -o tie.json
check_eq "equal timestamps: the first file's record first, then the second's" \
	'[[[1,1,1],[3,2,1]],[[2,1,1],[4,2,1]]]' "$(jq -c '[.input.files[].runs]' tie.json)"

# -- compressed captures --------------------------------------------------------
gzip -c hap.pcap >hap.pcap.gz
zstd -q -c hap.pcap >hap.pcap.zst
xz -c hap.pcap >hap.pcap.xz
for k in gz zst xz; do
	name=$(case $k in gz) echo gzip;; zst) echo zstd;; xz) echo xz;; esac)
	"$LINGERLAB" analyze -r "hap.pcap.$k" -o "$k.json"
	check_eq "$name file: exit 0" 0 "$?"
	same_analysis "$name file: the same analysis" ref.json "$k.json"
	check_eq "$name file: compression named" "$name" "$(jq -r '.input.files[0].compression' "$k.json")"
	"$LINGERLAB" analyze -r - -o "p$k.json" <"hap.pcap.$k"
	same_analysis "$name on a pipe: the same analysis" ref.json "p$k.json"
	# a cut stream is a read error naming the record, never a quiet end
	head -c -100 "hap.pcap.$k" >"cut.$k"
	"$LINGERLAB" analyze -r "cut.$k" -o cut.json 2>err.txt
	check_eq "$name cut short: exit 2" 2 "$?"
	check "$name cut short: the message names the record and the cut" \
		grep -Eq "^lingerlab analyze: cut\.$k: (record [0-9]+: )?$name: compressed data cut short$" err.txt
done
# told by content, not by name
cp hap.pcap.zst looks-plain.pcap
cp hap.pcap looks-gzipped.pcap.gz
"$LINGERLAB" analyze -r looks-plain.pcap -o n1.json
same_analysis "zstd named .pcap: read as zstd" ref.json n1.json
"$LINGERLAB" analyze -r looks-gzipped.pcap.gz -o n2.json
same_analysis "plain pcap named .gz: read as pcap" ref.json n2.json
check_eq "plain pcap named .gz: compression none" none "$(jq -r '.input.files[0].compression' n2.json)"
# gzip members one after the other (gzip -c a >x; gzip -c b >>x) read as one stream
head -c 10000 hap.pcap | gzip -c >multi.gz
tail -c +10001 hap.pcap | gzip -c >>multi.gz
"$LINGERLAB" analyze -r multi.gz -o multi.json
same_analysis "concatenated gzip members: one capture" ref.json multi.json
# a compressed file among several
"$LINGERLAB" analyze -r set/trace.pcap -r <(cat set/trace.pcap1) -r <(xz -c set/trace.pcap2) -o mix.json
same_analysis "plain, a pipe and xz merged: the same analysis" ref.json mix.json

# -- pcapng: the section's and the interfaces' descriptions ---------------------
for order in little big; do
	"$MKNG" hap.pcap "ng-$order.pcapng" $([ $order = big ] && echo big)
	"$LINGERLAB" analyze -r "ng-$order.pcapng" -o ng.json
	same_analysis "pcapng ($order-endian): the same analysis" ref.json ng.json
	check_eq "pcapng ($order-endian): section comments, hardware, OS, application" \
		'[["captured at the lab bench","second comment: café"],"x86_64 test box","Linux 6.1","mkpcapng 1"]' \
		"$(jq -c '.input.files[0] | [.comments, .hardware, .os, .application]' ng.json)"
	check_eq "pcapng ($order-endian): interface names, description and comments" \
		'[["eth0","uplink to the server rack","EN10MB","virtio-net",["mirror port 7"]],["lo",null,"EN10MB",null,[]]]' \
		"$(jq -c '[.input.files[0].interfaces[] | [.name, .description, .link_type, .hardware, .comments]]' ng.json)"
done
check "pcapng report validates against the schema" "$VALIDATE" "$SCHEMA" ng.json
# compressed pcapng: the descriptions come through the decompressor
zstd -q -c ng-little.pcapng | "$LINGERLAB" analyze -r - -o ngz.json
check_eq "zstd pcapng on a pipe: format, compression, interface name" "pcapng zstd eth0" \
	"$(jq -r '.input.files[0] | [.format, .compression, .interfaces[0].name] | join(" ")' ngz.json)"

# a file name with control and invalid bytes: kept in input.files as in
# input.source (the report's rule for strings from outside)
name=$(printf 'x\033[2J\x9b\xe9.pcap')
cp hap.pcap "$name"
"$LINGERLAB" analyze -r "$name" -o hostile.json
check_eq "hostile file name: input.files[0].path written as input.source" true \
	"$(jq '.input.files[0].path == .input.source and (.input.files | length) == 1' hostile.json)"

# -- errors ----------------------------------------------------------------------
"$LINGERLAB" analyze -r 'nosuch*.pcap' >/dev/null 2>err.txt
check_eq "pattern matching nothing: exit 2" 2 "$?"
check_eq "pattern matching nothing: message" "lingerlab analyze: -r: no file matches 'nosuch*.pcap'" "$(cat err.txt)"
"$LINGERLAB" analyze -r - -r - >/dev/null 2>err.txt </dev/null
check_eq "standard input twice: exit 2" 2 "$?"
check_eq "standard input twice: message" 'lingerlab analyze: -r: standard input ("-") can be read once' "$(cat err.txt)"
"$LINGERLAB" analyze -r hap.pcap -r nosuch.pcap >/dev/null 2>err.txt
check_eq "a missing file among several: message" "lingerlab analyze: nosuch.pcap: No such file or directory" "$(cat err.txt)"
finish
