#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family D8: started with standard descriptors closed (a
# careless daemon, a cron job, an attacker's wrapper), neither the CLI nor
# the library hands out 0, 1 or 2 as the temporary file: what is written
# to stdout/stderr (verbose lines, the check's output) never lands in the
# target.
. "$(dirname "$0")/lib.sh"

setup() {
	mkdir -m 0700 "$C/d"
	echo old >"$C/d/f"
	chmod 0640 "$C/d/f"
	ln -s f "$C/d/link"
	echo new >"$C/src"
}

is_new() {
	expect_eq "$(cat "$C/d/f")" new "the target ($1)"
	expect_eq "$(stat -c %a "$C/d/f")" 640 "the target's mode ($1)"
	expect_no_temps "$C/d"
}

h_case "D8 stderr closed: -v lines never land in the file"
setup
r sh -c "exec '$AW' -v -L '$C/d/link' <'$C/src' 2>&-"
is_new "-v -L, 2>&-"
r sh -c "exec '$AW' -v --no-tmpfile '$C/d/f' <'$C/src' 2>&-"
is_new "-v --no-tmpfile, 2>&-"

h_case "D8 stderr closed: the check's output never lands in the file"
setup
r sh -c "exec '$AW' -v --check 'echo CHECK-SAYS >&2; echo CHECK-OUT; true' '$C/d/f' <'$C/src' 2>&-"
is_new "--check, 2>&-"

h_case "D8 stdin closed with --from: the file gets exactly the source"
setup
r sh -c "exec '$AW' -v --from '$C/src' -L '$C/d/link' <&-"
is_new "--from, <&-"
r sh -c "exec '$AW' --from-cmd 'echo new' '$C/d/f' <&-"
is_new "--from-cmd, <&-"

h_case "D8 stdin closed: the file is never read back into itself"
setup
echo "the old contents" >"$C/d/f"
r sh -c "exec '$AW' -L '$C/d/link' <&-"
case $rc in
0) expect_eq "$(cat "$C/d/f")" "" "stdin closed counts as empty input" ;;
1) expect_eq "$(cat "$C/d/f")" "the old contents" "a refused write" ;;
*) fail "exit $rc" ;;
esac
expect_no_temps "$C/d"

h_case "D8 all three closed: -v, --check, --from"
setup
r sh -c "exec '$AW' -v --check 'echo X; echo Y >&2' --from '$C/src' '$C/d/f' <&- >&- 2>&-"
is_new "<&- >&- 2>&-"
expect_eq "$rc" 0 "exit status"

h_case "D8 the library never hands out 0-2 as the temporary file"
setup
r "$HB/awh-fds" "$C/d/link"
expect_eq "$rc" 0 "awh-fds (O_TMPFILE)"
is_new "library, O_TMPFILE"
echo old >"$C/d/f"
r "$HB/awh-fds" "$C/d/link" named
expect_eq "$rc" 0 "awh-fds (named)"
is_new "library, named temporary file"

t_done
