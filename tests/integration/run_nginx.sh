#!/usr/bin/env bash
# run_nginx.sh - a real server from Debian's archive as a --serve target:
# nginx closing after every response (keepalive_requests 1, like Apache
# after an error), once with `lingering_close off` and once with `on`.
# With pipelined requests already received when it closes, `off` resets
# the connection with the 404 unacknowledged (rst_before_ack); `on`
# lingers, drains them and closes cleanly.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "nginx as a --serve target"
if ! command -v nginx >/dev/null; then
	skip "nginx as a --serve target (nginx not installed; make deps installs nginx-light)"
	finish
fi

www=$TEST_TMP/www
mkdir -p "$www"
printf '<html><body>lab</body></html>\n' >"$www/index.html"
conf() { # conf MODE -> path of an nginx.conf with lingering_close MODE
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
  client_body_temp_path $TEST_TMP/body;
  proxy_temp_path $TEST_TMP/proxy;
  fastcgi_temp_path $TEST_TMP/fastcgi;
  uwsgi_temp_path $TEST_TMP/uwsgi;
  scgi_temp_path $TEST_TMP/scgi;
  keepalive_requests 1;
  lingering_close $1;
  server {
    listen 80;
    root $www;
  }
}
CONF
	echo "$c"
}

for mode in off on; do
	c=$(conf $mode)
	rep=$TEST_TMP/$mode.json
	run_start "ng$mode" --serve "nginx -c $c" --port 80 -o "$rep" \
		scenarios/pipelined-404.scn scenarios/clean-close.scn
	run_wait "ng$mode" 90
	pidv=ng${mode}_pid; rcv=ng${mode}_rc
	check_eq "lingering_close $mode: nothing left behind" "" "$(run_leftovers "${!pidv}")"
	check_eq "lingering_close $mode: nginx stopped" "" "$(pgrep -f -- "nginx -c $c")"
	if [ ! -s "$rep" ]; then not_ok "lingering_close $mode: report written"; continue; fi
	if [ -x tests/support/validate-json ]; then
		check "lingering_close $mode: report matches the schema" \
			tests/support/validate-json reports/schema/report.schema.json "$rep"
	fi
	check_jq "lingering_close $mode: target recorded as serve" "$rep" \
		".lab.target.kind == \"serve\" and .lab.target.policy == null and (.lab.target.command | test(\"nginx -c\")) and .lab.target.port == 80"
	check_jq "lingering_close $mode: no leaked RST" "$rep" '.lab.leaked_rst == 0'
	check_jq "lingering_close $mode: nginx answered 404 to the first request" "$rep" \
		'.scenarios[0].client.responses[0].status == 404'
	check_jq "lingering_close $mode: clean-close passes" "$rep" '.scenarios[1].passed'
	if [ $mode = off ]; then
		check_eq "lingering_close off: exit 1" 1 "${!rcv}"
		check_jq "lingering_close off: rst_before_ack with bytes at risk" "$rep" \
			'.scenarios[0].summary.rst_before_ack >= 1 and .scenarios[0].summary.bytes_at_risk > 0'
	else
		check_eq "lingering_close on: exit 0" 0 "${!rcv}"
		check_jq "lingering_close on: no rst_before_ack, nginx lingered" "$rep" \
			'.scenarios[0].summary.rst_before_ack == 0 and .scenarios[0].summary.lingered >= 1'
	fi
done
finish
