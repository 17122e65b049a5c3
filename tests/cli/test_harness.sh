#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_harness.sh - lib.sh itself: a failed expectation fails its case
# wherever it ran, in a pipeline's subshell too (`printf x | expect_status
# ...`, the way most tests feed stdin), and only its case.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# Runs a script of cases under lib.sh; prints its summary line.
inner() {
	local s=$T_ROOT/inner.sh
	{ echo ". '$here/lib.sh'"; cat; echo t_done; } >"$s"
	AW=$AW bash "$s" 2>/dev/null | tail -n 1
}

t_case "a failed expect_status in a pipeline fails its case"
got=$(inner <<'EOS'
t_case a; printf x | expect_status 1 true
t_case b; printf x | expect_status 0 true
EOS
)
expect_eq "$got" "inner.sh: 1 passed, 1 failed" "summary"

t_case "fail, expect_eq and expect_grep in a subshell count; the next case starts clean"
got=$(inner <<'EOS'
t_case a; ( fail "in a subshell" )
t_case b; ( expect_eq 1 2 "in a subshell" )
t_case c; echo yes > f; ( expect_grep no f "in a subshell" )
t_case d; expect_eq 1 1 "equal"
EOS
)
expect_eq "$got" "inner.sh: 1 passed, 3 failed" "summary"

t_done
