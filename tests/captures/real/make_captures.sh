#!/usr/bin/env bash
# make_captures.sh - how the loopback captures in this folder were made
# (Debian 12; run as root; needs tcpdump, python3 and the server packages).
# Usage: make_captures.sh NAME PORT 'SERVER COMMAND' 'CLIENT ARGS'...
# Starts the server, captures port PORT on lo (snaplen 128) while
# client.py runs once per CLIENT ARGS, stops both, writes NAME.pcap here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=$1 port=$2 server=$3; shift 3
setsid sh -c "$server" >"/tmp/rc/$name.server.log" 2>&1 &
spid=$!
for _ in $(seq 50); do ss -ltn "sport = :$port" | grep -q LISTEN && break; sleep 0.1; done
tcpdump -i lo -s 128 -U -w "$here/$name.pcap" "tcp port $port" 2>/dev/null &
tpid=$!
sleep 1
for args in "$@"; do
	python3 "$here/client.py" $args
	sleep 1.5
done
sleep 1
kill "$tpid"; wait "$tpid" 2>/dev/null
kill -- -"$spid" 2>/dev/null; wait "$spid" 2>/dev/null
sleep 0.3
