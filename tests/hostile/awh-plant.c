/* SPDX-License-Identifier: MIT */
/*
 * awh-plant - the hostile tier's link planter (run as the attacker in a
 * directory she may write).  For SECONDS it makes NAME a symbolic link to
 * each TARGET in turn, for a moment, then removes it again; with -f it
 * plants a FIFO instead of a link (TARGETs are then ignored but one must
 * be given), with -r a regular file of hers (mode 0666, holding TARGET).
 *
 *   awh-plant [-f|-r] SECONDS NAME TARGET...
 *
 * Prints "planted N".  Exit 0, or 1 if nothing could be planted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char kind = 'l';
	int i = 1;
	if (argc > 1 && (strcmp(argv[1], "-f") == 0 || strcmp(argv[1], "-r") == 0)) {
		kind = argv[1][1];
		i = 2;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: awh-plant [-f|-r] SECONDS NAME TARGET...\n");
		return 2;
	}
	double end = now() + atof(argv[i]);
	const char *name = argv[i + 1];
	long planted = 0;
	int last = 0;
	umask(0);
	while (now() < end) {
		for (int t = i + 2; t < argc; t++) {
			int ok;
			if (kind == 'f') {
				ok = mkfifo(name, 0666) == 0;
			} else if (kind == 'r') {
				int fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0666);
				ok = fd >= 0;
				if (ok) {
					ssize_t n = write(fd, argv[t], strlen(argv[t]));
					(void)n;
					close(fd);
				}
			} else {
				ok = symlink(argv[t], name) == 0;
			}
			if (ok)
				planted++;
			else
				last = errno;
			for (volatile int spin = 0; spin < 20000; spin++)
				;
			unlink(name);
		}
	}
	printf("planted %ld\n", planted);
	if (!planted)
		fprintf(stderr, "awh-plant: nothing planted: %s\n", strerror(last));
	return planted ? 0 : 1;
}
