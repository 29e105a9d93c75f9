# run_common.bash - helpers for the `lingerlab run` tests (tests/integration/
# run_*.sh). Source it after tests/lib.sh.
#
#   run_start NAME ARGS...  start `lingerlab run ARGS...` in the background;
#                           NAME_pid is its pid, output in $TEST_TMP/NAME.{out,err}
#   run_wait NAME [SECS]    wait for it (default 120 s, then SIGTERM/SIGKILL);
#                           NAME_rc is its exit status
#   run_leftovers PID       print what a run with that pid left behind: its
#                           namespaces, host links, and target processes
#                           (recognised by $run_marker); nothing when clean
#   run_target_args         the --target-arg options that carry the marker
#
# Every run a test starts is stopped, and whatever it made is removed, on
# every exit path (EXIT trap), by pid and by names that carry the pid.

_run_pids=()
# A linger timeout no one else uses marks the reference targets this test
# starts, so leftover processes are found without touching other runs.
run_marker="30.$$"

run_target_args() {
	printf '%s\n' --target-arg --linger-timeout --target-arg "$run_marker"
}

_run_marker_pids() {
	pgrep -f -- "--linger-timeout $run_marker" 2>/dev/null
}

run_leftovers() {
	local pid=$1
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^ll${pid}[a-z]+$" | sed 's/^/namespace /'
	ip -o link 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^ll${pid}[a-z]+$" | sed 's/^/link /'
	_run_marker_pids | sed 's/^/process /'
}

run_start() {
	local name=$1; shift
	"$LINGERLAB" run "$@" >"$TEST_TMP/$name.out" 2>"$TEST_TMP/$name.err" &
	local pid=$!
	_run_pids+=("$pid")
	printf -v "${name}_pid" '%s' "$pid"
}

run_wait() {
	local name=$1 secs=${2:-120} pidv pid i rc
	pidv=${name}_pid
	pid=${!pidv}
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		diag "$name: still running after ${secs}s; stopping it"
		kill -TERM "$pid" 2>/dev/null
		sleep 5
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	printf -v "${name}_rc" '%s' "$rc"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		diag "$name exited $rc; stderr:"
		sed 's/^/#   /' "$TEST_TMP/$name.err" | head -20
	fi
}

_run_cleanup() {
	local p i
	for p in "${_run_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_run_pids[@]}"; do
		for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for p in $(_run_marker_pids); do kill -KILL "$p" 2>/dev/null; done
	for p in "${_run_pids[@]}"; do
		ip netns del "ll${p}s" 2>/dev/null
		ip netns del "ll${p}c" 2>/dev/null
	done
	rm -rf "$TEST_TMP"
}
trap _run_cleanup EXIT

# need_lab: skip the whole test (one SKIP line) unless root with netns.
need_lab() {
	if ! need_root || ! [ -e /proc/self/ns/net ] || ! command -v ip >/dev/null; then
		skip "$1 (needs root and network namespaces)"
		exit 0
	fi
}
