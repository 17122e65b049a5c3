#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install-deps.sh - installs what bench/run.sh compares us with: the
# alternatives (Debian's packages and two npm packages) and the tools that
# run and draw the benchmark.  Run as root.  Re-running is cheap.
#
#   GLib g_file_set_contents_full   libglib2.0-dev
#   Go renameio v2                  golang-go golang-github-google-renameio-dev
#   python-atomicwrites             python3-atomicwrites
#   sponge                          moreutils
#   npm write-file-atomic, atomically   bench/package.json (exact versions,
#                                   locked by bench/package-lock.json)
#   chart                           gnuplot-nox;  filesystems: xfsprogs btrfs-progs
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pkgs="libglib2.0-dev golang-go golang-github-google-renameio-dev"
pkgs+=" python3-atomicwrites moreutils gnuplot-nox strace"
# A nodejs from another source brings its own npm, which Debian's npm
# package would conflict with.
command -v node >/dev/null || pkgs+=" nodejs"
command -v npm >/dev/null || pkgs+=" npm"
AW_DEPS="$pkgs" bash "$here/../.ci/install-deps.sh"

cd "$here"
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
else
	npm install --no-audit --no-fund --loglevel=error
fi
echo "bench/install-deps: ready"
