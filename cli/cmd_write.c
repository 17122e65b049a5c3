/*
 * cmd_write.c - "atomicwrite [OPTIONS] FILE": replace FILE with standard
 * input.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	printf(
"Usage: %s [OPTION]... FILE\n"
"       %s edit [--check CMD] FILE\n"
"       %s batch FILE=SRC... | --manifest LIST\n"
"       %s sweep DIR...\n"
"       %s publish [--keep N] [--adopt] LINK SRCDIR\n"
"       %s rollback LINK | symlink TARGET LINK | exchange PATH1 PATH2\n"
"Replace FILE with what standard input holds, atomically: a reader sees the\n"
"whole old file or the whole new one, never a mix, a truncation or nothing.\n"
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
"                          ({} is their path, else it is appended); replace\n"
"                          FILE only if CMD exits 0, else print its output\n"
"  -b, --backup[=SUFFIX]   keep the old FILE as FILE~ (or FILE+SUFFIX), a hard\n"
"                          link made before the swap\n"
"  -p, --progress          show a progress line while copying (on a terminal)\n"
"  -v, --verbose           say what is done, step by step\n"
"      --no-tmpfile        do not use O_TMPFILE; use a named temporary file\n"
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
"  (see '%s COMMAND --help' and atomicwrite(1))\n"
"\n"
"Exit status: 0 replaced; 1 failed (or the check failed), FILE untouched and\n"
"nothing left behind; 2 usage error; 3 FILE replaced but the directory fsync\n"
"failed, so the replacement may not survive a power cut.\n",
	cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog, cli_prog);
}

static int parse_mode(const char *s, mode_t *out)
{
	char *end;
	errno = 0;
	unsigned long m = strtoul(s, &end, 8);
	if (errno || end == s || *end || m > 07777 || *s == '-' || *s == '+')
		return -1;
	*out = (mode_t)m;
	return 0;
}

enum { OPT_DURABILITY = 256, OPT_NO_SYNC, OPT_NO_TMPFILE, OPT_FROM, OPT_FROM_CMD,
       OPT_WAIT };

struct write_job {
	const char *path;
	aw_options opts;
	const char *from;       /* --from */
	const char *from_cmd;   /* --from-cmd */
	const char *check;      /* --check */
	const char *backup;     /* --backup suffix, or NULL */
	bool progress;
	bool verbose;
};

/* Fills f from the chosen source.  Returns 0, or the exit status. */
static int fill(aw_file *f, const struct write_job *j, aw_error *e)
{
	bool progress = j->progress && isatty(STDERR_FILENO);
	int r;
	if (j->from_cmd) {
		if (j->verbose)
			cli_warn("reading the new contents of %s from: %s", j->path, j->from_cmd);
		r = cli_copy_cmd(f, j->from_cmd, progress, e);
		if (r == -2)
			return EXIT_FAIL;
	} else if (j->from) {
		if (j->verbose)
			cli_warn("copying %s into the new contents of %s", j->from, j->path);
		int fd = cli_open_read(j->from);
		if (fd < 0) {
			e->err = errno;
			e->step = AW_STEP_READ_SOURCE;
			snprintf(e->path, sizeof e->path, "%s", j->from);
			return cli_report(AW_FAILED, e);
		}
		r = cli_copy_fd(f, fd, j->from, progress, e);
		close(fd);
	} else {
		if (isatty(STDIN_FILENO))
			cli_warn("reading the new contents of %s from the terminal; "
			         "end with Ctrl-D, abort with Ctrl-C", j->path);
		else if (j->verbose)
			cli_warn("reading the new contents of %s from standard input", j->path);
		r = cli_copy_fd(f, STDIN_FILENO, "standard input", progress, e);
	}
	return r < 0 ? cli_report(AW_FAILED, e) : 0;
}

static int run(const struct write_job *j)
{
	/* Ctrl-C or a kill while a named temporary file exists removes it. */
	aw_cleanup_install();

	aw_error e;
	aw_file *f;
	if (j->verbose)
		cli_warn("creating a temporary file beside %s%s", j->path,
		         (j->opts.flags & AW_LOCK) ? " (holding the directory lock)" : "");
	/* Nothing is read before the lock is ours: a call interrupted
	 * while waiting for it is simply made again. */
	struct cli_waiter w;
	int begun;
	cli_wait_start(&w, j->path, j->opts.flags & AW_FOLLOW_SYMLINKS,
	               j->opts.flags & AW_LOCK);
	do
		begun = aw_begin(&f, j->path, &j->opts, &e);
	while (cli_wait_again(&w, begun, &e));
	if (begun < 0)
		return w.timed_out ? EXIT_FAIL : cli_report(AW_FAILED, &e);
	int status = fill(f, j, &e);
	if (status) {
		aw_discard(f);
		return status;
	}
	if (j->check) {
		char *tmp = cli_temp_path(f, j->path, j->opts.flags & AW_FOLLOW_SYMLINKS, &e);
		int r = tmp ? cli_run_check(j->check, tmp, j->verbose) : -1;
		free(tmp);
		if (r != 0) {
			aw_discard(f);
			if (!tmp && r < 0)
				return cli_report(AW_FAILED, &e);
			cli_warn("%s was not changed", j->path);
			return EXIT_FAIL;
		}
	}
	if (j->backup) {
		if (j->verbose)
			cli_warn("keeping the old %s as %s%s", j->path, j->path, j->backup);
		if (aw_keep_backup(f, j->backup, &e) < 0) {
			aw_discard(f);
			return cli_report(AW_FAILED, &e);
		}
	}
	status = cli_report(aw_commit(f, &e), &e);
	if (j->verbose && status == EXIT_OK)
		cli_warn("replaced %s", j->path);
	return status;
}

int cmd_write(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
		{ "no-clobber", no_argument, NULL, 'n' },
		{ "follow-symlinks", no_argument, NULL, 'L' },
		{ "lock", no_argument, NULL, 'l' },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "from-cmd", required_argument, NULL, OPT_FROM_CMD },
		{ "check", required_argument, NULL, 'c' },
		{ "backup", optional_argument, NULL, 'b' },
		{ "progress", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "no-tmpfile", no_argument, NULL, OPT_NO_TMPFILE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct write_job j = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "m:nLlc:bpvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &j.opts.mode) < 0)
				return cli_usage_error("invalid mode '%s': give octal permission bits such as 644", optarg);
			j.opts.flags |= AW_MODE;
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &j.opts.durability) < 0)
				return cli_usage_error("invalid durability '%s': use full, file or none", optarg);
			break;
		case OPT_NO_SYNC:
			j.opts.durability = AW_DURABILITY_NONE;
			break;
		case 'n':
			j.opts.flags |= AW_NO_CLOBBER;
			break;
		case 'L':
			j.opts.flags |= AW_FOLLOW_SYMLINKS;
			break;
		case 'l':
			j.opts.flags |= AW_LOCK;
			break;
		case OPT_WAIT:
			if (cli_parse_wait(optarg) < 0)
				return cli_usage_error("invalid --wait '%s': give seconds, such as 10 or 0.5", optarg);
			break;
		case OPT_FROM:
			j.from = optarg;
			break;
		case OPT_FROM_CMD:
			j.from_cmd = optarg;
			break;
		case 'c':
			j.check = optarg;
			break;
		case 'b':
			j.backup = optarg ? optarg : "~";
			if (!*j.backup || strchr(j.backup, '/'))
				return cli_usage_error("invalid backup suffix '%s'", j.backup);
			break;
		case 'p':
			j.progress = true;
			break;
		case 'v':
			j.verbose = true;
			break;
		case OPT_NO_TMPFILE:
			j.opts.flags |= AW_NO_TMPFILE;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		case 'V':
			printf("%s %s\n", cli_prog, aw_version());
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error("missing FILE operand");
	if (optind + 1 < argc)
		return cli_usage_error("extra operand '%s'", argv[optind + 1]);
	if (j.from && j.from_cmd)
		return cli_usage_error("--from and --from-cmd exclude each other");
	j.path = argv[optind];
	return run(&j);
}
