#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S7: --check with target names the attacker chose
# (say root runs a loop over the files of a shared directory).  However
# {} is written in the command (bare, "{}", '{}', or left out), no name
# makes the shell run what it contains; bare, "{}" and appended keep
# working on names without blanks; the file is replaced exactly when the
# check passes.
. "$(dirname "$0")/lib.sh"

nl='
'
# Names without blanks: every form of {} but '{}' must work on them.
names_plain=(
	'a$(touch${IFS}PWNED)b'
	'a`touch${IFS}PWNED`b'
	'a;touch${IFS}PWNED;b'
	'a|touch${IFS}PWNED'
	'a&&touch${IFS}PWNED'
	"a'\$(touch\${IFS}PWNED)'b"
	'a"$(touch${IFS}PWNED)"b'
	'$(touch${IFS}PWNED)'
	'-n'
)
# Names with blanks, quotes and newlines: no injection, whatever passes.
names_wild=(
	'a$(touch PWNED)b'
	'a`touch PWNED`b'
	"a\"; touch PWNED; \"b"
	"a'; touch PWNED; 'b"
	"a${nl}touch PWNED${nl}b"
	"x' \"\$(touch PWNED)\" 'y"
	'*'
)

pwned() {
	local p
	p=$(find "$T_ROOT" / -maxdepth 1 -name 'PWNED*' 2>/dev/null; find "$C" -name 'PWNED*' 2>/dev/null)
	if [ -n "$p" ]; then
		fail "the check ran a command from the name ($1): $p"
		rm -f $p
	fi
}

# try FORM WANT NAME: --check with FORM on sticky/NAME; WANT is 0 (must
# pass and replace), or "any" (either, but consistently).
try() {
	local form=$1 want=$2 name=$3 target
	target=$C/s/$name
	rm -f -- "$target"
	( cd "$C/work" && r "$AW" --check "$form" "$target" <"$C/priv/new"
	  echo "$rc" >"$C/work/rc"; cp "$err" "$C/work/err" )
	rc=$(cat "$C/work/rc")
	pwned "form $form, name $(printf %q "$name")"
	if [ "$want" = 0 ] && [ "$rc" != 0 ]; then
		fail "form $form, name $(printf %q "$name"): exit $rc: $(h_show "$C/work/err")"
	fi
	case $rc in
	0) [ "$(cat -- "$target" 2>/dev/null)" = ROOTDATA ] ||
		fail "form $form, name $(printf %q "$name"): exit 0 but the file holds '$(h_show "$target")'" ;;
	1) [ -e "$target" ] && fail "form $form, name $(printf %q "$name"): exit 1 but the file exists" ;;
	*) fail "form $form, name $(printf %q "$name"): exit $rc" ;;
	esac
	expect_no_temps "$C/s"
}

setup() {
	sticky "$C/s"
	mkdir -m 0700 "$C/priv" "$C/work"
	echo ROOTDATA >"$C/priv/new"
}

h_case "S7 hostile names, no blanks: bare {}, \"{}\" and appended work, nothing injected"
setup
for n in "${names_plain[@]}"; do
	try 'grep -q ROOTDATA {}' 0 "$n"
	try 'grep -q ROOTDATA "{}"' 0 "$n"
	try 'grep -q ROOTDATA' 0 "$n"
	try "grep -q ROOTDATA '{}'" any "$n"
done

h_case "S7 hostile names with blanks, quotes, newlines: nothing injected"
setup
for n in "${names_wild[@]}"; do
	try 'grep -q ROOTDATA {}' 0 "$n"
	try 'grep -q ROOTDATA' 0 "$n"
	try 'grep -q ROOTDATA "{}"' any "$n"
	try "grep -q ROOTDATA '{}'" any "$n"
	try 'test -s "{}" && grep -q ROOTDATA -- "{}"' any "$n"
done

h_case "S7 edit --check with a hostile name: nothing injected"
setup
for n in 'a$(touch PWNED)b' 'a"$(touch${IFS}PWNED)"b' "a'\$(touch\${IFS}PWNED)'b"; do
	rm -f -- "$C/s/$n"
	( cd "$C/work" && EDITOR="sh -c 'echo ROOTDATA > \"\$1\"' sh" \
		r env "$AW" edit --check 'grep -q ROOTDATA "{}"' "$C/s/$n" )
	pwned "edit, name $(printf %q "$n")"
	( cd "$C/work" && EDITOR="sh -c 'echo ROOTDATA > \"\$1\"' sh" \
		r env "$AW" edit --check "grep -q ROOTDATA '{}'" "$C/s/$n" )
	pwned "edit '{}', name $(printf %q "$n")"
done
expect_no_temps "$C/s"

h_case "S7 control: the checker sees the new contents at the path it is given"
setup
try 'test "$(cat {})" = ROOTDATA' 0 plain
try 'test "$(cat "{}")" = ROOTDATA' 0 plain
try 'cmp -s {} '"$C/priv/new" 0 plain
try 'false {}' any plain
[ -e "$C/s/plain" ] && fail "a failing check replaced the file"

t_done
