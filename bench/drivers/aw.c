/* SPDX-License-Identifier: MIT */
/*
 * aw.c - our library through its public API, the way a program uses it:
 * aw_file_replace() for small files (default options, or durability NONE), and
 * aw_file_begin() + aw_file_write() (or, with a fifth argument "fd", write() to
 * aw_file_fd()) + aw_file_commit() to stream a large file.  A fifth argument "named"
 * adds AW_NO_TMPFILE (a named temporary file instead of O_TMPFILE), "nokeep"
 * adds AW_NO_KEEP_OWNER_XATTRS: bench/SYSCALLS.md uses them to tell what
 * each part of the protocol costs.  For small files the fifth argument is
 * a comma-separated list of these and of: "at" (aw_file_replace_at() with
 * the directory opened once, before the timing, and the bare file name),
 * "batch" (aw_batch_add_buffer_at() into batches of 100, each committed
 * when full) and "file" (AW_DURABILITY_FILE; "small-nosync" gives NONE).
 */
#include "driver.h"

#include <atomicwrite.h>
#include <unistd.h>

#define BATCH 100

/* Whether the comma-separated list has word. */
static int has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The small files, in batches of BATCH through a directory kept open. */
static void batches(const struct bench_args *a, int dirfd, const char *buf,
                    const aw_options *opts)
{
	aw_batch_options bo = AW_BATCH_OPTIONS_INIT;
	bo.durability = opts->durability;
	bo.flags = opts->flags;
	aw_batch *b = NULL;
	aw_error e;
	char name[32];
	for (long i = 0; i < a->n; i++) {
		if (!b && aw_batch_new(&b, &bo, &e) < 0)
			bench_die("aw_batch_new", a->dir);
		snprintf(name, sizeof name, "f%05ld", i);
		if (aw_batch_add_buffer_at(b, dirfd, name, buf, a->size, &e) < 0)
			bench_die("aw_batch_add_buffer_at", name);
		if (i % BATCH == BATCH - 1 || i == a->n - 1) {
			if (aw_batch_commit(b, NULL, &e) != AW_OK)
				bench_die("aw_batch_commit", name);
			b = NULL;
		}
	}
}

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
	int use_fd = has(variant, "fd");
	struct bench_args a = bench_parse(argc == 6 ? 5 : argc, argv);
	aw_options opts = { 0 };
	if (has(variant, "named"))
		opts.flags |= AW_NO_TMPFILE;
	if (has(variant, "nokeep"))
		opts.flags |= AW_NO_KEEP_OWNER_XATTRS;
	if (has(variant, "file"))
		opts.durability = AW_DURABILITY_FILE;
	if (a.mode == SMALL_NOSYNC)
		opts.durability = AW_DURABILITY_NONE;
	int at = has(variant, "at") || has(variant, "batch");
	int dirfd = at ? open(a.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : AT_FDCWD;
	if (dirfd < 0 && at)
		bench_die("open", a.dir);
	char path[4096];
	char *buf = bench_contents(a.mode == LARGE ? CHUNK : a.size);
	double start = bench_now_us();
	if (a.mode != LARGE && has(variant, "batch"))
		batches(&a, dirfd, buf, &opts);
	for (long i = 0; i < a.n && !has(variant, "batch"); i++) {
		bench_target(&a, i, path, sizeof path);
		if (a.mode == LARGE) {
			stream(path, buf, a.size, &opts, use_fd);
		} else {
			aw_error e;
			/* With a kept directory: the name alone. */
			const char *name = at ? strrchr(path, '/') + 1 : path;
			if (aw_file_replace_at(dirfd, name, buf, a.size, &opts,
			                       &e) != AW_OK)
				bench_die("aw_file_replace", path);
		}
	}
	bench_report(start);
	free(buf);
	return 0;
}
