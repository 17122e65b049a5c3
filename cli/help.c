/* SPDX-License-Identifier: MIT */
/*
 * help.c - the program's own --help (the global one: the default command
 * and the list of subcommands; each subcommand has its own) and
 * --version.
 */
#include "cli.h"

#include <stdio.h>

void cli_help(void)
{
	printf(
"Usage: %s [OPTION]... FILE -- COMMAND [ARG]...\n"
"       %s [OPTION]... FILE < NEW-CONTENTS\n"
"       %s edit [--check CMD] FILE\n"
"       %s batch FILE=SRC... | --manifest LIST\n"
"       %s sweep DIR...\n"
"       %s publish [--keep N] [--adopt] LINK SRCDIR\n"
"       %s run [--only GLOB] [--except GLOB] -- COMMAND [ARG]...\n"
"       %s rollback LINK | symlink TARGET LINK | exchange PATH1 PATH2\n"
"Replace FILE atomically with what COMMAND prints, if COMMAND exits 0, or\n"
"with what standard input holds: a reader sees the whole old file or the\n"
"whole new one, never a mix, a truncation or nothing.  From a pipe, FILE is\n"
"replaced with whatever arrived once the pipe ends, even if the program\n"
"writing it failed: to commit only a producer's success, give it as\n"
"COMMAND (or --from-cmd).\n"
"\n"
"  -m, --mode=OCTAL        give the file exactly this mode (no umask); the\n"
"                          default keeps the old mode, or 0666 & ~umask\n"
"      --durability=LEVEL  full (default): the new file survives a power cut\n"
"                          once the command returns; file: fsync the file\n"
"                          only; none: atomic against crashes of this process\n"
"                          only, a power cut may leave an empty file\n"
"      --no-sync           the same as --durability=none\n"
"  -n, --no-clobber        fail if FILE exists (decided atomically)\n"
"  -L, --follow-symlinks   if FILE is a symbolic link, replace the file it\n"
"                          points to; by default the link itself is replaced\n"
"  -l, --lock              hold an exclusive lock on FILE's directory from\n"
"                          before the new contents are read until they are\n"
"                          in place, so cooperating writers using --lock take\n"
"                          turns (read-modify-write with --from-cmd); only\n"
"                          users who may write the directory can hold it\n"
"      --wait=SECONDS      with --lock: give up (exit 1) after waiting SECONDS\n"
"                          for the lock (default: as long as it takes; 0: do\n"
"                          not wait); a wait of over a second is announced\n"
"      --from=SRC          take the new contents from the file SRC (a reflink\n"
"                          or in-kernel copy where possible)\n"
"      --from-cmd=CMD      take them from the standard output of the shell\n"
"                          command CMD; nothing is replaced if CMD fails\n"
"  -c, --check=CMD         run the shell command CMD on the new contents first\n"
"                          ({} is their path, passed as \"$1\", else it is\n"
"                          appended); replace FILE only if CMD exits 0, else\n"
"                          print its output; CMD must not replace the file\n"
"  -b, --backup[=SUFFIX]   keep the old FILE as FILE~ (or FILE+SUFFIX), a hard\n"
"                          link made before the swap\n"
"  -p, --progress          show a progress line while copying (on a terminal)\n"
"  -v, --verbose           say what is done, step by step\n"
"      --no-tmpfile        do not use O_TMPFILE; use a named temporary file\n"
"      --keep-inode        replace the contents in place by an atomic exchange\n"
"                          (XFS made with mkfs.xfs -i exchange=1, Linux 6.10+):\n"
"                          FILE keeps its inode, hard links, owner, mode and\n"
"                          ACLs (not file capabilities, nor set-ID bits unless\n"
"                          root); FILE must exist; fails elsewhere\n"
"      --if-unchanged      with --keep-inode (implied): replace FILE only if it\n"
"                          did not change since it was read, else exit 4\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version and exit\n"
"\n"
"The old file's owner, group, mode and extended attributes (ACLs) are kept\n"
"where permitted.  A FILE named like a subcommand is written ./sweep,\n"
"./publish and so on.\n"
"\n"
"  edit FILE               edit a copy of FILE with $VISUAL or $EDITOR and\n"
"                          replace FILE with it if it changed\n"
"  batch FILE=SRC...       replace many files, flushed together\n"
"  sweep DIR...            remove what writers and publishers that died left\n"
"                          in DIR; prints each name it removed\n"
"  publish LINK SRCDIR     switch the symbolic link LINK to a new copy of the\n"
"                          tree SRCDIR, atomically\n"
"  rollback LINK           switch LINK back to the previous kept version\n"
"  symlink TARGET LINK     replace LINK with a symbolic link to TARGET\n"
"  exchange PATH1 PATH2    swap two paths atomically\n"
"  run -- COMMAND          run COMMAND so that its whole-file writes (shell\n"
"                          '>', fopen \"w\") become atomic replacements\n"
"  (see '%s COMMAND --help' and atomicwrite(1))\n"
"\n"
"Exit status: 0 replaced; 1 failed (or the check failed), FILE untouched and\n"
"nothing left behind; 2 usage error; 3 FILE replaced but the directory fsync\n"
"(--keep-inode: FILE's own flush) failed, so the replacement may not survive\n"
"a power cut; 4 (--if-unchanged)\n"
"FILE changed since it was read, FILE untouched: read it again and retry.\n",
	cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog);
}

/*
 * GNU style: name and version (the header's, which is the library's this
 * program was built with), copyright, license, warranty.
 */
void cli_version(void)
{
	printf("%s %s\n"
	       "Copyright (c) 2026 the atomicwrite developers.\n"
	       "License: MIT <https://opensource.org/licenses/MIT>.\n"
	       "This is free software: you are free to change and redistribute it.\n"
	       "There is NO WARRANTY, to the extent permitted by law.\n",
	       cli_prog, AW_VERSION_STRING);
}
