#!/usr/bin/env bash
# analyze_privileges.sh - `lingerlab analyze -i` gives up root once the
# capture is open: while it captures, /proc/PID/status shows nobody's uid
# (or -Z USER's) and no capability at all, and the report and the
# --connections file still land in a root-only directory; -Z root keeps
# root; without the right to capture it exits 3 with one clear line.
source tests/lib.sh
TINY=${BUILD:-build}/tests/tiny_server

if ! need_root; then skip "privilege drop needs root to start with"; finish; fi

PIDS=
cleanup() {
	local p
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

wait_for() { # FILE PATTERN: up to 5 s
	local i
	for i in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
status_field() { # PID FIELD: the value of FIELD: in /proc/PID/status
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status"
}

NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
# $TEST_TMP is root's and mode 0700: nobody could create nothing in it
chmod 700 "$TEST_TMP"

"$TINY" server fin >"$TEST_TMP/server.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$TEST_TMP/server.out" '^[0-9]' || { not_ok "tiny server started"; finish; }
PORT=$(head -1 "$TEST_TMP/server.out")

# --- default: nobody, no capability --------------------------------------
"$LINGERLAB" analyze -i lo --duration 2 -o "$TEST_TMP/drop.json" \
	--connections "$TEST_TMP/drop.jsonl" "tcp port $PORT" 2>"$TEST_TMP/drop.err" &
APID=$!
PIDS="$PIDS $APID"
if wait_for "$TEST_TMP/drop.err" 'listening on lo'; then
	"$TINY" client "$PORT" get 0 >/dev/null
	uid=$(status_field "$APID" Uid)
	gid=$(status_field "$APID" Gid)
	groups=$(status_field "$APID" Groups)
	capeff=$(status_field "$APID" CapEff)
	capprm=$(status_field "$APID" CapPrm)
	capbnd=$(status_field "$APID" CapBnd)
	nnp=$(status_field "$APID" NoNewPrivs)
	diag "while capturing: Uid $uid, CapEff $capeff, CapPrm $capprm"
	check_eq "capturing: real, effective, saved and fs uid are nobody's" \
		"$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" "$uid"
	check_eq "capturing: every gid is nobody's group" \
		"$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" "$gid"
	check_eq "capturing: no supplementary group but nobody's own" "$NOBODY_GID" "$(echo $groups)"
	check_eq "capturing: CapEff is empty" 0000000000000000 "$capeff"
	check_eq "capturing: CapPrm is empty" 0000000000000000 "$capprm"
	check_eq "capturing: the bounding set is empty" 0000000000000000 "$capbnd"
	check_eq "capturing: no new privileges through execve" 1 "$nnp"
	wait "$APID"
	check_eq "dropped: exits 0 after --duration" 0 "$?"
	check_jq "dropped: the report is written in the root-only directory and saw the connection" \
		"$TEST_TMP/drop.json" '.input.live and .summary.connections == 1'
	check_jq "dropped: --connections is written too" "$TEST_TMP/drop.jsonl" \
		'.handshake and .close_initiator == "server"'
	check_eq "dropped: the report is root's file (created before the drop)" \
		"0" "$(stat -c %u "$TEST_TMP/drop.json")"
else
	not_ok "analyze -i lo started listening"
	diag "$(cat "$TEST_TMP/drop.err")"
fi

# --- -Z root keeps root ----------------------------------------------------
"$LINGERLAB" analyze -i lo -Z root --duration 1 -o "$TEST_TMP/root.json" \
	"tcp port $PORT" 2>"$TEST_TMP/root.err" &
APID=$!
PIDS="$PIDS $APID"
if wait_for "$TEST_TMP/root.err" 'listening on lo'; then
	check_eq "-Z root: still uid 0 while capturing" "0 0 0 0" "$(status_field "$APID" Uid)"
	wait "$APID"
	check_eq "-Z root: exits 0" 0 "$?"
else
	not_ok "-Z root: analyze -i lo started listening"
fi

# --- -Z USER --------------------------------------------------------------
"$LINGERLAB" analyze -i lo -Z no-such-user-here --duration 1 >"$TEST_TMP/out" 2>"$TEST_TMP/err"
check_eq "-Z unknown user: exit 2" 2 "$?"
check_eq "-Z unknown user: message" "lingerlab analyze: -Z: no such user 'no-such-user-here'" \
	"$(cat "$TEST_TMP/err")"
"$LINGERLAB" analyze -r /dev/null -Z nobody >"$TEST_TMP/out" 2>"$TEST_TMP/err"
check_eq "-Z without -i: exit 2" 2 "$?"
check_eq "-Z without -i: message" "lingerlab analyze: -Z: only with -i (a live capture)" \
	"$(cat "$TEST_TMP/err")"

# --- not allowed to capture -----------------------------------------------
if command -v setpriv >/dev/null; then
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$LINGERLAB" analyze -i lo --duration 1 -o /dev/null >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	check_eq "not root: exit 3 (environment)" 3 "$?"
	check_eq "not root: one clear line" \
		"lingerlab analyze: lo: socket: Operation not permitted (capturing needs root or CAP_NET_RAW)" \
		"$(cat "$TEST_TMP/err")"
else
	skip "not root: exit 3 (setpriv missing)"
fi

"$LINGERLAB" analyze --help >"$TEST_TMP/out" 2>&1
check "--help documents -Z" grep -q -- "-Z USER" "$TEST_TMP/out"
finish
