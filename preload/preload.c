/* SPDX-License-Identifier: MIT */
/*
 * preload.c - libatomicwrite-preload.so, the library `atomicwrite run`
 * puts in LD_PRELOAD: "open a regular file with O_TRUNC ... last close"
 * becomes aw_file_begin_at() ... aw_file_commit().  docs/run-design.md is
 * the design; the section numbers below are its sections.
 *
 * The library is linked in statically and kept private (preload.map
 * exports only the intercepted libc names).  Its own system calls come
 * back into these wrappers: a thread-local guard sends them to libc.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "atomicwrite.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
/* The hold lock (taken through the program's open file description) and
 * the claim (through a process's private one), one byte each. */
#define HOLD_OFF ((off_t)1 << 62)
#define CLAIM_OFF (HOLD_OFF + 1)

static __thread int in_aw __attribute__((tls_model("initial-exec")));

static struct {
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	FILE *(*fopen)(const char *, const char *);
	FILE *(*freopen)(const char *, const char *, FILE *);
	int (*fclose)(FILE *);
	int (*rename)(const char *, const char *);
	int (*renameat)(int, const char *, int, const char *);
	int (*renameat2)(int, const char *, int, const char *, unsigned int);
	int (*link)(const char *, const char *);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*flock)(int, int);
	int (*lockf)(int, int, off_t);
} real;

/* The configuration `atomicwrite run` passes in the environment. */
static struct {
	bool active;
	bool verbose;
	char *state;            /* AW_RUN_STATE: the records' directory */
	aw_durability durability;
	char **only, **except;  /* NULL-terminated glob lists */
	int log_fd;             /* AW_RUN_LOG, else 2 */
} cfg = { .log_fd = 2 };

/* One pending replacement, as this process sees it (section 2). */
struct entry {
	dev_t dev;
	ino_t ino;
	aw_file *f;     /* NULL: inherited through exec, commit by copy */
	int q;          /* this process's private descriptor of the inode */
	char *path;     /* the target, for messages */
};

static pthread_mutex_t reg_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct entry *ents;
static size_t n_ents, cap_ents;

static void resolve(void)
{
	if (real.close)
		return;
	real.openat = dlsym(RTLD_NEXT, "openat");
	real.dup2 = dlsym(RTLD_NEXT, "dup2");
	real.dup3 = dlsym(RTLD_NEXT, "dup3");
	real.close_range = dlsym(RTLD_NEXT, "close_range");
	real.fopen = dlsym(RTLD_NEXT, "fopen");
	real.freopen = dlsym(RTLD_NEXT, "freopen");
	real.fclose = dlsym(RTLD_NEXT, "fclose");
	real.rename = dlsym(RTLD_NEXT, "rename");
	real.renameat = dlsym(RTLD_NEXT, "renameat");
	real.renameat2 = dlsym(RTLD_NEXT, "renameat2");
	real.link = dlsym(RTLD_NEXT, "link");
	real.fcntl = dlsym(RTLD_NEXT, "fcntl");
	real.fcntl64 = dlsym(RTLD_NEXT, "fcntl64");
	real.flock = dlsym(RTLD_NEXT, "flock");
	real.lockf = dlsym(RTLD_NEXT, "lockf");
	__atomic_store_n(&real.close, (int (*)(int))dlsym(RTLD_NEXT, "close"), __ATOMIC_RELEASE);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[2 * PATH_MAX];
	int n = snprintf(buf, sizeof(buf), "atomicwrite run[%ld]: ", (long)getpid());
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	int saved = errno;
	ssize_t w = write(cfg.log_fd, buf, (size_t)n);
	(void)w;
	errno = saved;
}

static void say_error(const char *what, const aw_error *e)
{
	char msg[AW_ERROR_FORMAT_SIZE];
	say("%s: %s", what, aw_error_format(e, msg, sizeof(msg)));
}

/* ---- the registry --------------------------------------------------- */

static struct entry *find_ino(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < n_ents; i++)
		if (ents[i].dev == dev && ents[i].ino == ino)
			return &ents[i];
	return NULL;
}

/* The entry fd is a program's descriptor of, or NULL. */
static struct entry *find_fd(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	return find_ino(st.st_dev, st.st_ino);
}

static bool is_private(int fd)
{
	if (fd == cfg.log_fd && fd > 2)
		return true;
	for (size_t i = 0; i < n_ents; i++) {
		struct entry *e = &ents[i];
		if (fd == e->q || (e->f && (fd == aw_file_fd(e->f) || fd == aw_file_dirfd(e->f))))
			return true;
	}
	return false;
}

static int add_entry(const struct entry *e)
{
	if (n_ents == cap_ents) {
		size_t cap = cap_ents ? 2 * cap_ents : 8;
		struct entry *p = realloc(ents, cap * sizeof(*p));
		if (!p)
			return -1;
		ents = p;
		cap_ents = cap;
	}
	ents[n_ents] = *e;
	__atomic_store_n(&n_ents, n_ents + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Forgets e without committing: a forked copy of f is closed (an unnamed
 * temporary has no name to remove). */
static void drop_entry(struct entry *e)
{
	aw_file_discard(e->f);
	real.close(e->q);
	free(e->path);
	*e = ents[n_ents - 1];
	__atomic_store_n(&n_ents, n_ents - 1, __ATOMIC_RELEASE);
}

/* ---- records (section 2): DEV-INO in the state directory ------------ */

static void record_name(char *buf, size_t size, dev_t dev, ino_t ino)
{
	snprintf(buf, size, "%s/%llx-%llx", cfg.state, (unsigned long long)dev,
	         (unsigned long long)ino);
}

/* "FLAGS MODE\n" then the target's path relative to nothing (absolute). */
static int record_write(dev_t dev, ino_t ino, unsigned flags, mode_t mode, const char *path)
{
	char name[PATH_MAX];
	record_name(name, sizeof(name), dev, ino);
	/* A record of the same name is stale: its inode number is ours now. */
	int fd = real.openat(AT_FDCWD, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	char head[64];
	int n = snprintf(head, sizeof(head), "%u %o\n", flags, (unsigned)mode);
	size_t len = strlen(path);
	bool ok = write(fd, head, (size_t)n) == n && write(fd, path, len) == (ssize_t)len;
	real.close(fd);
	if (!ok)
		unlink(name);
	return ok ? 0 : -1;
}

static int record_read(dev_t dev, ino_t ino, unsigned *flags, mode_t *mode, char *path, size_t size)
{
	char name[PATH_MAX], buf[PATH_MAX + 64];
	record_name(name, sizeof(name), dev, ino);
	int fd = real.openat(AT_FDCWD, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	real.close(fd);
	unsigned m;
	char *nl;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	nl = strchr(buf, '\n');
	if (!nl || sscanf(buf, "%u %o", flags, &m) != 2 || strlen(nl + 1) >= size)
		return -1;
	*mode = (mode_t)m;
	strcpy(path, nl + 1);
	return 0;
}

static bool record_exists(dev_t dev, ino_t ino)
{
	char name[PATH_MAX];
	record_name(name, sizeof(name), dev, ino);
	return access(name, F_OK) == 0;
}

static void record_remove(dev_t dev, ino_t ino)
{
	char name[PATH_MAX];
	record_name(name, sizeof(name), dev, ino);
	unlink(name);
}

/* ---- the commit (section 3) ----------------------------------------- */

static int lock_byte(int fd, int cmd, short type, off_t off)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };
	int r;
	do
		r = fcntl(fd, cmd, &fl);
	while (r < 0 && errno == EINTR);
	if (r == 0 && cmd == F_OFD_GETLK)
		return fl.l_type != F_UNLCK;
	return r;
}

/* A private descriptor of the inode fd refers to, a new open file
 * description (read and write if the mode lets us, for the copy). */
static int open_proc(int fd, int flags)
{
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return real.openat(AT_FDCWD, p, flags);
}

static int reopen(int fd)
{
	int q = open_proc(fd, O_RDWR | O_CLOEXEC);
	return q >= 0 ? q : open_proc(fd, O_WRONLY | O_CLOEXEC);
}

/* The commit of a program that inherited the descriptor without f: a
 * replacement of its own, filled from the temporary file. */
static int commit_by_copy(struct entry *e, aw_error *err)
{
	unsigned flags;
	mode_t mode;
	char path[PATH_MAX];
	aw_file *f;
	if (record_read(e->dev, e->ino, &flags, &mode, path, sizeof(path)) < 0) {
		memset(err, 0, sizeof(*err));
		err->err = EIO;
		return AW_FAILED;
	}
	aw_options o = AW_OPTIONS_INIT;
	o.durability = cfg.durability;
	o.flags = flags;
	o.mode = mode;
	if (aw_file_begin_at(&f, AT_FDCWD, path, &o, err) < 0)
		return AW_FAILED;
	if (lseek(e->q, 0, SEEK_SET) < 0 || aw_file_copy_from(f, e->q, err) < 0) {
		aw_file_discard(f);
		return AW_FAILED;
	}
	return aw_file_commit(f, err);
}

/* After a commit by copy: a named temporary file (no O_TMPFILE: the
 * filesystem lacks it, or a POSIX build) whose f died in an exec still has
 * its name; it goes, if the name still is that very inode. */
static void remove_named_temp(const struct entry *e)
{
	char link[64], path[PATH_MAX];
	struct stat st;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", e->q);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return;
	path[n] = 0;
	const char *base = strrchr(path, '/');
	if (base && strncmp(base + 1, ".awtmp-", 7) == 0 && lstat(path, &st) == 0 &&
	    st.st_dev == e->dev && st.st_ino == e->ino)
		unlink(path);
}

/* Claims e (serialised with the other processes holding it), commits it
 * unless another process did, forgets it.  Returns 0, or -1 with errno
 * from a failed commit.  Called with the registry locked. */
static int claim_and_commit(struct entry *e)
{
	if (lock_byte(e->q, F_OFD_SETLKW, F_WRLCK, CLAIM_OFF) < 0)
		return 0;
	if (!record_exists(e->dev, e->ino)) {
		drop_entry(e);
		return 0;
	}
	aw_error err;
	int r;
	if (e->f) {
		r = aw_file_commit(e->f, &err);
	} else {
		r = commit_by_copy(e, &err);
		remove_named_temp(e);
	}
	e->f = NULL;
	record_remove(e->dev, e->ino);
	if (r == AW_OK) {
		if (cfg.verbose)
			say("committed %s", e->path);
	} else {
		say_error(r == AW_UNSYNCED ? "replaced, durability unknown" : "commit failed", &err);
	}
	drop_entry(e);
	if (r != AW_OK) {
		errno = err.err ? err.err : EIO;
		return -1;
	}
	return 0;
}

/* After a descriptor of e's file went away: if the hold lock is gone (no
 * descriptor of the program's open file description is left anywhere),
 * the commit.  Called with the registry locked. */
static int last_close(struct entry *e)
{
	int held = lock_byte(e->q, F_OFD_GETLK, F_WRLCK, HOLD_OFF);
	if (held != 0)
		return 0;     /* still held, or cannot tell: never early */
	return claim_and_commit(e);
}

/* Every entry tested (after a call that may have closed any of them).
 * Returns 0, or -1 with the errno of the first failed commit. */
static int check_all(void)
{
	int r = 0, saved = 0;
	for (size_t i = n_ents; i-- > 0;) {
		if (i < n_ents && last_close(&ents[i]) < 0 && r == 0) {
			r = -1;
			saved = errno;
		}
	}
	if (r < 0)
		errno = saved;
	return r;
}

/* ---- opening (section 1) -------------------------------------------- */

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == 0);
}

static bool matches(char **globs, const char *path)
{
	for (; globs && *globs; globs++)
		if (fnmatch(*globs, path, 0) == 0)
			return true;
	return false;
}

/* The absolute path of name relative to dirfd, into buf: the directory as
 * /proc/self/fd names it, plus the final name.  -1 if unknown. */
static int absolute(int dirfd, const char *name, char *buf, size_t size)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	char dir[PATH_MAX], link[64];
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -1;
	if (slash) {
		size_t n = slash == name ? 1 : (size_t)(slash - name);
		if (n >= sizeof(dir))
			return -1;
		memcpy(dir, name, n);
		dir[n] = 0;
	} else {
		strcpy(dir, ".");
	}
	int d = real.openat(dirfd, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return -1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", d);
	ssize_t n = readlink(link, dir, sizeof(dir) - 1);
	real.close(d);
	if (n <= 0 || dir[0] != '/')
		return -1;
	dir[n] = 0;
	if ((size_t)snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "", base) >= size)
		return -1;
	return 0;
}

static mode_t current_umask(void)
{
	FILE *s = real.fopen("/proc/self/status", "re");
	char line[128];
	unsigned m = 022;
	if (s) {
		while (fgets(line, sizeof(line), s))
			if (sscanf(line, "Umask: %o", &m) == 1)
				break;
		real.fclose(s);
	}
	return (mode_t)m;
}

/* Whether open(dirfd, path, flags) replaces a whole regular file we may
 * replace keeping its owner; *exists says whether it is there. */
static bool eligible(int dirfd, const char *path, int flags, bool *exists)
{
	struct stat st;
	if (!cfg.active || !path || (flags & O_ACCMODE) == O_RDONLY || !(flags & O_TRUNC) ||
	    (flags & (O_APPEND | O_EXCL | O_PATH | O_DIRECTORY | __O_TMPFILE)))
		return false;
	if (fstatat(dirfd, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) == 0) {
		*exists = true;
		return S_ISREG(st.st_mode) && st.st_nlink == 1 &&
		       (geteuid() == 0 || st.st_uid == geteuid()) &&
		       faccessat(dirfd, path, W_OK, AT_EACCESS) == 0;
	}
	*exists = false;
	return errno == ENOENT && (flags & O_CREAT);
}

/* Sets up the replacement; the program's descriptor, or -1 (then the
 * caller makes the real call). */
static int begin(int dirfd, const char *path, int flags, mode_t mode, const char *abs,
                 bool exists)
{
	aw_options o = AW_OPTIONS_INIT;
	aw_error err;
	aw_file *f = NULL;
	struct stat st;
	struct entry e = { .q = -1 };
	int low = -1, p = -1;
	o.durability = cfg.durability;
	o.flags = (flags & O_NOFOLLOW) ? 0 : AW_FOLLOW_SYMLINKS;
	if (!exists) {
		o.flags |= AW_MODE;
		o.mode = mode & ~current_umask() & 07777;
	}
	/* the lowest free number, which open() would have returned */
	low = real.openat(AT_FDCWD, "/", O_PATH | O_CLOEXEC);
	if (low < 0)
		return -1;
	if (aw_file_begin_at(&f, dirfd, path, &o, &err) < 0) {
		if (cfg.verbose)
			say_error("passed through", &err);
		goto fail;
	}
	/* the program's open file description, with the program's access */
	p = open_proc(aw_file_fd(f), (flags & (O_ACCMODE | O_SYNC | O_DSYNC | O_NONBLOCK |
	                                       O_NOATIME | O_DIRECT)) | O_CLOEXEC);
	if (p < 0 || real.dup3(p, low, flags & O_CLOEXEC) < 0)
		goto fail;
	real.close(p);
	p = low;
	low = -1;
	if (lock_byte(p, F_OFD_SETLK, F_WRLCK, HOLD_OFF) < 0 || fstat(p, &st) < 0)
		goto fail;
	e.dev = st.st_dev;
	e.ino = st.st_ino;
	e.q = reopen(p);
	e.path = strdup(abs);
	e.f = f;
	if (e.q < 0 || !e.path || record_write(e.dev, e.ino, o.flags, o.mode, abs) < 0)
		goto fail;
	if (add_entry(&e) < 0) {
		record_remove(e.dev, e.ino);
		goto fail;
	}
	if (cfg.verbose)
		say("replacing %s", abs);
	return p;
fail:
	if (cfg.verbose && f)
		say("passed through %s: %s", abs, strerror(errno));
	free(e.path);
	if (e.q >= 0)
		real.close(e.q);
	if (p >= 0)
		real.close(p);
	if (low >= 0)
		real.close(low);
	aw_file_discard(f);
	return -1;
}

/* open(2) for every variant: ours, or -2 for "make the real call". */
static int aw_open(int dirfd, const char *path, int flags, mode_t mode)
{
	bool exists;
	char abs[PATH_MAX];
	int fd = -2, saved = errno;
	resolve();
	if (in_aw || !cfg.active)
		return -2;
	in_aw = 1;
	if (eligible(dirfd, path, flags, &exists) && absolute(dirfd, path, abs, sizeof(abs)) == 0) {
		if (under(abs, "/proc") || under(abs, "/sys") ||
		    (under(abs, "/dev") && !under(abs, "/dev/shm")) || under(abs, cfg.state) || (cfg.only && !matches(cfg.only, abs)) ||
		    matches(cfg.except, abs)) {
			if (cfg.verbose)
				say("passed through %s (excluded)", abs);
		} else {
			pthread_mutex_lock(&reg_mutex);
			fd = begin(dirfd, path, flags, mode, abs, exists);
			pthread_mutex_unlock(&reg_mutex);
			if (fd < 0)
				fd = -2;
		}
	}
	in_aw = 0;
	errno = saved;
	return fd;
}

static int real_open(int dirfd, const char *path, int flags, mode_t mode)
{
	resolve();
	return real.openat(dirfd, path, flags, mode);
}

#define OPEN_MODE(flags, mode)                                                 \
	do {                                                                   \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                       \
			va_list ap;                                            \
			va_start(ap, flags);                                   \
			mode = (mode_t)va_arg(ap, int);                        \
			va_end(ap);                                            \
		}                                                              \
	} while (0)

static int any_open(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd = aw_open(dirfd, path, flags, mode);
	return fd != -2 ? fd : real_open(dirfd, path, flags, mode);
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return any_open(AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return any_open(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return any_open(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	return any_open(dirfd, path, flags | O_LARGEFILE, mode);
}

EXPORT int creat(const char *path, mode_t mode)
{
	return any_open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
	return any_open(AT_FDCWD, path, O_WRONLY | O_CREAT | O_TRUNC | O_LARGEFILE, mode);
}

/* The _FORTIFY_SOURCE entry points (no mode: O_CREAT is refused there). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

EXPORT int __open_2(const char *path, int flags)
{
	return any_open(AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
	return any_open(AT_FDCWD, path, flags | O_LARGEFILE, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return any_open(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return any_open(dirfd, path, flags | O_LARGEFILE, 0);
}

/* ---- locks on a pending file ------------------------------------------ */

/* A lock on the temporary file protects nothing (no one else can open
 * it), and would meet the library's flock() on it and the hold lock:
 * locks the program takes on a pending file's descriptor succeed without
 * being taken (section 5). */
static bool pending_fd(int fd)
{
	resolve();
	if (in_aw || !__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE))
		return false;
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	bool r = !is_private(fd) && find_fd(fd) != NULL;
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	return r;
}

static int any_fcntl(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
	switch (cmd) {
	case F_GETLK:
	case F_OFD_GETLK:
		if (pending_fd(fd)) {
			((struct flock *)arg)->l_type = F_UNLCK;
			return 0;
		}
		break;
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		if (pending_fd(fd))
			return 0;
		break;
	}
	return fn(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	return any_fcntl(real.fcntl, fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	return any_fcntl(real.fcntl64 ? real.fcntl64 : real.fcntl, fd, cmd, arg);
}

EXPORT int flock(int fd, int op)
{
	resolve();
	return pending_fd(fd) ? 0 : real.flock(fd, op);
}

EXPORT int lockf(int fd, int cmd, off_t len)
{
	resolve();
	return pending_fd(fd) ? 0 : real.lockf(fd, cmd, len);
}

EXPORT int lockf64(int fd, int cmd, off_t len)
{
	return lockf(fd, cmd, len);
}

/* ---- renames: a pending file renamed by its writer ------------------ */

/* The program renames (or links) the path of a pending replacement before
 * its last close (write, fsync, rename, close): the file must exist under
 * that name now, so it is committed now; later writes through the
 * program's descriptors go to it in place. */
static void commit_path_now(int dirfd, const char *path)
{
	char abs[PATH_MAX];
	resolve();
	if (in_aw || !path || !__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE))
		return;
	int saved = errno;
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	if (absolute(dirfd, path, abs, sizeof(abs)) == 0) {
		for (size_t i = 0; i < n_ents; i++) {
			if (strcmp(ents[i].path, abs) == 0) {
				claim_and_commit(&ents[i]);
				break;
			}
		}
	}
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	errno = saved;
}

EXPORT int rename(const char *from, const char *to)
{
	commit_path_now(AT_FDCWD, from);
	return real.rename(from, to);
}

EXPORT int renameat(int fromfd, const char *from, int tofd, const char *to)
{
	commit_path_now(fromfd, from);
	return real.renameat(fromfd, from, tofd, to);
}

EXPORT int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned flags)
{
	commit_path_now(fromfd, from);
	if (!real.renameat2) {
		errno = ENOSYS;
		return -1;
	}
	return real.renameat2(fromfd, from, tofd, to, flags);
}

EXPORT int link(const char *from, const char *to)
{
	commit_path_now(AT_FDCWD, from);
	return real.link(from, to);
}

/* ---- stdio ---------------------------------------------------------- */

/* fopen's flags for mode, if it is a truncating "w" mode; else -1. */
static int fopen_flags(const char *mode)
{
	if (!mode || mode[0] != 'w' || strchr(mode, 'x'))
		return -1;
	int flags = (strchr(mode, '+') ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
	return strchr(mode, 'e') ? flags | O_CLOEXEC : flags;
}

/* Forgets the replacement behind the program's descriptor fd, which was
 * never used, and closes fd. */
static void abandon(int fd)
{
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	struct entry *e = find_fd(fd);
	real.close(fd);
	if (e) {
		record_remove(e->dev, e->ino);
		drop_entry(e);
	}
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
}

static FILE *any_fopen(const char *path, const char *mode)
{
	int flags = fopen_flags(mode);
	int fd = flags < 0 ? -2 : aw_open(AT_FDCWD, path, flags, 0666);
	if (fd != -2) {
		FILE *fp = fdopen(fd, strchr(mode, '+') ? "w+" : "w");
		if (fp)
			return fp;
		abandon(fd);
	}
	resolve();
	return real.fopen(path, mode);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	return any_fopen(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	return any_fopen(path, mode);
}

/* After a call that may have closed a pending file's descriptor out of
 * our sight (glibc's internal close): the last-close test for all. */
static int after_hidden_close(void)
{
	if (!__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE) || in_aw)
		return 0;
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	int r = check_all();
	int saved = errno;
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	errno = saved;
	return r;
}

static FILE *any_freopen(const char *path, const char *mode, FILE *stream)
{
	int flags = path ? fopen_flags(mode) : -1;
	int fd = flags < 0 ? -2 : aw_open(AT_FDCWD, path, flags, 0666);
	resolve();
	if (fd == -2) {
		FILE *fp = real.freopen(path, mode, stream);
		int saved = errno;
		after_hidden_close();
		errno = saved;
		return fp;
	}
	/* the real freopen keeps the stream's descriptor number; ours is
	 * then put under it */
	FILE *fp = real.freopen("/dev/null", strchr(mode, '+') ? "w+" : "w", stream);
	after_hidden_close();
	if (!fp || real.dup3(fd, fileno(fp), flags & O_CLOEXEC) < 0) {
		abandon(fd);
		return fp ? real.freopen(path, mode, fp) : NULL;
	}
	real.close(fd);
	return fp;
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	return any_freopen(path, mode, stream);
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	return any_freopen(path, mode, stream);
}

EXPORT int fclose(FILE *fp)
{
	resolve();
	int r = real.fclose(fp);
	int saved = errno;
	if (after_hidden_close() < 0)
		return EOF;
	errno = saved;
	return r;
}

/* ---- descriptors ---------------------------------------------------- */

EXPORT int close(int fd)
{
	resolve();
	if (in_aw || !__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE))
		return real.close(fd);
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	int r;
	if (is_private(fd)) {
		r = 0;        /* ours: the program did not open it */
	} else {
		struct entry *e = find_fd(fd);
		r = real.close(fd);
		if (e && last_close(e) < 0)
			r = -1;
	}
	int saved = errno;
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	errno = saved;
	return r;
}

/* newfd, about to be replaced, is one of our private descriptors: the
 * entries using it let go of it (a lost f means a commit by copy). */
static void vacate(int newfd)
{
	for (size_t i = 0; i < n_ents; i++) {
		struct entry *e = &ents[i];
		if (e->f && (newfd == aw_file_fd(e->f) || newfd == aw_file_dirfd(e->f))) {
			aw_file_discard(e->f);
			e->f = NULL;
		}
		if (newfd == e->q) {
			int q = fcntl(e->q, F_DUPFD_CLOEXEC, 64);
			if (q >= 0)
				e->q = q;   /* the old number is the program's now */
		}
	}
	if (newfd == cfg.log_fd && newfd > 2) {
		int l = fcntl(newfd, F_DUPFD_CLOEXEC, 64);
		cfg.log_fd = l >= 0 ? l : 2;
	}
}

static int any_dup3(int oldfd, int newfd, int flags, bool is_dup2)
{
	resolve();
	if (in_aw || !__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE) || oldfd == newfd)
		return is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	if (is_private(newfd))
		vacate(newfd);
	struct entry *e = find_fd(newfd);
	int r = is_dup2 ? real.dup2(oldfd, newfd) : real.dup3(oldfd, newfd, flags);
	int saved = errno;
	if (r >= 0 && e && find_fd(newfd) != e && last_close(e) < 0)
		saved = errno;   /* the dup succeeded: the commit's error is only logged */
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	errno = saved;
	return r;
}

EXPORT int dup2(int oldfd, int newfd)
{
	return any_dup3(oldfd, newfd, 0, true);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	return any_dup3(oldfd, newfd, flags, false);
}

/* close_range() skips our private descriptors (section 5). */
EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	resolve();
	if (!real.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if (in_aw || !__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE) || (flags & CLOSE_RANGE_CLOEXEC))
		return real.close_range(first, last, flags);
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	int r = 0;
	unsigned int from = first;
	for (unsigned int fd = first; fd <= last && fd < 65536 * 16; fd++) {
		if (is_private((int)fd)) {
			if (fd > from && real.close_range(from, fd - 1, flags) < 0)
				r = -1;
			from = fd + 1;
		}
		if (fd == last)
			break;
	}
	if (from <= last && real.close_range(from, last, flags) < 0)
		r = -1;
	int saved = errno;
	check_all();
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
	errno = saved;
	return r;
}

EXPORT void closefrom(int lowfd)
{
	close_range(lowfd < 0 ? 0 : (unsigned int)lowfd, ~0U, 0);
}

/* ---- process life (section 3): fork, exec, exit --------------------- */

static void fork_prepare(void)
{
	pthread_mutex_lock(&reg_mutex);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&reg_mutex);
}

/* The child's own private descriptors, so that parent and child claim
 * against each other. */
static void fork_child(void)
{
	in_aw = 1;
	for (size_t i = 0; i < n_ents; i++) {
		int q = reopen(ents[i].q);
		if (q >= 0) {
			real.dup3(q, ents[i].q, O_CLOEXEC);
			real.close(q);
		}
	}
	in_aw = 0;
	pthread_mutex_unlock(&reg_mutex);
}

/* The pending files an exec'd program inherited: each descriptor whose
 * inode has a record. */
static void adopt_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		struct stat st;
		if (de->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0 ||
		    !S_ISREG(st.st_mode) || find_ino(st.st_dev, st.st_ino) ||
		    !record_exists(st.st_dev, st.st_ino))
			continue;
		struct entry e = { .dev = st.st_dev, .ino = st.st_ino, .q = reopen(fd) };
		/* A record outlives a killed writer, and the inode number may be
		 * another file's now: only a file with our hold lock is ours. */
		if (e.q >= 0 && lock_byte(e.q, F_OFD_GETLK, F_WRLCK, HOLD_OFF) != 1) {
			real.close(e.q);
			continue;
		}
		unsigned flags;
		mode_t mode;
		char path[PATH_MAX];
		if (record_read(st.st_dev, st.st_ino, &flags, &mode, path, sizeof(path)) < 0)
			path[0] = 0;
		e.path = strdup(path);
		if (e.q < 0 || !e.path || add_entry(&e) < 0) {
			if (e.q >= 0)
				real.close(e.q);
			free(e.path);
			say("cannot follow the pending %s: it commits at another holder's end or not at all",
			    path);
		}
	}
	closedir(d);
}

static char **split_globs(const char *s)
{
	if (!s || !*s)
		return NULL;
	size_t n = 2;
	for (const char *p = s; *p; p++)
		n += *p == '\n';
	char **v = calloc(n, sizeof(*v));
	char *copy = strdup(s);
	if (!v || !copy)
		return NULL;
	size_t i = 0;
	for (char *tok = strtok(copy, "\n"); tok; tok = strtok(NULL, "\n"))
		v[i++] = tok;
	return v;
}

/* ---- the fault seam (test builds only) ------------------------------ */

#ifdef AW_TESTING
/* libatomicwrite-preload-seam.so (make run-tools): the library inside is
 * built with the seam (src/sys.h), configured once at load from
 * AW_PRELOAD_FAULT="N:ERRNO[:persistent]" (fail this process's N-th
 * library system call with ERRNO, a number or a name: EIO, ENOSPC...), and
 * AW_PRELOAD_CALLS=FILE: at exit, one line "PID CALLS FIRED KIND..." is
 * appended to FILE: the seam calls this process made, the kind of call
 * the fault fired on ("-" if none), then the kind of every call in order
 * (so a sweep knows N's range and which N come after the rename). */
#include "sys.h"

static int seam_errno(const char *s)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOMEM", ENOMEM }, { "EMFILE", EMFILE },
		{ "EINTR", EINTR }, { "EXDEV", EXDEV },
	};
	char *end;
	long n = strtol(s, &end, 10);
	if (end != s && (*end == 0 || *end == ':'))
		return (int)n;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t len = strlen(names[i].name);
		if (strncmp(s, names[i].name, len) == 0 && (s[len] == 0 || s[len] == ':'))
			return names[i].err;
	}
	return 0;
}

static void seam_init(void)
{
	const char *v = getenv("AW_PRELOAD_FAULT");
	char *end;
	if (!v || !*v)
		return;
	struct aw_fault_plan plan = { -1, strtoul(v, &end, 10), 0, 0 };
	if (*end == ':')
		plan.err = seam_errno(end + 1);
	const char *last = strrchr(v, ':');
	plan.persistent = last && strcmp(last, ":persistent") == 0;
	if (plan.nth > 0 && plan.err > 0)
		aw__fault_set(&plan);
}

static void seam_report(void)
{
	static int done;
	const char *path = getenv("AW_PRELOAD_CALLS");
	if (!path || !*path || done++)
		return;
	static int kinds[4096];
	size_t n = aw__fault_trace(kinds, sizeof(kinds) / sizeof(kinds[0]));
	int fired = aw__fault_fired_kind();
	int fd = real.openat(AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	FILE *s = fd >= 0 ? fdopen(fd, "a") : NULL;
	if (!s) {
		if (fd >= 0)
			real.close(fd);
		return;
	}
	fprintf(s, "%ld %lu %s", (long)getpid(), aw__fault_calls(-1),
	        fired >= 0 ? aw__sys_call_name(fired) : "-");
	for (size_t i = 0; i < n; i++)
		fprintf(s, " %s", aw__sys_call_name(kinds[i]));
	fputc('\n', s);
	real.fclose(s);
}
#else
static void seam_init(void)
{
}

static void seam_report(void)
{
}
#endif

__attribute__((constructor)) static void preload_init(void)
{
	resolve();
	in_aw = 1;
	seam_init();
	const char *state = getenv("AW_RUN_STATE");
	const char *dur = getenv("AW_RUN_DURABILITY");
	const char *log = getenv("AW_RUN_LOG");
	cfg.verbose = getenv("AW_RUN_VERBOSE") && strcmp(getenv("AW_RUN_VERBOSE"), "1") == 0;
	cfg.durability = !dur || strcmp(dur, "full") == 0 ? AW_DURABILITY_FULL :
	                 strcmp(dur, "file") == 0 ? AW_DURABILITY_FILE : AW_DURABILITY_NONE;
	cfg.only = split_globs(getenv("AW_RUN_ONLY"));
	cfg.except = split_globs(getenv("AW_RUN_EXCEPT"));
	if (log && *log) {
		int fd = real.openat(AT_FDCWD, log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			cfg.log_fd = fcntl(fd, F_DUPFD_CLOEXEC, 64);
			real.close(fd);
			if (cfg.log_fd < 0)
				cfg.log_fd = 2;
		}
	}
	struct stat st;
	if (state && state[0] == '/' && stat(state, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (cfg.state = strdup(state))) {
		pthread_atfork(fork_prepare, fork_parent, fork_child);
		adopt_inherited();
		cfg.active = true;
	}
	in_aw = 0;
}

/* exit(): flush stdio (its own flush comes after this), close this
 * process's descriptors of each pending file, and commit what this
 * process held last; failures can only be logged. */
static void close_all_of(struct entry *e)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		struct stat st;
		if (de->d_name[0] != '.' && fd != dirfd(d) && !is_private(fd) &&
		    fstat(fd, &st) == 0 && st.st_dev == e->dev && st.st_ino == e->ino)
			real.close(fd);
	}
	closedir(d);
}

/* The commits of a process that ends: stdio flushed first where exit()
 * would flush it after us (not for _exit). */
static void commit_at_end(bool flush)
{
	if (!__atomic_load_n(&n_ents, __ATOMIC_ACQUIRE) || in_aw)
		return;
	if (flush)
		fflush(NULL);
	in_aw = 1;
	pthread_mutex_lock(&reg_mutex);
	for (size_t i = 0; i < n_ents; i++)
		close_all_of(&ents[i]);
	for (size_t i = n_ents; i-- > 0;)
		if (i < n_ents)
			last_close(&ents[i]);   /* a failure is logged there */
	pthread_mutex_unlock(&reg_mutex);
	in_aw = 0;
}

__attribute__((destructor)) static void preload_fini(void)
{
	commit_at_end(true);
	seam_report();
}

/* _exit() (dash's way out, os._exit(), a child after a failed exec): its
 * descriptors close too, so the last holder commits here. */
EXPORT __attribute__((noreturn)) void _exit(int status)
{
	resolve();
	commit_at_end(false);
	seam_report();
	void (*real_exit)(int) = (void (*)(int))dlsym(RTLD_NEXT, "_exit");
	real_exit(status);
	__builtin_unreachable();
}

EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	_exit(status);
}
