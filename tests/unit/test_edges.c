/* SPDX-License-Identifier: MIT */
/*
 * test_edges.c - trust at the edges (issue 11): descriptors 0-2 never
 * become the library's files, links in sticky world-writable directories
 * followed only as the kernel's protected_symlinks would, no replacement
 * of another user's file there (protected_regular), holes kept in copies,
 * no limit on the signal-cleanup registry, owners that cannot be kept
 * (EINVAL, ENOSYS) tolerated for non-root writers, and an EACCES on the
 * temporary file that says what to fix.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <pthread.h>
#include <unistd.h>

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Closes 0, 1 and 2, keeping copies in saved (restore_std puts them
 * back). */
static void close_std(int saved[3])
{
	for (int i = 0; i < 3; i++) {
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		if (saved[i] < 0)
			th_fail(__FILE__, __LINE__, "dup %d: %s", i, strerror(errno));
		close(i);
	}
}

/* Bit i set: descriptor i is open. */
static int open_std_mask(void)
{
	int m = 0;
	for (int i = 0; i < 3; i++)
		if (fd_open(i))
			m |= 1 << i;
	return m;
}

static void restore_std(int saved[3])
{
	for (int i = 0; i < 3; i++) {
		dup2(saved[i], i);
		close(saved[i]);
	}
}

TEST(closed_std_descriptors_never_become_the_temp)
{
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		th_write_file("t", "old", 3);
		aw_options o = { .flags = flags | AW_FOLLOW_SYMLINKS | AW_COPY_TARGET };
		unlink("link");
		ASSERT_OK(symlink("t", "link"));
		int saved[3];
		close_std(saved);
		aw_file *f = NULL;
		int r = aw_file_begin(&f, "link", &o, NULL);
		int during = open_std_mask();
		int fd = r == 0 ? aw_file_fd(f) : -1;
		int dirfd = r == 0 ? aw_file_dirfd(f) : -1;
		int c = -1;
		if (r == 0) {
			/* what a CLI would do with a closed stderr: a message
			 * to 2 must not reach the new file */
			(void)!write(2, "noise", 5);
			c = aw_file_write(f, "-new", 4, NULL);
			c = c == 0 ? aw_file_commit(f, NULL) : (aw_file_discard(f), -1);
		}
		int after = open_std_mask();
		restore_std(saved);
		ASSERT_EQ(r, 0);
		ASSERT_EQ(during, 0);
		ASSERT_EQ(after, 0);
		ASSERT_TRUE(fd >= 3);
		ASSERT_TRUE(dirfd >= 3);
		ASSERT_EQ(c, AW_OK);
		ASSERT_FILE("t", "old-new", 7);
		ASSERT_NO_TEMPS(".");
	}
}

TEST(closed_std_descriptors_failed_move_leaves_nothing)
{
	/* The move itself fails: the open fails with its errno and the
	 * named temporary file just created is gone again. */
	th_write_file("t", "old", 3);
	aw_options o = { .flags = AW_NO_TMPFILE };
	int saved[3];
	close_std(saved);
	aw_file *f = NULL;
	/* dirfd takes 0 and moves (dupfd 1); the temp's move is dupfd 2 */
	struct aw_fault_plan p = { AW_SYS_DUPFD, 2, EMFILE, 0 };
	aw__fault_set(&p);
	aw_error e;
	int r = aw_file_begin(&f, "t", &o, &e);
	int fired = aw__fault_fired_kind();
	aw__fault_reset();
	int after = open_std_mask();
	restore_std(saved);
	ASSERT_EQ(fired, AW_SYS_DUPFD);
	ASSERT_EQ(r, -1);
	ASSERT_EQ(e.err, EMFILE);
	ASSERT_EQ(e.step, AW_STEP_CREATE_TEMP);
	ASSERT_EQ(after, 0);
	ASSERT_FILE("t", "old", 3);
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 1);
}

/* ---- S2: links in sticky world-writable directories ----------------- */

#define NOBODY 65534

static void need_root(void)
{
	if (geteuid() != 0)
		th_skip("needs root to make files owned by another user");
}

/* "sticky": a sticky world-writable directory owned by owner. */
static void make_sticky(uid_t owner)
{
	ASSERT_OK(mkdir("sticky", 0777));
	ASSERT_OK(chmod("sticky", 01777));
	ASSERT_OK(chown("sticky", owner, 0));
}

static void plant_link(const char *target, const char *name, uid_t owner)
{
	ASSERT_OK(symlink(target, name));
	ASSERT_OK(lchown(name, owner, (gid_t)-1));
}

TEST(follow_refuses_a_strangers_link_in_a_sticky_directory)
{
	need_root();
	make_sticky(0);
	th_write_file("secret", "root's", 6);
	plant_link("../secret", "sticky/notes", NOBODY);
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	for (unsigned extra = 0; extra <= AW_NO_TMPFILE; extra += AW_NO_TMPFILE) {
		o.flags = AW_FOLLOW_SYMLINKS | extra;
		aw_error e;
		ASSERT_ERRNO(aw_file_replace("sticky/notes", "x", 1, &o, &e), EACCES);
		ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
		ASSERT_STREQ(e.path, "sticky/notes");
		/* dangling: the link would have made us create a file */
		plant_link("../made", "sticky/new", NOBODY);
		ASSERT_ERRNO(aw_file_replace("sticky/new", "x", 1, &o, &e), EACCES);
		ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
		ASSERT_OK(unlink("sticky/new"));
	}
	ASSERT_FILE("secret", "root's", 6);
	ASSERT_TRUE(access("made", F_OK) < 0);
	ASSERT_NO_TEMPS(".");
	ASSERT_NO_TEMPS("sticky");
	ASSERT_EQ(th_count_entries("sticky"), 1);
	/* not following, the link itself is replaced (as before) */
	ASSERT_AW_OK(aw_file_replace("sticky/notes", "x", 1, NULL, NULL));
	ASSERT_FILE("secret", "root's", 6);
}

TEST(follow_checks_every_hop_of_a_chain)
{
	need_root();
	make_sticky(0);
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("secret", "root's", 6);
	/* ours -> elsewhere -> a stranger's link in the sticky dir */
	plant_link("../d/hop", "sticky/mine", 0);
	plant_link("../sticky/theirs", "d/hop", 0);
	plant_link("../secret", "sticky/theirs", NOBODY);
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	aw_error e;
	ASSERT_ERRNO(aw_file_replace("sticky/mine", "x", 1, &o, &e), EACCES);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	ASSERT_FILE("secret", "root's", 6);
	ASSERT_NO_TEMPS(".");
	ASSERT_NO_TEMPS("sticky");
	ASSERT_NO_TEMPS("d");
}

TEST(follow_allows_links_the_kernel_allows)
{
	need_root();
	/* the follower's own link in a sticky directory */
	make_sticky(NOBODY);
	th_write_file("a", "old", 3);
	plant_link("../a", "sticky/own", 0);
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	ASSERT_AW_OK(aw_file_replace("sticky/own", "new", 3, &o, NULL));
	ASSERT_FILE("a", "new", 3);
	/* the directory owner's link */
	plant_link("../a", "sticky/owners", NOBODY);
	ASSERT_AW_OK(aw_file_replace("sticky/owners", "two", 3, &o, NULL));
	ASSERT_FILE("a", "two", 3);
	/* a stranger's link in a directory that is not sticky, or sticky
	 * but not world-writable */
	ASSERT_OK(mkdir("open", 0777));
	ASSERT_OK(chmod("open", 0777));
	plant_link("../a", "open/l", NOBODY);
	ASSERT_AW_OK(aw_file_replace("open/l", "three", 5, &o, NULL));
	ASSERT_FILE("a", "three", 5);
	ASSERT_OK(chmod("open", 01775));
	ASSERT_AW_OK(aw_file_replace("open/l", "four", 4, &o, NULL));
	ASSERT_FILE("a", "four", 4);
}

/*
 * The directory part of a link's target is walked by the library too, one
 * component at a time: a stranger's link used as a directory there (root's
 * own link to ../s2/herdir/secret, herdir hers in a sticky directory) is
 * judged by the same rule, whatever fs.protected_symlinks says.
 */
TEST(follow_judges_links_in_the_directory_part_of_a_target)
{
	need_root();
	make_sticky(0);
	ASSERT_OK(mkdir("s2", 0777));
	ASSERT_OK(chmod("s2", 01777));
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("d/secret", "root's", 6);
	char cwd[PATH_MAX], abs[PATH_MAX + 32];
	ASSERT_TRUE(getcwd(cwd, sizeof cwd) != NULL);
	plant_link("../d", "s2/herdir", NOBODY);
	/* root's own links, through her link as a directory: relative,
	 * absolute, after a directory link of root's, after "..", dangling */
	plant_link("../s2/herdir/secret", "sticky/rel", 0);
	snprintf(abs, sizeof abs, "%s/s2/herdir/secret", cwd);
	plant_link(abs, "sticky/abs", 0);
	ASSERT_OK(symlink("s2", "mys2"));
	plant_link("../mys2/herdir/secret", "sticky/via", 0);
	plant_link("../d/../s2/./herdir//secret", "sticky/dots", 0);
	plant_link("../s2/herdir/made", "sticky/new", 0);
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	const char *names[] = { "sticky/rel", "sticky/abs", "sticky/via",
	                        "sticky/dots", "sticky/new" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		aw_error e;
		ASSERT_ERRNO(aw_file_replace(names[i], "x", 1, &o, &e), EACCES);
		ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
		ASSERT_STREQ(e.path, names[i]);
	}
	/* her link deeper in the target, as the target of a directory link
	 * of root's in between */
	ASSERT_OK(mkdir("d/sub", 0755));
	plant_link("../../s2/herdir", "d/sub/up", 0);
	plant_link("../d/sub/up/secret", "sticky/deep", 0);
	aw_error e;
	ASSERT_ERRNO(aw_file_replace("sticky/deep", "x", 1, &o, &e), EACCES);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	ASSERT_FILE("d/secret", "root's", 6);
	ASSERT_TRUE(access("d/made", F_OK) < 0);
	ASSERT_NO_TEMPS(".");
	ASSERT_NO_TEMPS("d");
	ASSERT_NO_TEMPS("s2");
	ASSERT_NO_TEMPS("sticky");

	/* controls: the same chains through links the kernel would follow:
	 * root's own link in s2, the stranger's link where it is not
	 * sticky, the sticky directory owner's link */
	plant_link("../d", "s2/rootdir", 0);
	plant_link("../s2/rootdir/secret", "sticky/ok1", 0);
	ASSERT_AW_OK(aw_file_replace("sticky/ok1", "one", 3, &o, NULL));
	ASSERT_FILE("d/secret", "one", 3);
	ASSERT_OK(mkdir("open", 0777));
	ASSERT_OK(chmod("open", 0777));
	plant_link("../d", "open/herdir", NOBODY);
	plant_link("../open/herdir/secret", "sticky/ok2", 0);
	ASSERT_AW_OK(aw_file_replace("sticky/ok2", "two", 3, &o, NULL));
	ASSERT_FILE("d/secret", "two", 3);
	ASSERT_OK(mkdir("ms", 0777));
	ASSERT_OK(chmod("ms", 01777));
	ASSERT_OK(chown("ms", NOBODY, 0));
	plant_link("../d", "ms/herdir", NOBODY);
	snprintf(abs, sizeof abs, "%s/ms/herdir/secret", cwd);
	plant_link(abs, "sticky/ok3", 0);
	ASSERT_AW_OK(aw_file_replace("sticky/ok3", "three", 5, &o, NULL));
	ASSERT_FILE("d/secret", "three", 5);
	/* ".." after a directory link is the parent of where it led */
	plant_link("../s2/rootdir/../d/secret", "sticky/ok4", 0);
	ASSERT_AW_OK(aw_file_replace("sticky/ok4", "four", 4, &o, NULL));
	ASSERT_FILE("d/secret", "four", 4);
	ASSERT_NO_TEMPS("d");
	ASSERT_NO_TEMPS("sticky");

	/* a loop of directory links: ELOOP, not a hang */
	plant_link("loopb", "d/loopa", 0);
	plant_link("loopa", "d/loopb", 0);
	plant_link("../d/loopa/x", "sticky/loop", 0);
	ASSERT_ERRNO(aw_file_replace("sticky/loop", "x", 1, &o, &e), ELOOP);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	/* a file as a directory: ENOTDIR */
	plant_link("../d/secret/x", "sticky/notdir", 0);
	ASSERT_ERRNO(aw_file_replace("sticky/notdir", "x", 1, &o, &e), ENOTDIR);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	ASSERT_FILE("d/secret", "four", 4);
}

/* The links in the directory part of a link's text count in the 40 links
 * followed at most, as in the kernel's lookup. */
TEST(follow_counts_directory_links_in_the_limit)
{
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("d/t", "old", 3);
	/* l1 -> l2 -> ... -> lN -> d, and "link" -> lN-chain/t */
	char name[32], to[32];
	for (int i = 1; i <= 40; i++) {
		snprintf(name, sizeof name, "l%d", i);
		snprintf(to, sizeof to, "l%d", i + 1);
		ASSERT_OK(symlink(i == 40 ? "d" : to, name));
	}
	aw_options o = { .flags = AW_FOLLOW_SYMLINKS };
	aw_error e;
	/* link, then l1 ... l40: 41 links */
	ASSERT_OK(symlink("l1/t", "link"));
	ASSERT_ERRNO(aw_file_replace("link", "x", 1, &o, &e), ELOOP);
	ASSERT_EQ(e.step, AW_STEP_RESOLVE_LINK);
	ASSERT_FILE("d/t", "old", 3);
	/* link2, then l2 ... l40: 40 links */
	ASSERT_OK(symlink("l2/t", "link2"));
	ASSERT_AW_OK(aw_file_replace("link2", "new", 3, &o, NULL));
	ASSERT_FILE("d/t", "new", 3);
	ASSERT_NO_TEMPS("d");
	ASSERT_NO_TEMPS(".");
}

/* ---- S3: another user's file in a sticky world-writable directory --- */

static void make_file_owned(const char *path, uid_t uid, mode_t mode)
{
	th_write_file(path, "theirs", 6);
	ASSERT_OK(chown(path, uid, uid));
	ASSERT_OK(chmod(path, mode));
}

TEST(replace_refuses_a_strangers_file_in_a_sticky_directory)
{
	need_root();
	make_sticky(0);
	make_file_owned("sticky/f", NOBODY, 04777);
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		unsigned variants[] = { 0, AW_NO_KEEP_OWNER_XATTRS, AW_MODE,
		                        AW_COPY_TARGET, AW_FOLLOW_SYMLINKS };
		for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
			aw_options o = { .flags = flags | variants[i],
			                 .mode = (variants[i] & AW_MODE) ? 0644 : 0 };
			aw_error e;
			ASSERT_ERRNO(aw_file_replace("sticky/f", "root's", 6, &o, &e),
			             EACCES);
			ASSERT_EQ(e.step, AW_STEP_PROTECTED_FILE);
			ASSERT_STREQ(e.path, "sticky/f");
			char msg[256];
			aw_error_format(&e, msg, sizeof msg);
			ASSERT_TRUE(strstr(msg, "another user's file") != NULL);
		}
	}
	struct stat st;
	ASSERT_OK(stat("sticky/f", &st));
	ASSERT_EQ(st.st_uid, NOBODY);
	ASSERT_EQ(st.st_mode & 07777, 04777);
	ASSERT_FILE("sticky/f", "theirs", 6);
	ASSERT_EQ(th_count_entries("sticky"), 1);
	/* aw_file_begin refuses before creating anything */
	aw_file *f = NULL;
	ASSERT_ERRNO(aw_file_begin(&f, "sticky/f", NULL, NULL), EACCES);
	ASSERT_EQ(th_count_entries("sticky"), 1);
}

TEST(replace_keeps_files_the_kernel_would_let_us_replace)
{
	need_root();
	/* the directory owner's file in a sticky directory: kept owner */
	make_sticky(NOBODY);
	make_file_owned("sticky/f", NOBODY, 0640);
	ASSERT_AW_OK(aw_file_replace("sticky/f", "new", 3, NULL, NULL));
	struct stat st;
	ASSERT_OK(stat("sticky/f", &st));
	ASSERT_EQ(st.st_uid, NOBODY);
	ASSERT_EQ(st.st_mode & 07777, 0640);
	/* our own file there */
	th_write_file("sticky/mine", "old", 3);
	ASSERT_AW_OK(aw_file_replace("sticky/mine", "new", 3, NULL, NULL));
	/* a stranger's file in a sticky directory that is not
	 * world-writable, and in a plain world-writable one */
	ASSERT_OK(mkdir("g", 0775));
	ASSERT_OK(chmod("g", 01775));
	make_file_owned("g/f", 1234, 0644);
	ASSERT_AW_OK(aw_file_replace("g/f", "new", 3, NULL, NULL));
	ASSERT_OK(stat("g/f", &st));
	ASSERT_EQ(st.st_uid, 1234);
	ASSERT_OK(chmod("g", 0777));
	ASSERT_AW_OK(aw_file_replace("g/f", "new", 3, NULL, NULL));
	ASSERT_OK(stat("g/f", &st));
	ASSERT_EQ(st.st_uid, 1234);
}

/* ---- R9: owners that cannot be kept ---------------------------------- */

/* Runs fn in a child that has become nobody; returns its exit status. */
static int as_nobody(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(99);
		fn();
		_exit(0);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Replaces path with "new" with the n-th fchown failing with err (and, if
 * persistent, every later one); *fired: whether the fault was reached. */
static int replace_with_chown_fault(const char *path, unsigned flags, int err,
                                    int persistent, bool *fired)
{
	struct aw_fault_plan p = { AW_SYS_FCHOWN, 1, err, persistent };
	aw_options o = { .flags = flags };
	aw__fault_set(&p);
	int r = aw_file_replace(path, "new", 3, &o, NULL);
	int saved = errno;
	*fired = aw__fault_fired_kind() == AW_SYS_FCHOWN;
	aw__fault_reset();
	errno = saved;
	return r;
}

static const char *const r9_files[] = { "w/f", "w/g" };
static const unsigned r9_flags[] = { 0, AW_NO_TMPFILE };

static void nobody_replaces_with_einval(void)
{
	/* the old owner unmapped in a user namespace: EINVAL, for the
	 * owner and then for the group; ENOSYS: no owners here */
	for (int i = 0; i < 2; i++) {
		bool fired;
		int r = replace_with_chown_fault(r9_files[i], r9_flags[i],
		                                 i ? ENOSYS : EINVAL, 1, &fired);
		if (!fired)
			_exit(3);
		if (r != AW_OK)
			_exit(1);
		struct stat st;
		if (stat(r9_files[i], &st) < 0 || st.st_uid != NOBODY)
			_exit(2);
	}
}

TEST(unkeepable_owner_einval_enosys_tolerated_for_non_root)
{
	need_root();
	ASSERT_OK(mkdir("w", 0777));
	ASSERT_OK(chmod("w", 0777));
	for (int i = 0; i < 2; i++)
		make_file_owned(r9_files[i], 1234, 0666);
	ASSERT_EQ(as_nobody(nobody_replaces_with_einval), 0);
	for (int i = 0; i < 2; i++)
		ASSERT_FILE(r9_files[i], "new", 3);
	ASSERT_NO_TEMPS("w");
}

/* ---- issue 17: the directory opened O_PATH when nothing reads it ------ */

/* In "wx" (write and search, no read): what needs only the names in the
 * directory works, what needs the directory open for reading is refused
 * there, at AW_STEP_OPEN_DIR, before anything is created. */
static void replaces_in_a_write_only_directory(void)
{
	aw_options none = { .durability = AW_DURABILITY_NONE };
	aw_options file = { .durability = AW_DURABILITY_FILE };
	aw_options full = { .durability = AW_DURABILITY_FULL };
	aw_options lock = { .durability = AW_DURABILITY_NONE, .flags = AW_LOCK };
	aw_error e;
	if (aw_file_replace("wx/f", "none", 4, &none, &e) != AW_OK)
		_exit(1);
	if (aw_file_replace("wx/f", "file", 4, &file, &e) != AW_OK)
		_exit(2);
	/* FULL fsyncs the directory: it must be opened for reading. */
	if (aw_file_replace("wx/f", "x", 1, &full, &e) != AW_FAILED ||
	    e.step != AW_STEP_OPEN_DIR || e.err != EACCES)
		_exit(3);
	/* AW_LOCK, and a handle whose aw_file_dirfd() the caller gets: as
	 * before, readable. */
	if (aw_file_replace("wx/f", "x", 1, &lock, &e) != AW_FAILED ||
	    e.step != AW_STEP_OPEN_DIR || e.err != EACCES)
		_exit(4);
	aw_file *f;
	if (aw_file_begin(&f, "wx/f", &none, &e) == 0 ||
	    e.step != AW_STEP_OPEN_DIR || e.err != EACCES)
		_exit(5);
}

TEST(replace_without_full_durability_needs_no_read_permission_on_the_dir)
{
#if !defined(O_PATH) || defined(AW_FORCE_POSIX)
	th_skip("built without O_PATH: the directory is opened for reading");
#endif
	ASSERT_OK(mkdir("wx", 0700));
	th_write_file("wx/f", "old", 3);
	ASSERT_OK(chmod("wx", 0300));
	int status;
	if (geteuid() == 0) {
		/* root reads every directory: as nobody, in one of nobody's */
		ASSERT_OK(chmod(".", 0755));
		ASSERT_OK(chown("wx", NOBODY, NOBODY));
		ASSERT_OK(chown("wx/f", NOBODY, NOBODY));
		status = as_nobody(replaces_in_a_write_only_directory);
	} else {
		pid_t pid = fork();
		ASSERT_OK(pid);
		if (pid == 0) {
			replaces_in_a_write_only_directory();
			_exit(0);
		}
		ASSERT_OK(waitpid(pid, &status, 0));
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	}
	ASSERT_OK(chmod("wx", 0700));
	ASSERT_EQ(status, 0);
	ASSERT_FILE("wx/f", "file", 4);
	ASSERT_NO_TEMPS("wx");
}

TEST(unkeepable_owner_einval_still_fails_for_root)
{
	need_root();
	ASSERT_OK(mkdir("w", 0755));
	for (int i = 0; i < 2; i++) {
		make_file_owned("w/f", 1234, 0644);
		bool fired;
		ASSERT_ERRNO(replace_with_chown_fault("w/f", r9_flags[i], EINVAL,
		                                      0, &fired), EINVAL);
		ASSERT_TRUE(fired);
		ASSERT_FILE("w/f", "theirs", 6);
		ASSERT_NO_TEMPS("w");
		/* ENOSYS: no owners to set here, for root too */
		ASSERT_EQ(replace_with_chown_fault("w/f", r9_flags[i], ENOSYS, 1,
		                                   &fired), AW_OK);
		ASSERT_TRUE(fired);
		ASSERT_FILE("w/f", "new", 3);
		ASSERT_NO_TEMPS("w");
	}
}

/* ---- R3: the signal-cleanup registry has no fixed limit ------------- */

#define R3_FILES 600

TEST(sigterm_removes_every_temp_of_a_large_batch)
{
	/* 600 named temporary files in flight (each with its directory
	 * open: 1200 descriptors), then SIGTERM: none may be left. */
	struct rlimit rl;
	ASSERT_OK(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * R3_FILES + 64)
		th_skip("RLIMIT_NOFILE hard limit too low for 1200 descriptors");
	ASSERT_OK(mkdir("d", 0755));
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit more = { 2 * R3_FILES + 64, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &more) < 0 || aw_cleanup_install() < 0)
			_exit(2);
		static aw_file *files[R3_FILES];
		aw_options o = { .flags = AW_NO_TMPFILE };
		for (int i = 0; i < R3_FILES; i++) {
			char name[32];
			snprintf(name, sizeof name, "d/f%d", i);
			if (aw_file_begin(&files[i], name, &o, NULL) < 0)
				_exit(3);
		}
		/* a few given back and taken again: slots are reused */
		for (int i = 0; i < 10; i++)
			aw_file_discard(files[i]);
		for (int i = 0; i < 10; i++) {
			char name[32];
			snprintf(name, sizeof name, "d/g%d", i);
			if (aw_file_begin(&files[i], name, &o, NULL) < 0)
				_exit(4);
		}
		if (th_count_entries("d") != R3_FILES)
			_exit(5);
		raise(SIGTERM);
		_exit(6);
	}
	int status;
	ASSERT_OK(waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(WTERMSIG(status), SIGTERM);
	ASSERT_EQ(th_count_entries("d"), 0);
}

/* ---- R1: holes are kept ---------------------------------------------- */

#define SPARSE_SIZE ((off_t)64 << 20)

/* A 64 MiB file with a little data at a few places; trailing: whether it
 * ends in a hole. */
static void make_sparse(const char *path, bool trailing_hole)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_OK(fd);
	ASSERT_EQ(pwrite(fd, "head", 4, 0), 4);
	ASSERT_EQ(pwrite(fd, "middle", 6, SPARSE_SIZE / 2 + 12345), 6);
	if (trailing_hole)
		ASSERT_OK(ftruncate(fd, SPARSE_SIZE));
	else
		ASSERT_EQ(pwrite(fd, "tail", 4, SPARSE_SIZE - 4), 4);
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	close(fd);
	if ((off_t)st.st_blocks * 512 >= st.st_size / 2)
		th_skip("this filesystem does not keep holes");
}

/* path's bytes from off on equal src's from src_off on, and it is sparse. */
static void assert_same_sparse(const char *path, off_t off, const char *src,
                               off_t src_off, const char *prefix)
{
	int a = open(path, O_RDONLY | O_CLOEXEC), b = open(src, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(a);
	ASSERT_OK(b);
	struct stat sa, sb;
	ASSERT_OK(fstat(a, &sa));
	ASSERT_OK(fstat(b, &sb));
	ASSERT_EQ(sa.st_size - off, sb.st_size - src_off);
	ASSERT_TRUE((off_t)sa.st_blocks * 512 < (1 << 20));
	if (prefix) {
		char p[64];
		ASSERT_EQ(pread(a, p, (size_t)off, 0), off);
		ASSERT_TRUE(memcmp(p, prefix, (size_t)off) == 0);
	}
	static char x[1 << 20], y[1 << 20];
	for (off_t pos = 0; pos < sb.st_size - src_off; pos += sizeof x) {
		ssize_t n = pread(a, x, sizeof x, off + pos);
		ASSERT_EQ(pread(b, y, sizeof y, src_off + pos), n);
		ASSERT_TRUE(n > 0 && memcmp(x, y, (size_t)n) == 0);
	}
	close(a);
	close(b);
}

static void copy_from_file(const char *src, off_t src_off, const char *prefix,
                           unsigned flags, int no_range_err)
{
	int fd = open(src, O_RDONLY | O_CLOEXEC);
	ASSERT_OK(fd);
	ASSERT_EQ(lseek(fd, src_off, SEEK_SET), src_off);
	aw_options o = { .flags = flags };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "out", &o, NULL));
	if (prefix)
		ASSERT_OK(aw_file_write(f, prefix, strlen(prefix), NULL));
	if (no_range_err) {
		/* no copy_file_range: read and write */
		struct aw_fault_plan p = { AW_SYS_COPY_RANGE, 1, no_range_err, 1 };
		aw__fault_set(&p);
	}
	int r = aw_file_copy_from(f, fd, NULL);
	aw__fault_reset();
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	close(fd);
	ASSERT_OK(r);
	/* the offset is at the end: appending goes after the copy */
	off_t want = st.st_size - src_off + (off_t)(prefix ? strlen(prefix) : 0);
	ASSERT_EQ(lseek(aw_file_fd(f), 0, SEEK_CUR), want);
	ASSERT_AW_OK(aw_file_commit(f, NULL));
}

TEST(copy_keeps_holes_and_the_exact_size)
{
	for (int trailing = 0; trailing <= 1; trailing++) {
		make_sparse("src", trailing);
		for (int way = 0; way < 3; way++) {
			int err = way == 0 ? 0 : way == 1 ? ENOSYS : EXDEV;
			unsigned flags = way == 2 ? AW_NO_TMPFILE : 0;
			copy_from_file("src", 0, NULL, flags, err);
			assert_same_sparse("out", 0, "src", 0, NULL);
			/* from an offset, after a prefix */
			copy_from_file("src", 3, "prefix", flags, err);
			assert_same_sparse("out", 6, "src", 3, "prefix");
		}
	}
}

TEST(copy_target_keeps_holes)
{
	make_sparse("t", true);
	ASSERT_OK(link("t", "orig"));
	aw_options o = { .flags = AW_COPY_TARGET };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "t", &o, NULL));
	ASSERT_EQ(lseek(aw_file_fd(f), 0, SEEK_CUR), SPARSE_SIZE);
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	assert_same_sparse("t", 0, "orig", 0, NULL);
}

/* ---- EACCES creating the temporary file ------------------------------ */

static void replace_in_readonly_dir(void)
{
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		aw_options o = { .flags = flags };
		aw_error e;
		if (aw_file_replace("ro/f", "new", 3, &o, &e) != AW_FAILED ||
		    e.err != EACCES || e.step != AW_STEP_CREATE_TEMP)
			_exit(1);
		char msg[512];
		aw_error_format(&e, msg, sizeof msg);
		if (!strstr(msg, th_errmsg("creating temporary file for ro/f", EACCES)) ||
		    !strstr(msg, "directory must be writable"))
			_exit(2);
	}
}

TEST(eacces_creating_the_temp_says_the_directory_must_be_writable)
{
	ASSERT_OK(mkdir("ro", 0755));
	th_write_file("ro/f", "old", 3);
	ASSERT_OK(chmod("ro/f", 0666));   /* the file itself is writable */
	ASSERT_OK(chmod("ro", 0555));
	if (geteuid() == 0) {
		ASSERT_EQ(as_nobody(replace_in_readonly_dir), 0);
	} else {
		replace_in_readonly_dir();
	}
	ASSERT_FILE("ro/f", "old", 3);
	ASSERT_OK(chmod("ro", 0755));
	ASSERT_NO_TEMPS("ro");
}

/* Threads registering and unregistering at once, the registry growing
 * under them: then SIGTERM, and every file still in flight is removed. */
#define R3_THREADS 6
#define R3_KEEP 50   /* 300 in flight: more than the old 256 slots */

/* The files left in flight, where the process (killed by SIGTERM) still
 * reaches them: valgrind counts them still reachable, not lost. */
static aw_file *r3_files[R3_THREADS][R3_KEEP];

static void *r3_churn(void *arg)
{
	int id = (int)(intptr_t)arg;
	aw_options o = { .flags = AW_NO_TMPFILE };
	aw_file **open_files = r3_files[id];
	char name[32];
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < R3_KEEP; i++) {
			snprintf(name, sizeof name, "d/t%d-%d", id, i);
			if (aw_file_begin(&open_files[i], name, &o, NULL) < 0)
				return (void *)1;
		}
		if (round == 19)
			break;   /* the last round stays in flight */
		for (int i = 0; i < R3_KEEP; i++)
			aw_file_discard(open_files[i]);
	}
	return NULL;
}

TEST(sigterm_removes_temps_of_many_threads)
{
	ASSERT_OK(mkdir("d", 0755));
	pid_t pid = fork();
	if (pid == 0) {
		if (aw_cleanup_install() < 0)
			_exit(2);
		pthread_t t[R3_THREADS];
		for (int i = 0; i < R3_THREADS; i++)
			if (pthread_create(&t[i], NULL, r3_churn, (void *)(intptr_t)i))
				_exit(3);
		for (int i = 0; i < R3_THREADS; i++) {
			void *r;
			if (pthread_join(t[i], &r) || r)
				_exit(4);
		}
		if (th_count_entries("d") != R3_THREADS * R3_KEEP)
			_exit(5);
		raise(SIGTERM);
		_exit(6);
	}
	int status;
	ASSERT_OK(waitpid(pid, &status, 0));
	if (WIFEXITED(status))
		th_fail(__FILE__, __LINE__, "child exited %d", WEXITSTATUS(status));
	ASSERT_EQ(WTERMSIG(status), SIGTERM);
	ASSERT_EQ(th_count_entries("d"), 0);
}

/* A failure injected at every call of a sparse copy and its commit: the
 * target is the old file or the exact copy, and nothing is left behind. */
TEST(sparse_copy_fault_at_every_call)
{
	int fd = open("src", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_OK(fd);
	ASSERT_EQ(pwrite(fd, "a", 1, 0), 1);
	ASSERT_EQ(pwrite(fd, "b", 1, 1 << 20), 1);
	ASSERT_EQ(pwrite(fd, "c", 1, 2 << 20), 1);
	ASSERT_OK(ftruncate(fd, 3 << 20));
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	if ((off_t)st.st_blocks * 512 >= st.st_size / 2)
		th_skip("this filesystem does not keep holes");
	unsigned long n;
	for (n = 1;; n++) {
		th_write_file("t", "old", 3);
		ASSERT_EQ(lseek(fd, 0, SEEK_SET), 0);
		aw_file *f;
		aw_options o = { .flags = AW_NO_TMPFILE };
		ASSERT_OK(aw_file_begin(&f, "t", &o, NULL));
		/* the copy's own calls and the commit's are numbered */
		struct aw_fault_plan p = { -1, n, EIO, 0 };
		aw__fault_set(&p);
		int r = aw_file_copy_from(f, fd, NULL);
		r = r < 0 ? (aw_file_discard(f), AW_FAILED) : aw_file_commit(f, NULL);
		int fired = aw__fault_fired_kind();
		aw__fault_reset();
		ASSERT_NO_TEMPS(".");
		if (r == AW_FAILED)
			ASSERT_FILE("t", "old", 3);
		else
			assert_same_sparse("t", 0, "src", 0, NULL);
		if (fired < 0) {
			ASSERT_EQ(r, AW_OK);
			break;
		}
		/* never success after a failed write, truncate or fsync */
		if (r == AW_OK)
			ASSERT_TRUE(fired != AW_SYS_WRITE && fired != AW_SYS_FTRUNCATE &&
			            fired != AW_SYS_FSYNC && fired != AW_SYS_COPY_RANGE);
	}
	ASSERT_TRUE(n > 8);
	close(fd);
}
