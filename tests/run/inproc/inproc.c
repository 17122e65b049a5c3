/* SPDX-License-Identifier: MIT */
/*
 * inproc.c - the preload's code in one executable, for the sanitizers:
 * linked with preload/preload.c and the static library (make
 * build/run/inproc), so that its own open, close, dup, fork, fopen... are
 * the preload's without LD_PRELOAD, and `make check-asan` builds all of it
 * with ASan and UBSan (an ASan runtime cannot be preloaded into a program
 * that lacks one, so the real preload never is).  Run in an empty
 * directory with AW_RUN_STATE set to a private directory (test_run.sh);
 * prints "inproc: N cases ok" or the first failure, exits 1 on one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures, cases;

#define CHECK(cond, ...)                                              \
	do {                                                          \
		if (!(cond)) {                                        \
			fprintf(stderr, "inproc: %s:%d: ", __func__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                 \
			fputc('\n', stderr);                          \
			failures++;                                   \
			return;                                       \
		}                                                     \
	} while (0)

/* The file's contents (read-only opens pass through), at most 255 bytes. */
static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return fd < 0 ? "(missing)" : buf;
}

static ino_t ino(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wx");   /* O_EXCL: passes through */
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int wr(int fd, const char *s)
{
	return write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -1;
}

static void case_open_close(void)
{
	put("a", "old\n");
	ino_t before = ino("a");
	int fd = open("a", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && wr(fd, "new\n") == 0, "open/write: %s", strerror(errno));
	CHECK(strcmp(slurp("a"), "old\n") == 0, "visible before close: %s", slurp("a"));
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
	CHECK(strcmp(slurp("a"), "new\n") == 0 && ino("a") != before, "not replaced: %s", slurp("a"));
}

static void case_dup_fcntl(void)
{
	put("b", "old\n");
	int fd = open("b", O_RDWR | O_CREAT | O_TRUNC, 0644);
	int d = dup(fd), e = fcntl(fd, F_DUPFD_CLOEXEC, 20);
	CHECK(fd >= 0 && d >= 0 && e >= 20 && wr(fd, "x") == 0, "dup: %s", strerror(errno));
	CHECK(close(fd) == 0 && close(e) == 0, "close: %s", strerror(errno));
	CHECK(strcmp(slurp("b"), "old\n") == 0, "committed with a dup open: %s", slurp("b"));
	CHECK(wr(d, "y\n") == 0 && close(d) == 0, "last close: %s", strerror(errno));
	CHECK(strcmp(slurp("b"), "xy\n") == 0, "after the last close: %s", slurp("b"));
}

static void case_dup2_over(void)
{
	put("c", "old\n");
	int fd = open("c", O_WRONLY | O_TRUNC);
	int null = open("/dev/null", O_WRONLY);
	CHECK(fd >= 0 && null >= 0 && wr(fd, "new\n") == 0, "open: %s", strerror(errno));
	CHECK(dup2(null, fd) == fd, "dup2: %s", strerror(errno));
	CHECK(strcmp(slurp("c"), "new\n") == 0, "dup2 over it did not commit: %s", slurp("c"));
	close(fd);
	close(null);
}

static void case_fork(void)
{
	put("d", "old\n");
	int fd = open("d", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && wr(fd, "parent\n") == 0, "open: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0)
		_exit(wr(fd, "child\n") == 0 && close(fd) == 0 ? 0 : 1);
	int status;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "child: %d", status);
	CHECK(strcmp(slurp("d"), "old\n") == 0, "the child committed early: %s", slurp("d"));
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
	CHECK(strcmp(slurp("d"), "parent\nchild\n") == 0, "after both: %s", slurp("d"));
}

static void case_exit_child(void)
{
	put("e", "old\n");
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = fopen("e", "w");
		if (!f)
			_exit(1);
		fputs("from exit\n", f);   /* never closed: exit commits */
		exit(0);
	}
	int status;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0, "child: %d", status);
	CHECK(strcmp(slurp("e"), "from exit\n") == 0, "exit did not commit: %s", slurp("e"));
}

static void case_stdio(void)
{
	put("f", "old\n");
	FILE *f = fopen("f", "w");
	CHECK(f && fprintf(f, "fopen\n") > 0 && fclose(f) == 0, "fopen: %s", strerror(errno));
	CHECK(strcmp(slurp("f"), "fopen\n") == 0, "fopen/fclose: %s", slurp("f"));
	FILE *s = fopen("/dev/null", "r");
	CHECK(s && (s = freopen("f", "w", s)) && fputs("freopen\n", s) >= 0 && fclose(s) == 0,
	      "freopen: %s", strerror(errno));
	CHECK(strcmp(slurp("f"), "freopen\n") == 0, "freopen/fclose: %s", slurp("f"));
}

static void case_rename_pending(void)
{
	put("g", "old\n");
	int fd = open("g", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && wr(fd, "one\n") == 0, "open: %s", strerror(errno));
	CHECK(rename("g", "g2") == 0, "rename: %s", strerror(errno));
	CHECK(strcmp(slurp("g2"), "one\n") == 0, "renamed before its commit: %s", slurp("g2"));
	CHECK(wr(fd, "two\n") == 0 && close(fd) == 0, "close: %s", strerror(errno));
	CHECK(strcmp(slurp("g2"), "one\ntwo\n") == 0, "after the rename: %s", slurp("g2"));
}

static void case_failed_commit(void)
{
	int fd = open("h", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && wr(fd, "new\n") == 0, "open: %s", strerror(errno));
	CHECK(mkdir("h", 0755) == 0, "mkdir: %s", strerror(errno));
	errno = 0;
	CHECK(close(fd) < 0 && errno != 0, "close of a failed commit: 0");
	CHECK(rmdir("h") == 0, "the directory in its place: %s", strerror(errno));
}

static void case_close_range(void)
{
	put("i", "old\n");
	int fd = open("i", O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && wr(fd, "new\n") == 0, "open: %s", strerror(errno));
	int hi = dup2(fd, 200);
	CHECK(hi == 200 && close(fd) == 0, "dup2: %s", strerror(errno));
	CHECK(close_range(100, 300, 0) == 0, "close_range: %s", strerror(errno));
	CHECK(strcmp(slurp("i"), "new\n") == 0, "close_range did not commit: %s", slurp("i"));
}

int main(void)
{
	void (*all[])(void) = { case_open_close, case_dup_fcntl, case_dup2_over, case_fork,
	                        case_exit_child, case_stdio, case_rename_pending,
	                        case_failed_commit, case_close_range };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		cases++;
		all[i]();
	}
	if (failures) {
		printf("inproc: %d of %d cases failed\n", failures, cases);
		return 1;
	}
	printf("inproc: %d cases ok\n", cases);
	return 0;
}
