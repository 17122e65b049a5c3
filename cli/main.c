/* SPDX-License-Identifier: MIT */
/*
 * main.c - the atomicwrite command: the standard descriptors made safe,
 * then dispatch to the subcommand, or to the default "replace FILE with
 * standard input" (cmd_write.c, which also answers --help and --version
 * through help.c).  Nothing here is called back by the subcommands.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	{ "run", cmd_run },
};

/*
 * Descriptors 0, 1 and 2 that whoever started us left closed are opened
 * to /dev/null, before anything else can open a file: else the next
 * open() (the temporary file, a directory) would get the lowest free
 * number, and what is read from standard input or written to standard
 * error (progress, --verbose, a warning) would go into it.  Remembers a
 * closed standard input, which the commands that read it refuse.
 * Returns 0, or -1 if /dev/null cannot be opened.
 */
static int open_standard_descriptors(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int got;
		while ((got = open("/dev/null", O_RDWR | O_NOCTTY)) < 0 && errno == EINTR)
			;
		if (got != fd) {
			/* Not there, or (impossible: fd was the lowest free
			 * number) somewhere else. */
			if (got >= 0)
				close(got);
			return -1;
		}
		if (fd == STDIN_FILENO)
			cli_stdin_closed = true;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (open_standard_descriptors() < 0) {
		/* Nothing was touched.  Standard error may be the one closed:
		 * the message may go nowhere, the status still says it. */
		if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
			cli_warn("cannot open /dev/null for a closed standard "
			         "descriptor: %s", strerror(errno));
		return EXIT_FAIL;
	}
	/* A SIGCHLD ignored by whoever started us is inherited, and the
	 * kernel would then reap our children (the editor, --from-cmd,
	 * --check) itself: waitpid() could not tell how they ended. */
	signal(SIGCHLD, SIG_DFL);
	/* getopt's messages begin with argv[0]: make them begin with
	 * "atomicwrite:" however we were invoked (build/atomicwrite,
	 * /usr/bin/atomicwrite), and name the subcommand after it. */
	static char subprog[64];
	argv[0] = (char *)cli_prog;
	/* A FILE that is literally a subcommand's name is written ./NAME. */
	if (argc > 1) {
		for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
			if (strcmp(argv[1], commands[i].name) == 0) {
				snprintf(subprog, sizeof subprog, "%s: %s",
				         cli_prog, commands[i].name);
				argv[1] = subprog;
				return commands[i].run(argc - 1, argv + 1);
			}
	}
	return cmd_write(argc, argv);
}
