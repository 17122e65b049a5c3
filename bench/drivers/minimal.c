/* SPDX-License-Identifier: MIT */
/*
 * minimal.c - the minimal atomic-replace protocol, as a reference: the
 * fewest system calls that are still correct.  Durable:
 *     open(tmp, O_CREAT|O_EXCL) write fsync close rename
 *     open(dir) fsync(dir) close
 * Not durable: the same without the two fsyncs and the directory.
 * No metadata is kept, no lock is taken: it is the floor, not a library.
 *
 * "plain" mode (large only) is the non-atomic floor: write and fsync the
 * target in place (O_TRUNC), the bytes with no protocol at all.
 *
 * "tmpfile" (small only) is the same protocol with an unnamed temporary
 * file, the floor of what the library does (issue 17's non-durable goal):
 *     open(dir, O_TMPFILE) write [fsync] linkat(fd, "", tmp) close rename
 *     [open(dir) fsync(dir) close]
 * linkat by descriptor (AT_EMPTY_PATH: root, or Linux 6.10+), else through
 * /proc/self/fd.  Still a fixed temporary name, no lock, nothing kept.
 *
 * "tmpfile-linked" is "tmpfile" in the library's order: linkat before
 * the fsync (the library names the file first so that btrfs honours the
 * fsync), to tell what that order costs on its own (bench/SYSCALLS.md).
 *
 * "tmpfile-linked,WHAT,..." adds the library's other differences from
 * this floor, one or more at a time, to find which one costs what
 * (bench/SYSCALLS.md, round 4: the 4-8 % on the disks):
 *     look      the old file's fstatat, listxattr and geteuid first
 *     ident     the temporary's fstat and an 8-byte getrandom
 *     fstat     ident's fstat alone
 *     random    ident's getrandom alone
 *     lock      an flock of the temporary
 *     longname  a temporary name as long as the library's
 *     lateclose the temporary closed after the directory's fsync
 *     keepdir   one directory descriptor for the whole run, fsynced
 */
#include "driver.h"
#include <libgen.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>

enum extra {
	EXTRA_LOOK = 1, EXTRA_FSTAT = 2, EXTRA_LOCK = 4, EXTRA_LONGNAME = 8,
	EXTRA_LATECLOSE = 16, EXTRA_KEEPDIR = 32, EXTRA_RANDOM = 64,
	EXTRA_IDENT = EXTRA_FSTAT | EXTRA_RANDOM,
};

/* The EXTRA_ flags named in a comma-separated list; exits on a name it
 * does not know, so that a typo cannot measure the floor by mistake. */
static unsigned parse_extras(const char *list)
{
	static const struct { const char *name; unsigned flag; } known[] = {
		{ "look", EXTRA_LOOK }, { "ident", EXTRA_IDENT },
		{ "fstat", EXTRA_FSTAT }, { "random", EXTRA_RANDOM },
		{ "lock", EXTRA_LOCK }, { "longname", EXTRA_LONGNAME },
		{ "lateclose", EXTRA_LATECLOSE }, { "keepdir", EXTRA_KEEPDIR },
	};
	unsigned flags = 0;
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		bench_die("strdup", list);
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < sizeof known / sizeof known[0] && strcmp(w, known[i].name) != 0)
			i++;
		if (i == sizeof known / sizeof known[0])
			bench_die("unknown extra", w);
		flags |= known[i].flag;
	}
	free(copy);
	return flags;
}

/* Which temporary file: named, unnamed and named after its fsync, or
 * unnamed and named before it (the library's order). */
enum temp_kind { TEMP_NAMED, TEMP_UNNAMED, TEMP_UNNAMED_LINKED_FIRST };


/* An unnamed file in dir, or a new file tmp. */
static int create(const char *dir, const char *tmp, enum temp_kind tmpfile)
{
	int fd = tmpfile ? open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644)
	                 : open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die("open", tmp);
	return fd;
}

/* The unnamed file fd linked as tmp. */
static void name(int fd, const char *tmp)
{
	if (linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) == 0)
		return;
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
		bench_die("linkat", tmp);
}

/* The directory's descriptor for EXTRA_KEEPDIR: opened once. */
static int kept_dir = -1;

static void replace(const char *dir, const char *path, const char *buf,
                    size_t len, int durable, int stream, enum temp_kind tmpfile,
                    unsigned extras, long i)
{
	char tmp[4200];
	if (extras & EXTRA_LONGNAME) {
		/* The library's shape: .awtmp-<16 hex>-<8 random>-<target>. */
		char *copy = strdup(path);
		if (!copy)
			bench_die("strdup", path);
		snprintf(tmp, sizeof tmp, "%s/.awtmp-%016lx-iyBF8FhA-%s", dir,
		         (unsigned long)i, basename(copy));
		free(copy);
	} else {
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
	}
	if (extras & EXTRA_LOOK) {
		struct stat st;
		if (lstat(path, &st) < 0 || llistxattr(path, NULL, 0) < 0)
			bench_die("look", path);
		(void)geteuid();
	}
	int fd = create(dir, tmp, tmpfile);
	size_t chunk = stream ? CHUNK : len;
	for (size_t done = 0; done < len;) {
		size_t want = len - done < chunk ? len - done : chunk;
		ssize_t n = write(fd, stream ? buf : buf + done, want);
		if (n <= 0)
			bench_die("write", tmp);
		done += (size_t)n;
	}
	if (extras & EXTRA_LOCK && flock(fd, LOCK_EX | LOCK_NB) < 0)
		bench_die("flock", tmp);
	struct stat st;
	unsigned char random[8];
	if (extras & EXTRA_FSTAT && fstat(fd, &st) < 0)
		bench_die("fstat", tmp);
	if (extras & EXTRA_RANDOM && getrandom(random, sizeof random, GRND_NONBLOCK) < 0)
		bench_die("getrandom", tmp);
	if (tmpfile == TEMP_UNNAMED_LINKED_FIRST)
		name(fd, tmp);
	if (durable && fsync(fd) < 0)
		bench_die("fsync", tmp);
	if (tmpfile == TEMP_UNNAMED)
		name(fd, tmp);
	if (!(extras & EXTRA_LATECLOSE) && close(fd) < 0)
		bench_die("close", tmp);
	if (rename(tmp, path) < 0)
		bench_die("rename", path);
	if (durable && extras & EXTRA_KEEPDIR) {
		if (kept_dir < 0)
			kept_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (kept_dir < 0 || fsync(kept_dir) < 0)
			bench_die("fsync", dir);
	} else if (durable) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) < 0)
			bench_die("fsync", dir);
		close(dfd);
	}
	if (extras & EXTRA_LATECLOSE && close(fd) < 0)
		bench_die("close", tmp);
}

int main(int argc, char **argv)
{
	int is_plain = argc == 6 && strcmp(argv[5], "plain") == 0;
	enum temp_kind tmpfile = TEMP_NAMED;
	if (argc == 6 && strcmp(argv[5], "tmpfile") == 0)
		tmpfile = TEMP_UNNAMED;
	unsigned extras = 0;
	if (argc == 6 && strncmp(argv[5], "tmpfile-linked", 14) == 0 &&
	    (argv[5][14] == '\0' || argv[5][14] == ',')) {
		tmpfile = TEMP_UNNAMED_LINKED_FIRST;
		if (argv[5][14] == ',')
			extras = parse_extras(argv[5] + 15);
	}
	struct bench_args a = bench_parse(is_plain || tmpfile ? 5 : argc, argv);
	char path[4096];
	int stream = a.mode == LARGE;
	char *buf = bench_contents(stream ? CHUNK : a.size);
	double start = bench_now_us();
	for (long i = 0; i < a.n; i++) {
		bench_target(&a, i, path, sizeof path);
		if (is_plain)
			bench_write_file(path, buf, a.size, 1);
		else
			replace(a.dir, path, buf, a.size,
			        a.mode != SMALL_NOSYNC, stream, tmpfile, extras, i);
	}
	bench_report(start);
	free(buf);
	return 0;
}
