#!/usr/bin/env bash
# tls_decrypt.sh - analyze --tls-keylog (issue 9): TLS decrypted with an
# NSS key log names the HTTP response at risk and a TLS 1.3 close_notify.
#
# 1. A real capture with its key log (tests/captures/real/nginx-tls-keys.*:
#    nginx 1.22 with ssl on loopback, curl and openssl s_client writing
#    SSLKEYLOGFILE): the HTTP statuses of every connection equal tshark's
#    with the same key log, over TLS 1.3 (AES-128-GCM, AES-256-GCM,
#    ChaCha20) and TLS 1.2 (ECDHE-ECDSA AES-256-GCM, ChaCha20, AES-128-GCM
#    pipelined); the CBC connection is left undecrypted, counted as
#    `cipher`.
# 2. The lab (root): close flags pipelined-404 over TLS 1.3 and 1.2; the
#    analyzer given the lab's key log names the 404 and the close_notify
#    among the records at risk, as tshark sees it; a wrong key or a key
#    log without the session leaves the report as without keys, with the
#    records counted as not decrypted (auth_failed, no_keys). A real
#    server in the lab: nginx 1.22 with ssl and lingering_close off over
#    TLS 1.3 resets pipelined-404 (a known nginx behaviour); with the key
#    log the finding names the 404 and the close_notify at risk, and
#    tshark sees the same status.
# 3. Clear errors for a bad key log.
source tests/lib.sh
SCHEMA=reports/schema/report.schema.json
VALIDATE=tests/support/validate-json
CAP=tests/captures/real/nginx-tls-keys.pcap
KEYS=tests/captures/real/nginx-tls-keys.keys

# ---- 1. the real capture ----------------------------------------------
"$LINGERLAB" analyze -r "$CAP" --tls-keylog "$KEYS" -o "$TEST_TMP/n.json" \
	--connections "$TEST_TMP/n.jsonl"
check_eq "nginx: analyze --tls-keylog exits 0" 0 $?
check "nginx: the report matches the schema" "$VALIDATE" "$SCHEMA" "$TEST_TMP/n.json"
statuses=$(jq -r '"\(.id - 1) \([.http.responses[].status] | join(","))"' "$TEST_TMP/n.jsonl" |
	tr '\n' ';')
check_eq "nginx: the statuses of each connection, decrypted" \
	"0 200;1 404;2 200;3 404;4 200;5 ;6 200,404;7 404,200;" "$statuses"
if command -v tshark >/dev/null; then
	# the same, from tshark with the same key log (CBC included: it
	# decrypts that suite, we do not)
	theirs=$(tshark -r "$CAP" -o "tls.keylog_file:$KEYS" -Y http.response -T fields \
		-e tcp.stream -e http.response.code 2>/dev/null |
		awk '$1 != 5 { s[$1] = s[$1] (s[$1] == "" ? "" : ",") $2 } END { for (k in s) print k, s[k] }' |
		sort -n | tr '\n' ';')
	ours=$(jq -r 'select(.id != 6) | "\(.id - 1) \([.http.responses[].status] | join(","))"' \
		"$TEST_TMP/n.jsonl" | tr '\n' ';')
	check_eq "nginx: the statuses equal tshark's" "$theirs" "$ours"
	treq=$(tshark -r "$CAP" -o "tls.keylog_file:$KEYS" -Y http.request -T fields \
		-e http.request.method 2>/dev/null | tr ',' '\n' | grep -c .)
	check_eq "nginx: as many requests as tshark sees (CBC aside)" "$((treq - 1))" \
		"$(jq -s 'map(.http.requests) | add' "$TEST_TMP/n.jsonl")"
else
	skip "statuses against tshark (tshark not installed)"
	skip "requests against tshark (tshark not installed)"
fi
check_eq "nginx: every AEAD connection decrypted, whole" "true" \
	"$(jq -s 'map(select(.id != 6)) | length == 7 and
	          all(.[]; .tls.decrypted == true and (.tls.not_decrypted | add) == 0)' "$TEST_TMP/n.jsonl")"
check_eq "nginx: the CBC connection: not decrypted, its 5 records counted as cipher" \
	'false {"no_keys":0,"cipher":5,"handshake":0,"auth_failed":0,"incomplete":0,"no_memory":0}' \
	"$(jq -c 'select(.id == 6) | .tls.decrypted, .tls.not_decrypted' "$TEST_TMP/n.jsonl" | tr '\n' ' ' | sed 's/ $//')"
"$LINGERLAB" analyze -r "$CAP" -o /dev/null --connections "$TEST_TMP/nk.jsonl"
check_eq "nginx without a key log: nothing decrypted, no status" "0 0" \
	"$(jq -s -r '"\(map(select(.tls.decrypted)) | length) \(map(.http.responses | length) | add)"' \
		"$TEST_TMP/nk.jsonl")"
check_eq "nginx without a key log: every encrypted record counted as no_keys" \
	"10 10 10 5 5 5 7 12" \
	"$(jq -r '.tls.not_decrypted.no_keys' "$TEST_TMP/nk.jsonl" | tr '\n' ' ' | sed 's/ $//')"

# nginx over TLS 1.3 resetting a pipelined 404 (a lab capture, kept): the
# records at risk judged by hand with tshark are packets 11-14 (two
# NewSessionTickets, the 404, the close_notify)
C13=tests/captures/real/nginx-tls13-off
"$LINGERLAB" analyze -r "$C13.pcap" --tls-keylog "$C13.keys" -o "$TEST_TMP/c13.json"
check_jq "nginx TLS 1.3 capture: the 404 at risk, the records by their true types" "$TEST_TMP/c13.json" \
	'.findings | length == 1 and .[0].response == {"index": 1, "status": 404}
	 and .[0].tls.types == ["handshake", "handshake", "application_data", "alert"]
	 and .[0].tls.close_notify == "alert_record" and .[0].at_risk_packets == [11, 12, 13, 14]'
"$LINGERLAB" analyze -r "$C13.pcap" -o "$TEST_TMP/c13k.json"
check_jq "nginx TLS 1.3 capture without keys: four application_data records, cannot tell" "$TEST_TMP/c13k.json" \
	'.findings[0].response == null and .findings[0].tls.types == ["application_data", "application_data", "application_data", "application_data"]
	 and .findings[0].tls.close_notify == "cannot_tell" and .findings[0].tls.decrypted == false'

# ---- 3. errors ----------------------------------------------------------
printf '# made by hand\nCLIENT_RANDOM 00112233 aa\n' >"$TEST_TMP/bad.keys"
out=$("$LINGERLAB" analyze -r "$CAP" --tls-keylog "$TEST_TMP/bad.keys" -o /dev/null 2>&1)
check_eq "bad key log: exit 2" 2 $?
check_eq "bad key log: the line and column, what was expected" \
	"lingerlab analyze: --tls-keylog: $TEST_TMP/bad.keys:2:15: expected the client random (64 hex digits), found '00112233'" "$out"
out=$("$LINGERLAB" analyze -r "$CAP" --tls-keylog "$TEST_TMP/none.keys" -o /dev/null 2>&1)
check_eq "missing key log: exit 2" 2 $?
check_eq "missing key log: named" \
	"lingerlab analyze: --tls-keylog: $TEST_TMP/none.keys: No such file or directory" "$out"

# ---- 2. the lab ---------------------------------------------------------
if ! need_root; then
	skip "lab captures over TLS need root (namespace lab)"
	finish
fi
for v in 1.3 1.2; do
	d="$TEST_TMP/v$v"
	mkdir -p "$d"
	"$LINGERLAB" run --builtin close --tls --tls-version "$v" -q -o "$d/r.json" \
		scenarios/pipelined-404.scn
	check_eq "TLS $v: close flags pipelined-404 (exit 1)" 1 $?
	check "TLS $v: the key log is beside the capture" test -s "$d/r.keys"
	"$LINGERLAB" analyze -r "$d/r.pcap" --tls-keylog "$d/r.keys" -o "$d/a.json"
	check_eq "TLS $v: analyze --tls-keylog exits 0" 0 $?
	check "TLS $v: the report matches the schema" "$VALIDATE" "$SCHEMA" "$d/a.json"
	check_jq "TLS $v: the finding names the 404 at risk, decrypted" "$d/a.json" \
		'.findings | length == 1 and .[0].response.status == 404 and .[0].tls.decrypted == true
		 and .[0].tls.not_decrypted_at_risk == 0'
	check_jq "TLS $v: the close_notify is among the records at risk" "$d/a.json" \
		'.findings[0].tls.close_notify == "alert_record" and (.findings[0].tls.types | index("alert") != null)
		 and (.findings[0].summary | test("decrypted: a close_notify is among them"))'
	check_jq "TLS $v: the connection was decrypted whole" "$d/a.json" \
		'.connections[0].tls.decrypted == true and (.connections[0].tls.not_decrypted | add) == 0'
	if command -v tshark >/dev/null; then
		codes=$(tshark -r "$d/r.pcap" -o "tls.keylog_file:$d/r.keys" -Y http.response \
			-T fields -e http.response.code 2>/dev/null | tr '\n' ' ')
		check_eq "TLS $v: tshark with the key log agrees (the 404)" "404 " "$codes"
	else
		skip "TLS $v: tshark (not installed)"
	fi
	# a wrong secret for the right session: nothing opens
	awk '{ s = $3; c = substr(s, 1, 1) == "0" ? "1" : "0"; print $1, $2, c substr(s, 2) }' \
		"$d/r.keys" >"$d/wrong.keys"
	"$LINGERLAB" analyze -r "$d/r.pcap" --tls-keylog "$d/wrong.keys" -o "$d/w.json"
	check_jq "TLS $v: a wrong key: as without keys, records counted as auth_failed" "$d/w.json" \
		'.findings[0].response == null and .findings[0].tls.decrypted == false
		 and .connections[0].tls.decrypted == false and .connections[0].tls.records_decrypted == 0
		 and .connections[0].tls.not_decrypted.auth_failed > 0
		 and .findings[0].tls.not_decrypted_at_risk == .findings[0].tls.records_at_risk'
	# a key log without this session
	grep -v "$(awk 'NR == 1 { print $2 }' "$d/r.keys")" "$KEYS" >"$d/other.keys"
	"$LINGERLAB" analyze -r "$d/r.pcap" --tls-keylog "$d/other.keys" -o "$d/o.json"
	check_jq "TLS $v: a key log without the session: records counted as no_keys" "$d/o.json" \
		'.findings[0].response == null and .connections[0].tls.decrypted == false
		 and .connections[0].tls.not_decrypted.no_keys > 0'
done
check_jq "TLS 1.3 without keys: the close_notify cannot be told" "$TEST_TMP/v1.3/o.json" \
	'.findings[0].tls.close_notify == "cannot_tell"'
# TLS 1.3 with the application secrets only: the encrypted handshake is
# counted, the data still decrypted
grep 'TRAFFIC_SECRET_0' "$TEST_TMP/v1.3/r.keys" >"$TEST_TMP/ap.keys"
"$LINGERLAB" analyze -r "$TEST_TMP/v1.3/r.pcap" --tls-keylog "$TEST_TMP/ap.keys" -o "$TEST_TMP/ap.json"
check_jq "TLS 1.3, application secrets only: the 404, the handshake records counted" "$TEST_TMP/ap.json" \
	'.findings[0].response.status == 404 and .connections[0].tls.not_decrypted.handshake > 0'

# nginx with ssl, lingering_close off, over TLS 1.3
if ! command -v nginx >/dev/null; then
	skip "nginx over TLS (nginx not installed; make deps installs nginx-light)"
	finish
fi
ng="$TEST_TMP/ng"
mkdir -p "$ng/www" "$ng/tmp"
echo "<html>lab</html>" >"$ng/www/index.html"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=lab \
	-keyout "$ng/key.pem" -out "$ng/cert.pem" 2>/dev/null
chmod -R a+rX "$ng"
cat >"$ng/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $ng/tmp;
  proxy_temp_path $ng/tmp;
  fastcgi_temp_path $ng/tmp;
  uwsgi_temp_path $ng/tmp;
  scgi_temp_path $ng/tmp;
  keepalive_requests 1;
  lingering_close off;
  server {
    listen 443 ssl;
    ssl_certificate $ng/cert.pem;
    ssl_certificate_key $ng/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $ng/www;
  }
}
EOF
"$LINGERLAB" run --serve "nginx -c $ng/nginx.conf" --port 443 --tls --tls-version 1.3 -q \
	-o "$ng/r.json" scenarios/pipelined-404.scn
check_eq "nginx TLS 1.3, lingering_close off: pipelined-404 is flagged (exit 1)" 1 $?
"$LINGERLAB" analyze -r "$ng/r.pcap" --tls-keylog "$ng/r.keys" -o "$ng/a.json"
check_jq "nginx TLS 1.3: the finding names the 404 and the close_notify at risk, decrypted" "$ng/a.json" \
	'.findings[0].response.status == 404 and .findings[0].tls.version == "1.3"
	 and .findings[0].tls.decrypted and .findings[0].tls.close_notify == "alert_record"'
if command -v tshark >/dev/null; then
	codes=$(tshark -r "$ng/r.pcap" -o "tls.keylog_file:$ng/r.keys" -Y http.response \
		-T fields -e http.response.code 2>/dev/null | tr '\n' ' ')
	check_eq "nginx TLS 1.3: tshark with the key log sees the same status" "404 " "$codes"
else
	skip "nginx TLS 1.3: tshark (not installed)"
fi
finish
