#!/usr/bin/env bash
# audit_manpage.sh - docs/lingerlab.1 and `lingerlab CMD --help` agree: the
# man page formats without warnings, has a section for every subcommand the
# binary lists, names every option each subcommand's --help names, and
# documents every exit code.
source tests/lib.sh
MAN=docs/lingerlab.1

if ! command -v groff >/dev/null; then
	not_ok "groff is installed (make deps installs groff-base)"
	finish
fi
warn=$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)
check_eq "the man page formats without warnings" "" "$warn"
text=$(groff -man -Tutf8 -P-c -P-b -P-u "$MAN" 2>/dev/null | sed 's/‐/-/g')
check "the man page has text" test "$(wc -l <<<"$text")" -gt 100

cmds=$("$LINGERLAB" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}')
check "lingerlab --help lists its commands" test -n "$cmds"
for cmd in $cmds; do
	check "man page: a section for $cmd" grep -q "^\.SS $cmd\$" "$MAN"
	help=$("$LINGERLAB" "$cmd" --help 2>&1)
	check_eq "$cmd --help: exit 0" 0 "$?"
	opts=$(grep -oE '(^|[][ ,(|])--[a-z][a-z0-9-]*' <<<"$help" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	for opt in $opts; do
		check "man page: $cmd $opt" grep -qE -- "(^|[^a-z-])$opt([^a-z-]|\$)" <<<"$text"
	done
	shorts=$(grep -oE '^ +-[a-zA-Z][ ,]' <<<"$help" | grep -oE -- '-[a-zA-Z]' | sort -u)
	for opt in $shorts; do
		check "man page: $cmd $opt" grep -qE -- "(^|[ [(])$opt([ ,]|\$)" <<<"$text"
	done
done
for code in 0 1 2 3 4; do
	check "man page: exit status $code" \
		bash -c 'sed -n "/^EXIT STATUS/,/^ENVIRONMENT/p" <<<"$1" | grep -qE "^ +$2( |\$)"' _ "$text" "$code"
done
finish
