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
	check_eq "lab: one representative ladder per scenario (its first connection)" \
		"$(jq -r '[.scenarios[] | "\(.name) \(.connections[0])"] | join("|")' "$TEST_TMP/lab.json")" \
		"$(grep -o '<article class="scenario-conn" data-connection="[0-9]*" data-scenario="[^"]*"' "$TEST_TMP/lab.dom" |
		   sed 's/.*data-connection="\([0-9]*\)" data-scenario="\([^"]*\)"/\2 \1/' | paste -sd'|')"
	check "lab: the unflagged idle client's ladder among them, rebuilt from the lab's capture" \
		bash -c 'sed -n "/data-scenario=\"idle-client-fin-wait-2\"/,/<\/article>/p" "$1" | grep -q "<svg class=\"ladder\" id=\"ladder-scn-"' _ "$TEST_TMP/lab.dom"
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

# --- ladders for any connection, readable at any length ------------------
# labels_check PAGE OUT: PAGE with a script that measures, in Chromium, every
# text of every ladder as laid out, first with the bands folded, then with
# the <details> open (the whole ladders), and writes one line per visible
# ladder: "ID TEXTS OVERLAPPING-PAIRS". Pairs that cross by more than a
# pixel each way count.
labels_check() {
	{ sed 's|</body>||; s|</html>||' "$1"
	  cat <<'JS'
<script>
(function () {
	function measure(out, svg) {
		if (svg.getBoundingClientRect().height === 0) return;
		var r = [].map.call(svg.querySelectorAll('text'), function (t) { return t.getBoundingClientRect(); })
			.filter(function (b) { return b.width > 0; }), n = 0, i, j;
		for (i = 0; i < r.length; i++) for (j = i + 1; j < r.length; j++)
			if (r[i].left < r[j].right - 1 && r[j].left < r[i].right - 1 &&
			    r[i].top < r[j].bottom - 1 && r[j].top < r[i].bottom - 1) n++;
		out.push(svg.id + ' ' + r.length + ' ' + n);
	}
	var out = [], d = document.querySelectorAll('details.ladder-box'), k;
	for (k = 0; k < d.length; k++) d[k].open = false;
	[].forEach.call(document.querySelectorAll('svg.ladder, svg.tsg'), function (s) { measure(out, s); });
	for (k = 0; k < d.length; k++) d[k].open = true;
	[].forEach.call(document.querySelectorAll('details.ladder-box svg.ladder[data-view=full]'), function (s) { measure(out, s); });
	var pre = document.createElement('pre');
	pre.id = 'labelcheck';
	pre.textContent = out.join('\n');
	document.body.appendChild(pre);
})();
</script></body></html>
JS
	} >"$TEST_TMP/lc.html"
	chrome --dump-dom "file://$TEST_TMP/lc.html" |
		sed -n '/<pre id="labelcheck">/,/<\/pre>/p' | sed 's/<[^>]*>//g' | grep . >"$2"
}

# the idle client's connection is not flagged: the report keeps no record
# of it, render rebuilds it from the capture
"$LINGERLAB" render "$TEST_TMP/idle-client.json" --connection 1 -o "$TEST_TMP/idle1.html" 2>/dev/null
check_eq "--connection 1 of an unflagged connection: exit 0" 0 "$?"
chrome --dump-dom "file://$TEST_TMP/idle1.html" >"$TEST_TMP/idle1.dom"
check "--connection: the unflagged connection's ladder, rebuilt from the capture" \
	grep -q '<svg class="ladder" id="ladder-conn-1" data-connection="1" data-view="full"' "$TEST_TMP/idle1.dom"
check_eq "--connection: one arrow per packet of the connection, as tcpdump counts them" \
	"$(tcpdump -nr "$TEST_TMP/idle-client.pcap" tcp 2>/dev/null | wc -l)" \
	"$(sed -n '/id="ladder-conn-1"/,/<\/svg>/p' "$TEST_TMP/idle1.dom" | grep -o '<g class="pkt [^"]*" data-i="[0-9]*">' | wc -l)"
check "--connection: the server's FIN_WAIT_2 is shaded on the unflagged ladder" \
	bash -c 'sed -n "/id=\"ladder-conn-1\"/,/<\/svg>/p" "$1" | grep -q "<g class=\"fw2\"><rect "' _ "$TEST_TMP/idle1.dom"
check "--connection: the teardown in words above it" \
	grep -q '<p class="teardown-line">half_open, closed first by server; the wire leaves the client in CLOSE_WAIT and the server in FIN_WAIT_2' "$TEST_TMP/idle1.dom"
err=$("$LINGERLAB" render "$TEST_TMP/idle-client.json" --connection 9 -o "$TEST_TMP/idle9.html" 2>&1)
check_eq "--connection of a connection the capture lacks: exit 2" 2 "$?"
check_eq "--connection 9: the error names the capture and what it holds" \
	"lingerlab render: $TEST_TMP/idle-client.json: $TEST_TMP/idle-client.pcap has no connection 9 (it holds 1)" "$err"
check "--connection 9: no page written" test ! -e "$TEST_TMP/idle9.html"
err=$("$LINGERLAB" render "$TEST_TMP/idle-client.json" --connection x1 2>&1)
check_eq "--connection x1: exit 2 and one exact line" \
	"2 lingerlab render: --connection: expected a connection id, found 'x1'" "$? $(head -1 <<<"$err")"

# every arrow labelled on itself, a time axis, and the labels apart
n_lbl=$(sed -n '/id="ladder-1"/,/<\/svg>/p' "$TEST_TMP/put.dom" | grep -c '<text class="lbl" text-anchor="[a-z]*" x="[0-9.]*" y="[0-9.]*">#[0-9]* [FSRP.]* ')
check_eq "ladder: every arrow carries its label (#packet flags seq:end(len) ack)" "$n_pkts" "$n_lbl"
check "ladder: the at-risk 401's label reads as tcpdump would" \
	bash -c 'sed -n "/id=\"ladder-1\"/,/<\/svg>/p" "$1" | grep -q ">#3 P\. 1:338(337) ack [0-9]*</text>"' _ "$TEST_TMP/put.dom"
check "ladder: a time axis with ticks" \
	test "$(sed -n '/id="ladder-1"/,/<\/svg>/p' "$TEST_TMP/put.dom" | grep -o '<text class="tick"' | wc -l)" -ge 2

# long connections: a real PUT the server resets segment by segment (72
# RSTs), and lighttpd draining a 256 KiB PUT body after its 413
for c in lab-python-put lighttpd; do
	"$LINGERLAB" analyze -r "tests/captures/real/$c.pcap" -o "$TEST_TMP/$c.json" 2>/dev/null
	"$LINGERLAB" render "$TEST_TMP/$c.json" --all -o "$TEST_TMP/$c.html" 2>/dev/null
	check_eq "$c --all: exit 0" 0 "$?"
	chrome --dump-dom "file://$TEST_TMP/$c.html" >"$TEST_TMP/$c.dom"
	check_eq "$c --all: one article per connection of the capture" \
		"$(jq '.summary.connections' "$TEST_TMP/$c.json")" \
		"$(grep -o '<article class="connection" data-connection="[0-9]*"' "$TEST_TMP/$c.dom" | wc -l)"
done
page=$TEST_TMP/lab-python-put.dom
full=$(sed -n '/<svg class="ladder" id="ladder-conn-1" data-connection="1" data-view="full"/,/<\/svg>/p' "$page")
coll=$(sed -n '/<svg class="ladder" id="ladder-conn-1-collapsed"/,/<\/svg>/p' "$page")
n=$(jq '.connections[0].timeline.packets | length' "$TEST_TMP/lab-python-put.json")
check "bands: the long PUT sits in a <details> whose summary is the banded ladder" \
	grep -q '<details class="ladder-box" id="ladder-box-conn-1"><summary><svg class="ladder" id="ladder-conn-1-collapsed" data-connection="1" data-view="collapsed" data-packets="'"$n"'" data-bands="[1-9]' "$page"
check_eq "bands: the whole ladder (opened by a click) has an arrow per packet" "$n" \
	"$(grep -o '<g class="pkt [^"]*" data-i="[0-9]*">' <<<"$full" | wc -l)"
in_bands=$(grep -o '<g class="band" data-first="[0-9]*" data-last="[0-9]*" data-count="[0-9]*"' <<<"$coll" | grep -o 'data-count="[0-9]*"' | tr -dc '0-9\n' | awk '{ s += $1 } END { print s + 0 }')
drawn=$(grep -o '<g class="pkt [^"]*" data-i="[0-9]*">' <<<"$coll" | wc -l)
diag "collapsed: $drawn packets drawn one by one, $in_bands in bands, of $n"
check_eq "bands: each packet is either drawn or counted in a band" "$n" "$((drawn + in_bands))"
check "bands: labelled with what they hold" \
	grep -qE '<text class="band-lbl" [^>]*>client → server: [0-9]+ data segments, [0-9.]+ KiB; server → client: [0-9]+ RSTs alike</text>' <<<"$coll"
rst=$(jq '.findings[0].rst_packet' "$TEST_TMP/lab-python-put.json")
ch=$(jq '[.findings[0].impact.rsts[] | select(.accept == "challenge_ack") | .packet][0]' "$TEST_TMP/lab-python-put.json")
check "bands: what matters stays one by one: handshake, FIN, the finding's RST, the RST that draws a challenge ACK" \
	bash -c 'for i in 1 2 3 $2 $3; do grep -q "data-i=\"$i\"><title>" <<<"$1" || exit 1; done
	         grep -q "<g class=\"pkt s2c[^\"]* fin" <<<"$1"' _ "$coll" "$rst" "$ch"
check "bands: the page reads without a script" bash -c '! grep -qi "<script" "$1"' _ "$TEST_TMP/lab-python-put.html"

# the time-sequence graphs: one per direction for the PUT
tsg=$(sed -n '/<svg class="tsg" id="tsg-conn-1-s2c"/,/<\/svg>/p' "$page")
check_eq "time-sequence graph: a bar per server data segment" \
	"$(jq '[.connections[0].timeline.packets[] | select(.dir == "s2c" and .len > 0 and (.flags | test("R") | not))] | length' "$TEST_TMP/lab-python-put.json")" \
	"$(grep -o '<g class="seg[^"]*" data-i="[0-9]*">' <<<"$tsg" | wc -l)"
check_eq "time-sequence graph: every server RST marked" \
	"$(jq '[.connections[0].timeline.packets[] | select(.dir == "s2c" and (.flags | test("R")))] | length' "$TEST_TMP/lab-python-put.json")" \
	"$(grep -o '<g class="mark rst" data-i="[0-9]*">' <<<"$tsg" | wc -l)"
check "time-sequence graph: the server's FIN marked, the client's ACK and window lines drawn" \
	bash -c 'grep -q "<g class=\"mark fin\"" <<<"$1" && grep -q "<path class=\"tsg-ack\" d=\"M" <<<"$1" && grep -q "<path class=\"tsg-win\" d=\"M" <<<"$1"' _ "$tsg"
check "time-sequence graph: the bytes at risk shaded" \
	grep -q '<g class="tsg-risk"><title>553 bytes the server.s RST left unacknowledged</title><rect ' <<<"$tsg"
check_eq "time-sequence graph of the client's PUT body: a bar per client data segment" \
	"$(jq '[.connections[0].timeline.packets[] | select(.dir == "c2s" and .len > 0)] | length' "$TEST_TMP/lab-python-put.json")" \
	"$(sed -n '/<svg class="tsg" id="tsg-conn-1-c2s"/,/<\/svg>/p' "$page" | grep -o '<g class="seg[^"]*" data-i="[0-9]*">' | wc -l)"

# no label sits on another, in any ladder or graph, folded or opened
for c in put-seed p404 lab-python-put lighttpd; do
	case $c in put-seed) f=$TEST_TMP/put-seed.html ;; p404) f=$TEST_TMP/p404.html ;; *) f=$TEST_TMP/$c.html ;; esac
	labels_check "$f" "$TEST_TMP/$c.labels"
	diag "$c: $(tr '\n' ';' <"$TEST_TMP/$c.labels")"
	check "$c: labels measured in the browser" test -s "$TEST_TMP/$c.labels"
	check_eq "$c: no two texts of a picture overlap (browser layout)" "" \
		"$(awk '$3 != 0' "$TEST_TMP/$c.labels")"
done

# Python's http.server closes with a PUT body unread: FIN, then RST+ACK
# 19 us later (tests/captures/real/README.md, lab-python-flood). The
# analyzer files the cause as unread_at_close (the client had sent data):
# the FIN before the RST shows it closed, not an SO_LINGER 0 abort.
"$LINGERLAB" analyze -r tests/captures/real/lab-python-flood.pcap -o "$TEST_TMP/flood.json" 2>/dev/null
"$LINGERLAB" render "$TEST_TMP/flood.json" -o "$TEST_TMP/flood.html" 2>/dev/null
check "a RST right after the sender's FIN is a close that reset, not an abort" \
	grep -q "Why: the server closed while client data sat unread in its socket, and closing with unread data makes the kernel send RST even after a FIN sent by shutdown()" "$TEST_TMP/flood.html"

# a lab report whose capture is gone: the scenario's ladder cannot be
# rebuilt, the page says why and is still written
jq '.scenarios += [{"name": "gone", "connections": [7], "expectations": [], "passed": true}]' \
	"$FIXTURES/handmade-lab-close.json" >"$TEST_TMP/gone.json"
"$LINGERLAB" render "$TEST_TMP/gone.json" -o "$TEST_TMP/gone.html" 2>/dev/null
check_eq "scenario ladders, capture gone: the page is still written (exit 0)" 0 "$?"
check "scenario ladders, capture gone: a note says why" \
	grep -q '<p class="note">Connections without a record in the report cannot be drawn: out/capture.pcap: No such file or directory.</p>' "$TEST_TMP/gone.html"
check "scenario ladders: a scenario without connections says so" \
	grep -q '<p class="note">Scenario <b>clean-close</b> made no connection.</p>' "$TEST_TMP/gone.html"
check "scenario ladders: the recorded connection is drawn" \
	grep -q '<article class="scenario-conn" data-connection="1" data-scenario="put-unauthorized">' "$TEST_TMP/gone.html"

# a FIN_WAIT_2 series that starts late starts at 0 there, not at its
# first count (the bug: a client FIN_WAIT_2 at 1.977 s drawn from 0 s)
jq '.fin_wait_2.server.series = [[1.977, 1], [3.0, 0]] | .input.duration = 4' \
	"$TEST_TMP/idle-client.json" >"$TEST_TMP/late.json"
"$LINGERLAB" render "$TEST_TMP/late.json" -o "$TEST_TMP/late.html" 2>/dev/null
d=$(grep -o '<path class="series analyzer" d="[^"]*"' "$TEST_TMP/late.html" | head -1)
diag "late series: $d"
check "FIN_WAIT_2 chart: a series that starts at 1.977 s is 0 before it" \
	grep -qE '^<path class="series analyzer" d="M56\.0,256\.0 H[0-9.]+ V[0-9.]+ H' <<<"$d"

# screenshots of the banded and of the opened ladder, not blank
chrome --window-size=1100,1600 --screenshot="$TEST_TMP/bands.png" "file://$TEST_TMP/lab-python-put.html" >/dev/null
check "screenshot of the long PUT's page: far from blank" \
	test "$(stat -c %s "$TEST_TMP/bands.png" 2>/dev/null || echo 0)" -gt $((blank * 10))

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
