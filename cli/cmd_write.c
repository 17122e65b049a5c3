/* SPDX-License-Identifier: MIT */
/*
 * cmd_write.c - "atomicwrite [OPTIONS] FILE": replace FILE with standard
 * input; "atomicwrite [OPTIONS] FILE -- CMD [ARG]...": with what CMD
 * prints, if it succeeds.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

enum { OPT_DURABILITY = 256, OPT_NO_SYNC, OPT_NO_TMPFILE, OPT_KEEP_INODE,
       OPT_IF_UNCHANGED, OPT_FROM, OPT_FROM_CMD,
       OPT_WAIT };

struct write_job {
	const char *path;
	aw_options opts;
	const char *from;       /* --from */
	const char *from_cmd;   /* --from-cmd */
	char **argv_cmd;        /* FILE -- CMD ARGS... */
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
	if (j->argv_cmd) {
		if (j->verbose)
			cli_warn("reading the new contents of %s from the command %s",
			         j->path, j->argv_cmd[0]);
		r = cli_copy_argv(f, j->argv_cmd, progress, e);
		if (r == -2)
			return EXIT_FAIL;
	} else if (j->from_cmd) {
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
			int err = errno;
			memset(e, 0, sizeof *e);
			e->err = err;
			e->step = AW_STEP_READ_SOURCE;
			snprintf(e->path, sizeof e->path, "%s", j->from);
		} else {
			r = cli_copy_fd(f, fd, j->from, progress, e);
			close(fd);
			if (r == 0)
				return 0;
		}
		/* The library names the target; this is about the source. */
		if (e->step == AW_STEP_READ_SOURCE) {
			cli_warn("reading %s (--from): %s; %s was not changed",
			         j->from, strerror(e->err), j->path);
			return EXIT_FAIL;
		}
		return cli_report(AW_FAILED, e);
	} else {
		if (isatty(STDIN_FILENO))
			cli_warn("reading the new contents of %s from the terminal; "
			         "end with Ctrl-D, abort with Ctrl-C", j->path);
		else if (j->verbose)
			cli_warn("reading the new contents of %s from standard input", j->path);
		r = cli_copy_fd(f, STDIN_FILENO, "standard input", progress, e);
		/* The error names the source; the message names the target
		 * too, which the reader of the message came for. */
		if (r < 0 && e->step == AW_STEP_READ_SOURCE) {
			cli_warn("reading standard input for %s: %s (the file was not changed)",
			         j->path, strerror(e->err));
			return EXIT_FAIL;
		}
	}
	return r < 0 ? cli_report(AW_FAILED, e) : 0;
}

/* Whether the temporary file's name still names the file we wrote. */
static bool temp_is_ours(aw_file *f, const char *name)
{
	struct stat ours, there;
	return fstat(aw_file_fd(f), &ours) == 0 &&
	       fstatat(aw_file_dirfd(f), name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
	       ours.st_dev == there.st_dev && ours.st_ino == there.st_ino;
}

/*
 * Runs --check on the temporary file.  Returns 0 if it passed and the
 * file may be committed, else the exit status, f discarded.
 *
 * A check that rewrites the file by writing a new one and renaming it
 * over the name (sed -i, most formatters) leaves a file we did not write
 * at that name: committing it would give FILE the mode and owner that
 * file got (not the old FILE's), flushed by nobody.  That is refused,
 * nothing changed.  A check that changes the file in place is committed
 * as it left it, flushed and with FILE's metadata.
 */
static int check(aw_file *f, const struct write_job *j, aw_error *e)
{
	char *tmp = cli_temp_path(f, j->path, j->opts.flags & AW_FOLLOW_SYMLINKS, e);
	if (!tmp) {
		aw_file_discard(f);
		return cli_report(AW_FAILED, e);
	}
	const char *name = aw_file_temp_name(f, e);
	char *saved = name ? strdup(name) : NULL;
	int r = saved ? cli_run_check(j->check, tmp, j->verbose) : -1;
	if (r == 0 && temp_is_ours(f, saved)) {
		free(saved);
		free(tmp);
		return 0;
	}
	if (r == 0) {
		cli_warn("the check replaced or removed the new contents at %s "
		         "(a command that rewrites a file by renaming, such as "
		         "sed -i, cannot be a --check: transform the contents "
		         "with --from-cmd or FILE -- CMD instead)", tmp);
	} else if (r < 0 && !saved) {
		cli_warn("check: out of memory");
	}
	/* Whatever the check left at the temporary name goes too. */
	int dirfd = saved ? dup(aw_file_dirfd(f)) : -1;
	bool replaced = saved && !temp_is_ours(f, saved);
	aw_file_discard(f);
	if (dirfd >= 0) {
		struct stat st;
		if (replaced && fstatat(dirfd, saved, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode))
			unlinkat(dirfd, saved, 0);
		close(dirfd);
	}
	free(saved);
	free(tmp);
	cli_warn("%s was not changed", j->path);
	return EXIT_FAIL;
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
		begun = aw_file_begin(&f, j->path, &j->opts, &e);
	while (cli_wait_again(&w, begun, &e));
	if (begun < 0)
		return w.timed_out ? EXIT_FAIL
		                   : cli_report_flags(AW_FAILED, &e, j->opts.flags);
	int status = fill(f, j, &e);
	if (status) {
		aw_file_discard(f);
		return status;
	}
	if (j->check) {
		status = check(f, j, &e);
		if (status)
			return status;
	}
	if (j->backup) {
		if (j->verbose)
			cli_warn("keeping the old %s as %s%s", j->path, j->path, j->backup);
		if (aw_file_keep_backup(f, j->backup, &e) < 0) {
			aw_file_discard(f);
			return cli_report(AW_FAILED, &e);
		}
	}
	status = cli_report_flags(aw_file_commit(f, &e), &e, j->opts.flags);
	if (j->verbose && status == EXIT_OK)
		cli_warn("replaced %s", j->path);
	return status;
}

/* One option c (with optarg) into j: -1 to go on, else the exit status
 * (help, version, a usage error). */
static int take_option(struct write_job *j, int c)
{
	switch (c) {
	case 'm':
		if (parse_mode(optarg, &j->opts.mode) < 0)
			return cli_usage_error("invalid mode '%s': give octal permission bits such as 644", optarg);
		j->opts.flags |= AW_MODE;
		break;
	case OPT_DURABILITY:
		if (cli_parse_durability(optarg, &j->opts.durability) < 0)
			return cli_usage_error("invalid durability '%s': use full, file or none", optarg);
		break;
	case OPT_NO_SYNC:
		j->opts.durability = AW_DURABILITY_NONE;
		break;
	case 'n':
		j->opts.flags |= AW_NO_CLOBBER;
		break;
	case 'L':
		j->opts.flags |= AW_FOLLOW_SYMLINKS;
		break;
	case 'l':
		j->opts.flags |= AW_LOCK;
		break;
	case OPT_WAIT:
		if (cli_parse_wait(NULL, optarg))
			return EXIT_USAGE;
		break;
	case OPT_FROM:
		j->from = optarg;
		break;
	case OPT_FROM_CMD:
		j->from_cmd = optarg;
		break;
	case 'c':
		j->check = optarg;
		break;
	case 'b':
		if (cli_parse_backup(NULL, optarg, &j->backup))
			return EXIT_USAGE;
		break;
	case 'p':
		j->progress = true;
		break;
	case 'v':
		j->verbose = true;
		break;
	case OPT_NO_TMPFILE:
		j->opts.flags |= AW_NO_TMPFILE;
		break;
	case OPT_KEEP_INODE:
		j->opts.flags |= AW_KEEP_INODE;
		break;
	case OPT_IF_UNCHANGED:
		j->opts.flags |= AW_IF_UNCHANGED;
		break;
	case 'h':
		cli_help();
		return EXIT_OK;
	case 'V':
		cli_version();
		return EXIT_OK;
	default:
		fprintf(stderr, "Try '%s --help' for more information.\n", cli_prog);
		return EXIT_USAGE;
	}
	return -1;
}

/* The options are over (getopt stepped over a "--" if optind moved past
 * before): FILE, unless it came already, and COMMAND after a "--" that
 * follows FILE.  0, or the usage error. */
static int take_operands(struct write_job *j, int argc, char **argv, int before)
{
	bool dashdash = optind > before;  /* it stepped over "--" */
	if (!j->path) {
		if (optind >= argc)
			return cli_usage_error("missing FILE operand");
		j->path = argv[optind++];
		dashdash = optind < argc && strcmp(argv[optind], "--") == 0;
		if (dashdash)
			optind++;
	}
	if (dashdash) {
		if (optind >= argc)
			return cli_usage_error("missing COMMAND after '--'");
		j->argv_cmd = argv + optind;
	} else if (optind < argc) {
		return cli_usage_error("extra operand '%s'", argv[optind]);
	}
	return 0;
}

/* The command line into j: -1 to go on, else the exit status. */
static int parse_args(struct write_job *j, int argc, char **argv)
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
		{ "keep-inode", no_argument, NULL, OPT_KEEP_INODE },
		{ "if-unchanged", no_argument, NULL, OPT_IF_UNCHANGED },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	/*
	 * Options may come before and after FILE.  "--" before FILE ends the
	 * options (the next word is FILE, even "--version"); "--" after FILE
	 * starts COMMAND and its arguments.  The leading "-" makes getopt
	 * hand over the operands in order (code 1) rather than permute them,
	 * so that the two can be told apart whatever POSIXLY_CORRECT says.
	 */
	for (;;) {
		int before = optind;
		int c = getopt_long(argc, argv, "-m:nLlc:bpvhV", longopts, NULL);
		if (c == -1) {
			int r = take_operands(j, argc, argv, before);
			return r ? r : -1;
		}
		if (c == 1) {
			if (j->path)
				return cli_usage_error("extra operand '%s' (to run a command: %s FILE -- COMMAND [ARG]...)",
				                       optarg, cli_prog);
			j->path = optarg;
			continue;
		}
		int r = take_option(j, c);
		if (r >= 0)
			return r;
	}
}

int cmd_write(int argc, char **argv)
{
	struct write_job j = { 0 };
	int r = parse_args(&j, argc, argv);
	if (r >= 0)
		return r;
	if (!*j.path)
		return cli_usage_error("FILE must not be empty");
	if ((j.from != NULL) + (j.from_cmd != NULL) + (j.argv_cmd != NULL) > 1)
		return cli_usage_error("--from, --from-cmd and -- COMMAND exclude each other");
	if (!j.from && !j.from_cmd && !j.argv_cmd && cli_stdin_closed) {
		/* Read as empty, it would empty FILE: most likely a mistake
		 * (a job started with <&-), so nothing is touched. */
		cli_warn("standard input is closed: no new contents for %s, "
		         "which was not changed (give them on standard input, "
		         "or use --from, --from-cmd or FILE -- COMMAND)", j.path);
		return EXIT_FAIL;
	}
	return run(&j);
}
