#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile tier, family S1: edit's scratch copy.  While root edits a private
# file, the attacker polls the directories for .awtmp-* names and tries to
# open each for reading: she must never succeed, and the file must stay as
# private as it was.  Also: a symlink is never silently replaced (D7), and
# the editor's own files beside the scratch are left alone.
. "$(dirname "$0")/lib.sh"

# An editor that keeps the scratch open for a while, then appends a line.
cat >"$T_ROOT/slow-editor" <<'ED'
#!/bin/sh
sleep "${SLOW:-2}"
echo "added by root" >>"$1"
ED
chmod 0755 "$T_ROOT/slow-editor"

# peek SECONDS DIR...: the attacker's poller in the background, output in
# $C/m/peek.
peek() {
	mdir "$C/m"
	local secs=$1
	shift
	bg_m sh -c "exec '$HB/awh-peek' $secs $* > '$C/m/peek'"
	sleep 0.2
}

peek_verdict() {
	stop_bg
	if grep -q '^opened' "$C/m/peek"; then
		fail "$M read root's scratch copy: $(grep -m3 '^opened' "$C/m/peek" | tr '\n' ' ')"
	fi
	grep -q '^seen [1-9]' "$C/m/peek" ||
		fail "$M never saw a scratch name ($(cat "$C/m/peek")): the test proved nothing"
}

h_case "S1 edit of a 0600 file in a sticky dir: the scratch is never readable"
sticky "$C/s"
printf 'root secret\n' >"$C/s/notes"
chmod 0600 "$C/s/notes"
peek 4 "$C/s"
EDITOR="$T_ROOT/slow-editor" expect_r 0 env "$AW" edit "$C/s/notes"
peek_verdict
expect_eq "$(stat -c '%U %a' "$C/s/notes")" "root 600" "the edited file"
expect_grep "added by root" "$C/s/notes" "the edit"
expect_no_temps "$C/s"

h_case "S1 edit -L of root's link to a 0600 file: scratch private, result 0600"
sticky "$C/s"
mkdir -m 0755 "$C/pub"
printf 'root secret\n' >"$C/pub/secret"
chmod 0600 "$C/pub/secret"
ln -s ../pub/secret "$C/s/notes"
peek 4 "$C/s" "$C/pub"
EDITOR="$T_ROOT/slow-editor" expect_r 0 env "$AW" edit -L "$C/s/notes"
peek_verdict
expect_eq "$(stat -c '%U %a' "$C/pub/secret")" "root 600" "the file the link points to"
expect_grep "added by root" "$C/pub/secret" "the edit"
[ -L "$C/s/notes" ] || fail "the link was replaced by a file"
expect_no_temps "$C/s"
expect_no_temps "$C/pub"

h_case "S1 edit -L of root's link to a 0640 group file: never wider than 0640"
sticky "$C/s"
mkdir -m 0755 "$C/pub"
printf 'group secret\n' >"$C/pub/conf"
chmod 0640 "$C/pub/conf"
ln -s ../pub/conf "$C/s/conf"
peek 4 "$C/s" "$C/pub"
EDITOR="$T_ROOT/slow-editor" expect_r 0 env "$AW" edit -L "$C/s/conf"
peek_verdict
expect_eq "$(stat -c '%U %a' "$C/pub/conf")" "root 640" "the file the link points to"

h_case "D7 edit of a link without -L refuses, names -L, keeps the link"
sticky "$C/s"
mkdir -m 0755 "$C/pub"
printf 'root secret\n' >"$C/pub/secret"
chmod 0600 "$C/pub/secret"
ln -s ../pub/secret "$C/s/notes"
SLOW=0 EDITOR="$T_ROOT/slow-editor" expect_r 1 env "$AW" edit "$C/s/notes"
expect_grep "-L" "$err" "the refusal names -L"
[ -L "$C/s/notes" ] || fail "the link was replaced by a file"
expect_eq "$(cat "$C/pub/secret")" "root secret" "the file"
expect_no_temps "$C/s"

h_case "S1 edit of her link to /etc/shadow-like file (in a sticky dir): nothing copied"
sticky "$C/s"
mkdir -m 0755 "$C/pub"
printf 'root secret\n' >"$C/pub/secret"
chmod 0600 "$C/pub/secret"
as_m ln -s ../pub/secret "$C/s/notes"
peek 3 "$C/s" "$C/pub"
SLOW=1 EDITOR="$T_ROOT/slow-editor" expect_r 1 env "$AW" edit "$C/s/notes"
SLOW=1 EDITOR="$T_ROOT/slow-editor" expect_r 1 env "$AW" edit -L "$C/s/notes"
stop_bg
grep -q '^opened' "$C/m/peek" && fail "$M read a scratch copy: $(grep -m3 '^opened' "$C/m/peek" | tr '\n' ' ')"
expect_eq "$(cat "$C/pub/secret")" "root secret" "the file her link points to"
no_root_data_for_m "$C" "root secret"
expect_no_temps "$C/s"
expect_no_temps "$C/pub"

# The editor's swap file (vim names it after the scratch: .awtmp-...swp)
# and a sweep by root during the session: the scratch and the swap file
# stay (D3, D4), and the edit is committed.
h_case "D3 a sweep during edit leaves the scratch and the editor's swap file"
sticky "$C/s"
printf 'root conf\n' >"$C/s/sshd_config"
chmod 0600 "$C/s/sshd_config"
cat >"$T_ROOT/swap-editor" <<'ED'
#!/bin/sh
d=$(dirname "$1"); b=$(basename "$1")
echo "swap of root's edit" >"$d/$b.swp"
chmod 0600 "$d/$b.swp"
touch "$d/started"
sleep 2
echo "added by root" >>"$1"
ED
chmod 0755 "$T_ROOT/swap-editor"
EDITOR="$T_ROOT/swap-editor" bg_root "$AW" edit "$C/s/sshd_config"
for i in $(seq 1 50); do [ -e "$C/s/started" ] && break; sleep 0.1; done
swp=$(find "$C/s" -maxdepth 1 -name '.awtmp-*.swp')
[ -n "$swp" ] || fail "the editor made no swap file"
expect_r 0 "$AW" sweep "$C/s"
[ -n "$swp" ] && [ ! -e "$swp" ] && fail "root's sweep removed the editor's swap file $swp"
for i in $(seq 1 50); do [ -e "$C/s/.done" ] && break; kill -0 "${H_BG[0]}" 2>/dev/null || break; sleep 0.1; done
wait "${H_BG[0]}"
erc=$?
H_BG=()
expect_eq "$erc" 0 "the edit's exit status"
expect_grep "added by root" "$C/s/sshd_config" "the edit, after a sweep"

t_done
