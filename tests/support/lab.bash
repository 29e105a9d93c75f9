# tests/support/lab.bash - helpers for tests that hold a namespace lab
# through `lingerlab lab up` (bash; source it after tests/lib.sh).
#
#   lab_start NAME [lab up options...]   start a holder; on success the
#       variables NAME_pid, NAME_server_ns, NAME_client_ns, NAME_server_addr,
#       ... (every key=value line `lab up` prints) are set; returns 1 if it
#       did not print "ready" within 10 s (its stderr is in $TEST_TMP/NAME.err)
#   lab_stop NAME [SIGNAL]   signal the holder (default TERM) and wait for it
#       (at most 10 s); sets NAME_rc to its exit status
#   lab_cleanup   EXIT-trap helper: stop every holder still running, remove
#       any namespace they made, kill stray processes, delete $TEST_TMP
#   in_client NAME CMD...   run CMD inside NAME's client namespace
#   in_server NAME CMD...   run CMD inside NAME's server namespace

_lab_names=()
_lab_ns=()
_lab_bg=()

lab_start() {
	local name=$1; shift
	local out="$TEST_TMP/$name.out" err="$TEST_TMP/$name.err" pid i
	"$LINGERLAB" lab up "$@" >"$out" 2>"$err" &
	pid=$!
	_lab_names+=("$name")
	printf -v "${name}_pid" '%s' "$pid"
	_lab_ns+=("ll${pid}s" "ll${pid}c")
	for ((i = 0; i < 200; i++)); do
		if grep -qx ready "$out" 2>/dev/null; then break; fi
		if ! kill -0 "$pid" 2>/dev/null; then break; fi
		sleep 0.05
	done
	grep -qx ready "$out" 2>/dev/null || return 1
	local k v
	while IFS='=' read -r k v; do
		[ -n "$v" ] || continue
		printf -v "${name}_${k}" '%s' "$v"
	done <"$out"
	return 0
}

lab_stop() {
	local name=$1 sig=${2:-TERM} pid i rc=
	pid=${name}_pid
	pid=${!pid}
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	rc=$?
	printf -v "${name}_rc" '%s' "$rc"
}

# Stop background helpers (tcpdump, clients) started by a test.
lab_bg() { _lab_bg+=("$1"); }

lab_cleanup() {
	local n pid p
	for pid in "${_lab_bg[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for n in "${_lab_names[@]}"; do
		pid=${n}_pid
		pid=${!pid}
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.2
	for n in "${_lab_ns[@]}"; do
		if [ -e "/run/netns/$n" ]; then
			for p in $(ip netns pids "$n" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
			ip netns del "$n" 2>/dev/null
		fi
	done
	for n in "${_lab_names[@]}"; do
		pid=${n}_pid
		pid=${!pid}
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$TEST_TMP"
}

in_client() { local ns=${1}_client_ns; shift; ip netns exec "${!ns}" "$@"; }
in_server() { local ns=${1}_server_ns; shift; ip netns exec "${!ns}" "$@"; }
