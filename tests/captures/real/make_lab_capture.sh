#!/usr/bin/env bash
# make_lab_capture.sh - how the lab captures (lab-*.pcap) in this folder
# were made: run from the worktree's top as root, after `make all`.
# Usage: make_lab_capture.sh NAME PORT 'SERVER COMMAND' SCENARIO...
# Runs the scenarios with `lingerlab run --serve`, then cuts every frame
# of the lab's capture to 128 bytes (editcap -s 128) into NAME.pcap here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=$1 port=$2 server=$3; shift 3
mkdir -p /tmp/rc
build/lingerlab run --serve "$server" --port "$port" \
	-o "/tmp/rc/$name.json" -w "/tmp/rc/$name.full.pcap" "$@"
editcap -s 128 "/tmp/rc/$name.full.pcap" "$here/$name.pcap"
