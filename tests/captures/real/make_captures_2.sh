#!/usr/bin/env bash
# make_captures_2.sh - how the second set of loopback captures (README.md,
# "Second set") was made (Debian 12; root; tcpdump, python3, curl, openssl
# and the server packages). Files live under /tmp/rc2: www/ (index.html of
# 30 bytes, big.bin of 300000 random bytes), cert.pem/key.pem (openssl req
# -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost).
# Usage: make_captures_2.sh NAME 'PCAP FILTER' SNAPLEN 'SERVER COMMAND' 'CLIENT SHELL COMMAND'...
# Starts the server (its pid in $SPID for a client that kills it), captures
# on lo while each client command runs (1.5 s apart), writes NAME.pcap here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=$1 filter=$2 snap=$3 server=$4; shift 4
mkdir -p /tmp/rc2
setsid sh -c "$server" >"/tmp/rc2/$name.server.log" 2>&1 &
spid=$!; export SPID=$spid
sleep 1
tcpdump -i lo -s "$snap" -U -w "$here/$name.pcap" "$filter" 2>/dev/null &
tpid=$!
sleep 1
for c in "$@"; do
	timeout 20 bash -c "$c" >>"/tmp/rc2/$name.client.log" 2>&1
	sleep 1.5
done
sleep 1
kill "$tpid"; wait "$tpid" 2>/dev/null
kill -- -"$spid" 2>/dev/null; wait "$spid" 2>/dev/null
