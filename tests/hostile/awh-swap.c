/* SPDX-License-Identifier: MIT */
/*
 * awh-swap - the hostile tier's renamer (run as the attacker, on names she
 * may rename).  For SECONDS, or ROUNDS exchanges, whichever ends first, it
 * swaps PATH with each ALT in turn and back (renameat2 RENAME_EXCHANGE, so
 * both names exist at every moment): PATH holds its own file most of the
 * time and, for a moment each round, each ALT's.
 *
 *   awh-swap SECONDS ROUNDS PATH ALT...
 *
 * SIGTERM ends it early (it still prints).  Prints "swaps N" at the end.  Exit 0, or 1 if not a single exchange
 * worked (then the race was not exercised).
 */
#include "awh-common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int exchange(const char *a, const char *b)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: awh-swap SECONDS ROUNDS PATH ALT...\n");
		return 2;
	}
	double end = awh_deadline(argv[1]);
	long rounds = atol(argv[2]);
	long swaps = 0, errors = 0;
	int last_errno = 0;
	for (long r = 0; r < rounds && !awh_stop && awh_now() < end; r++) {
		for (int i = 4; i < argc; i++) {
			if (exchange(argv[3], argv[i]) == 0) {
				swaps++;
				/* a moment with the alternative in place */
				for (volatile int spin = 0; spin < 2000; spin++)
					;
				if (exchange(argv[3], argv[i]) == 0)
					swaps++;
				else
					errors++, last_errno = errno;
			} else {
				errors++;
				last_errno = errno;
			}
		}
	}
	printf("swaps %ld\n", swaps);
	if (swaps == 0)
		fprintf(stderr, "awh-swap: no exchange worked: %s\n", strerror(last_errno));
	return swaps ? 0 : 1;
}
