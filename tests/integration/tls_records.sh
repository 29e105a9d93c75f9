#!/usr/bin/env bash
# tls_records.sh - TLS record boundaries read without keys, on a real
# capture: nginx 1.22 with OpenSSL 3 on loopback, curl over TLS 1.3 and
# 1.2, and openssl s_client with two pipelined requests over TLS 1.2
# (tests/captures/real/nginx-tls.pcap). Each connection's record count per
# direction must equal tshark's (which dissects the same records), and the
# version the ServerHello chose must be the one the client asked for.
source tests/lib.sh
CAP=tests/captures/real/nginx-tls.pcap

"$LINGERLAB" analyze -r "$CAP" --server-port 28443 -o "$TEST_TMP/r.json" \
	--connections "$TEST_TMP/c.jsonl"
check_eq "analyze exits 0" 0 $?
check_eq "three connections" 3 "$(grep -c . "$TEST_TMP/c.jsonl")"
check_eq "versions: 1.3 (curl --tlsv1.3), 1.2, 1.2" "1.3 1.2 1.2" \
	"$(jq -r '.tls.version' "$TEST_TMP/c.jsonl" | tr '\n' ' ' | sed 's/ $//')"

if command -v tshark >/dev/null; then
	# tshark: one tls.record.length per record, per stream and direction
	tshark -r "$CAP" -Y 'tls' -T fields -e tcp.stream -e tcp.srcport -e tls.record.length 2>/dev/null |
		awk '{ n = split($3, a, ","); k = $1 " " ($2 == 28443 ? "s2c" : "c2s"); c[k] += n }
		     END { for (k in c) print k, c[k] }' | sort >"$TEST_TMP/tshark.txt"
	jq -r '"\(.id - 1) c2s \(.tls.records.c2s)", "\(.id - 1) s2c \(.tls.records.s2c)"' \
		"$TEST_TMP/c.jsonl" | sort >"$TEST_TMP/ours.txt"
	if diff -u "$TEST_TMP/tshark.txt" "$TEST_TMP/ours.txt" >"$TEST_TMP/diff.txt"; then
		ok "record counts per connection and direction equal tshark's"
	else
		not_ok "record counts per connection and direction equal tshark's"
		while IFS= read -r l; do diag "$l"; done <"$TEST_TMP/diff.txt"
	fi
else
	skip "record counts against tshark (tshark not installed)"
fi

# A plain HTTP capture has no TLS
"$LINGERLAB" analyze -r tests/captures/real/nginx-on.pcap -o /dev/null --connections "$TEST_TMP/h.jsonl"
check_eq "plain HTTP: tls is null on every connection" "true" \
	"$(jq -s 'all(.[]; .tls == null)' "$TEST_TMP/h.jsonl")"
finish
