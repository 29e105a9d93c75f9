#!/usr/bin/env bash
# run_servers_ipv6.sh - real servers from Debian's archive as --serve
# targets over IPv6 (`run -6`, listening on [::]:80), each beside the same
# server over IPv4: pipelined-404 and put-unauthorized (a 401 from a
# Basic-auth location) must give the same verdicts and findings in both
# families, and what each server does is held to what it did when this
# test was written (Debian 12, nginx 1.22.1, Apache 2.4):
#   nginx, default config (keep-alive, lingering_close auto): answers all
#     12 pipelined requests on the one connection, discards the PUT body
#     after its early 401; no RST, the connection stays open.
#   nginx, keepalive_timeout 0 + lingering_close off: closes after the
#     404 with the pipelined requests unread: rst_before_ack, bytes at
#     risk (the 1996 hazard, on IPv6 as on IPv4); the PUT body is still
#     read to the end before its FIN, so no RST there.
#   Apache, default config (KeepAlive On): answers all 12, closes only
#     when keep-alive times out; no RST.
#   Apache, KeepAlive Off: closes after the 404 with a lingering close
#     (drains the pipelined requests until the client's FIN); no RST.
# Apache comes from apache2-bin (the binary and its modules, without the
# service that package `apache2` would start on the host's port 80); the
# configuration here is self-contained (ServerRoot is the test's folder).
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "real servers over IPv6"
if [ ! -d /proc/sys/net/ipv6 ]; then
	skip "real servers over IPv6 (this kernel has no IPv6)"
	exit 0
fi

chmod 755 "$TEST_TMP"            # Apache's worker user reads the document root
www=$TEST_TMP/www
mkdir -p "$www/protected"
printf '<html><body>lab</body></html>\n' >"$www/index.html"
# no client sends credentials, so the password is never checked
printf 'lab:$apr1$lab$0000000000000000000000\n' >"$TEST_TMP/htpasswd"
chmod -R a+rX "$www" "$TEST_TMP/htpasswd"
scns=(scenarios/pipelined-404.scn scenarios/put-unauthorized.scn)

nginx_conf() { # nginx_conf NAME LISTEN EXTRA -> path
	local c=$TEST_TMP/nginx-$1.conf
	cat >"$c" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TEST_TMP/nginx-$1.pid;
error_log $TEST_TMP/nginx-$1.error.log info;
events { worker_connections 256; }
http {
  access_log $TEST_TMP/nginx-$1.access.log;
  client_body_temp_path $TEST_TMP/body-$1;
  proxy_temp_path $TEST_TMP/proxy-$1;
  fastcgi_temp_path $TEST_TMP/fastcgi-$1;
  uwsgi_temp_path $TEST_TMP/uwsgi-$1;
  scgi_temp_path $TEST_TMP/scgi-$1;
  $3
  server {
    listen $2;
    root $www;
    location /protected/ { auth_basic lab; auth_basic_user_file $TEST_TMP/htpasswd; }
  }
}
CONF
	echo "$c"
}

apache_conf() { # apache_conf NAME LISTEN EXTRA -> path
	local c=$TEST_TMP/apache-$1.conf m=/usr/lib/apache2/modules
	cat >"$c" <<CONF
ServerRoot $TEST_TMP
ServerName lab
Listen $2
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule authz_user_module $m/mod_authz_user.so
LoadModule authn_core_module $m/mod_authn_core.so
LoadModule authn_file_module $m/mod_authn_file.so
LoadModule auth_basic_module $m/mod_auth_basic.so
LoadModule dir_module $m/mod_dir.so
User www-data
Group www-data
PidFile $TEST_TMP/apache-$1.pid
DefaultRuntimeDir $TEST_TMP
Mutex file:$TEST_TMP
ErrorLog $TEST_TMP/apache-$1.error.log
DocumentRoot $www
<Directory />
  Require all granted
</Directory>
<Location /protected/>
  AuthType Basic
  AuthName lab
  AuthUserFile $TEST_TMP/htpasswd
  Require valid-user
</Location>
$3
CONF
	echo "$c"
}

# verdicts and findings, without timings or byte counts (the Host header,
# and so some pages, are longer over IPv6); of the client_impact grades
# only how many RSTs were graded (a grade is a race at the client between
# the RST and its ACK of the response; see run_ipv6.sh)
SIG='[.scenarios[] | {name, passed, expectations: [.expectations[] | {line, passed}],
  rst_before_ack: .summary.rst_before_ack, at_risk: (.summary.bytes_at_risk > 0),
  graded: (.summary.client_impact | to_entries | map(.value) | add), lingered: .summary.lingered,
  linger_ended_by: .summary.linger_ended_by, fin_wait_2_count: .summary.fin_wait_2_count,
  reset_seen: .client.reset_seen, statuses: [.client.responses[] | .status],
  leaked_rst: .summary.leaked_rst}]'

# pair NAME SERVER EXTRA: run SERVER (nginx|apache) with EXTRA config over
# IPv4 and IPv6 at once; compare; leaves $TEST_TMP/NAME-6.json
pair() {
	local name=$1 server=$2 extra=$3 c4 c6 cmd4 cmd6
	if [ "$server" = nginx ]; then
		c4=$(nginx_conf "$name-4" 80 "$extra"); c6=$(nginx_conf "$name-6" '[::]:80' "$extra")
		cmd4="nginx -c $c4" cmd6="nginx -c $c6"
	else
		c4=$(apache_conf "$name-4" 80 "$extra"); c6=$(apache_conf "$name-6" '[::]:80' "$extra")
		cmd4="apache2 -f $c4 -DFOREGROUND" cmd6="apache2 -f $c6 -DFOREGROUND"
	fi
	run_start "${name}4" --serve "$cmd4" --port 80 -o "$TEST_TMP/$name-4.json" "${scns[@]}"
	run_start "${name}6" -6 --serve "$cmd6" --port 80 -o "$TEST_TMP/$name-6.json" "${scns[@]}"
	run_wait "${name}4" 120
	run_wait "${name}6" 120
	local p4=${name}4_pid p6=${name}6_pid r4=${name}4_rc r6=${name}6_rc
	check_eq "$name: nothing left behind" "" "$(run_leftovers "${!p4}")$(run_leftovers "${!p6}")"
	check_eq "$name: $server stopped" "" "$(pgrep -f -- "$c4|$c6")"
	if [ ! -s "$TEST_TMP/$name-4.json" ] || [ ! -s "$TEST_TMP/$name-6.json" ]; then
		not_ok "$name: both reports written"
		sed 's/^/# /' "$TEST_TMP/${name}6.err" | head -5
		return 1
	fi
	check_eq "$name: same exit status over IPv6 as over IPv4 (${!r4})" "${!r4}" "${!r6}"
	local s4 s6
	s4=$(jq -c "$SIG" "$TEST_TMP/$name-4.json") s6=$(jq -c "$SIG" "$TEST_TMP/$name-6.json")
	if [ -n "$s4" ] && [ "$s4" = "$s6" ]; then
		ok "$name: same verdicts and findings over IPv6 as over IPv4"
	else
		not_ok "$name: same verdicts and findings over IPv6 as over IPv4"
		diag "IPv4: $s4"; diag "IPv6: $s6"
	fi
	local r=$TEST_TMP/$name-6.json
	check_jq "$name: IPv6: listened on the lab's IPv6 address, no leaked RST" "$r" \
		'(.lab.target.address | test("^fd6c:")) and .lab.leaked_rst == 0'
	check_jq "$name: IPv6: 404 to the first pipelined request, 401 to the PUT" "$r" \
		'.scenarios[0].client.responses[0].status == 404 and .scenarios[1].client.responses[0].status == 401'
	diag "$name over IPv6: $(jq -c '[.scenarios[] | {(.name): {passed, rst: .summary.rst_before_ack,
		at_risk: .summary.bytes_at_risk, lingered: .summary.lingered, responses: (.client.responses | length)}}] | add' "$r")"
}

if command -v nginx >/dev/null; then
	if pair nginx_default nginx ""; then
		check_jq "nginx default: IPv6: all 12 pipelined requests answered, no RST anywhere" \
			"$TEST_TMP/nginx_default-6.json" \
			'(.scenarios[0].client.responses | length) == 12 and all(.scenarios[]; .summary.rst_before_ack == 0)'
	fi
	if pair nginx_close nginx "keepalive_timeout 0; lingering_close off;"; then
		check_jq "nginx lingering_close off: IPv6: pipelined-404 reset with bytes at risk" \
			"$TEST_TMP/nginx_close-6.json" \
			'.scenarios[0] | .passed == false and .summary.rst_before_ack >= 1 and .summary.bytes_at_risk > 0'
	fi
else
	skip "nginx over IPv6 (nginx not installed; make deps installs nginx-light)"
fi

if command -v apache2 >/dev/null && [ -e /usr/lib/apache2/modules/mod_mpm_event.so ]; then
	if pair apache_default apache ""; then
		check_jq "Apache default: IPv6: all 12 pipelined requests answered, no RST anywhere" \
			"$TEST_TMP/apache_default-6.json" \
			'(.scenarios[0].client.responses | length) == 12 and all(.scenarios[]; .summary.rst_before_ack == 0)'
	fi
	if pair apache_nokeepalive apache "KeepAlive Off"; then
		check_jq "Apache KeepAlive Off: IPv6: pipelined-404 lingered, no RST" \
			"$TEST_TMP/apache_nokeepalive-6.json" \
			'.scenarios[0] | .passed and .summary.rst_before_ack == 0 and .summary.lingered >= 1'
	fi
else
	skip "Apache over IPv6 (apache2 not installed; make deps installs apache2-bin)"
fi
finish
