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
 */
#include "driver.h"


static void replace(const char *dir, const char *path, const char *buf,
                    size_t len, int durable, int stream)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die("open", tmp);
	size_t chunk = stream ? CHUNK : len;
	for (size_t done = 0; done < len;) {
		size_t want = len - done < chunk ? len - done : chunk;
		ssize_t n = write(fd, stream ? buf : buf + done, want);
		if (n <= 0)
			bench_die("write", tmp);
		done += (size_t)n;
	}
	if (durable && fsync(fd) < 0)
		bench_die("fsync", tmp);
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
	struct bench_args a = bench_parse(is_plain ? 5 : argc, argv);
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
			        a.mode != SMALL_NOSYNC, stream);
	}
	bench_report(start);
	free(buf);
	return 0;
}
