/*
 * main.c - the atomicwrite command: dispatch to the subcommand, or to the
 * default "replace FILE with standard input".
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
		cli_warn("%s (the change was made, but its durability is unknown)",
		         msg);
		return EXIT_UNSYNCED;
	}
	cli_warn("%s", msg);
	return EXIT_FAIL;
}

int cli_open_read(const char *path)
{
	int fd;
	while ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
		;
	return fd;
}

pid_t cli_fork(void)
{
	pid_t pid;
	while ((pid = fork()) < 0 && errno == EINTR)
		;
	return pid;
}

int cli_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
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

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "sweep", cmd_sweep },
	{ "publish", cmd_publish },
	{ "rollback", cmd_rollback },
	{ "symlink", cmd_symlink },
	{ "exchange", cmd_exchange },
	{ "edit", cmd_edit },
	{ "batch", cmd_batch },
};

int main(int argc, char **argv)
{
	/* A SIGCHLD ignored by whoever started us is inherited, and the
	 * kernel would then reap our children (the editor, --from-cmd,
	 * --check) itself: waitpid() could not tell how they ended. */
	signal(SIGCHLD, SIG_DFL);
	/* A FILE that is literally a subcommand's name is written ./NAME. */
	if (argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(argc - 1, argv + 1);
	}
	return cmd_write(argc, argv);
}
