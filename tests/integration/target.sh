#!/usr/bin/env bash
# target.sh - lingerlab-target, the reference server, inside throwaway labs:
# its HTTP answers (200/404/401/400/431, HEAD, keep-alive, pipelining,
# Connection: close, close-on-error vs keep-alive-on-error) and what each
# close policy does on the wire and in the kernel: close answers late body
# data with RST, linger drains it without one (and leaves FIN_WAIT_2 while
# the client holds on), abort resets instead of FIN, never keeps the socket
# ESTABLISHED until the client closes. Clients are bash /dev/tcp in the lab's
# client namespace; the wire is read with tcpdump, sockets with ss.
source tests/lib.sh
source tests/support/lab.bash
trap lab_cleanup EXIT

if ! need_root; then
	skip "target tests need root (namespace lab)"
	finish
fi

# exchange LAB [AFTER]: connect to LAB's target on port 80 from its client
# namespace, send standard input, then run the shell snippet AFTER (default:
# read until EOF), all within 5 s; prints what came back. The request comes
# on stdin because a 1 MiB body does not fit in one argument.
exchange() {
	local lab=$1 after=${2:-'cat <&3'} addr=${1}_server_addr
	in_client "$lab" timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/80" || exit 9; cat >&3 2>/dev/null; eval "$1"' \
		"${!addr}" "$after" 2>/dev/null
}
req() { printf '%b' "$1"; }
status_lines() { tr -d '\r' | grep -a '^HTTP/1.1 ' | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//'; }
head_bytes() { sed -n '1,/^\r$/p' "$1" | wc -c; }

# cap_start LAB NAME: tcpdump on LAB's client veth into $TEST_TMP/NAME.pcap.
# `ip netns exec` execs tcpdump itself, so $! is tcpdump (a function or
# subshell in between would ignore the stop signal). Immediate mode: else
# packets wait in a ring block for up to a second and a stop loses them.
cap_start() {
	local ns=${1}_client_ns ifv=${1}_client_if i
	ip netns exec "${!ns}" tcpdump --immediate-mode -Z root -U -nn -i "${!ifv}" -w "$TEST_TMP/$2.pcap" 2>"$TEST_TMP/$2.tcpdump" &
	cap_pid=$!
	lab_bg "$cap_pid"
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$TEST_TMP/$2.tcpdump" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
cap_stop() {
	local i
	sleep 0.2
	kill -TERM "$cap_pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$cap_pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$cap_pid" 2>/dev/null
	wait "$cap_pid" 2>/dev/null
}
# cap_count NAME LAB FLAG: packets from LAB's server with TCP flag FLAG (rst, fin)
cap_count() {
	local addr=${2}_server_addr
	tcpdump -nn -r "$TEST_TMP/$1.pcap" "src host ${!addr} and tcp[tcpflags] & tcp-$3 != 0" 2>/dev/null | wc -l
}
# ss_count LAB STATE: server-side sockets on port 80 in STATE
ss_count() { in_server "$1" ss -Htn state "$2" '( sport = :80 )' | wc -l; }

body_1m() { head -c 1048576 /dev/zero | tr '\0' 'x'; }

# --- HTTP behaviour, policy close (close-on-error is the default) ----------
if ! lab_start k --builtin close; then
	not_ok "lab with lingerlab-target --policy close"; diag "$(cat "$TEST_TMP/k.err")"; finish
fi

req 'GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange k >"$TEST_TMP/get.resp"
check_eq "GET / is 200" 200 "$(status_lines <"$TEST_TMP/get.resp")"
clen=$(tr -d '\r' <"$TEST_TMP/get.resp" | sed -n 's/^Content-Length: //p')
check_eq "GET / body has its Content-Length" "$clen" $(($(wc -c <"$TEST_TMP/get.resp") - $(head_bytes "$TEST_TMP/get.resp")))
check_eq "GET /index.html is 200" 200 "$(req 'GET /index.html HTTP/1.0\r\n\r\n' | exchange k | status_lines)"

r=$(req 'GET /not_here.html HTTP/1.1\r\nHost: lab\r\n\r\n' | exchange k)
check_eq "GET /not_here.html is 404" 404 "$(status_lines <<<"$r")"
body=${r#*$'\r\n\r\n'}
check "the 404 page is a few hundred bytes" test "${#body}" -ge 200 -a "${#body}" -le 1000
check "the 404 page names the path" grep -q "/not_here.html" <<<"$body"
check "an error response says Connection: close (close-on-error)" grep -q $'^Connection: close\r$' <<<"$r"

req 'HEAD / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange k >"$TEST_TMP/head.resp"
check_eq "HEAD / is 200" 200 "$(status_lines <"$TEST_TMP/head.resp")"
check_eq "HEAD / has no body" "$(head_bytes "$TEST_TMP/head.resp")" "$(wc -c <"$TEST_TMP/head.resp")"

r=$(req 'GET / HTTP/1.1\r\nHost: lab\r\n\r\nGET /index.html HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange k)
check_eq "two pipelined requests get two responses in order" "200 200" "$(status_lines <<<"$r")"

r=$(req 'GET / HTTP/1.1\r\nHost: lab\r\n\r\n' | exchange k 'timeout 1 cat <&3; echo "rc=$?"')
check "keep-alive: the connection stays open after a response" grep -q "^rc=124$" <<<"$r"
check_eq "... after answering it" 200 "$(status_lines <<<"$r")"

r=$(req 'GET /nope HTTP/1.1\r\nHost: lab\r\n\r\nGET / HTTP/1.1\r\nHost: lab\r\n\r\n' | exchange k)
check_eq "close-on-error: a 404 ends the connection, the pipelined GET is not answered" 404 "$(status_lines <<<"$r")"

r=$(req 'PUT /protected/secret.txt HTTP/1.1\r\nHost: lab\r\nContent-Length: 1048576\r\n\r\n' | exchange k)
check_eq "PUT /protected/... is 401 before any body byte was sent" 401 "$(status_lines <<<"$r")"
check "the 401 asks for credentials" grep -q '^WWW-Authenticate: Basic' <<<"$r"

check_eq "a malformed request line is 400" 400 "$(req 'BROKEN\r\n\r\n' | exchange k | status_lines)"
big=$(head -c 9000 /dev/zero | tr '\0' 'a')
check_eq "a request head over 8 KiB is 431" 431 "$(req "GET / HTTP/1.1\r\nX-Big: $big\r\n\r\n" | exchange k | status_lines)"
check_eq "POST to / (a body, read first) is 405" 405 "$(req 'POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nhello' | exchange k | status_lines)"

# close: late body data after the early 401 and close() -> the server's RST
if cap_start k put-close; then
	{ req 'PUT /protected/big HTTP/1.1\r\nHost: lab\r\nContent-Length: 1048576\r\n\r\n'; body_1m; } | exchange k >/dev/null
	cap_stop
	n=$(cap_count put-close k rst)
	check "close: the body arriving after the 401 is answered with RST ($n)" test "$n" -ge 1
else
	not_ok "tcpdump starts in the client namespace"; diag "$(cat "$TEST_TMP/put-close.tcpdump")"
fi

# The binary itself: bad flags, --ready-fd, SIGTERM.
in_server k "$LINGERLAB_TARGET" --policy bogus 2>"$TEST_TMP/bogus.err"
check_eq "--policy bogus: exit 2" 2 $?
check_eq "... with the expected values" "lingerlab-target: --policy: expected close, linger, abort or never, found 'bogus'" \
	"$(cat "$TEST_TMP/bogus.err")"
ip netns exec "$k_server_ns" "$LINGERLAB_TARGET" --listen "$k_server_addr:8081" --ready-fd 3 3>"$TEST_TMP/ready" >/dev/null &
tp=$!
for ((i = 0; i < 100; i++)); do [ -s "$TEST_TMP/ready" ] && break; sleep 0.05; done
check_eq "--ready-fd gets the listening line" "listening $k_server_addr:8081" "$(cat "$TEST_TMP/ready")"
kill -TERM "$tp"
wait "$tp"
check_eq "SIGTERM: the target exits 0" 0 $?
lab_stop k
check_eq "lab with the close target stops cleanly" 0 "$k_rc"

# --- linger: drains the late body, no RST; FIN_WAIT_2 while the client holds
if lab_start l --builtin linger --target-arg --linger-read-timeout --target-arg 0.5; then
	if cap_start l put-linger; then
		r=$({ req 'PUT /protected/big HTTP/1.1\r\nHost: lab\r\nContent-Length: 1048576\r\n\r\n'; body_1m; } | exchange l)
		cap_stop
		check_eq "linger: the client reads the 401 after sending its whole body" 401 "$(status_lines <<<"$r")"
		check_eq "linger: no RST from the server" 0 "$(cap_count put-linger l rst)"
		check_eq "linger: the server sent its FIN" 1 "$(cap_count put-linger l fin)"
	else
		not_ok "tcpdump starts in the client namespace"
	fi
	req 'GET /nope HTTP/1.1\r\nHost: lab\r\n\r\n' | exchange l 'timeout 2 cat <&3 >/dev/null; sleep 1' >/dev/null &
	hold=$!
	sleep 0.5
	check_eq "linger: the server socket is in FIN_WAIT_2 while the client holds on" 1 "$(ss_count l fin-wait-2)"
	wait "$hold"
	lab_stop l
else
	not_ok "lab with lingerlab-target --policy linger"; diag "$(cat "$TEST_TMP/l.err")"
fi

# --- abort: RST instead of FIN --------------------------------------------
if lab_start ab --builtin abort; then
	if cap_start ab abort; then
		req 'GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange ab >/dev/null
		cap_stop
		check "abort: the server ends with RST" test "$(cap_count abort ab rst)" -ge 1
		check_eq "abort: and sends no FIN" 0 "$(cap_count abort ab fin)"
	else
		not_ok "tcpdump starts in the client namespace"
	fi
	lab_stop ab
else
	not_ok "lab with lingerlab-target --policy abort"; diag "$(cat "$TEST_TMP/ab.err")"
fi

# --- never: no FIN, the socket stays ESTABLISHED until the client closes ----
if lab_start nv --builtin never; then
	cap_start nv never || not_ok "tcpdump starts in the client namespace"
	req 'GET /nope HTTP/1.1\r\nHost: lab\r\n\r\n' | exchange nv 'timeout 1 cat <&3 >/dev/null; sleep 0.5' >"$TEST_TMP/never.out" &
	hold=$!
	sleep 1.2
	check_eq "never: the server socket stays ESTABLISHED after the 404" 1 "$(ss_count nv established)"
	check_eq "never: no FIN_WAIT_2" 0 "$(ss_count nv fin-wait-2)"
	wait "$hold"
	cap_stop
	check_eq "never: the server sent no FIN before the client closed" 0 \
		"$(tcpdump -nn -r "$TEST_TMP/never.pcap" 2>/dev/null |
		   awk -v s="$nv_server_addr.80" '/Flags \[F/ { if ($3 == s) print "server FIN first"; exit }' | wc -l)"
	for ((i = 0; i < 40; i++)); do [ "$(ss_count nv established)" = 0 ] && break; sleep 0.05; done
	check_eq "never: once the client closed, the server closed too" "0 0" "$(ss_count nv established) $(ss_count nv close-wait)"
	lab_stop nv
else
	not_ok "lab with lingerlab-target --policy never"; diag "$(cat "$TEST_TMP/nv.err")"
fi

# --- keep-alive-on-error ---------------------------------------------------
if lab_start ka --builtin close --target-arg --keep-alive-on-error; then
	r=$(req 'GET /nope HTTP/1.1\r\nHost: lab\r\n\r\nGET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange ka)
	check_eq "keep-alive-on-error: the GET after a 404 is answered" "404 200" "$(status_lines <<<"$r")"
	r=$(req 'PUT /protected/x HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n' | exchange ka)
	check_eq "keep-alive-on-error: the body after an early 401 is skipped" "401 200" "$(status_lines <<<"$r")"
	lab_stop ka
else
	not_ok "lab with --keep-alive-on-error"; diag "$(cat "$TEST_TMP/ka.err")"
fi
finish
