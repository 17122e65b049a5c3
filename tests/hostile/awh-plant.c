/* SPDX-License-Identifier: MIT */
/*
 * awh-plant - the hostile tier's link planter (run as the attacker in a
 * directory she may write).  For SECONDS it makes NAME a symbolic link to
 * each TARGET in turn, for a moment, then removes it again; with -f it
 * plants a FIFO instead of a link (TARGETs are then ignored but one must
 * be given), with -r a regular file of hers (mode 0666, holding TARGET):
 * before removing it she reads it, and if a file of hers at NAME then
 * holds anything else, prints "got: FIRST-BYTES" (someone else's data in
 * a file she owns).
 *
 *   awh-plant [-f|-r] SECONDS NAME TARGET...
 *
 * SIGTERM ends it early (it still prints).  Prints "planted N".  Exit 0, or 1 if nothing could be planted.
 */
#include "awh-common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

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
	double end = awh_deadline(argv[i]);
	const char *name = argv[i + 1];
	long planted = 0;
	int last = 0;
	umask(0);
	while (!awh_stop && awh_now() < end) {
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
			if (kind == 'r') {
				int fd = open(name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
				struct stat st;
				char buf[65];
				ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
				if (n >= 0 && fstat(fd, &st) == 0 && st.st_uid == getuid() &&
				    ((size_t)n != strlen(argv[t]) ||
				     memcmp(buf, argv[t], (size_t)n) != 0)) {
					buf[n] = '\0';
					for (char *p = buf; *p; p++)
						if (*p == '\n')
							*p = ' ';
					printf("got: %s\n", buf);
					fflush(stdout);
				}
				if (fd >= 0)
					close(fd);
			}
			unlink(name);
		}
	}
	printf("planted %ld\n", planted);
	if (!planted)
		fprintf(stderr, "awh-plant: nothing planted: %s\n", strerror(last));
	return planted ? 0 : 1;
}
