/*
 * cmd_sweep.c - "atomicwrite sweep DIR...": remove dead writers' leftovers.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void print_removed(const char *name, void *ctx)
{
	printf("%s/%s\n", (const char *)ctx, name);
}

int cmd_sweep(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--") == 0)
		first = 2;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("Usage: %s sweep DIR...\n"
		       "Remove the temporary files that writers which died left in each DIR;\n"
		       "files of live writers are left alone.  Prints each path removed.\n",
		       cli_prog);
		return EXIT_OK;
	}
	if (first >= argc)
		return cli_usage_error("sweep: missing DIR operand");
	int status = EXIT_OK;
	for (int i = first; i < argc; i++) {
		aw_error e;
		unsigned done = 0;
		if (aw_sweep_status(argv[i], print_removed, argv[i], &done, &e) < 0)
			status = cli_report(AW_FAILED, &e);
		else if (done & AW_SWEEP_LOCK_HELD)
			cli_warn("%s: the directory lock is held (by another writer, "
			         "or it is another user's lock file): what publishers "
			         "left there was not looked at (sweep again later)",
			         argv[i]);
	}
	return status;
}
