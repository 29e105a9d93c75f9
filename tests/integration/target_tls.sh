#!/usr/bin/env bash
# target_tls.sh - lingerlab-target --tls inside throwaway labs: curl gets
# its pages over TLS 1.3 and 1.2 (self-signed certificate, made at
# start-up), pipelined requests are answered in order, a certificate and
# key given with --cert/--key are served, bad TLS options are refused with
# one clear line; and the close policies keep their meaning under TLS:
# with `close` a PUT whose body is still coming gets its 401 and then a
# RST (the unread records sit in the kernel), with `linger` no RST.
source tests/lib.sh
source tests/support/lab.bash
trap lab_cleanup EXIT

if ! need_root; then
	skip "target TLS tests need root (namespace lab)"
	finish
fi
for t in curl python3 tcpdump openssl; do
	command -v "$t" >/dev/null || { not_ok "$t is installed (make deps)"; finish; }
done

# Bad options: one line, exit 2
out=$("$LINGERLAB_TARGET" --listen 127.0.0.1:1 --cert /nonexistent 2>&1); rc=$?
check_eq "--cert without --tls: exit 2" 2 "$rc"
check_eq "--cert without --tls: says so" "lingerlab-target: --cert and --key need --tls" "$out"
out=$("$LINGERLAB_TARGET" --listen 127.0.0.1:1 --tls-close-notify maybe 2>&1); rc=$?
check_eq "--tls-close-notify maybe: exit 2" 2 "$rc"

# put_reset LAB: a PUT of 4 MiB to /protected over TLS from the client
# namespace, written as fast as the server takes it; prints "STATUS ERROR"
# (ERROR: ok, reset or another exception name).
put_probe() {
	local addr=${1}_server_addr
	in_client "$1" timeout 10 python3 -c '
import socket, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], 443)))
s.sendall(b"PUT /protected/x HTTP/1.1\r\nHost: lab\r\nContent-Length: 4194304\r\n\r\n")
err = "ok"
try:
    for i in range(256):
        s.sendall(b"x" * 16384)
except Exception as e:
    err = type(e).__name__
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
except Exception as e:
    err = err if err != "ok" else type(e).__name__
st = data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "none"
print(st, err)' "${!addr}" 2>/dev/null
}

for policy in close linger; do
	if ! lab_start "$policy" --builtin "$policy" --port 443 --target-arg --tls; then
		not_ok "$policy: lab with a TLS target starts"; diag "$(cat "$TEST_TMP/$policy.err")"
		continue
	fi
	ok "$policy: lab with a TLS target starts"
	addr=${policy}_server_addr
	code=$(in_client "$policy" curl -sk --max-time 5 -o /dev/null -w '%{http_code} %{ssl_verify_result}' "https://${!addr}/")
	check_eq "$policy: curl over TLS 1.3 gets 200 (self-signed: verify result 18)" "200 18" "$code"
	code=$(in_client "$policy" curl -sk --max-time 5 --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "https://${!addr}/nope")
	check_eq "$policy: curl over TLS 1.2 gets 404 for /nope" "404" "$code"
	got=$(printf 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
		in_client "$policy" timeout 5 openssl s_client -quiet -connect "${!addr}:443" 2>/dev/null |
		tr -d '\r' | grep -a '^HTTP/1.1 ' | cut -d' ' -f2 | tr '\n' ' ')
	check_eq "$policy: pipelined requests answered in order" "200 404 " "$got"

	ns=${policy}_server_ns ifv=${policy}_server_if
	ip netns exec "${!ns}" tcpdump --immediate-mode -U -nn -i "${!ifv}" -w "$TEST_TMP/$policy.pcap" 'tcp port 443' 2>/dev/null &
	tpid=$!
	lab_bg "$tpid"
	sleep 0.5
	res=$(put_probe "$policy")
	sleep 0.3
	kill -INT "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
	rsts=$(tcpdump -nr "$TEST_TMP/$policy.pcap" 'tcp[tcpflags] & tcp-rst != 0 and src port 443' 2>/dev/null | wc -l)
	if [ "$policy" = close ]; then
		check_eq "close: the PUT gets its 401" "401" "${res%% *}"
		check "close: the server resets (unread TLS records in its kernel): $rsts RST" test "$rsts" -gt 0
	else
		check_eq "linger: the PUT gets its 401 and no error" "401 ok" "$res"
		check_eq "linger: no RST from the server" 0 "$rsts"
	fi
	lab_stop "$policy"
done

# --cert/--key: the given certificate is the one served
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" \
	-days 1 -subj /CN=given.lab 2>/dev/null
if lab_start g --builtin linger --port 443 --target-arg --tls --target-arg --cert \
	--target-arg "$TEST_TMP/cert.pem" --target-arg --key --target-arg "$TEST_TMP/key.pem"; then
	subj=$(in_client g timeout 5 openssl s_client -connect "${g_server_addr}:443" </dev/null 2>/dev/null |
		grep -a '^subject=' | head -1)
	check_eq "--cert/--key: the given certificate is served" "subject=CN = given.lab" "$subj"
	lab_stop g
else
	not_ok "lab with --cert/--key starts"; diag "$(cat "$TEST_TMP/g.err")"
fi
finish
