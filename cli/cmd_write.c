/*
 * cmd_write.c - "atomicwrite [OPTIONS] FILE": replace FILE with standard
 * input.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	printf(
"Usage: %s [OPTION]... FILE\n"
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
"  -l, --lock              hold an exclusive lock on FILE's directory while\n"
"                          reading standard input, so cooperating writers\n"
"                          using --lock take turns\n"
"      --no-tmpfile        do not use O_TMPFILE; use a named temporary file\n"
"  -h, --help              show this help and exit\n"
"  -V, --version           show the version and exit\n"
"\n"
"The old file's owner, group, mode and extended attributes (ACLs) are kept\n"
"where permitted.  A FILE named like a subcommand is written ./sweep,\n"
"./publish and so on.\n"
"\n"
"  sweep DIR...            remove what writers and publishers that died left\n"
"                          in DIR; prints each name it removed\n"
"  publish LINK SRCDIR     switch the symbolic link LINK to a new copy of the\n"
"                          tree SRCDIR, atomically\n"
"  rollback LINK           switch LINK back to the previous kept version\n"
"  symlink TARGET LINK     replace LINK with a symbolic link to TARGET\n"
"  exchange PATH1 PATH2    swap two paths atomically\n"
"  (see '%s COMMAND --help')\n"
"\n"
"Exit status: 0 replaced; 1 failed, FILE untouched and nothing left behind;\n"
"2 usage error; 3 FILE replaced but the directory fsync failed, so the\n"
"replacement may not survive a power cut.\n",
	cli_prog, cli_prog, cli_prog, cli_prog, cli_prog);
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

/* Copies standard input into f.  Returns 0 or -1 with e filled. */
static int copy_stdin(aw_file *f, const char *path, aw_error *e)
{
	static char buf[1 << 17];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e->err = errno;
			e->step = AW_STEP_READ_SOURCE;
			snprintf(e->path, sizeof e->path, "%s", path);
			return -1;
		}
		if (n == 0)
			return 0;
		if (aw_write(f, buf, (size_t)n, e) < 0)
			return -1;
	}
}

enum { OPT_DURABILITY = 256, OPT_NO_SYNC, OPT_NO_TMPFILE };

int cmd_write(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
		{ "no-clobber", no_argument, NULL, 'n' },
		{ "follow-symlinks", no_argument, NULL, 'L' },
		{ "lock", no_argument, NULL, 'l' },
		{ "no-tmpfile", no_argument, NULL, OPT_NO_TMPFILE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	aw_options opts = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "+m:nLlhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_mode(optarg, &opts.mode) < 0)
				return cli_usage_error("invalid mode '%s': give octal permission bits such as 644", optarg);
			opts.flags |= AW_MODE;
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &opts.durability) < 0)
				return cli_usage_error("invalid durability '%s': use full, file or none", optarg);
			break;
		case OPT_NO_SYNC:
			opts.durability = AW_DURABILITY_NONE;
			break;
		case 'n':
			opts.flags |= AW_NO_CLOBBER;
			break;
		case 'L':
			opts.flags |= AW_FOLLOW_SYMLINKS;
			break;
		case 'l':
			opts.flags |= AW_LOCK;
			break;
		case OPT_NO_TMPFILE:
			opts.flags |= AW_NO_TMPFILE;
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
	const char *path = argv[optind];

	/* Ctrl-C or a kill while the named temporary file exists removes it. */
	aw_cleanup_install();

	aw_error e;
	aw_file *f;
	if (aw_begin(&f, path, &opts, &e) < 0)
		return cli_report(AW_FAILED, &e);
	if (isatty(STDIN_FILENO))
		cli_warn("reading the new contents of %s from the terminal; "
		         "end with Ctrl-D, abort with Ctrl-C", path);
	if (copy_stdin(f, path, &e) < 0) {
		aw_discard(f);
		return cli_report(AW_FAILED, &e);
	}
	return cli_report(aw_commit(f, &e), &e);
}
