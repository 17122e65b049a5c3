/* SPDX-License-Identifier: MIT */
/*
 * test_target_types.c - what stands at the target's name: symbolic links
 * (replaced by default, followed on request), directories, FIFOs, sockets,
 * and the no-clobber option.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

TEST(symlink_is_replaced_by_default)
{
	th_write_file("real", "old", 3);
	ASSERT_OK(symlink("real", "link"));
	ASSERT_AW_OK(aw_file_replace("link", "new", 3, NULL, NULL));
	ASSERT_TRUE(!is_link("link"));
	ASSERT_FILE("link", "new", 3);
	ASSERT_FILE("real", "old", 3);
}

TEST(follow_replaces_the_file_the_link_names)
{
	th_write_file("real", "old", 3);
	ASSERT_OK(chmod("real", 0640));
	ASSERT_OK(symlink("real", "link"));
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	ASSERT_AW_OK(aw_file_replace("link", "new", 3, &o, NULL));
	ASSERT_TRUE(is_link("link"));
	ASSERT_FILE("real", "new", 3);
	struct stat st;
	ASSERT_OK(stat("real", &st));
	ASSERT_EQ(st.st_mode & 07777, 0640);
	ASSERT_NO_TEMPS(".");
}

TEST(follow_resolves_relative_links_against_the_links_directory)
{
	/* a/link -> ../b/c/link2 -> target (relative to b/c) */
	ASSERT_OK(mkdir("a", 0755));
	ASSERT_OK(mkdir("b", 0755));
	ASSERT_OK(mkdir("b/c", 0755));
	th_write_file("b/c/target", "old", 3);
	ASSERT_OK(symlink("../b/c/link2", "a/link"));
	ASSERT_OK(symlink("target", "b/c/link2"));
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	ASSERT_AW_OK(aw_file_replace("a/link", "new", 3, &o, NULL));
	ASSERT_FILE("b/c/target", "new", 3);
	ASSERT_TRUE(is_link("a/link"));
	ASSERT_TRUE(is_link("b/c/link2"));
	/* The temporary file lived in the target's own directory. */
	ASSERT_NO_TEMPS("a");
	ASSERT_NO_TEMPS("b/c");
	ASSERT_EQ(th_count_entries("b/c"), 2);
	/* An absolute link too. */
	char abs[4096];
	ASSERT_TRUE(getcwd(abs, sizeof abs - 20) != NULL);
	strcat(abs, "/b/c/target");
	ASSERT_OK(symlink(abs, "abslink"));
	ASSERT_AW_OK(aw_file_replace("abslink", "abs", 3, &o, NULL));
	ASSERT_FILE("b/c/target", "abs", 3);
}

TEST(follow_dangling_link_creates_the_named_file)
{
	ASSERT_OK(symlink("created", "dangling"));
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	ASSERT_AW_OK(aw_file_replace("dangling", "new", 3, &o, NULL));
	ASSERT_TRUE(is_link("dangling"));
	ASSERT_FILE("created", "new", 3);
}

TEST(follow_link_loop_is_eloop)
{
	ASSERT_OK(symlink("l2", "l1"));
	ASSERT_OK(symlink("l1", "l2"));
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	aw_error e;
	ASSERT_EQ(aw_file_replace("l1", "x", 1, &o, &e), AW_FAILED);
	ASSERT_EQ(e.err, ELOOP);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	ASSERT_EQ(th_count_entries("."), 2);
	/* Without following, the link itself is replaced. */
	ASSERT_AW_OK(aw_file_replace("l1", "x", 1, NULL, NULL));
	ASSERT_FILE("l1", "x", 1);
}

TEST(directory_is_refused)
{
	ASSERT_OK(mkdir("d", 0755));
	aw_error e;
	char msg[5000];
	ASSERT_EQ(aw_file_replace("d", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EISDIR);
	ASSERT_EQ(e.step, AW_STEP_TARGET_TYPE);
	ASSERT_STREQ(aw_error_format(&e, msg, sizeof msg),
	             th_errmsg("refusing to replace d", EISDIR));
	ASSERT_EQ(th_count_entries("d"), 0);
	ASSERT_EQ(th_count_entries("."), 1);
}

TEST(fifo_and_socket_are_refused_without_opening)
{
	/* Opening a FIFO with no writer would block: if the library opened
	 * it, this test would hang until the harness's timeout. */
	ASSERT_OK(mkfifo("fifo", 0644));
	aw_error e;
	char msg[5000];
	ASSERT_EQ(aw_file_replace("fifo", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(e.step, AW_STEP_TARGET_TYPE);
	ASSERT_STREQ(aw_error_format(&e, msg, sizeof msg), "refusing to replace fifo: not a regular file");
	aw_options follow = { .flags = AW_FOLLOW_SYMLINKS };
	ASSERT_OK(symlink("fifo", "to-fifo"));
	ASSERT_EQ(aw_file_replace("to-fifo", "x", 1, &follow, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);

	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_OK(s);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, "sock");
	ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof sa));
	ASSERT_EQ(aw_file_replace("sock", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	close(s);
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 3);
}

TEST(device_is_refused)
{
	aw_error e;
	int dfd = open("/dev", O_RDONLY | O_DIRECTORY);
	ASSERT_OK(dfd);
	ASSERT_EQ(aw_file_replace_at(dfd, "null", "x", 1, NULL, &e), AW_FAILED);
	close(dfd);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(e.step, AW_STEP_TARGET_TYPE);
}

TEST(no_clobber_fails_with_eexist_and_keeps_target)
{
	aw_options o = { .flags = AW_NO_CLOBBER };
	aw_error e;
	ASSERT_AW_OK(aw_file_replace("f", "first", 5, &o, &e));
	ASSERT_EQ(aw_file_replace("f", "second", 6, &o, &e), AW_FAILED);
	ASSERT_EQ(e.err, EEXIST);
	ASSERT_FILE("f", "first", 5);
	/* A target that appears between begin and commit: still refused. */
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options late = { .flags = AW_NO_CLOBBER | flags };
		aw_file *f;
		ASSERT_OK(aw_file_begin(&f, "g", &late, &e));
		ASSERT_OK(aw_file_write(f, "mine", 4, &e));
		th_write_file("g", "theirs", 6);
		ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
		ASSERT_EQ(e.err, EEXIST);
		ASSERT_EQ(e.step, AW_STEP_RENAME);
		ASSERT_FILE("g", "theirs", 6);
		ASSERT_NO_TEMPS(".");
		unlink("g");
	}
	/* A dangling symlink counts as existing. */
	ASSERT_OK(symlink("nowhere", "dl"));
	ASSERT_EQ(aw_file_replace("dl", "x", 1, &o, &e), AW_FAILED);
	ASSERT_EQ(e.err, EEXIST);
}
