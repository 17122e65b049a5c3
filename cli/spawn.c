/* SPDX-License-Identifier: MIT */
/*
 * spawn.c - starting a program (a --check, a --from-cmd, FILE -- CMD, the
 * editor) and waiting for it: the one fork/exec/wait of the CLI.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* In the child: fd becomes target (unless it is -1 or target already). */
static void redirect(int fd, int target)
{
	if (fd >= 0 && fd != target)
		dup2(fd, target);
}

pid_t cli_spawn(const char *file, char *const argv[], const struct cli_child *c)
{
	/* Our buffered output goes before the child's, and not twice. */
	fflush(NULL);
	pid_t pid = cli_fork();
	if (pid != 0)
		return pid;
	if (c) {
		redirect(c->out, STDOUT_FILENO);
		redirect(c->err, STDERR_FILENO);
		if (c->setup)
			c->setup(c->ctx);
	}
	execvp(file, argv);
	if (c && c->quiet)
		_exit(127);
	/* The shell's status and message for a command that cannot be
	 * run. */
	int err = errno;
	cli_warn("%s: %s", argv[0], strerror(err));
	_exit(err == ENOENT ? 127 : 126);
}

bool cli_exited_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int cli_pipe_cloexec(int fds[2])
{
#if !(defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
      defined(__NetBSD__) || defined(__DragonFly__))
	if (pipe(fds) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(fds[i], F_GETFD);
		if (fl < 0 || fcntl(fds[i], F_SETFD, fl | FD_CLOEXEC) < 0) {
			int err = errno;
			close(fds[0]);
			close(fds[1]);
			errno = err;
			return -1;
		}
	}
	return 0;
#else
	return pipe2(fds, O_CLOEXEC);
#endif
}
