/* SPDX-License-Identifier: MIT */
/*
 * check.c - after a power cut, on the host: every file the workload ever
 * acknowledged must hold one complete version (never torn, empty,
 * zero-filled or missing) at least as new as the last acknowledged one.
 *
 *     check DIR ACKLOG
 *
 * A file that was never acknowledged may be missing, but if it is there it
 * must be complete too: a replace is atomic before it is acknowledged.
 * For the publish workload ("PUB version" lines), DIR/site must resolve to
 * one complete tree (4 parts, one version) at least as new as the last
 * acknowledged; a tree that is there unacknowledged must be complete.
 * Prints "files N torn N empty N zero N missing N stale N" (N files judged)
 * and exits 1 on any violation, 2 if it could not judge (a file it cannot
 * read, bad arguments): never a verdict it did not reach.
 */
#define _POSIX_C_SOURCE 200809L   /* lstat */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "version_format.h"

static int cannot_judge(const char *path)
{
	fprintf(stderr, "check: cannot read %s\n", path);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	uint64_t acked[NFILES] = { 0 };
	int ever[NFILES] = { 0 };
	unsigned long long published = 0;
	int ever_published = 0;
	FILE *log = fopen(argv[2], "r");
	char line[256];
	while (log && fgets(line, sizeof line, log)) {
		unsigned id;
		unsigned long long v;
		/* A line cut short by the kill is not an acknowledgement. */
		if (strchr(line, '\n') && sscanf(line, "ACK %u %llu", &id, &v) == 2 && id < NFILES) {
			acked[id] = v;
			ever[id] = 1;
		}
		if (strchr(line, '\n') && sscanf(line, "PUB %llu", &v) == 1) {
			published = v;
			ever_published = 1;
		}
	}
	int torn = 0, empty = 0, zero = 0, missing = 0, stale = 0, files = 0;
	for (unsigned id = 0; id < NFILES; id++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/file%u", argv[1], id);
		int fd = open(path, O_RDONLY);
		if (fd < 0 && !ever[id])
			continue;
		files++;
		if (fd < 0) {
			missing++;
			printf("file%u: missing (acked version %llu)\n", id, (unsigned long long)acked[id]);
			continue;
		}
		struct stat st;
		unsigned char *buf = NULL;
		if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)))
			return cannot_judge(path);
		ssize_t n = read(fd, buf, (size_t)st.st_size);
		close(fd);
		if (n < 0)
			return cannot_judge(path);
		struct header h;
		size_t zeros = 0;
		for (ssize_t i = 0; i < n; i++)
			zeros += buf[i] == 0;
		if (n == 0) {
			empty++;
			printf("file%u: empty\n", id);
		} else if ((size_t)n < sizeof h || (memcpy(&h, buf, sizeof h), 0) ||
		           memcmp(h.magic, VERSION_MAGIC, 8) != 0 || h.file != id ||
		           h.length != (uint64_t)n - sizeof h ||
		           h.checksum != fnv1a(buf + sizeof h, (size_t)h.length)) {
			if (zeros == (size_t)n) {
				zero++;
				printf("file%u: zero-filled (%zd bytes)\n", id, n);
			} else {
				torn++;
				printf("file%u: torn (%zd bytes)\n", id, n);
			}
		} else if (h.version < acked[id]) {
			stale++;
			printf("file%u: version %llu, but %llu was acknowledged\n", id,
			       (unsigned long long)h.version, (unsigned long long)acked[id]);
		}
		free(buf);
	}
	struct stat site;
	char sitepath[4096];
	snprintf(sitepath, sizeof sitepath, "%s/site", argv[1]);
	if (ever_published || lstat(sitepath, &site) == 0) {
		/* The tree: four parts, one version, complete. */
		unsigned long long seen = 0;
		files++;
		for (int i = 0; i < 4; i++) {
			char path[4096], text[128] = "";
			snprintf(path, sizeof path, "%s/site/part%d", argv[1], i);
			FILE *f = fopen(path, "r");
			unsigned long long v;
			int part;
			if (!f) {
				missing++;
				printf("site/part%d: missing\n", i);
				break;
			}
			size_t n = fread(text, 1, sizeof text - 1, f);
			fclose(f);
			text[n] = '\0';
			if (sscanf(text, "version %llu part %d", &v, &part) != 2 || part != i ||
			    (i > 0 && v != seen)) {
				torn++;
				printf("site/part%d: '%s' (not one complete version)\n", i, text);
				break;
			}
			seen = v;
		}
		if (seen && seen < published) {
			stale++;
			printf("site: version %llu, but %llu was acknowledged\n", seen, published);
		}
	}
	printf("files %d torn %d empty %d zero %d missing %d stale %d\n",
	       files, torn, empty, zero, missing, stale);
	return torn + empty + zero + missing + stale ? 1 : 0;
}
