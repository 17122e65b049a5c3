#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh - installs, from Debian's archive, what the build and every
# test suite need.  Run as root (CI is root).  The library itself needs only
# libc; everything below is for building, testing and measuring it.
#
#   bash .ci/install-deps.sh            build + fast tests + fault suites
#   AW_DEPS="extra pkgs" bash .ci/...   adds packages (the bench and power-loss
#                                        scripts pass theirs this way; so does
#                                        tests/cross/run.sh: musl-tools,
#                                        gcc-<triplet>, libc6-dev-<arch>-cross,
#                                        qemu-user-static, binfmt-support)
set -euo pipefail

pkgs=(
	build-essential pkg-config cmake   # build, consumer tests
	clang llvm libclang-rt-14-dev      # sanitizers, libFuzzer
	valgrind strace                    # memcheck, syscall fault injection
	acl attr                           # ACL and xattr preservation tests
	e2fsprogs xfsprogs btrfs-progs     # loop-mounted real filesystems
	util-linux procps psmisc           # mount, losetup, pkill, fuser
	man-db groff-base                  # `man -l` on our pages
	bash-completion zsh                # completion tests
	abigail-tools                      # make check-abi (abidw, abidiff)
	debhelper dpkg-dev lintian         # make check-deb (no fakeroot: Rules-Requires-Root: no)
)
# shellcheck disable=SC2206
pkgs+=(${AW_DEPS:-})

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing ${missing[*]}; run this script as root" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
