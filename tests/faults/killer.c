/* SPDX-License-Identifier: MIT */
/*
 * killer.c - SIGKILL at random moments: a writer process replaces files of
 * random sizes (0 B to 8 MiB) in a loop through the library while reader
 * processes check every read; the parent kills the writer after a random
 * delay, again and again, then sweeps and checks what is left.
 *
 *     killer DIR SEED KILLS
 *
 * Every version describes itself: a header with the file's number, a
 * version number, the body's length and an FNV-1a checksum of the body.  A
 * read that is not exactly one such version (torn, empty, zero-filled,
 * missing) is a violation.  Prints one summary line for run.sh.  Built
 * with -DKILLER_UNSAFE_CONTROL it rewrites files in place instead: the
 * control run that must show violations.
 */
#define _GNU_SOURCE
#include <atomicwrite.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILES 4
#define READERS 2
#define MAX_BODY (8u << 20)

struct header {
	char magic[8];         /* "awkill1\0" */
	uint32_t file;
	uint32_t pad;
	uint64_t version;
	uint64_t length;       /* of the body */
	uint64_t checksum;     /* FNV-1a of the body */
};

struct shared {
	atomic_ulong next_version;
	atomic_ulong replaces;
	atomic_ulong reads;
	atomic_ulong bad_reads;
	atomic_int stop;
};

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Whether buf (n bytes) is one complete version of file number id. */
static int valid(const unsigned char *buf, size_t n, uint32_t id)
{
	struct header h;
	if (n < sizeof h)
		return 0;
	memcpy(&h, buf, sizeof h);
	return memcmp(h.magic, "awkill1", 8) == 0 && h.file == id &&
	       h.length == n - sizeof h &&
	       h.checksum == fnv1a(buf + sizeof h, (size_t)h.length);
}

static size_t make_version(unsigned char *buf, uint32_t id, uint64_t version,
                           uint64_t *seed)
{
	/* Mostly small files, some large: the large ones make kills land in
	 * the middle of writing. */
	size_t len = rng(seed) % 4 == 0 ? rng(seed) % MAX_BODY : rng(seed) % 65536;
	struct header h = { "awkill1", id, 0, version, len, 0 };
	unsigned char *body = buf + sizeof h;
	uint64_t x = version * 2654435761u + id;
	for (size_t i = 0; i < len; i++)
		body[i] = (unsigned char)((x = x * 6364136223846793005ull + 1) >> 56);
	h.checksum = fnv1a(body, len);
	memcpy(buf, &h, sizeof h);
	return sizeof h + len;
}

static void writer(struct shared *sh, uint64_t seed)
{
	unsigned char *buf = malloc(sizeof(struct header) + MAX_BODY);
	if (!buf)
		_exit(1);
	for (;;) {
		uint32_t id = (uint32_t)(rng(&seed) % FILES);
		char name[32];
		snprintf(name, sizeof name, "file%" PRIu32, id);
		size_t n = make_version(buf, id, atomic_fetch_add(&sh->next_version, 1), &seed);
#ifdef KILLER_UNSAFE_CONTROL
		/* The control: rewrite in place, as a shell redirect does.  The
		 * checks must catch it, or they prove nothing. */
		int fd = open(name, O_WRONLY | O_TRUNC);
		if (fd < 0 || write(fd, buf, n) != (ssize_t)n)
			_exit(2);
		close(fd);
#else
		aw_options o = { .durability = (aw_durability)(rng(&seed) % 3),
		                 .flags = rng(&seed) % 2 ? AW_NO_TMPFILE : 0 };
		aw_error e;
		if (aw_file_replace(name, buf, n, &o, &e) != AW_OK) {
			/* Say why: the parent only sees the exit status. */
			char msg[512];
			fprintf(stderr, "writer: %s\n", aw_error_format(&e, msg, sizeof msg));
			_exit(2);
		}
#endif
		atomic_fetch_add(&sh->replaces, 1);
	}
}

static void reader(struct shared *sh, uint64_t seed)
{
	unsigned char *buf = malloc(sizeof(struct header) + MAX_BODY + 1);
	if (!buf)
		_exit(1);
	while (!atomic_load(&sh->stop)) {
		uint32_t id = (uint32_t)(rng(&seed) % FILES);
		char name[32];
		snprintf(name, sizeof name, "file%" PRIu32, id);
		int fd = open(name, O_RDONLY);
		size_t n = 0;
		ssize_t r = 0;
		if (fd >= 0) {
			while ((r = read(fd, buf + n, sizeof(struct header) + MAX_BODY + 1 - n)) > 0)
				n += (size_t)r;
			close(fd);
		}
		atomic_fetch_add(&sh->reads, 1);
		if (fd < 0 || r < 0 || !valid(buf, n, id)) {
			atomic_fetch_add(&sh->bad_reads, 1);
			fprintf(stderr, "VIOLATION: read of %s: %zu bytes, not one complete version\n",
			        name, n);
		}
	}
	free(buf);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 4 || chdir(argv[1]) < 0) {
		fprintf(stderr, "usage: killer DIR SEED KILLS\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[2], NULL, 10) | 1;
	long kills = atol(argv[3]);
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
	                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	atomic_store(&sh->next_version, 1);

	/* Every file exists before the readers start. */
	unsigned char *buf = malloc(sizeof(struct header) + MAX_BODY);
	for (uint32_t id = 0; id < FILES; id++) {
		char name[32];
		snprintf(name, sizeof name, "file%" PRIu32, id);
		uint64_t s = seed + id;
		size_t n = make_version(buf, id, 0, &s);
		if (!buf || aw_file_replace(name, buf, n, NULL, NULL) != AW_OK)
			return 2;
	}
	pid_t readers[READERS];
	for (int i = 0; i < READERS; i++)
		if ((readers[i] = fork()) == 0)
			reader(sh, seed * 31 + (uint64_t)i);

	long writer_failures = 0;
	for (long k = 0; k < kills; k++) {
		pid_t w = fork();
		if (w == 0)
			writer(sh, seed + (uint64_t)k * 7919);
		struct timespec d = { 0, (long)(rng(&seed) % 30000000) };
		nanosleep(&d, NULL);
		kill(w, SIGKILL);
		int status;
		waitpid(w, &status, 0);
		if (!WIFSIGNALED(status)) {
			writer_failures++;
			fprintf(stderr, "VIOLATION: the writer ended by itself (status %d)\n", status);
		}
	}
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < READERS; i++)
		waitpid(readers[i], NULL, 0);

	/* Every file one complete version; leftovers gone after a sweep. */
	long bad_files = 0;
	for (uint32_t id = 0; id < FILES; id++) {
		char name[32];
		snprintf(name, sizeof name, "file%" PRIu32, id);
		int fd = open(name, O_RDONLY);
		size_t n = 0;
		ssize_t r;
		while (fd >= 0 && (r = read(fd, buf + n, sizeof(struct header) + MAX_BODY - n)) > 0)
			n += (size_t)r;
		if (fd >= 0)
			close(fd);
		if (fd < 0 || !valid(buf, n, id)) {
			bad_files++;
			fprintf(stderr, "VIOLATION: %s is not one complete version\n", name);
		}
	}
	aw_error e;
	int swept = aw_dir_sweep(".", 0, NULL, NULL, NULL, &e);
	int second = aw_dir_sweep(".", 0, NULL, NULL, NULL, &e);
	long left = second != 0;
	if (swept < 0 || second != 0)
		fprintf(stderr, "VIOLATION: sweep removed %d, then %d\n", swept, second);
	long violations = (long)atomic_load(&sh->bad_reads) + bad_files + left +
	                  writer_failures + (swept < 0);
	printf("random-kill: %ld kills, %lu replaces completed, %lu reads checked, "
	       "%lu bad reads, %d leftovers swept, %ld violations\n",
	       kills, atomic_load(&sh->replaces), atomic_load(&sh->reads),
	       atomic_load(&sh->bad_reads), swept, violations);
	free(buf);
	return violations ? 1 : 0;
}
