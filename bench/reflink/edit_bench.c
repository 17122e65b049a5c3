/* SPDX-License-Identifier: MIT */
/*
 * edit_bench.c - a 4 KiB change to a big file, committed atomically and
 * durably: with AW_COPY_TARGET (a reflink clone where the filesystem can)
 * against copying the whole file through user space first.
 *
 *     edit_bench FILE_IN_DIR SIZE_MIB [ROUNDS]
 *
 * The reflinked edit is repeated ROUNDS times (default 7): median, min and
 * max, split into aw_file_begin() (the clone), the edit, and aw_file_commit() (fsync
 * of the new file, rename, fsync of the directory).  The full copy, which
 * takes seconds, runs once.
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v and prints "median (min-max)". */
static void summary(const char *what, double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, by_value);
	printf("  %-28s %8.1f ms (%.1f-%.1f)\n", what, v[n / 2], v[0], v[n - 1]);
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	const char *path = argv[1];
	size_t mib = (size_t)atol(argv[2]);
	int rounds = argc == 4 ? atoi(argv[3]) : 7;
	if (rounds < 1 || rounds > 100)
		return 2;
	char *buf = malloc(1 << 20);
	memset(buf, 'a', 1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (size_t i = 0; i < mib; i++)
		if (write(fd, buf, 1 << 20) != 1 << 20)
			return 1;
	fsync(fd);
	close(fd);

	/* Clone-start edit, ROUNDS times. */
	double begin[100], edit[100], commit[100], total[100];
	aw_options o = { .flags = AW_COPY_TARGET };
	aw_file *f;
	for (int r = 0; r < rounds; r++) {
		double t0 = now_ms();
		if (aw_file_begin(&f, path, &o, NULL) < 0)
			return 1;
		double t1 = now_ms();
		if (pwrite(aw_file_fd(f), "EDIT", 4, 12345 + 4096 * r) != 4)
			return 1;
		double t2 = now_ms();
		if (aw_file_commit(f, NULL) != AW_OK)
			return 1;
		double t3 = now_ms();
		begin[r] = t1 - t0;
		edit[r] = t2 - t1;
		commit[r] = t3 - t2;
		total[r] = t3 - t0;
	}
	printf("%zu MiB file, 4-byte edit, durable commit, AW_COPY_TARGET, %d rounds:\n",
	       mib, rounds);
	summary("aw_file_begin (clone)", begin, rounds);
	summary("pwrite (the edit)", edit, rounds);
	summary("aw_file_commit (fsync, rename)", commit, rounds);
	summary("whole edit", total, rounds);
	double clone_ms = total[rounds / 2];

	/* The same edit after a copy through user space. */
	double t0 = now_ms();
	int src = open(path, O_RDONLY);
	if (aw_file_begin(&f, path, NULL, NULL) < 0)
		return 1;
	ssize_t n;
	while ((n = read(src, buf, 1 << 20)) > 0)
		if (aw_file_write(f, buf, (size_t)n, NULL) < 0)
			return 1;
	close(src);
	if (pwrite(aw_file_fd(f), "EDIT", 4, 12345) != 4 || aw_file_commit(f, NULL) != AW_OK)
		return 1;
	double copy_ms = now_ms() - t0;
	printf("  full copy + edit + commit    %8.1f ms (once; %.0fx the median reflinked edit)\n",
	       copy_ms, copy_ms / clone_ms);
	return 0;
}
