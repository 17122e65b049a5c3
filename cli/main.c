/*
 * main.c - the atomicwrite command: dispatch to the subcommand, or to the
 * default "replace FILE with standard input".
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cli_prog = "atomicwrite";

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli_prog);
	return EXIT_USAGE;
}

int cli_report(int result, const aw_error *e)
{
	char msg[4400];
	if (result == AW_OK)
		return EXIT_OK;
	aw_error_format(e, msg, sizeof msg);
	if (result == AW_UNSYNCED) {
		cli_warn("%s (the file was replaced, but its durability is unknown)",
		         msg);
		return EXIT_UNSYNCED;
	}
	cli_warn("%s", msg);
	return EXIT_FAIL;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "sweep", cmd_sweep },
};

int main(int argc, char **argv)
{
	/* A FILE that is literally a subcommand's name is written ./NAME. */
	if (argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(argc - 1, argv + 1);
	}
	return cmd_write(argc, argv);
}
