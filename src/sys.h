/* SPDX-License-Identifier: MIT */
/*
 * sys.h - the thin layer every system call of the library goes through.
 *
 * Two jobs: one EINTR policy for the whole library (every call here is
 * retried on EINTR except close(), which must never be retried because the
 * descriptor is already gone), and a seam for tests.  Built with
 * -DAW_TESTING, each wrapper first asks aw__fault_hit() whether to fail with
 * an injected errno, and counts itself, so a test can fail any single step
 * and count the fsyncs.  The production build has no such code.
 *
 * Built with -DAW_FORCE_POSIX, the Linux-only paths (O_TMPFILE,
 * renameat2, FICLONE, copy_file_range) are compiled out, so that the
 * fallbacks every other system takes are built and tested here too
 * (`make check-posix`).
 */
#ifndef AW_SYS_H
#define AW_SYS_H

#include <dirent.h>
#include <stddef.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The kinds of call the seam can count and fail, each with the name tests
 * print: the one list (X(KIND, "name")) the enum and the names come from. */
#define AW_SYS_CALLS(X)                                          \
	X(OPENAT, "openat")                                      \
	X(CLOSE, "close")                                        \
	X(READ, "read")                                          \
	X(WRITE, "write")                                        \
	X(FSYNC, "fsync")                                        \
	X(FSTAT, "fstat")                                        \
	X(FSTATAT, "fstatat")                                    \
	X(FCHOWN, "fchown")                                      \
	X(FCHMOD, "fchmod")                                      \
	X(LINKAT, "linkat")                                      \
	X(RENAMEAT, "renameat")                                  \
	X(UNLINKAT, "unlinkat")                                  \
	X(FLOCK, "flock")                                        \
	X(READLINKAT, "readlinkat")                              \
	X(XATTR, "xattr")                                        \
	X(PATHCONF, "pathconf")                                  \
	X(CLONE, "clone")                                        \
	X(COPY_RANGE, "copy_file_range")                         \
	X(MKDIRAT, "mkdirat")                                    \
	X(SYMLINKAT, "symlinkat")                                \
	X(EXCHANGE, "exchange")                                  \
	X(OPENDIR, "opendir")                                    \
	X(UTIMENS, "utimens")                                    \
	X(FCHOWNAT, "fchownat")                                  \
	X(READDIR, "readdir")                                    \
	X(SYNCFS, "syncfs")                                      \
	X(LSEEK, "lseek")                                        \
	X(DUPFD, "dupfd")   /* moving a descriptor 0-2 up */     \
	X(FTRUNCATE, "ftruncate")                                \
	X(GETFL, "getfl")   /* fcntl(F_GETFL) */                 \
	X(SLEEP, "sleep")                                        \
	X(XFS_EXCHANGE, "xfs_exchange_range")                    \
	X(XFS_COMMIT, "xfs_commit_range") /* start and commit */ \
	X(FALLOCATE, "fallocate")

enum aw_sys_call {
#define AW_SYS_ENUM_(kind, name) AW_SYS_##kind,
	AW_SYS_CALLS(AW_SYS_ENUM_)
#undef AW_SYS_ENUM_
	AW_SYS_COUNT
};

/* openat(); a descriptor 0, 1 or 2 (a caller that runs with stdin, stdout
 * or stderr closed) is moved to the lowest free one >= 3 and the low one
 * closed, so that nothing the library opens, and above all no temporary
 * file, ever takes the place of a standard stream: a later read of stdin
 * or message on stderr would hit the file. */
int aw__openat(int dirfd, const char *path, int flags, mode_t mode);
/* close() without retry; EINTR counts as success (the fd is gone). */
int aw__close(int fd);
ssize_t aw__read(int fd, void *buf, size_t len);
ssize_t aw__pread(int fd, void *buf, size_t len, off_t off);
ssize_t aw__write(int fd, const void *buf, size_t len);
/* Writes all of len bytes: a short write is continued where it stopped,
 * and a write that makes no progress (returns 0) fails with ENOSPC rather
 * than being retried forever. */
int aw__write_all(int fd, const void *buf, size_t len);
/* Flushes fd to stable storage: F_FULLFSYNC where it exists (macOS's
 * fsync leaves data in the drive's cache), fsync otherwise. */
int aw__fsync(int fd);
int aw__fstat(int fd, struct stat *st);
/* fcntl(fd, F_GETFL): the descriptor's status flags and access mode. */
int aw__getfl(int fd);
int aw__fstatat(int dirfd, const char *name, struct stat *st, int flags);
int aw__fchown(int fd, uid_t uid, gid_t gid);
int aw__fchmod(int fd, mode_t mode);
/* fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW): never changes what a
 * symbolic link points at (EOPNOTSUPP for a link, or where the system
 * cannot do it without following).  Counted and failed as AW_SYS_FCHMOD. */
int aw__fchmodat_nofollow(int dirfd, const char *name, mode_t mode);
int aw__linkat(int olddirfd, const char *oldname, int newdirfd,
               const char *newname, int flags);
int aw__renameat(int olddirfd, const char *oldname, int newdirfd,
                 const char *newname);
/* rename that fails with EEXIST if newname exists; EINVAL, ENOSYS or
 * EOPNOTSUPP where the kernel or filesystem cannot do it. */
int aw__renameat_noreplace(int olddirfd, const char *oldname, int newdirfd,
                           const char *newname);
int aw__unlinkat(int dirfd, const char *name, int flags);
int aw__flock(int fd, int op);
/* flock() for a wait the caller must be able to abandon: EINTR (a signal
 * caught by a handler installed without SA_RESTART) is returned, not
 * retried.  Counted and failed as AW_SYS_FLOCK. */
int aw__flock_wait(int fd, int op);
/* Sleeps ms milliseconds (nanosleep); -1 with EINTR if a caught signal
 * interrupts it. */
int aw__sleep_ms(unsigned ms);
/* The clock file timestamps come from when they are not fine-grained
 * (CLOCK_REALTIME_COARSE where there is one); a clock read, not a call
 * the seam counts or fails. */
void aw__coarse_now(struct timespec *ts);
ssize_t aw__readlinkat(int dirfd, const char *name, char *buf, size_t len);
ssize_t aw__flistxattr(int fd, char *list, size_t size);
ssize_t aw__fgetxattr(int fd, const char *name, void *value, size_t size);
int aw__fsetxattr(int fd, const char *name, const void *value, size_t size);
/* The attribute list of a name in dirfd, not following a symlink, without
 * opening it (listxattrat, Linux 6.13); ENOSYS (or, under a seccomp
 * filter, EPERM) where the kernel lacks it. */
ssize_t aw__listxattrat(int dirfd, const char *name, char *list, size_t size);
long aw__name_max(int dirfd);
/* Makes dst share all of src's extents (ioctl FICLONE): a copy in
 * constant time on btrfs and XFS with reflink.  EOPNOTSUPP, EXDEV, EINVAL
 * or ENOTTY where it cannot be done. */
int aw__clone(int dst, int src);
/* copy_file_range(2) from the descriptors' current offsets; ENOSYS where
 * there is no such call. */
ssize_t aw__copy_file_range(int src, int dst, size_t len);
int aw__mkdirat(int dirfd, const char *name, mode_t mode);
int aw__symlinkat(const char *target, int dirfd, const char *name);
/* Swaps two names atomically (renameat2 RENAME_EXCHANGE); EINVAL, ENOSYS
 * or EOPNOTSUPP where the kernel or filesystem cannot. */
int aw__exchangeat(int dirfd1, const char *name1, int dirfd2, const char *name2);
/* A directory stream over the directory fd refers to (fd itself is left
 * open and untouched: the stream reads through a fresh descriptor). */
DIR *aw__opendirat(int fd);
/* readdir() with EINTR retried (getdents can be interrupted on FUSE and
 * network filesystems); NULL with errno 0 at the end. */
struct dirent *aw__readdir(DIR *d);
/* closedir(); like aw__close(), never retried (counted and failed as
 * AW_SYS_CLOSE; an injected failure still frees the stream). */
int aw__closedir(DIR *d);
/* What aw__dir_walk() calls for each entry: 0 to go on, 1 to stop, -1
 * to stop with errno. */
typedef int aw__dir_fn(int dirfd, const struct dirent *de, void *ctx);
/* The one directory walk: one readdir() pass over the directory dirfd
 * refers to (dirfd itself left as it is), calling fn(dirfd, entry, ctx)
 * for each entry but "." and "..", every step through this seam.  0 when
 * the pass ended or fn stopped it with 1; -1 with errno when the walk
 * (opendir, readdir) or fn failed. */
int aw__dir_walk(int dirfd, aw__dir_fn *fn, void *ctx);
off_t aw__lseek(int fd, off_t off, int whence);
int aw__ftruncate(int fd, off_t len);
/* Flushes the whole filesystem fd is on (syncfs; ENOSYS elsewhere). */
int aw__syncfs(int fd);
int aw__futimens(int fd, const struct timespec times[2]);
int aw__fchownat(int dirfd, const char *name, uid_t uid, gid_t gid, int flags);
/* XFS content exchange (AW_KEEP_INODE, exchange.c; xfs_exchange.h):
 * exchange swaps all of temp's contents (and size) with target's, both
 * descriptors open for writing; dsync flushes both before returning,
 * dry_run only checks.  start_commit records target's freshness (inode,
 * mtime, ctime) in fresh; commit exchanges as exchange does only if
 * target is still as fresh recorded (else EBUSY).  ENOTTY where the
 * filesystem has no such ioctl, EOPNOTSUPP where XFS lacks the feature;
 * EOPNOTSUPP without Linux. */
#define AW__XFS_FRESH_WORDS 6
int aw__xfs_exchange(int target, int temp, int dsync, int dry_run);
int aw__xfs_start_commit(int target, unsigned long long fresh[AW__XFS_FRESH_WORDS]);
int aw__xfs_commit(int target, int temp, int dsync,
                   const unsigned long long fresh[AW__XFS_FRESH_WORDS]);
/* Allocates fd's holes in [off, off + len) without changing its size or
 * what it reads (fallocate FALLOC_FL_KEEP_SIZE: unwritten blocks); sets
 * mtime and ctime.  EOPNOTSUPP without Linux. */
int aw__xfs_prealloc(int fd, off_t off, off_t len);

/* Fills buf with unpredictable bytes (never fails: falls back to a mix of
 * clock, pid and addresses, which O_EXCL makes safe if not secret). */
void aw__random(void *buf, size_t len);

#ifdef AW_TESTING
/*
 * Fault injection for tests (global state: test builds only).  Calls are
 * numbered from 1 in the order they are made, across all kinds, after
 * aw__fault_reset().  When the call numbered `nth` is made (and, with
 * `persistent`, every later call of the same kind), it fails with `err`
 * without reaching the kernel; an injected EINTR fails it once and the
 * wrapper's retry then reaches the kernel.  `kind` filters: -1 counts every
 * call, otherwise only calls of that kind are numbered.
 *
 * `err` may also be a fault other than an errno, for writes (calls of
 * other kinds are then only counted): AW_FAULT_SHORT_WRITE writes half of
 * what was asked (at least one byte) and returns that, AW_FAULT_ZERO_WRITE
 * writes nothing and returns 0, as write(2) may on a full device.
 */
#define AW_FAULT_SHORT_WRITE (-1)
#define AW_FAULT_ZERO_WRITE (-2)
struct aw_fault_plan {
	int kind;
	unsigned long nth;
	int err;          /* an errno, or one of the AW_FAULT_*_WRITE */
	int persistent;
};
void aw__fault_reset(void);
void aw__fault_set(const struct aw_fault_plan *plan);
/* Two more ways of the plan set just before (a reset clears them):
 * after: the call is made first and its success reported as the plan's
 * err (wrappers built on RETRY; the others fail before the call) - a
 * failure after the kernel did the work; before (may be NULL, err may be
 * 0: only the hook): called just before the plan's nth call, to change the
 * world between two of the library's calls. */
void aw__fault_extra(int after, void (*before)(void *arg), void *arg);
unsigned long aw__fault_calls(int kind);   /* kind -1: all calls */
int aw__fault_fired_kind(void);            /* kind of the failed call, or -1 */
/* The kinds of the first `max` calls since the reset, in order. */
size_t aw__fault_trace(int *kinds, size_t max);
const char *aw__sys_call_name(int kind);
/* The flags word (XFS_EXCHANGE_RANGE_*: 1 TO_EOF, 2 DSYNC, 4 DRY_RUN) of
 * the last content exchange or commit asked of the kernel. */
unsigned long long aw__xfs_last_flags(void);
#endif

#endif /* AW_SYS_H */
