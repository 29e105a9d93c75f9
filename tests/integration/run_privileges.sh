#!/usr/bin/env bash
# run_privileges.sh - `lingerlab run` keeps root only where it needs it
# (reports/privsep.h): the lab, raw sockets and nftables in the parent;
# the analysis of the capture (what the server sent) and the reports in a
# child that has become nobody (or -Z USER) with no capability in any set
# and no_new_privs. LINGERLAB_TEST_STOP_ANALYSIS makes the child stop
# itself right after the drop, before it reads the capture: the test reads
# /proc/CHILD/status then (and the parent's, still root), lets it go on,
# and checks the report landed in a root-only directory, owned by root,
# with the exit codes of before (0 pass, 1 an expectation failed, 2 bad
# -Z).
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "run privilege separation"
mapfile -t targs < <(run_target_args)
status_field() { # PID FIELD
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' "/proc/$1/status" 2>/dev/null
}
NOBODY_UID=$(id -u nobody)
chmod 700 "$TEST_TMP"     # root's only: nobody could create nothing in it

cat >"$TEST_TMP/ok.scn" <<'SCN'
# ok - one clean request
scenario ok
connect
request GET /index.html close
wait closed 5s
expect response 1 status 200 complete
SCN

# the stopped analysis child: a child of the run, stopped (T), lingerlab
find_child() { # PARENT: prints the pid of its stopped lingerlab child
	local c
	for c in $(pgrep -P "$1" 2>/dev/null); do
		[ "$(status_field "$c" State | cut -c1)" = T ] || continue
		[ "$(readlink "/proc/$c/exe")" = "$(readlink -f "$LINGERLAB")" ] || continue
		echo "$c"; return 0
	done
	return 1
}

mkdir "$TEST_TMP/out"
LINGERLAB_TEST_STOP_ANALYSIS=1 run_start ps --builtin linger "${targs[@]}" \
	-o "$TEST_TMP/out/r.json" --junit "$TEST_TMP/out/r.xml" "$TEST_TMP/ok.scn"
child=""
for ((i = 0; i < 300; i++)); do
	child=$(find_child "$ps_pid") && break
	kill -0 "$ps_pid" 2>/dev/null || break
	sleep 0.1
done
check "the run forks an analysis child (stopped by the test hook)" test -n "$child"
if [ -n "$child" ]; then
	diag "child $child: $(grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/$child/status | tr '\t\n' ' ')"
	check_eq "child: uid nobody (real, effective, saved, fs)" \
		"$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" "$(status_field "$child" Uid | tr -s '\t ' ' ')"
	check_eq "child: CapEff 0" 0000000000000000 "$(status_field "$child" CapEff)"
	check_eq "child: CapPrm 0" 0000000000000000 "$(status_field "$child" CapPrm)"
	check_eq "child: CapBnd 0" 0000000000000000 "$(status_field "$child" CapBnd)"
	check_eq "child: CapInh 0" 0000000000000000 "$(status_field "$child" CapInh)"
	check_eq "child: CapAmb 0" 0000000000000000 "$(status_field "$child" CapAmb)"
	check_eq "child: no_new_privs" 1 "$(status_field "$child" NoNewPrivs)"
	peff=$(status_field "$ps_pid" CapEff)
	check "parent: still root with its capabilities (CapEff $peff)" \
		test "$(status_field "$ps_pid" Uid | awk '{print $2}')" = 0 -a "$peff" != 0000000000000000
	check "child: not real-time (the parent put its scheduling back)" \
		grep -q SCHED_OTHER <<<"$(chrt -p "$child" 2>/dev/null)"
	check "the lab is gone before the analysis starts" test -z "$(run_leftovers "$ps_pid")"
	tmps=$(compgen -G "$TEST_TMP/out/r.json.??????")
	check "the report is open, under a temporary name, before the child runs" test -n "$tmps"
	check "... and not in place yet" test ! -e "$TEST_TMP/out/r.json"
	kill -CONT "$child"
fi
run_wait ps 60
check_eq "the run passes (exit 0 from the child)" 0 "$ps_rc"
check_jq "the report landed in a root-only directory" "$TEST_TMP/out/r.json" \
	'.command == "run" and .scenarios[0].passed == true'
check_eq "the report is root's, mode 0644" "root 644" "$(stat -c '%U %a' "$TEST_TMP/out/r.json" 2>/dev/null)"
check "the JUnit file too" grep -q '<testsuites' "$TEST_TMP/out/r.xml"
check "no temporary file is left" test -z "$(compgen -G "$TEST_TMP/out/*.??????")" -a -n "${tmps:-x}"

# exit 1 through the child: a failed expectation
cat >"$TEST_TMP/fail.scn" <<'SCN'
# fail - expects a status the target does not send
scenario fail
connect
request GET /index.html close
wait closed 5s
expect response 1 status 404
SCN
"$LINGERLAB" run --builtin linger "${targs[@]}" -q -o "$TEST_TMP/out/f.json" "$TEST_TMP/fail.scn" 2>"$TEST_TMP/f.err"
check_eq "a failed expectation: exit 1, as before" 1 "$?"
check_jq "... with its report" "$TEST_TMP/out/f.json" '.verdict.exit_code == 1'

# -Z root keeps root; -Z with no such user is bad usage before anything runs
LINGERLAB_TEST_STOP_ANALYSIS=1 run_start zr --builtin linger "${targs[@]}" -Z root \
	-q -o "$TEST_TMP/out/z.json" "$TEST_TMP/ok.scn"
child=""
for ((i = 0; i < 300; i++)); do
	child=$(find_child "$zr_pid") && break
	kill -0 "$zr_pid" 2>/dev/null || break
	sleep 0.1
done
check "-Z root: the child keeps root" test -n "$child" -a "$(status_field "${child:-0}" CapEff)" != 0000000000000000
[ -n "$child" ] && kill -CONT "$child"
run_wait zr 60
check_eq "-Z root: exit 0" 0 "$zr_rc"

# a child that dies (killed while stopped): exit 3 with its reason, no
# report and no temporary file left (the capture stays, as after any
# failed analysis)
LINGERLAB_TEST_STOP_ANALYSIS=1 run_start kd --builtin linger "${targs[@]}" -q \
	-o "$TEST_TMP/kd/sub/r.json" "$TEST_TMP/ok.scn"
child=""
for ((i = 0; i < 300; i++)); do
	child=$(find_child "$kd_pid") && break
	kill -0 "$kd_pid" 2>/dev/null || break
	sleep 0.1
done
check "killed child: found" test -n "$child"
[ -n "$child" ] && kill -KILL "$child"
run_wait kd 60
check_eq "killed child: exit 3" 3 "$kd_rc"
check "killed child: the run says how the analysis ended" \
	grep -q 'analysis: the child died by signal 9' "$TEST_TMP/kd.err"
check "killed child: no report, no temporary file left" \
	test ! -e "$TEST_TMP/kd/sub/r.json" -a -z "$(compgen -G "$TEST_TMP/kd/sub/r.json.*")"

# audit: the same split; its page, report and JUnit land in a root-only DIR
mkdir "$TEST_TMP/sc"
cp "$TEST_TMP/ok.scn" "$TEST_TMP/sc/"
LINGERLAB_TEST_STOP_ANALYSIS=1 "$LINGERLAB" audit --builtin linger "${targs[@]}" -q \
	--scenarios "$TEST_TMP/sc" -o "$TEST_TMP/aud" --junit "$TEST_TMP/aud/j.xml" \
	>"$TEST_TMP/aud.out" 2>&1 &
aud_pid=$!
_run_pids+=("$aud_pid")
child=""
for ((i = 0; i < 300; i++)); do
	child=$(find_child "$aud_pid") && break
	kill -0 "$aud_pid" 2>/dev/null || break
	sleep 0.1
done
check "audit: an analysis child" test -n "$child"
check_eq "audit child: CapEff 0, CapBnd 0, uid nobody" "0000000000000000 0000000000000000 $NOBODY_UID" \
	"$(status_field "${child:-0}" CapEff) $(status_field "${child:-0}" CapBnd) $(status_field "${child:-0}" Uid | awk '{print $2}')"
[ -n "$child" ] && kill -CONT "$child"
wait "$aud_pid"
check_eq "audit: exit 0" 0 "$?"
check_jq "audit: report.json written by the child" "$TEST_TMP/aud/report.json" '.command == "audit"'
check "audit: report.html too" grep -q '<html' "$TEST_TMP/aud/report.html"
check "audit: and the JUnit file" grep -q '<testsuites' "$TEST_TMP/aud/j.xml"

"$LINGERLAB" run --builtin linger -Z no-such-user-ll -o "$TEST_TMP/out/n.json" "$TEST_TMP/ok.scn" \
	>"$TEST_TMP/n.out" 2>&1
check_eq "-Z no-such-user: exit 2" 2 "$?"
check "-Z no-such-user: says so" grep -q "no such user 'no-such-user-ll'" "$TEST_TMP/n.out"
check "-Z no-such-user: no report, no lab made" test ! -e "$TEST_TMP/out/n.json"
finish
