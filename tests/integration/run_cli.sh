#!/usr/bin/env bash
# run_cli.sh - `lingerlab run` usage: each mistake gets its exact message
# and exit code 2, a bad script its file:line:col message, environment
# problems (not root, remote target) exit 3; --check parses without a lab.
source tests/lib.sh

# expect_fail "what" CODE "exact stderr" ARGS...
expect_fail() {
	local what=$1 code=$2 msg=$3; shift 3
	"$LINGERLAB" run "$@" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	local rc=$?
	check_eq "$what: exit $code" "$code" "$rc"
	check_eq "$what: message" "$msg" "$(cat "$TEST_TMP/err")"
	check_eq "$what: nothing on stdout" "" "$(cat "$TEST_TMP/out")"
}
hint='(lingerlab run --help shows the usage)'
ok_scn=scenarios/clean-close.scn

expect_fail "no target" 2 "lingerlab run: give one target: --builtin POLICY, --serve 'COMMAND' --port N or --target HOST:PORT
$hint"
expect_fail "two targets" 2 "lingerlab run: give one target: --builtin POLICY, --serve 'COMMAND' --port N or --target HOST:PORT
$hint" --builtin close --target 10.0.0.1:80 "$ok_scn"
expect_fail "no scenario" 2 "lingerlab run: no scenario given
$hint" --builtin close
expect_fail "unknown policy" 2 "lingerlab run: --builtin: unknown policy 'sometimes' (close, linger, abort, never)
$hint" --builtin sometimes "$ok_scn"
expect_fail "--serve without --port" 2 "lingerlab run: --serve needs --port N (where the server listens)
$hint" --serve "nginx" "$ok_scn"
expect_fail "bad port" 2 "lingerlab run: --port: expected a port from 1 to 65535, found '0'
$hint" --builtin close --port 0 "$ok_scn"
expect_fail "bad rtt" 2 "lingerlab run: --rtt: expected a duration (e.g. 250ms, 2s), found '5'
$hint" --builtin close --rtt 5 "$ok_scn"
expect_fail "unknown option" 2 "lingerlab run: unknown option '--frob'
$hint" --frob --builtin close "$ok_scn"
expect_fail "option without its value" 2 "lingerlab run: -o needs a value
$hint" --builtin close "$ok_scn" -o
expect_fail "bad --target" 2 "lingerlab run: --target: expected HOST:PORT, found 'nohost'
$hint" --target nohost "$ok_scn"
expect_fail "--target-arg without --builtin" 2 "lingerlab run: --target-arg only goes with --builtin
$hint" --serve nginx --port 80 --target-arg -v "$ok_scn"
: >"$TEST_TMP/afile"
expect_fail "output directory that cannot be made" 2 "lingerlab run: cannot write $TEST_TMP/afile/r.json: $TEST_TMP/afile: not a directory" \
	--builtin close -o "$TEST_TMP/afile/r.json" "$ok_scn"
expect_fail "--filter-kernel-rst without --target" 2 "lingerlab run: --filter-kernel-rst and --allow-kernel-rst only go with --target
$hint" --builtin close --filter-kernel-rst "$ok_scn"
expect_fail "--serve-user without --serve" 2 "lingerlab run: --serve-user only goes with --serve
$hint" --builtin close --serve-user nobody "$ok_scn"
expect_fail "--filter-kernel-rst with --allow-kernel-rst" 2 "lingerlab run: --filter-kernel-rst and --allow-kernel-rst exclude each other
$hint" --target 127.0.0.1:9 --filter-kernel-rst --allow-kernel-rst "$ok_scn"

printf 'scenario bad\nconnect\nconect\n' >"$TEST_TMP/bad.scn"
expect_fail "script error" 2 "$TEST_TMP/bad.scn:3:1: expected a statement, found \"conect\"" \
	--builtin close "$ok_scn" "$TEST_TMP/bad.scn"
expect_fail "missing script" 2 "$TEST_TMP/nope.scn: No such file or directory" \
	--builtin close "$TEST_TMP/nope.scn"
printf 'scenario bad\nsleep 1s\n' >"$TEST_TMP/bad2.scn"
expect_fail "--check reports a script error" 2 "$TEST_TMP/bad2.scn:2:1: expected a \"connect\" step, found none" \
	--check "$TEST_TMP/bad2.scn"

if need_root; then
	mkdir "$TEST_TMP/cwd"
	cd "$TEST_TMP/cwd" || exit 1
	ok_scn=$OLDPWD/scenarios/clean-close.scn
	"$LINGERLAB" run --target 127.0.0.1:9 "$ok_scn" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
	check_eq "--target without --filter-kernel-rst refused: exit 3" 3 "$?"
	check "... saying what the option would install and reserve" grep -Eq \
		"^lingerlab run: --target 127.0.0.1:9: the raw client would speak from 127.0.0.1, an address this host's kernel owns, .* --filter-kernel-rst drops exactly those, for this run only, with nftables table ip ll[0-9]+rst, chain out \(hook output, policy accept\): ip saddr 127.0.0.1 ip daddr 127.0.0.1 tcp sport [0-9]+-[0-9]+ tcp dport 9 tcp flags & rst == rst meta mark != 0x4c4c5254 counter drop, and reserves ports [0-9]+-[0-9]+ \(net.ipv4.ip_local_reserved_ports\)$" \
		"$TEST_TMP/err"
	check_eq "a refused run leaves no output directory behind" "" "$(ls "$TEST_TMP/cwd")"
	cd "$OLDPWD" || exit 1
	ok_scn=scenarios/clean-close.scn
	if command -v setpriv >/dev/null; then
		setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$LINGERLAB" run --builtin close -o "/tmp/lingerlab-nonroot-$$.json" "$ok_scn" >"$TEST_TMP/out" 2>"$TEST_TMP/err"
		check_eq "not root: exit 3" 3 "$?"
		check_eq "not root: message" \
			"lingerlab run: lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to make network namespaces); run as root" \
			"$(cat "$TEST_TMP/err")"
	else
		skip "not root: exit 3 (setpriv missing)"
	fi
else
	skip "--target without --filter-kernel-rst refused (needs root to get that far)"
fi

"$LINGERLAB" run --help >"$TEST_TMP/out" 2>&1
check_eq "--help: exit 0" 0 "$?"
check "--help: shows the usage and every target kind" \
	grep -q -- "--serve 'COMMAND' --port N" "$TEST_TMP/out"
check "--help: names the exit codes" grep -q "2 bad usage or script, 3 environment problem" "$TEST_TMP/out"

"$LINGERLAB" run --check scenarios/*.scn >"$TEST_TMP/out" 2>&1
check_eq "--check on the shipped scenarios: exit 0" 0 "$?"
check_eq "--check lists each scenario" "$(ls scenarios/*.scn | wc -l)" "$(grep -c ': scenario ' "$TEST_TMP/out")"
check "--check counts connections" grep -q "scenarios/idle-client-fin-wait-2.scn: scenario idle-client-fin-wait-2: 50 connections, 5 expectations" "$TEST_TMP/out"
finish
