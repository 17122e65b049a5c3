/* SPDX-License-Identifier: MIT */
/*
 * dmlog.c - the power-loss guest's stand-in for dmsetup (busybox has none).
 *
 *     dmlog create NAME DATADEV LOGDEV   prints the new node, /dev/dm-N
 *     dmlog mark NAME TEXT
 *     dmlog status NAME                  "<entries> <last log sector>[ logging_disabled]"
 *     dmlog settle NAME NODE             flush, then wait until all is logged
 *     dmlog remove NAME                  the target then completes its log
 *
 * Settle before remove: on removal the target queues the writes no flush
 * has covered yet at the head of its queue of entries still to be logged,
 * so if its log thread lags they land in the log before entries that were
 * queued earlier (seen on btrfs: a super block copy logged among writes
 * made long before it).  A flush first logs them in their place; then
 * nothing is left for the removal to misplace once the queue is empty.
 */
#define _GNU_SOURCE
#include "dmctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Flush NODE, then wait for the count of logged entries to stay the same
 * for half a second: the queue is then empty (nothing new arrives). */
static int settle(const char *name, const char *node)
{
	int fd = open(node, O_RDONLY);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	if (r < 0)
		return -1;
	char text[512];
	unsigned long long last = ~0ull;
	const struct timespec tick = { 0, 100 * 1000 * 1000 };
	for (int same = 0, t = 0; same < 5; t++) {
		if (t > 600) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (dm_status(name, text, sizeof text) < 0)
			return -1;
		unsigned long long n = strtoull(text, NULL, 10);
		same = n == last ? same + 1 : 0;
		last = n;
		nanosleep(&tick, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 2 ? argv[1] : "";
	char text[512];
	unsigned minor;
	int r;
	if (!strcmp(cmd, "create") && argc == 5) {
		r = dm_logwrites_create(argv[2], argv[3], argv[4], &minor);
		if (r == 0)
			printf("/dev/dm-%u\n", minor);
	} else if (!strcmp(cmd, "mark") && argc == 4) {
		snprintf(text, sizeof text, "mark %s", argv[3]);
		r = dm_message(argv[2], text);
	} else if (!strcmp(cmd, "status") && argc == 3) {
		r = dm_status(argv[2], text, sizeof text);
		if (r == 0)
			printf("%s\n", text);
	} else if (!strcmp(cmd, "settle") && argc == 4) {
		r = settle(argv[2], argv[3]);
	} else if (!strcmp(cmd, "remove") && argc == 3) {
		r = dm_remove(argv[2]);
	} else {
		fprintf(stderr, "usage: dmlog create NAME DATADEV LOGDEV | mark NAME TEXT | "
		                "status NAME | settle NAME NODE | remove NAME\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "dmlog %s: %s\n", cmd, strerror(errno));
		return 1;
	}
	return 0;
}
