/*
 * cmd_publish.c - the directory subcommands: publish, rollback, symlink
 * and exchange.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Checks that exactly n operands follow the options. */
static int operands(int argc, char **argv, int first, int n, const char *cmd,
                    const char *names)
{
	if (argc - first < n)
		return cli_usage_error("%s: missing operand: %s %s", cmd, cmd, names);
	if (argc - first > n)
		return cli_usage_error("%s: extra operand '%s'", cmd, argv[first + n]);
	return 0;
}

static void publish_usage(void)
{
	printf(
"Usage: %s publish [OPTION]... LINK SRCDIR\n"
"Copy the tree SRCDIR into a new version directory beside LINK, flush it to\n"
"disk, and switch the symbolic link LINK to it in one atomic rename: a reader\n"
"going through LINK sees the whole old tree or the whole new one.\n"
"\n"
"  -k, --keep=N            keep the N previous versions for rollback (default\n"
"                          0: the previous version is removed)\n"
"      --adopt             if a real directory stands at LINK, turn it into the\n"
"                          previous version and put the link in its place\n"
"      --durability=LEVEL  full (default), file or none, as for files\n"
"      --wait=SECONDS      give up (exit 1) after waiting SECONDS for the lock\n"
"                          on LINK's directory (default: as long as it takes;\n"
"                          0: do not wait)\n"
"  -h, --help              show this help and exit\n"
"\n"
"Versions are named .awver-STAMP-kN-LINKNAME in LINK's directory.\n"
"Exit status: 0 switched; 1 failed, LINK untouched and nothing left behind;\n"
"2 usage error; 3 switched, but the directory fsync failed.\n",
	cli_prog);
}

int cmd_publish(int argc, char **argv)
{
	enum { OPT_ADOPT = 256, OPT_DURABILITY, OPT_WAIT };
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "adopt", no_argument, NULL, OPT_ADOPT },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	aw_publish_options o = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "+k:h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'k':
			errno = 0;
			unsigned long k = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || k > 999 || optarg[0] == '-')
				return cli_usage_error("publish: invalid --keep '%s': give 0 to 999", optarg);
			o.keep = (unsigned)k;
			break;
		case OPT_ADOPT:
			o.flags |= AW_PUBLISH_ADOPT;
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &o.durability) < 0)
				return cli_usage_error("publish: invalid durability '%s': use full, file or none", optarg);
			break;
		case OPT_WAIT:
			if (cli_parse_wait(optarg) < 0)
				return cli_usage_error("publish: invalid --wait '%s': give seconds, such as 10 or 0.5", optarg);
			break;
		case 'h':
			publish_usage();
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s publish --help' for more information.\n", cli_prog);
			return EXIT_USAGE;
		}
	}
	int r = operands(argc, argv, optind, 2, "publish", "LINK SRCDIR");
	if (r)
		return r;
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, argv[optind], false, true);
	do
		r = aw_publish_tree(argv[optind], argv[optind + 1], &o, &e);
	while (cli_wait_again(&w, r, &e));
	return w.timed_out ? EXIT_FAIL : cli_report(r, &e);
}

/* The shared front of the commands that take only operands: --help,
 * --wait (for those that lock), an optional "--", the operand count.
 * Returns -1 to go on (operands start at argv[*first]), or the exit
 * status. */
static int simple_args(int argc, char **argv, const char *cmd,
                       const char *names, int n, const char *help, int *first)
{
	static const struct option longopts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	/* exchange takes no lock: no --wait. */
	const struct option *opts = strcmp(cmd, "exchange") == 0 ? longopts + 1 : longopts;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (cli_parse_wait(optarg) < 0)
				return cli_usage_error("%s: invalid --wait '%s': give seconds, such as 10 or 0.5",
				                       cmd, optarg);
			break;
		case 'h':
			printf("Usage: %s %s [OPTION]... %s\n%s", cli_prog, cmd, names, help);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s %s --help' for more information.\n", cli_prog, cmd);
			return EXIT_USAGE;
		}
	}
	*first = optind;
	int r = operands(argc, argv, *first, n, cmd, names);
	return r ? r : -1;
}

int cmd_rollback(int argc, char **argv)
{
	int first, r = simple_args(argc, argv, "rollback", "LINK", 1,
		"Switch LINK back to the newest version kept before the current one\n"
		"(see publish --keep), atomically, and remove the current one.\n"
		"\n"
		"      --wait=SECONDS  give up (exit 1) after waiting SECONDS for the lock\n"
		"                      on LINK's directory (default: as long as it takes)\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, argv[first], false, true);
	do
		r = aw_rollback(argv[first], &e);
	while (cli_wait_again(&w, r, &e));
	return w.timed_out ? EXIT_FAIL : cli_report(r, &e);
}

int cmd_symlink(int argc, char **argv)
{
	int first, r = simple_args(argc, argv, "symlink", "TARGET LINK", 2,
		"Make LINK a symbolic link to TARGET, atomically: whatever stood at LINK\n"
		"(a file or another link; not a directory) is replaced in one rename.\n"
		"\n"
		"      --wait=SECONDS  give up (exit 1) after waiting SECONDS for the lock\n"
		"                      on LINK's directory (default: as long as it takes)\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, argv[first + 1], false, true);
	do
		r = aw_symlink(argv[first], argv[first + 1], &e);
	while (cli_wait_again(&w, r, &e));
	return w.timed_out ? EXIT_FAIL : cli_report(r, &e);
}

int cmd_exchange(int argc, char **argv)
{
	int first, r = simple_args(argc, argv, "exchange", "PATH1 PATH2", 2,
		"Swap PATH1 and PATH2 (files, directories, links) in one atomic step.\n"
		"Both must be on one filesystem that supports renameat2 RENAME_EXCHANGE.\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	return cli_report(aw_exchange(argv[first], argv[first + 1], &e), &e);
}
