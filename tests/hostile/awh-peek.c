/* SPDX-License-Identifier: MIT */
/*
 * awh-peek - the hostile tier's eavesdropper (run as the unprivileged
 * attacker).  For SECONDS it lists each DIR over and over and tries to open
 * for reading every entry whose name starts with PREFIX (".awtmp-" unless
 * -p says otherwise), the way a user polling a shared directory would.
 *
 *   awh-peek [-l] [-p PREFIX] SECONDS DIR...
 *
 * With -l it also takes flock(LOCK_EX|LOCK_NB) on every file it opens and
 * keeps it (up to 1000 files) until it ends, as a reader who wants writers
 * to wait on her would.
 *
 * SIGTERM ends it early (it still prints).  Prints "seen N" (distinct names seen), then one line per name it could
 * open: "opened NAME mode=OCTAL uid=N: FIRST-BYTES".  Exit 0.  The test
 * judges: seen must be > 0 (else the race was not exercised) and opened
 * must be empty.
 */
#include "awh-common.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#define MAX_NAMES 4096

static char *seen[MAX_NAMES];
static int nseen;

static char *opened[MAX_NAMES];
static int nopened;

/* Adds name to list (of *n entries) unless there; 1 if it was new. */
static int remember_in(char **list, int *n, const char *name)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(list[i], name) == 0)
			return 0;
	if (*n < MAX_NAMES)
		list[(*n)++] = strdup(name);
	return 1;
}

static int remember(const char *name)
{
	return remember_in(seen, &nseen, name);
}

int main(int argc, char **argv)
{
	const char *prefix = ".awtmp-";
	int i = 1;
	int lock = 0, held = 0;
	if (argc > 1 && strcmp(argv[i], "-l") == 0) {
		lock = 1;
		i++;
	}
	if (argc > i + 1 && strcmp(argv[i], "-p") == 0) {
		prefix = argv[i + 1];
		i += 2;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: awh-peek [-p PREFIX] SECONDS DIR...\n");
		return 2;
	}
	double end = awh_deadline(argv[i]);
	char **dirs = argv + i + 1;
	int ndirs = argc - i - 1;
	size_t plen = strlen(prefix);
	while (!awh_stop && awh_now() < end) {
		for (int d = 0; d < ndirs; d++) {
			int dfd = open(dirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0)
				continue;
			DIR *dir = fdopendir(dfd);
			if (!dir) {
				close(dfd);
				continue;
			}
			struct dirent *de;
			while ((de = readdir(dir))) {
				if (strncmp(de->d_name, prefix, plen) != 0)
					continue;
				remember(de->d_name);
				int fd = openat(dfd, de->d_name, O_RDONLY | O_NONBLOCK |
				                O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
				if (fd < 0)
					continue;
				struct stat st;
				char buf[65];
				ssize_t n = read(fd, buf, sizeof buf - 1);
				buf[n > 0 ? n : 0] = '\0';
				for (char *p = buf; *p; p++)
					if (*p == '\n')
						*p = ' ';
				if (fstat(fd, &st) == 0 &&
				    remember_in(opened, &nopened, de->d_name))
					printf("opened %s/%s mode=%04o uid=%u: %s\n", dirs[d],
					       de->d_name, (unsigned)(st.st_mode & 07777),
					       (unsigned)st.st_uid, buf);
				fflush(stdout);
				if (lock && held < 1000 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
					held++;
					continue;   /* kept open: the lock stays */
				}
				close(fd);
			}
			closedir(dir);
		}
	}
	printf("seen %d\n", nseen);
	if (lock)
		printf("locked %d\n", held);
	return 0;
}
