#!/usr/bin/env bash
# run_realtime.sh - `lingerlab run` as root asks for real-time scheduling of
# its event loop (SCHED_FIFO, memory locked; lab/run.c realtime_on): chrt
# -p on the running process shows SCHED_FIFO priority 10 while the
# scenario plays, the target it started is an ordinary SCHED_OTHER process,
# and the report's lab.realtime says it was granted. Without CAP_SYS_NICE
# (setpriv drops it from the bounding set) the kernel refuses: the run
# goes on, passes, and lab.realtime says why not.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run real-time scheduling"
command -v chrt >/dev/null && command -v setpriv >/dev/null || {
	skip "run real-time scheduling (needs chrt and setpriv, util-linux)"; exit 0; }
mapfile -t targs < <(run_target_args)

cat >"$TEST_TMP/slow.scn" <<'SCN'
# slow - one request, then the connection held 3 s: time to look at the runner
scenario slow
connect
request GET /index.html
wait response
sleep 3s
expect response 1 status 200 complete
SCN

run_start rt --builtin linger "${targs[@]}" -o "$TEST_TMP/rt.json" "$TEST_TMP/slow.scn"
pol="" tpol=""
for ((i = 0; i < 100; i++)); do
	# the target is up once the scenario plays: both are read then
	tpid=$(_run_marker_pids | head -1)
	if [ -n "$tpid" ]; then
		pol=$(chrt -p "$rt_pid" 2>/dev/null | tr '\n' ' ')
		tpol=$(chrt -p "$tpid" 2>/dev/null | tr '\n' ' ')
		case $pol in *SCHED_FIFO*) break ;; esac
	fi
	sleep 0.05
done
diag "runner: $pol"
diag "target: $tpol"
check "chrt -p: the running lingerlab is SCHED_FIFO" grep -q 'SCHED_FIFO' <<<"$pol"
check "chrt -p: at priority 10" grep -q 'priority: 10' <<<"$pol"
check "chrt -p: the target it started is SCHED_OTHER" grep -q 'SCHED_OTHER' <<<"$tpol"
run_wait rt 60
check_eq "the run passes" 0 "$rt_rc"
check_jq "lab.realtime: granted, SCHED_FIFO 10" "$TEST_TMP/rt.json" \
	'.lab.realtime == {"granted": true, "policy": "SCHED_FIFO", "priority": 10, "refused": null}'

# refused: no CAP_SYS_NICE
setpriv --bounding-set=-sys_nice -- "$LINGERLAB" run --builtin linger "${targs[@]}" \
	-o "$TEST_TMP/no.json" "$TEST_TMP/slow.scn" >"$TEST_TMP/no.out" 2>&1
rc=$?
check_eq "without CAP_SYS_NICE: the run still passes" 0 "$rc"
[ "$rc" = 0 ] || sed 's/^/#   /' "$TEST_TMP/no.out" | head -20
check_jq "without CAP_SYS_NICE: lab.realtime says it was refused, and why" "$TEST_TMP/no.json" \
	'.lab.realtime.granted == false and .lab.realtime.policy == null and (.lab.realtime.refused | test("SCHED_FIFO 10: Operation not permitted"))'
finish
