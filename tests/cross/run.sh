#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh - make check-cross: the library, the CLI and their tests on every
# Linux architecture and libc Debian's archive lets us build and run here.
#
#   TARGETS="i386 musl s390x" tests/cross/run.sh     some targets
#   CROSS_FAST=1 tests/cross/run.sh                  the CI part: i386 musl
#                                                    s390x, each quick
#   CROSS_FULL=1 ...                                 every target in full
#   CROSS_TESTS=0 ...                                builds only (steps 1, 2)
#
# Each target, in its own build directory (build/cross/TARGET):
#   1. builds warning-free (-Werror): libraries, CLI, unit tests, tools;
#   2. compiles the amalgamation with the target's compiler (-Werror);
#   3. make check and make check-posix: native targets (gcc, clang, musl,
#      i386) as on any machine; the others (aarch64, armhf, s390x,
#      ppc64le, riscv64) static, through qemu-user-static and binfmt_misc,
#      so that the CLI tests run the target's CLI (AW=) like a native one.
#      Quick (the qemu targets, and all under CROSS_FAST=1; CROSS_FULL=1
#      for none): without the unit tests' fault sweeps, which replay one
#      protocol at every seam call whatever the machine (minutes under
#      qemu), and without the CLI tests of the build system and the
#      documents (test_build, test_packaging, test_license, test_layout,
#      test_manpages), which build with this system's compiler.  Under
#      qemu test_edit_faults is skipped (strace sees qemu's calls);
#   4. on the 32-bit targets (i386, armhf) and on gcc (as the control),
#      tests/cross/test_32bit.sh: files over 4 GiB and dates after 2038.
# Installs its packages (.ci/install-deps.sh with AW_DEPS) as root; ends
# with a line per target (its time) and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
REPO=$PWD

ALL="gcc clang musl i386 aarch64 armhf s390x ppc64le riscv64"
FAST="i386 musl s390x"
if [ -n "${TARGETS:-}" ]; then
	targets=$TARGETS
elif [ "${CROSS_FAST:-0}" = 1 ]; then
	targets=$FAST
else
	targets=$ALL
fi

# target -> GNU triplet (empty: the system's compiler), qemu binfmt name
triplet() {
	case $1 in
	i386) echo i686-linux-gnu ;;
	aarch64) echo aarch64-linux-gnu ;;
	armhf) echo arm-linux-gnueabihf ;;
	s390x) echo s390x-linux-gnu ;;
	ppc64le) echo powerpc64le-linux-gnu ;;
	riscv64) echo riscv64-linux-gnu ;;
	esac
}
qemu_name() {
	case $1 in
	aarch64) echo aarch64 ;; armhf) echo arm ;; s390x) echo s390x ;;
	ppc64le) echo ppc64le ;; riscv64) echo riscv64 ;;
	esac
}
libc_cross() {  # the libc6-dev-*-cross package's architecture
	case $1 in
	i386) echo i386 ;; aarch64) echo arm64 ;; armhf) echo armhf ;;
	s390x) echo s390x ;; ppc64le) echo ppc64el ;; riscv64) echo riscv64 ;;
	esac
}
deps() {
	case $1 in
	gcc) ;;
	clang) echo clang ;;
	musl) echo musl-tools ;;
	*) echo "gcc-$(triplet "$1") libc6-dev-$(libc_cross "$1")-cross"
	   [ -n "$(qemu_name "$1")" ] && echo qemu-user-static binfmt-support ;;
	esac
}

pkgs=
for t in $targets; do
	case " $ALL " in *" $t "*) ;; *) echo "check-cross: unknown target $t (known: $ALL)"; exit 2 ;; esac
	pkgs="$pkgs $(deps "$t" | tr '\n' ' ')"
done
AW_DEPS="$pkgs" bash .ci/install-deps.sh || exit 1

# binfmt_misc: the kernel runs a foreign ELF through qemu-user-static (its
# F flag: the interpreter is opened once, so it works in any mount
# namespace and chroot).  Mounted and enabled here if need be (root).
binfmt_ready() {
	local q=$1
	[ -e /proc/sys/fs/binfmt_misc/status ] ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
	if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$q" ] || ! grep -qx enabled "/proc/sys/fs/binfmt_misc/qemu-$q"; then
		update-binfmts --enable "qemu-$q" >/dev/null 2>&1 ||
			update-binfmts --import "qemu-$q" >/dev/null 2>&1
	fi
	grep -qx enabled "/proc/sys/fs/binfmt_misc/qemu-$q" 2>/dev/null
}

passed=0
failed=0
skipped=0
summary=()
LOGDIR=$REPO/build/cross
mkdir -p "$LOGDIR"

# step NAME CMD...: runs CMD with its output in the target's log; a
# failure prints the log's end and fails the target.
step() {
	local name=$1
	shift
	echo "  $t: $name"
	if ! "$@" >>"$log" 2>&1; then
		echo "  $t: $name FAILED (log: $log)"
		tail -n 40 "$log" | sed 's/^/    | /'
		return 1
	fi
}

# The tallies of make check's last line ("N passed, N failed, N skipped").
tally_check() {
	local line
	line=$(grep -E '^([a-z0-9_.-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	echo "  $t: $2: ${line:-no summary line}"
	[ -n "$line" ] && ! grep -qE ' [1-9][0-9]* failed' <<<"$line"
}

run_target() {
	local tri cc mk=()
	tri=$(triplet "$t")
	case $t in
	gcc) cc=gcc ;;
	clang) cc=clang ;;
	musl) cc=musl-gcc ;;
	*) cc=$tri-gcc ;;
	esac
	command -v "$cc" >/dev/null || { echo "  $t: $cc missing"; return 1; }
	B=build/cross/$t
	mk=(B="$B" CC="$cc")
	local cflags="-O2 -g -Werror"
	[ "$t" = gcc ] && cflags="-O3 -g -Werror"   # gcc's -O3 warnings too
	[ -n "$tri" ] && mk+=(LD="$tri-ld" AR="$tri-ar" OBJCOPY="$tri-objcopy")
	# Static where the test binaries run through qemu or need no loader
	# of the target's libc here (musl, i386).
	case $t in gcc | clang) ;; *) mk+=(LDFLAGS=-static) ;; esac
	# No preload where it could not be loaded into this machine's
	# programs (another architecture, a static build) or is not glibc.
	case $t in gcc | clang) ;; *) mk+=(AW_PRELOAD=no) ;; esac
	mk+=(CFLAGS="$cflags")
	local q
	q=$(qemu_name "$t")
	if [ -n "$q" ] && ! binfmt_ready "$q"; then
		echo "  $t: binfmt_misc has no enabled qemu-$q (needs root and qemu-user-static): skipped"
		return 2
	fi
	rm -rf "$B"
	step "build -Werror (${cflags})" make -j2 "${mk[@]}" all "$B/unit-tests" "$B/test-strerror" || return 1
	step "runs: $(file -b "$B/atomicwrite" | cut -d, -f1-2)" "$B/atomicwrite" --version || return 1
	step "amalgamation with $cc -Werror" make "${mk[@]}" amalgamation || return 1
	# With the target's optimisation (gcc's -O3): some warnings need it.
	# shellcheck disable=SC2086
	step "amalgamation compiles (${cflags})" "$cc" -std=c11 $cflags -Wall -Wextra -c -o "$B/amalgamation/atomicwrite.o" \
		"$B/amalgamation/atomicwrite.c" || return 1
	[ "${CROSS_TESTS:-1}" = 0 ] && return 0
	local rc=0 env=()
	# qemu-user is slower: the tests' own time limits are scaled.
	[ -n "$q" ] && env+=(AW_TIMEOUT_SCALE=10)
	local quick=0
	[ -n "$q" ] && quick=1
	[ "${CROSS_FAST:-0}" = 1 ] && quick=1
	[ "${CROSS_FULL:-0}" = 1 ] && quick=0
	local cli_skip=
	# Under qemu-user strace sees qemu's system calls: test_edit_faults
	# counts calls to fail the n-th, and qemu's own come first.
	# And qemu-user does not translate XFS's exchange-range ioctls (the
	# library rightly answers EOPNOTSUPP there): test_keep_inode is native.
	[ -n "$q" ] && cli_skip="edit_faults keep_inode"
	local unit_skip="-fault_at_every_call -eintr_at_every_call"
	# CI's part: the long stress tests too (the full matrix has them).
	[ "${CROSS_FAST:-0}" = 1 ] && unit_skip="$unit_skip -many_threads -readers_never_see_two_versions \
		-batch_of_5000 -beyond_its_budget -concurrent_sweep -while_readers_resolve -never_see_a_torn_file"
	if [ "$quick" = 1 ]; then
		env+=(AW_UNIT_ARGS="$unit_skip")
		cli_skip="$cli_skip build packaging license layout manpages"
		echo "  $t: quick: no fault sweeps, no build-system tests (CROSS_FULL=1 for all)"
	fi
	[ -n "$cli_skip" ] && env+=(AW_CLI_SKIP="$cli_skip")
	env "${env[@]}" make -j2 "${mk[@]}" check >"$LOGDIR/$t.check.log" 2>&1
	tally_check "$LOGDIR/$t.check.log" "make check" || { grep -E '^FAIL|^    ' "$LOGDIR/$t.check.log" | head -30; rc=1; }
	# check-posix: the full matrix only (CI's native make check-posix
	# covers the fallbacks; CROSS_FAST=1 keeps within CI's time).
	if [ "${CROSS_FAST:-0}" != 1 ]; then
		env "${env[@]}" make -j2 "${mk[@]}" check-posix >"$LOGDIR/$t.posix.log" 2>&1
		tally_check "$LOGDIR/$t.posix.log" "make check-posix" ||
			{ grep -E '^FAIL|^    ' "$LOGDIR/$t.posix.log" | head -30; rc=1; }
	fi
	case $t in
	i386 | armhf | gcc)
		AW=$REPO/$B/atomicwrite bash tests/cross/test_32bit.sh >"$LOGDIR/$t.32bit.log" 2>&1
		tally_check "$LOGDIR/$t.32bit.log" "files over 4 GiB, dates after 2038" || { cat "$LOGDIR/$t.32bit.log"; rc=1; }
		;;
	esac
	return $rc
}

start_all=$(date +%s)
for t in $targets; do
	log=$LOGDIR/$t.log
	: >"$log"
	echo "== $t"
	start=$(date +%s)
	run_target
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) passed=$((passed + 1)); result=ok ;;
	2) skipped=$((skipped + 1)); result=skipped ;;
	*) failed=$((failed + 1)); result=FAILED ;;
	esac
	summary+=("$(printf '%-8s %-8s %4d s' "$t" "$result" "$secs")")
done

echo
echo "check-cross: $(($(date +%s) - start_all)) s"
printf '  %s\n' "${summary[@]}"
echo "check-cross: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
