#!/usr/bin/env bash
# lessons.sh - every lesson in scenarios/lessons/ against its reference
# target (the "# reference: lingerlab run ARGS" line of its opening
# comment), with all its expectations holding; lessons that share a
# reference run go in one run. Then the explain story of each lesson's
# first connection, normalized to what is stable from run to run
# (tests/golden/lessons/normalize.py), must match
# tests/golden/lessons/NAME.txt. After reading a changed story against the
# packets, UPDATE_GOLDEN=1 rewrites the golden files.
source tests/lib.sh
source tests/integration/run_common.bash
need_lab "lessons against the reference target"
mapfile -t targs < <(run_target_args)

declare -A group_files=()
for f in scenarios/lessons/*.scn; do
	ref=$(sed -n 's/^# reference: lingerlab run //p' "$f" | head -1)
	if [ -z "$ref" ]; then
		not_ok "$(basename "$f"): names its reference run"
		continue
	fi
	group_files[$ref]+="$f "
done

g=0
for ref in "${!group_files[@]}"; do
	g=$((g + 1))
	read -r -a files <<<"${group_files[$ref]}"
	read -r -a args <<<"$ref"
	rep=$TEST_TMP/group$g.json
	# the marker's --linger-timeout first: a lesson's own comes later and wins
	run_start "group$g" "${targs[@]}" "${args[@]}" -o "$rep" -w "$TEST_TMP/group$g.pcap" "${files[@]}"
	run_wait "group$g" 240
	rcv=group${g}_rc
	check_eq "run $ref (${#files[@]} lessons): exit 0" 0 "${!rcv}"
	[ "${!rcv}" = 0 ] || head -5 "$TEST_TMP/group$g.err" | while IFS= read -r l; do diag "$l"; done
	check_eq "run $ref: nothing left behind" "" "$(run_leftovers "$(eval echo "\$group${g}_pid")")"
	for f in "${files[@]}"; do
		name=$(basename "$f" .scn)
		if ! jq -e --arg n "$name" '.scenarios[] | select(.name == $n)' "$rep" >/dev/null 2>&1; then
			not_ok "$name: in the report"
			continue
		fi
		n=$(jq --arg n "$name" '[.scenarios[] | select(.name == $n) | .expectations[]] | length' "$rep")
		failed=$(jq -r --arg n "$name" '.scenarios[] | select(.name == $n) | .expectations[] |
		         select(.passed | not) | "\(.text): \(.detail)"' "$rep")
		if [ "$n" -ge 2 ] && [ -z "$failed" ]; then
			ok "$name: all $n expectations hold against $ref"
		else
			not_ok "$name: all $n expectations hold against $ref"
			while IFS= read -r l; do diag "$l"; done <<<"$failed"
		fi
		golden=tests/golden/lessons/$name.txt
		"$LINGERLAB" explain --color=never --scenario "$name" "$rep" >"$TEST_TMP/$name.story" 2>&1
		check_eq "$name: explain exits 0" 0 "$?"
		python3 tests/golden/lessons/normalize.py <"$TEST_TMP/$name.story" >"$TEST_TMP/$name.norm"
		[ "${UPDATE_GOLDEN:-}" = 1 ] && cp "$TEST_TMP/$name.norm" "$golden"
		if diff -u "$golden" "$TEST_TMP/$name.norm" >"$TEST_TMP/$name.diff" 2>&1; then
			ok "$name: the first connection's story is as in $golden"
		else
			not_ok "$name: the first connection's story is as in $golden"
			head -30 "$TEST_TMP/$name.diff" | while IFS= read -r l; do diag "$l"; done
		fi
	done
done
finish
