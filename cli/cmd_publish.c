/* SPDX-License-Identifier: MIT */
/*
 * cmd_publish.c - the published-tree subcommands: publish a new version
 * of a tree behind a symbolic link, and roll back to the previous one.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
"                          previous version and put the link in its place; it\n"
"                          is kept for rollback unless --keep 0 is given\n"
"      --durability=LEVEL  full (default), file or none, as for files\n"
"      --wait=SECONDS      give up (exit 1) after waiting SECONDS for the lock\n"
"                          on LINK's directory (default: as long as it takes;\n"
"                          0: do not wait)\n"
"  -h, --help              show this help and exit\n"
"\n"
"Versions are named .awver-STAMP-kN-LINKNAME in LINK's directory (built as\n"
".awbld-..., renamed once complete).  A reader holding LINK/ open keeps its\n"
"tree only while that version is kept: with --keep 0 it goes at once.\n"
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
	bool keep_given = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:k:h", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'k':
			errno = 0;
			unsigned long k = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || k > 999 || optarg[0] == '-')
				return cli_usage_error("publish: invalid --keep '%s': give 0 to 999", optarg);
			o.keep = (unsigned)k;
			keep_given = true;
			break;
		case OPT_ADOPT:
			o.flags |= AW_PUBLISH_ADOPT;
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &o.durability) < 0)
				return cli_usage_error("publish: invalid durability '%s': use full, file or none", optarg);
			break;
		case OPT_WAIT:
			if (cli_parse_wait("publish", optarg))
				return EXIT_USAGE;
			break;
		case 'h':
			publish_usage();
			return EXIT_OK;
		default:
			return cli_bad_option("publish", argv, c);
		}
	}
	int r = cli_operands(argc, argv, optind, 2, "publish", "LINK SRCDIR");
	if (r)
		return r;
	/* --adopt keeps the adopted directory for rollback unless --keep 0
	 * is given explicitly. */
	if ((o.flags & AW_PUBLISH_ADOPT) && keep_given && o.keep == 0)
		o.flags |= AW_PUBLISH_DISCARD_ADOPTED;
	const char *link = argv[optind], *src = argv[optind + 1];
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, link, false, true);
	do
		r = aw_link_publish_tree(link, src, &o, &e);
	while (cli_wait_again(&w, r, &e));
	if (w.timed_out)
		return EXIT_FAIL;
	int status = cli_report(r, &e);
	if (r == AW_FAILED && e.step == AW_STEP_INSPECT_LINK && e.err == EISDIR)
		cli_warn("%s is a real directory: give --adopt to turn it into the "
		         "previous version (kept for rollback) and put the link in its place",
		         link);
	struct stat st;
	if (r == AW_FAILED && e.step == AW_STEP_COPY_TREE && e.err == EINVAL &&
	    lstat(e.path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) &&
	    !S_ISLNK(st.st_mode))
		cli_warn("%s is a %s: only regular files, directories and symbolic "
		         "links can be published", e.path,
		         S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ? "socket" :
		         "device");
	return status;
}

int cmd_rollback(int argc, char **argv)
{
	int first, r = cli_simple_args(argc, argv, "rollback", "LINK", 1,
		"Switch LINK back to the newest version kept before the current one\n"
		"(see publish --keep), atomically, and remove the current one.\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, argv[first], false, true);
	do
		r = aw_link_rollback(argv[first], &e);
	while (cli_wait_again(&w, r, &e));
	return w.timed_out ? EXIT_FAIL : cli_report(r, &e);
}
