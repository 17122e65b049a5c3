/* SPDX-License-Identifier: MIT */
/*
 * minimal.c - the minimal atomic-replace protocol, as a reference: the
 * fewest system calls that are still correct.  Durable:
 *     open(tmp, O_CREAT|O_EXCL) write fsync close rename
 *     open(dir) fsync(dir) close
 * Not durable: the same without the two fsyncs and the directory.
 * No metadata is kept, no lock is taken: it is the floor, not a library.
 *
 * "plain" mode (large only) is the non-atomic floor: write and fsync the
 * target in place (O_TRUNC), the bytes with no protocol at all.
 *
 * "tmpfile" (small only) is the same protocol with an unnamed temporary
 * file, the floor of what the library does (issue 17's non-durable goal):
 *     open(dir, O_TMPFILE) write [fsync] linkat(fd, "", tmp) close rename
 *     [open(dir) fsync(dir) close]
 * linkat by descriptor (AT_EMPTY_PATH: root, or Linux 6.10+), else through
 * /proc/self/fd.  Still a fixed temporary name, no lock, nothing kept.
 *
 * "tmpfile-linked" is "tmpfile" in the library's order: linkat before
 * the fsync (the library names the file first so that btrfs honours the
 * fsync), to tell what that order costs on its own (bench/SYSCALLS.md).
 */
#include "driver.h"

/* Which temporary file: named, unnamed and named after its fsync, or
 * unnamed and named before it (the library's order). */
enum temp_kind { TEMP_NAMED, TEMP_UNNAMED, TEMP_UNNAMED_LINKED_FIRST };


/* An unnamed file in dir, or a new file tmp. */
static int create(const char *dir, const char *tmp, enum temp_kind tmpfile)
{
	int fd = tmpfile ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644)
	                 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die("open", tmp);
	return fd;
}

/* The unnamed file fd linked as tmp. */
static void name(int fd, const char *tmp)
{
	if (linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0)
		return;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
		bench_die("linkat", tmp);
}

static void replace(const char *dir, const char *path, const char *buf,
                    size_t len, int durable, int stream, enum temp_kind tmpfile)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = create(dir, tmp, tmpfile);
	size_t chunk = stream ? CHUNK : len;
	for (size_t done = 0; done < len;) {
		size_t want = len - done < chunk ? len - done : chunk;
		ssize_t n = write(fd, stream ? buf : buf + done, want);
		if (n <= 0)
			bench_die("write", tmp);
		done += (size_t)n;
	}
	if (tmpfile == TEMP_UNNAMED_LINKED_FIRST)
		name(fd, tmp);
	if (durable && fsync(fd) < 0)
		bench_die("fsync", tmp);
	if (tmpfile == TEMP_UNNAMED)
		name(fd, tmp);
	if (close(fd) < 0)
		bench_die("close", tmp);
	if (rename(tmp, path) < 0)
		bench_die("rename", path);
	if (durable) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0)
			bench_die("fsync", dir);
		close(dfd);
	}
}

int main(int argc, char **argv)
{
	int is_plain = argc == 6 && strcmp(argv[5], "plain") == 0;
	enum temp_kind tmpfile = TEMP_NAMED;
	if (argc == 6 && strcmp(argv[5], "tmpfile") == 0)
		tmpfile = TEMP_UNNAMED;
	if (argc == 6 && strcmp(argv[5], "tmpfile-linked") == 0)
		tmpfile = TEMP_UNNAMED_LINKED_FIRST;
	struct bench_args a = bench_parse(is_plain || tmpfile ? 5 : argc, argv);
	char path[4096];
	int stream = a.mode == LARGE;
	char *buf = bench_contents(stream ? CHUNK : a.size);
	double start = bench_now_us();
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		if (is_plain)
			bench_write_file(path, buf, a.size, 1);
		else
			replace(a.dir, path, buf, a.size,
			        a.mode != SMALL_NOSYNC, stream, tmpfile);
	}
	bench_report(start);
	free(buf);
	return 0;
}
