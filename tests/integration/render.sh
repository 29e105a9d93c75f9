#!/usr/bin/env bash
# render.sh - `lingerlab render` makes one self-contained HTML page that a
# real browser shows: headless Chromium loads reports of the golden captures
# from disk, its DOM holds the ladder diagram (every timeline packet an
# arrow, the RST and the at-risk response picked out, FIN_WAIT_2 shaded) and
# the FIN_WAIT_2 chart, and its screenshot is not blank. Strings from the
# report are escaped; bad input gets one exact line and exit 2, no page.
source tests/lib.sh
MKGOLDEN=${BUILD:-build}/tests/mkgolden
FIXTURES=tests/fixtures/reports

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
n_chrome=0
# chrome ARGS...: headless, offline, with a fresh profile each time
chrome() {
	n_chrome=$((n_chrome + 1))
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-extensions --user-data-dir="$TEST_TMP/profile$n_chrome" \
		"$@" 2>>"$TEST_TMP/chrome.err"
}

if ! "$MKGOLDEN" "$TEST_TMP" >/dev/null; then
	not_ok "mkgolden wrote the golden captures"
	finish
fi
for c in put-seed pipelined-404 idle-client; do
	"$LINGERLAB" analyze -r "$TEST_TMP/$c.pcap" -o "$TEST_TMP/$c.json" 2>/dev/null || not_ok "analyze $c"
done

# --- the page itself -----------------------------------------------------
"$LINGERLAB" render "$TEST_TMP/put-seed.json" 2>"$TEST_TMP/render.err"
check_eq "render: exit 0" 0 "$?"
check_eq "render: REPORT.json becomes REPORT.html beside it, and says so" \
	"lingerlab render: wrote $TEST_TMP/put-seed.html" "$(cat "$TEST_TMP/render.err")"
page=$TEST_TMP/put-seed.html
check "page: no script" bash -c '! grep -qi "<script" "$1"' _ "$page"
check "page: nothing to fetch (no src=, no href=, no url())" \
	bash -c '! grep -qiE "(src|href)=|url\(" "$1"' _ "$page"
check_eq "page: the only URL is the SVG namespace" "http://www.w3.org/2000/svg" \
	"$(grep -oE 'https?://[^"<> ]+' "$page" | sort -u | tr '\n' ' ' | sed 's/ $//')"
"$LINGERLAB" render "$TEST_TMP/put-seed.json" -o - >"$TEST_TMP/stdout.html" 2>/dev/null
check "-o - writes the same page to stdout" cmp -s "$page" "$TEST_TMP/stdout.html"

# the client's side of other grades, and evidence (tests/support/mkpcap)
tests/support/mkpcap evidence "$TEST_TMP/evidence.pcap"
"$LINGERLAB" analyze -r "$TEST_TMP/evidence.pcap" -o "$TEST_TMP/evidence.json" 2>/dev/null
"$LINGERLAB" render "$TEST_TMP/evidence.json" -o "$TEST_TMP/evidence.html" 2>/dev/null
check "page: no_reset in the finding's words" \
	grep -q '<span class="client-impact no_reset">At the client: it would accept none of the server.s 1 RST (no_reset).</span> It keeps the response, by luck rather than design' "$TEST_TMP/evidence.html"
check "page: the evidence the finding rests on" \
	grep -q "<dt>judged by</dt><dd>evidence</dd><dt>evidence</dt><dd>the RST's seq is the ACK field of a peer segment, which acknowledged up to 101</dd>" "$TEST_TMP/evidence.html"
tests/support/mkpcap crossed "$TEST_TMP/crossed.pcap"
"$LINGERLAB" analyze -r "$TEST_TMP/crossed.pcap" -o "$TEST_TMP/crossed.json" 2>/dev/null
"$LINGERLAB" render "$TEST_TMP/crossed.json" -o "$TEST_TMP/crossed.html" 2>/dev/null
check_eq "page: a connection with two findings shows both" 2 \
	"$(grep -c '<article class="finding" id="finding-[12]" data-connection="1">' "$TEST_TMP/crossed.html")"
check "page: the client's RST is graded at the server" \
	grep -q '<span class="peer-impact">At the server: no_reset.</span>' "$TEST_TMP/crossed.html"

if [ -z "$CHROMIUM" ]; then
	not_ok "chromium is installed (make deps installs it)"
	finish
fi

# --- what the browser sees: the seed's PUT ------------------------------
chrome --dump-dom "file://$page" >"$TEST_TMP/put.dom"
check "browser: loads the page" grep -q "<h1>lingerlab report</h1>" "$TEST_TMP/put.dom"
check "browser: hazard verdict at the top" grep -q 'id="verdict" class="verdict hazard"' "$TEST_TMP/put.dom"
check "browser: a ladder diagram for the flagged connection" \
	grep -q '<svg class="ladder" id="ladder-1" data-connection="1"' "$TEST_TMP/put.dom"
n_pkts=$(jq '.connections[0].timeline.packets | length' "$TEST_TMP/put-seed.json")
check_eq "browser: one arrow per timeline packet" "$n_pkts" \
	"$(grep -o '<g class="pkt [^"]*" data-i="[0-9]*"><title>[^<]*</title><polyline ' "$TEST_TMP/put.dom" | wc -l)"
rst=$(jq '.findings[0].rst_packet' "$TEST_TMP/put-seed.json")
# the finding's RST (seq 1) is below the client's window by the time it
# arrives: dropped under RFC 5961; packet 9 (seq 338 = RCV.NXT-1 after the
# server's FIN) is the one the client accepts
check "browser: the finding's RST is picked out, and drawn as ignored by the client" \
	grep -q "<g class=\"pkt s2c rst the-rst rst-ignored\" data-i=\"$rst\"><title>[^<]* - the client ignores it (RFC 5961)</title>" "$TEST_TMP/put.dom"
acc=$(jq '.findings[0].impact.accepted_rst_packet' "$TEST_TMP/put-seed.json")
check_eq "report: the client accepts the seed's second RST" 9 "$acc"
check "browser: the RST the client accepts is drawn apart" \
	grep -q "<g class=\"pkt s2c rst rst-reset\" data-i=\"$acc\"><title>[^<]* - the client accepts it: reset</title>" "$TEST_TMP/put.dom"
check "browser: the finding says what reached the client beside the server's view" \
	grep -q '<span class="client-impact reset_after_ack">At the client: it had acknowledged the whole response before any RST it would accept (reset_after_ack; it accepts packet 9).</span> A Linux or BSD application can still read the error page from its receive buffer; a Windows one loses it' "$TEST_TMP/put.dom"
check "browser: an estimate is called one" \
	grep -q "(The client's side is estimated: the capture was not taken next to it.)" "$TEST_TMP/put.dom"
check "browser: every RST of the server's with its fate" \
	grep -q '<dd>4 in all: #8 seq 1: ignored; #9 seq 338: reset; #10 seq 338: ignored; #11 seq 339: ignored</dd>' "$TEST_TMP/put.dom"
check "browser: the summary grades the server's RSTs at the client" \
	grep -q '<p class="client-impact-summary">The server.s RSTs at the client (RFC 5961): 0 reset it before it acknowledged the response (reset_before_ack), 1 only after (reset_after_ack), 0 were never accepted (no_reset).</p>' "$TEST_TMP/put.dom"
risk=$(jq '.findings[0].at_risk_packets[0]' "$TEST_TMP/put-seed.json")
check "browser: the at-risk response is picked out" \
	grep -q "<g class=\"pkt s2c data at-risk\" data-i=\"$risk\">" "$TEST_TMP/put.dom"
check "browser: the server's FIN_WAIT_2 interval is shaded" \
	grep -q '<g class="fw2"><rect ' "$TEST_TMP/put.dom"
check "browser: the finding in plain words" \
	grep -q "while 337 bytes of its response were not yet acknowledged" "$TEST_TMP/put.dom"
check "browser: the FIN_WAIT_2 chart with the analyzer's step series" \
	grep -q '<svg class="fw2-chart" id="fw2-chart-server".*' "$TEST_TMP/put.dom"
check "browser: the chart draws a series path" \
	grep -qE '<path class="series analyzer" d="M[0-9]' "$TEST_TMP/put.dom"

# pipelined-404 has a handshake: arrows bend at the capture point
"$LINGERLAB" render "$TEST_TMP/pipelined-404.json" -o "$TEST_TMP/p404.html" 2>/dev/null
chrome --dump-dom "file://$TEST_TMP/p404.html" >"$TEST_TMP/p404.dom"
check "browser: with round trips known, the capture point is drawn" \
	grep -q '<line class="capture" ' "$TEST_TMP/p404.dom"
check "browser: the at-risk bytes' time at the client is marked" \
	grep -q '<g class="risk-window"><rect .*>119 response</tspan><tspan [^>]*>bytes at risk</tspan>' "$TEST_TMP/p404.dom"

# nothing flagged: a clean verdict, no ladder, still the chart
"$LINGERLAB" render "$TEST_TMP/idle-client.json" -o "$TEST_TMP/idle.html" 2>/dev/null
chrome --dump-dom "file://$TEST_TMP/idle.html" >"$TEST_TMP/idle.dom"
check "browser: no hazard, a clean verdict" grep -q 'id="verdict" class="verdict clean"' "$TEST_TMP/idle.dom"
check "browser: no ladder when nothing is flagged" bash -c '! grep -q "<svg class=\"ladder\"" "$1"' _ "$TEST_TMP/idle.dom"
check "browser: the FIN_WAIT_2 chart of the idle client" \
	grep -q '<svg class="fw2-chart" id="fw2-chart-server"' "$TEST_TMP/idle.dom"

# --- the screenshot is not blank ----------------------------------------
echo '<!DOCTYPE html><html><body></body></html>' >"$TEST_TMP/blank.html"
chrome --window-size=1100,1600 --screenshot="$TEST_TMP/blank.png" "file://$TEST_TMP/blank.html" >/dev/null
chrome --window-size=1100,1600 --screenshot="$TEST_TMP/page.png" "file://$page" >/dev/null
blank=$(stat -c %s "$TEST_TMP/blank.png" 2>/dev/null || echo 0)
shot=$(stat -c %s "$TEST_TMP/page.png" 2>/dev/null || echo 0)
diag "screenshot: $shot bytes; a blank page of the same size: $blank bytes"
check "screenshot: a PNG was written" bash -c 'head -c 8 "$1" | od -An -tx1 | grep -q "89 50 4e 47"' _ "$TEST_TMP/page.png"
check "screenshot: far from blank (more than 10x a blank render's PNG)" \
	test "$blank" -gt 0 -a "$shot" -gt $((blank * 10))

# --- escaping: hostile names in a real report ----------------------------
evil="$TEST_TMP/a<script>alert(1)<script>&\"b'.pcap"
cp "$TEST_TMP/put-seed.pcap" "$evil"
"$LINGERLAB" analyze -r "$evil" -o "$TEST_TMP/evil.json" 2>/dev/null
"$LINGERLAB" render "$TEST_TMP/evil.json" -o "$TEST_TMP/evil.html" 2>/dev/null
check "escaping: the capture's name shows as text" \
	grep -q "a&lt;script&gt;alert(1)&lt;script&gt;&amp;&quot;b&#39;.pcap" "$TEST_TMP/evil.html"
check "escaping: no script element in the page" \
	bash -c 'test -s "$1" && ! grep -qi "<script" "$1"' _ "$TEST_TMP/evil.html"
# a hand-edited report may hold anything, even where lingerlab itself never
# writes such bytes (scenario names): the hand-made fixture checks that
"$LINGERLAB" render "$FIXTURES/handmade-lab-close.json" -o "$TEST_TMP/fixture.html" 2>/dev/null
check "escaping (hand-made fixture): markup in scenario texts stays text" \
	grep -q 'hand-made fixture scenario &lt;put-unauthorized&gt; &amp; &quot;quotes&quot;' "$TEST_TMP/fixture.html"

# --- a real lab report: verdict per scenario, kernel samples, hostile text
if need_root; then
	sed -e 's/^scenario pipelined-404$/scenario hostile-about/' \
	    -e 's|^about .*|about "<script>alert(1)</script> \& \\"quotes\\" <b>bold</b>"|' \
	    scenarios/pipelined-404.scn >"$TEST_TMP/hostile-about.scn"
	"$LINGERLAB" run -q --builtin close -o "$TEST_TMP/lab.json" \
		scenarios/idle-client-fin-wait-2.scn "$TEST_TMP/hostile-about.scn" 2>"$TEST_TMP/run.err"
	rc=$?
	check "lab run: exit 0 or 1 (expectations judged)" test "$rc" -le 1
	[ "$rc" -le 1 ] || diag "$(head -3 "$TEST_TMP/run.err")"
	"$LINGERLAB" render "$TEST_TMP/lab.json" -o "$TEST_TMP/lab.html" 2>/dev/null
	chrome --dump-dom "file://$TEST_TMP/lab.html" >"$TEST_TMP/lab.dom"
	check "lab: the target in the verdict" grep -q 'the reference target with close policy <b>close</b>' "$TEST_TMP/lab.dom"
	check "lab: one verdict row per scenario" \
		test "$(grep -o '<tr class="scenario"' "$TEST_TMP/lab.dom" | wc -l)" -eq 2
	fw=$(jq -r '.scenarios[] | select(.name == "idle-client-fin-wait-2") |
		"\(.summary.fin_wait_2_peak) / \(.summary.kernel_peak.FIN_WAIT_2)"' "$TEST_TMP/lab.json")
	check "lab: the idle clients' FIN_WAIT_2 peak, analyzer and kernel, in their row ($fw)" \
		grep -q "<tr class=\"scenario\" data-scenario=\"idle-client-fin-wait-2\">.*<td class=\"num\">$fw</td>" "$TEST_TMP/lab.dom"
	g=$(jq -r '(.scenarios[] | select(.name == "hostile-about") | .connections) as $ids |
		[.findings[] | select(.sender == "server" and (.connection as $c | $ids | index($c))) |
		 .client_impact][0]' "$TEST_TMP/lab.json")
	check "lab: the client's side of the close()d server's RST in its row ($g)" \
		grep -q "<tr class=\"scenario\" data-scenario=\"hostile-about\">.*<td class=\"client-impact $g\">$g</td>" "$TEST_TMP/lab.dom"
	check "lab: no grade where the server reset nothing" \
		grep -q '<tr class="scenario" data-scenario="idle-client-fin-wait-2"><td>.*</td><td class="num">0</td><td class="num">0</td><td>–</td>' "$TEST_TMP/lab.dom"
	check "lab: the failed expectation is shown failed" \
		grep -q '<span class="fail">✗</span> <code>expect no rst_before_ack</code>' "$TEST_TMP/lab.dom"
	check "escaping: the scenario's about text stays text" \
		grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; "quotes" &lt;b&gt;bold&lt;/b&gt;' "$TEST_TMP/lab.dom"
	check "escaping: no script element in the page" bash -c '! grep -qi "<script" "$1"' _ "$TEST_TMP/lab.html"
	check "lab: kernel samples overlaid on the FIN_WAIT_2 chart" \
		grep -q '<path class="series kernel" d="M' "$TEST_TMP/lab.dom"
	check_eq "lab: one dot per kernel sample" \
		"$(jq '.lab.kernel.samples | length' "$TEST_TMP/lab.json")" \
		"$(grep -o '<circle class="kernel-sample"' "$TEST_TMP/lab.dom" | wc -l)"
	peak=$(jq '.fin_wait_2.server.peak' "$TEST_TMP/lab.json")
	top=$(sed -n '/id="fw2-chart-server"/,/<\/svg>/p' "$TEST_TMP/lab.dom" |
		grep -oE 'class="tick" text-anchor="end" x="[0-9.]+" y="[0-9.]+">[0-9.]+<' |
		grep -oE '>[0-9.]+<' | tr -d '<>' | sort -n | tail -1)
	diag "FIN_WAIT_2 peak $peak, chart's top tick ${top:-none}"
	check "lab: the chart's scale reaches the idle clients' FIN_WAIT_2 peak, not far beyond" \
		test "${top:-0}" -ge "$peak" -a "$peak" -ge 40 -a "${top:-0}" -le $((peak * 2))
else
	skip "lab report parts need root (lingerlab run)"
fi

# --- bad input: one exact line, exit 2, no page --------------------------
bad() { # bad WHAT CONTENT EXPECTED-MESSAGE-AFTER-"lingerlab render: "
	local f=$TEST_TMP/bad-$n_bad.json; n_bad=$((n_bad + 1))
	printf '%s' "$2" >"$f"
	err=$("$LINGERLAB" render "$f" -o "$TEST_TMP/bad.html" 2>&1)
	check_eq "$1: exit 2" 2 "$?"
	check_eq "$1: exact error" "lingerlab render: $f$3" "$err"
	check "$1: no page written" test ! -e "$TEST_TMP/bad.html"
}
n_bad=0
bad "truncated JSON" '{"report_version": 1, "tool": {' \
	":1:31: truncated JSON: string or '}' expected near end of file"
bad "invalid JSON" '{"report_version": 1,, "tool": {}}' \
	":1:22: invalid JSON: string or '}' expected near ','"
bad "JSON that is not a report" '{"a": 1}' ': not a lingerlab report: no "report_version"'
bad "a report without findings" \
	"$(jq -c 'del(.findings)' "$TEST_TMP/put-seed.json")" \
	': not a lingerlab report: "findings" is missing or not an array'
bad "an empty file" '' ': empty file, not a JSON report'
bad "a timeline packet without flags" \
	"$(jq -c 'del(.connections[0].timeline.packets[2].flags)' "$TEST_TMP/put-seed.json")" \
	': connection 1: timeline packet 3: "flags" is not a flag string'
# the whole real report cut at every 997th byte: never a crash, always exit 2
size=$(stat -c %s "$TEST_TMP/put-seed.json") crashed=0
for ((cut = 1; cut < size; cut += 997)); do
	head -c "$cut" "$TEST_TMP/put-seed.json" >"$TEST_TMP/cut.json"
	"$LINGERLAB" render "$TEST_TMP/cut.json" -o "$TEST_TMP/cut.html" 2>/dev/null
	rc=$?
	[ "$rc" -eq 2 ] && [ ! -e "$TEST_TMP/cut.html" ] || { crashed=1; diag "cut at $cut: exit $rc"; }
done
check_eq "every truncation of a real report: exit 2, no page" 0 "$crashed"
finish
