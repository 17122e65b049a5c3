/* SPDX-License-Identifier: MIT */
/*
 * report.c - what every subcommand shares and nothing calls back: the
 * program's name, its messages (warnings, library errors, usage errors)
 * and the parsing of arguments more than one subcommand takes.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cli_prog = "atomicwrite";
bool cli_stdin_closed;

/* "atomicwrite: " + the message, on stderr, without the newline. */
__attribute__((format(printf, 1, 0)))
static void vwarn(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cli_prog);
	vfprintf(stderr, fmt, ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", cli_prog);
	return EXIT_USAGE;
}

int cli_report(int result, const aw_error *e)
{
	return cli_report_flags(result, e, 0);
}

/* Exit 4 only for what --if-unchanged asked, the library's
 * AW_STEP_TARGET_CHANGED; an EBUSY at any other step is the kernel's own,
 * a failure like any other. */
int cli_report_flags(int result, const aw_error *e, unsigned flags)
{
	char msg[AW_ERROR_FORMAT_SIZE];
	if (result == AW_OK)
		return EXIT_OK;
	aw_error_format(e, msg, sizeof msg);
	if (result == AW_UNSYNCED) {
		cli_warn("%s (the change was made, but its durability is unknown)",
		         msg);
		return EXIT_UNSYNCED;
	}
	cli_warn("%s", msg);
	if ((flags & AW_IF_UNCHANGED) && e->step == AW_STEP_TARGET_CHANGED) {
		cli_warn("%s was not changed: read it again and retry", e->path);
		return EXIT_CHANGED;
	}
	return EXIT_FAIL;
}

int cli_bad_option(const char *cmd, char **argv, int c)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		return cli_usage_error("%s: option '%s' requires an argument", cmd, arg);
	if (optopt && optopt < 256 && !(arg[0] == '-' && arg[1] == '-'))
		return cli_usage_error("%s: invalid option -- '%c'", cmd, optopt);
	return cli_usage_error("%s: unrecognized option '%s'", cmd, arg);
}

int cli_operands(int argc, char **argv, int first, int n, const char *cmd,
                 const char *names)
{
	if (argc - first < n)
		return cli_usage_error("%s: missing operand: %s %s", cmd, cmd, names);
	if (argc - first > n)
		return cli_usage_error("%s: extra operand '%s'", cmd, argv[first + n]);
	return 0;
}

int cli_simple_args(int argc, char **argv, const char *cmd, const char *names,
                    int n, const char *help, int *first)
{
	static const struct option longopts[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	/* exchange takes no lock: no --wait. */
	bool locks = strcmp(cmd, "exchange") != 0;
	const struct option *opts = locks ? longopts : longopts + 1;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		if (c == 'w') {
			if (cli_parse_wait(cmd, optarg))
				return EXIT_USAGE;
			continue;
		}
		if (c != 'h')
			return cli_bad_option(cmd, argv, c);
		printf("Usage: %s %s [OPTION]... [--] %s\n%s", cli_prog, cmd, names, help);
		if (locks)
			printf("\n"
			       "      --wait=SECONDS  give up (exit 1) after waiting SECONDS for the lock\n"
			       "                      on LINK's directory (default: as long as it takes)\n");
		return EXIT_OK;
	}
	*first = optind;
	int r = cli_operands(argc, argv, *first, n, cmd, names);
	return r ? r : -1;
}

int cli_parse_backup(const char *cmd, const char *arg, const char **out)
{
	const char *suffix = arg ? arg : "~";
	if (!*suffix || strchr(suffix, '/'))
		return cli_usage_error("%s%sinvalid backup suffix '%s'",
		                       cmd ? cmd : "", cmd ? ": " : "", suffix);
	*out = suffix;
	return 0;
}

int cli_parse_durability(const char *s, aw_durability *out)
{
	if (strcmp(s, "full") == 0)
		*out = AW_DURABILITY_FULL;
	else if (strcmp(s, "file") == 0)
		*out = AW_DURABILITY_FILE;
	else if (strcmp(s, "none") == 0)
		*out = AW_DURABILITY_NONE;
	else
		return -1;
	return 0;
}

int cli_open_read(const char *path)
{
	int fd;
	while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	return fd;
}
