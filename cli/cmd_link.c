/* SPDX-License-Identifier: MIT */
/*
 * cmd_link.c - the one-step path subcommands: "symlink TARGET LINK"
 * (replace LINK with a symbolic link, atomically) and "exchange PATH1
 * PATH2" (swap two paths, atomically).
 */
#include "cli.h"

int cmd_symlink(int argc, char **argv)
{
	int first, r = cli_simple_args(argc, argv, "symlink", "TARGET LINK", 2,
		"Make LINK a symbolic link to TARGET, atomically: whatever stood at LINK\n"
		"(a file or another link; not a directory) is replaced in one rename.\n"
		"A TARGET that starts with '-' follows '--'.\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	struct cli_waiter w;
	cli_wait_start(&w, argv[first + 1], false, true);
	do
		r = aw_link_set(argv[first], argv[first + 1], &e);
	while (cli_wait_again(&w, r, &e));
	return w.timed_out ? EXIT_FAIL : cli_report(r, &e);
}

int cmd_exchange(int argc, char **argv)
{
	int first, r = cli_simple_args(argc, argv, "exchange", "PATH1 PATH2", 2,
		"Swap PATH1 and PATH2 (files, directories, links) in one atomic step.\n"
		"Both must be on one filesystem that supports renameat2 RENAME_EXCHANGE.\n", &first);
	if (r >= 0)
		return r;
	aw_error e;
	return cli_report(aw_path_exchange(argv[first], argv[first + 1], &e), &e);
}
