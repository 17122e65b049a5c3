/* SPDX-License-Identifier: MIT */
/*
 * replay.c - on the host: read the log a dm-log-writes target left on its
 * log disk and rebuild, from a copy of the filesystem image as it was
 * before the guest booted, what a disk with a volatile write cache could
 * hold after a power cut at a chosen flush point.
 *
 *     replay LOG info                     check the log, print its counts
 *     replay LOG dump                     one line per entry
 *     replay LOG points N                 choose up to N+1 flush points
 *     replay LOG apply IMAGE POINT ACKS   IMAGE := IMAGE + the first POINT
 *                                         entries; ACKS := what had been
 *                                         acknowledged
 *     replay LOG apply IMAGE all -        every entry (must give the final disk)
 *     replay LOG reorder IMAGE POINT SEED whole|torn ACKS
 *                                         the prefix to POINT plus a random
 *                                         subset of the writes after it (the
 *                                         last one torn): see reorder()
 *
 * The log (the kernel's Documentation/admin-guide/device-mapper/
 * log-writes.rst): a super block in the first sector (magic, version,
 * number of entries, sector size), then for each entry one sector holding
 * its header (sector, number of sectors, flags, data length; a mark's text
 * follows the header in the same sector) and, except for a discard, the
 * data written.  Sectors here are the data disk's logical sectors.  The
 * target logs a write only once a flush covering it has completed (or at
 * once, for FUA), so the entries before a flush entry are exactly what that
 * flush made durable.
 *
 * A flush point is the state after the entries up to and including a
 * barrier (a flush, or a FUA write, which is durable on its own).  Which
 * acknowledgements count there: the workload marks one after its fsync
 * returned, that is after the barrier that made it durable completed and
 * was logged.  A disk that loses every write not yet flushed holds exactly
 * those entries until the next barrier completes; so every acknowledgement
 * marked before that next barrier was given while the disk could still be
 * in this state, and all of them must be visible.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC 0x6a736677736872ull
#define VERSION 1
#define F_FLUSH 1u
#define F_FUA 2u
#define F_DISCARD 4u
#define F_MARK 8u
#define F_META 16u
#define HEADER 32 /* four little-endian u64 */

struct entry {
	uint64_t sector, nr_sectors, flags, data_len;
	uint64_t data;      /* offset of the data in the log */
	char mark[512];     /* a mark's text */
};

static const unsigned char *log_map;
static uint64_t log_size, nr_entries, sectorsize;
static struct entry *entries;
static uint64_t stop = UINT64_MAX;   /* index of the "stop" mark */

static _Noreturn void die(const char *path, const char *what)
{
	fprintf(stderr, "replay: %s: %s\n", path, what);
	exit(1);
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool barrier(uint64_t i)
{
	return entries[i].flags & (F_FLUSH | F_FUA);
}

/* Map and check the whole log; a log that does not end with the mark the
 * target writes when it is taken down is incomplete and refused. */
static void load(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path, "cannot open");
	log_size = (uint64_t)st.st_size;
	if (log_size < 512)
		die(path, "too short for a super block");
	log_map = mmap(NULL, log_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (log_map == MAP_FAILED)
		die(path, "cannot map");
	close(fd);
	if (le64(log_map) != MAGIC)
		die(path, "no log-writes super block (bad magic)");
	if (le64(log_map + 8) != VERSION)
		die(path, "unknown log version");
	nr_entries = le64(log_map + 16);
	sectorsize = (uint64_t)log_map[24] | (uint64_t)log_map[25] << 8 |
	             (uint64_t)log_map[26] << 16 | (uint64_t)log_map[27] << 24;
	if (sectorsize < 512 || sectorsize > 65536 || (sectorsize & (sectorsize - 1)))
		die(path, "implausible sector size");
	if (nr_entries > log_size / sectorsize)
		die(path, "more entries than the log can hold");
	entries = calloc(nr_entries ? nr_entries : 1, sizeof *entries);
	if (!entries)
		die(path, "out of memory");
	uint64_t pos = sectorsize;
	for (uint64_t i = 0; i < nr_entries; i++) {
		struct entry *e = &entries[i];
		if (pos + sectorsize > log_size)
			die(path, "an entry lies past the end of the log");
		const unsigned char *h = log_map + pos;
		e->sector = le64(h);
		e->nr_sectors = le64(h + 8);
		e->flags = le64(h + 16);
		e->data_len = le64(h + 24);
		if (e->flags & ~(uint64_t)(F_FLUSH | F_FUA | F_DISCARD | F_MARK | F_META))
			die(path, "an entry has unknown flags");
		if (e->flags & F_MARK) {
			if (e->data_len >= sectorsize - HEADER || e->data_len >= sizeof e->mark ||
			    e->nr_sectors)
				die(path, "a malformed mark");
			memcpy(e->mark, h + HEADER, e->data_len);
			if (!strcmp(e->mark, "stop") && stop == UINT64_MAX)
				stop = i;
		} else if (e->data_len) {
			/* Inline data outside marks: no kernel of ours writes it. */
			die(path, "an entry with inline data (unsupported)");
		}
		pos += sectorsize;
		e->data = pos;
		if (!(e->flags & F_DISCARD)) {
			if (e->nr_sectors > (log_size - pos) / sectorsize)
				die(path, "an entry's data lies past the end of the log");
			pos += e->nr_sectors * sectorsize;
		}
	}
	if (!nr_entries || !(entries[nr_entries - 1].flags & F_MARK) ||
	    strcmp(entries[nr_entries - 1].mark, "dm-log-writes-end"))
		die("%s: incomplete (no end mark: the target was not taken down, "
		    "or logging stopped, e.g. the log disk was full)", path);
}

static bool is_ack(const struct entry *e)
{
	return (e->flags & F_MARK) && (!strncmp(e->mark, "ack-", 4) || !strncmp(e->mark, "pub-", 4) ||
	                               !strncmp(e->mark, "lnk-", 4) || !strncmp(e->mark, "exc-", 4));
}

static void info(void)
{
	uint64_t writes = 0, sectors = 0, flushes = 0, fua = 0, discards = 0, marks = 0, acks = 0;
	for (uint64_t i = 0; i < nr_entries; i++) {
		const struct entry *e = &entries[i];
		flushes += !!(e->flags & F_FLUSH);
		fua += !!(e->flags & F_FUA);
		discards += !!(e->flags & F_DISCARD);
		marks += !!(e->flags & F_MARK);
		acks += is_ack(e);
		if (!(e->flags & (F_MARK | F_DISCARD)) && e->nr_sectors) {
			writes++;
			sectors += e->nr_sectors;
		}
	}
	printf("entries %llu writes %llu (%llu KiB) flushes %llu fua %llu discards %llu "
	       "marks %llu acks %llu stop %lld\n",
	       (unsigned long long)nr_entries, (unsigned long long)writes,
	       (unsigned long long)(sectors * sectorsize / 1024), (unsigned long long)flushes,
	       (unsigned long long)fua, (unsigned long long)discards, (unsigned long long)marks,
	       (unsigned long long)acks, stop == UINT64_MAX ? -1LL : (long long)stop);
}

static void dump(void)
{
	for (uint64_t i = 0; i < nr_entries; i++) {
		const struct entry *e = &entries[i];
		printf("%llu%s%s%s%s%s", (unsigned long long)i, e->flags & F_FLUSH ? " flush" : "",
		       e->flags & F_FUA ? " fua" : "", e->flags & F_DISCARD ? " discard" : "",
		       e->flags & F_META ? " meta" : "", e->flags & F_MARK ? " mark " : "");
		if (e->flags & F_MARK)
			printf("%s\n", e->mark);
		else
			printf(" sector %llu +%llu\n", (unsigned long long)e->sector,
			       (unsigned long long)e->nr_sectors);
	}
}

/* The index of the first barrier (flush or FUA write) at or after I. */
static uint64_t next_barrier(uint64_t i)
{
	while (i < nr_entries && !barrier(i))
		i++;
	return i;
}


static bool is_write(const struct entry *e)
{
	return !(e->flags & F_MARK) && e->nr_sectors;
}

/* The writes after POINT that no barrier covers yet (the reorder window). */
static uint64_t window(uint64_t point)
{
	uint64_t n = 0;
	for (uint64_t i = point, q = next_barrier(point); i < q; i++)
		n += is_write(&entries[i]);
	return n;
}

static uint64_t pending_at(uint64_t point)
{
	uint64_t pending = 0;
	for (uint64_t i = point, q = next_barrier(point); i < q; i++)
		pending += is_ack(&entries[i]);
	return pending;
}

/* Pick up to N of the K sorted values in FROM, the middles of N equal
 * slices, into TO at *T. */
static void spread(const uint64_t *from, uint64_t k, uint64_t n, uint64_t *to, uint64_t *t)
{
	for (uint64_t j = 0; k && j < n; j++)
		to[(*t)++] = from[(2 * j + 1) * k / (2 * n)];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* A point is a number of entries applied: 0 (nothing reached the disk yet)
 * or just past a barrier, a flush or a FUA write.  Both are needed: a
 * journal commit sent as flush+FUA reaches the target as an empty flush
 * followed by the commit block written FUA, and only the state after the
 * commit block holds the transaction.  Candidates are the points while the
 * workload ran (before its "stop" mark).  Chosen: half of N spread over the
 * points where an acknowledgement was given before the next barrier (only
 * there can a lost acknowledgement show; with several barriers per replace
 * they are a minority), the other half spread over all points, and the
 * last.  Printed in order as "POINT PENDING WINDOW", PENDING the
 * acknowledgements given while the disk could still be in that state,
 * WINDOW the writes after it no barrier covers yet (what reorder() picks
 * from). */
static void points(uint64_t n)
{
	uint64_t k = 0, ka = 0, t = 0;
	uint64_t *cand = malloc((nr_entries + 1) * sizeof *cand);
	uint64_t *acked = malloc((nr_entries + 1) * sizeof *acked);
	uint64_t *chosen = malloc((n + 2) * sizeof *chosen);
	if (!cand || !acked || !chosen)
		die("%s", "out of memory");
	for (uint64_t i = 0; i <= nr_entries && i <= stop; i++) {
		if (i > 0 && !barrier(i - 1))
			continue;
		cand[k++] = i;
		if (pending_at(i))
			acked[ka++] = i;
	}
	spread(acked, ka, n / 2, chosen, &t);
	spread(cand, k, n - n / 2 + (ka ? 0 : n / 2), chosen, &t);
	chosen[t++] = cand[k - 1];
	qsort(chosen, t, sizeof *chosen, cmp_u64);
	for (uint64_t j = 0; j < t; j++)
		if (j == 0 || chosen[j] != chosen[j - 1])
			printf("%llu %llu %llu\n", (unsigned long long)chosen[j],
			       (unsigned long long)pending_at(chosen[j]),
			       (unsigned long long)window(chosen[j]));
	free(cand);
	free(acked);
	free(chosen);
}

/* A xorshift generator: the reorder states repeat from their seed. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Write entry E to FD, its first LEN bytes only (a torn write). */
static void put(int fd, const struct entry *e, uint64_t image_sectors, off_t len,
                const char *image)
{
	if (e->sector > image_sectors || e->nr_sectors > image_sectors - e->sector)
		die(image, "an entry writes past the end of the image");
	off_t off = (off_t)(e->sector * sectorsize);
	if (e->flags & F_DISCARD) {
		/* A discarded range reads back as zeros here (the guest's
		 * disk punches holes too), so the final state can be compared. */
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) < 0)
			die(image, "cannot punch a discarded range");
		return;
	}
	if (pwrite(fd, log_map + e->data, (size_t)len, off) != len)
		die(image, "short write");
}

/* Apply the first N entries to IMAGE; write to ACKPATH (unless "-") every
 * acknowledgement marked before the next barrier. */
static void apply(const char *image, uint64_t n, const char *ackpath)
{
	int fd = open(image, O_WRONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(image, "cannot open");
	uint64_t image_sectors = (uint64_t)st.st_size / sectorsize;
	for (uint64_t i = 0; i < n; i++)
		if (is_write(&entries[i]))
			put(fd, &entries[i], image_sectors,
			    (off_t)(entries[i].nr_sectors * sectorsize), image);
	if (close(fd) < 0)
		die(image, "cannot write");
	if (!strcmp(ackpath, "-"))
		return;
	FILE *acks = fopen(ackpath, "w");
	if (!acks)
		die(ackpath, "cannot create");
	for (uint64_t i = 0, q = next_barrier(n); i < q; i++) {
		const struct entry *e = &entries[i];
		unsigned id;
		unsigned long long v;
		if (!is_ack(e))
			continue;
		/* In the format check.c reads from the serial port. */
		if (sscanf(e->mark, "ack-%u-%llu", &id, &v) == 2)
			fprintf(acks, "ACK %u %llu\n", id, v);
		else if (sscanf(e->mark, "pub-%llu", &v) == 1)
			fprintf(acks, "PUB %llu\n", v);
		else if (sscanf(e->mark, "lnk-%llu", &v) == 1)
			fprintf(acks, "LNK %llu\n", v);
		else if (sscanf(e->mark, "exc-%llu", &v) == 1)
			fprintf(acks, "EXC %llu\n", v);
	}
	if (fclose(acks) != 0)
		die(ackpath, "cannot write");
}

/*
 * The reorder model: IMAGE already holds the first POINT entries (a flush
 * point); a volatile cache may also have kept any subset of the writes
 * completed after it, up to the next barrier, that barrier's FUA write
 * excluded (until it completes nothing after POINT is sure).  Keep each
 * with probability 1/2 (from SEED, so a state can be rebuilt); with TORN,
 * the last write kept is cut at a random byte, mid-sector unless it falls
 * on a boundary: part of a sector reached the medium.  Overlapping writes
 * are applied in log order (a later one wins; the cache reordering two
 * writes to one sector is not built).  Prints what was kept.
 */
static void reorder(const char *image, uint64_t point, uint64_t seed, bool torn)
{
	uint64_t q = next_barrier(point), n = 0, kept = 0, last = UINT64_MAX;
	uint64_t rng = seed * 2654435761u + 1;
	bool *keep = calloc(q - point + 1, sizeof *keep);
	if (!keep)
		die("%s", "out of memory");
	for (uint64_t i = point; i < q; i++) {
		if (!is_write(&entries[i]))
			continue;
		n++;
		keep[i - point] = rng_next(&rng) & 1;
		if (keep[i - point]) {
			kept++;
			last = i;
		}
	}
	/* An empty subset is the prefix, already checked: keep one. */
	if (n && !kept) {
		for (uint64_t i = point, j = rng_next(&rng) % n; i < q; i++)
			if (is_write(&entries[i]) && !j--) {
				keep[i - point] = true, kept = 1, last = i;
				break;
			}
	}
	int fd = open(image, O_WRONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(image, "cannot open");
	uint64_t image_sectors = (uint64_t)st.st_size / sectorsize;
	off_t cut = 0;
	for (uint64_t i = point; i < q; i++) {
		if (!keep[i - point])
			continue;
		off_t len = (off_t)(entries[i].nr_sectors * sectorsize);
		if (torn && i == last && !(entries[i].flags & F_DISCARD) && len > 1)
			len = cut = 1 + (off_t)(rng_next(&rng) % (uint64_t)(len - 1));
		put(fd, &entries[i], image_sectors, len, image);
	}
	if (close(fd) < 0)
		die(image, "cannot write");
	printf("kept %llu of %llu writes", (unsigned long long)kept, (unsigned long long)n);
	if (cut)
		printf(", the last torn at byte %lld of %llu", (long long)cut,
		       (unsigned long long)(entries[last].nr_sectors * sectorsize));
	printf("\n");
	free(keep);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[2], "info")) {
		load(argv[1]);
		info();
	} else if (argc == 3 && !strcmp(argv[2], "dump")) {
		load(argv[1]);
		dump();
	} else if (argc == 4 && !strcmp(argv[2], "points")) {
		load(argv[1]);
		points(strtoull(argv[3], NULL, 10));
	} else if ((argc == 6 && !strcmp(argv[2], "apply")) ||
	           (argc == 8 && !strcmp(argv[2], "reorder"))) {
		load(argv[1]);
		char *end = "";
		uint64_t n = strcmp(argv[4], "all") ? strtoull(argv[4], &end, 10) : nr_entries;
		if (*end || n > nr_entries || (n > 0 && n < nr_entries && !barrier(n - 1)))
			die("%s: not a flush point of the log", argv[4]);
		apply(argv[3], n, argv[argc - 1]);
		if (argc == 8)
			reorder(argv[3], n, strtoull(argv[5], NULL, 10), !strcmp(argv[6], "torn"));
	} else {
		fprintf(stderr, "usage: replay LOG info | dump | points N | apply IMAGE POINT|all ACKS|- |\n"
		                "       reorder IMAGE POINT SEED whole|torn ACKS\n");
		return 2;
	}
	return 0;
}
