/* SPDX-License-Identifier: MIT */
/*
 * harness.h - the unit-test harness.
 *
 *     TEST(replace_creates_file) { ... ASSERT_EQ(a, b); ... }
 *
 * Each TEST registers itself; the runner (harness.c) runs each in its own
 * forked process, inside a fresh empty directory that is its working
 * directory, with a timeout, and checks afterwards that the test left no
 * descriptor open.  A failed ASSERT prints both sides and ends that test.
 * `unit-tests NAME...` runs only tests whose name contains one of the NAMEs;
 * `-NAME` skips those whose name contains NAME (counted as skipped).
 */
#ifndef AW_HARNESS_H
#define AW_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

struct th_test {
	const char *name;
	const char *file;
	void (*fn)(void);
	struct th_test *next;
};
void th_register(struct th_test *t);

#define TEST(name)                                                      \
	static void test_##name(void);                                  \
	static struct th_test th_##name = { #name, __FILE__, test_##name, NULL }; \
	__attribute__((constructor)) static void th_reg_##name(void)   \
	{ th_register(&th_##name); }                                    \
	static void test_##name(void)

/* Ends the current test as failed / skipped. */
void th_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
void th_skip(const char *why) __attribute__((noreturn));
/* What a test's own time limits are multiplied by: 20 under valgrind
 * (AW_VALGRIND=1, make check-valgrind), else AW_TIMEOUT_SCALE (qemu-user:
 * tests/cross/run.sh) or 1.  The harness's per-test
 * timeout (120 s) is scaled by it too. */
unsigned th_timeout_scale(void);

#define ASSERT_TRUE(x) do { if (!(x)) \
	th_fail(__FILE__, __LINE__, "expected true: %s (errno %d: %s)", #x, errno, strerror(errno)); } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ == b_) th_fail(__FILE__, __LINE__, "%s != %s: both %lld", #a, #b, a_); } while (0)
#define ASSERT_STREQ(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (!a_ || !b_ || strcmp(a_, b_) != 0) th_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
		#a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
/* expr returns >= 0 */
#define ASSERT_OK(expr) do { long long r_ = (long long)(expr); if (r_ < 0) \
	th_fail(__FILE__, __LINE__, "%s returned %lld (errno %d: %s)", #expr, r_, errno, strerror(errno)); } while (0)
/* an aw_ call returns AW_OK; otherwise says what errno it failed with (on a
 * small real filesystem that is how ENOSPC shows itself) */
#define ASSERT_AW_OK(expr) do { long long r_ = (long long)(expr); if (r_ != AW_OK) \
	th_fail(__FILE__, __LINE__, "%s returned %lld (errno %d: %s)", #expr, r_, errno, strerror(errno)); } while (0)
/* expr returns < 0 with errno == err */
#define ASSERT_ERRNO(expr, err) do { errno = 0; long long r_ = (long long)(expr); int e_ = errno; \
	if (r_ >= 0 || e_ != (err)) th_fail(__FILE__, __LINE__, "%s: expected failure with %s, got %lld errno %d (%s)", \
		#expr, strerror(err), r_, e_, strerror(e_)); } while (0)

/* Helpers (all fail the test on error). */
void th_write_file(const char *path, const void *data, size_t len);
/* The whole file, NUL-terminated for convenience; *len gets its size. */
char *th_read_file(const char *path, size_t *len);
/* Asserts path holds exactly data. */
#define ASSERT_FILE(path, data, len) th_assert_file(__FILE__, __LINE__, path, data, len)
void th_assert_file(const char *file, int line, const char *path,
                    const void *data, size_t len);
/* Asserts directory dir holds no temporary file of ours. */
#define ASSERT_NO_TEMPS(dir) th_assert_no_temps(__FILE__, __LINE__, dir)
void th_assert_no_temps(const char *file, int line, const char *dir);
/* Number of entries in dir (. and .. too) for which match(name, ctx)
 * is true. */
int th_count_if(const char *dir, bool (*match)(const char *name, const void *ctx),
                const void *ctx);
/* Number of entries in dir other than . and .. */
int th_count_entries(const char *dir);
/* Number of entries in dir whose names start with prefix. */
int th_count_named(const char *dir, const char *prefix);
/* Number of our temporary files (".awtmp-...") in dir. */
int th_count_temps(const char *dir);

/*
 * A test tree of nfiles files, f0, sub/f1, f2, sub/f3 ... (the odd ones
 * in a directory "sub" made first), each holding "version N\n".
 * th_tree_fill() creates it under the directory dirfd; at the file
 * numbered kill_at (-1: none) it SIGKILLs the process instead, leaving a
 * half-built tree.  0, or -1 with errno set.
 * th_tree_version() reads it back through one descriptor of path: the
 * version all its files hold; TH_TREE_GONE if path cannot be opened or
 * one of its files does not exist (a reader that lost a race with a
 * version's removal);
 * -1 if they disagree or one cannot be read.
 */
int th_tree_fill(int dirfd, int nfiles, unsigned version, int kill_at);
#define TH_TREE_GONE (-2)
int th_tree_version(const char *path, int nfiles);
/* The number path holds (as atol() reads it), 0 if it does not exist. */
long th_read_number(const char *path);
/* Forks a child that begins replacing path with aw_options.flags flags
 * (and, if name, names its temporary file), writes "partial" and dies by
 * SIGKILL before committing.  Returns once it is dead. */
void th_kill_writer(const char *path, unsigned flags, bool name);

/* Extended attributes as Linux's setxattr(2)/getxattr(2) (macOS adds a
 * position and options, FreeBSD has extattr_*()).  The library keeps
 * attributes on Linux only, so elsewhere these fail with ENOTSUP and the
 * tests skip. */
int th_setxattr(const char *path, const char *name, const void *value, size_t size);
long th_getxattr(const char *path, const char *name, void *value, size_t size);
#if !defined(ENODATA) && defined(ENOATTR)
#define ENODATA ENOATTR   /* "no such attribute" (FreeBSD has no ENODATA) */
#endif

/* "PREFIX: " and strerror(err) as this libc words it (glibc's "Input/
 * output error" is musl's "I/O error"): what aw_error_format() gives for
 * an error at that step and path.  A static buffer, each call overwrites
 * it. */
const char *th_errmsg(const char *prefix, int err);

/* n bytes of deterministic pseudo-random data from seed (malloc'd). */
unsigned char *th_pattern(size_t n, unsigned seed);

#endif
