/* SPDX-License-Identifier: MIT */
/*
 * test_keep_inode.c - AW_KEEP_INODE and AW_IF_UNCHANGED (issue 14).  The
 * tests that need an XFS with the exchange feature run in a fresh
 * directory of $AW_XFSX_DIR, which tests/xfs-exchange.sh mounts (make
 * check runs them through tests/cli/test_keep_inode.sh as root); without
 * it they are skipped with the reason.  The other filesystems it mounts
 * ($AW_XFSX_PLAIN, $AW_XFSX_EXT4, $AW_XFSX_BTRFS, $AW_XFSX_TMPFS) show
 * EOPNOTSUPP.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#ifdef __linux__
#include "xfs_exchange.h"

#include <sys/ioctl.h>
/* FIEMAP needs the kernel's headers, which a musl toolchain lacks. */
#if defined(__has_include)
#if __has_include(<linux/fiemap.h>) && __has_include(<linux/fs.h>)
#include <linux/fiemap.h>
#include <linux/fs.h>
#define T_HAVE_FIEMAP 1
#endif
#endif
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/xattr.h>
#include <unistd.h>

static const char OLD[] = "old contents, longer than the new ones";
static const char NEW[] = "new contents";

/* Into a fresh directory on the filesystem named by env (made 0777 so an
 * unprivileged writer may create its temporary there). */
static void enter(const char *env)
{
	const char *base = getenv(env);
	if (!base || !*base) {
		char why[160];
		snprintf(why, sizeof why, "%s not set: runs on the filesystem "
		         "tests/xfs-exchange.sh mounts (root)", env);
		th_skip(why);
	}
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/t.XXXXXX", base);
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	ASSERT_OK(chmod(dir, 0777));
	ASSERT_OK(chdir(dir));
}

static ino_t ino_of(const char *path)
{
	struct stat st;
	ASSERT_OK(stat(path, &st));
	return st.st_ino;
}

static int keep_replace(const char *path, const char *data, unsigned flags,
                        aw_durability d, aw_error *e)
{
	aw_options o = { sizeof o, d, AW_KEEP_INODE | flags, 0 };
	return aw_file_replace(path, data, strlen(data), &o, e);
}

TEST(keep_inode_keeps_inode_links_mode_and_xattrs)
{
	enter("AW_XFSX_DIR");
	th_write_file("t", OLD, sizeof OLD - 1);
	ASSERT_OK(chmod("t", 0640));
	ASSERT_OK(link("t", "hard"));
	ASSERT_OK(setxattr("t", "user.kept", "yes", 3, 0));
	ino_t ino = ino_of("t");
	aw_error e;
	ASSERT_AW_OK(keep_replace("t", NEW, 0, AW_DURABILITY_FULL, &e));
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
	ASSERT_FILE("hard", NEW, sizeof NEW - 1);
	ASSERT_EQ(ino_of("t"), ino);
	struct stat st;
	ASSERT_OK(stat("t", &st));
	ASSERT_EQ(st.st_mode & 07777, 0640);
	ASSERT_EQ(st.st_nlink, 2);
	char v[8];
	ASSERT_EQ(getxattr("t", "user.kept", v, sizeof v), 3);
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 2);
}

TEST(keep_inode_every_durability_and_named_temp)
{
	enter("AW_XFSX_DIR");
	static const unsigned flags[] = { 0, AW_NO_TMPFILE, AW_IF_UNCHANGED,
	                                  AW_IF_UNCHANGED | AW_NO_TMPFILE };
	th_write_file("t", OLD, sizeof OLD - 1);
	ino_t ino = ino_of("t");
	for (int d = AW_DURABILITY_FULL; d <= AW_DURABILITY_NONE; d++)
		for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
			char data[64];
			snprintf(data, sizeof data, "contents %d %zu\n", d, i);
			aw_error e;
			ASSERT_AW_OK(keep_replace("t", data, flags[i], d, &e));
			ASSERT_FILE("t", data, strlen(data));
			ASSERT_EQ(ino_of("t"), ino);
			ASSERT_NO_TEMPS(".");
		}
	ASSERT_EQ(th_count_entries("."), 1);
}

/* FULL and FILE: the exchange, then an fsync of the target; NONE: no
 * fsync; never DSYNC, which would log the exchange's intent alone (the
 * header's KEEPING THE INODE). */
TEST(keep_inode_flushes_per_durability)
{
	enter("AW_XFSX_DIR");
	static const struct { aw_durability d; unsigned long fsyncs; } want[] = {
		{ AW_DURABILITY_FULL, 1 },
		{ AW_DURABILITY_FILE, 1 },
		{ AW_DURABILITY_NONE, 0 },
	};
	th_write_file("t", OLD, sizeof OLD - 1);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		for (unsigned flags = 0; flags <= AW_IF_UNCHANGED; flags += AW_IF_UNCHANGED) {
			aw__fault_reset();
			aw_error e;
			ASSERT_AW_OK(keep_replace("t", NEW, flags, want[i].d, &e));
			ASSERT_EQ(aw__fault_calls(AW_SYS_FSYNC), want[i].fsyncs);
			ASSERT_EQ(aw__fault_calls(flags ? AW_SYS_XFS_COMMIT : AW_SYS_XFS_EXCHANGE),
			          2);   /* start + commit, or dry run + exchange */
			unsigned long long f = aw__xfs_last_flags();
			ASSERT_EQ(f & 2, 0);                      /* no DSYNC */
			ASSERT_EQ(f & 4, 0);                      /* not a dry run */
			ASSERT_EQ(f & 1, 1);                      /* TO_EOF */
		}
}

#ifdef T_HAVE_FIEMAP
/* Bytes of [0, len) that path has blocks for (FIEMAP; unwritten ones
 * count), or -1. */
static long long mapped_below(const char *path, off_t len)
{
	enum { N = 64 };
	struct fiemap *m = calloc(1, sizeof *m + N * sizeof(struct fiemap_extent));
	if (!m)
		return -1;
	m->fm_length = (unsigned long long)len;
	m->fm_extent_count = N;
	long long sum = -1;
	int fd = open(path, O_RDONLY);
	if (fd >= 0 && ioctl(fd, FS_IOC_FIEMAP, m) == 0 && m->fm_mapped_extents < N) {
		sum = 0;
		for (unsigned i = 0; i < m->fm_mapped_extents; i++) {
			unsigned long long a = m->fm_extents[i].fe_logical;
			unsigned long long b = a + m->fm_extents[i].fe_length;
			if (b > (unsigned long long)len)
				b = (unsigned long long)len;
			if (b > a)
				sum += (long long)(b - a);
		}
	}
	if (fd >= 0)
		close(fd);
	free(m);
	return sum;
}

static long long mapped_at_exchange;
static void note_mapped(void *arg)
{
	mapped_at_exchange = mapped_below("t", *(off_t *)arg);
}
#endif

/* The allocation of the target's holes asks only for the holes: XFS
 * reserves room for all of a range given to fallocate, so asking for the
 * whole file would refuse a small edit of a large file on a disk with less
 * free than the file (ENOSPC).  The filler is removed before any assertion,
 * so a failure leaves the filesystem usable for the other tests. */
TEST(keep_inode_edit_of_a_large_file_needs_no_room_for_it)
{
#ifndef __linux__
	th_skip("XFS exchange: Linux only");
#else
	enter("AW_XFSX_DIR");
	size_t big = 64u << 20;
	unsigned char *data = th_pattern(big, 5);
	th_write_file("t", data, big);
	struct statvfs sv;
	ASSERT_OK(statvfs(".", &sv));
	off_t room = (off_t)sv.f_bavail * (off_t)sv.f_frsize;
	off_t keep_free = 16 << 20;
	if (room < keep_free * 2)
		th_skip("too little room on the exchange XFS for this test");
	int filler = open("filler", O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(filler >= 0);
	int fill_ok = fallocate(filler, 0, 0, room - keep_free) == 0;
	close(filler);
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | AW_COPY_TARGET, 0 };
	aw_file *f = NULL;
	aw_error e;
	memset(&e, 0, sizeof e);
	int begun = fill_ok ? aw_file_begin(&f, "t", &o, &e) : -1;
	int wrote = begun == 0 && pwrite(aw_file_fd(f), "edit", 4, 1 << 20) == 4;
	int r = wrote ? aw_file_commit(f, &e) : AW_FAILED;
	if (begun == 0 && !wrote)
		aw_file_discard(f);
	unlink("filler");
	ASSERT_TRUE(fill_ok);
	ASSERT_EQ(begun, 0);
	ASSERT_TRUE(wrote);
	if (r != AW_OK)
		th_fail(__FILE__, __LINE__, "commit: %s at %s", strerror(e.err), aw_step_name(e.step));
	memcpy(data + (1 << 20), "edit", 4);
	ASSERT_FILE("t", data, big);
	ASSERT_NO_TEMPS(".");
	free(data);
#endif
}

/* XFS's log recovery loses the blocks an exchange cut short must move into
 * a hole of the target (exchange.c, keep_prealloc()): at the exchange the
 * target has blocks under all of the new size, a longer version into a
 * short file or a sparse one; not with AW_IF_UNCHANGED (no allocation:
 * it would change the ctime the commit checks). */
TEST(keep_inode_exchange_finds_no_hole_in_the_target)
{
#ifndef T_HAVE_FIEMAP
	th_skip("no <linux/fiemap.h> here (XFS exchange: Linux, with its headers)");
#else
	enter("AW_XFSX_DIR");
	size_t n = 3 * 4096 + 100;
	unsigned char *data = th_pattern(n, 3);
	for (int sparse = 0; sparse <= 1; sparse++)
		for (unsigned flags = 0; flags <= AW_IF_UNCHANGED; flags += AW_IF_UNCHANGED) {
			th_write_file("t", OLD, sizeof OLD - 1);
			if (sparse) {
				int fd = open("t", O_WRONLY);
				ASSERT_TRUE(fd >= 0);
				ASSERT_EQ(pwrite(fd, "x", 1, 5 * 4096), 1);
				close(fd);
			}
			off_t len = (off_t)n;
			aw__fault_reset();
			struct aw_fault_plan p = { AW_SYS_XFS_EXCHANGE, 2, 0, 0 };
			if (flags)
				p = (struct aw_fault_plan){ AW_SYS_XFS_COMMIT, 2, 0, 0 };
			aw__fault_set(&p);
			aw__fault_extra(0, note_mapped, &len);
			mapped_at_exchange = -2;
			aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | flags, 0 };
			aw_error e;
			ASSERT_AW_OK(aw_file_replace("t", data, n, &o, &e));
			aw__fault_reset();
			ASSERT_FILE("t", data, n);
			if (flags) {
				ASSERT_TRUE(mapped_at_exchange < (long long)n);
			} else {
				ASSERT_EQ(mapped_at_exchange, (long long)n);
			}
			ASSERT_NO_TEMPS(".");
		}
	free(data);
#endif
}

/* The setup of a power cut between the exchange and the target's fsync,
 * for test_keep_inode.sh (AW_XFSX_CRASH="OLDLEN NEWLEN lib|old", in a
 * directory of its own on the exchange XFS): t.old and t.new (durable),
 * t with t.old's bytes, then the commit of t.new's, the filesystem shut
 * down without a log flush just before the fsync (lib: AW_KEEP_INODE at
 * FULL; old: the exchange as the library made it before round 4, DSYNC,
 * no allocation, the control).  The script mounts it again (log
 * recovery) and compares. */
#ifdef __linux__
#ifndef XFS_IOC_GOINGDOWN
#define XFS_IOC_GOINGDOWN _IOR('X', 125, uint32_t)
#endif
static void shut_down(void *arg)
{
	uint32_t how = 2;   /* XFS_FSOP_GOING_FLAGS_NOLOGFLUSH */
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(ioctl(fd, XFS_IOC_GOINGDOWN, &how));
	close(fd);
	(void)arg;
}
#endif

TEST(xfs_crash_between_exchange_and_fsync)
{
#ifndef __linux__
	th_skip("XFS exchange: Linux only");
#else
	const char *how = getenv("AW_XFSX_CRASH");
	size_t n1, n2;
	char mode[8];
	if (!how || sscanf(how, "%zu %zu %7s", &n1, &n2, mode) != 3)
		th_skip("AW_XFSX_CRASH not set: test_keep_inode.sh runs it, then mounts again");
	ASSERT_OK(chdir(getenv("AW_XFSX_CRASH_DIR")));
	unsigned char *a = th_pattern(n1, 1), *b = th_pattern(n2, 2);
	th_write_file("t.old", a, n1);
	th_write_file("t.new", b, n2);
	th_write_file("t", a, n1);
	sync();
	if (!strcmp(mode, "old")) {
		int t = open("t", O_RDWR), tmp = open(".", O_TMPFILE | O_RDWR, 0644);
		ASSERT_TRUE(t >= 0 && tmp >= 0);
		ASSERT_EQ(write(tmp, b, n2), (ssize_t)n2);
		struct xfs_exchange_range x = { .file1_fd = tmp,
		        .flags = XFS_EXCHANGE_RANGE_TO_EOF | XFS_EXCHANGE_RANGE_DSYNC };
		ASSERT_OK(ioctl(t, XFS_IOC_EXCHANGE_RANGE, &x));
		shut_down(NULL);
		close(tmp);
		close(t);
	} else {
		aw__fault_reset();
		struct aw_fault_plan p = { AW_SYS_FSYNC, 1, 0, 0 };
		aw__fault_set(&p);
		aw__fault_extra(0, shut_down, NULL);
		aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE, 0 };
		aw_error e;
		ASSERT_EQ(aw_file_replace("t", b, n2, &o, &e), AW_UNSYNCED);
		aw__fault_reset();
	}
	free(a);
	free(b);
#endif
}

TEST(keep_inode_copy_target_edits_a_clone_in_place)
{
	enter("AW_XFSX_DIR");
	size_t n = 4 << 20;
	unsigned char *big = th_pattern(n, 7);
	th_write_file("big", big, n);
	ino_t ino = ino_of("big");
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | AW_COPY_TARGET, 0 };
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "big", &o, &e));
	ASSERT_EQ(pwrite(aw_file_fd(f), "EDIT", 4, 1000000), 4);
	ASSERT_AW_OK(aw_file_commit(f, &e));
	memcpy(big + 1000000, "EDIT", 4);
	ASSERT_FILE("big", big, n);
	ASSERT_EQ(ino_of("big"), ino);
	ASSERT_NO_TEMPS(".");
	free(big);
}

TEST(keep_inode_unprivileged_writer_keeps_the_owner)
{
	if (geteuid() != 0)
		th_skip("needs root to make a file owned by another user");
	enter("AW_XFSX_DIR");
	th_write_file("t", OLD, sizeof OLD - 1);
	ASSERT_OK(chown("t", 4242, 4243));
	ASSERT_OK(chmod("t", 0666));
	ino_t ino = ino_of("t");
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(2);
		aw_error e;
		_exit(keep_replace("t", NEW, 0, AW_DURABILITY_FULL, &e) == AW_OK ? 0 : 1);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	struct stat st;
	ASSERT_OK(stat("t", &st));
	ASSERT_EQ(st.st_uid, 4242);
	ASSERT_EQ(st.st_gid, 4243);
	ASSERT_EQ(st.st_ino, ino);
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
	ASSERT_NO_TEMPS(".");
}

TEST(keep_inode_refuses_a_missing_target_and_a_symlink)
{
	enter("AW_XFSX_DIR");
	aw_error e;
	ASSERT_EQ(keep_replace("t", NEW, 0, AW_DURABILITY_FULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(e.step, AW_STEP_OPEN_TARGET);
	ASSERT_OK(symlink("elsewhere", "link"));
	ASSERT_EQ(keep_replace("link", NEW, 0, AW_DURABILITY_FULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(e.step, AW_STEP_TARGET_TYPE);
	ASSERT_EQ(th_count_entries("."), 1);
}

/* No exchange filesystem needed: the flags' checks come first. */
TEST(keep_inode_refuses_flags_it_cannot_honour)
{
	static const unsigned bad[] = { AW_NO_CLOBBER, AW_MODE, AW_NO_KEEP_OWNER_XATTRS };
	th_write_file("t", OLD, sizeof OLD - 1);
	aw_error e;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | bad[i], 0 };
		ASSERT_EQ(aw_file_replace("t", NEW, 3, &o, &e), AW_FAILED);
		ASSERT_EQ(e.err, EINVAL);
		ASSERT_EQ(e.step, AW_STEP_ARGS);
		o.flags = AW_IF_UNCHANGED | bad[i];
		ASSERT_EQ(aw_file_replace("t", NEW, 3, &o, &e), AW_FAILED);
		ASSERT_EQ(e.err, EINVAL);
	}
	aw_batch_options bo = { .size = sizeof bo, .flags = AW_KEEP_INODE };
	aw_batch *b;
	ASSERT_ERRNO(aw_batch_new(&b, &bo, &e), EINVAL);
	ASSERT_FILE("t", OLD, sizeof OLD - 1);
	ASSERT_EQ(th_count_entries("."), 1);
}

TEST(keep_inode_backup_is_refused)
{
	enter("AW_XFSX_DIR");
	th_write_file("t", OLD, sizeof OLD - 1);
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE, 0 };
	aw_file *f;
	aw_error e;
	ASSERT_EQ(aw_file_begin(&f, "t", &o, &e), 0);
	ASSERT_ERRNO(aw_file_keep_backup(f, "~", &e), EINVAL);
	aw_file_discard(f);
	ASSERT_FILE("t", OLD, sizeof OLD - 1);
	ASSERT_EQ(th_count_entries("."), 1);
}

static void expect_unsupported(const char *env)
{
	enter(env);
	th_write_file("t", OLD, sizeof OLD - 1);
	static const unsigned flags[] = { 0, AW_IF_UNCHANGED, AW_NO_TMPFILE };
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		aw_error e;
		aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | flags[i], 0 };
		aw_file *f = NULL;
		ASSERT_EQ(aw_file_begin(&f, "t", &o, &e), -1);
		ASSERT_EQ(e.err, EOPNOTSUPP);
		ASSERT_EQ(e.step, AW_STEP_EXCHANGE_CONTENTS);
		ASSERT_TRUE(f == NULL);
		ASSERT_FILE("t", OLD, sizeof OLD - 1);
		ASSERT_NO_TEMPS(".");
		ASSERT_EQ(th_count_entries("."), 1);
	}
}

TEST(keep_inode_eopnotsupp_on_xfs_without_exchange) { expect_unsupported("AW_XFSX_PLAIN"); }
TEST(keep_inode_eopnotsupp_on_ext4) { expect_unsupported("AW_XFSX_EXT4"); }
TEST(keep_inode_eopnotsupp_on_btrfs) { expect_unsupported("AW_XFSX_BTRFS"); }
TEST(keep_inode_eopnotsupp_on_tmpfs) { expect_unsupported("AW_XFSX_TMPFS"); }

/* begin, then change(), then write and commit with AW_IF_UNCHANGED. */
static int if_unchanged_after(void (*change)(void), aw_error *e)
{
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_IF_UNCHANGED, 0 };
	aw_file *f;
	if (aw_file_begin(&f, "t", &o, e) < 0)
		return -100;
	if (change)
		change();
	if (aw_file_write(f, NEW, sizeof NEW - 1, e) < 0)
		return -101;
	return aw_file_commit(f, e);
}

static void append_x(void)
{
	int fd = open("t", O_WRONLY | O_APPEND);
	ASSERT_EQ(write(fd, "x", 1), 1);
	close(fd);
}

static void overwrite_same_size(void)
{
	int fd = open("t", O_WRONLY);
	ASSERT_EQ(pwrite(fd, "O", 1, 0), 1);
	close(fd);
}

static void chmod_only(void)
{
	ASSERT_OK(chmod("t", 0600));
}

TEST(if_unchanged_commits_an_untouched_target_and_refuses_a_changed_one)
{
	enter("AW_XFSX_DIR");
	aw_error e;
	th_write_file("t", OLD, sizeof OLD - 1);
	ino_t ino = ino_of("t");
	ASSERT_AW_OK(if_unchanged_after(NULL, &e));
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
	void (*changes[])(void) = { append_x, overwrite_same_size, chmod_only };
	for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
		th_write_file("t", OLD, sizeof OLD - 1);
		ASSERT_EQ(if_unchanged_after(changes[i], &e), AW_FAILED);
		ASSERT_EQ(e.err, EBUSY);
		ASSERT_EQ(e.step, AW_STEP_TARGET_CHANGED);
		size_t len;
		char *got = th_read_file("t", &len);
		ASSERT_TRUE(strcmp(got, NEW) != 0);   /* the change, not ours */
		free(got);
		ASSERT_NO_TEMPS(".");
		ASSERT_EQ(th_count_entries("."), 1);
	}
	ASSERT_EQ(ino_of("t"), ino);
	char buf[AW_ERROR_FORMAT_SIZE];
	ASSERT_TRUE(strstr(aw_error_format(&e, buf, sizeof buf), "changed") != NULL);
}

/* What readers and writers holding the file open see (the header's
 * KEEPING THE INODE). */
TEST(keep_inode_open_readers_mmap_and_appenders_see_the_new_contents)
{
	enter("AW_XFSX_DIR");
	char old[8192], neu[8192];
	memset(old, 'o', sizeof old);
	memset(neu, 'n', sizeof neu);
	th_write_file("t", old, sizeof old);
	int rd = open("t", O_RDONLY);
	int ap = open("t", O_WRONLY | O_APPEND);
	ASSERT_OK(rd);
	ASSERT_OK(ap);
	char *map = mmap(NULL, sizeof old, PROT_READ, MAP_SHARED, rd, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	char buf[4096];
	ASSERT_EQ(read(rd, buf, 4096), 4096);
	ASSERT_EQ(map[0], 'o');

	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE, 0 };
	aw_file *f;
	aw_error e;
	ASSERT_EQ(aw_file_begin(&f, "t", &o, &e), 0);
	ASSERT_EQ(write(ap, "LOST", 4), 4);      /* between begin and commit */
	ASSERT_OK(aw_file_write(f, neu, sizeof neu, &e));
	ASSERT_AW_OK(aw_file_commit(f, &e));

	/* the open reader goes on at its offset, in the new contents */
	ASSERT_EQ(read(rd, buf, 4096), 4096);
	ASSERT_EQ(buf[0], 'n');
	ASSERT_EQ(map[0], 'n');
	ASSERT_EQ(map[sizeof old - 1], 'n');
	ASSERT_EQ(write(ap, "A", 1), 1);          /* after: at the new end */
	size_t len;
	char *got = th_read_file("t", &len);
	ASSERT_EQ(len, sizeof neu + 1);
	ASSERT_EQ(got[sizeof neu], 'A');
	ASSERT_TRUE(strstr(got, "LOST") == NULL);
	free(got);
	munmap(map, sizeof old);
	close(rd);
	close(ap);
}

/* ---- a failure at every call of the seam ----------------------------- */

struct keep_case {
	const char *label;
	unsigned flags;
};

static const struct keep_case keep_cases[] = {
	{ "O_TMPFILE", 0 },
	{ "named temp", AW_NO_TMPFILE },
	{ "if unchanged", AW_IF_UNCHANGED },
	{ "copy target", AW_COPY_TARGET },
};

static void expect_after_fault(const struct keep_case *c, int r, int err, int kind,
                               const aw_error *e, ino_t ino, const char *what)
{
	char want[sizeof OLD + sizeof NEW];
	snprintf(want, sizeof want, "%s%s", (c->flags & AW_COPY_TARGET) ? OLD : "", NEW);
	if (r != AW_OK && (e->err != err || e->step == AW_STEP_NONE))
		th_fail(__FILE__, __LINE__, "%s: reported errno %d step %d", what,
		        e->err, (int)e->step);
	if (r == AW_UNSYNCED && (kind != AW_SYS_FSYNC || e->step != AW_STEP_SYNC_TARGET))
		th_fail(__FILE__, __LINE__, "%s: AW_UNSYNCED at %s", what, aw_step_name(e->step));
	if (r == AW_OK && (kind == AW_SYS_WRITE || kind == AW_SYS_FSYNC ||
	                   kind == AW_SYS_XFS_EXCHANGE ||
	                   kind == AW_SYS_XFS_COMMIT))
		th_fail(__FILE__, __LINE__, "%s: reported success", what);
	if (r == AW_FAILED)
		ASSERT_FILE("t", OLD, sizeof OLD - 1);
	else
		ASSERT_FILE("t", want, strlen(want));
	ASSERT_EQ(ino_of("t"), ino);
	/* A named temporary's name goes at release, after the exchange or
	 * the failure: if that unlink fails, the name (unlocked, marked)
	 * is left to the sweep, as test_faults.c accepts for no-clobber. */
	if (kind == AW_SYS_UNLINKAT && (c->flags & AW_NO_TMPFILE)) {
		printf("    %s: left the temporary's name, swept\n", what);
		ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	}
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 1);
}

static unsigned sweep_keep_case(const struct keep_case *c, int err, int persistent)
{
	aw_error e;
	th_write_file("t", OLD, sizeof OLD - 1);
	ino_t ino = ino_of("t");
	aw__fault_reset();
	ASSERT_AW_OK(keep_replace("t", NEW, c->flags, AW_DURABILITY_FULL, &e));
	unsigned long calls = aw__fault_calls(-1);
	ASSERT_TRUE(calls >= 4);
	for (unsigned long nth = 1; nth <= calls; nth++) {
		th_write_file("t", OLD, sizeof OLD - 1);
		ASSERT_EQ(ino_of("t"), ino);
		struct aw_fault_plan plan = { -1, nth, err, persistent };
		aw__fault_set(&plan);
		memset(&e, 0, sizeof e);
		int r = keep_replace("t", NEW, c->flags, AW_DURABILITY_FULL, &e);
		int kind = aw__fault_fired_kind();
		aw__fault_reset();
		char what[160];
		snprintf(what, sizeof what, "%s: %s at call %lu (%s)%s", c->label,
		         strerror(err), nth, aw__sys_call_name(kind),
		         persistent ? ", persistent" : "");
		expect_after_fault(c, r, err, kind, &e, ino, what);
	}
	return (unsigned)calls;
}

TEST(keep_inode_fault_at_every_call_keeps_old_or_new_and_leaves_nothing)
{
	enter("AW_XFSX_DIR");
	static const int errs[] = { EIO, ENOSPC };
	unsigned cases = 0;
	for (size_t i = 0; i < sizeof keep_cases / sizeof keep_cases[0]; i++)
		for (size_t j = 0; j < sizeof errs / sizeof errs[0]; j++)
			for (int persistent = 0; persistent <= 1; persistent++)
				cases += sweep_keep_case(&keep_cases[i], errs[j], persistent);
	printf("    %u injected faults checked\n", cases);
}

/* ---- concurrent writers and readers ----------------------------------- */

/* Contents number k: a header "%07zu%c" (its size and its letter), then
 * the letter to the end. */
static size_t make_contents(char *buf, unsigned k)
{
	size_t n = 1000 + (k % 16) * 777;
	char letter = (char)('a' + k % 26);
	memset(buf, letter, n);
	char head[9];
	snprintf(head, sizeof head, "%07zu%c", n, letter);
	memcpy(buf, head, 8);
	return n;
}

/* 0 if buf (n bytes) is one whole version of make_contents(). */
static int whole(const char *buf, ssize_t n)
{
	if (n < 8)
		return -1;
	char head[9];
	memcpy(head, buf, 8);
	head[8] = 0;
	char letter = head[7];
	head[7] = 0;
	if (atol(head) != n)
		return -1;
	for (ssize_t i = 8; i < n; i++)
		if (buf[i] != letter)
			return -1;
	return 0;
}

static void reader(volatile int *done, bool reopen)
{
	static char buf[1 << 16];
	unsigned long reads = 0;
	int fd = open("t", O_RDONLY);
	while (!*done) {
		if (reopen) {
			close(fd);
			fd = open("t", O_RDONLY);
		}
		ssize_t n = pread(fd, buf, sizeof buf, 0);
		if (whole(buf, n) < 0) {
			fprintf(stderr, "    a read of %zd bytes mixed versions\n", n);
			_exit(1);
		}
		reads++;
	}
	printf("    reader (%s): %lu reads, all whole\n", reopen ? "reopening" : "open", reads);
	fflush(stdout);
	_exit(reads > 0 ? 0 : 1);
}

static void writer(unsigned w, unsigned rounds, aw_durability d)
{
	static char buf[1 << 16];
	for (unsigned i = 0; i < rounds; i++) {
		size_t n = make_contents(buf, w * rounds + i + 1);
		aw_options o = { sizeof o, d, AW_KEEP_INODE, 0 };
		aw_error e;
		if (aw_file_replace("t", buf, n, &o, &e) != AW_OK) {
			char msg[AW_ERROR_FORMAT_SIZE];
			fprintf(stderr, "    writer %u: %s\n", w, aw_error_format(&e, msg, sizeof msg));
			_exit(1);
		}
	}
	_exit(0);
}

static void concurrent_exchanges(unsigned writers, unsigned rounds, aw_durability d)
{
	enter("AW_XFSX_DIR");
	char buf[1 << 16];
	th_write_file("t", buf, make_contents(buf, 0));
	ino_t ino = ino_of("t");
	volatile int *done = mmap(NULL, sizeof *done, PROT_READ | PROT_WRITE,
	                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(done != MAP_FAILED);
	*done = 0;
	pid_t readers[2], w[16];
	for (int r = 0; r < 2; r++)
		if ((readers[r] = fork()) == 0)
			reader(done, r == 1);
	for (unsigned i = 0; i < writers; i++)
		if ((w[i] = fork()) == 0)
			writer(i, rounds, d);
	int status, bad = 0;
	for (unsigned i = 0; i < writers; i++) {
		ASSERT_EQ(waitpid(w[i], &status, 0), w[i]);
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	*done = 1;
	for (int r = 0; r < 2; r++) {
		ASSERT_EQ(waitpid(readers[r], &status, 0), readers[r]);
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	ASSERT_EQ(bad, 0);
	size_t len;
	char *got = th_read_file("t", &len);
	ASSERT_EQ(whole(got, (ssize_t)len), 0);
	free(got);
	ASSERT_EQ(ino_of("t"), ino);
	ASSERT_NO_TEMPS(".");
	munmap((void *)done, sizeof *done);
}

/* 8 writers x 200 exchanges (x 10 with AW_XFSX_LONG=1, make
 * check-xfs-exchange), without flushes and durable. */
static unsigned rounds(void)
{
	const char *l = getenv("AW_XFSX_LONG");
	return l && strcmp(l, "1") == 0 ? 2000 : 200;
}

TEST(keep_inode_concurrent_readers_never_see_a_mix)
{
	concurrent_exchanges(8, rounds(), AW_DURABILITY_NONE);
}

TEST(keep_inode_concurrent_durable_exchanges)
{
	concurrent_exchanges(8, rounds(), AW_DURABILITY_FULL);
}

/* ---- the name changing under begin and commit (the seam's hook) ---- */

/* Into a fresh sticky world-writable directory (as /tmp) owned by uid. */
static void enter_sticky(uid_t uid)
{
	if (geteuid() != 0)
		th_skip("needs root to play the other user of a sticky directory");
	enter("AW_XFSX_DIR");
	ASSERT_OK(chmod(".", 01777));
	ASSERT_OK(chown(".", uid, uid));
}

/* Another user's file, world-writable, put over name by a rename. */
static void plant_hers(void *name)
{
	int fd = open("hers.new", O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0 || write(fd, "hers", 4) != 4 || fchown(fd, 4242, 4242) < 0 ||
	    fchmod(fd, 0666) < 0 || close(fd) < 0 || link("hers.new", "hers.kept") < 0 ||
	    rename("hers.new", (const char *)name) < 0)
		abort();
}

/* The last openat of a clean begin is the target's: the hook swaps the
 * name just before it. */
static int keep_with_hook(const char *name, int kind, unsigned long nth,
                          void (*hook)(void *), aw_error *e)
{
	struct aw_fault_plan plan = { kind, nth, 0, 0 };
	aw__fault_set(&plan);
	aw__fault_extra(0, hook, (void *)name);
	int r = keep_replace(name, "root-secret", 0, AW_DURABILITY_FULL, e);
	aw__fault_reset();
	return r;
}

static unsigned long begin_openats(const char *name)
{
	aw_file *f;
	aw_error e;
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE, 0 };
	aw__fault_reset();
	ASSERT_OK(aw_file_begin(&f, name, &o, &e));
	unsigned long n = aw__fault_calls(AW_SYS_OPENAT);
	aw_file_discard(f);
	return n;
}

TEST(keep_inode_refuses_a_file_swapped_in_before_the_open)
{
	enter_sticky(0);
	th_write_file("t", OLD, sizeof OLD - 1);
	unsigned long n = begin_openats("t");
	aw_error e;
	ASSERT_EQ(keep_with_hook("t", AW_SYS_OPENAT, n, plant_hers, &e), AW_FAILED);
	ASSERT_EQ(e.err, ESTALE);
	ASSERT_EQ(e.step, AW_STEP_STAT_TARGET);
	ASSERT_FILE("hers.kept", "hers", 4);
	ASSERT_NO_TEMPS(".");
}

/* A symbolic link (or no file) at the look: nothing is opened later by
 * that name, whoever put a file there in between. */
TEST(keep_inode_opens_nothing_where_begin_saw_a_symlink)
{
	enter_sticky(0);
	ASSERT_OK(symlink("/nonexistent", "t"));
	th_write_file("u", OLD, sizeof OLD - 1);
	unsigned long n = begin_openats("u");
	aw_error e;
	ASSERT_EQ(keep_with_hook("t", AW_SYS_OPENAT, n, plant_hers, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(e.step, AW_STEP_TARGET_TYPE);
	struct stat st;
	if (stat("hers.kept", &st) == 0)
		ASSERT_FILE("hers.kept", "hers", 4);
	ASSERT_NO_TEMPS(".");
}

/* protected_hardlinks, whatever the sysctl: another user's file with a
 * second name in a sticky world-writable directory is not filled, even
 * where that user owns the directory. */
TEST(keep_inode_refuses_another_users_hard_link_in_a_sticky_dir)
{
	enter_sticky(4242);
	th_write_file("t", OLD, sizeof OLD - 1);
	ASSERT_OK(chown("t", 4242, 4242));
	ASSERT_OK(chmod("t", 0666));
	aw_error e;
	ASSERT_AW_OK(keep_replace("t", NEW, 0, AW_DURABILITY_FULL, &e));
	ASSERT_OK(link("t", "second"));
	ASSERT_EQ(keep_replace("t", OLD, 0, AW_DURABILITY_FULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EACCES);
	ASSERT_EQ(e.step, AW_STEP_PROTECTED_FILE);
	ASSERT_FILE("second", NEW, sizeof NEW - 1);
	ASSERT_NO_TEMPS(".");
}

/* Another writer's rename over the name between begin and commit: the
 * commit does not fill the old, unlinked inode and report success. */
TEST(keep_inode_commit_refuses_a_target_renamed_over)
{
	enter("AW_XFSX_DIR");
	for (unsigned flags = 0; flags <= AW_IF_UNCHANGED; flags += AW_IF_UNCHANGED) {
		th_write_file("t", OLD, sizeof OLD - 1);
		aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | flags, 0 };
		aw_file *f;
		aw_error e;
		ASSERT_OK(aw_file_begin(&f, "t", &o, &e));
		ASSERT_OK(aw_file_write(f, NEW, sizeof NEW - 1, &e));
		th_write_file("other", "theirs", 6);
		ASSERT_OK(rename("other", "t"));
		ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
		ASSERT_EQ(e.err, flags ? EBUSY : ESTALE);
		ASSERT_EQ(e.step, flags ? AW_STEP_TARGET_CHANGED : AW_STEP_STAT_TARGET);
		ASSERT_FILE("t", "theirs", 6);
		ASSERT_NO_TEMPS(".");
		ASSERT_EQ(th_count_entries("."), 1);
	}
}

/* A file put at the name just after the target is opened (before the
 * dry run): AW_COPY_TARGET copies the opened inode, not the newcomer. */
static void put_other(void *name)
{
	int fd = open("other", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "theirs", 6) != 6 || close(fd) < 0 ||
	    rename("other", (const char *)name) < 0)
		abort();
}

TEST(keep_inode_copy_target_copies_the_opened_inode)
{
	enter("AW_XFSX_DIR");
	th_write_file("t", OLD, sizeof OLD - 1);
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | AW_COPY_TARGET, 0 };
	struct aw_fault_plan plan = { AW_SYS_XFS_EXCHANGE, 1, 0, 0 };
	aw__fault_set(&plan);
	aw__fault_extra(0, put_other, "t");
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "t", &o, &e));
	aw__fault_reset();
	char buf[sizeof OLD];
	ASSERT_EQ(pread(aw_file_fd(f), buf, sizeof buf, 0), (ssize_t)sizeof OLD - 1);
	ASSERT_TRUE(memcmp(buf, OLD, sizeof OLD - 1) == 0);
	aw_file_discard(f);
	ASSERT_FILE("t", "theirs", 6);
	ASSERT_NO_TEMPS(".");
}

/* The kernel may fail the exchange after the swap (the DSYNC log force,
 * clearing set-ID bits): the seam makes the call, then reports err.  Not
 * "untouched": AW_UNSYNCED with the step and errno, the new contents in
 * place.  Contents of one size too, so that only the ctime can tell. */
TEST(keep_inode_failure_after_the_swap_is_unsynced)
{
	enter("AW_XFSX_DIR");
	static const char SAME[] = "same size as the old contents, exactly";
	_Static_assert(sizeof SAME == sizeof OLD, "one size");
	const char *news[] = { NEW, SAME };
	for (unsigned flags = 0; flags <= AW_IF_UNCHANGED; flags += AW_IF_UNCHANGED)
		for (int i = 0; i < 2; i++) {
			th_write_file("t", OLD, sizeof OLD - 1);
			/* the second: after the dry run, or START_COMMIT */
			int kind = flags ? AW_SYS_XFS_COMMIT : AW_SYS_XFS_EXCHANGE;
			struct aw_fault_plan plan = { kind, 2, EIO, 0 };
			aw__fault_set(&plan);
			aw__fault_extra(1, NULL, NULL);
			aw_error e;
			int r = keep_replace("t", news[i], flags, AW_DURABILITY_FULL, &e);
			aw__fault_reset();
			ASSERT_EQ(r, AW_UNSYNCED);
			ASSERT_EQ(e.err, EIO);
			ASSERT_EQ(e.step, AW_STEP_EXCHANGE_CONTENTS);
			ASSERT_FILE("t", news[i], strlen(news[i]));
			ASSERT_NO_TEMPS(".");
			/* and failed before the swap: untouched */
			th_write_file("t", OLD, sizeof OLD - 1);
			aw__fault_set(&plan);
			r = keep_replace("t", news[i], flags, AW_DURABILITY_FULL, &e);
			aw__fault_reset();
			ASSERT_EQ(r, AW_FAILED);
			ASSERT_FILE("t", OLD, sizeof OLD - 1);
		}
}

/* ---- AW_IF_UNCHANGED exact with coarse timestamps --------------------- */

static bool coarse_past(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	return now.tv_sec > t->tv_sec ||
	       (now.tv_sec == t->tv_sec && now.tv_nsec > t->tv_nsec);
}

/* Once begin has recorded the freshness, the coarse clock (the one
 * timestamps come from before multigrain timestamps) is past the target's
 * ctime and mtime: a change in the same tick cannot leave them equal.
 * Right after a write, without the wait, it is not, nearly every time. */
TEST(if_unchanged_begin_waits_past_the_targets_timestamps)
{
	enter("AW_XFSX_DIR");
	aw_options o = { sizeof o, AW_DURABILITY_NONE, AW_IF_UNCHANGED, 0 };
	for (int i = 0; i < 20; i++) {
		th_write_file("t", OLD, sizeof OLD - 1);
		aw_file *f;
		aw_error e;
		ASSERT_OK(aw_file_begin(&f, "t", &o, &e));
		struct stat st;
		ASSERT_OK(stat("t", &st));
		ASSERT_TRUE(coarse_past(&st.st_ctim));
		ASSERT_TRUE(coarse_past(&st.st_mtim));
		aw_file_discard(f);
	}
}

static void touch_target(void *name)
{
	int fd = open((const char *)name, O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd) < 0)
		abort();
}

/* A change between the wait and XFS_IOC_START_COMMIT: the freshness is
 * recorded again (START_COMMIT twice), and the commit then holds. */
TEST(if_unchanged_records_again_after_a_change_during_begin)
{
	enter("AW_XFSX_DIR");
	th_write_file("t", OLD, sizeof OLD - 1);
	struct aw_fault_plan plan = { AW_SYS_XFS_COMMIT, 1, 0, 0 };
	aw__fault_set(&plan);
	aw__fault_extra(0, touch_target, "t");
	aw_options o = { sizeof o, AW_DURABILITY_NONE, AW_IF_UNCHANGED, 0 };
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "t", &o, &e));
	ASSERT_EQ(aw__fault_calls(AW_SYS_XFS_COMMIT), 2);
	ASSERT_OK(aw_file_write(f, NEW, sizeof NEW - 1, &e));
	ASSERT_AW_OK(aw_file_commit(f, &e));
	aw__fault_reset();
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
}

/* The target is held read-only between begin and commit: a program run
 * from it meanwhile starts (no ETXTBSY), and the commit still lands. */
TEST(keep_inode_target_can_be_run_between_begin_and_commit)
{
	enter("AW_XFSX_DIR");
	size_t len;
	char *prog = th_read_file("/bin/true", &len);
	th_write_file("prog", prog, len);
	free(prog);
	ASSERT_OK(chmod("prog", 0755));
	aw_options o = { sizeof o, AW_DURABILITY_FULL, AW_KEEP_INODE | AW_COPY_TARGET, 0 };
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "prog", &o, &e));
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		execl("./prog", "prog", (char *)NULL);
		_exit(errno == ETXTBSY ? 3 : 2);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	ASSERT_AW_OK(aw_file_commit(f, &e));
	ASSERT_NO_TEMPS(".");
}
