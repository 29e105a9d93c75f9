#!/usr/bin/env bash
# lab_netns.sh - `lingerlab lab up` builds the lab of DESIGN.md (two
# namespaces named with its pid, a veth pair that never touches the host,
# the raw address's permanent neighbour entry, no forwarding on the client
# side, no IPv6 on the lab links), starts and stops targets in it, and every
# way out removes everything: SIGTERM, SIGINT, a target that fails to start,
# and SIGKILL (the target's watchdog stops it) followed by `lingerlab lab
# clean` (which leaves live labs alone).
source tests/lib.sh
source tests/support/lab.bash
trap lab_cleanup EXIT

if ! need_root; then
	skip "lab tests need root"
	finish
fi

gone() { [ ! -e "/run/netns/$1" ]; }
# running: exists and is not a zombie (a killed orphan may wait for pid 1)
running() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$s" ] && [[ $s != Z* ]]; }
not_running() { ! running "$1"; }
host_links() { ip -o link show | grep -c "ll$1v" ; }
# the lab's /24 for a pid: 10.(64 + (pid>>8)%64).(pid&255)
net_of() { echo "10.$((64 + ($1 >> 8) % 64)).$(($1 & 255))"; }

# --- the lab's shape -------------------------------------------------------
if lab_start a; then ok "lab up prints its names and ready"; else not_ok "lab up prints its names and ready"; diag "$(cat "$TEST_TMP/a.err")"; fi
p=$a_pid
net=$(net_of "$p")
check_eq "server namespace carries the pid" "ll${p}s" "${a_server_ns:-}"
check_eq "client namespace carries the pid" "ll${p}c" "${a_client_ns:-}"
check_eq "server address is .1 of the pid's /24" "$net.1" "${a_server_addr:-}"
check_eq "raw client address is .3" "$net.3" "${a_raw_addr:-}"
check "both namespaces are listed by ip netns" bash -c "ip netns list | grep -q '^ll${p}s' && ip netns list | grep -q '^ll${p}c'"
check_eq "no lab link in the host namespace" 0 "$(host_links "$p")"
check "server veth is up with $net.1/24" bash -c "ip -n ll${p}s -o addr show dev ll${p}vs | grep -q 'inet $net.1/24' && ip -n ll${p}s -o link show ll${p}vs | grep -q 'state UP'"
check "client veth is up with $net.2/24" bash -c "ip -n ll${p}c -o addr show dev ll${p}vc | grep -q 'inet $net.2/24' && ip -n ll${p}c -o link show ll${p}vc | grep -q 'state UP'"
check_eq "the client veth's MAC is the one reported" "${a_client_mac:-}" "$(ip -n "ll${p}c" -o link show "ll${p}vc" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)"
check_eq "permanent neighbour entry: raw address -> client veth MAC" \
	"$net.3 dev ll${p}vs lladdr ${a_client_mac:-?} PERMANENT" "$(ip -n "ll${p}s" neigh show "$net.3" | sed 's/ *$//')"
check_eq "forwarding is off in the client namespace" 0 "$(ip netns exec "ll${p}c" cat /proc/sys/net/ipv4/ip_forward)"
check_eq "rp_filter is off in the server namespace" 0 "$(ip netns exec "ll${p}s" cat /proc/sys/net/ipv4/conf/all/rp_filter)"
check_eq "no IPv6 address on the lab links" "" "$(ip -n "ll${p}s" -6 -o addr show dev "ll${p}vs"; ip -n "ll${p}c" -6 -o addr show dev "ll${p}vc")"
check "lo is up in both namespaces" bash -c "ip -n ll${p}s -o link show lo | grep -q 'UP' && ip -n ll${p}c -o link show lo | grep -q 'UP'"

# A live lab is not stale: clean leaves it.
"$LINGERLAB" lab clean >"$TEST_TMP/clean-live.out" 2>&1
check_eq "lab clean exits 0" 0 $?
check "lab clean leaves a live run's namespaces alone" test -e "/run/netns/ll${p}s"

lab_stop a TERM
check_eq "SIGTERM: lab up exits 0" 0 "$a_rc"
check "SIGTERM: both namespaces removed" bash -c "[ ! -e /run/netns/ll${p}s ] && [ ! -e /run/netns/ll${p}c ]"

# --- SIGINT, with a builtin target in it -----------------------------------
if lab_start b --builtin linger; then
	ok "lab up --builtin linger starts the target"
	tp=$b_target_pid
	check_eq "the target runs in the server namespace" "$(readlink "/proc/$tp/ns/net")" \
		"$(ip netns exec "$b_server_ns" readlink /proc/self/ns/net)"
	resp=$(in_client b timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/80" && printf "GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n" >&3 && head -1 <&3' "$b_server_addr")
	check_eq "a client in the client namespace reaches the target" $'HTTP/1.1 200 OK\r' "$resp"
	lab_stop b INT
	check_eq "SIGINT: lab up exits 0" 0 "$b_rc"
	check "SIGINT: the target was stopped" bash -c "! kill -0 $tp 2>/dev/null"   # our grandchild: reaped by lab up
	check "SIGINT: both namespaces removed" bash -c "[ ! -e /run/netns/$b_server_ns ] && [ ! -e /run/netns/$b_client_ns ]"
else
	not_ok "lab up --builtin linger starts the target"; diag "$(cat "$TEST_TMP/b.err")"
fi

# --- SIGKILL leaves things behind; lab clean removes them -------------------
if lab_start c --builtin close; then
	p=$c_pid
	tp=$c_target_pid
	# this lab's own watchdog (other labs on the host have theirs)
	wd=$(pgrep -x -P "$p" lingerlab-watch | head -1)
	lab_stop c KILL
	check "SIGKILL: namespaces are left behind" test -e "/run/netns/ll${p}s"
	# the watchdog (lab/launch.h) stops the target of a killed run: no
	# target keeps serving, whatever else is left for lab clean
	for ((i = 0; i < 60; i++)); do running "$tp" || break; sleep 0.1; done
	check "SIGKILL: the target does not keep serving (the watchdog stopped it)" not_running "$tp"
	check "SIGKILL: lab up had a watchdog" test -n "$wd"
	for ((i = 0; i < 30; i++)); do running "${wd:-0}" || break; sleep 0.1; done
	check "SIGKILL: the watchdog is gone too" not_running "${wd:-0}"
	logdir=${TMPDIR:-/tmp}
	check "SIGKILL: the target's log is left behind" \
		bash -c "ls '$logdir'/lingerlab-target-${p}-*.log >/dev/null 2>&1"
	live_log=$logdir/lingerlab-target-$$-livetest.log   # this shell is alive
	: >"$live_log"
	out=$("$LINGERLAB" lab clean 2>&1)
	rc=$?
	check "lab clean removed the dead run's target log" \
		bash -c "! ls '$logdir'/lingerlab-target-${p}-*.log >/dev/null 2>&1"
	check "lab clean reports the target log" grep -q "^removed target log $logdir/lingerlab-target-${p}-" <<<"$out"
	check "lab clean leaves a live process's target log alone" test -e "$live_log"
	rm -f "$live_log"
	check_eq "lab clean after SIGKILL exits 0" 0 "$rc"
	check "lab clean reports the server namespace, with no process left to kill" grep -qx "removed namespace ll${p}s" <<<"$out"
	check "lab clean reports the client namespace" grep -qx "removed namespace ll${p}c" <<<"$out"
	check "lab clean removed both namespaces" bash -c "[ ! -e /run/netns/ll${p}s ] && [ ! -e /run/netns/ll${p}c ]"
	check "lab clean killed the stale target" not_running "$tp"
	check_eq "no lab link anywhere on the host" 0 "$(host_links "$p")"
else
	not_ok "lab up --builtin close (for the SIGKILL test)"; diag "$(cat "$TEST_TMP/c.err")"
fi

# --- failures tear down too, and say why -----------------------------------
"$LINGERLAB" lab up --serve 'echo "boom: bad config" >&2; exit 4' --port 8080 >"$TEST_TMP/d.out" 2>"$TEST_TMP/d.err" &
dp=$!
wait $dp
check_eq "a server command that dies: exit 1" 1 $?
check_eq "... and the message quotes its status and output" \
	"lingerlab lab up: target: exited with status 4 before listening on $(net_of $dp).1:8080; its output ends: boom: bad config" \
	"$(cat "$TEST_TMP/d.err")"
check "... and its namespaces are gone" gone "ll${dp}s"

"$LINGERLAB" lab up --serve 'exec sleep 31.7' --port 8080 --ready-timeout 0.5 >"$TEST_TMP/e.out" 2>"$TEST_TMP/e.err" &
ep=$!
wait $ep
check_eq "a server that never listens: exit 1" 1 $?
check_eq "... with the time it waited" \
	"lingerlab lab up: target: nothing listens on port 8080 in ll${ep}s after 0.5 s" "$(cat "$TEST_TMP/e.err")"
check "... its process is gone" bash -c "! pgrep -f '^sleep 31.7$' >/dev/null"
check "... and its namespaces are gone" gone "ll${ep}s"

LINGERLAB_TARGET=/nonexistent/lingerlab-target "$LINGERLAB" lab up --builtin close >/dev/null 2>"$TEST_TMP/f.err"
check_eq "builtin target missing: exit 3" 3 $?
check_eq "... with a message naming the variable" \
	"lingerlab lab up: lingerlab-target: LINGERLAB_TARGET=/nonexistent/lingerlab-target is not an executable file" \
	"$(cat "$TEST_TMP/f.err")"

# --- not root: environment problem, exit 3 ---------------------------------
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LINGERLAB" lab clean >/dev/null 2>"$TEST_TMP/g.err"
	check_eq "lab clean as a non-root user: exit 3" 3 $?
	check_eq "... with a clear message" \
		"lingerlab lab clean: lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to make network namespaces); run as root" \
		"$(cat "$TEST_TMP/g.err")"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$LINGERLAB" lab up >/dev/null 2>&1
	check_eq "lab up as a non-root user: exit 3" 3 $?
else
	skip "setpriv not installed"
fi

"$LINGERLAB" lab frobnicate >/dev/null 2>"$TEST_TMP/h.err"
check_eq "unknown lab subcommand: exit 2" 2 $?
check_eq "... named in the message" "lingerlab lab: unknown subcommand 'frobnicate' (try lingerlab lab --help)" "$(cat "$TEST_TMP/h.err")"
finish
