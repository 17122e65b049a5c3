/* SPDX-License-Identifier: MIT */
/*
 * source.c - where the new contents come from (standard input, --from
 * FILE, --from-cmd CMD, FILE -- CMD ARGS...), with an optional progress
 * line, and where the temporary file is, for commands that need its path.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void set_error(aw_error *e, aw_step step, const char *path, int err)
{
	memset(e, 0, sizeof *e);
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

/* Waits until fd has something to read (or its end, or an error), for a
 * descriptor in non-blocking mode: its owner may share it, so the mode is
 * not changed.  0, or -1 with errno set. */
static int wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	for (;;) {
		int n = poll(&p, 1, -1);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

int cli_copy_fd(aw_file *f, int fd, const char *what, bool progress, aw_error *e)
{
	/* A regular file is copied by the library, by the cheapest means (a
	 * reflink of a whole file, copy_file_range); O_NONBLOCK means
	 * nothing for it.  Anything else (a pipe, a terminal, a socket) is
	 * read here, waiting with poll() for a descriptor that is in
	 * non-blocking mode rather than failing with EAGAIN; the library
	 * would copy it with read() and write() as well. */
	struct stat st;
	if (!progress && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return aw_file_copy_from(f, fd, e);
	static char buf[1 << 17];
	unsigned long long total = 0;
	double last = now();
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    wait_readable(fd) == 0)
				continue;
			set_error(e, AW_STEP_READ_SOURCE, what, errno);
			return -1;
		}
		if (n == 0)
			break;
		if (aw_file_write(f, buf, (size_t)n, e) < 0)
			return -1;
		total += (unsigned long long)n;
		if (progress && now() - last >= 0.5) {
			fprintf(stderr, "\r%s: %llu MiB copied", cli_prog, total >> 20);
			last = now();
		}
	}
	if (progress)
		fprintf(stderr, "\r%s: %llu MiB copied\n", cli_prog, total >> 20);
	return 0;
}

/* Runs argv[0] with argv (through PATH) or, with shell, "/bin/sh -c
 * argv[0]"; its standard output is the new contents.  what names it in
 * messages. */
static int copy_from_program(aw_file *f, char *const argv[], bool shell,
                             const char *what, bool progress, aw_error *e)
{
	int out[2];
	if (cli_pipe_cloexec(out) < 0) {
		set_error(e, AW_STEP_READ_SOURCE, what, errno);
		return -1;
	}
	struct cli_child child = { .out = out[1], .err = -1, .quiet = shell };
	char *sh_argv[] = { (char *)"sh", (char *)"-c", argv[0], NULL };
	pid_t pid = shell ? cli_spawn("/bin/sh", sh_argv, &child)
	                  : cli_spawn(argv[0], argv, &child);
	if (pid < 0) {
		set_error(e, AW_STEP_READ_SOURCE, what, errno);
		close(out[0]);
		close(out[1]);
		return -1;
	}
	close(out[1]);
	int r = cli_copy_fd(f, out[0], what, progress, e);
	close(out[0]);
	int status;
	if (cli_wait(pid, &status) < 0) {
		set_error(e, AW_STEP_READ_SOURCE, what, errno);
		return -1;
	}
	if (r < 0)
		return -1;
	if (!cli_exited_ok(status)) {
		/* Its output may be partial: never commit it. */
		cli_warn("%s failed (%s %d): %s", shell ? "--from-cmd" : "the command",
		         WIFEXITED(status) ? "exit status" : "signal",
		         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), what);
		set_error(e, AW_STEP_READ_SOURCE, what, ECANCELED);
		return -2;
	}
	return 0;
}

int cli_copy_cmd(aw_file *f, const char *cmd, bool progress, aw_error *e)
{
	char *argv[] = { (char *)cmd, NULL };
	return copy_from_program(f, argv, true, cmd, progress, e);
}

int cli_copy_argv(aw_file *f, char *const argv[], bool progress, aw_error *e)
{
	return copy_from_program(f, argv, false, argv[0], progress, e);
}

/* Whether path names the directory dirfd is open on. */
static bool names_dir(const char *path, int dirfd)
{
	struct stat a, b;
	return path[0] == '/' && stat(path, &a) == 0 && fstat(dirfd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The absolute path of the directory dirfd is open on, as the kernel
 * knows it (malloc'd), checked to lead back to that directory; NULL with
 * errno set if it has none (removed, outside our root). */
static char *dir_path(int dirfd)
{
	char proc[64], buf[PATH_MAX + 1];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
	ssize_t n = readlink(proc, buf, sizeof buf - 1);
	if (n > 0 && (size_t)n < sizeof buf - 1) {
		buf[n] = '\0';
		if (names_dir(buf, dirfd))
			return strdup(buf);
	}
	/* Without /proc: getcwd() from the directory itself. */
	int here = open(".",
#ifdef O_PATH
	                O_PATH |
#endif
	                O_DIRECTORY | O_CLOEXEC);
	if (here < 0)
		return NULL;
	char *path = NULL;
	if (fchdir(dirfd) == 0) {
		path = getcwd(NULL, 0);
		int err = errno;
		if (fchdir(here) < 0) {
			/* We cannot be left elsewhere: relative paths given
			 * to us would mean other files. */
			cli_warn("cannot return to the working directory: %s",
			         strerror(errno));
			_exit(EXIT_FAIL);
		}
		errno = err;
	}
	close(here);
	if (path && !names_dir(path, dirfd)) {
		free(path);
		path = NULL;
		errno = ENOENT;
	}
	return path;
}

char *cli_temp_path(aw_file *f, const char *file, bool follow, aw_error *e)
{
	(void)follow;
	const char *name = aw_file_temp_name(f, e);
	if (!name)
		return NULL;
	/* The temporary file is in the directory the library opened for
	 * the target (with -L, that of the file the links lead to, which
	 * may not exist yet): its path is asked of that directory, never
	 * recomputed from FILE.  It is absolute, so it never starts with
	 * "-" and does not depend on the check's working directory. */
	char *dir = dir_path(aw_file_dirfd(f));
	if (!dir) {
		/* The directory was removed, or is outside our root. */
		set_error(e, AW_STEP_OPEN_DIR, file, errno ? errno : ENOENT);
		return NULL;
	}
	bool root = strcmp(dir, "/") == 0;
	size_t len = strlen(dir) + strlen(name) + 2;
	char *path = malloc(len);
	if (path)
		snprintf(path, len, "%s/%s", root ? "" : dir, name);
	else
		set_error(e, AW_STEP_ARGS, file, ENOMEM);
	free(dir);
	return path;
}
