/* SPDX-License-Identifier: MIT */
/*
 * sys.c - system call wrappers: the EINTR and short-write policy, the one
 * directory walk, and the test seam.  See sys.h.
 */
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>   /* arc4random_buf (macOS, the BSDs) */
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
/* Of the kernel's headers only FICLONE is needed, and a libc need not
 * ship them (musl-gcc): its number is the kernel's ABI, spelled here, and
 * checked against <linux/fs.h> where that exists. */
#ifdef _IOW
#define AW__FICLONE _IOW(0x94, 9, int)
#if defined(__has_include)
#if __has_include(<linux/fs.h>)
#include <linux/fs.h>
_Static_assert(FICLONE == AW__FICLONE, "FICLONE as <linux/fs.h> has it");
#endif
#endif
#ifndef FICLONE
#define FICLONE AW__FICLONE
#endif
#endif
#include "xfs_exchange.h"
#endif

#ifdef AW_TESTING
#include <stdatomic.h>

#define AW_TRACE_MAX 4096

static struct aw_fault_plan plan = { -1, 0, 0, 0 };
static struct { int after; void (*before)(void *); void *arg; } extra;
static atomic_ulong calls_all;
static atomic_ulong calls_kind[AW_SYS_COUNT];
static atomic_int fired_kind = -1;
static atomic_int trace[AW_TRACE_MAX];

void aw__fault_reset(void)
{
	plan = (struct aw_fault_plan){ -1, 0, 0, 0 };
	extra.after = 0;
	extra.before = NULL;
	atomic_store(&calls_all, 0);
	for (int i = 0; i < AW_SYS_COUNT; i++)
		atomic_store(&calls_kind[i], 0);
	atomic_store(&fired_kind, -1);
}

void aw__fault_set(const struct aw_fault_plan *p)
{
	aw__fault_reset();
	plan = *p;
}

void aw__fault_extra(int after, void (*before)(void *arg), void *arg)
{
	extra.after = after;
	extra.before = before;
	extra.arg = arg;
}

unsigned long aw__fault_calls(int kind)
{
	return kind < 0 ? atomic_load(&calls_all) : atomic_load(&calls_kind[kind]);
}

int aw__fault_fired_kind(void)
{
	return atomic_load(&fired_kind);
}

size_t aw__fault_trace(int *kinds, size_t max)
{
	size_t n = atomic_load(&calls_all);
	if (n > AW_TRACE_MAX)
		n = AW_TRACE_MAX;
	if (n > max)
		n = max;
	for (size_t i = 0; i < n; i++)
		kinds[i] = atomic_load(&trace[i]);
	return n;
}

const char *aw__sys_call_name(int kind)
{
	static const char *const names[AW_SYS_COUNT] = {
#define AW_SYS_NAME_(kind, name) name,
		AW_SYS_CALLS(AW_SYS_NAME_)
#undef AW_SYS_NAME_
	};
	return kind >= 0 && kind < AW_SYS_COUNT ? names[kind] : "?";
}

/* Counts the call; returns the errno to inject, AW_FAULT_SHORT_WRITE or
 * AW_FAULT_ZERO_WRITE (writes only), or 0 to make the call. */
static int fault_hit(int kind)
{
	unsigned long all = atomic_fetch_add(&calls_all, 1) + 1;
	unsigned long mine = atomic_fetch_add(&calls_kind[kind], 1) + 1;
	if (all <= AW_TRACE_MAX)
		atomic_store(&trace[all - 1], kind);
	if (plan.kind >= 0 && plan.kind != kind)
		return 0;
	unsigned long n = plan.kind < 0 ? all : mine;
	if (extra.before && n == plan.nth)
		extra.before(extra.arg);
	if (plan.err == 0 || (plan.err < 0 && kind != AW_SYS_WRITE))
		return 0;
	int fired = atomic_load(&fired_kind);
	if (n == plan.nth) {
		atomic_store(&fired_kind, kind);
		return plan.err;
	}
	/* A persistent fault keeps failing the same kind of call; a
	 * persistent EINTR would only spin, so it fires once. */
	if (plan.persistent && plan.err != EINTR && n > plan.nth && fired == kind)
		return plan.err;
	return 0;
}

#define FAULT(kind, fail_value)                            \
	do {                                               \
		int injected_ = fault_hit(kind);           \
		if (injected_) {                           \
			errno = injected_;                 \
			r = (fail_value);                  \
			goto done;                         \
		}                                          \
	} while (0)
/* The RETRY wrappers' version: with plan.after, the call is made and its
 * success then turned into the injected failure. */
#define FAULT_BEFORE(kind, fail_value)                     \
	do {                                               \
		late_ = fault_hit(kind);                   \
		if (late_ && !extra.after) {                \
			errno = late_;                     \
			r = (fail_value);                  \
			goto done;                         \
		}                                          \
	} while (0)
#define FAULT_AFTER(fail_value, failed)                    \
	do {                                               \
		if (late_ && !(failed)) {                  \
			errno = late_;                     \
			r = (fail_value);                  \
		}                                          \
	} while (0)
#define FAULT_LATE_DECL int late_ = 0; (void)late_
#else
#define FAULT(kind, fail_value) do { } while (0)
#define FAULT_BEFORE(kind, fail_value) do { } while (0)
#define FAULT_AFTER(fail_value, failed) do { } while (0)
#define FAULT_LATE_DECL do { } while (0)
#endif

/* Every wrapper: make the call (unless the seam fails it), retry EINTR.
 * The call returns a type whose failure is fail_value (-1, NULL); failed
 * tests r for it. */
#define RETRY_AS(kind, type, fail_value, failed, call)            \
	do {                                                      \
		type r;                                           \
		FAULT_LATE_DECL;                                  \
		for (;;) {                                        \
			FAULT_BEFORE(kind, fail_value);           \
			r = (call);                               \
			FAULT_AFTER(fail_value, failed);          \
			goto done;                                \
		done:                                             \
			if ((failed) && errno == EINTR)           \
				continue;                         \
			return r;                                 \
		}                                                 \
	} while (0)
#define RETRY(kind, type, call) RETRY_AS(kind, type, -1, r < 0, call)

static int raw_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	RETRY(AW_SYS_OPENAT, int, openat(dirfd, path, flags, mode));
}

static int dup_up(int fd, int flags)
{
	RETRY(AW_SYS_DUPFD, int,
	      fcntl(fd, (flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 3));
}

/* fd (< 3) moved to a descriptor >= 3; the low one is closed either way.
 * If the move fails, a file that open() just created (O_CREAT|O_EXCL: it
 * is ours) is removed again, so that the failure leaves nothing. */
static int move_up(int fd, int dirfd, const char *path, int flags)
{
	int high = dup_up(fd, flags);
	int err = errno;
	close(fd);
	if (high >= 0)
		return high;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		unlinkat(dirfd, path, 0);
	errno = err;
	return -1;
}

int aw__openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd = raw_openat(dirfd, path, flags, mode);
	if (fd >= 0 && fd < 3)
		return move_up(fd, dirfd, path, flags);
	return fd;
}

int aw__close(int fd)
{
	int r;
	FAULT(AW_SYS_CLOSE, -1);
	r = close(fd);
	goto done;
done:
#ifdef AW_TESTING
	/* An injected failure must still release the descriptor. */
	if (r < 0 && fcntl(fd, F_GETFD) >= 0)
		close(fd);
#endif
	/* Linux and most systems free the descriptor even when close()
	 * is interrupted; retrying could close a descriptor another thread
	 * just opened. */
	if (r < 0 && errno == EINTR)
		return 0;
	return r;
}

ssize_t aw__read(int fd, void *buf, size_t len)
{
	RETRY(AW_SYS_READ, ssize_t, read(fd, buf, len));
}

ssize_t aw__pread(int fd, void *buf, size_t len, off_t off)
{
	RETRY(AW_SYS_READ, ssize_t, pread(fd, buf, len, off));
}

ssize_t aw__write(int fd, const void *buf, size_t len)
{
	ssize_t r;
	for (;;) {
#ifdef AW_TESTING
		int injected = fault_hit(AW_SYS_WRITE);
		if (injected == AW_FAULT_ZERO_WRITE)
			return 0;
		if (injected > 0) {
			errno = injected;
			r = -1;
			goto done;
		}
		/* A short write: the kernel is asked for half, as a full
		 * device or a signal can make it write only part. */
		size_t want = injected == AW_FAULT_SHORT_WRITE && len > 1 ? len / 2 : len;
		r = write(fd, buf, want);
	done:
#else
		r = write(fd, buf, len);
#endif
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

int aw__write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = aw__write(fd, p, len);
		if (n < 0)
			return -1;
		/* A write that makes no progress will not make any on a
		 * retry either: the disk is full. */
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int full_fsync(int fd)
{
#ifdef F_FULLFSYNC
	/* macOS: only F_FULLFSYNC asks the drive to flush its cache.  Some
	 * filesystems (network, FAT) refuse it; plain fsync is then the best
	 * there is. */
	if (fcntl(fd, F_FULLFSYNC) == 0)
		return 0;
	if (errno != ENOTSUP && errno != EOPNOTSUPP && errno != EINVAL &&
	    errno != ENOTTY)   /* (distinct values on macOS) */
		return -1;
#endif
	return fsync(fd);
}

int aw__fsync(int fd)
{
	RETRY(AW_SYS_FSYNC, int, full_fsync(fd));
}

int aw__fstat(int fd, struct stat *st)
{
	RETRY(AW_SYS_FSTAT, int, fstat(fd, st));
}

int aw__getfl(int fd)
{
	RETRY(AW_SYS_GETFL, int, fcntl(fd, F_GETFL));
}

int aw__fstatat(int dirfd, const char *name, struct stat *st, int flags)
{
	RETRY(AW_SYS_FSTATAT, int, fstatat(dirfd, name, st, flags));
}

int aw__fchown(int fd, uid_t uid, gid_t gid)
{
	RETRY(AW_SYS_FCHOWN, int, fchown(fd, uid, gid));
}

int aw__fchmod(int fd, mode_t mode)
{
	RETRY(AW_SYS_FCHMOD, int, fchmod(fd, mode));
}

int aw__fchmodat_nofollow(int dirfd, const char *name, mode_t mode)
{
	RETRY(AW_SYS_FCHMOD, int, fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW));
}

int aw__linkat(int olddirfd, const char *oldname, int newdirfd,
               const char *newname, int flags)
{
	RETRY(AW_SYS_LINKAT, int,
	      linkat(olddirfd, oldname, newdirfd, newname, flags));
}

int aw__renameat(int olddirfd, const char *oldname, int newdirfd,
                 const char *newname)
{
	RETRY(AW_SYS_RENAMEAT, int,
	      renameat(olddirfd, oldname, newdirfd, newname));
}

static int rename_noreplace(int olddirfd, const char *oldname, int newdirfd,
                            const char *newname)
{
#if defined(__linux__) && defined(SYS_renameat2) && !defined(AW_FORCE_POSIX)
	/* Called through syscall() so that an old libc without the wrapper
	 * still gets the kernel's answer. */
	return (int)syscall(SYS_renameat2, olddirfd, oldname, newdirfd,
	                    newname, 1u /* RENAME_NOREPLACE */);
#elif defined(__APPLE__) && defined(RENAME_EXCL)
	return renameatx_np(olddirfd, oldname, newdirfd, newname, RENAME_EXCL);
#else
	(void)olddirfd; (void)oldname; (void)newdirfd; (void)newname;
	errno = ENOSYS;
	return -1;
#endif
}

int aw__renameat_noreplace(int olddirfd, const char *oldname, int newdirfd,
                           const char *newname)
{
	RETRY(AW_SYS_RENAMEAT, int,
	      rename_noreplace(olddirfd, oldname, newdirfd, newname));
}

int aw__unlinkat(int dirfd, const char *name, int flags)
{
	RETRY(AW_SYS_UNLINKAT, int, unlinkat(dirfd, name, flags));
}

int aw__flock(int fd, int op)
{
	RETRY(AW_SYS_FLOCK, int, flock(fd, op));
}

int aw__flock_wait(int fd, int op)
{
	int r;
	FAULT(AW_SYS_FLOCK, -1);
	r = flock(fd, op);
	goto done;
done:
	return r;
}

int aw__sleep_ms(unsigned ms)
{
	int r;
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	FAULT(AW_SYS_SLEEP, -1);
	r = nanosleep(&ts, NULL);
	goto done;
done:
	return r;
}

void aw__coarse_now(struct timespec *ts)
{
#ifdef CLOCK_REALTIME_COARSE
	if (clock_gettime(CLOCK_REALTIME_COARSE, ts) == 0)
		return;
#endif
	clock_gettime(CLOCK_REALTIME, ts);
}

ssize_t aw__readlinkat(int dirfd, const char *name, char *buf, size_t len)
{
	RETRY(AW_SYS_READLINKAT, ssize_t, readlinkat(dirfd, name, buf, len));
}

#if defined(__linux__)
ssize_t aw__flistxattr(int fd, char *list, size_t size)
{
	RETRY(AW_SYS_XATTR, ssize_t, flistxattr(fd, list, size));
}

ssize_t aw__fgetxattr(int fd, const char *name, void *value, size_t size)
{
	RETRY(AW_SYS_XATTR, ssize_t, fgetxattr(fd, name, value, size));
}

int aw__fsetxattr(int fd, const char *name, const void *value, size_t size)
{
	RETRY(AW_SYS_XATTR, int, fsetxattr(fd, name, value, size, 0));
}

/* listxattrat(2) came with Linux 6.13 and has no libc wrapper yet; new
 * system calls share one number on every architecture but alpha, ia64
 * and MIPS, which offset it, and x32, which flags it (there the call is
 * simply not tried). */
#if !defined(SYS_listxattrat) && !defined(__alpha__) && !defined(__ia64__) && \
    !defined(__mips__) && !(defined(__x86_64__) && defined(__ILP32__))
#define SYS_listxattrat 465
#endif

static ssize_t list_at(int dirfd, const char *name, char *list, size_t size)
{
#if defined(SYS_listxattrat) && !defined(AW_FORCE_POSIX)
	return (ssize_t)syscall(SYS_listxattrat, dirfd, name,
	                        (unsigned)AT_SYMLINK_NOFOLLOW, list, size);
#else
	(void)dirfd; (void)name; (void)list; (void)size;
	errno = ENOSYS;
	return -1;
#endif
}

ssize_t aw__listxattrat(int dirfd, const char *name, char *list, size_t size)
{
	RETRY(AW_SYS_XATTR, ssize_t, list_at(dirfd, name, list, size));
}
#else
/* Other systems' xattr calls differ in shape (macOS takes a position and
 * options); until they are wired up, extended attributes are not kept. */
ssize_t aw__flistxattr(int fd, char *list, size_t size)
{
	(void)fd; (void)list; (void)size;
	errno = ENOTSUP;
	return -1;
}

ssize_t aw__fgetxattr(int fd, const char *name, void *value, size_t size)
{
	(void)fd; (void)name; (void)value; (void)size;
	errno = ENOTSUP;
	return -1;
}

int aw__fsetxattr(int fd, const char *name, const void *value, size_t size)
{
	(void)fd; (void)name; (void)value; (void)size;
	errno = ENOTSUP;
	return -1;
}

ssize_t aw__listxattrat(int dirfd, const char *name, char *list, size_t size)
{
	(void)dirfd; (void)name; (void)list; (void)size;
	errno = ENOSYS;
	return -1;
}
#endif

long aw__name_max(int dirfd)
{
	RETRY(AW_SYS_PATHCONF, long, fpathconf(dirfd, _PC_NAME_MAX));
}

int aw__clone(int dst, int src)
{
#if defined(__linux__) && defined(FICLONE) && !defined(AW_FORCE_POSIX)
	RETRY(AW_SYS_CLONE, int, ioctl(dst, FICLONE, src));
#else
	(void)dst; (void)src;
	errno = EOPNOTSUPP;
	return -1;
#endif
}

ssize_t aw__copy_file_range(int src, int dst, size_t len)
{
#if defined(__linux__) && defined(SYS_copy_file_range) && !defined(AW_FORCE_POSIX)
	RETRY(AW_SYS_COPY_RANGE, ssize_t,
	      syscall(SYS_copy_file_range, src, NULL, dst, NULL, len, 0u));
#else
	(void)src; (void)dst; (void)len;
	errno = ENOSYS;
	return -1;
#endif
}

int aw__mkdirat(int dirfd, const char *name, mode_t mode)
{
	RETRY(AW_SYS_MKDIRAT, int, mkdirat(dirfd, name, mode));
}

int aw__symlinkat(const char *target, int dirfd, const char *name)
{
	RETRY(AW_SYS_SYMLINKAT, int, symlinkat(target, dirfd, name));
}

static int exchange(int dirfd1, const char *name1, int dirfd2, const char *name2)
{
#if defined(__linux__) && defined(SYS_renameat2) && !defined(AW_FORCE_POSIX)
	return (int)syscall(SYS_renameat2, dirfd1, name1, dirfd2, name2,
	                    2u /* RENAME_EXCHANGE */);
#elif defined(__APPLE__) && defined(RENAME_SWAP)
	return renameatx_np(dirfd1, name1, dirfd2, name2, RENAME_SWAP);
#else
	(void)dirfd1; (void)name1; (void)dirfd2; (void)name2;
	errno = ENOSYS;
	return -1;
#endif
}

int aw__exchangeat(int dirfd1, const char *name1, int dirfd2, const char *name2)
{
	RETRY(AW_SYS_EXCHANGE, int, exchange(dirfd1, name1, dirfd2, name2));
}

static DIR *opendir_at(int fd)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && dfd < 3)
		dfd = move_up(dfd, fd, ".", O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int err = errno;
		close(dfd);
		errno = err;
	}
	return d;
}

DIR *aw__opendirat(int fd)
{
	RETRY_AS(AW_SYS_OPENDIR, DIR *, NULL, !r, opendir_at(fd));
}

struct dirent *aw__readdir(DIR *d)
{
	/* errno 0 first: NULL with errno 0 is the end, not a failure. */
	RETRY_AS(AW_SYS_READDIR, struct dirent *, NULL, !r,
	         (errno = 0, readdir(d)));
}

int aw__closedir(DIR *d)
{
#ifdef AW_TESTING
	int injected = fault_hit(AW_SYS_CLOSE);
	if (injected) {
		closedir(d);   /* an injected failure still releases it */
		errno = injected;
		return -1;
	}
#endif
	int r = closedir(d);
	/* As for close(): the stream is gone, never retried. */
	return r < 0 && errno == EINTR ? 0 : r;
}

int aw__dir_walk(int dirfd, aw__dir_fn *fn, void *ctx)
{
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	int r = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			if (errno)
				r = -1;
			break;
		}
		const char *n = de->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		r = fn(dirfd, de, ctx);
		if (r != 0)
			break;
	}
	int err = errno;
	aw__closedir(d);
	errno = err;
	return r < 0 ? -1 : 0;
}

off_t aw__lseek(int fd, off_t off, int whence)
{
	RETRY(AW_SYS_LSEEK, off_t, lseek(fd, off, whence));
}

int aw__ftruncate(int fd, off_t len)
{
	RETRY(AW_SYS_FTRUNCATE, int, ftruncate(fd, len));
}

int aw__syncfs(int fd)
{
#if defined(__linux__) && !defined(AW_FORCE_POSIX)
	RETRY(AW_SYS_SYNCFS, int, syncfs(fd));
#else
	(void)fd;
	errno = ENOSYS;
	return -1;
#endif
}

int aw__futimens(int fd, const struct timespec times[2])
{
	RETRY(AW_SYS_UTIMENS, int, futimens(fd, times));
}

int aw__fchownat(int dirfd, const char *name, uid_t uid, gid_t gid, int flags)
{
	RETRY(AW_SYS_FCHOWNAT, int, fchownat(dirfd, name, uid, gid, flags));
}

void aw__random(void *buf, size_t len)
{
	unsigned char *p = buf;
#if defined(__linux__)
	while (len > 0) {
		ssize_t n = getrandom(p, len, GRND_NONBLOCK);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
	arc4random_buf(p, len);
	len = 0;
#endif
	if (len == 0)
		return;
	/* No entropy source answered: mix what differs between calls and
	 * processes.  Names then become guessable, never unsafe, because
	 * temporary files are created with O_EXCL|O_NOFOLLOW. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
	             ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)buf ^
	             (uint64_t)(uintptr_t)&ts;
	for (size_t i = 0; i < len; i++) {
		/* splitmix64 step */
		x += 0x9e3779b97f4a7c15ULL;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (unsigned char)(z ^ (z >> 31));
	}
}

/* ---- XFS content exchange (see xfs_exchange.h) ----------------------- */

#ifdef AW_TESTING
/* The flags of the last exchange or commit that reached this wrapper, for
 * the durability tests (test builds only). */
static _Atomic unsigned long long xfs_last_flags;
unsigned long long aw__xfs_last_flags(void)
{
	return atomic_load(&xfs_last_flags);
}
#define XFS_NOTE_FLAGS(f) atomic_store(&xfs_last_flags, (f))
#else
#define XFS_NOTE_FLAGS(f) do { } while (0)
#endif

#if defined(__linux__) && !defined(AW_FORCE_POSIX)
static uint64_t xfs_exchange_flags(int dsync, int dry_run)
{
	return XFS_EXCHANGE_RANGE_TO_EOF |
	       (dsync ? XFS_EXCHANGE_RANGE_DSYNC : 0) |
	       (dry_run ? XFS_EXCHANGE_RANGE_DRY_RUN : 0);
}

int aw__xfs_exchange(int target, int temp, int dsync, int dry_run)
{
	struct xfs_exchange_range x = { 0 };
	x.file1_fd = temp;
	x.flags = xfs_exchange_flags(dsync, dry_run);
	XFS_NOTE_FLAGS(x.flags);
	RETRY(AW_SYS_XFS_EXCHANGE, int, ioctl(target, XFS_IOC_EXCHANGE_RANGE, &x));
}

static int xfs_start_commit(int target, struct xfs_commit_range *c)
{
	RETRY(AW_SYS_XFS_COMMIT, int, ioctl(target, XFS_IOC_START_COMMIT, c));
}

int aw__xfs_start_commit(int target, unsigned long long fresh[AW__XFS_FRESH_WORDS])
{
	struct xfs_commit_range c = { 0 };
	if (xfs_start_commit(target, &c) < 0)
		return -1;
	for (int i = 0; i < AW__XFS_FRESH_WORDS; i++)
		fresh[i] = c.file2_freshness[i];
	return 0;
}

int aw__xfs_commit(int target, int temp, int dsync,
                   const unsigned long long fresh[AW__XFS_FRESH_WORDS])
{
	struct xfs_commit_range c = { 0 };
	c.file1_fd = temp;
	c.flags = xfs_exchange_flags(dsync, 0);
	XFS_NOTE_FLAGS(c.flags);
	for (int i = 0; i < AW__XFS_FRESH_WORDS; i++)
		c.file2_freshness[i] = fresh[i];
	RETRY(AW_SYS_XFS_COMMIT, int, ioctl(target, XFS_IOC_COMMIT_RANGE, &c));
}

int aw__xfs_prealloc(int fd, off_t off, off_t len)
{
	RETRY(AW_SYS_FALLOCATE, int, fallocate(fd, FALLOC_FL_KEEP_SIZE, off, len));
}
#else
static int no_exchange(int kind)
{
	RETRY(kind, int, (errno = EOPNOTSUPP, -1));
}

int aw__xfs_exchange(int target, int temp, int dsync, int dry_run)
{
	(void)target, (void)temp, (void)dsync, (void)dry_run;
	return no_exchange(AW_SYS_XFS_EXCHANGE);
}

int aw__xfs_start_commit(int target, unsigned long long fresh[AW__XFS_FRESH_WORDS])
{
	(void)target, (void)fresh;
	return no_exchange(AW_SYS_XFS_COMMIT);
}

int aw__xfs_commit(int target, int temp, int dsync,
                   const unsigned long long fresh[AW__XFS_FRESH_WORDS])
{
	(void)target, (void)temp, (void)dsync, (void)fresh;
	return no_exchange(AW_SYS_XFS_COMMIT);
}

int aw__xfs_prealloc(int fd, off_t off, off_t len)
{
	(void)fd, (void)off, (void)len;
	return no_exchange(AW_SYS_FALLOCATE);
}
#endif
