#!/usr/bin/env bash
# run_servers_tls.sh - real servers from Debian's archive over TLS in the
# lab (issue 9): nginx `ssl` with lingering_close off and always, Apache
# mod_ssl, lighttpd mod_openssl, HAProxy `bind ... ssl crt` in front of
# the reference target; each with a self-signed certificate made here,
# started with `run --serve ... --port 443 --tls`, and run through
# pipelined-404, put-unauthorized and tls/close-notify. The checks hold
# what each server did, as judged by hand from the decrypted captures
# (tshark with the key log; the verdicts are in tests/captures/real/
# README.md, "Over TLS"), keeping to the facts that do not depend on the
# race of the moment: a finding or none, a RST or none, who closed, the
# response received or not, a close_notify sent or not.
#
# What they did (Debian 12: nginx 1.22.1, Apache 2.4, lighttpd 1.4.69,
# HAProxy 2.6, all on OpenSSL 3.0, TLS 1.3):
#   nginx off      pipelined-404: 404, close_notify, FIN, then a RST for
#                  the next GET: rst_before_ack (the RST answers a GET
#                  whose ACK shows the 404 unacknowledged). PUT: 401 at
#                  once, the body read to its end, close_notify, FIN. On
#                  every connection the client's own close_notify gets a
#                  RST (nginx closed without reading on).
#   nginx always   lingers everywhere; no RST.
#   Apache         lingers everywhere; the PUT body is read before the
#                  401; no RST.
#   lighttpd       a race on pipelined-404 and the PUT: when a record of
#                  the client's came between its close_notify and its FIN
#                  (mostly, without load) it closes and resets what
#                  follows: rst_before_ack, unlike plain HTTP where it
#                  lingers; else its FIN comes with the close_notify and
#                  it lingers through everything. close-notify
#                  (Connection: close): close_notify but no FIN; it waits
#                  for the client's close_notify, which the client sends
#                  on reading the server's (as curl does), with its FIN;
#                  then lighttpd closes.
#   HAProxy        keeps the client connection alive (all 12 pipelined
#                  requests answered, each on a fresh backend connection);
#                  ends it after `timeout client` with close_notify and
#                  FIN, and answers the client's close_notify with a RST
#                  (it closes at once: a close_notify that comes within
#                  some 100 us is read). No response at risk.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "real servers over TLS"
for c in openssl tshark; do
	if ! command -v $c >/dev/null; then
		skip "real servers over TLS ($c not installed; make deps installs it)"
		finish
	fi
done

# Apache's workers run as www-data: they must reach the files
chmod 755 "$TEST_TMP"
www=$TEST_TMP/www
mkdir -p "$www/protected"
printf '<html><body>lab</body></html>\n' >"$www/index.html"
chmod -R a+rX "$www"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=lab -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" 2>/dev/null
cat "$TEST_TMP/cert.pem" "$TEST_TMP/key.pem" >"$TEST_TMP/both.pem"
chmod 644 "$TEST_TMP"/*.pem
printf 'lab:%s\n' "$(openssl passwd -apr1 lab)" >"$TEST_TMP/htpasswd"
chmod 644 "$TEST_TMP/htpasswd"
check "a self-signed certificate made with openssl" test -s "$TEST_TMP/both.pem"

nginx_conf() { # nginx_conf MODE -> nginx.conf with `ssl` and lingering_close MODE
	local c=$TEST_TMP/nginx-$1.conf
	cat >"$c" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TEST_TMP/nginx-$1.pid;
error_log $TEST_TMP/nginx-$1.error.log info;
events { worker_connections 64; }
http {
  access_log $TEST_TMP/nginx-$1.access.log;
  client_body_temp_path $TEST_TMP/body-$1;
  proxy_temp_path $TEST_TMP/proxy-$1;
  fastcgi_temp_path $TEST_TMP/fastcgi-$1;
  uwsgi_temp_path $TEST_TMP/uwsgi-$1;
  scgi_temp_path $TEST_TMP/scgi-$1;
  keepalive_requests 1;
  lingering_close $1;
  server {
    listen 443 ssl;
    # nginx 1.22's default leaves TLS 1.3 out
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $TEST_TMP/cert.pem;
    ssl_certificate_key $TEST_TMP/key.pem;
    root $www;
    location /protected/ { auth_basic lab; auth_basic_user_file $TEST_TMP/htpasswd; }
  }
}
CONF
	echo "$c"
}

cat >"$TEST_TMP/apache2.conf" <<CONF
ServerRoot $TEST_TMP
DefaultRuntimeDir $TEST_TMP
PidFile $TEST_TMP/apache2.pid
Mutex file:$TEST_TMP default
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authn_file_module /usr/lib/apache2/modules/mod_authn_file.so
LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
User www-data
Group www-data
Listen 443
ServerName lab
ErrorLog $TEST_TMP/apache2-error.log
DocumentRoot $www
KeepAlive On
MaxKeepAliveRequests 1
# the 401 comes after the whole body; then it waits this long for a next request
KeepAliveTimeout 2
SSLEngine on
SSLCertificateFile $TEST_TMP/cert.pem
SSLCertificateKeyFile $TEST_TMP/key.pem
SSLSessionCache shmcb:$TEST_TMP/ssl_scache(512000)
<Directory $www>
  Require all granted
</Directory>
<Location /protected>
  AuthType Basic
  AuthName lab
  AuthBasicProvider file
  AuthUserFile $TEST_TMP/htpasswd
  Require valid-user
</Location>
CONF

cat >"$TEST_TMP/lighttpd.conf" <<CONF
server.modules = ("mod_openssl", "mod_auth", "mod_authn_file")
server.document-root = "$www"
server.bind = "0.0.0.0"
server.port = 443
server.errorlog = "$TEST_TMP/lighttpd-error.log"
server.max-keep-alive-requests = 0
ssl.engine = "enable"
ssl.pemfile = "$TEST_TMP/cert.pem"
ssl.privkey = "$TEST_TMP/key.pem"
auth.backend = "htpasswd"
auth.backend.htpasswd.userfile = "$TEST_TMP/htpasswd"
auth.require = ("/protected/" => ("method" => "basic", "realm" => "lab", "require" => "valid-user"))
CONF

cat >"$TEST_TMP/haproxy.cfg" <<CONF
global
  log stderr format raw local0 info
defaults
  mode http
  log global
  timeout client 3s
  timeout connect 1s
  timeout server 5s
frontend lab
  bind :443 ssl crt $TEST_TMP/both.pem
  default_backend app
backend app
  server t1 127.0.0.1:8080
CONF

# name, command, and whether its package is here
servers=()
have() { servers+=("$1"); printf -v "cmd_$1" '%s' "$2"; }
if command -v nginx >/dev/null; then
	have ngoff "nginx -c $(nginx_conf off)"
	have ngalways "nginx -c $(nginx_conf always)"
else
	skip "nginx over TLS (nginx not installed; make deps installs nginx-light)"
fi
if command -v apache2 >/dev/null && [ -e /usr/lib/apache2/modules/mod_ssl.so ]; then
	have apache "exec apache2 -f $TEST_TMP/apache2.conf -DFOREGROUND"
else
	skip "Apache over TLS (apache2 with mod_ssl not installed)"
fi
if command -v lighttpd >/dev/null && [ -e /usr/lib/lighttpd/mod_openssl.so ]; then
	have lighttpd "exec lighttpd -D -f $TEST_TMP/lighttpd.conf"
else
	skip "lighttpd over TLS (lighttpd-mod-openssl not installed)"
fi
if command -v haproxy >/dev/null; then
	# the backend carries this test's marker, so a leftover is found
	have haproxy "$LINGERLAB_TARGET --listen 127.0.0.1:8080 --policy linger --linger-timeout $run_marker & exec haproxy -db -f $TEST_TMP/haproxy.cfg"
else
	skip "HAProxy over TLS (haproxy not installed)"
fi

# All at once: each run has namespaces of its own
for s in "${servers[@]}"; do
	cmdv=cmd_$s
	run_start "$s" --serve "${!cmdv}" --port 443 --tls -o "$TEST_TMP/$s.json" -w "$TEST_TMP/$s.pcap" \
		scenarios/pipelined-404.scn scenarios/put-unauthorized.scn scenarios/tls/close-notify.scn
done
# nginx off over TLS 1.2 too: the close_notify is an alert record the
# analyzer sees without keys, and the finding names the 404 (the response
# wire offsets count the server's handshake flight, which TLS 1.2 sends
# in two deliveries: they once did not, and the finding named none)
if [ -n "${cmd_ngoff:-}" ]; then
	run_start ngoff12 --serve "$cmd_ngoff" --port 443 --tls --tls-version 1.2 \
		-o "$TEST_TMP/ngoff12.json" scenarios/pipelined-404.scn
fi
for s in "${servers[@]}"; do run_wait "$s" 150; done
if [ -n "${cmd_ngoff:-}" ]; then
	run_wait ngoff12 60
	check_jq "nginx off, TLS 1.2: the finding names the 404 (decrypted)" "$TEST_TMP/ngoff12.json" \
		'.scenarios[0].client.tls.version == "TLSv1.2" and .scenarios[0].findings[0].response == {"index": 1, "status": 404, "from": "decrypted"}'
	check_jq "nginx off, TLS 1.2: the records at risk end with the close_notify alert" "$TEST_TMP/ngoff12.json" \
		'.findings[0].tls.version == "1.2" and .findings[0].tls.types[-1] == "alert" and .findings[0].tls.close_notify == "alert_record"'
fi

# tshark over the decrypted capture: one line per frame of TCP stream $2
frames() {
	tshark -r "$TEST_TMP/$1.pcap" -o "tls.keylog_file:$TEST_TMP/$1.keys" -Y "tcp.stream == $2" \
		-T fields -E separator=, -e frame.number -e tcp.srcport -e tcp.flags.fin \
		-e tcp.flags.reset -e tls.alert_message.desc -e http.response.code -e tcp.len 2>/dev/null
}
# lighttpd's way to close in stream $2, read from the capture: "reset"
# when client data came between its close_notify and its FIN (it read a
# record after its close_notify: then it closed and reset what followed),
# else "linger" (close_notify and FIN together: it lingered). Held on the
# 10 connections of 5 runs judged by hand before this test was written.
lighttpd_way() {
	frames "$1" "$2" | awk -F, '$2 == 443 && $5 == "0" && !cn { cn = $1 }
		$2 == 443 && $3 == 1 && !fin { fin = $1 }
		cn && !fin && $2 != 443 && $7 > 0 { late = 1 }
		END { print late ? "reset" : "linger" }'
}
# server FINs in stream $2
server_fins() { frames "$1" "$2" | awk -F, '$2 == 443 && $3 == 1' | wc -l; }
# "yes" when the server's first RST in stream $2 comes after the client's
# close_notify (decrypted: an alert of description 0 from the client),
# "none" without a server RST
rst_after_client_cn() {
	frames "$1" "$2" | awk -F, '$2 != 443 && $5 == "0" && !cn { cn = $1 }
		$2 == 443 && $4 == 1 && !r { r = $1 }
		END { print !r ? "none" : (cn && r > cn) ? "yes" : "no" }'
}

common() { # common NAME: what every server did
	local s=$1 rep=$TEST_TMP/$1.json pidv=${1}_pid
	check_eq "$s: nothing left behind" "" "$(run_leftovers "${!pidv}")"
	if [ ! -s "$rep" ]; then
		not_ok "$s: report written"
		return 1
	fi
	check_jq "$s: TLS 1.3 on every scenario, and the server's close_notify came each time" "$rep" \
		'[.scenarios[].client.tls] | all(.version == "TLSv1.3" and .server_close_notify == 1)'
	check_jq "$s: pipelined-404: the first response is the 404 (decrypted)" "$rep" \
		'.scenarios[0].client.responses[0].status == 404 and .scenarios[0].client.responses[0].complete'
	check_jq "$s: put-unauthorized: the 401" "$rep" '.scenarios[1].client.responses[0].status == 401'
	check_jq "$s: close-notify: the 200" "$rep" '.scenarios[2].client.responses[0].status == 200'
	check_jq "$s: put-unauthorized: no TLS note (the body went through TLS to its end or to the RST)" "$rep" \
		'.scenarios[1].notes | all(test("TLS") | not)'
	if [ "$s" != lighttpd ]; then
		# a RST answering the client's close_notify (no ACK flag, seq =
		# that segment's ACK field) proves the server had every ACK, yet
		# the analyzer sometimes counts the server's close_notify (24
		# bytes) at risk there, by a timing margin of microseconds: the
		# 401 itself is never at risk
		check_jq "$s: put-unauthorized: nothing but a close_notify ever counted at risk" "$rep" \
			'[.scenarios[1].findings[].bytes_at_risk] | all(. <= 24)'
	fi
	check_jq "$s: no leaked RST" "$rep" '.lab.leaked_rst == 0'
	check "$s: the key log decrypts the capture (tshark names the 404)" \
		grep -qx 404 <(frames "$s" 0 | awk -F, '$6 != "" {print $6}' | head -1)
	return 0
}

for s in "${servers[@]}"; do
	common "$s" || continue
	rep=$TEST_TMP/$s.json rcv=${s}_rc
	case $s in
	ngoff)
		check_eq "nginx off: exit 1 (pipelined-404's hazard)" 1 "${!rcv}"
		check_jq "nginx off: pipelined-404: rst_before_ack naming the 404 from the decrypted view" "$rep" \
			'.scenarios[0].summary.rst_before_ack >= 1 and .scenarios[0].findings[0].response.status == 404'
		check_jq "nginx off: the records at risk are TLS 1.3 records, decrypted with the lab's key log: the close_notify among them" "$rep" \
			'.findings[0].tls.version == "1.3" and .findings[0].tls.records_at_risk >= 2 and .findings[0].tls.decrypted and .findings[0].tls.close_notify == "alert_record"'
		# the body is read to its end; what a RST may answer is the
		# client's close_notify, which now races nginx's close()
		check_jq "nginx off: put-unauthorized: nothing but a close_notify ever at risk" "$rep" \
			'[.scenarios[1].findings[].bytes_at_risk] | all(. <= 24)'
		check_eq "nginx off: close-notify: its RST answers the client's close_notify" yes "$(rst_after_client_cn "$s" 2)"
		;;
	ngalways|apache)
		check_eq "$s: exit 0" 0 "${!rcv}"
		# lingering shows only when the client's close_notify comes
		# after the server's FIN: the client now answers the server's
		# close_notify at once, which races the FIN; no RST either way
		check_jq "$s: no RST at all, nothing at risk" "$rep" \
			'[.scenarios[] | .summary.rst_before_ack == 0 and .client.reset_seen == false] | all'
		check "$s: close-notify: the server FINs" test "$(server_fins "$s" 2)" -ge 1
		;;
	lighttpd)
		# lighttpd over TLS: after its close_notify it reads on; if a
		# record (a pipelined GET, body) came first, it closes and resets
		# what follows (rst_before_ack, unlike plain HTTP where it always
		# lingers), else it sends FIN and lingers. Which one is a race.
		for i in 0 1; do
			n=$(jq -r ".scenarios[$i].name" "$rep")
			way=$(lighttpd_way "$s" $i)
			if [ "$way" = reset ]; then
				check_jq "lighttpd: $n: a record read after its close_notify, then RSTs: rst_before_ack, not lingered" "$rep" \
					".scenarios[$i].summary.rst_before_ack >= 1 and .scenarios[$i].summary.lingered == 0 and .scenarios[$i].findings[0].response.status == $([ $i = 0 ] && echo 404 || echo 401)"
			else
				check_jq "lighttpd: $n: close_notify and FIN together, then it lingered: no RST" "$rep" \
					".scenarios[$i].summary.rst_before_ack == 0 and .scenarios[$i].summary.lingered >= 1 and .scenarios[$i].client.reset_seen == false"
			fi
		done
		# lighttpd sends its close_notify without a FIN and waits for
		# the client's; the client answers the close_notify as a TLS
		# client does (its own and its FIN), and lighttpd then closes
		check_eq "lighttpd: close-notify: its FIN comes once the client answered its close_notify" 1 "$(server_fins "$s" 2)"
		check_jq "lighttpd: close-notify: the connection ends (no wait timed out), nothing at risk" "$rep" \
			'(.scenarios[2].notes | any(test("timed out")) | not) and .scenarios[2].summary.rst_before_ack == 0'
		;;
	haproxy)
		check_jq "haproxy: nothing but a close_notify ever counted at risk" "$rep" \
			'[.scenarios[].findings[].bytes_at_risk] | all(. <= 24)'
		check_jq "haproxy: pipelined-404: keep-alive, all 12 requests answered, no finding" "$rep" \
			'(.scenarios[0].client.responses | length) == 12 and .scenarios[0].summary.rst_before_ack == 0'
		# it closes right after its FIN: a RST answers the client's
		# close_notify, unless that arrived first (no RTT in close-notify)
		check "haproxy: close-notify: no RST before the client's close_notify" \
			grep -qxE 'yes|none' <<<"$(rst_after_client_cn "$s" 2)"
		check_jq "haproxy: put-unauthorized: the 401 arrived, nothing but a close_notify at risk" "$rep" \
			'.scenarios[1].client.responses[0].status == 401 and ([.scenarios[1].findings[].bytes_at_risk] | all(. <= 24))'
		;;
	esac
done
# LL_KEEP=DIR keeps the reports, captures and key logs, to judge them by hand
[ -n "${LL_KEEP:-}" ] && cp "$TEST_TMP"/*.json "$TEST_TMP"/*.pcap "$TEST_TMP"/*.keys "$LL_KEEP"/
finish
