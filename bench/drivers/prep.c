/* SPDX-License-Identifier: MIT */
/*
 * prep.c - lays out the targets before a series of runs and writes the
 * source file the command-line tools read:
 *     prep small DIR N SIZE SOURCE    DIR/f00000 .. f<N-1>, SIZE bytes each
 *     prep large DIR 1 SIZE SOURCE    DIR/big, SIZE bytes
 * then syncs the filesystem, so that no run pays for the layout.
 */
#include "driver.h"


int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: prep small|large DIR N SIZE SOURCE\n");
		return 2;
	}
	struct bench_args a = bench_parse(5, argv);
	char *buf = bench_contents(a.size < CHUNK ? a.size : CHUNK);
	char path[4096];
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		bench_write_file(path, buf, a.size, 0);
	}
	bench_write_file(argv[5], buf, a.size, 0);
	int dfd = open(a.dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || syncfs(dfd) < 0)
		bench_die("syncfs", a.dir);
	close(dfd);
	return 0;
}
