#!/usr/bin/env bash
# make_lab_tls_capture.sh - how the lab TLS captures (lab-*-tls*.pcap and
# their .keys) in this folder were made: run from the worktree's top as
# root, after `make all`. Usage:
#   make_lab_tls_capture.sh NAME PORT 'SERVER COMMAND' SCENARIO...
# Runs the scenarios with `lingerlab run --serve --tls` and keeps the
# lab's capture whole (TLS records cut short could not be decrypted) as
# NAME.pcap, with the session keys the raw client negotiated (NSS key
# log) as NAME.keys:
#   tshark -r NAME.pcap -o tls.keylog_file:NAME.keys
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=$1 port=$2 server=$3; shift 3
mkdir -p /tmp/rc
build/lingerlab run --serve "$server" --port "$port" --tls \
	-o "/tmp/rc/$name.json" -w "/tmp/rc/$name.pcap" "$@"
cp "/tmp/rc/$name.pcap" "/tmp/rc/$name.keys" "$here/"
