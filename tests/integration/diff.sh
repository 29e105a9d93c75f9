#!/usr/bin/env bash
# diff.sh - `lingerlab diff` on analyze reports of real captures: a server
# that lingers as the base and one that close()s as the candidate is a
# regression (exit 1, named); the reverse is not (exit 0). --json says the
# same for machines, --tolerance moves the line, and reports that cannot be
# compared are refused with the reason (exit 2).
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden
FIXTURES=tests/fixtures/reports

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
err=$("$LINGERLAB" diff -t nosuch=1 "$base" "$close" 2>&1)
check_eq "unknown tolerance key: exit 2" 2 "$?"
check "unknown tolerance key: exact error" \
	grep -q "^lingerlab diff: --tolerance: unknown key 'nosuch' (known: rst_before_ack, bytes_at_risk, " <<<"$err"
err=$("$LINGERLAB" diff -t fin_wait_2_peak=lots "$base" "$close" 2>&1)
check_eq "bad tolerance value: exact error" \
	"lingerlab diff: --tolerance fin_wait_2_peak: expected a number, N% or inf, found 'lots'" "$err"

# --- reports that cannot be compared ----------------------------------------
err=$("$LINGERLAB" diff "$FIXTURES/handmade-lab-close.json" "$FIXTURES/handmade-lab-other-scenarios.json" 2>&1)
check_eq "different scenario sets: exit 2" 2 "$?"
check_eq "different scenario sets: the reason names them" \
	"lingerlab diff: $FIXTURES/handmade-lab-close.json and $FIXTURES/handmade-lab-other-scenarios.json cover different scenarios: only in $FIXTURES/handmade-lab-close.json: clean-close; only in $FIXTURES/handmade-lab-other-scenarios.json: pipelined-404" "$err"
err=$("$LINGERLAB" diff "$FIXTURES/handmade-lab-close.json" "$close" 2>&1)
check_eq "lab report vs analyze report: exit 2" 2 "$?"
check_eq "lab report vs analyze report: the reason" \
	"lingerlab diff: $FIXTURES/handmade-lab-close.json is a lab report and $close an analyze report: compare two lab reports (run, audit) or two analyze reports" "$err"
head -c 200 "$close" >"$TEST_TMP/cut.json"
err=$("$LINGERLAB" diff "$base" "$TEST_TMP/cut.json" 2>&1)
check_eq "truncated candidate: exit 2" 2 "$?"
check "truncated candidate: one line naming it" \
	grep -qE "^lingerlab diff: $TEST_TMP/cut.json:[0-9]+:[0-9]+: truncated JSON: " <<<"$err"
"$LINGERLAB" diff "$base" >/dev/null 2>&1
check_eq "one report only: exit 2" 2 "$?"
finish
