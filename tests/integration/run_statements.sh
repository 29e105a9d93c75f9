#!/usr/bin/env bash
# run_statements.sh - the client does on the wire what each step says:
# half-close, abort, ACK never / up to N, a zero window in the SYN opened
# later, and sending on after the server's RST. One scenario, one set of
# connections per behaviour, against the reference target's `close`; the
# saved capture is the evidence.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "scenario steps on the wire"
mapfile -t targs < <(run_target_args)

scn=$TEST_TMP/steps.scn
cat >"$scn" <<'SCN'
# steps - one connection per behaviour
scenario steps
rtt 20ms
timeout 15s
fin half-close
connect
request GET /index.html
wait closed 3s
parallel 1 {
  connect
  request GET /index.html
  wait response 2s
  abort
}
parallel 1 {
  ack never
  connect
  request GET /index.html close
  wait data 2s
  hold 1500ms
}
parallel 1 {
  window 0
  connect
  request GET /index.html close
  sleep 300ms
  window 64KiB
  wait response 2s
  wait closed 2s
}
parallel 1 {
  ack upto 100
  connect
  request GET /index.html
  wait data 200 2s
  sleep 200ms
  ack now
  wait response 2s
  shutdown
  wait closed 2s
}
parallel 1 {
  after rst continue
  connect
  request PUT /protected/x length 64KiB
  body 64KiB rate 256KiB/s chunk 1000
  wait sent 3s
}
expect no leaked_rst
SCN

cap=$TEST_TMP/steps.pcap
run_start steps --builtin close "${targs[@]}" -o "$TEST_TMP/steps.json" -w "$cap" "$scn"
run_wait steps 60
check_eq "ran (exit 0)" 0 "$steps_rc"
check_eq "nothing left behind" "" "$(run_leftovers "$steps_pid")"

dump=$TEST_TMP/dump.txt
tcpdump -nr "$cap" 2>/dev/null >"$dump"
# client ports in the order of their SYNs = the order of the sets
mapfile -t ports < <(awk '$7 == "[S]," {split($3, a, "."); print a[5]}' "$dump")
check_eq "six connections" 6 "${#ports[@]}"
c2s() { grep -E "\.${1} > [0-9.]+\.80: " "$dump"; }
s2c() { grep -E "\.80 > [0-9.]+\.${1}: " "$dump"; }

# set 0: half-close: the client sends its FIN right behind the request,
# before any of the response has reached it. Judged by the FIN's own ACK
# field (ack 1: nothing of the server's received yet), not by capture
# order: at the server the response may leave in the microseconds between
# the request and the FIN arriving, which a busy host makes likely.
fin=$(grep -E "\.${ports[0]} > [0-9.]+\.80: Flags \[F" "$dump" | head -1)
first_data=$(grep -cE "\.80 > [0-9.]+\.${ports[0]}: .*length [1-9]" "$dump")
check "fin half-close: the client's FIN precedes the response (it ACKs none of it)" \
	test -n "$fin" -a "$first_data" -gt 0
check "fin half-close: the FIN's ACK field is 1" grep -q ", ack 1," <<<"$fin"
# set 1: abort
check "abort: the client sends RST" grep -q 'Flags \[R' <(c2s "${ports[1]}")
# set 2: ack never: the server retransmits its response
n=$(s2c "${ports[2]}" | grep -c 'seq 1:')
check "ack never: the server retransmits (response sent $n times)" test "$n" -ge 2
check "ack never: the client never acknowledges response bytes" test -z "$(c2s "${ports[2]}" | grep -E 'ack ([2-9]|[1-9][0-9]+),')"
# set 3: zero window in the SYN, opened later
check "window 0: the SYN advertises a zero window" grep -q 'Flags \[S\], .*win 0,' <(c2s "${ports[3]}")
check "window 64KiB: the window opens later" grep -qE 'win [1-9][0-9]*,' <(c2s "${ports[3]}" | grep -v 'Flags \[S\]')
# set 4: ack upto 100: the ACK stops at byte 100 (ack 101) until `ack now`
check "ack upto 100: the client acknowledges exactly 100 bytes" grep -q 'ack 101,' <(c2s "${ports[4]}")
check "ack now: then the rest is acknowledged" grep -qE 'ack (6[0-9]{2}|[7-9][0-9]{2}),' <(c2s "${ports[4]}")
# set 5: after rst continue: body segments keep coming, each answered by RST
n=$(s2c "${ports[5]}" | grep -c 'Flags \[R')
check "after rst continue: the server answers the late body with many RSTs ($n)" test "$n" -ge 10
check_jq "the report counts the put's reset" "$TEST_TMP/steps.json" '.scenarios[0].client.reset_seen'
finish
