/* SPDX-License-Identifier: MIT */
/*
 * test_replace.c - replacing and creating files: contents, streaming API,
 * arguments.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(replace_creates_new_file)
{
	aw_error e;
	ASSERT_AW_OK(aw_file_replace("f", "hello\n", 6, NULL, &e));
	ASSERT_FILE("f", "hello\n", 6);
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 1);
}

TEST(replace_replaces_existing_file)
{
	th_write_file("f", "old contents that are longer", 28);
	ASSERT_AW_OK(aw_file_replace("f", "new", 3, NULL, NULL));
	ASSERT_FILE("f", "new", 3);
	ASSERT_EQ(th_count_entries("."), 1);
}

static void replace_size(size_t n, unsigned flags)
{
	unsigned char *data = th_pattern(n, (unsigned)n);
	aw_options o = { .flags = flags };
	th_write_file("f", "x", 1);
	ASSERT_AW_OK(aw_file_replace("f", data, n, &o, NULL));
	ASSERT_FILE("f", data, n);
	ASSERT_NO_TEMPS(".");
	free(data);
}

TEST(replace_exact_bytes_0_1_10MiB)
{
	replace_size(0, 0);
	replace_size(1, 0);
	replace_size(10u << 20, 0);
}

TEST(replace_exact_bytes_named_temp)
{
	replace_size(0, AW_NO_TMPFILE);
	replace_size(1, AW_NO_TMPFILE);
	replace_size(10u << 20, AW_NO_TMPFILE);
}

TEST(streaming_write_and_fd)
{
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "f", NULL, &e));
	ASSERT_OK(aw_file_write(f, "abc", 3, &e));
	ASSERT_EQ(write(aw_file_fd(f), "def", 3), 3);
	ASSERT_OK(aw_file_write(f, "ghi", 3, &e));
	/* Nothing is visible before the commit. */
	ASSERT_EQ(access("f", F_OK), -1);
	ASSERT_AW_OK(aw_file_commit(f, &e));
	ASSERT_FILE("f", "abcdefghi", 9);
}

TEST(discard_leaves_target_and_nothing_else)
{
	th_write_file("f", "old", 3);
	aw_file *f;
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		ASSERT_OK(aw_file_begin(&f, "f", &o, NULL));
		ASSERT_OK(aw_file_write(f, "new", 3, NULL));
		aw_file_discard(f);
		ASSERT_FILE("f", "old", 3);
		ASSERT_EQ(th_count_entries("."), 1);
	}
	aw_file_discard(NULL);
}

TEST(begin_at_relative_to_dirfd)
{
	ASSERT_OK(mkdir("d", 0755));
	ASSERT_OK(mkdir("d/sub", 0755));
	int dfd = open("d", O_RDONLY | O_DIRECTORY);
	ASSERT_OK(dfd);
	ASSERT_AW_OK(aw_file_replace_at(dfd, "x", "1", 1, NULL, NULL));
	ASSERT_AW_OK(aw_file_replace_at(dfd, "sub/y", "2", 1, NULL, NULL));
	close(dfd);
	ASSERT_FILE("d/x", "1", 1);
	ASSERT_FILE("d/sub/y", "2", 1);
}

TEST(long_target_name_250_bytes)
{
	char name[251];
	memset(name, 'n', 250);
	name[250] = '\0';
	aw_options named = { .flags = AW_NO_TMPFILE };
	ASSERT_AW_OK(aw_file_replace(name, "a", 1, NULL, NULL));
	ASSERT_AW_OK(aw_file_replace(name, "b", 1, &named, NULL));
	ASSERT_FILE(name, "b", 1);
	ASSERT_NO_TEMPS(".");
}

TEST(bad_arguments_are_einval)
{
	aw_file *f;
	aw_error e;
	aw_options bad_flags = { .flags = 1u << 30 };
	aw_options bad_dur = { .durability = (aw_durability)7 };
	aw_options bad_mode = { .flags = AW_MODE, .mode = 010000 };
	ASSERT_ERRNO(aw_file_begin(&f, NULL, NULL, &e), EINVAL);
	ASSERT_ERRNO(aw_file_begin(NULL, "f", NULL, &e), EINVAL);
	ASSERT_ERRNO(aw_file_begin(&f, "f", &bad_flags, &e), EINVAL);
	ASSERT_EQ(e.step, AW_STEP_ARGS);
	ASSERT_ERRNO(aw_file_begin(&f, "f", &bad_dur, &e), EINVAL);
	ASSERT_ERRNO(aw_file_begin(&f, "f", &bad_mode, &e), EINVAL);
	ASSERT_ERRNO(aw_file_replace("f", NULL, 3, NULL, &e), EINVAL);
	ASSERT_ERRNO(aw_file_commit(NULL, &e), EINVAL);
	ASSERT_ERRNO(aw_file_begin(&f, "", NULL, &e), ENOENT);
	ASSERT_EQ(th_count_entries("."), 0);
}

TEST(missing_directory_names_step_and_path)
{
	aw_error e;
	char msg[5000];
	ASSERT_EQ(aw_file_replace("no/such/dir/f", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(e.step, AW_STEP_OPEN_DIR);
	ASSERT_STREQ(aw_error_format(&e, msg, sizeof msg),
	             th_errmsg("opening directory of no/such/dir/f", ENOENT));
}

TEST(version_matches_header)
{
	ASSERT_STREQ(aw_lib_version(), AW_VERSION_STRING);
}
