#!/usr/bin/env bash
# bench/tlsdec.sh - part of `make bench`: what decrypting TLS with a key log
# costs (analyze --tls-keylog). A capture made here and cached in
# $BUILD/bench/: nginx with ssl on 127.0.0.1 (its own temporary config and
# a self-signed P-256 certificate), python3's ssl client writing the key
# log (keylog_filename), N connections each fetching a 64 KiB file with
# Connection: close, under tcpdump. The same capture is analyzed without
# and with the key log: the best of 5 wall times, the peak RSS, and the
# decrypted records and responses. Figures are printed, never asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
LINGERLAB=$BUILD/lingerlab
OUT=$BUILD/bench
N=${BENCH_TLS_CONNS:-1500}
CAP=$OUT/nginx-tls-$N.pcap
KEYS=$OUT/nginx-tls-$N.keys
mkdir -p "$OUT"
say() { printf 'tlsdec: %s\n' "$*"; }

TMP=$(mktemp -d /tmp/lingerlab-bench-tls.XXXXXX)
NGINX_PID= TCPDUMP_PID=
cleanup() {
	for p in $TCPDUMP_PID $NGINX_PID; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $TCPDUMP_PID $NGINX_PID; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

if [ ! -s "$CAP" ] || [ ! -s "$KEYS" ]; then
	[ "$(id -u)" = 0 ] || { say "building the capture needs root (tcpdump -i lo)"; exit 1; }
	for t in nginx tcpdump python3 openssl; do
		command -v "$t" >/dev/null || { say "$t not installed (make deps)"; exit 1; }
	done
	port=""
	for _ in $(seq 20); do
		p=$((20000 + RANDOM % 20000))
		if ! ss -Htln "sport = :$p" | grep -q .; then port=$p; break; fi
	done
	[ -n "$port" ] || { say "no free port"; exit 1; }
	mkdir -p "$TMP/www" "$TMP/t"
	head -c 65536 /dev/urandom >"$TMP/www/big.bin"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench \
		-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
	chmod -R a+rX "$TMP"
	cat >"$TMP/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/t;
  proxy_temp_path $TMP/t;
  fastcgi_temp_path $TMP/t;
  uwsgi_temp_path $TMP/t;
  scgi_temp_path $TMP/t;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $TMP/www;
  }
}
EOF
	nginx -c "$TMP/nginx.conf" &
	NGINX_PID=$!
	for _ in $(seq 50); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.1; done
	tcpdump -i lo -w "$TMP/cap.pcap" -B 65536 "tcp port $port" 2>/dev/null &
	TCPDUMP_PID=$!
	sleep 1
	python3 - "$port" "$TMP/keys" "$N" <<'PY'
import socket, ssl, sys
port, keys, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.keylog_filename = keys
for i in range(n):
    if i % 2:  # half TLS 1.2 (AES-GCM), half TLS 1.3
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port))) as t:
        t.sendall(b"GET /big.bin HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        while t.recv(65536):
            pass
PY
	sleep 1
	kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" 2>/dev/null || true; TCPDUMP_PID=
	mv "$TMP/cap.pcap" "$CAP"
	mv "$TMP/keys" "$KEYS"
fi

best() { # best ARGS...: the best of 5 wall times in ms
	local b=999999 s e t
	for _ in 1 2 3 4 5; do
		s=$(date +%s%N)
		"$LINGERLAB" analyze -r "$CAP" "$@" -o /dev/null
		e=$(date +%s%N)
		t=$(( (e - s) / 1000000 ))
		[ "$t" -lt "$b" ] && b=$t
	done
	echo "$b"
}
rss() { /usr/bin/time -f '%M' "$LINGERLAB" analyze -r "$CAP" "$@" -o /dev/null 2>&1 >/dev/null | tail -1; }

bytes=$(stat -c %s "$CAP")
t0=$(best)
t1=$(best --tls-keylog "$KEYS")
r0=$(rss)
r1=$(rss --tls-keylog "$KEYS")
"$LINGERLAB" analyze -r "$CAP" --tls-keylog "$KEYS" -o /dev/null --connections "$TMP/c.jsonl"
sum=$(python3 - "$TMP/c.jsonl" <<'PY'
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
t = [x["tls"] for x in c if x.get("tls")]
dec = sum(1 for x in t if x.get("decrypted"))
rec = sum(x.get("records_decrypted", 0) for x in t)
nd = sum(sum(x.get("not_decrypted", {}).values()) for x in t)
resp = sum(len(x["http"]["responses"]) for x in c)
print(f"{len(c)} connections, {dec} decrypted, {rec} records decrypted, {nd} not, {resp} responses")
PY
)
say "capture: $((bytes / 1048576)) MiB, $sum"
say "without keys: ${t0} ms, peak RSS ${r0} KiB"
say "with keys:    ${t1} ms, peak RSS ${r1} KiB (decryption: $(( t1 > t0 ? t1 - t0 : 0 )) ms for the capture)"
