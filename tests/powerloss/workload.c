/* SPDX-License-Identifier: MIT */
/*
 * workload.c - the writer inside the power-loss VM.  Replaces NFILES files
 * over and over, each version describing itself (file, version, length,
 * checksum), and after each replace that returned success writes
 * "ACK file version" to the second serial port, so that the host knows
 * what was acknowledged when it cuts the power.
 *
 *     workload DIR MODE SEED
 *
 * MODE "publish" instead publishes, over and over, a tree of 4 files that
 * all carry the version number to the link "site" (aw_link_publish, full
 * durability) and acknowledges "PUB version".
 *
 * Otherwise MODE is our library at a durability level (full, file, none) or one of
 * the deliberately unsafe controls the harness must catch: nofsync (write
 * a temporary file and rename it, no fsync at all), nodirsync (fsync the
 * file, rename, no directory fsync), inplace (truncate and rewrite the
 * file itself, then fsync; with AW_PAUSE_MS=n in the environment it waits
 * n ms between the truncate and the write, past a journal commit),
 * overwrite (rewrite the file's bytes in place without truncating, cut it
 * to length, fsync: a disk that keeps part of the writes tears it).
 * MODE keep replaces with AW_KEEP_INODE (an XFS made with -i exchange=1),
 * keepnone does so at durability none, its unsafe control; keepsync at
 * full durability with the temporary fsynced before the commit; keepold
 * (a control) exchanges as the library did before round 4 (keep_old()).
 *
 *     workload DIR MODE SEED DMNAME MS
 *
 * The dm-log-writes mode: DIR lives on the log-writes device DMNAME; after
 * each acknowledgement the same event also goes into the log as a mark
 * ("ack-FILE-VERSION", "pub-VERSION"), placing it among the disk's writes.
 * After MS milliseconds the workload marks "stop" and exits, so that the
 * guest can take the device down cleanly and the log is complete.
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include "dmctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/xfs_exchange.h"

#include "version_format.h"
#include "workload.h"

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static unsigned pause_ms;   /* AW_PAUSE_MS: inplace's pause after the truncate */

static void pause_for(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) < 0)
		;
}

static int unsafe(const char *mode, const char *name, const void *buf, size_t n)
{
	if (strcmp(mode, "inplace") == 0 || strcmp(mode, "overwrite") == 0) {
		bool trunc = mode[0] == 'i';
		bool existed = access(name, F_OK) == 0;
		int fd = open(name, O_WRONLY | O_CREAT | (trunc ? O_TRUNC : 0), 0644);
		/* The truncate alone, for a journal commit to catch. */
		if (fd >= 0 && trunc && existed && pause_ms)
			pause_for(pause_ms);
		int r = fd < 0 || write_all(fd, buf, n) < 0 || ftruncate(fd, (off_t)n) < 0 ||
		        fsync(fd) < 0 ? -1 : 0;
		if (fd >= 0)
			close(fd);
		return r;
	}
	char tmp[64];
	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_all(fd, buf, n) < 0)
		return -1;
	if (strcmp(mode, "nodirsync") == 0 && fsync(fd) < 0)
		return -1;
	close(fd);
	return rename(tmp, name);
}

static const char *dmname;   /* the log-writes device, if any */
static uint64_t stop_at;     /* CLOCK_MONOTONIC ms at which to stop */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Report a success: LINE on the serial port, then MARK into the log (in
 * this order: the mark must not claim more than the host was told). */
int acknowledge(int ack, const char *line, const char *mark)
{
	if (write_all(ack, line, strlen(line)) < 0)
		return -1;
	if (!dmname)
		return 0;
	char msg[80];
	snprintf(msg, sizeof msg, "mark %s", mark);
	return dm_message(dmname, msg);
}

/* In the log mode: time is up; the last mark says so. */
bool stopping(void)
{
	if (!dmname || now_ms() < stop_at)
		return false;
	dm_message(dmname, "mark stop");
	return true;
}

int fill_tree(int dirfd, const char *path, void *ctx)
{
	(void)path;
	uint64_t v = *(uint64_t *)ctx;
	for (int i = 0; i < 4; i++) {
		char name[16], text[64];
		snprintf(name, sizeof name, "part%d", i);
		int n = snprintf(text, sizeof text, "version %llu part %d\n", (unsigned long long)v, i);
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write_all(fd, text, (size_t)n) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

static int publish_loop(int ack)
{
	/* Two older versions kept: what the host's rollback after the cut
	 * goes back to (inspect.sh). */
	aw_publish_options po = AW_PUBLISH_OPTIONS_INIT;
	po.keep = 2;
	for (uint64_t v = 1; !stopping(); v++) {
		if (aw_link_publish("site", fill_tree, &v, &po, NULL) != AW_OK)
			continue;
		char line[64], mark[32];
		snprintf(line, sizeof line, "PUB %llu\n", (unsigned long long)v);
		snprintf(mark, sizeof mark, "pub-%llu", (unsigned long long)v);
		if (acknowledge(ack, line, mark) < 0)
			return 4;
	}
	return 0;
}

/* Fill buf with version V of file ID (header and body, its length drawn
 * from *seed); returns the whole length. */
size_t make_version(unsigned char *buf, uint32_t id, uint64_t v, uint64_t *seed)
{
	*seed ^= *seed << 13; *seed ^= *seed >> 7; *seed ^= *seed << 17;
	size_t len = *seed % 8 == 0 ? *seed % MAX_BODY : *seed % 8192;
	struct header h = { VERSION_MAGIC, id, 0, v, len, 0 };
	unsigned char *body = buf + sizeof h;
	for (size_t i = 0; i < len; i++)
		body[i] = (unsigned char)(v * 131 + id * 7 + i);
	h.checksum = fnv1a(body, len);
	memcpy(buf, &h, sizeof h);
	return sizeof h + len;
}

int ack_file(int ack, uint32_t id, uint64_t v)
{
	char line[64], mark[48];
	snprintf(line, sizeof line, "ACK %u %llu\n", id, (unsigned long long)v);
	snprintf(mark, sizeof mark, "ack-%u-%llu", id, (unsigned long long)v);
	return acknowledge(ack, line, mark);
}

/* keep, keepnone: the first version of each file made by a full replace
 * (there is no inode to keep yet), every later one exchanged into the same
 * inode (AW_KEEP_INODE) at full durability or, the control, at none: no
 * flush at all, so a cut loses acknowledged versions.  A filesystem or
 * kernel that cannot exchange ends the run with GUEST-ERROR on the console
 * rather than acknowledging nothing. */
static int keep_replace(const char *name, const void *buf, size_t n, bool first, aw_durability d,
                        bool sync_temp)
{
	aw_options o = { .durability = first ? AW_DURABILITY_FULL : d,
	                 .flags = first ? 0 : AW_KEEP_INODE };
	aw_error err;
	aw_file *f;
	if (sync_temp && !first) {
		/* keepsync: the temporary fsynced by the caller before the
		 * commit's exchange (a diagnostic of the keep workload). */
		if (aw_file_begin(&f, name, &o, &err) < 0)
			goto failed;
		if (aw_file_write(f, buf, n, &err) < 0 || fsync(aw_file_fd(f)) < 0) {
			aw_file_discard(f);
			return -1;
		}
		if (aw_file_commit(f, &err) == AW_OK)
			return 0;
		goto failed;
	}
	if (aw_file_replace(name, buf, n, &o, &err) == AW_OK)
		return 0;
failed:
	if (!first && err.err == EOPNOTSUPP) {
		printf("GUEST-ERROR: no exchange-range here (%s)\n", strerror(err.err));
		fflush(stdout);
		exit(5);
	}
	return -1;
}

/* keepold, a control: the exchange as the library made it before round 4
 * (exchange-range with DSYNC into the target as it is, then the target's
 * fsync), without the library; XFS's log recovery tears a longer version
 * cut between the two (TESTING.md, round 4).  0, or -1 on failure. */
static int keep_old(const char *name, const void *buf, size_t n)
{
	int t = open(name, O_RDWR | O_CLOEXEC);
	int tmp = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
	struct xfs_exchange_range x = { .file1_fd = tmp,
	        .flags = XFS_EXCHANGE_RANGE_TO_EOF | XFS_EXCHANGE_RANGE_DSYNC };
	int r = t < 0 || tmp < 0 || write_all(tmp, buf, n) < 0 ||
	        ioctl(t, XFS_IOC_EXCHANGE_RANGE, &x) < 0 || fsync(t) < 0 ? -1 : 0;
	if (t >= 0)
		close(t);
	if (tmp >= 0)
		close(tmp);
	return r;
}

static int file_loop(int ack, const char *mode, uint64_t seed)
{
	aw_options o = { .durability = strcmp(mode, "file") == 0 ? AW_DURABILITY_FILE :
	                               strcmp(mode, "none") == 0 ? AW_DURABILITY_NONE :
	                               AW_DURABILITY_FULL };
	bool ours = !strcmp(mode, "full") || !strcmp(mode, "file") || !strcmp(mode, "none");
	bool keep = !strncmp(mode, "keep", 4);
	aw_durability kd = !strcmp(mode, "keepnone") ? AW_DURABILITY_NONE : AW_DURABILITY_FULL;
	unsigned char *buf = malloc(sizeof(struct header) + MAX_BODY);
	uint64_t version[NFILES] = { 0 };
	if (!buf)
		return 3;
	for (uint64_t round = 0; !stopping(); round++) {
		uint32_t id = (uint32_t)(round % NFILES);
		size_t n = make_version(buf, id, ++version[id], &seed);
		char name[32];
		snprintf(name, sizeof name, "file%u", id);
		int r = keep && version[id] > 1 && !strcmp(mode, "keepold") ? keep_old(name, buf, n)
		        : keep ? keep_replace(name, buf, n, version[id] == 1, kd,
		                                   !strcmp(mode, "keepsync"))
		        : ours ? (aw_file_replace(name, buf, n, &o, NULL) == AW_OK ? 0 : -1)
		             : unsafe(mode, name, buf, n);
		if (r == 0 && ack_file(ack, id, version[id]) < 0)
			return 4;
	}
	return 0;
}

/* MODE "probe" (the guest's check before an inplace-run boot): rewrites
 * the file "probe" the inplace way and prints "probe replaced" if that
 * gave it a new inode (the preload made the write a replacement), "probe
 * in-place" if not; no acknowledgement. */
static int probe(void)
{
	struct stat a, b;
	if (unsafe("inplace", "probe", "1", 1) < 0 || stat("probe", &a) < 0 ||
	    unsafe("inplace", "probe", "2", 1) < 0 || stat("probe", &b) < 0)
		return 3;
	printf("probe %s\n", a.st_ino != b.st_ino ? "replaced" : "in-place");
	return unlink("probe") < 0 ? 3 : 0;
}

int main(int argc, char **argv)
{
	if ((argc != 4 && argc != 6) || chdir(argv[1]) < 0)
		return 2;
	if (argc == 6) {
		dmname = argv[4];
		stop_at = now_ms() + strtoull(argv[5], NULL, 10);
	}
	const char *mode = argv[2];
	if (getenv("AW_PAUSE_MS"))
		pause_ms = (unsigned)strtoul(getenv("AW_PAUSE_MS"), NULL, 10);
	uint64_t seed = strtoull(argv[3], NULL, 10) | 1;
	if (strcmp(mode, "probe") == 0)
		return probe();
	int ack = open("/dev/ttyS1", O_WRONLY | O_NOCTTY);
	if (ack < 0)
		return 3;
	if (strcmp(mode, "publish") == 0)
		return publish_loop(ack);
	int r = cli_loop(ack, mode, seed);
	return r >= 0 ? r : file_loop(ack, mode, seed);
}
