/* SPDX-License-Identifier: MIT */
/*
 * check.c - after a power cut, on the host: every file the workload ever
 * acknowledged must hold one complete version (never torn, empty,
 * zero-filled or missing) at least as new as the last acknowledged one.
 *
 *     check DIR ACKLOG [MODE]
 *
 * A file that was never acknowledged may be missing, but if it is there it
 * must be complete too: a replace is atomic before it is acknowledged.
 * For the publish workload ("PUB version" lines), DIR/site must resolve to
 * one complete tree (4 parts, one version) at least as new as the last
 * acknowledged; a tree that is there unacknowledged must be complete.
 * MODE (the workload's) adds: backup, each fileN~ there must be a
 * complete version of fileN older than it, and there must be one once a
 * second version was acknowledged; symlink, DIR/link must name fileK for
 * the K of the last acknowledged run R (K = R % 8) or of the next one;
 * exchange, file0 and file1 must hold the two files created first, whole,
 * one each, in either order.  MODE "rollback" (after the host rolled the
 * published link back): DIR/site must resolve to a complete tree of an
 * acknowledged version, and every version directory left must be complete.
 * Prints "files N torn N empty N zero N missing N stale N" (N files judged)
 * and exits 1 on any violation, 2 if it could not judge (a file it cannot
 * read, bad arguments): never a verdict it did not reach.
 */
#define _POSIX_C_SOURCE 200809L   /* lstat */
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
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
	unsigned long long linked, exchanged;   /* the last "LNK R", "EXC R" */
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
		if (sscanf(line, "LNK %llu", &v) == 1)
			a->linked = v;
		if (sscanf(line, "EXC %llu", &v) == 1)
			a->exchanged = v;
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

/* One tree in DIR: four parts "version V part I", one V.  Returns V, or 0
 * and prints why (*missing: a part is not there). */
static unsigned long long tree_version(const char *dir, bool *missing)
{
	unsigned long long seen = 0;
	*missing = false;
	for (int i = 0; i < 4; i++) {
		char path[4096], text[128] = "";
		snprintf(path, sizeof path, "%s/part%d", dir, i);
		FILE *f = fopen(path, "r");
		unsigned long long ver;
		int part;
		if (!f) {
			*missing = true;
			printf("%s/part%d: missing\n", dir, i);
			return 0;
		}
		size_t n = fread(text, 1, sizeof text - 1, f);
		fclose(f);
		text[n] = '\0';
		if (sscanf(text, "version %llu part %d", &ver, &part) != 2 || part != i ||
		    (i > 0 && ver != seen)) {
			printf("%s/part%d: '%s' (not one complete version)\n", dir, i, text);
			return 0;
		}
		seen = ver;
	}
	return seen;
}

/* The tree: four parts, one version, complete, at least as new as the
 * last acknowledged publication. */
static void judge_site(const char *dir, const struct acks *a, struct verdicts *v)
{
	struct stat site;
	char sitepath[4096];
	bool missing;
	snprintf(sitepath, sizeof sitepath, "%s/site", dir);
	if (!a->ever_published && lstat(sitepath, &site) != 0)
		return;
	v->files++;
	unsigned long long seen = tree_version(sitepath, &missing);
	if (!seen) {
		missing ? v->missing++ : v->torn++;
	} else if (seen < a->published) {
		v->stale++;
		printf("site: version %llu, but %llu was acknowledged\n", seen,
		       a->published);
	}
}

/* Reads DIR/NAME whole into *buf (NULL if absent); its length, or -2 if it
 * cannot be read. */
static ssize_t slurp(const char *dir, const char *name, unsigned char **buf)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	*buf = NULL;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	struct stat st;
	ssize_t n = -2;
	if (fstat(fd, &st) == 0 && (*buf = malloc((size_t)st.st_size + 1)))
		n = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	return n < 0 ? -2 : n;
}

/* backup: fileN~ complete, older than fileN, there once version 2 was
 * acknowledged.  0, or 2 if a file cannot be read. */
static int judge_backups(const char *dir, const struct acks *a, struct verdicts *v)
{
	for (unsigned id = 0; id < NFILES; id++) {
		char name[32];
		unsigned char *cur, *bak;
		struct header hc, hb;
		snprintf(name, sizeof name, "file%u", id);
		ssize_t nc = slurp(dir, name, &cur);
		snprintf(name, sizeof name, "file%u~", id);
		ssize_t nb = slurp(dir, name, &bak);
		if (nc == -2 || nb == -2)
			return cannot_judge(name);
		if (nb >= 0 || a->version[id] >= 2)
			v->files++;
		if (nb < 0 && a->version[id] >= 2) {
			v->missing++;
			printf("%s: missing (version %llu was acknowledged)\n", name,
			       (unsigned long long)a->version[id]);
		} else if (nb >= 0 && !complete_version(bak, nb, id, &hb)) {
			v->torn++;
			printf("%s: not a complete version (%zd bytes)\n", name, nb);
		} else if (nb >= 0 && complete_version(cur, nc, id, &hc) && hb.version >= hc.version) {
			v->stale++;
			printf("%s: version %llu, not older than the file's %llu\n", name,
			       (unsigned long long)hb.version, (unsigned long long)hc.version);
		}
		free(cur);
		free(bak);
	}
	return 0;
}

/* symlink: DIR/link names the file of the last acknowledged run or of the
 * next. */
static void judge_link(const char *dir, const struct acks *a, struct verdicts *v)
{
	char path[4096], target[64];
	snprintf(path, sizeof path, "%s/link", dir);
	ssize_t n = readlink(path, target, sizeof target - 1);
	if (n < 0 && !a->linked)
		return;
	v->files++;
	if (n < 0) {
		v->missing++;
		printf("link: missing (run %llu acknowledged)\n", a->linked);
		return;
	}
	target[n] = '\0';
	unsigned k, now = (unsigned)(a->linked % NFILES), next = (unsigned)((a->linked + 1) % NFILES);
	if (sscanf(target, "file%u", &k) != 1) {
		v->torn++;
		printf("link: -> '%s'\n", target);
	} else if (k != next && (!a->linked || k != now)) {
		v->stale++;
		printf("link: -> %s, but run %llu (file%u) was acknowledged\n", target, a->linked, now);
	}
}

/* exchange: file0 and file1 hold the two version-1 files, one each. */
static int judge_exchange(const char *dir, struct verdicts *v)
{
	unsigned char *b0, *b1;
	struct header h0, h1;
	ssize_t n0 = slurp(dir, "file0", &b0), n1 = slurp(dir, "file1", &b1);
	if (n0 == -2 || n1 == -2)
		return cannot_judge("file0 or file1");
	v->files += 2;
	if (n0 < 0 || n1 < 0) {
		v->missing += (n0 < 0) + (n1 < 0);
		printf("exchange: file0 %s, file1 %s\n", n0 < 0 ? "missing" : "there",
		       n1 < 0 ? "missing" : "there");
	} else if (!(complete_version(b0, n0, 0, &h0) && complete_version(b1, n1, 1, &h1)) &&
	           !(complete_version(b0, n0, 1, &h0) && complete_version(b1, n1, 0, &h1))) {
		v->torn++;
		printf("exchange: file0 (%zd bytes) and file1 (%zd bytes) are not the two files\n", n0, n1);
	}
	free(b0);
	free(b1);
	return 0;
}

/* After the host's rollback: site is a complete acknowledged version, and
 * so is every version directory still there. */
static void judge_rolled_back(const char *dir, const struct acks *a, struct verdicts *v)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof path, "%s/site", dir);
	if (!a->ever_published && lstat(path, &st) != 0)
		return;
	bool missing;
	unsigned long long ver = tree_version(path, &missing);
	v->files++;
	if (!ver) {
		v->torn++;
		printf("site after rollback: not one complete tree\n");
	} else if (ver > a->published) {
		v->stale++;
		printf("site after rollback: version %llu, never acknowledged (last %llu)\n", ver,
		       a->published);
	}
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".awver-", 7))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		v->files++;
		if (!tree_version(path, &missing)) {
			v->torn++;
			printf("%s: a kept version that is not one complete tree\n", e->d_name);
		}
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	static struct acks a;
	struct verdicts v = { 0 };
	const char *mode = argc == 4 ? argv[3] : "";
	read_acks(argv[2], &a);
	if (!strcmp(mode, "rollback")) {
		judge_rolled_back(argv[1], &a, &v);
	} else {
		bool exchange = !strcmp(mode, "exchange");
		for (unsigned id = exchange ? 2 : 0; id < NFILES; id++)
			if (judge_file(argv[1], id, &a, &v) != 0)
				return 2;
		if (exchange && judge_exchange(argv[1], &v) != 0)
			return 2;
		if (!strcmp(mode, "backup") && judge_backups(argv[1], &a, &v) != 0)
			return 2;
		if (!strcmp(mode, "symlink"))
			judge_link(argv[1], &a, &v);
		judge_site(argv[1], &a, &v);
	}
	printf("files %d torn %d empty %d zero %d missing %d stale %d\n",
	       v.files, v.torn, v.empty, v.zero, v.missing, v.stale);
	return v.torn + v.empty + v.zero + v.missing + v.stale ? 1 : 0;
}
