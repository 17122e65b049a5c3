/* SPDX-License-Identifier: MIT */
/*
 * scratch.c - the fuzz targets' scratch directory: emptied after each
 * input so that one input's files do not steer the next.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fuzz_clear(const char *dir);

void fuzz_clear(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			chmod(p, 0700);
			fuzz_clear(p);
			rmdir(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
}
