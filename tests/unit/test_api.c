/* SPDX-License-Identifier: MIT */
/*
 * test_api.c - the 1.0 conventions of the public API: option structs that
 * grow (the size field: 0, sizeof, too small, larger with a zero or a
 * non-zero tail), one mode rule (a mode only with its flag; batches and
 * publications honour it), the _at twin of every path-taking function
 * (relative to a directory other than the working one, names with
 * slashes, errors naming the path as given), and aw_error's second path,
 * reserved room and format size.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* A build without renameat2 (AW_FORCE_POSIX) refuses every exchange
 * with EOPNOTSUPP, at the same step and naming the same two paths. */
#ifdef AW_FORCE_POSIX
#define EXCHANGE_ERRNO(err) EOPNOTSUPP
#else
#define EXCHANGE_ERRNO(err) (err)
#endif

/* A caller's struct as a newer header may lay it out: the struct, then
 * fields this library does not know. */
#define GROWN(T) struct { T o; unsigned char tail[32]; }

static mode_t mode_of(const char *path)
{
	struct stat st;
	ASSERT_OK(stat(path, &st));
	return st.st_mode & 07777;
}

static int fill(int dirfd, const char *path, void *ctx)
{
	(void)path;
	(void)ctx;
	int fd = openat(dirfd, "file", O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return -1;
	bool ok = write(fd, "v\n", 2) == 2;
	close(fd);
	return ok ? 0 : -1;
}

/* Fills the version and checks that the path it is given names that very
 * directory relative to the dirfd in *ctx. */
static int fill_checking_path(int dirfd, const char *path, void *ctx)
{
	struct stat a, b;
	if (fstat(dirfd, &a) < 0 || fstatat(*(int *)ctx, path, &b, 0) < 0)
		return -1;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		errno = ESTALE;
		return -1;
	}
	return fill(dirfd, path, NULL);
}

static void assert_args_error(const aw_error *e, int err, const char *path)
{
	ASSERT_EQ(e->err, err);
	ASSERT_EQ(e->step, AW_STEP_ARGS);
	ASSERT_STREQ(e->path, path);
}

/* ---- NULL, zeroed, size 0, size sizeof ------------------------------ */

TEST(api_null_zeroed_and_init_options_are_the_defaults)
{
	mode_t mask = umask(022);
	aw_options zero;
	memset(&zero, 0, sizeof zero);
	aw_options init = AW_OPTIONS_INIT;
	ASSERT_EQ(init.size, sizeof(aw_options));
	ASSERT_AW_OK(aw_file_replace("null", "x", 1, NULL, NULL));
	ASSERT_AW_OK(aw_file_replace("zero", "x", 1, &zero, NULL));
	ASSERT_AW_OK(aw_file_replace("init", "x", 1, &init, NULL));
	ASSERT_EQ(mode_of("null"), 0644);
	ASSERT_EQ(mode_of("zero"), 0644);
	ASSERT_EQ(mode_of("init"), 0644);

	aw_batch_options bzero_, binit = AW_BATCH_OPTIONS_INIT;
	memset(&bzero_, 0, sizeof bzero_);
	ASSERT_EQ(binit.size, sizeof(aw_batch_options));
	const aw_batch_options *bopts[] = { NULL, &bzero_, &binit };
	for (size_t i = 0; i < 3; i++) {
		aw_batch *b;
		ASSERT_OK(aw_batch_new(&b, bopts[i], NULL));
		ASSERT_OK(aw_batch_add_buffer(b, "null", "y", 1, NULL));
		ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
		ASSERT_EQ(mode_of("null"), 0644);   /* kept */
	}

	aw_publish_options pzero, pinit = AW_PUBLISH_OPTIONS_INIT;
	memset(&pzero, 0, sizeof pzero);
	ASSERT_EQ(pinit.size, sizeof(aw_publish_options));
	const aw_publish_options *popts[] = { NULL, &pzero, &pinit };
	const char *links[] = { "l0", "l1", "l2" };
	for (size_t i = 0; i < 3; i++) {
		ASSERT_AW_OK(aw_link_publish(links[i], fill, NULL, popts[i], NULL));
		char p[64];
		snprintf(p, sizeof p, "%s/.", links[i]);
		ASSERT_EQ(mode_of(p), 0755);
	}
	umask(mask);
}

TEST(api_size_too_small_is_einval)
{
	static const size_t small[] = { 1, sizeof(size_t), 0 };
	for (size_t i = 0; small[i]; i++) {
		aw_error e;
		aw_options o = { .size = small[i] };
		ASSERT_ERRNO(aw_file_replace("f", "x", 1, &o, &e), EINVAL);
		assert_args_error(&e, EINVAL, "f");
		aw_batch_options bo = { .size = small[i] };
		aw_batch *b = NULL;
		ASSERT_ERRNO(aw_batch_new(&b, &bo, &e), EINVAL);
		assert_args_error(&e, EINVAL, "");
		ASSERT_TRUE(b == NULL);
		aw_publish_options po = { .size = small[i] };
		ASSERT_ERRNO(aw_link_publish("l", fill, NULL, &po, &e), EINVAL);
		assert_args_error(&e, EINVAL, "l");
	}
	/* One byte short of the real thing. */
	aw_error e;
	aw_options o = { .size = sizeof o - 1 };
	ASSERT_ERRNO(aw_file_replace("f", "x", 1, &o, &e), EINVAL);
	ASSERT_EQ(access("f", F_OK), -1);
	ASSERT_EQ(th_count_entries("."), 0);
}

TEST(api_larger_struct_with_zero_tail_is_accepted)
{
	GROWN(aw_options) g;
	memset(&g, 0, sizeof g);
	g.o.size = sizeof g;
	g.o.flags = AW_MODE;
	g.o.mode = 0640;
	ASSERT_AW_OK(aw_file_replace("f", "x", 1, &g.o, NULL));
	ASSERT_EQ(mode_of("f"), 0640);   /* the known fields still count */

	GROWN(aw_batch_options) bg;
	memset(&bg, 0, sizeof bg);
	bg.o.size = sizeof bg;
	aw_batch *b;
	ASSERT_OK(aw_batch_new(&b, &bg.o, NULL));
	ASSERT_OK(aw_batch_add_buffer(b, "g", "y", 1, NULL));
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	ASSERT_FILE("g", "y", 1);

	GROWN(aw_publish_options) pg;
	memset(&pg, 0, sizeof pg);
	pg.o.size = sizeof pg;
	ASSERT_AW_OK(aw_link_publish("l", fill, NULL, &pg.o, NULL));
	ASSERT_FILE("l/file", "v\n", 2);
}

TEST(api_larger_struct_with_nonzero_tail_is_e2big)
{
	/* Each byte of the tail counts, the first and the last. */
	size_t spots[] = { 0, 31 };
	for (size_t i = 0; i < 2; i++) {
		aw_error e;
		GROWN(aw_options) g;
		memset(&g, 0, sizeof g);
		g.o.size = sizeof g;
		g.tail[spots[i]] = 1;
		ASSERT_ERRNO(aw_file_replace("f", "x", 1, &g.o, &e), E2BIG);
		assert_args_error(&e, E2BIG, "f");

		GROWN(aw_batch_options) bg;
		memset(&bg, 0, sizeof bg);
		bg.o.size = sizeof bg;
		bg.tail[spots[i]] = 0x80;
		aw_batch *b = NULL;
		ASSERT_ERRNO(aw_batch_new(&b, &bg.o, &e), E2BIG);
		assert_args_error(&e, E2BIG, "");
		ASSERT_TRUE(b == NULL);

		GROWN(aw_publish_options) pg;
		memset(&pg, 0, sizeof pg);
		pg.o.size = sizeof pg;
		pg.tail[spots[i]] = 0xff;
		ASSERT_ERRNO(aw_link_publish("l", fill, NULL, &pg.o, &e), E2BIG);
		assert_args_error(&e, E2BIG, "l");
	}
	/* A size no struct has: refused without reading that far. */
	aw_error e;
	aw_options huge = { .size = (size_t)-1 };
	ASSERT_ERRNO(aw_file_replace("f", "x", 1, &huge, &e), E2BIG);
	/* But the bytes only up to the caller's size count: beyond it is
	 * not the caller's struct. */
	GROWN(aw_options) g;
	memset(&g, 0, sizeof g);
	g.o.size = sizeof g.o + 8;
	g.tail[8] = 1;
	ASSERT_AW_OK(aw_file_replace("f", "x", 1, &g.o, NULL));
	ASSERT_EQ(th_count_entries("."), 1);
}

/* ---- one mode rule -------------------------------------------------- */

TEST(api_mode_without_its_flag_is_einval)
{
	aw_error e;
	aw_options o = { .mode = 0644 };
	ASSERT_ERRNO(aw_file_replace("f", "x", 1, &o, &e), EINVAL);
	assert_args_error(&e, EINVAL, "f");
	aw_file *f = NULL;
	ASSERT_ERRNO(aw_file_begin(&f, "f", &o, &e), EINVAL);
	ASSERT_TRUE(f == NULL);

	aw_batch_options bo = { .mode = 0644 };
	aw_batch *b = NULL;
	ASSERT_ERRNO(aw_batch_new(&b, &bo, &e), EINVAL);
	assert_args_error(&e, EINVAL, "");
	ASSERT_TRUE(b == NULL);

	/* Publishing: AW_PUBLISH_MODE, not AW_MODE, is publish's flag. */
	aw_publish_options po = { .mode = 0750 };
	ASSERT_ERRNO(aw_link_publish("l", fill, NULL, &po, &e), EINVAL);
	assert_args_error(&e, EINVAL, "l");
	ASSERT_ERRNO(aw_link_publish_tree("l", ".", &po, &e), EINVAL);

	/* And with the flag, bits beyond 07777 are refused everywhere. */
	aw_options big = { .flags = AW_MODE, .mode = 010644 };
	ASSERT_ERRNO(aw_file_replace("f", "x", 1, &big, &e), EINVAL);
	aw_batch_options bbig = { .flags = AW_MODE, .mode = 010644 };
	ASSERT_ERRNO(aw_batch_new(&b, &bbig, &e), EINVAL);
	aw_publish_options pbig = { .flags = AW_PUBLISH_MODE, .mode = 010750 };
	ASSERT_ERRNO(aw_link_publish("l", fill, NULL, &pbig, &e), EINVAL);
	ASSERT_EQ(th_count_entries("."), 0);
}

TEST(api_batch_mode_gives_every_file_that_mode)
{
	mode_t mask = umask(077);   /* no umask is applied to it */
	th_write_file("old", "o", 1);
	ASSERT_OK(chmod("old", 0600));
	ASSERT_OK(mkdir("d", 0755));
	/* Named temporaries, and O_TMPFILE where there is one. */
	aw_batch_options opts[] = {
		{ .flags = AW_MODE | AW_NO_TMPFILE, .mode = 0654 },
		{ .flags = AW_MODE, .mode = 0640 },
	};
	for (size_t i = 0; i < 2; i++) {
		aw_batch *b;
		ASSERT_OK(aw_batch_new(&b, &opts[i], NULL));
		ASSERT_OK(aw_batch_add_buffer(b, "old", "n", 1, NULL));
		ASSERT_OK(aw_batch_add_buffer(b, "new", "n", 1, NULL));
		ASSERT_OK(aw_batch_add_buffer(b, "d/new", "n", 1, NULL));
		ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
		ASSERT_EQ(mode_of("old"), opts[i].mode);
		ASSERT_EQ(mode_of("new"), opts[i].mode);
		ASSERT_EQ(mode_of("d/new"), opts[i].mode);
		ASSERT_OK(chmod("old", 0600));
		ASSERT_OK(unlink("new"));
		ASSERT_OK(unlink("d/new"));
	}
	/* Without AW_MODE the old mode is kept. */
	aw_batch *b;
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	ASSERT_OK(aw_batch_add_buffer(b, "old", "k", 1, NULL));
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	ASSERT_EQ(mode_of("old"), 0600);
	umask(mask);
}

TEST(api_publish_mode_flag_sets_the_version_mode)
{
	aw_publish_options o = { .flags = AW_PUBLISH_MODE, .mode = 0751 };
	ASSERT_AW_OK(aw_link_publish("l", fill, NULL, &o, NULL));
	ASSERT_EQ(mode_of("l/."), 0751);
	/* The tree's own mode is replaced too. */
	ASSERT_OK(mkdir("src", 0700));
	th_write_file("src/a", "a", 1);
	ASSERT_AW_OK(aw_link_publish_tree("t", "src", NULL, NULL));
	ASSERT_EQ(mode_of("t/."), 0700);
	o.mode = 0755;
	ASSERT_AW_OK(aw_link_publish_tree("t", "src", &o, NULL));
	ASSERT_EQ(mode_of("t/."), 0755);
	ASSERT_FILE("t/a", "a", 1);
}

/* ---- _at twins ------------------------------------------------------ */

/* A directory "base" with "base/sub", opened; the test works relative to
 * it from a working directory that does not hold the names. */
static int open_base(void)
{
	ASSERT_OK(mkdir("base", 0755));
	ASSERT_OK(mkdir("base/sub", 0755));
	ASSERT_OK(mkdir("elsewhere", 0755));
	int fd = open("base", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(fd);
	ASSERT_OK(chdir("elsewhere"));
	return fd;
}

static void assert_open(int fd)
{
	ASSERT_OK(fcntl(fd, F_GETFD));
}

TEST(api_at_twins_of_links_work_relative_to_a_dirfd)
{
	int fd = open_base();
	int ctx = fd;
	aw_publish_options keep = { .keep = 1 };
	ASSERT_AW_OK(aw_link_publish_at(fd, "sub/link", fill_checking_path, &ctx,
	                                &keep, NULL));
	ASSERT_FILE("../base/sub/link/file", "v\n", 2);
	ASSERT_AW_OK(aw_link_publish_at(fd, "sub/link", fill, NULL, &keep, NULL));
	char first[256], second[256];
	ssize_t n = readlink("../base/sub/link", second, sizeof second - 1);
	ASSERT_TRUE(n > 0);
	second[n] = '\0';
	ASSERT_AW_OK(aw_link_rollback_at(fd, "sub/link", NULL));
	n = readlink("../base/sub/link", first, sizeof first - 1);
	ASSERT_TRUE(n > 0);
	first[n] = '\0';
	ASSERT_TRUE(strcmp(first, second) != 0);

	/* The tree from a source relative to another descriptor. */
	ASSERT_OK(mkdir("src", 0755));
	ASSERT_OK(mkdir("src/in", 0750));
	th_write_file("src/in/a", "tree", 4);
	int srcfd = open("src", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(srcfd);
	ASSERT_OK(chdir("/"));
	ASSERT_AW_OK(aw_link_publish_tree_at(fd, "sub/tree", srcfd, "in", NULL,
	                                     NULL));
	ASSERT_OK(fchdir(fd));
	ASSERT_FILE("sub/tree/a", "tree", 4);
	ASSERT_EQ(mode_of("sub/tree/."), 0750);
	ASSERT_OK(chdir("../elsewhere"));

	ASSERT_AW_OK(aw_link_set_at("some/target", fd, "sub/sym", NULL));
	char text[64];
	n = readlink("../base/sub/sym", text, sizeof text - 1);
	ASSERT_EQ(n, 11);
	text[n] = '\0';
	ASSERT_STREQ(text, "some/target");
	ASSERT_EQ(access("sub", F_OK), -1);   /* nothing in the cwd */

	assert_open(fd);
	assert_open(srcfd);
	close(srcfd);
	close(fd);
}

TEST(api_at_twins_of_exchange_and_batches_work_relative_to_dirfds)
{
	int fd = open_base();
	int other = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(other);
	ASSERT_OK(chdir(".."));
	th_write_file("base/sub/a", "A", 1);
	th_write_file("elsewhere/b", "B", 1);
	ASSERT_OK(chdir("/"));
	aw_error e;
#ifdef AW_FORCE_POSIX
	ASSERT_ERRNO(aw_path_exchange_at(fd, "sub/a", other, "b", &e), EOPNOTSUPP);
	ASSERT_STREQ(e.path, "sub/a");
	ASSERT_STREQ(e.path2, "b");
#else
	ASSERT_AW_OK(aw_path_exchange_at(fd, "sub/a", other, "b", &e));
	ASSERT_OK(fchdir(fd));
	ASSERT_FILE("sub/a", "B", 1);
	ASSERT_FILE("../elsewhere/b", "A", 1);
	ASSERT_OK(chdir("/"));
#endif

	aw_batch *b;
	aw_file *f;
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	ASSERT_OK(aw_batch_add_at(b, &f, fd, "sub/x", NULL));
	ASSERT_OK(aw_file_write(f, "xx", 2, NULL));
	ASSERT_OK(aw_batch_add_buffer_at(b, other, "y", "yy", 2, NULL));
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	ASSERT_OK(fchdir(fd));
	ASSERT_FILE("sub/x", "xx", 2);
	ASSERT_FILE("../elsewhere/y", "yy", 2);

	/* An absolute name ignores dirfd. */
	char abs[4200];
	ASSERT_TRUE(getcwd(abs, 4000) != NULL);
	strcat(abs, "/sub/abs");
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	ASSERT_OK(aw_batch_add_buffer_at(b, other, abs, "z", 1, NULL));
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	ASSERT_FILE("sub/abs", "z", 1);
	ASSERT_AW_OK(aw_link_set_at("t", other, abs, NULL));
	ASSERT_EQ(access("../elsewhere/sub", F_OK), -1);

	assert_open(fd);
	assert_open(other);
	close(other);
	close(fd);
}

TEST(api_at_twins_name_the_path_as_given)
{
	int fd = open_base();
	aw_error e;
	ASSERT_ERRNO(aw_link_set_at("t", fd, "none/sym", &e), ENOENT);
	ASSERT_EQ(e.step, AW_STEP_OPEN_DIR);
	ASSERT_STREQ(e.path, "none/sym");
	ASSERT_ERRNO(aw_link_publish_at(fd, "none/l", fill, NULL, NULL, &e), ENOENT);
	ASSERT_STREQ(e.path, "none/l");
	ASSERT_ERRNO(aw_link_rollback_at(fd, "sub/l", &e), ENOENT);
	ASSERT_EQ(e.step, AW_STEP_FIND_VERSION);
	ASSERT_STREQ(e.path, "sub/l");
	ASSERT_ERRNO(aw_link_publish_tree_at(fd, "sub/t", fd, "none", NULL, &e),
	             ENOENT);
	ASSERT_EQ(e.step, AW_STEP_COPY_TREE);
	ASSERT_STREQ(e.path, "none");
	ASSERT_ERRNO(aw_path_exchange_at(fd, "sub/m1", fd, "m2", &e),
	             EXCHANGE_ERRNO(ENOENT));
	ASSERT_EQ(e.step, AW_STEP_EXCHANGE);
	ASSERT_STREQ(e.path, "sub/m1");
	ASSERT_STREQ(e.path2, "m2");
	aw_batch *b;
	aw_file *f;
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	ASSERT_ERRNO(aw_batch_add_at(b, &f, fd, "none/x", &e), ENOENT);
	ASSERT_STREQ(e.path, "none/x");
	ASSERT_ERRNO(aw_batch_add_buffer_at(b, fd, "sub", "x", 1, &e), EISDIR);
	ASSERT_STREQ(e.path, "sub");
	aw_batch_discard(b);
	ASSERT_EQ(th_count_entries("../base/sub"), 0);
	close(fd);
}

/* ---- aw_error -------------------------------------------------------- */

/* e names both paths, and its message says so. */
static void assert_two_paths(const aw_error *e, aw_step step, const char *path,
                             const char *path2, const char *message)
{
	char msg[AW_ERROR_FORMAT_SIZE];
	ASSERT_EQ(e->step, step);
	ASSERT_STREQ(e->path, path);
	ASSERT_STREQ(e->path2, path2);
	ASSERT_STREQ(aw_error_format(e, msg, sizeof msg), message);
}

TEST(api_exchange_failure_fills_path2)
{
	th_write_file("a", "a", 1);
	aw_error e;
	ASSERT_ERRNO(aw_path_exchange("a", "missing", &e), EXCHANGE_ERRNO(ENOENT));
	assert_two_paths(&e, AW_STEP_EXCHANGE, "a", "missing",
	                 th_errmsg("exchanging a and missing", EXCHANGE_ERRNO(ENOENT)));
	ASSERT_ERRNO(aw_path_exchange(NULL, "b", &e), EINVAL);
	ASSERT_EQ(e.step, AW_STEP_ARGS);
	ASSERT_STREQ(e.path2, "b");
}

TEST(api_backup_failure_names_the_backup)
{
	th_write_file("f", "old", 3);
	ASSERT_OK(mkdir("f~", 0755));
	aw_file *f;
	aw_error e;
	ASSERT_OK(aw_file_begin(&f, "f", NULL, NULL));
	ASSERT_ERRNO(aw_file_keep_backup(f, "~", &e), EISDIR);
	aw_file_discard(f);
	assert_two_paths(&e, AW_STEP_BACKUP, "f", "f~",
	                 th_errmsg("keeping a backup of f as f~", EISDIR));
}

TEST(api_error_is_filled_whole_reserved_zeroed)
{
	aw_error e;
	memset(&e, 0xa5, sizeof e);
	ASSERT_ERRNO(aw_file_replace("none/f", "x", 1, NULL, &e), ENOENT);
	ASSERT_STREQ(e.path, "none/f");
	ASSERT_STREQ(e.path2, "");
	for (size_t i = 0; i < sizeof e.reserved / sizeof e.reserved[0]; i++)
		ASSERT_EQ(e.reserved[i], 0);
	/* After a two-path failure, a one-path one clears path2. */
	ASSERT_ERRNO(aw_path_exchange("x", "y", &e), EXCHANGE_ERRNO(ENOENT));
	ASSERT_STREQ(e.path2, "y");
	ASSERT_ERRNO(aw_file_replace("none/f", "x", 1, NULL, &e), ENOENT);
	ASSERT_STREQ(e.path2, "");
}

TEST(api_error_format_fits_its_size_with_two_longest_paths)
{
	static aw_error e;
	static char buf[AW_ERROR_FORMAT_SIZE + 64];
	memset(e.path, 'p', sizeof e.path - 1);
	memset(e.path2, 'q', sizeof e.path2 - 1);
	ASSERT_EQ(strlen(e.path), AW_PATH_MAX_BYTES - 1);
	/* Every step, every errno, and the messages that say more. */
	for (int step = AW_STEP_NONE; step <= AW_STEP_PROTECTED_FILE + 1; step++) {
		for (int err = 0; err < 200; err++) {
			e.step = (aw_step)step;
			e.err = err;
			memset(buf, 'Z', sizeof buf);
			aw_error_format(&e, buf, AW_ERROR_FORMAT_SIZE);
			size_t len = strnlen(buf, sizeof buf);
			/* NUL-terminated inside, and not truncated: there was
			 * room to spare. */
			ASSERT_TRUE(len < AW_ERROR_FORMAT_SIZE - 1);
			ASSERT_EQ(buf[AW_ERROR_FORMAT_SIZE], 'Z');
			ASSERT_TRUE(strstr(buf, " and qqq") || strstr(buf, " as qqq"));
			const char *reason = step == AW_STEP_CREATE_TEMP && err == EACCES ?
			                     "its directory must be writable" : strerror(err);
			if (!(step == AW_STEP_TARGET_TYPE && err == EINVAL))
				ASSERT_TRUE(strstr(buf, reason) != NULL);
		}
	}
	/* Paths that fill their arrays without a NUL are not read past. */
	memset(e.path, 'p', sizeof e.path);
	memset(e.path2, 'q', sizeof e.path2);
	e.step = AW_STEP_EXCHANGE;
	e.err = EIO;
	aw_error_format(&e, buf, AW_ERROR_FORMAT_SIZE);
	ASSERT_TRUE(strlen(buf) < AW_ERROR_FORMAT_SIZE - 1);
	/* A small buffer: truncated, still terminated. */
	memset(buf, 'Z', sizeof buf);
	aw_error_format(&e, buf, 10);
	ASSERT_EQ(strlen(buf), 9);
	ASSERT_EQ(buf[10], 'Z');
}
