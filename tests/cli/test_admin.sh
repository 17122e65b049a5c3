#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_admin.sh - what administrators use: --check, --backup, --from,
# --from-cmd with --lock, --verbose, and the edit subcommand (with an
# EDITOR script standing in for a person).
. "$(dirname "$0")/lib.sh"

t_case "--check replaces only if the command accepts the new contents"
printf 'port=1\n' > app.conf
printf 'port=2\n' | expect_status 0 "$AW" --check 'grep -q port= {}' app.conf
expect_eq "$(cat app.conf)" port=2 "accepted"
printf 'garbage\n' | expect_status 1 "$AW" --check 'grep port= {} || { echo "no port in {}"; exit 4; }' app.conf
expect_eq "$(cat app.conf)" port=2 "rejected contents not committed"
expect_grep "^no port in " "$err" "the check's output is shown"
expect_grep "check failed (exit status 4)" "$err" "exit status named"
expect_grep "app.conf was not changed" "$err" "outcome"
expect_no_temps .

t_case "--check appends the path when there is no {}, quoting odd names"
printf 'x\n' | expect_status 0 "$AW" --check 'test -s' "it's a file"
expect_eq "$(cat "it's a file")" x "contents"
printf 'x\n' | expect_status 0 "$AW" --no-tmpfile -c 'test -f {} && test -f' plain
expect_no_temps .

t_case "--backup keeps the old version as FILE~ or FILE+SUFFIX"
printf old > f
printf new | expect_status 0 "$AW" -b f
expect_eq "$(cat f~)" old "backup"
expect_eq "$(cat f)" new "file"
printf newer | expect_status 0 "$AW" --backup=.orig f
expect_eq "$(cat f.orig)" new "suffix backup"
printf newest | expect_status 0 "$AW" -b f
expect_eq "$(cat f~)" newer "backup replaced"
printf first | expect_status 0 "$AW" -b fresh
[ ! -e fresh~ ] || fail "a backup of nothing"
printf x | expect_status 2 "$AW" --backup=a/b f
expect_no_temps .

t_case "--from copies a file; a missing source changes nothing"
head -c 300000 /dev/urandom > src.bin
expect_status 0 "$AW" --from src.bin dst.bin
cmp -s src.bin dst.bin || fail "copy differs"
printf old > dst2
expect_status 1 "$AW" --from missing dst2
expect_grep "reading missing (--from): $(t_strerror ENOENT); dst2 was not changed" "$err" "message"
expect_eq "$(cat dst2)" old "untouched"
expect_status 2 "$AW" --from a --from-cmd b dst2

t_case "--from-cmd: the command's output, nothing if it fails"
printf 5 > n
expect_status 0 "$AW" n --from-cmd 'expr $(cat n) + 1'
expect_eq "$(cat n)" 6 "incremented"
expect_status 1 "$AW" n --from-cmd 'echo partial; exit 3'
expect_eq "$(cat n)" 6 "failed command changes nothing"
expect_grep "from-cmd failed (exit status 3)" "$err" "message"
expect_no_temps .

t_case "-l with --from-cmd: concurrent read-modify-write loses no update"
printf 0 > counter
for _ in $(seq 24); do
	"$AW" -l counter --from-cmd 'expr $(cat counter) + 1' &
done
wait
expect_eq "$(cat counter)" 24 "24 increments"
expect_no_temps .

t_case "--verbose names each step; quiet by default"
printf x | expect_status 0 "$AW" v
expect_eq "$(cat "$err")" "" "quiet"
printf y | expect_status 0 "$AW" -v -b v
expect_grep "creating a temporary file beside v" "$err" "step"
expect_grep "keeping the old v as v~" "$err" "step"
expect_grep "replaced v" "$err" "step"

t_case "edit: a changed copy replaces FILE, keeping its mode"
cat > ed.sh <<'SH'
#!/bin/sh
sed -i 's/port=1/port=2/' "$1"
SH
chmod +x ed.sh
printf 'port=1\n' > app.conf; chmod 640 app.conf
EDITOR=./ed.sh expect_status 0 "$AW" edit -b app.conf
expect_eq "$(cat app.conf)" port=2 "edited"
expect_eq "$(cat app.conf~)" port=1 "backup"
expect_eq "$(t_stat %a app.conf)" 640 "mode kept"
expect_no_temps .

t_case "edit: VISUAL wins over EDITOR, with arguments"
printf 'a\n' > f
VISUAL="sed -i s/a/b/" EDITOR=false expect_status 0 "$AW" edit f
expect_eq "$(cat f)" b "VISUAL used"

t_case "edit: unchanged, failed editor, failed check change nothing"
printf 'port=1\n' > app.conf
EDITOR=true expect_status 0 "$AW" edit app.conf
expect_grep "app.conf unchanged" "$err" "message"
EDITOR=false expect_status 1 "$AW" edit app.conf
expect_grep "editor (false) failed" "$err" "message"
EDITOR=./ed.sh expect_status 1 "$AW" edit --check 'grep -q port=9' app.conf </dev/null
expect_eq "$(cat app.conf)" port=1 "untouched"
expect_eq "$(ls -A | grep -c '^\.awtmp-')" 0 "scratch removed"

t_case "edit: an editor that saves by rename, and a FILE that does not exist yet"
cat > rename-ed.sh <<'SH'
#!/bin/sh
printf 'written by rename\n' > "$1.new" && mv "$1.new" "$1"
SH
chmod +x rename-ed.sh
EDITOR=./rename-ed.sh expect_status 0 "$AW" edit brand-new.conf
expect_eq "$(cat brand-new.conf)" "written by rename" "contents"
expect_no_temps .

t_case "edit: the session holds the lock other --lock writers wait for"
printf 0 > c
cat > slow-ed.sh <<'SH'
#!/bin/sh
: > editor-started
sleep 1; printf 100 > "$1"
SH
chmod +x slow-ed.sh
EDITOR=./slow-ed.sh "$AW" edit c & pid=$!
# The editor starts only once the session holds the lock: wait for it, not
# for a fixed time (a slow or loaded machine missed a 0.3 s sleep).
for _ in $(seq 200); do [ -e editor-started ] && break; sleep 0.05; done
[ -e editor-started ] || fail "the editor did not start"
expect_status 0 "$AW" -l c --from-cmd 'expr $(cat c) + 1'
wait "$pid" || fail "edit failed"
expect_eq "$(cat c)" 101 "the locked writer ran after the edit"

t_done
