/* SPDX-License-Identifier: MIT */
/*
 * test_metadata.c - what a replacement keeps and what a new file gets:
 * mode and umask, exact modes, set-id bits, owner and group (as root),
 * extended attributes and POSIX ACLs, and the temporary file's own mode
 * while it is being written.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static mode_t mode_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		th_fail(__FILE__, __LINE__, "stat %s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

TEST(new_file_gets_0666_minus_umask)
{
	umask(027);
	ASSERT_AW_OK(aw_file_replace("a", "x", 1, NULL, NULL));
	ASSERT_EQ(mode_of("a"), 0640);
	aw_options named = { .flags = AW_NO_TMPFILE };
	umask(077);
	ASSERT_AW_OK(aw_file_replace("b", "x", 1, &named, NULL));
	ASSERT_EQ(mode_of("b"), 0600);
}

TEST(exact_mode_ignores_umask_and_old_mode)
{
	umask(077);
	aw_options o = { .flags = AW_MODE, .mode = 0604 };
	ASSERT_AW_OK(aw_file_replace("a", "x", 1, &o, NULL));
	ASSERT_EQ(mode_of("a"), 0604);
	ASSERT_OK(chmod("a", 0600));
	ASSERT_AW_OK(aw_file_replace("a", "y", 1, &o, NULL));
	ASSERT_EQ(mode_of("a"), 0604);
}

TEST(replacing_keeps_mode_including_setid)
{
	umask(022);
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		th_write_file("f", "old", 3);
		ASSERT_OK(chmod("f", 0751));
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		ASSERT_EQ(mode_of("f"), 0751);
		ASSERT_OK(chmod("f", 02750));
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		ASSERT_EQ(mode_of("f"), 02750);
		ASSERT_OK(chmod("f", 0400));
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		ASSERT_EQ(mode_of("f"), 0400);
		ASSERT_OK(chmod("f", 0644));
	}
}

TEST(owner_and_group_kept_when_root)
{
	if (geteuid() != 0)
		th_skip("needs root to give files away");
	th_write_file("f", "old", 3);
	ASSERT_OK(chown("f", 1234, 2345));
	ASSERT_OK(chmod("f", 04750));   /* chown first, then mode: kept */
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		struct stat st;
		ASSERT_OK(stat("f", &st));
		ASSERT_EQ(st.st_uid, 1234);
		ASSERT_EQ(st.st_gid, 2345);
		ASSERT_EQ(st.st_mode & 07777, 04750);
	}
	aw_options no_keep = { .flags = AW_NO_KEEP_OWNER_XATTRS };
	ASSERT_AW_OK(aw_file_replace("f", "new", 3, &no_keep, NULL));
	struct stat st;
	ASSERT_OK(stat("f", &st));
	ASSERT_EQ(st.st_uid, 0);
	ASSERT_EQ(st.st_mode & 0777, 0750);
}

TEST(owner_kept_as_unprivileged_user_when_unchanged)
{
	/* Replacing one's own file needs no chown; the owner stays ours. */
	th_write_file("f", "old", 3);
	ASSERT_AW_OK(aw_file_replace("f", "new", 3, NULL, NULL));
	struct stat st;
	ASSERT_OK(stat("f", &st));
	ASSERT_EQ(st.st_uid, geteuid());
}

TEST(user_xattr_kept)
{
	th_write_file("f", "old", 3);
	if (th_setxattr("f", "user.awtest", "value-1", 7) < 0) {
		if (errno == ENOTSUP || errno == EOPNOTSUPP)
			th_skip("this filesystem has no user xattrs");
		th_fail(__FILE__, __LINE__, "setxattr: %s", strerror(errno));
	}
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		char buf[32];
		ssize_t n = th_getxattr("f", "user.awtest", buf, sizeof buf);
		ASSERT_EQ(n, 7);
		ASSERT_TRUE(memcmp(buf, "value-1", 7) == 0);
	}
	aw_options no_keep = { .flags = AW_NO_KEEP_OWNER_XATTRS };
	ASSERT_AW_OK(aw_file_replace("f", "new", 3, &no_keep, NULL));
	ASSERT_ERRNO(th_getxattr("f", "user.awtest", NULL, 0), ENODATA);
}

TEST(posix_acl_kept)
{
	th_write_file("f", "old", 3);
	if (system("command -v setfacl >/dev/null") != 0)
		th_skip("setfacl is not installed (Debian package acl)");
	if (system("setfacl -m u:1234:rw f 2>/dev/null") != 0)
		th_skip("this filesystem has no POSIX ACLs");
	char before[4096];
	ssize_t n = th_getxattr("f", "system.posix_acl_access", before, sizeof before);
	ASSERT_TRUE(n > 0);
	mode_t mode = mode_of("f");
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, &o, NULL));
		char after[4096];
		ASSERT_EQ(th_getxattr("f", "system.posix_acl_access", after, sizeof after), n);
		ASSERT_TRUE(memcmp(before, after, (size_t)n) == 0);
		ASSERT_EQ(mode_of("f"), mode);
		ASSERT_EQ(system("getfacl -cp f 2>/dev/null | grep -q '^user:1234:rw-'"), 0);
	}
}

/* The temporary file is never readable by anyone the final file would
 * not allow: while it is written, it is 0600 if a file is replaced. */
TEST(temp_file_is_private_while_written)
{
	umask(0);
	th_write_file("f", "old", 3);
	ASSERT_OK(chmod("f", 0600));
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		aw_file *f;
		ASSERT_OK(aw_file_begin(&f, "f", &o, NULL));
		struct stat st;
		ASSERT_OK(fstat(aw_file_fd(f), &st));
		ASSERT_EQ(st.st_mode & 07777, 0600);
		ASSERT_AW_OK(aw_file_commit(f, NULL));
		ASSERT_EQ(mode_of("f"), 0600);
	}
	/* The same with an exact mode: private until the end. */
	aw_options exact = { .flags = AW_MODE | AW_NO_TMPFILE, .mode = 0644 };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "g", &exact, NULL));
	struct stat st;
	ASSERT_OK(fstat(aw_file_fd(f), &st));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	ASSERT_EQ(mode_of("g"), 0644);
}

TEST(group_kept_in_a_setgid_directory)
{
	/* A new file in a set-group-ID directory gets the directory's group;
	 * replacing a file must still keep the file's own group. */
	ASSERT_OK(mkdir("sg", 0755));
	/* Root gives the directory any group; anyone else one of the
	 * groups they are in, other than their own. */
	gid_t other = 50;
	if (geteuid() != 0) {
		gid_t groups[256];
		int n = getgroups(256, groups);
		other = getegid();
		for (int i = 0; i < n; i++)
			if (groups[i] != getegid())
				other = groups[i];
		if (other == getegid())
			th_skip("needs root, or membership of a second group, to give a directory another group");
	}
	ASSERT_OK(chown("sg", geteuid(), other));
	if (chmod("sg", 02755) < 0)
		th_skip("cannot make a set-group-ID directory");
	struct stat st;
	ASSERT_OK(stat("sg", &st));
	if (!(st.st_mode & S_ISGID) || st.st_gid != other)
		th_skip("cannot give the directory another group");
	th_write_file("sg/f", "old", 3);
	ASSERT_OK(chown("sg/f", geteuid(), getegid()));
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		ASSERT_AW_OK(aw_file_replace("sg/f", "new", 3, &o, NULL));
		ASSERT_OK(stat("sg/f", &st));
		ASSERT_EQ(st.st_gid, getegid());
	}
}
