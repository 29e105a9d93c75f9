#!/usr/bin/env bash
# run_signals.sh - a run interrupted by SIGINT or SIGTERM removes the lab
# and stops the target before it exits (by the same signal); a run killed
# with SIGKILL leaves its namespaces behind, but not a serving target (the
# launcher's watchdog stops it), and `lingerlab lab clean` removes them.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "interrupted runs"

scn=$TEST_TMP/long.scn
cat >"$scn" <<'SCN'
# long - five idle connections held for 30 s: a run to interrupt
scenario long
connections 5
fin never
connect
request GET /index.html close
wait fin 5s
hold 30s
SCN
mapfile -t targs < <(run_target_args)

# wait (at most 10 s) until run NAME has its lab, target and connections
wait_busy() {
	local pid=$1 i
	for ((i = 0; i < 100; i++)); do
		if ip netns list | grep -q "^ll${pid}s" && [ -n "$(_run_marker_pids)" ] &&
		   [ "$(ip netns pids "ll${pid}s" 2>/dev/null | wc -l)" -ge 1 ]; then
			sleep 1.5   # into the hold, connections open
			return 0
		fi
		sleep 0.1
	done
	return 1
}

for sig in INT TERM; do
	name=sig$sig
	run_start "$name" --builtin linger "${targs[@]}" -o "$TEST_TMP/$name.json" "$scn"
	pidv=${name}_pid; pid=${!pidv}
	check "SIG$sig: the run got going" wait_busy "$pid"
	t0=$SECONDS
	kill -"$sig" "$pid"
	run_wait "$name" 20
	rcv=${name}_rc
	want=$((128 + $(kill -l "$sig")))
	check_eq "SIG$sig: exits by the signal (status $want)" "$want" "${!rcv}"
	check "SIG$sig: exits within 10 s" test $((SECONDS - t0)) -le 10
	check_eq "SIG$sig: no namespace, link or target left" "" "$(run_leftovers "$pid")"
	check "SIG$sig: says it was interrupted" grep -q "interrupted; the lab and the target are gone" "$TEST_TMP/$name.err"
	check "SIG$sig: no report for an interrupted run" test ! -e "$TEST_TMP/$name.json"
done

run_start killed --builtin linger "${targs[@]}" -o "$TEST_TMP/killed.json" "$scn"
check "SIGKILL: the run got going" wait_busy "$killed_pid"
kill -KILL "$killed_pid"
run_wait killed 10
check_eq "SIGKILL: status 137" 137 "$killed_rc"
# the target's watchdog (lab/launch.h) stops it within the grace period
for ((i = 0; i < 50; i++)); do [ -z "$(_run_marker_pids)" ] && break; sleep 0.1; done
check "SIGKILL: the target does not keep serving (its watchdog stopped it)" test -z "$(_run_marker_pids)"
left=$(run_leftovers "$killed_pid")
if [ -z "$left" ]; then
	# On a shared machine another run's `lab clean` may have been quicker
	# (the names of a dead pid are anybody's to remove).
	skip "SIGKILL: leftovers were already removed by a concurrent lab clean"
	"$LINGERLAB" lab clean >"$TEST_TMP/clean.out" 2>&1
	check_eq "lab clean: exit 0" 0 "$?"
else
	check "SIGKILL: the namespaces were left behind" grep -q "namespace ll${killed_pid}s" <<<"$left"
	"$LINGERLAB" lab clean >"$TEST_TMP/clean.out" 2>&1
	check_eq "lab clean: exit 0" 0 "$?"
	check "lab clean: names what it removed" grep -q "ll${killed_pid}s" "$TEST_TMP/clean.out"
fi
check_eq "after lab clean: nothing left" "" "$(run_leftovers "$killed_pid")"
finish
