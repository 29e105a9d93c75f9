#!/usr/bin/env bash
# diff.sh - `lingerlab diff` on real reports: analyze reports of the golden
# captures (a lingering server vs one that close()s) and, as root, the
# reference target's `run` under --builtin linger vs --builtin close. Linger
# as the base and close as the candidate is a regression (exit 1, named per
# scenario); the reverse is not (exit 0). --json says the same for
# machines, --tolerance moves the line, and reports that cannot be compared
# (other scenarios, a lab report vs an analyze report) are refused with the
# reason (exit 2).
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden

if ! "$MKGOLDEN" "$TEST_TMP" >/dev/null; then
	not_ok "mkgolden wrote the golden captures"
	finish
fi
for c in put-seed linger pipelined-404; do
	"$LINGERLAB" analyze -r "$TEST_TMP/$c.pcap" -o "$TEST_TMP/$c.json" 2>/dev/null || not_ok "analyze $c"
done
base=$TEST_TMP/linger.json close=$TEST_TMP/put-seed.json

# --- linger -> close: a regression -----------------------------------------
out=$("$LINGERLAB" diff "$base" "$close")
check_eq "linger -> close: exit 1" 1 "$?"
check "linger -> close: names rst_before_ack as the regression" \
	grep -qE '^  worse +rst_before_ack +0 -> 1 +REGRESSION \(tolerance 0\)$' <<<"$out"
check "linger -> close: and the response bytes at risk" \
	grep -qE '^  worse +bytes_at_risk +0 bytes -> 337 bytes +REGRESSION' <<<"$out"
check "linger -> close: one-line verdict" \
	grep -q "^REGRESSION: 2 figures got worse beyond their tolerance: whole capture rst_before_ack 0 -> 1; whole capture bytes_at_risk 0 bytes -> 337 bytes$" <<<"$out"

# --- close -> linger: better, exit 0 ---------------------------------------
out=$("$LINGERLAB" diff "$close" "$base")
check_eq "close -> linger: exit 0" 0 "$?"
check "close -> linger: rst_before_ack got better" grep -qE '^  better +rst_before_ack +1 -> 0$' <<<"$out"
check "close -> linger: no regression" grep -q "^no regression: " <<<"$out"

# --- a report against itself ---------------------------------------------
out=$("$LINGERLAB" diff "$close" "$close")
check_eq "same report twice: exit 0" 0 "$?"
check "same report twice: nothing better or worse" grep -q "^no regression: 0 better, 0 worse within tolerance$" <<<"$out"

# --- --json ----------------------------------------------------------------
"$LINGERLAB" diff --json "$base" "$close" >"$TEST_TMP/d.json"
check_eq "--json: exit 1 on the regression" 1 "$?"
check_jq "--json: regression flagged with its figures" "$TEST_TMP/d.json" \
	'.regression and .regressions == 2 and .compared == "capture"
	 and (.items[] | select(.metric == "rst_before_ack") | .base == 0 and .new == 1
	      and .change == "worse" and .regression and .tolerance.abs == 0)'
check_jq "--json: FIN_WAIT_2 figures are compared" "$TEST_TMP/d.json" \
	'[.items[].metric] | index("fin_wait_2_peak") != null and index("fin_wait_2_max") != null'
"$LINGERLAB" diff --json "$close" "$base" >"$TEST_TMP/r.json"
check_jq "--json reverse: no regression" "$TEST_TMP/r.json" '(.regression | not) and .regressions == 0'

# --- tolerances --------------------------------------------------------------
"$LINGERLAB" diff --tolerance rst_before_ack=1 --tolerance bytes_at_risk=400 "$base" "$close" >/dev/null
check_eq "tolerances that allow the change: exit 0" 0 "$?"
"$LINGERLAB" diff -t rst_before_ack=inf -t bytes_at_risk=50% "$base" "$close" >/dev/null
check_eq "a percentage of 0 still allows nothing: exit 1" 1 "$?"
# bytes at risk: a response a byte longer (dates, counters) is within the
# default 10% of BASE; a third longer is a regression
jq '.findings[0].bytes_at_risk_at_server += 1' "$close" >"$TEST_TMP/risk1.json"
out=$("$LINGERLAB" diff "$close" "$TEST_TMP/risk1.json")
check_eq "bytes_at_risk one byte more: exit 0" 0 "$?"
check "bytes_at_risk one byte more: worse within 10%" \
	grep -qE '^  worse +bytes_at_risk +337 bytes -> 338 bytes +\(within tolerance 10%\)$' <<<"$out"
jq '.findings[0].bytes_at_risk_at_server += 100' "$close" >"$TEST_TMP/risk100.json"
"$LINGERLAB" diff "$close" "$TEST_TMP/risk100.json" >/dev/null
check_eq "bytes_at_risk a third more: a regression (exit 1)" 1 "$?"
# close -> linger makes FIN_WAIT_2 last longer: not gated by default, gated on request
max_b=$(jq '.fin_wait_2.server.duration.max' "$close") max_n=$(jq '.fin_wait_2.server.duration.max' "$base")
diag "fin_wait_2 max: close $max_b s, linger $max_n s"
if jq -en "$max_n > $max_b" >/dev/null; then
	out=$("$LINGERLAB" diff -t fin_wait_2_max=0 "$close" "$base")
	check_eq "gating fin_wait_2_max: the longer FIN_WAIT_2 regresses" 1 "$?"
	check "gating fin_wait_2_max: named" grep -qE '^  worse +fin_wait_2_max .* REGRESSION \(tolerance 0\)$' <<<"$out"
else
	not_ok "the lingering capture's FIN_WAIT_2 lasts longer than close's"
fi
# Durations print in a unit that shows their microseconds: two FIN_WAIT_2
# times 1 µs apart never read "0.000 s -> 0.000 s".
jq '.fin_wait_2.server.count = 1 | .fin_wait_2.server.duration = {"p50": 0.000028, "p90": 0.0105, "max": 2.5}' \
	"$close" >"$TEST_TMP/fw2-a.json"
jq '.fin_wait_2.server.count = 1 | .fin_wait_2.server.duration = {"p50": 0.000027, "p90": 0.010501, "max": 2.500001}' \
	"$close" >"$TEST_TMP/fw2-b.json"
out=$("$LINGERLAB" diff -t noise=0 "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-b.json")
check "durations: microseconds shown" grep -qE '^  better +fin_wait_2_p50 +28 µs -> 27 µs$' <<<"$out"
check "durations: milliseconds shown" grep -qE '^  worse +fin_wait_2_p90 +10.5 ms -> 10.501 ms' <<<"$out"
check "durations: seconds shown" grep -qE '^  worse +fin_wait_2_max +2.5 s -> 2.500001 s' <<<"$out"
# Noise: timing differences within the band (default the larger of 0.1 s
# and 5% of BASE) are neither better nor worse and listed only on request.
out=$("$LINGERLAB" diff "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-b.json")
check_eq "noise: exit 0" 0 "$?"
check "noise: the differences of a few µs are not listed" \
	bash -c '! grep -qE "fin_wait_2_(p50|p90|max) " <<<"$1"' _ "$out"
check "noise: but counted" grep -qE '^  \([0-9]+ figures unchanged; 3 timing differences within noise\)$' <<<"$out"
check "noise: the verdict counts them and says how to see them" \
	grep -qx "no regression: 0 better, 0 worse within tolerance; 3 timing differences within noise (--verbose lists them)" <<<"$out"
out=$("$LINGERLAB" diff --verbose "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-b.json")
check "noise: --verbose lists them as noise, with the band" \
	grep -qE '^  noise +fin_wait_2_max +2.5 s -> 2.500001 s +\(within the noise band, 0.1 s or 5%\)$' <<<"$out"
# 2.5 s -> 2.7 s is 8%, beyond 5% of 2.5 s (0.125 s): a change, listed
jq '.fin_wait_2.server.duration.max = 2.7' "$TEST_TMP/fw2-a.json" >"$TEST_TMP/fw2-c.json"
out=$("$LINGERLAB" diff "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-c.json")
check "noise: a difference beyond the band is listed" \
	grep -qE '^  worse +fin_wait_2_max +2.5 s -> 2.7 s +\(not gated\)$' <<<"$out"
"$LINGERLAB" diff -t noise=0.3 "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-c.json" | grep -q "fin_wait_2_max"
check_eq "noise: --tolerance noise=0.3 widens the band" 1 "$?"
"$LINGERLAB" diff -t noise=250ms,20% --json "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-c.json" >"$TEST_TMP/noise.json"
check_jq "noise: --json marks the items and gives the band" "$TEST_TMP/noise.json" \
	'.noise == 1 and .noise_band.abs == 0.25 and .noise_band.pct == 20 and .better == 0 and .worse == 0
	 and ([.items[] | select(.noise)] | length) == 1
	 and (.items[] | select(.metric == "fin_wait_2_max") | .noise and .change == "worse")'
"$LINGERLAB" diff -t fin_wait_2_max=0 "$TEST_TMP/fw2-a.json" "$TEST_TMP/fw2-b.json" >/dev/null
check_eq "noise: a gate of the figure's own still catches 1 µs (exit 1)" 1 "$?"
# client_impact: the worst grade of the server's RSTs at the client. A
# finding that appears is rst_before_ack's regression; the grade shows as
# changed beside it.
out=$("$LINGERLAB" diff "$base" "$close")
check "linger -> close: the client's grade shows as changed, not a second regression" \
	grep -qE '^  changed +client_impact +none -> reset_after_ack$' <<<"$out"
# Between two graded reports it is judged: copies of the seed's report with
# the grade edited (the analyzer grades it reset_after_ack: the client had
# ACKed the 401 before any RST it would accept)
check_jq "put-seed: graded reset_after_ack" "$close" '.findings[0].client_impact == "reset_after_ack"'
jq '.findings[0].client_impact = "no_reset"' "$close" >"$TEST_TMP/ci-none.json"
jq '.findings[0].client_impact = "reset_before_ack"' "$close" >"$TEST_TMP/ci-rba.json"
out=$("$LINGERLAB" diff "$TEST_TMP/ci-none.json" "$TEST_TMP/ci-rba.json")
check_eq "no_reset -> reset_before_ack: exit 1" 1 "$?"
check "no_reset -> reset_before_ack: a regression" \
	grep -qE '^  worse +client_impact +no_reset -> reset_before_ack +REGRESSION \(tolerance 0\)$' <<<"$out"
check "no_reset -> reset_before_ack: the verdict names it" \
	grep -q '^REGRESSION: 1 figure got worse beyond its tolerance: whole capture client_impact no_reset -> reset_before_ack$' <<<"$out"
out=$("$LINGERLAB" diff "$TEST_TMP/ci-none.json" "$close")
check_eq "no_reset -> reset_after_ack: a regression too (exit 1)" 1 "$?"
out=$("$LINGERLAB" diff "$TEST_TMP/ci-rba.json" "$close")
check_eq "reset_before_ack -> reset_after_ack: exit 0" 0 "$?"
check "reset_before_ack -> reset_after_ack: better" \
	grep -qE '^  better +client_impact +reset_before_ack -> reset_after_ack$' <<<"$out"
"$LINGERLAB" diff -t client_impact=1 "$TEST_TMP/ci-none.json" "$close" >/dev/null
check_eq "--tolerance client_impact=1 allows one grade step" 0 "$?"
"$LINGERLAB" diff --json "$TEST_TMP/ci-none.json" "$TEST_TMP/ci-rba.json" >"$TEST_TMP/ci.json"
check_jq "--json: the grades by name" "$TEST_TMP/ci.json" \
	'.items[] | select(.metric == "client_impact") | .base == "no_reset" and .new == "reset_before_ack" and .regression'
err=$("$LINGERLAB" diff -t nosuch=1 "$base" "$close" 2>&1)
check_eq "unknown tolerance key: exit 2" 2 "$?"
check "unknown tolerance key: exact error" \
	grep -q "^lingerlab diff: --tolerance: unknown key 'nosuch' (known: rst_before_ack, bytes_at_risk, " <<<"$err"
err=$("$LINGERLAB" diff -t fin_wait_2_peak=lots "$base" "$close" 2>&1)
check_eq "bad tolerance value: exact error" \
	"lingerlab diff: --tolerance fin_wait_2_peak: expected a number, N%, both (0.1,5%) or inf, found 'lots'" "$err"
err=$("$LINGERLAB" diff -t noise=5%,6% "$base" "$close" 2>&1)
check_eq "two percentages: exact error" \
	"lingerlab diff: --tolerance noise: expected a number, N%, both (0.1,5%) or inf, found '5%,6%'" "$err"

# --- lab reports: the reference target's linger run vs its close run -------
if need_root; then
	scn=(scenarios/pipelined-404.scn scenarios/put-unauthorized.scn)
	for p in linger close; do
		"$LINGERLAB" run -q --builtin "$p" -o "$TEST_TMP/run-$p.json" "${scn[@]}" 2>"$TEST_TMP/run-$p.err"
		[ "$?" -le 1 ] || { not_ok "run --builtin $p"; diag "$(head -3 "$TEST_TMP/run-$p.err")"; }
	done
	out=$("$LINGERLAB" diff "$TEST_TMP/run-linger.json" "$TEST_TMP/run-close.json")
	check_eq "run linger -> run close: exit 1" 1 "$?"
	for s in pipelined-404 put-unauthorized; do
		check "run linger -> close: $s rst_before_ack named as a regression" \
			bash -c 'sed -n "/^scenario $1\$/,/^\$/p" <<<"$2" |
				grep -qE "^  worse +rst_before_ack +0 -> 1 +REGRESSION"' _ "$s" "$out"
		check "run linger -> close: $s expectation that now fails is named" \
			bash -c 'sed -n "/^scenario $1\$/,/^\$/p" <<<"$2" |
				grep -qE "^  worse +expectation \"expect no rst_before_ack\": held -> failed +REGRESSION"' _ "$s" "$out"
	done
	check "run linger -> close: verdict line" grep -qE "^REGRESSION: [0-9]+ figures got worse" <<<"$out"
	for s in pipelined-404 put-unauthorized; do
		g=$(jq -r --arg s "$s" '(.scenarios[] | select(.name == $s) | .connections) as $ids |
			[.findings[] | select(.sender == "server" and (.connection as $c | $ids | index($c))) |
			 .client_impact] | if index("reset_before_ack") then "reset_before_ack"
			 elif index("reset_after_ack") then "reset_after_ack" else .[0] end' "$TEST_TMP/run-close.json")
		check "run linger -> close: $s client_impact none -> $g, shown as changed" \
			bash -c 'sed -n "/^scenario $1\$/,/^\$/p" <<<"$2" |
				grep -qE "^  changed +client_impact +none -> $3\$"' _ "$s" "$out" "$g"
	done
	out=$("$LINGERLAB" diff "$TEST_TMP/run-close.json" "$TEST_TMP/run-linger.json")
	check_eq "run close -> run linger: exit 0" 0 "$?"
	check "run close -> linger: the lingering is reported" \
		grep -qE "^  changed +lingered +0 -> 1$" <<<"$out"
	check "run close -> linger: no regression" grep -q "^no regression: " <<<"$out"
	"$LINGERLAB" diff --json "$TEST_TMP/run-linger.json" "$TEST_TMP/run-close.json" >"$TEST_TMP/run-d.json"
	check_jq "run --json: compared scenario by scenario" "$TEST_TMP/run-d.json" \
		'.compared == "scenarios" and .regression and
		 ([.items[] | select(.regression) | .scope] | unique) == ["pipelined-404", "put-unauthorized", "report"]'

	# a run of other scenarios cannot be compared
	"$LINGERLAB" run -q --builtin close -o "$TEST_TMP/run-one.json" scenarios/pipelined-404.scn 2>/dev/null
	err=$("$LINGERLAB" diff "$TEST_TMP/run-linger.json" "$TEST_TMP/run-one.json" 2>&1)
	check_eq "different scenario sets: exit 2" 2 "$?"
	check_eq "different scenario sets: the reason names them" \
		"lingerlab diff: $TEST_TMP/run-linger.json and $TEST_TMP/run-one.json cover different scenarios: only in $TEST_TMP/run-linger.json: put-unauthorized; only in $TEST_TMP/run-one.json: none" "$err"
	err=$("$LINGERLAB" diff "$TEST_TMP/run-one.json" "$close" 2>&1)
	check_eq "lab report vs analyze report: exit 2" 2 "$?"
	check_eq "lab report vs analyze report: the reason" \
		"lingerlab diff: $TEST_TMP/run-one.json is a lab report and $close an analyze report: compare two lab reports (run, audit) or two analyze reports" "$err"
else
	skip "lab reports need root (lingerlab run)"
fi

# --- bad input ---------------------------------------------------------------
head -c 200 "$close" >"$TEST_TMP/cut.json"
err=$("$LINGERLAB" diff "$base" "$TEST_TMP/cut.json" 2>&1)
check_eq "truncated candidate: exit 2" 2 "$?"
check "truncated candidate: one line naming it" \
	grep -qE "^lingerlab diff: $TEST_TMP/cut.json:[0-9]+:[0-9]+: truncated JSON: " <<<"$err"
"$LINGERLAB" diff "$base" >/dev/null 2>&1
check_eq "one report only: exit 2" 2 "$?"
finish
