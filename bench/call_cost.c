/* SPDX-License-Identifier: MIT */
/*
 * call_cost.c - what each system call of a replacement costs on its own,
 * on this machine and filesystem: the price list behind bench/SYSCALLS.md's
 * "what they cost" (issue 17).  Every call the library makes beyond the
 * minimal protocol is timed in a loop of N, in the directory DIR (a
 * tmpfs shows the CPU cost, a disk adds nothing to calls that do not
 * flush), and so are the two ways of creating a temporary file: named
 * (O_EXCL) and unnamed (O_TMPFILE, then linkat to give it a name).
 *
 *     build/bench/call_cost DIR [N]     (default N = 50000)
 *
 * It works in a new directory it makes in DIR and removes after.
 * Prints one line per call: mean microseconds per call (or per sequence),
 * wall-clock time; run it twice on a quiet machine and compare.  Linux
 * only (O_TMPFILE, listxattrat).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* listxattrat(2), Linux 6.13; Debian 12's headers do not name it. */
#ifndef SYS_listxattrat
#define SYS_listxattrat 465
#endif

static double now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long n = 50000;
static int dirfd_ = -1;
static int file = -1;
static char block[4096];

static void die(const char *what)
{
	fprintf(stderr, "call_cost: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Each measured body: one call, or the sequence its name says. */
static void c_geteuid(void) { (void)geteuid(); }
static void c_getrandom(void)
{
	unsigned char b[8];
	if (getrandom(b, sizeof b, GRND_NONBLOCK) != sizeof b)
		die("getrandom");
}
static void c_fstatat(void)
{
	struct stat st;
	if (fstatat(dirfd_, "f", &st, AT_SYMLINK_NOFOLLOW) < 0)
		die("fstatat");
}
static void c_fstat(void)
{
	struct stat st;
	if (fstat(file, &st) < 0)
		die("fstat");
}
static void c_listxattrat(void)
{
	if (syscall(SYS_listxattrat, dirfd_, "f", AT_SYMLINK_NOFOLLOW,
	            (char *)NULL, (size_t)0) < 0)
		die("listxattrat (Linux 6.13 or later)");
}
static void c_open_dir_path(void)
{
	int fd = openat(dirfd_, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("openat O_PATH");
	close(fd);
}
static void c_open_dir_read(void)
{
	int fd = openat(dirfd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die("openat O_RDONLY");
	close(fd);
}
static void c_flock(void)
{
	if (flock(file, LOCK_EX | LOCK_NB) < 0 || flock(file, LOCK_UN) < 0)
		die("flock");
}
static void c_fsync(void)
{
	if (fsync(file) < 0)
		die("fsync");
}
/* The temporary file of one replacement, created, written, named, renamed
 * over "f" and closed: the part of the protocol where the two ways of
 * creating it differ. */
static void c_named(void)
{
	int fd = openat(dirfd_, "t", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, block, sizeof block) != sizeof block)
		die("named temporary");
	if (renameat(dirfd_, "t", dirfd_, "f") < 0)
		die("renameat");
	close(fd);
}
static void c_unnamed(void)
{
	int fd = openat(dirfd_, ".", O_RDWR | O_TMPFILE | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, block, sizeof block) != sizeof block)
		die("O_TMPFILE");
	/* By descriptor where the kernel allows it, else by its /proc
	 * name, as the library does. */
	if (linkat(fd, "", dirfd_, "t", AT_EMPTY_PATH) < 0) {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, dirfd_, "t", AT_SYMLINK_FOLLOW) < 0)
			die("linkat");
	}
	if (renameat(dirfd_, "t", dirfd_, "f") < 0)
		die("renameat");
	close(fd);
}

static void measure(const char *name, void (*body)(void))
{
	for (long i = 0; i < n / 10; i++)   /* warm the caches */
		body();
	double t0 = now_us();
	for (long i = 0; i < n; i++)
		body();
	printf("%-46s %8.3f us\n", name, (now_us() - t0) / n);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: call_cost DIR [N]\n");
		return 2;
	}
	if (argc == 3 && (n = atol(argv[2])) <= 0)
		return 2;
	char work[4096];
	if (snprintf(work, sizeof work, "%s/call_cost.XXXXXX", argv[1]) >=
	    (int)sizeof work || !mkdtemp(work))
		die(argv[1]);
	dirfd_ = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0)
		die(work);
	memset(block, 'x', sizeof block);
	file = openat(dirfd_, "f", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (file < 0 || write(file, block, sizeof block) != sizeof block ||
	    fsync(file) < 0)
		die("f");
	printf("method: each call (or sequence) %ld times in a loop after %ld to "
	       "warm up, wall-clock mean; in %s\n", n, n / 10, work);
	measure("geteuid", c_geteuid);
	measure("getrandom, 8 bytes", c_getrandom);
	measure("fstatat of the target (a name lookup)", c_fstatat);
	measure("fstat of an open file", c_fstat);
	measure("listxattrat of the target (a name lookup)", c_listxattrat);
	measure("openat+close of the directory, O_PATH", c_open_dir_path);
	measure("openat+close of the directory, for reading", c_open_dir_read);
	measure("flock LOCK_EX + LOCK_UN", c_flock);
	measure("fsync of a 4 KiB file already clean", c_fsync);
	measure("named temporary: open O_EXCL, write, rename", c_named);
	measure("unnamed: O_TMPFILE, write, linkat, rename", c_unnamed);
	close(file);
	unlinkat(dirfd_, "f", 0);
	close(dirfd_);
	if (rmdir(work) < 0)
		die(work);
	return 0;
}
