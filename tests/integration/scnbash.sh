#!/usr/bin/env bash
# scnbash.sh - the scenario bug bash's scripts (scenarios/bash/, see
# docs/scnbash.md) audited against the reference target (linger, a 2 s
# keep-alive timeout) and against nginx (keepalive_timeout 2s, Debian's
# lingering defaults), with the answers established by reading the
# captures by hand. Where it can, a check reads the capture itself
# (tshark) rather than the report, so the report is judged by the packets.
#
# Bugs this pins (each check fails on the code before its fix):
#  - a HEAD written with `send` was scanned as if a body followed, so its
#    response stayed "incomplete" (lab/respscan.c rsp_sent);
#  - the audit table summed the client's own rst_before_ack into the
#    server's column, under a verdict saying "no rst_before_ack"
#    (reports/auditout.c);
#  - a `header "Host: ..."` was written after the runner's own Host line:
#    two Host lines, a 400 from nginx (lab/scn_steps.c).
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "scenario bug bash scripts"

sc() { printf '.scenarios[] | select(.name == "%s")' "$1"; }
# pkts CAPTURE FILTER FIELDS...: tshark's fields, one packet per line
pkts() {
	local cap=$1 filt=$2; shift 2
	local f=() x
	for x in "$@"; do f+=(-e "$x"); done
	tshark -r "$cap" -Y "$filt" -T fields "${f[@]}" 2>/dev/null
}
# port REPORT CAPTURE SCENARIO: the client port of the scenario's first
# SYN (the report's connections[] lists flagged connections only)
window() {
	jq -r "$(sc "$2") | \"frame.time_relative >= \\(.start) && frame.time_relative <= \\(.[\"end\"])\"" "$1"
}
port() {
	pkts "$2" "$(window "$1" "$3") && tcp.flags.syn==1 && tcp.flags.ack==0" tcp.srcport | head -1
}
have_tshark=1
command -v tshark >/dev/null || have_tshark=0

# --- 1. the reference target, linger ----------------------------------------
B=$TEST_TMP/builtin
"$LINGERLAB" audit --builtin linger $(run_target_args) --target-arg=--keepalive-timeout \
	--target-arg=2s --scenarios scenarios/bash -o "$B" --color=never >"$B.out" 2>&1
rc=$?
check_eq "builtin linger: every expectation of the 19 scripts holds (exit 0)" 0 "$rc"
[ "$rc" = 0 ] || sed -n '/^scenario/,$p' "$B.out" | sed 's/^/# /' | head -40
R=$B/report.json
check_jq "builtin: 19 scenarios, all passed" "$R" '[.scenarios[] | select(.passed)] | length == 19'
check_eq "builtin: nothing left behind" "" "$(run_leftovers $$)"

# HEAD by `send`: a 200 with Content-Length 1 MiB and no body is complete
check_jq "head-close: the HEAD's response counts complete (no body follows a HEAD)" "$R" \
	"$(sc head-close) | .client.responses[0] | .status == 200 and .complete"
check_jq "head-request: HEAD then GET, two complete responses" "$R" \
	"$(sc head-request) | [.client.responses[] | select(.complete)] | length == 2"

# the table: the client's own finding beside the server's 0, not summed
row=$(grep -E '^rst-after-request ' "$B.out")
check "rst-after-request row: server 0, the client's own shown apart" \
	grep -qE '^rst-after-request +0 \(client 1\) +0 \(client [0-9]+\) ' <<<"$row"
[ -n "$row" ] && diag "$row"
check "builtin verdict: no rst_before_ack" grep -q '^verdict: no rst_before_ack in 19 scenarios' "$B.out"

if [ $have_tshark = 1 ]; then
	C=$B/capture.pcap
	p=$(port "$R" "$C" rst-after-request)
	# the request's bytes, then the client's RST sent before the server's
	# ACK could reach the client 25 ms away: the client's rst_before_ack
	# covers exactly the request
	req=$(pkts "$C" "tcp.srcport==$p && tcp.len>0" tcp.len | head -1)
	check_jq "rst-after-request: a client finding of exactly the request's $req bytes" "$R" \
		".findings[] | select(.connection == $(jq -r "$(sc rst-after-request) | .connections[0]" "$R")) | .sender == \"client\" and .bytes_at_risk_at_server == ${req:-0}"
	check_eq "rst-after-request: the capture has one RST, from the client" "$p" \
		"$(pkts "$C" "tcp.port==$p && tcp.flags.reset==1" tcp.srcport | sort -u)"

	p=$(port "$R" "$C" ack-never)
	nfin=$(pkts "$C" "tcp.srcport==80 && tcp.dstport==$p && tcp.flags.fin==1" frame.number | wc -l)
	check "ack-never: the server's FIN was retransmitted ($nfin FINs on the wire)" test "$nfin" -ge 2
	check_eq "ack-never: the client sent no ACK after the request" 0 \
		"$(pkts "$C" "tcp.srcport==$p && tcp.ack>1" frame.number | wc -l)"

	# the client's FIN crosses the server's, which it never ACKs: the
	# server holds the connection (CLOSING) and sends its FIN again; that
	# all stays in the scenario's window, and after it only the lab's
	# clean-up RST (before the fix the client's side counted as over, no
	# RST came, and the server's FINs fell into the next scenarios)
	p=$(port "$R" "$C" ack-never-fin)
	end=$(jq -r "$(sc ack-never-fin) | .[\"end\"]" "$R")
	nfin=$(pkts "$C" "tcp.srcport==80 && tcp.dstport==$p && tcp.flags.fin==1 && frame.time_relative <= $end" frame.number | wc -l)
	check "ack-never-fin: the server's FIN again, inside the window ($nfin FINs)" test "$nfin" -ge 2
	after=$(pkts "$C" "tcp.port==$p && frame.time_relative > $end" frame.number tcp.srcport tcp.flags.reset)
	check_eq "ack-never-fin: after the window, only the client's RST" "$p 1" \
		"$(awk '{print $2, $3}' <<<"$after")"
	check_jq "ack-never-fin: that RST is the lab's clean-up" "$R" \
		"$(sc ack-never-fin) | .cleanup_rst_packets == [$(awk '{print $1}' <<<"$after" | head -1)]"
fi
check_jq "ack-never-fin: the server's socket was seen CLOSING" "$R" \
	"$(sc ack-never-fin) | .summary.kernel_peak.CLOSING >= 1"
check_jq "ack-never: kernel FIN_WAIT_1, no FIN_WAIT_2 counted" "$R" \
	"$(sc ack-never) | .summary.kernel_peak.FIN_WAIT_1 >= 1 and .summary.fin_wait_2_count == 0"
# linger 2 s (--linger-read-timeout) holds the socket, then tcp_fin_timeout 2 s
check_jq "fin-never-keepalive: FIN_WAIT_2 2 s lingering + 2 s orphaned, ended kernel_timeout" "$R" \
	"$(sc fin-never-keepalive) | .summary | .fin_wait_2_endings.kernel_timeout == 1 and .kernel_fin_wait_2_max > 3.5 and .kernel_fin_wait_2_max < 5"
if [ $have_tshark = 1 ]; then
	w=$(window "$R" stagger-many)
	check_eq "stagger-many: 40 SYNs in the scenario's window" 40 \
		"$(pkts "$C" "$w && tcp.flags.syn==1 && tcp.flags.ack==0" frame.number | wc -l)"
	check_eq "stagger-many: 40 FINs from the server, no RST" "40 0" \
		"$(pkts "$C" "$w && tcp.srcport==80 && tcp.flags.fin==1" frame.number | wc -l) $(pkts "$C" "$w && tcp.flags.reset==1" frame.number | wc -l)"
fi
check_jq "stagger-many: kernel TIME_WAIT peak >= 30" "$R" \
	"$(sc stagger-many) | .summary.kernel_peak.TIME_WAIT >= 30"

# --- 2. nginx ----------------------------------------------------------------
if ! command -v nginx >/dev/null; then
	skip "scnbash against nginx (nginx not installed; make deps installs nginx-light)"
	finish
fi
www=$TEST_TMP/www
mkdir -p "$www"
printf '<html><body>lab</body></html>\n' >"$www/index.html"
head -c 1048576 /dev/zero | tr '\0' x >"$www/large.bin"
chmod -R a+rX "$TEST_TMP"
c=$TEST_TMP/nginx.conf
cat >"$c" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $TEST_TMP/nginx.pid;
error_log $TEST_TMP/nginx.error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $TEST_TMP/body;
  proxy_temp_path $TEST_TMP/proxy;
  fastcgi_temp_path $TEST_TMP/fastcgi;
  uwsgi_temp_path $TEST_TMP/uwsgi;
  scgi_temp_path $TEST_TMP/scgi;
  keepalive_timeout 2s;
  server {
    listen 80;
    root $www;
  }
}
CONF
N=$TEST_TMP/nginx
set -- halfclose-large head-close pipeline-last-close fin-never-keepalive upload-refused \
	rst-after-request keepalive-race vhost-close
mkdir -p "$TEST_TMP/nscn"
for s in "$@"; do cp "scenarios/bash/$s.scn" "$TEST_TMP/nscn/"; done
"$LINGERLAB" audit --serve "exec nginx -c $c" --port 80 --scenarios "$TEST_TMP/nscn" -o "$N" \
	--color=never >"$N.out" 2>&1
rc=$?
check_eq "nginx: exit 1 (halfclose-large fails, nothing else)" 1 "$rc"
R=$N/report.json
check_jq "nginx: only halfclose-large fails" "$R" \
	'[.scenarios[] | select(.passed | not) | .name] == ["halfclose-large"]'
check_eq "nginx: stopped" "" "$(pgrep -f -- "nginx -c $c")"
# nginx takes the client's FIN for an abort ("client prematurely closed
# connection"), stops the 1 MiB response and sends its FIN: no RST, a
# response cut short
check_jq "halfclose-large: nginx cut the response short, with a FIN, no RST" "$R" \
	"$(sc halfclose-large) | .client.responses[0] | .status == 200 and (.complete | not) and .bytes < 1048576"
check "halfclose-large: nginx logged it" grep -q "client prematurely closed connection" "$TEST_TMP/nginx.error.log"
if [ $have_tshark = 1 ]; then
	C=$N/capture.pcap
	p=$(port "$R" "$C" halfclose-large)
	check_eq "halfclose-large: the capture has no RST" 0 \
		"$(pkts "$C" "tcp.port==$p && tcp.flags.reset==1" frame.number | wc -l)"
	sent=$(pkts "$C" "tcp.srcport==80 && tcp.dstport==$p && tcp.flags.fin==1" tcp.seq tcp.len | head -1 |
		awk '{print $1 + $2 - 1}')
	check_jq "halfclose-large: the bytes received are the bytes before nginx's FIN ($sent)" "$R" \
		"$(sc halfclose-large) | .client.responses[0].bytes == ${sent:-0}"
fi
check_jq "head-close: complete against nginx" "$R" \
	"$(sc head-close) | .client.responses[0] | .status == 200 and .complete"
check_jq "pipeline-last-close: three responses, server closed gracefully" "$R" \
	"$(sc pipeline-last-close) | .passed and ([.client.responses[] | select(.complete)] | length == 3)"
check_jq "fin-never-keepalive: nginx's orphan expired after tcp_fin_timeout 2s" "$R" \
	"$(sc fin-never-keepalive) | .summary | .fin_wait_2_endings.kernel_timeout == 1 and .kernel_fin_wait_2_max > 1.9 and .kernel_fin_wait_2_max < 3"
check_jq "upload-refused: nginx answered 413 (client_max_body_size) and drained, no RST" "$R" \
	"$(sc upload-refused) | .client.responses[0].status == 413 and .summary.rst_before_ack == 0 and .client.reset_seen == false"
check_jq "vhost-close: Host from the script, one Host line, nginx answers 200 (not 400)" "$R" \
	"$(sc vhost-close) | .passed and .client.responses[0].status == 200"
check_jq "nginx: no leaked RST" "$R" '.lab.leaked_rst == 0'
finish
