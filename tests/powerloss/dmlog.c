/*
 * dmlog.c - the power-loss guest's stand-in for dmsetup (busybox has none).
 *
 *     dmlog create NAME DATADEV LOGDEV   prints the new node, /dev/dm-N
 *     dmlog mark NAME TEXT
 *     dmlog status NAME                  "<entries> <last log sector>[ logging_disabled]"
 *     dmlog remove NAME                  the target then completes its log
 */
#include "dmctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
	} else if (!strcmp(cmd, "remove") && argc == 3) {
		r = dm_remove(argv[2]);
	} else {
		fprintf(stderr, "usage: dmlog create NAME DATADEV LOGDEV | mark NAME TEXT | "
		                "status NAME | remove NAME\n");
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "dmlog %s: %s\n", cmd, strerror(errno));
		return 1;
	}
	return 0;
}
