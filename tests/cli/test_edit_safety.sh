#!/bin/bash
# SPDX-License-Identifier: MIT
# test_edit_safety.sh - what "atomicwrite edit" promises when the file is a
# symbolic link, the editor saves by rename or uses Ctrl-C, a sweep runs
# meanwhile, the user writes nothing, or the commit fails (issue 11: S1,
# D4, D5, D6, D7, R6).  Editors are scripts standing in for a person.
. "$(dirname "$0")/lib.sh"

scratches() { find "${1:-.}" -maxdepth 1 -name '.awtmp-*' | wc -l; }
kept() { find "${1:-.}" -maxdepth 1 -name '.*.aw-edit-*~'; }

# An editor that notes the scratch copy's mode and path, then appends a line.
cat > "$T_ROOT/note-ed.sh" <<'SH'
#!/bin/sh
{ stat -c '%a' "$1" 2>/dev/null || stat -f '%Lp' "$1"; } >> "$NOTES/modes"
printf '%s\n' "$1" >> "$NOTES/paths"
printf 'edited\n' >> "$1"
SH
chmod +x "$T_ROOT/note-ed.sh"
NOTE_ED=$T_ROOT/note-ed.sh

t_case "S1: the scratch copy is 0600 whatever FILE's mode and the umask"
export NOTES=$PWD
(umask 022; EDITOR=$NOTE_ED expect_status 0 "$AW" edit new.conf)
expect_eq "$(cat modes)" 600 "scratch of a new file"
expect_eq "$(t_stat %a new.conf)" 644 "the new file gets 0666 & ~umask"
printf 'a\n' > open.conf; chmod 644 open.conf; : > modes
EDITOR=$NOTE_ED expect_status 0 "$AW" edit open.conf
expect_eq "$(cat modes)" 600 "scratch of a 0644 file"
expect_eq "$(t_stat %a open.conf)" 644 "mode kept"
printf 'pw\n' > shadow; chmod 600 shadow; ln -s shadow notes; : > modes
EDITOR=$NOTE_ED expect_status 1 "$AW" edit notes
expect_eq "$(cat modes)" "" "no scratch copy of a link's target without -L"
EDITOR=$NOTE_ED expect_status 0 "$AW" edit -L notes
expect_eq "$(cat modes)" 600 "scratch of a 0600 file through -L"
expect_eq "$(t_stat %a shadow)" 600 "the result keeps the 0600 mode"
expect_eq "$(scratches)" 0 "no scratch left"

t_case "S1: another user cannot read the scratch copy of a link to a 0600 file (root)"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "    skipped: needs root and setpriv (runs a reader as nobody)"
else
	pub=$(mktemp -d /tmp/aw-edit-s1-XXXXXX)
	chmod 1777 "$pub"
	printf 'root:secret\n' > "$pub/shadow"; chmod 600 "$pub/shadow"
	ln -s shadow "$pub/notes"
	printf 'public\n' > "$pub/control"; chmod 644 "$pub/control"
	cat > "$pub/spy-ed.sh" <<'SH'
#!/bin/sh
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody cat "${1%/*}/control" > /dev/null 2>&1 && echo sane > "${1%/*}/sanity"
for f in "${1%/*}"/.awtmp-*; do
	as_nobody cat "$f" > /dev/null 2>&1 && echo "read $f" >> "${1%/*}/verdict"
done
printf 'x\n' >> "$1"
SH
	chmod 755 "$pub/spy-ed.sh"
	(cd "$pub" && EDITOR=./spy-ed.sh "$AW" edit notes >/dev/null 2>&1)
	(cd "$pub" && EDITOR=./spy-ed.sh expect_status 0 "$AW" edit -L notes)
	expect_eq "$(cat "$pub/sanity" 2>/dev/null)" sane "nobody can read a public file there"
	expect_eq "$(cat "$pub/verdict" 2>/dev/null)" "" "nobody read no scratch copy"
	expect_eq "$(t_stat '%a %U' "$pub/shadow")" "600 root" "mode and owner kept"
	expect_eq "$(find "$pub" -maxdepth 1 -name '.awtmp-*' | wc -l)" 0 "no scratch left"
	rm -rf "$pub"
fi

t_case "D7: a symbolic link is refused without -L, edited through with -L"
printf 'port=1\n' > real.conf; chmod 640 real.conf; ln -s real.conf app.conf
cat > ed.sh <<'SH'
#!/bin/sh
: > editor-ran
sed -i 's/port=1/port=2/' "$1"
SH
chmod +x ed.sh
EDITOR=./ed.sh expect_status 1 "$AW" edit app.conf
expect_grep "symbolic link" "$err" "says why"
expect_grep "[-]L" "$err" "names -L"
[ -L app.conf ] || fail "the link was replaced"
[ -e editor-ran ] && fail "the editor ran"
expect_eq "$(cat real.conf)" port=1 "target untouched"
expect_eq "$(ls -A | sort | tr '\n' ' ')" "app.conf ed.sh real.conf " "nothing created"
EDITOR=./ed.sh expect_status 0 "$AW" edit -L app.conf
[ -L app.conf ] || fail "-L replaced the link"
expect_eq "$(readlink app.conf)" real.conf "the link is as it was"
expect_eq "$(cat real.conf)" port=2 "the target was edited"
expect_eq "$(t_stat %a real.conf)" 640 "the target's mode kept"
expect_eq "$(scratches)" 0 "no scratch left"

t_case "R6: -L with a dangling link: scratch and new file where the link leads"
mkdir sub; ln -s sub/new.conf link; export NOTES=$PWD
EDITOR=$NOTE_ED expect_status 0 "$AW" edit -L link
expect_eq "$(cat sub/new.conf 2>/dev/null)" edited "created through the link"
[ -L link ] || fail "the link was replaced"
expect_eq "$(scratches .) $(scratches sub)" "0 0" "no scratch left in either directory"
case $(cat paths) in
	*/sub/.awtmp-*) ;;
	*) fail "the editor was not given the scratch beside the target: $(cat paths)" ;;
esac
expect_eq "$(ls -A | sort | tr '\n' ' ')" "link modes paths sub " "nothing else created"

t_case "D6: a new FILE is not created when nothing was written"
EDITOR=true expect_status 0 "$AW" edit new.conf
[ -e new.conf ] && fail "EDITOR=true created new.conf"
expect_grep "not created" "$err" "says so"
printf '#!/bin/sh\n: > "$1"\n' > empty-ed.sh; chmod +x empty-ed.sh
EDITOR=./empty-ed.sh expect_status 0 "$AW" edit new.conf
[ -e new.conf ] && fail "an empty save created new.conf"
expect_eq "$(ls -A)" "empty-ed.sh" "nothing left"
: > empty.conf
EDITOR=true expect_status 0 "$AW" edit empty.conf
expect_grep "empty.conf unchanged" "$err" "an existing empty file is unchanged"
printf '#!/bin/sh\necho hi > "$1"\n' > hi-ed.sh; chmod +x hi-ed.sh
EDITOR=./hi-ed.sh expect_status 0 "$AW" edit new.conf
expect_eq "$(cat new.conf)" hi "what is written is created"

t_case "D5: Ctrl-C in the editor's process group does not end the session"
if ! command -v setsid >/dev/null; then
	echo "    skipped: needs setsid"
else
	printf 'old\n' > f
	# As ed does: the editor handles SIGINT itself and saves afterwards.
	cat > int-ed.sh <<'SH'
#!/bin/sh
trap 'echo interrupted >> int.log' INT
trap 'echo quit >> int.log' QUIT
kill -INT 0
kill -QUIT 0 2>/dev/null
sleep 0.3
printf 'saved after ^C\n' > "$1"
SH
	chmod +x int-ed.sh
	# The CLI hands the editor SIGINT and SIGQUIT as it got them: a run
	# from a script's background job (`make check &`) has them ignored,
	# and no shell can catch them then.  Their defaults, where env can.
	dflt=()
	env --default-signal=INT,QUIT true 2>/dev/null && dflt=(env --default-signal=INT,QUIT)
	EDITOR=./int-ed.sh expect_status 0 setsid -w "${dflt[@]}" "$AW" edit f
	expect_eq "$(cat f)" "saved after ^C" "the later save is committed"
	expect_eq "$(sort int.log 2>/dev/null | tr '\n' ' ')" "interrupted quit " "the editor got SIGINT and SIGQUIT"
	expect_eq "$(scratches)" 0 "no scratch left"
	# An editor that dies of the signal ends the session: nothing changed.
	printf '#!/bin/sh\nkill -INT 0\nsleep 1; echo late > "$1"\n' > die-ed.sh
	chmod +x die-ed.sh
	EDITOR=./die-ed.sh expect_status 1 setsid -w "${dflt[@]}" "$AW" edit f
	expect_grep "killed by signal\|exit status 130" "$err" "the editor's end is reported"
	expect_eq "$(cat f)" "saved after ^C" "untouched"
	expect_eq "$(scratches)" 0 "no scratch left"
fi

t_case "D4: an editor that saves by rename, with a sweep meanwhile"
# A sweep can tell a file renamed over the scratch copy from a dead
# writer's temporary file only by the inode its name encodes (issue 11's
# temp-name marker): until the library names temporary files so, say so.
export NOTES=$PWD
EDITOR=$NOTE_ED "$AW" edit probe >/dev/null 2>&1
if ! grep -Eq '/\.awtmp-[0-9a-f]{16}-' paths; then
	echo "    skipped: temporary names carry no inode marker yet ($(sed 's|.*/||' paths))"
else
printf 'port=1\n' > app.conf; chmod 640 app.conf
cat > sed-sweep.sh <<SH
#!/bin/sh
sed -i 's/port=1/port=2/' "\$1" && "$AW" sweep . >> swept
SH
chmod +x sed-sweep.sh
EDITOR=./sed-sweep.sh expect_status 0 "$AW" edit app.conf
expect_eq "$(cat app.conf)" port=2 "the renamed save is committed"
expect_eq "$(t_stat %a app.conf)" 640 "mode kept"
expect_eq "$(cat swept)" "" "the sweep removed nothing"
expect_eq "$(scratches)" 0 "no scratch left"
# The same with sweeps running all the while.
printf '0\n' > n
( while [ ! -e stop ]; do "$AW" sweep . >> swept 2>&1; done ) & sweeper=$!
for i in $(seq 20); do
	EDITOR="sed -i s/^$((i - 1))\$/$i/" "$AW" edit n 2>> edit-err || echo "edit $i failed" >> edit-err
done
: > stop; wait "$sweeper"
expect_eq "$(cat n)" 20 "20 edits by rename, none lost"
expect_eq "$(cat edit-err)" "" "no edit failed"
# What a sweep may take meanwhile: a writer's (or, without O_TMPFILE, a
# lock-taker's) just-created file that is
# not yet under its marked name (empty; its writer starts over).
expect_eq "$(grep -Ev '/\.awtmp-[A-Za-z0-9]{12}-(n|lock)$' swept)" "" "the sweeps removed no marked file"
expect_eq "$(scratches)" 0 "no scratch left"
fi

t_case "edit: a check that rewrites the copy by rename is committed as it left it"
printf 'a=1\n' > c.conf
EDITOR='sed -i s/1/2/' expect_status 0 "$AW" edit --check 'sed -i s/a=/b=/' c.conf
expect_eq "$(cat c.conf)" b=2 "what the check left"
expect_eq "$(scratches)" 0 "no scratch left"

t_case "edit: an edited copy replaced by a link or another's file is not used"
printf 'mine\n' > f; printf 'secret\n' > other; chmod 600 other
printf '#!/bin/sh\nln -sf "$PWD/other" "$1"\n' > link-ed.sh; chmod +x link-ed.sh
EDITOR=./link-ed.sh expect_status 1 "$AW" edit f
expect_grep "a symbolic link: not used" "$err" "says why"
expect_eq "$(cat f)" mine "untouched"
expect_eq "$(scratches)" 0 "no scratch left"
if [ "$(id -u)" = 0 ]; then
	printf '#!/bin/sh\necho planted > "$1"; chown 65534 "$1"\n' > chown-ed.sh
	chmod +x chown-ed.sh
	EDITOR=./chown-ed.sh expect_status 1 "$AW" edit f
	expect_grep "not owned by you" "$err" "says why"
	expect_eq "$(cat f)" mine "untouched"
	expect_eq "$(scratches)" 0 "no scratch left"
fi

t_case "edit: an edit that is not committed is kept, and its name printed"
printf 'port=1\n' > app.conf
# The editor saves 1 MiB, then limits atomicwrite's file size to 64 KiB
# (room for its messages): writing the new contents fails (EFBIG: SIGXFSZ
# is ignored, so it is an error).
cat > limit-ed.sh <<'SH'
#!/bin/sh
sed -i 's/port=1/port=2/' "$1"
head -c 1048576 /dev/zero >> "$1"
aw=$(cut -d' ' -f4 "/proc/$PPID/stat")
prlimit --pid "$aw" --fsize=65536:unlimited
SH
chmod +x limit-ed.sh
if ! command -v prlimit >/dev/null || [ ! -r /proc/self/stat ]; then
	echo "    skipped the failed commit: needs prlimit and /proc"
else
	(trap '' XFSZ; EDITOR=./limit-ed.sh expect_status 1 "$AW" edit app.conf)
	expect_eq "$(cat app.conf)" port=1 "untouched"
	expect_grep "your edit is saved in" "$err" "says where"
	k=$(kept)
	expect_eq "$(head -n 1 "$k" 2>/dev/null) $(t_stat %s "$k" 2>/dev/null)" "port=2 1048583" \
		"the kept copy holds the edit"
	expect_eq "$(t_stat %a "$k" 2>/dev/null)" 600 "and is private"
	grep -qF "${k#./}" "$err" || fail "the printed name is not $k: $(cat "$err")"
	expect_eq "$(scratches)" 0 "no scratch left"
	rm -f "$k"
fi
# A failed editor: what it wrote is kept; nothing is kept if it wrote nothing.
printf '#!/bin/sh\necho half > "$1"; exit 1\n' > fail-ed.sh; chmod +x fail-ed.sh
EDITOR=./fail-ed.sh expect_status 1 "$AW" edit app.conf
expect_eq "$(cat "$(kept)" 2>/dev/null)" half "a failed editor's save is kept"
rm -f "$(kept)"
EDITOR=false expect_status 1 "$AW" edit app.conf
expect_eq "$(kept)" "" "nothing to keep"
# A failed check with no terminal to ask: kept.
EDITOR='sed -i s/port=1/port=3/' expect_status 1 "$AW" edit --check false app.conf </dev/null
expect_eq "$(cat "$(kept)" 2>/dev/null)" port=3 "kept after a failed check"
expect_eq "$(cat app.conf)" port=1 "untouched"
expect_eq "$(scratches)" 0 "no scratch left"

t_done
