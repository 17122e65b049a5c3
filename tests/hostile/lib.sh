# SPDX-License-Identifier: MIT
# tests/hostile/lib.sh - the attacker's toolkit, sourced by
# tests/hostile/test_*.sh after tests/cli/lib.sh's harness (t_case, fail,
# expect_eq, t_done ...).  Needs root: it creates an unprivileged user,
# removed again on exit whatever happens.
#
#   $M              the attacker's user name (awh-mallory-PID, a system
#                   account without a home)
#   as_m CMD...     runs CMD as the attacker (setpriv, her groups only);
#                   "${AS_M[@]}" CMD is the same as a command (for r, timeout)
#   bg_m CMD...     the same in the background, in its own process group;
#                   its pid is appended to H_BG (stopped by stop_bg / on exit)
#   stop_bg [SIG]   stops every background job started with bg_m or bg_root
#                   (SIGTERM, then SIGKILL; stop_bg KILL kills at once)
#   r CMD...        runs CMD as root under a timeout ($H_TMO s, default 20):
#                   sets $rc, stdout/stderr in $out/$err; a timeout fails the
#                   case ("hung") and sets H_HUNG=1 (until the next h_case)
#   expect_r N CMD  r, then the exit status must be N
#   sticky DIR      makes DIR a sticky world-writable directory (1777, root)
#   mdir DIR        makes DIR a directory the attacker owns (0755)
#   no_root_data_for_m DIR... WORD  fails if any file the attacker owns or
#                   may read below DIR holds WORD
# The scratch root ($T_ROOT) is root's, mode 0755: the attacker may look
# but not write, except where a case makes a sticky or attacker-owned
# directory.  $HB is where the C helpers are (build/hostile).

H_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
H_REPO=$(cd "$H_DIR/../.." && pwd)
: "${B:=build}"
case $B in /*) ;; *) B=$H_REPO/$B ;; esac
: "${AW:=$B/atomicwrite}"
: "${HB:=$B/hostile}"
H_TMO=${H_TMO:-20}

if [ "$(id -u)" != 0 ]; then
	echo "$(basename "$0"): skipped: the hostile tier needs root (it creates users and runs them with setpriv)"
	echo "$(basename "$0"): 0 passed, 0 failed, 1 skipped"
	exit 0
fi
for tool in useradd userdel setpriv setsid timeout flock; do
	command -v "$tool" >/dev/null || {
		echo "$(basename "$0"): $tool is missing (the hostile tier needs it as root)"
		echo "$(basename "$0"): 0 passed, 1 failed"
		exit 1
	}
done

# shellcheck source=../cli/lib.sh
. "$H_DIR/../cli/lib.sh"
chmod 0755 "$T_ROOT"
umask 022

M=awh-mallory-$$
H_BG=()
H_USER_MADE=0

stop_bg() {
	local p i alive sig=${1:-TERM}
	[ "${#H_BG[@]}" -gt 0 ] || return 0
	for p in "${H_BG[@]}"; do
		kill "-$sig" -- "-$p" 2>/dev/null
	done
	# the helpers print their count on SIGTERM; give them a moment
	for i in 1 2 3 4 5 6 7 8 9 10; do
		alive=0
		for p in "${H_BG[@]}"; do
			kill -0 -- "-$p" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for p in "${H_BG[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	H_BG=()
}

h_cleanup() {
	local rc=$?
	stop_bg
	if [ "$H_USER_MADE" = 1 ]; then
		local i
		for i in 1 2 3 4 5 6 7 8 9 10; do
			userdel "$M" 2>/dev/null && break
			# busy (a process of hers still exiting) or the
			# passwd lock held by another useradd: try again
			sleep 0.5
		done
		if id "$M" >/dev/null 2>&1; then
			userdel -f "$M" 2>/dev/null
		fi
		getent group "$M" >/dev/null 2>&1 && groupdel "$M" 2>/dev/null
		if id "$M" >/dev/null 2>&1; then
			echo "$(basename "$0"): could not remove the user $M" >&2
			rc=1
		fi
	fi
	chmod -R u+rwx "$T_ROOT" 2>/dev/null
	rm -rf "$T_ROOT"
	exit "$rc"
}
trap h_cleanup EXIT
trap 'exit 130' INT TERM HUP

h_i=0
until useradd --system --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin --user-group "$M" 2>"$T_ROOT/useradd.err"; do
	h_i=$((h_i + 1))
	if [ "$h_i" -ge 20 ]; then
		echo "$(basename "$0"): useradd $M failed: $(cat "$T_ROOT/useradd.err")"
		echo "$(basename "$0"): 0 passed, 1 failed"
		exit 1
	fi
	sleep 0.5   # another useradd holds /etc/passwd's lock
done
H_USER_MADE=1
MUID=$(id -u "$M")

AS_M=(setpriv --reuid="$M" --regid="$M" --init-groups -- env HOME=/nonexistent)

as_m() {
	"${AS_M[@]}" "$@"
}

bg_m() {
	setsid "${AS_M[@]}" "$@" &
	H_BG+=("$!")
}

bg_root() {
	setsid "$@" &
	H_BG+=("$!")
}

r() {
	# after one hang in a case the rest would most likely hang too
	if [ "$H_HUNG" = 1 ]; then
		rc=124
		: >"$out"
		echo "(not run: an earlier command of this case hung)" >"$err"
		return 0
	fi
	timeout -k 5 "$H_TMO" "$@" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		H_HUNG=1
		fail "hung: not finished after ${H_TMO}s: $*"
	fi
	return 0
}

expect_r() {
	local want=$1
	shift
	r "$@"
	if [ "$rc" != "$want" ]; then
		fail "exit status $rc, expected $want: $*"
		sed 's/^/      stderr: /' "$err" | head -5 >&2
	fi
}

sticky() {
	mkdir -p "$1" && chmod 1777 "$1"
}

mdir() {
	mkdir -p "$1" && chown "$M:$M" "$1" && chmod 0755 "$1"
}

# Fails if a file below the DIRs that the attacker owns, or that she may
# read, holds WORD (root's data handed to her).
no_root_data_for_m() {
	local word=${!#} f
	local dirs=("${@:1:$#-1}")
	while IFS= read -r -d '' f; do
		if grep -qF -- "$word" "$f" 2>/dev/null; then
			if [ "$(stat -c %u "$f")" = "$MUID" ] ||
			   as_m test -r "$f" 2>/dev/null; then
				fail "root's data ($word) in $f, $(stat -c '%U %a' "$f"), which $M can read"
			fi
		fi
	done < <(find "${dirs[@]}" -type f -print0 2>/dev/null)
}

# The contents of a file as one line (for messages).
h_show() {
	head -c 200 "$1" 2>/dev/null | tr '\n' ' '
}

# t_case, and the directory made traversable for the attacker.
H_HUNG=0
h_case() {
	stop_bg
	H_HUNG=0
	t_case "$1"
	chmod 0755 .
	C=$PWD
}
