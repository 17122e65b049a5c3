/* SPDX-License-Identifier: MIT */
/*
 * cmd_sweep.c - "atomicwrite sweep [--dry-run] DIR...": remove dead
 * writers' leftovers, or list them.
 */
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void print_removed(const char *name, void *ctx)
{
	printf("%s/%s\n", (const char *)ctx, name);
}

static void usage(void)
{
	printf("Usage: %s sweep [OPTION]... DIR...\n"
	       "Remove the temporary files that writers which died left in each DIR, and\n"
	       "what dead publishers left there; files of live writers, editors and batches\n"
	       "are left alone, and so is anything not provably ours (a temporary file's\n"
	       "name spells its own inode number).  Prints each path removed.\n"
	       "\n"
	       "  -n, --dry-run   remove nothing: print what a sweep would remove now\n"
	       "  -h, --help      show this help and exit\n",
	       cli_prog);
}

int cmd_sweep(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned flags = 0;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			flags |= AW_SWEEP_DRY_RUN;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			if (optopt && optopt != '?')
				return cli_usage_error("sweep: invalid option -- '%c'", optopt);
			return cli_usage_error("sweep: unrecognized option '%s'",
			                       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("sweep: missing DIR operand");
	int status = EXIT_OK;
	for (int i = optind; i < argc; i++) {
		aw_error e;
		unsigned done = 0;
		if (aw_dir_sweep(argv[i], flags, print_removed, argv[i], &done, &e) < 0)
			status = cli_report(AW_FAILED, &e);
		else if (done & AW_SWEEP_LOCK_HELD)
			cli_warn("%s: the directory lock is held (by another writer, "
			         "or it is another user's lock file): what publishers "
			         "left there was not looked at (sweep again later)",
			         argv[i]);
	}
	return status;
}
