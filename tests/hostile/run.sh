#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - what `make check-hostile` runs: every tests/hostile/test_*.sh
# (one family of attacks each, see TESTING.md and SECURITY.md), then one
# summary line "N passed, N failed".  Needs root; as another user it prints
# why it skips and exits 0.  FAMILIES="follow regular" runs some only.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
export B

if [ "$(id -u)" != 0 ]; then
	echo "check-hostile: skipped: needs root (it creates an unprivileged user, runs it with setpriv and removes it)"
	exit 0
fi

# Attackers left by a run that was killed outright (SIGKILL leaves no
# trap to run): awh-mallory-PID whose script is gone.
getent passwd | cut -d: -f1 | grep -E '^awh-mallory-[0-9]+$' | while read -r u; do
	kill -0 "${u##*-}" 2>/dev/null && continue
	echo "removing $u, left by a run that was killed"
	userdel "$u" 2>/dev/null || userdel -f "$u"
	getent group "$u" >/dev/null && groupdel "$u"
done

passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS

for t in tests/hostile/test_*.sh; do
	fam=${t##*/test_}
	fam=${fam%.sh}
	if [ -n "${FAMILIES:-}" ] && ! grep -qw -- "$fam" <<<"$FAMILIES"; then
		continue
	fi
	echo "== $t"
	t0=$SECONDS
	bash "$t" 2>&1 | tee "$log"
	line=$(grep -E '^[a-z_.-]*:? ?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "no summary line from $t: counted as a failure"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + $(sed -E 's/.* ([0-9]+) passed.*/\1/' <<<"$line")))
	failed=$((failed + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
	echo "   ($((SECONDS - t0)) s)"
done

echo
echo "check-hostile: $((SECONDS - start)) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
