/* SPDX-License-Identifier: MIT */
/*
 * test_copy_from.c - aw_file_copy_from(): the new contents copied from a
 * descriptor, whichever way the filesystem allows, and failures that
 * refuse the commit.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static void copy_and_check(const char *src_path, size_t n, unsigned flags)
{
	unsigned char *data = th_pattern(n, 7);
	th_write_file(src_path, data, n);
	int src = open(src_path, O_RDONLY);
	ASSERT_OK(src);
	aw_options o = { .flags = flags };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "dst", &o, NULL));
	ASSERT_OK(aw_file_copy_from(f, src, NULL));
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	close(src);
	ASSERT_FILE("dst", data, n);
	free(data);
}

TEST(copy_from_regular_file_any_size)
{
	copy_and_check("src", 0, 0);
	copy_and_check("src", 1, 0);
	copy_and_check("src", 3u << 20, 0);
	copy_and_check("src", 3u << 20, AW_NO_TMPFILE);
	ASSERT_NO_TEMPS(".");
}

TEST(copy_from_appends_after_written_bytes_and_from_offset)
{
	th_write_file("src", "0123456789", 10);
	int src = open("src", O_RDONLY);
	ASSERT_OK(src);
	ASSERT_EQ(lseek(src, 4, SEEK_SET), 4);
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "dst", NULL, NULL));
	ASSERT_OK(aw_file_write(f, "head:", 5, NULL));
	ASSERT_OK(aw_file_copy_from(f, src, NULL));
	ASSERT_OK(aw_file_write(f, ":tail", 5, NULL));
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	close(src);
	ASSERT_FILE("dst", "head:456789:tail", 16);
}

TEST(copy_from_pipe)
{
	int p[2];
	ASSERT_OK(pipe(p));
	ASSERT_EQ(write(p[1], "through a pipe", 14), 14);
	close(p[1]);
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "dst", NULL, NULL));
	ASSERT_OK(aw_file_copy_from(f, p[0], NULL));
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	close(p[0]);
	ASSERT_FILE("dst", "through a pipe", 14);
}

TEST(copy_from_read_failure_refuses_commit)
{
	th_write_file("dst", "old", 3);
	int p[2];
	ASSERT_OK(pipe(p));
	ASSERT_EQ(write(p[1], "abc", 3), 3);
	close(p[1]);
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "dst", NULL, &e));
	struct aw_fault_plan plan = { AW_SYS_READ, 1, EIO, 0 };
	aw__fault_set(&plan);
	ASSERT_ERRNO(aw_file_copy_from(f, p[0], &e), EIO);
	aw__fault_reset();
	ASSERT_EQ(e.step, AW_STEP_READ_SOURCE);
	ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
	ASSERT_FILE("dst", "old", 3);
	ASSERT_NO_TEMPS(".");
	close(p[0]);
	ASSERT_ERRNO(aw_file_copy_from(NULL, 0, &e), EINVAL);
}

TEST(copy_target_starts_from_the_old_contents_for_in_place_edits)
{
	unsigned char *data = th_pattern(1u << 20, 9);
	th_write_file("big", data, 1u << 20);
	aw_options o = { .flags = AW_COPY_TARGET };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "big", &o, NULL));
	ASSERT_EQ(lseek(aw_file_fd(f), 0, SEEK_CUR), 1u << 20);
	ASSERT_EQ(pwrite(aw_file_fd(f), "EDIT", 4, 4096), 4);
	/* Until the commit, the file is untouched. */
	ASSERT_FILE("big", data, 1u << 20);
	ASSERT_OK(aw_file_write(f, "tail", 4, NULL));
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	memcpy(data + 4096, "EDIT", 4);
	unsigned char *expect = malloc((1u << 20) + 4);
	memcpy(expect, data, 1u << 20);
	memcpy(expect + (1u << 20), "tail", 4);
	ASSERT_FILE("big", expect, (1u << 20) + 4);
	free(expect);
	free(data);
	/* No target yet: empty start. */
	ASSERT_OK(aw_file_begin(&f, "fresh", &o, NULL));
	ASSERT_EQ(lseek(aw_file_fd(f), 0, SEEK_END), 0);
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	ASSERT_FILE("fresh", "", 0);
	ASSERT_NO_TEMPS(".");
}
