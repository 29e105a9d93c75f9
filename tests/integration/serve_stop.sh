#!/usr/bin/env bash
# serve_stop.sh - `run --serve` stops its server as a service manager
# would: SIGTERM to the whole process group, the grace period for the WHOLE
# group (a worker that takes a second to finish is waited for, not killed
# when the leader exits), SIGKILL only to what is left; a run that is
# itself SIGKILLed leaves no server serving (PR_SET_PDEATHSIG and the
# watchdog); the server gets LINGERLAB_ADDR and LINGERLAB_PORT; --serve-user
# runs it without root; Apache, whose parent removes its pid file only
# after its children are gone, runs twice in a row (with the old stop the
# second run failed on the stale pid file); `run -o DIR/report.json` makes
# a missing DIR, and removes it again when the run produced no report.
source tests/lib.sh
source tests/integration/run_common.bash
source tests/integration/servers_common.bash
need_lab "--serve stop"

chmod 755 "$TEST_TMP"
srv=$TEST_TMP/server.py
# A leader that exits at once on SIGTERM, and a worker (its child, same
# group) that needs 1 s to finish: it writes worker-clean when it did.
cat >"$srv" <<'PY'
import os, signal, socket, sys, time
out = sys.argv[1]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((os.environ["LINGERLAB_ADDR"], int(os.environ["LINGERLAB_PORT"])))
s.listen(16)
with open(out + "/env", "w") as f:
    f.write("%s %s %d\n" % (os.environ["LINGERLAB_ADDR"], os.environ["LINGERLAB_PORT"], os.getuid()))
if os.fork() == 0:
    def term(*_):
        time.sleep(1.0)
        open(out + "/worker-clean", "w").write("done\n")
        os._exit(0)
    signal.signal(signal.SIGTERM, term)
    while True:
        c, _ = s.accept()
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        c.close()
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
while True:
    signal.pause()
PY
scn=$TEST_TMP/one.scn
cat >"$scn" <<'SCN'
scenario one
connect
request GET /index.html close
wait closed 3s
expect response 1 status 200 complete
SCN

# 1. the whole group gets its grace period; the environment
out1=$TEST_TMP/o1; mkdir -p "$out1"
"$LINGERLAB" run --serve "exec python3 $srv $out1" --port 8080 -o "$TEST_TMP/r1/deeper/report.json" "$scn" \
	>"$TEST_TMP/r1.out" 2>"$TEST_TMP/r1.err"
check_eq "--serve python server: exit 0" 0 $?
check "the worker, still busy when the leader exited, was given its grace period" test -s "$out1/worker-clean"
addr=$(jq -r '.lab.target.address' "$TEST_TMP/r1/deeper/report.json")
check_eq "the server got LINGERLAB_ADDR, LINGERLAB_PORT, and ran as root" "$addr 8080 0" "$(cat "$out1/env")"
check "-o into two missing directories made them" test -s "$TEST_TMP/r1/deeper/report.pcap"

# 2. --serve-user
out2=$TEST_TMP/o2; mkdir -p "$out2"; chmod 777 "$out2"
"$LINGERLAB" run --serve "exec python3 $srv $out2" --serve-user nobody --port 8080 -o "$TEST_TMP/r2.json" "$scn" \
	>"$TEST_TMP/r2.out" 2>"$TEST_TMP/r2.err"
check_eq "--serve-user nobody: exit 0" 0 $?
check_eq "the server ran as nobody" "$(id -u nobody)" "$(awk '{print $3}' "$out2/env")"
"$LINGERLAB" run --serve "exec python3 $srv $out2" --serve-user no-such-user-here --port 8080 -o "$TEST_TMP/r3.json" "$scn" \
	>/dev/null 2>"$TEST_TMP/r3.err"
check_eq "--serve-user with an unknown user: exit 3" 3 $?
check "... naming the user" grep -q -- "--serve-user no-such-user-here: no such user" "$TEST_TMP/r3.err"
"$LINGERLAB" run --builtin close --serve-user nobody -o "$TEST_TMP/r4.json" "$scn" >/dev/null 2>"$TEST_TMP/r4.err"
check_eq "--serve-user without --serve: exit 2" 2 $?

# 3. a SIGKILLed run leaves no server serving
out3=$TEST_TMP/o3; mkdir -p "$out3"
cat >"$TEST_TMP/hold.scn" <<'SCN'
scenario hold
connect
hold 30s
SCN
run_start killed --serve "exec python3 $srv $out3" --port 8080 -o "$TEST_TMP/k.json" "$TEST_TMP/hold.scn"
for ((i = 0; i < 100; i++)); do [ -s "$out3/env" ] && break; sleep 0.1; done
sleep 0.5
server_pids() { pgrep -f "python3 $srv $out3"; }
check "the server runs" test -n "$(server_pids)"
kill -KILL "$killed_pid"
run_wait killed 10
for ((i = 0; i < 50; i++)); do [ -z "$(server_pids)" ] && break; sleep 0.1; done
check_eq "SIGKILLed run: no server process left" "" "$(server_pids | tr '\n' ' ')"
check "... and its worker was stopped gracefully (SIGTERM and the grace period)" test -s "$out3/worker-clean"
"$LINGERLAB" lab clean >"$TEST_TMP/clean.out" 2>&1
check_eq "lab clean afterwards: nothing left" "" "$(run_leftovers "$killed_pid")"

# 4. Apache twice in a row; its pid file is gone after each run
if command -v apache2 >/dev/null; then
	www=$TEST_TMP/www; mkdir -p "$www"; echo lab >"$www/index.html"; chmod -R a+rX "$www"
	# Apache expands ${LINGERLAB_ADDR} and ${LINGERLAB_PORT} from the environment --serve gives it
	apache_conf "$TEST_TMP/apache2.conf" '${LINGERLAB_ADDR}:${LINGERLAB_PORT}' "$www"
	for n in 1 2; do
		# not exec'd: the shell leads the group and dies at once on
		# SIGTERM while Apache's parent still waits for its children
		# (with a leader-only wait, Apache was SIGKILLed then, left its
		# pid file, and run 2 failed: "httpd (pid N) already running")
		"$LINGERLAB" run --serve "apache2 -f $TEST_TMP/apache2.conf -DFOREGROUND; echo apache2 exited" --port 8081 \
			-o "$TEST_TMP/apache$n.json" "$scn" >"$TEST_TMP/apache$n.out" 2>&1
		rc=$?
		check_eq "Apache via --serve, run $n: exit 0" 0 "$rc"
		[ "$rc" = 0 ] || diag "$(tail -3 "$TEST_TMP/apache$n.out")"
		check "Apache, run $n: stopped gracefully, its pid file removed" test ! -e "$TEST_TMP/apache2.pid"
	done
	check "Apache's log says it shut down on SIGTERM, not that it was killed" \
		grep -q "caught SIGTERM, shutting down" "$TEST_TMP/apache2.error.log"
else
	skip "Apache via --serve (apache2 not installed; make deps installs it)"
fi

# 5. a run that produces no report removes the directories -o made
"$LINGERLAB" run --serve 'echo broken >&2; exit 4' --port 8080 -o "$TEST_TMP/nothing/here/report.json" "$scn" \
	>/dev/null 2>"$TEST_TMP/broken.err"
check_eq "a server that fails to start: exit 3" 3 $?
check "... and the directories -o made are gone again" test ! -e "$TEST_TMP/nothing"

finish
