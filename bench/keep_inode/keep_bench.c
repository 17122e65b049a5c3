/* SPDX-License-Identifier: MIT */
/*
 * keep_bench.c - a durable (FULL) replace by content exchange
 * (AW_KEEP_INODE) against the rename protocol, on the same filesystem:
 *
 *     keep_bench DIR SIZE COUNT ROUNDS [edit]
 *
 * Each round replaces DIR/r (rename) and DIR/k (keep-inode) COUNT times
 * each with SIZE bytes, the two in alternating order (A B, B A, ...).
 * With "edit", each replace is instead a small edit of the SIZE-byte file:
 * begin with AW_COPY_TARGET (a reflink on XFS), three 4 KiB pwrite()s at
 * spread-out offsets, commit.  Prints per round the µs per replace of each
 * and their ratio, then the medians.
 */
#include "atomicwrite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const aw_error *e)
{
	char msg[AW_ERROR_FORMAT_SIZE];
	fprintf(stderr, "keep_bench: %s\n", aw_error_format(e, msg, sizeof msg));
	exit(1);
}

static double run(const char *path, unsigned flags, const char *buf,
                  size_t size, unsigned count)
{
	aw_options o = { sizeof o, AW_DURABILITY_FULL, flags, 0 };
	double t0 = now_us();
	for (unsigned i = 0; i < count; i++) {
		aw_error e;
		if (aw_file_replace(path, buf, size, &o, &e) != AW_OK)
			die(&e);
	}
	return (now_us() - t0) / count;
}

/* COUNT small edits of the SIZE-byte file at path: clone, patch, commit. */
static double edit(const char *path, unsigned flags, size_t size, unsigned count)
{
	aw_options o = { sizeof o, AW_DURABILITY_FULL, flags | AW_COPY_TARGET, 0 };
	char block[4096];
	size_t blocks = size / sizeof block;
	double t0 = now_us();
	for (unsigned i = 0; i < count; i++) {
		aw_file *f;
		aw_error e;
		if (aw_file_begin(&f, path, &o, &e) < 0)
			die(&e);
		for (unsigned j = 0; j < 3; j++) {
			size_t at = (i * 7919u + j * (blocks / 3)) % blocks;
			memset(block, 'a' + (int)((i + j) % 26), sizeof block);
			if (pwrite(aw_file_fd(f), block, sizeof block,
			           (off_t)(at * sizeof block)) != (ssize_t)sizeof block) {
				perror("keep_bench: pwrite");
				exit(1);
			}
		}
		if (aw_file_commit(f, &e) != AW_OK)
			die(&e);
	}
	return (now_us() - t0) / count;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	bool edits = argc == 6 && strcmp(argv[5], "edit") == 0;
	if (argc != 5 && !edits) {
		fprintf(stderr, "usage: keep_bench DIR SIZE COUNT ROUNDS [edit]\n");
		return 2;
	}
	size_t size = strtoull(argv[2], NULL, 10);
	unsigned count = (unsigned)atoi(argv[3]), rounds = (unsigned)atoi(argv[4]);
	char r[4096], k[4096];
	snprintf(r, sizeof r, "%s/r", argv[1]);
	snprintf(k, sizeof k, "%s/k", argv[1]);
	char *buf = malloc(size);
	double *tr = calloc(rounds, sizeof *tr), *tk = calloc(rounds, sizeof *tk),
	       *ratio = calloc(rounds, sizeof *ratio);
	if (!buf || !tr || !tk || !ratio)
		return 1;
	memset(buf, 'x', size);
	run(r, 0, buf, size, 1);   /* both targets exist, warm */
	run(k, 0, buf, size, 1);
	for (unsigned i = 0; i < rounds; i++) {
		for (unsigned turn = 0; turn < 2; turn++) {
			bool keep = (turn + i) % 2 == 1;   /* A B, B A, ... */
			unsigned fl = keep ? AW_KEEP_INODE : 0;
			double t = edits ? edit(keep ? k : r, fl, size, count)
			                 : run(keep ? k : r, fl, buf, size, count);
			*(keep ? &tk[i] : &tr[i]) = t;
		}
		ratio[i] = tk[i] / tr[i];
		printf("  round %u: rename %.0f µs, keep-inode %.0f µs, ratio %.2f\n",
		       i + 1, tr[i], tk[i], ratio[i]);
	}
	printf("%ssize %zu: median rename %.0f µs, keep-inode %.0f µs per replace; "
	       "median ratio keep-inode/rename %.2f\n", edits ? "3 x 4 KiB edits, " : "",
	       size, median(tr, rounds), median(tk, rounds), median(ratio, rounds));
	return 0;
}
