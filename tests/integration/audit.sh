#!/usr/bin/env bash
# audit.sh - `lingerlab audit --builtin close` runs every shipped scenario in
# one lab run and writes report.json, report.html and capture.pcap; its table
# has one row per scenario with the figures of the report, and its verdict
# names the hazard. Bad targets are refused with one exact line (exit 2).
source tests/lib.sh

n_scn=$(ls scenarios/*.scn 2>/dev/null | wc -l)
check "scenarios/ holds the shipped scenarios" test "$n_scn" -ge 5

# usage errors need no privileges
err=$("$LINGERLAB" audit -o "$TEST_TMP/x" 2>&1)
check_eq "no target: exit 2" 2 "$?"
check_eq "no target: exact error" \
	"lingerlab audit: no TARGET: give --builtin POLICY, --serve COMMAND --port N or --target HOST:PORT" "$err"
err=$("$LINGERLAB" audit --builtin sometimes 2>&1)
check_eq "unknown policy: exact error" \
	"lingerlab audit: --builtin: unknown policy 'sometimes' (close, linger, abort, never)" "$err"
err=$("$LINGERLAB" audit --serve 'true' 2>&1)
check_eq "--serve without --port: exact error" "lingerlab audit: --serve needs --port N (where the server listens)" "$err"
# a mistyped option: run's one-line answer, not the whole usage
err=$("$LINGERLAB" audit --builtin close --junit 2>&1)
check_eq "option without its value: exit 2 and run's wording" "lingerlab audit: --junit needs a value
(lingerlab audit --help shows the usage)" "$err"
err=$("$LINGERLAB" audit --builtin close --quiet=yes 2>&1)
check_eq "a value for a flag: named" "lingerlab audit: --quiet takes no value
(lingerlab audit --help shows the usage)" "$err"
"$LINGERLAB" audit --help >"$TEST_TMP/help.txt"
for o in --target-log --rtt --target-arg --junit --tap --check --quiet --baseline --tolerance --scenarios; do
	check "audit --help: names $o" grep -q -- "$o" "$TEST_TMP/help.txt"
done
err=$("$LINGERLAB" audit --builtin close --scenarios "$TEST_TMP/none" 2>&1)
check_eq "missing scenario directory: exit 2" 2 "$?"
check_eq "missing scenario directory: exact error" \
	"lingerlab audit: $TEST_TMP/none: No such file or directory" "$err"
mkdir -p "$TEST_TMP/bad"
printf 'scenario bad\nconnect\nexpect nothing\n' >"$TEST_TMP/bad/bad.scn"
err=$("$LINGERLAB" audit --builtin close --scenarios "$TEST_TMP/bad" -o "$TEST_TMP/badout" 2>&1)
check_eq "a broken script: exit 2, before any lab is built" 2 "$?"
check "a broken script: the parser's file:line:col message" \
	grep -qE "^lingerlab audit: $TEST_TMP/bad/bad.scn:3:[0-9]+: expected " <<<"$err"
check "a broken script: nothing written" test ! -e "$TEST_TMP/badout"

if ! need_root; then skip "audit builds network namespaces: needs root"; finish; fi

# not root: exit 3 before anything is created (not even -o DIR, nor the
# parents mkdir -p would make)
if command -v setpriv >/dev/null; then
	mkdir -m 0777 "$TEST_TMP/nobody"
	chmod 0755 "$TEST_TMP"
	(cd "$TEST_TMP/nobody" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$LINGERLAB" audit --builtin close --scenarios "$OLDPWD/scenarios" -o out/a/b \
		>"$TEST_TMP/nobody.out" 2>"$TEST_TMP/nobody.err")
	check_eq "not root: exit 3" 3 "$?"
	check_eq "not root: message" \
		"lingerlab audit: lab: needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to make network namespaces); run as root" \
		"$(cat "$TEST_TMP/nobody.err")"
	check_eq "not root: no output directory left behind" "" "$(ls -A "$TEST_TMP/nobody")"
	chmod 0700 "$TEST_TMP"
else
	skip "not root: exit 3 (setpriv missing)"
fi

out=$TEST_TMP/audit
"$LINGERLAB" audit --builtin close -o "$out" >"$TEST_TMP/table.txt" 2>"$TEST_TMP/audit.err"
rc=$?
diag "$(head -3 "$TEST_TMP/audit.err")"
check_eq "close: exit 1 (the close policy fails its expectations)" 1 "$rc"
check "close: wrote report.json" test -s "$out/report.json"
check "close: wrote report.html" test -s "$out/report.html"
check "close: wrote capture.pcap, readable by tcpdump" \
	bash -c 'tcpdump -nr "$1" 2>/dev/null | grep -q "Flags \[R"' _ "$out/capture.pcap"
check_jq "report: an audit report of every scenario" "$out/report.json" \
	".command == \"audit\" and (.scenarios | length) == $n_scn and .lab.target.policy == \"close\""
check_jq "report: names its capture" "$out/report.json" ".lab.capture == \"$out/capture.pcap\""
check_jq "report: the hazard was found" "$out/report.json" '.verdict.hazard and .summary.rst_before_ack >= 2'
check "page: a ladder diagram of a flagged connection" grep -q '<svg class="ladder"' "$out/report.html"
check "page: the FIN_WAIT_2 chart with the kernel's samples" grep -q '<path class="series kernel"' "$out/report.html"

# the table: a header, one row per scenario agreeing with the report, a verdict
table=$(cat "$TEST_TMP/table.txt")
check "table: header" grep -qE '^scenario +rst_before_ack +bytes at risk +client +lingered +fin_wait_2 peak +expectations$' <<<"$table"
# the client column: the worst client_impact of the scenario's server
# findings (reset_before_ack worst), "-" when the server reset nothing
for i in $(seq 0 $((n_scn - 1))); do
	read -r name rst risk client peak kpeak held total < <(jq -r --argjson i "$i" '
		. as $r | .scenarios[$i] | .connections as $ids |
		([$r.findings[] | select(.sender == "server" and (.connection as $c | $ids | index($c)))
		  | .client_impact] as $g |
		 if ($g | index("reset_before_ack")) then "reset_before_ack"
		 elif ($g | index("reset_after_ack")) then "reset_after_ack"
		 elif ($g | length) > 0 then "no_reset" else "-" end) as $client |
		[.name, .summary.rst_before_ack, .summary.bytes_at_risk, $client, .summary.fin_wait_2_peak,
		 .summary.kernel_peak.FIN_WAIT_2, ([.expectations[] | select(.passed)] | length),
		 (.expectations | length)] | @tsv' "$out/report.json")
	check "table: $name row agrees with the report (client: $client)" grep -qE \
		"^$name +$rst +$risk +$client +.* $peak \(kernel $kpeak\) +$held/$total hold\$" <<<"$table"
done
# the expectation that failed is named under its row, as `run` names it
for name in pipelined-404 put-unauthorized; do
	IFS=$'\t' read -r line text detail < <(jq -r --arg n "$name" '.scenarios[] | select(.name == $n) |
		.expectations[] | select(.passed | not) | [.line, .text, .detail] | @tsv' "$out/report.json" | head -1)
	check "table: $name's failed expectation named under its row (line $line)" bash -c '
		grep -A2 -E "^$1 " <<<"$2" | grep -qxF "    line $3: $4" &&
		grep -A2 -E "^$1 " <<<"$2" | grep -qxF "      -> $5"' _ "$name" "$table" "$line" "$text" "$detail"
done
check "table: no failure line under a scenario that holds" \
	bash -c '! grep -A1 -E "^clean-close " <<<"$1" | grep -q "^    line "' _ "$table"
check "table: the close policy's resets are graded at the client" \
	grep -qE '^(pipelined-404|put-unauthorized) +1 +[0-9]+ +(reset_before_ack|reset_after_ack|no_reset) ' <<<"$table"
read -r rba raa nor < <(jq -r '.summary.client_impact | [.reset_before_ack, .reset_after_ack, .no_reset] | @tsv' "$out/report.json")
check "table: one-line verdict naming the hazard and how the clients fared" \
	grep -qE "^verdict: HAZARD: in [0-9]+ of [0-9]+ scenarios the server reset a connection with up to [0-9]+ response bytes unacknowledged; at the client: $rba reset_before_ack, $raa reset_after_ack, $nor no_reset; [0-9]+ scenarios? failed an expectation\.\$" <<<"$table"
check "table: says where the reports are" grep -q "^page:   $out/report.html\$" <<<"$table"
check "table: plain text when stdout is not a terminal" bash -c '! grep -q $'"'"'\033'"'"' "$1"' _ "$TEST_TMP/table.txt"

# the audit report feeds the other commands
"$LINGERLAB" explain "$out/report.json" >"$TEST_TMP/explain.txt"
check_eq "explain reads the audit report: exit 0" 0 "$?"
check "explain: names the scenario of the flagged connection" \
	grep -qE '^connection [0-9]+ .*\(scenario (pipelined-404|put-unauthorized)\)$' "$TEST_TMP/explain.txt"
ns=$(jq -r '.lab.namespaces.server, .lab.namespaces.client' "$out/report.json" | tr '\n' ' ')
check "no lab left behind ($ns)" bash -c 'for n in $1; do ip netns list | grep -qw "$n" && exit 1; done; test -n "$1"' _ "$ns"
finish
