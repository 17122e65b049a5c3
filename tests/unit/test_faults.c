/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - a failure injected at every system call of a replacement,
 * through the seam in src/sys.c: the target must hold exactly the old or
 * exactly the new bytes, no temporary file may remain, the caller must get
 * the injected errno and a step, and success is never reported after a
 * failed write, fsync or rename.  Also: how many fsyncs each durability
 * level makes, in which order, and that EINTR is retried everywhere.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char OLD[] = "old contents, longer than the new ones";
static const char NEW[] = "new contents";

struct scenario {
	const char *label;
	unsigned flags;
	bool existing;       /* a target exists before the replace */
	bool via_link;       /* the target is reached through a symlink */
	aw_durability durability;   /* of the sweeps (0: FULL) */
	int at;              /* aw_file_replace_at() with "." opened so */
};

static const struct scenario scenarios[] = {
	{ "existing, O_TMPFILE", 0, true, false, AW_DURABILITY_FULL, 0 },
	{ "existing, named temp", AW_NO_TMPFILE, true, false,
	  AW_DURABILITY_FULL, 0 },
	{ "new, O_TMPFILE", 0, false, false, AW_DURABILITY_FULL, 0 },
	{ "new, named temp", AW_NO_TMPFILE, false, false,
	  AW_DURABILITY_FULL, 0 },
	{ "new, no-clobber", AW_NO_CLOBBER, false, false,
	  AW_DURABILITY_FULL, 0 },
	{ "new, no-clobber, named", AW_NO_CLOBBER | AW_NO_TMPFILE, false, false,
	  AW_DURABILITY_FULL, 0 },
	{ "existing, followed link", AW_FOLLOW_SYMLINKS, true, true,
	  AW_DURABILITY_FULL, 0 },
	{ "existing, locked", AW_LOCK | AW_NO_TMPFILE, true, false,
	  AW_DURABILITY_FULL, 0 },
	/* Below FULL the directory is opened O_PATH, a kept one borrowed
	 * without a look at its flags (issue 17). */
	{ "existing, O_TMPFILE, none", 0, true, false, AW_DURABILITY_NONE, 0 },
	{ "new, named temp, file", AW_NO_TMPFILE, false, false,
	  AW_DURABILITY_FILE, 0 },
	{ "existing, kept O_PATH dirfd, none", 0, true, false,
	  AW_DURABILITY_NONE, O_PATH },
	{ "existing, kept dirfd, file", 0, true, false, AW_DURABILITY_FILE,
	  O_RDONLY },
};

static void prepare(const struct scenario *s)
{
	aw__fault_reset();
	unlink("t");
	unlink("link");
	if (s->existing)
		th_write_file("t", OLD, sizeof OLD - 1);
	if (s->via_link && symlink("t", "link") < 0)
		th_fail(__FILE__, __LINE__, "symlink: %s", strerror(errno));
}

static int run(const struct scenario *s, aw_durability d, aw_error *e)
{
	aw_options o = { .durability = d, .flags = s->flags };
	if (!s->at)
		return aw_file_replace(s->via_link ? "link" : "t", NEW,
		                       sizeof NEW - 1, &o, e);
	/* Opened outside the seam: the caller's. */
	int dirfd = open(".", (s->at == O_PATH ? O_PATH : O_RDONLY) |
	                 O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(dirfd);
	int r = aw_file_replace_at(dirfd, "t", NEW, sizeof NEW - 1, &o, e);
	int saved = errno;
	close(dirfd);
	errno = saved;
	return r;
}

/* What the directory must look like after a replace that returned r. */
static void check_outcome(const struct scenario *s, int r, int kind,
                          const char *what)
{
	size_t len;
	if (r == AW_OK || r == AW_UNSYNCED) {
		ASSERT_FILE("t", NEW, sizeof NEW - 1);
	} else if (s->existing) {
		ASSERT_FILE("t", OLD, sizeof OLD - 1);
	} else if (access("t", F_OK) == 0) {
		char *got = th_read_file("t", &len);
		th_fail(__FILE__, __LINE__, "%s: failed, yet t exists (%zu bytes)",
		        what, len);
		free(got);
	}
	if (s->via_link) {
		struct stat st;
		ASSERT_OK(lstat("link", &st));
		ASSERT_TRUE(S_ISLNK(st.st_mode));
	}
	/* The one leftover the library cannot avoid: no-clobber without
	 * renameat2 links the temporary file to the target, and if removing
	 * the temporary name then fails, the target is replaced but a second
	 * name remains, unlocked, which the next sweep removes. */
	if (r == AW_OK && kind == AW_SYS_UNLINKAT && (s->flags & AW_NO_CLOBBER)) {
		printf("    %s: left a second link, swept\n", what);
		ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	}
	/* The lock file (AW_LOCK) whose removal kept failing, or (without
	 * O_TMPFILE) that could not be checked once created, is left
	 * unlocked: a dead holder's to the next writer, and the sweep's. */
	/* Without O_TMPFILE the lock file is a flocked temporary linked to
	 * the lock's name: if unlinking kept failing, both names stay, and
	 * the sweep removes both. */
	if ((s->flags & AW_LOCK) && access(".awtmp-lock", F_OK) == 0) {
		printf("    %s: left the lock file, swept\n", what);
		int swept = aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL);
		ASSERT_TRUE(swept == 1 || swept == 2);
	}
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), (s->existing || r != AW_FAILED) + s->via_link);
}

/* Kinds of call whose failure must never end in AW_OK. */
static bool must_fail(int kind)
{
	return kind == AW_SYS_WRITE || kind == AW_SYS_FSYNC ||
	       kind == AW_SYS_RENAMEAT;
}

static void sweep_scenario(const struct scenario *s, int err, bool persistent,
                           unsigned *cases)
{
	aw_error e;
	prepare(s);
	ASSERT_AW_OK(run(s, s->durability, &e));
	unsigned long calls = aw__fault_calls(-1);
	ASSERT_TRUE(calls > 5);

	for (unsigned long nth = 1; nth <= calls; nth++) {
		char what[200];
		prepare(s);
		struct aw_fault_plan plan = { -1, nth, err, persistent };
		aw__fault_set(&plan);
		memset(&e, 0, sizeof e);
		int r = run(s, s->durability, &e);
		int kind = aw__fault_fired_kind();
		aw__fault_reset();
		snprintf(what, sizeof what, "%s: %s at call %lu (%s)%s", s->label,
		         strerror(err), nth, aw__sys_call_name(kind),
		         persistent ? ", persistent" : "");
		(*cases)++;

		if (r == AW_FAILED || r == AW_UNSYNCED) {
			if (e.err != err || e.step == AW_STEP_NONE)
				th_fail(__FILE__, __LINE__, "%s: reported errno %d step %d",
				        what, e.err, (int)e.step);
		}
		if (r == AW_UNSYNCED && (kind != AW_SYS_FSYNC || e.step != AW_STEP_SYNC_DIR))
			th_fail(__FILE__, __LINE__, "%s: AW_UNSYNCED at step %s", what,
			        aw_step_name(e.step));
		if (r == AW_OK && must_fail(kind))
			th_fail(__FILE__, __LINE__, "%s: reported success", what);
		if (r != AW_OK && r != AW_FAILED && r != AW_UNSYNCED)
			th_fail(__FILE__, __LINE__, "%s: returned %d", what, r);
		check_outcome(s, r, kind, what);
	}
}

TEST(fault_at_every_call_keeps_old_or_new_and_leaves_nothing)
{
	static const int errs[] = { EIO, ENOSPC, EACCES };
	unsigned cases = 0;
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		for (size_t j = 0; j < sizeof errs / sizeof errs[0]; j++)
			for (int persistent = 0; persistent <= 1; persistent++)
				sweep_scenario(&scenarios[i], errs[j], persistent, &cases);
	printf("    %u injected faults checked\n", cases);
}

TEST(eintr_at_every_call_is_retried)
{
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
		const struct scenario *s = &scenarios[i];
		prepare(s);
		ASSERT_AW_OK(run(s, AW_DURABILITY_FULL, NULL));
		unsigned long calls = aw__fault_calls(-1);
		for (unsigned long nth = 1; nth <= calls; nth++) {
			prepare(s);
			struct aw_fault_plan plan = { -1, nth, EINTR, 0 };
			aw__fault_set(&plan);
			aw_error e;
			int r = run(s, AW_DURABILITY_FULL, &e);
			if (r != AW_OK)
				th_fail(__FILE__, __LINE__, "%s: EINTR at call %lu: %d, step %s",
				        s->label, nth, r, aw_step_name(e.step));
			ASSERT_EQ(aw__fault_fired_kind() >= 0, 1);
			aw__fault_reset();
			check_outcome(s, r, -1, s->label);
		}
	}
}

/* The positions of fsyncs and renames in the call trace of one replace. */
static void trace_of(aw_durability d, unsigned flags, int *fsyncs,
                     int fsync_at[2], int *rename_at)
{
	static const struct scenario s = { "", 0, true, false,
	                                   AW_DURABILITY_FULL, 0 };
	struct scenario sc = s;
	sc.flags = flags;
	prepare(&sc);
	ASSERT_AW_OK(run(&sc, d, NULL));
	int kinds[512];
	size_t n = aw__fault_trace(kinds, 512);
	*fsyncs = 0;
	*rename_at = -1;
	for (size_t i = 0; i < n; i++) {
		if (kinds[i] == AW_SYS_FSYNC && *fsyncs < 2)
			fsync_at[(*fsyncs)++] = (int)i;
		else if (kinds[i] == AW_SYS_FSYNC)
			(*fsyncs)++;
		if (kinds[i] == AW_SYS_RENAMEAT)
			*rename_at = (int)i;
	}
}

TEST(fsync_count_and_order_per_durability)
{
	for (unsigned flags = 0; flags <= AW_NO_TMPFILE; flags += AW_NO_TMPFILE) {
		int n, at[2], rename_at;
		trace_of(AW_DURABILITY_FULL, flags, &n, at, &rename_at);
		ASSERT_EQ(n, 2);
		ASSERT_TRUE(at[0] < rename_at && rename_at < at[1]);

		trace_of(AW_DURABILITY_FILE, flags, &n, at, &rename_at);
		ASSERT_EQ(n, 1);
		ASSERT_TRUE(at[0] < rename_at);

		trace_of(AW_DURABILITY_NONE, flags, &n, at, &rename_at);
		ASSERT_EQ(n, 0);
		ASSERT_TRUE(rename_at >= 0);
	}
}

TEST(failed_directory_fsync_is_unsynced_not_success)
{
	prepare(&scenarios[0]);
	struct aw_fault_plan plan = { AW_SYS_FSYNC, 2, EIO, 0 };
	aw__fault_set(&plan);
	aw_error e;
	char msg[5000];
	ASSERT_EQ(run(&scenarios[0], AW_DURABILITY_FULL, &e), AW_UNSYNCED);
	ASSERT_EQ(e.err, EIO);
	ASSERT_EQ(e.step, AW_STEP_SYNC_DIR);
	ASSERT_STREQ(aw_error_format(&e, msg, sizeof msg),
	             th_errmsg("fsync of directory after replacing t", EIO));
	aw__fault_reset();
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
	ASSERT_NO_TEMPS(".");
}

TEST(failed_file_fsync_names_step_and_keeps_old)
{
	prepare(&scenarios[0]);
	struct aw_fault_plan plan = { AW_SYS_FSYNC, 1, EIO, 0 };
	aw__fault_set(&plan);
	aw_error e;
	char msg[5000];
	ASSERT_EQ(run(&scenarios[0], AW_DURABILITY_FULL, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_SYNC_TEMP);
	ASSERT_STREQ(aw_error_format(&e, msg, sizeof msg),
	             th_errmsg("fsync of temporary file for t", EIO));
	aw__fault_reset();
	ASSERT_FILE("t", OLD, sizeof OLD - 1);
	ASSERT_NO_TEMPS(".");
}

TEST(failed_write_refuses_commit)
{
	aw_file *f;
	aw_error e;
	th_write_file("t", OLD, sizeof OLD - 1);
	ASSERT_OK(aw_file_begin(&f, "t", NULL, &e));
	struct aw_fault_plan plan = { AW_SYS_WRITE, 1, ENOSPC, 0 };
	aw__fault_set(&plan);
	ASSERT_ERRNO(aw_file_write(f, NEW, sizeof NEW - 1, &e), ENOSPC);
	aw__fault_reset();
	/* A later write succeeding must not make the torn contents commit. */
	ASSERT_OK(aw_file_write(f, NEW, sizeof NEW - 1, &e));
	ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOSPC);
	ASSERT_EQ(e.step, AW_STEP_WRITE);
	ASSERT_FILE("t", OLD, sizeof OLD - 1);
	ASSERT_NO_TEMPS(".");
}

/* The attributes are listed by name first (listxattrat); a kernel without
 * that call, or a seccomp filter refusing it, must not cost the file its
 * attributes. */
TEST(xattrs_kept_when_listing_by_name_is_missing_or_refused)
{
	static const int errs[] = { ENOSYS, EPERM };
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		prepare(&scenarios[0]);
		if (th_setxattr("t", "user.awtest", "kept", 4) < 0) {
			if (errno == ENOTSUP || errno == EOPNOTSUPP)
				th_skip("this filesystem has no user xattrs");
			th_fail(__FILE__, __LINE__, "setxattr: %s", strerror(errno));
		}
		struct aw_fault_plan plan = { AW_SYS_XATTR, 1, errs[i], 0 };
		aw__fault_set(&plan);
		aw_error e;
		ASSERT_AW_OK(run(&scenarios[0], AW_DURABILITY_NONE, &e));
		ASSERT_EQ(aw__fault_fired_kind(), AW_SYS_XATTR);
		aw__fault_reset();
		ASSERT_FILE("t", NEW, sizeof NEW - 1);
		char buf[8];
		ASSERT_EQ(th_getxattr("t", "user.awtest", buf, sizeof buf), 4);
		ASSERT_TRUE(memcmp(buf, "kept", 4) == 0);
	}
}

/* The unnamed file is linked by descriptor (AT_EMPTY_PATH) first; where
 * that is refused (ENOENT: kernels before 6.10 without the capability;
 * EPERM: a seccomp filter), the /proc magic link names it instead. */
TEST(unnamed_temp_linked_through_proc_when_at_empty_path_is_refused)
{
#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
	static const int errs[] = { ENOENT, EPERM };
	for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
		prepare(&scenarios[0]);
		struct aw_fault_plan plan = { AW_SYS_LINKAT, 1, errs[i], 0 };
		aw__fault_set(&plan);
		aw_error e;
		ASSERT_AW_OK(run(&scenarios[0], AW_DURABILITY_NONE, &e));
		ASSERT_EQ(aw__fault_fired_kind(), AW_SYS_LINKAT);
		/* Linked by the second call, not copied into a named file. */
		ASSERT_EQ(aw__fault_calls(AW_SYS_LINKAT), 2);
		ASSERT_EQ(aw__fault_calls(AW_SYS_CLONE), 0);
		aw__fault_reset();
		ASSERT_FILE("t", NEW, sizeof NEW - 1);
		ASSERT_NO_TEMPS(".");
	}
#else
	th_skip("built without O_TMPFILE (AW_FORCE_POSIX)");
#endif
}

/* Begins replacing t (holding OLD), the first write from now on made
 * short or zero-length (and, persistent, every later one). */
static aw_file *begin_with_write_fault(int effect, int persistent)
{
	aw_file *f;
	th_write_file("t", OLD, sizeof OLD - 1);
	ASSERT_OK(aw_file_begin(&f, "t", NULL, NULL));
	struct aw_fault_plan plan = { AW_SYS_WRITE, 1, effect, persistent };
	aw__fault_set(&plan);
	return f;
}

/* A write may write less than asked (a signal, a nearly full device): the
 * rest must follow, not be lost, at whichever write it happens, once or
 * at every write from then on. */
TEST(short_write_is_continued_and_commits_whole)
{
	static char big[200000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	for (int persistent = 0; persistent <= 1; persistent++) {
		aw_error e;
		aw_file *f = begin_with_write_fault(AW_FAULT_SHORT_WRITE, persistent);
		ASSERT_OK(aw_file_write(f, big, sizeof big, &e));
		ASSERT_EQ(aw__fault_fired_kind(), AW_SYS_WRITE);
		/* Continued where it stopped: more writes than one. */
		ASSERT_TRUE(aw__fault_calls(AW_SYS_WRITE) >= (persistent ? 17u : 2u));
		ASSERT_OK(aw_file_write(f, NEW, sizeof NEW - 1, &e));
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_commit(f, &e));
		char *want = malloc(sizeof big + sizeof NEW);
		ASSERT_TRUE(want != NULL);
		memcpy(want, big, sizeof big);
		memcpy(want + sizeof big, NEW, sizeof NEW - 1);
		ASSERT_FILE("t", want, sizeof big + sizeof NEW - 1);
		free(want);
		ASSERT_NO_TEMPS(".");
	}
}

/* A write that returns 0 (no progress, no errno) is a full device: the
 * write fails with ENOSPC at once instead of spinning, and the commit is
 * refused, the old file kept. */
TEST(zero_length_write_fails_instead_of_spinning)
{
	for (int persistent = 0; persistent <= 1; persistent++) {
		aw_error e;
		aw_file *f = begin_with_write_fault(AW_FAULT_ZERO_WRITE, persistent);
		ASSERT_ERRNO(aw_file_write(f, NEW, sizeof NEW - 1, &e), ENOSPC);
		ASSERT_EQ(aw__fault_calls(AW_SYS_WRITE), 1);
		ASSERT_EQ(e.step, AW_STEP_WRITE);
		aw__fault_reset();
		ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
		ASSERT_EQ(e.err, ENOSPC);
		ASSERT_FILE("t", OLD, sizeof OLD - 1);
		ASSERT_NO_TEMPS(".");
	}
}

/* Both effects at every write a whole replace makes (the copy of
 * AW_COPY_TARGET too): a short one never changes what is committed, a
 * zero-length one always fails it cleanly. */
TEST(short_and_zero_writes_at_every_write_of_a_replace)
{
	aw_options o = { .flags = AW_COPY_TARGET | AW_NO_TMPFILE };
	for (int zero = 0; zero <= 1; zero++) {
		th_write_file("t", OLD, sizeof OLD - 1);
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace("t", NEW, sizeof NEW - 1, &o, NULL));
		unsigned long writes = aw__fault_calls(AW_SYS_WRITE);
		ASSERT_TRUE(writes >= 1);
		for (unsigned long nth = 1; nth <= writes; nth++) {
			aw_error e;
			th_write_file("t", OLD, sizeof OLD - 1);
			struct aw_fault_plan plan = { AW_SYS_WRITE, nth,
			        zero ? AW_FAULT_ZERO_WRITE : AW_FAULT_SHORT_WRITE, 1 };
			aw__fault_set(&plan);
			int r = aw_file_replace("t", NEW, sizeof NEW - 1, &o, &e);
			aw__fault_reset();
			if (zero) {
				ASSERT_EQ(r, AW_FAILED);
				ASSERT_EQ(e.err, ENOSPC);
				ASSERT_FILE("t", OLD, sizeof OLD - 1);
			} else {
				static const char both[] = "old contents, longer than "
				                           "the new onesnew contents";
				ASSERT_AW_OK(r);
				ASSERT_FILE("t", both, sizeof both - 1);
			}
			ASSERT_NO_TEMPS(".");
		}
	}
}

/* One name-length rule for every temporary name, the backup's link made by
 * name too (a symbolic link at the target is kept as itself): a name the
 * filesystem finds too long makes it ask the directory's NAME_MAX, once,
 * and with no shorter limit there the failure is ENAMETOOLONG, named. */
TEST(backup_link_by_name_asks_name_max_when_too_long)
{
	aw_file *f;
	aw_error e;
	unlink("t");
	ASSERT_OK(symlink("elsewhere", "t"));
	ASSERT_OK(aw_file_begin(&f, "t", NULL, &e));
	struct aw_fault_plan plan = { AW_SYS_LINKAT, 1, ENAMETOOLONG, 0 };
	aw__fault_set(&plan);
	ASSERT_ERRNO(aw_file_keep_backup(f, "~", &e), ENAMETOOLONG);
	ASSERT_EQ(aw__fault_calls(AW_SYS_PATHCONF), 1);
	ASSERT_EQ(e.step, AW_STEP_BACKUP);
	aw__fault_reset();
	/* Once the name fits, the same handle keeps its backup. */
	ASSERT_OK(aw_file_keep_backup(f, "~", &e));
	ASSERT_OK(aw_file_write(f, NEW, sizeof NEW - 1, &e));
	ASSERT_AW_OK(aw_file_commit(f, &e));
	ASSERT_FILE("t", NEW, sizeof NEW - 1);
	char target[32];
	ssize_t n = readlink("t~", target, sizeof target - 1);
	ASSERT_EQ(n, 9);
	ASSERT_TRUE(memcmp(target, "elsewhere", 9) == 0);
	unlink("t~");
	ASSERT_NO_TEMPS(".");
}

/* The temporary's status taken when the commit names it serves the owner
 * step too (one fstat, not two), and a mode it already has needs no
 * fchmod; one it does not have still gets one.  aw_file_replace() creates
 * its O_TMPFILE with the final mode when that mode lets nobody but the
 * writer more than its other bits (0644, 0755); 0640 or 0664 start 0600,
 * and a umask that narrows the mode is undone by the fchmod. */
TEST(commit_asks_the_temporary_status_once_and_skips_a_needless_fchmod)
{
#if defined(O_TMPFILE) && !defined(AW_FORCE_POSIX)
	static const struct { mode_t old, umask; unsigned long fchmods; } cases[] = {
		{ 0600, 022, 0 }, { 0644, 022, 0 }, { 0755, 022, 0 },
		{ 0640, 022, 1 }, { 0664, 022, 1 }, { 0604, 022, 1 },
		{ 04755, 022, 1 }, { 0644, 077, 1 }, { 0666, 022, 1 },
	};
	/* Without listxattrat (kernels before 6.13, valgrind, which does not
	 * know the call) the old file's attributes are looked at the long
	 * way, which counts as copying them: then every case takes the
	 * private start and the fchmod. */
	th_write_file("f", "old", 3);
	bool listed = aw__listxattrat(AT_FDCWD, "f", NULL, 0) == 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		umask(cases[i].umask);
		th_write_file("f", "old", 3);
		ASSERT_OK(chmod("f", cases[i].old));
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, NULL, NULL));
		ASSERT_EQ(aw__fault_calls(AW_SYS_FSTAT), 1);
		ASSERT_EQ(aw__fault_calls(AW_SYS_FCHMOD), listed ? cases[i].fchmods : 1);
		struct stat st;
		ASSERT_OK(stat("f", &st));
		ASSERT_EQ(st.st_mode & 07777, cases[i].old);
	}
	/* Attributes on the old file (they may restrict someone below the
	 * other bits): private start, attributes copied, then the mode. */
	umask(022);
	th_write_file("f", "old", 3);
	ASSERT_OK(chmod("f", 0644));
	if (th_setxattr("f", "user.awtest", "v", 1) == 0) {
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace("f", "new", 3, NULL, NULL));
		ASSERT_EQ(aw__fault_calls(AW_SYS_FCHMOD), 1);
		ASSERT_EQ(th_getxattr("f", "user.awtest", NULL, 0), 1);
	}
#else
	th_skip("built without O_TMPFILE (AW_FORCE_POSIX)");
#endif
}

/* What the caller did to the temporary before the commit is looked at
 * again: a status from an earlier naming is not trusted for the mode. */
TEST(mode_changed_by_the_caller_is_set_back)
{
	umask(022);
	for (int early = 0; early <= 1; early++) {
		th_write_file("f", "old", 3);
		ASSERT_OK(chmod("f", 0600));
		aw_file *f;
		ASSERT_OK(aw_file_begin(&f, "f", NULL, NULL));
		if (early)
			ASSERT_TRUE(aw_file_temp_name(f, NULL) != NULL);
		ASSERT_OK(fchmod(aw_file_fd(f), 0644));
		ASSERT_AW_OK(aw_file_commit(f, NULL));
		struct stat st;
		ASSERT_OK(stat("f", &st));
		ASSERT_EQ(st.st_mode & 07777, 0600);
	}
}

/* The openat and close calls of aw_file_replace("d/f") (the directory
 * opened by path), to compare the _at twin's with; d/f is "old" again. */
static void path_replace_calls(unsigned long *opens, unsigned long *closes)
{
	aw__fault_reset();
	ASSERT_AW_OK(aw_file_replace("d/f", "new", 3, NULL, NULL));
	*opens = aw__fault_calls(AW_SYS_OPENAT);
	*closes = aw__fault_calls(AW_SYS_CLOSE);
	th_write_file("d/f", "old", 3);
}

/* aw_file_replace_at() with a bare name uses the caller's directory
 * descriptor itself: no directory opened or closed, the descriptor still
 * the caller's afterwards, and every durability level committing. */
TEST(replace_at_uses_a_kept_directory_descriptor_without_reopening_it)
{
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("d/f", "old", 3);
	unsigned long opens, closes;
	path_replace_calls(&opens, &closes);
	int dirfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(dirfd);
	static const aw_durability levels[] = { AW_DURABILITY_FULL,
	                                        AW_DURABILITY_FILE,
	                                        AW_DURABILITY_NONE };
	for (size_t i = 0; i < 3; i++) {
		aw_options o = { .durability = levels[i] };
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace_at(dirfd, "f", "new", 3, &o, NULL));
		/* The directory's open and close are the ones saved. */
		ASSERT_EQ(aw__fault_calls(AW_SYS_OPENAT), opens - 1);
		ASSERT_EQ(aw__fault_calls(AW_SYS_CLOSE), closes - 1);
		ASSERT_EQ(aw__fault_calls(AW_SYS_FSYNC),
		          levels[i] == AW_DURABILITY_FULL ? 2 :
		          levels[i] == AW_DURABILITY_FILE ? 1 : 0);
		ASSERT_OK(fcntl(dirfd, F_GETFD));
		ASSERT_FILE("d/f", "new", 3);
		th_write_file("d/f", "old", 3);
	}
	/* A new file too. */
	ASSERT_AW_OK(aw_file_replace_at(dirfd, "g", "new", 3, NULL, NULL));
	ASSERT_FILE("d/g", "new", 3);
	ASSERT_NO_TEMPS("d");
	close(dirfd);
}

/* Descriptors that cannot serve as the directory itself: an O_PATH one is
 * reopened for AW_DURABILITY_FULL (it could not be fsynced), a file's fails at AW_STEP_OPEN_DIR
 * as before, a closed one too; and with a slash in the name, AW_LOCK or
 * AW_FOLLOW_SYMLINKS the directory is opened as always. */
TEST(replace_at_reopens_what_it_cannot_borrow)
{
	ASSERT_OK(mkdir("d", 0755));
	ASSERT_OK(mkdir("d/s", 0755));
	th_write_file("d/f", "old", 3);
	unsigned long opens, closes;
	path_replace_calls(&opens, &closes);
#ifdef O_PATH
	int pathfd = open("d", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(pathfd);
	aw__fault_reset();
	ASSERT_AW_OK(aw_file_replace_at(pathfd, "f", "new", 3, NULL, NULL));
	ASSERT_EQ(aw__fault_calls(AW_SYS_OPENAT), opens);
	ASSERT_EQ(aw__fault_calls(AW_SYS_FSYNC), 2);
	ASSERT_FILE("d/f", "new", 3);
#ifndef AW_FORCE_POSIX   /* which opens no directory O_PATH: reopened */
	/* Below AW_DURABILITY_FULL nothing fsyncs or reads it: borrowed
	 * (issue 17). */
	static const aw_durability below[] = { AW_DURABILITY_FILE,
	                                       AW_DURABILITY_NONE };
	for (size_t i = 0; i < 2; i++) {
		aw_options o = { .durability = below[i] };
		th_write_file("d/f", "old", 3);
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace_at(pathfd, "f", "new", 3, &o, NULL));
		ASSERT_EQ(aw__fault_calls(AW_SYS_OPENAT), opens - 1);
		ASSERT_EQ(aw__fault_calls(AW_SYS_CLOSE), closes - 1);
		/* Nor are its flags asked. */
		ASSERT_EQ(aw__fault_calls(AW_SYS_GETFL), 0);
		ASSERT_FILE("d/f", "new", 3);
	}
#endif
	ASSERT_OK(fcntl(pathfd, F_GETFD));
	close(pathfd);
#endif
	/* Unasked, a file's descriptor and a closed one still fail at
	 * AW_STEP_OPEN_DIR, with the target untouched. */
	aw_options none = { .durability = AW_DURABILITY_NONE };
	int wfd = open("d/f", O_WRONLY | O_CLOEXEC);
	ASSERT_OK(wfd);
	aw_error ne;
	ASSERT_EQ(aw_file_replace_at(wfd, "f", "x", 1, &none, &ne), AW_FAILED);
	ASSERT_EQ(ne.step, AW_STEP_OPEN_DIR);
	ASSERT_EQ(ne.err, ENOTDIR);
	close(wfd);
	ASSERT_EQ(aw_file_replace_at(wfd, "f", "x", 1, &none, &ne), AW_FAILED);
	ASSERT_EQ(ne.step, AW_STEP_OPEN_DIR);
	ASSERT_EQ(ne.err, EBADF);
	th_write_file("d/f", "new", 3);
	int filefd = open("d/f", O_RDONLY | O_CLOEXEC);
	ASSERT_OK(filefd);
	aw_error e;
	ASSERT_EQ(aw_file_replace_at(filefd, "f", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_OPEN_DIR);
	ASSERT_EQ(e.err, ENOTDIR);
	close(filefd);
	ASSERT_EQ(aw_file_replace_at(filefd, "f", "x", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_OPEN_DIR);
	ASSERT_EQ(e.err, EBADF);
	ASSERT_FILE("d/f", "new", 3);

	int dirfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(dirfd);
	aw_options lock = { .flags = AW_LOCK };
	aw_options follow = { .flags = AW_FOLLOW_SYMLINKS };
	struct { const char *name; const aw_options *o; } opened[] = {
		{ "s/f", NULL }, { "f", &lock }, { "f", &follow },
	};
	for (size_t i = 0; i < 3; i++) {
		aw__fault_reset();
		ASSERT_AW_OK(aw_file_replace_at(dirfd, opened[i].name, "new", 3,
		                                opened[i].o, NULL));
		/* Not borrowed: no look at its flags, opened as always. */
		ASSERT_EQ(aw__fault_calls(AW_SYS_GETFL), 0);
	}
	ASSERT_FILE("d/s/f", "new", 3);
	ASSERT_OK(fcntl(dirfd, F_GETFD));
	close(dirfd);
	ASSERT_NO_TEMPS("d");
}

/* aw_file_begin_at() keeps a descriptor of its own: the caller may close
 * dirfd at once and the commit still lands in that directory. */
TEST(begin_at_commits_after_the_caller_closed_dirfd)
{
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("d/f", "old", 3);
	int dirfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(dirfd);
	aw_file *f;
	ASSERT_OK(aw_file_begin_at(&f, dirfd, "f", NULL, NULL));
	ASSERT_OK(close(dirfd));
	/* The number may be reused by the caller's next open. */
	int other = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_OK(other);
	ASSERT_OK(aw_file_write(f, "new", 3, NULL));
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	ASSERT_FILE("d/f", "new", 3);
	ASSERT_ERRNO(access("f", F_OK), ENOENT);
	ASSERT_NO_TEMPS("d");
	ASSERT_NO_TEMPS(".");
	close(other);
}
