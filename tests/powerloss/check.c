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

/* What the workload acknowledged, from its log. */
struct acks {
	uint64_t version[NFILES];
	int ever[NFILES];
	unsigned long long published;
	int ever_published;
};

struct verdicts {
	int files, torn, empty, zero, missing, stale;
};

static void read_acks(const char *path, struct acks *a)
{
	FILE *log = fopen(path, "r");
	char line[256];
	while (log && fgets(line, sizeof line, log)) {
		unsigned id;
		unsigned long long v;
		/* A line cut short by the kill is not an acknowledgement. */
		if (!strchr(line, '\n'))
			continue;
		if (sscanf(line, "ACK %u %llu", &id, &v) == 2 && id < NFILES) {
			a->version[id] = v;
			a->ever[id] = 1;
		}
		if (sscanf(line, "PUB %llu", &v) == 1) {
			a->published = v;
			a->ever_published = 1;
		}
	}
	if (log)
		fclose(log);
}

/* Whether buf (n bytes) is one complete version of file id; *h its header. */
static int complete_version(const unsigned char *buf, ssize_t n, unsigned id,
                            struct header *h)
{
	if ((size_t)n < sizeof *h)
		return 0;
	memcpy(h, buf, sizeof *h);
	return memcmp(h->magic, VERSION_MAGIC, 8) == 0 && h->file == id &&
	       h->length == (uint64_t)n - sizeof *h &&
	       h->checksum == fnv1a(buf + sizeof *h, (size_t)h->length);
}

/* Judges DIR/file<id>: 0, or 2 if it cannot be read. */
static int judge_file(const char *dir, unsigned id, const struct acks *a,
                      struct verdicts *v)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/file%u", dir, id);
	int fd = open(path, O_RDONLY);
	if (fd < 0 && !a->ever[id])
		return 0;
	v->files++;
	if (fd < 0) {
		v->missing++;
		printf("file%u: missing (acked version %llu)\n", id,
		       (unsigned long long)a->version[id]);
		return 0;
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
		v->empty++;
		printf("file%u: empty\n", id);
	} else if (!complete_version(buf, n, id, &h)) {
		if (zeros == (size_t)n) {
			v->zero++;
			printf("file%u: zero-filled (%zd bytes)\n", id, n);
		} else {
			v->torn++;
			printf("file%u: torn (%zd bytes)\n", id, n);
		}
	} else if (h.version < a->version[id]) {
		v->stale++;
		printf("file%u: version %llu, but %llu was acknowledged\n", id,
		       (unsigned long long)h.version,
		       (unsigned long long)a->version[id]);
	}
	free(buf);
	return 0;
}

/* The tree: four parts, one version, complete, at least as new as the
 * last acknowledged publication. */
static void judge_site(const char *dir, const struct acks *a, struct verdicts *v)
{
	struct stat site;
	char sitepath[4096];
	snprintf(sitepath, sizeof sitepath, "%s/site", dir);
	if (!a->ever_published && lstat(sitepath, &site) != 0)
		return;
	unsigned long long seen = 0;
	v->files++;
	for (int i = 0; i < 4; i++) {
		char path[4096], text[128] = "";
		snprintf(path, sizeof path, "%s/site/part%d", dir, i);
		FILE *f = fopen(path, "r");
		unsigned long long ver;
		int part;
		if (!f) {
			v->missing++;
			printf("site/part%d: missing\n", i);
			return;
		}
		size_t n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[n] = '\0';
		if (sscanf(text, "version %llu part %d", &ver, &part) != 2 ||
		    part != i || (i > 0 && ver != seen)) {
			v->torn++;
			printf("site/part%d: '%s' (not one complete version)\n", i, text);
			return;
		}
		seen = ver;
	}
	if (seen && seen < a->published) {
		v->stale++;
		printf("site: version %llu, but %llu was acknowledged\n", seen,
		       a->published);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	static struct acks a;
	struct verdicts v = { 0 };
	read_acks(argv[2], &a);
	for (unsigned id = 0; id < NFILES; id++)
		if (judge_file(argv[1], id, &a, &v) != 0)
			return 2;
	judge_site(argv[1], &a, &v);
	printf("files %d torn %d empty %d zero %d missing %d stale %d\n",
	       v.files, v.torn, v.empty, v.zero, v.missing, v.stale);
	return v.torn + v.empty + v.zero + v.missing + v.stale ? 1 : 0;
}
