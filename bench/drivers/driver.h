/* SPDX-License-Identifier: MIT */
/*
 * driver.h - what every C driver of the benchmark shares: the command
 * line, the target names, the clock and the contents written.
 *
 *     DRIVER small|small-nosync DIR N SIZE   replace DIR/f00000 .. f<N-1>
 *     DRIVER large DIR 1 SIZE                replace DIR/big, streaming
 *
 * The driver times only the replacements (not its own start-up) and prints
 * the elapsed microseconds of the whole loop on standard output.  The
 * Go, Python and Node drivers follow the same contract.
 */
#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Large files are streamed in chunks of this size by every driver that can
 * stream, and built in memory whole by those that cannot. */
#define CHUNK (1u << 20)

enum bench_mode { SMALL_DURABLE, SMALL_NOSYNC, LARGE };

struct bench_args {
	enum bench_mode mode;
	const char *dir;
	long n;
	size_t size;
};

static inline void bench_die(const char *what, const char *path)
{
	fprintf(stderr, "driver: %s %s failed\n", what, path ? path : "");
	exit(1);
}

static inline struct bench_args bench_parse(int argc, char **argv)
{
	struct bench_args a;
	if (argc != 5) {
		fprintf(stderr, "usage: %s small|small-nosync|large DIR N SIZE\n", argv[0]);
		exit(2);
	}
	if (strcmp(argv[1], "small") == 0)
		a.mode = SMALL_DURABLE;
	else if (strcmp(argv[1], "small-nosync") == 0)
		a.mode = SMALL_NOSYNC;
	else if (strcmp(argv[1], "large") == 0)
		a.mode = LARGE;
	else
		bench_die("mode", argv[1]);
	a.dir = argv[2];
	a.n = atol(argv[3]);
	a.size = (size_t)atoll(argv[4]);
	return a;
}

/* The name of target i (or of the large file) in buf. */
static inline void bench_target(const struct bench_args *a, long i,
                                char *buf, size_t size)
{
	if (a->mode == LARGE)
		snprintf(buf, size, "%s/big", a->dir);
	else
		snprintf(buf, size, "%s/f%05ld", a->dir, i);
}

/* Contents: a buffer of len bytes that is not all zeroes (no filesystem
 * may take a shortcut for it). */
static inline char *bench_contents(size_t len)
{
	char *p = malloc(len ? len : 1);
	if (!p)
		bench_die("malloc", NULL);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)('a' + i % 23);
	return p;
}

/* Writes len bytes to path in place (created or truncated), repeating
 * chunk, which holds min(len, CHUNK) bytes; fsyncs it if asked.  Not
 * atomic: for laying out targets and for the "plain" floor. */
static inline void bench_write_file(const char *path, const char *chunk,
                                    size_t len, int sync)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die("open", path);
	for (size_t done = 0; done < len;) {
		size_t want = len - done < CHUNK ? len - done : CHUNK;
		if (write(fd, chunk, want) != (ssize_t)want)
			bench_die("write", path);
		done += want;
	}
	if ((sync && fsync(fd) < 0) || close(fd) < 0)
		bench_die("fsync/close", path);
}

/* BENCH_CLOCK=cpu: the process's CPU time (user and system) instead of
 * the wall clock, so that on a machine shared with other work the time
 * spent waiting for a CPU does not count (bench/nosync_ratio.sh). */
static inline double bench_now_us(void)
{
	static int cpu = -1;
	if (cpu < 0) {
		const char *c = getenv("BENCH_CLOCK");
		cpu = c && strcmp(c, "cpu") == 0;
	}
	struct timespec t;
	clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static inline void bench_report(double start_us)
{
	printf("%.0f\n", bench_now_us() - start_us);
}

#endif
