/* SPDX-License-Identifier: MIT */
/*
 * keep_bench.c - a durable (FULL) replace by content exchange
 * (AW_KEEP_INODE) against the rename protocol, on the same filesystem:
 *
 *     keep_bench DIR SIZE COUNT ROUNDS
 *
 * Each round replaces DIR/r (rename) and DIR/k (keep-inode) COUNT times
 * each with SIZE bytes, the two in alternating order (A B, B A, ...).
 * Prints per round the µs per replace of each and their ratio, then the
 * medians.
 */
#include "atomicwrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double run(const char *path, unsigned flags, const char *buf,
                  size_t size, unsigned count)
{
	aw_options o = { sizeof o, AW_DURABILITY_FULL, flags, 0 };
	double t0 = now_us();
	for (unsigned i = 0; i < count; i++) {
		aw_error e;
		if (aw_file_replace(path, buf, size, &o, &e) != AW_OK) {
			char msg[AW_ERROR_FORMAT_SIZE];
			fprintf(stderr, "keep_bench: %s\n", aw_error_format(&e, msg, sizeof msg));
			exit(1);
		}
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
	if (argc != 5) {
		fprintf(stderr, "usage: keep_bench DIR SIZE COUNT ROUNDS\n");
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
		if (i % 2 == 0) {
			tr[i] = run(r, 0, buf, size, count);
			tk[i] = run(k, AW_KEEP_INODE, buf, size, count);
		} else {
			tk[i] = run(k, AW_KEEP_INODE, buf, size, count);
			tr[i] = run(r, 0, buf, size, count);
		}
		ratio[i] = tk[i] / tr[i];
		printf("  round %u: rename %.0f µs, keep-inode %.0f µs, ratio %.2f\n",
		       i + 1, tr[i], tk[i], ratio[i]);
	}
	printf("size %zu: median rename %.0f µs, keep-inode %.0f µs per replace; "
	       "median ratio keep-inode/rename %.2f\n", size, median(tr, rounds),
	       median(tk, rounds), median(ratio, rounds));
	return 0;
}
