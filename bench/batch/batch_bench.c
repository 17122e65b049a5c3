/* SPDX-License-Identifier: MIT */
/*
 * batch_bench.c - what a durable batch costs: N existing 4 KiB files in
 * one directory replaced by N sequential aw_file_replace() calls, by one batch
 * with each flush strategy, and by one batch without any flush, each run
 * ROUNDS times interleaved (A B C ... A B C ...).  Prints the median
 * microseconds per file of each and its ratio to the sequential replaces.
 *
 *     batch_bench DIR [N] [ROUNDS]
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { SEQUENTIAL, BATCH_SEQ, BATCH_PARALLEL, BATCH_SYNCFS, BATCH_NOSYNC, KINDS };
static const char *const names[KINDS] = {
	"N x aw_file_replace (durable)", "batch, sequential fsyncs", "batch, parallel fsyncs",
	"batch, one syncfs", "batch, no flush (not durable)",
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double run(int kind, int n, const char *buf)
{
	char name[64];
	double t0 = now();
	if (kind == SEQUENTIAL) {
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof name, "f%05d", i);
			if (aw_file_replace(name, buf, 4096, NULL, NULL) != AW_OK)
				exit(1);
		}
	} else {
		aw_batch_options o = { .flush = kind == BATCH_SEQ ? AW_BATCH_SEQUENTIAL :
		                                kind == BATCH_PARALLEL ? AW_BATCH_PARALLEL :
		                                AW_BATCH_SYNCFS,
		                       .durability = kind == BATCH_NOSYNC ? AW_DURABILITY_NONE :
		                                     AW_DURABILITY_FULL };
		aw_batch *b;
		if (aw_batch_new(&b, &o, NULL) < 0)
			exit(1);
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof name, "f%05d", i);
			if (aw_batch_add_buffer(b, name, buf, 4096, NULL) < 0)
				exit(1);
		}
		if (aw_batch_commit(b, NULL, NULL) != AW_OK)
			exit(1);
	}
	return (now() - t0) / n;
}

int main(int argc, char **argv)
{
	if (argc < 2 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: batch_bench DIR [N] [ROUNDS]\n");
		return 2;
	}
	int n = argc > 2 ? atoi(argv[2]) : 1000;
	int rounds = argc > 3 ? atoi(argv[3]) : 3;
	char *buf = malloc(4096);
	memset(buf, 'x', 4096);
	for (int i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "f%05d", i);
		aw_file_replace(name, buf, 4096, NULL, NULL);
	}
	sync();
	double *t = calloc((size_t)KINDS * (size_t)rounds, sizeof *t);
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < KINDS; k++) {
			buf[0] = (char)('a' + r);
			t[k * rounds + r] = run(k, n, buf);
		}
	double base = 0;
	printf("%-32s %10s %10s %10s %8s\n", "method", "median us", "min", "max", "vs N x");
	for (int k = 0; k < KINDS; k++) {
		double *v = t + k * rounds;
		qsort(v, (size_t)rounds, sizeof *v, cmp);
		double med = v[rounds / 2];
		if (k == 0)
			base = med;
		printf("%-32s %10.1f %10.1f %10.1f %7.1fx\n", names[k], med, v[0],
		       v[rounds - 1], base / med);
	}
	return 0;
}
