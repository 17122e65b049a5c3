/*
 * source.c - where the new contents come from (standard input, --from
 * FILE, --from-cmd CMD), with an optional progress line, and where the
 * temporary file is, for commands that need its path.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void set_error(aw_error *e, aw_step step, const char *path, int err)
{
	e->err = err;
	e->step = step;
	snprintf(e->path, sizeof e->path, "%s", path);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_copy_fd(aw_file *f, int fd, const char *what, bool progress, aw_error *e)
{
	/* Without a progress line the library copies by the cheapest means
	 * (a reflink of a whole file, copy_file_range). */
	if (!progress)
		return aw_copy_from(f, fd, e);
	static char buf[1 << 17];
	unsigned long long total = 0;
	double last = now();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			set_error(e, AW_STEP_READ_SOURCE, what, errno);
			return -1;
		}
		if (n == 0)
			break;
		if (aw_write(f, buf, (size_t)n, e) < 0)
			return -1;
		total += (unsigned long long)n;
		if (now() - last >= 0.5) {
			fprintf(stderr, "\r%s: %llu MiB copied", cli_prog, total >> 20);
			last = now();
		}
	}
	fprintf(stderr, "\r%s: %llu MiB copied\n", cli_prog, total >> 20);
	return 0;
}

int cli_copy_cmd(aw_file *f, const char *cmd, bool progress, aw_error *e)
{
	int out[2];
	if (pipe(out) < 0) {
		set_error(e, AW_STEP_READ_SOURCE, cmd, errno);
		return -1;
	}
	fflush(NULL);
	pid_t pid = cli_fork();
	if (pid < 0) {
		set_error(e, AW_STEP_READ_SOURCE, cmd, errno);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (pid == 0) {
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		close(out[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	int r = cli_copy_fd(f, out[0], cmd, progress, e);
	close(out[0]);
	int status;
	if (cli_wait(pid, &status) < 0) {
		set_error(e, AW_STEP_READ_SOURCE, cmd, errno);
		return -1;
	}
	if (r < 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Its output may be partial: never commit it. */
		cli_warn("--from-cmd failed (%s %d): %s",
		         WIFEXITED(status) ? "exit status" : "signal",
		         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), cmd);
		set_error(e, AW_STEP_READ_SOURCE, cmd, ECANCELED);
		return -2;
	}
	return 0;
}

char *cli_temp_path(aw_file *f, const char *file, bool follow, aw_error *e)
{
	const char *name = aw_temp_name(f, e);
	if (!name)
		return NULL;
	/* The temporary file lives in the directory of the file replaced:
	 * FILE's own, or with -L that of the file its links lead to. */
	char *resolved = follow ? realpath(file, NULL) : NULL;
	char *copy = strdup(resolved ? resolved : file);
	free(resolved);
	if (!copy) {
		set_error(e, AW_STEP_ARGS, file, ENOMEM);
		return NULL;
	}
	const char *dir = dirname(copy);
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", dir, name);
	else
		set_error(e, AW_STEP_ARGS, file, ENOMEM);
	free(copy);
	return path;
}
