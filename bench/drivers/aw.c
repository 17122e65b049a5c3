/* SPDX-License-Identifier: MIT */
/*
 * aw.c - our library through its public API, the way a program uses it:
 * aw_file_replace() for small files (default options, or durability NONE), and
 * aw_file_begin() + aw_file_write() (or, with a fifth argument "fd", write() to
 * aw_file_fd()) + aw_file_commit() to stream a large file.  A fifth argument "named"
 * adds AW_NO_TMPFILE (a named temporary file instead of O_TMPFILE), "nokeep"
 * adds AW_NO_KEEP_OWNER_XATTRS: bench/SYSCALLS.md uses them to tell what
 * each part of the protocol costs.
 */
#include "driver.h"

#include <atomicwrite.h>
#include <unistd.h>

static void stream(const char *path, const char *chunk, size_t len,
                   const aw_options *opts, int use_fd)
{
	aw_file *f;
	aw_error e;
	if (aw_file_begin(&f, path, opts, &e) < 0)
		bench_die("aw_file_begin", path);
	for (size_t done = 0; done < len;) {
		size_t want = len - done < CHUNK ? len - done : CHUNK;
		if (use_fd) {
			ssize_t n = write(aw_file_fd(f), chunk, want);
			if (n <= 0)
				bench_die("write", path);
			done += (size_t)n;
		} else {
			if (aw_file_write(f, chunk, want, &e) < 0)
				bench_die("aw_file_write", path);
			done += want;
		}
	}
	if (aw_file_commit(f, &e) != AW_OK)
		bench_die("aw_file_commit", path);
}

int main(int argc, char **argv)
{
	const char *variant = argc == 6 ? argv[5] : "";
	int use_fd = strcmp(variant, "fd") == 0;
	struct bench_args a = bench_parse(argc == 6 ? 5 : argc, argv);
	aw_options opts = { 0 };
	if (strcmp(variant, "named") == 0)
		opts.flags |= AW_NO_TMPFILE;
	if (strcmp(variant, "nokeep") == 0)
		opts.flags |= AW_NO_KEEP_OWNER_XATTRS;
	if (a.mode == SMALL_NOSYNC)
		opts.durability = AW_DURABILITY_NONE;
	char path[4096];
	char *buf = bench_contents(a.mode == LARGE ? CHUNK : a.size);
	double start = bench_now_us();
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		if (a.mode == LARGE) {
			stream(path, buf, a.size, &opts, use_fd);
		} else {
			aw_error e;
			if (aw_file_replace(path, buf, a.size, &opts, &e) != AW_OK)
				bench_die("aw_file_replace", path);
		}
	}
	bench_report(start);
	free(buf);
	return 0;
}
