/* SPDX-License-Identifier: MIT */
/*
 * test_sweep_proof.c - a sweep removes only what it can prove a writer of
 * ours created (the temporary's name spells its own inode), never a look-
 * alike: an editor's swap file beside a scratch copy (D3), a file renamed
 * over a scratch copy, planted names; --dry-run removes nothing; a
 * backup's temporary link survives a concurrent sweep (D12); a failed
 * commit keeps the old backup (D11); batches refuse what they cannot
 * honour (D14) and keep their closed temporaries alive against sweeps.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "internal.h"
#include "sys.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

TEST(temp_name_spells_its_own_inode)
{
	static const unsigned flags[] = { 0, AW_NO_TMPFILE };
	for (size_t i = 0; i < 2; i++) {
		aw_options o = { .flags = flags[i] };
		aw_file *f;
		ASSERT_OK(aw_file_begin(&f, "target", &o, NULL));
		const char *name = aw_file_temp_name(f, NULL);
		ASSERT_TRUE(name != NULL);
		struct stat st;
		ASSERT_OK(lstat(name, &st));
		char want[64];
		snprintf(want, sizeof want, ".awtmp-%016llx-", (unsigned long long)st.st_ino);
		ASSERT_EQ(strncmp(name, want, strlen(want)), 0);
		ASSERT_EQ(strlen(name), strlen(want) + 8 + 1 + strlen("target"));
		ASSERT_STREQ(name + strlen(want) + 9, "target");
		ASSERT_EQ(name[strlen(want) + 8], '-');
		aw_file_discard(f);
	}
	ASSERT_NO_TEMPS(".");
}

/* D3: vim's swap file of an edit's scratch copy, and a file an editor
 * renamed over the scratch, are not ours: a sweep leaves them. */
TEST(sweep_leaves_an_editors_swap_file_and_a_file_renamed_over_the_scratch)
{
	th_write_file("sshd_config", "old", 3);
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "sshd_config", NULL, NULL));
	const char *scratch = aw_file_temp_name(f, NULL);
	ASSERT_TRUE(scratch != NULL);
	char swp[NAME_MAX + 8];
	snprintf(swp, sizeof swp, "%s.swp", scratch);
	th_write_file(swp, "vim swap", 8);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 0);
	ASSERT_FILE(swp, "vim swap", 8);

	/* An editor that saves by rename: a new, unlocked inode at the
	 * scratch's name. */
	th_write_file("saved", "edited", 6);
	ASSERT_OK(rename("saved", scratch));
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 0);
	ASSERT_FILE(scratch, "edited", 6);
	ASSERT_FILE(swp, "vim swap", 8);
	aw_file_discard(f);
	ASSERT_OK(unlink(swp));
}

static void collect(const char *name, void *ctx)
{
	(void)name;
	(*(int *)ctx)++;
}

TEST(sweep_removes_provable_leftovers_and_dry_run_only_lists_them)
{
	th_write_file("f", "old", 3);
	th_kill_writer("f", AW_NO_TMPFILE, false);
#ifndef AW_FORCE_POSIX
	th_kill_writer("f", 0, true);       /* an O_TMPFILE given its name */
#else
	th_kill_writer("f", AW_NO_TMPFILE, true);
#endif
	ASSERT_EQ(th_count_temps("."), 2);
	int listed = 0;
	aw_error e;
	ASSERT_EQ(aw_dir_sweep(".", AW_SWEEP_DRY_RUN, collect, &listed, NULL, &e), 2);
	ASSERT_EQ(listed, 2);
	ASSERT_EQ(th_count_temps("."), 2);
	ASSERT_ERRNO(aw_dir_sweep(".", 1u << 7, NULL, NULL, NULL, &e), EINVAL);
	ASSERT_EQ(e.step, AW_STEP_ARGS);
	ASSERT_EQ(th_count_temps("."), 2);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 2);
	ASSERT_EQ(th_count_temps("."), 0);
	ASSERT_FILE("f", "old", 3);
}

TEST(sweep_leaves_planted_names_of_either_form)
{
	/* The right form, the wrong inode. */
	th_write_file(".awtmp-00000000000000ab-abcdefgh-f", "x", 1);
	/* A marked name for a hard link of a non-regular file, a directory,
	 * a FIFO: never opened, never removed. */
	ASSERT_OK(mkfifo("fifo", 0600));
	struct stat st;
	ASSERT_OK(lstat("fifo", &st));
	char name[128];
	snprintf(name, sizeof name, ".awtmp-%016llx-abcdefgh-fifo", (unsigned long long)st.st_ino);
	ASSERT_OK(rename("fifo", name));
	ASSERT_OK(mkdir("d", 0755));
	ASSERT_OK(lstat("d", &st));
	char dname[128];
	snprintf(dname, sizeof dname, ".awtmp-%016llx-abcdefgh-d", (unsigned long long)st.st_ino);
	ASSERT_OK(rename("d", dname));
	/* The unmarked form with contents: not what a killed writer leaves. */
	th_write_file(".awtmp-abcdefghijkl-g", "data", 4);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 0);
	ASSERT_TRUE(exists(".awtmp-00000000000000ab-abcdefgh-f"));
	ASSERT_TRUE(exists(name));
	ASSERT_TRUE(exists(dname));
	ASSERT_FILE(".awtmp-abcdefghijkl-g", "data", 4);

	/* What a writer killed between creating and naming its file leaves:
	 * empty, the sweeper's own.  That goes. */
	th_write_file(".awtmp-abcdefghijkl-h", "", 0);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	ASSERT_TRUE(!exists(".awtmp-abcdefghijkl-h"));
}

/* D12: a --backup writer against a concurrent sweep loop.  Without the
 * backup holder's LOCK_SH the sweep takes the backup's temporary link for
 * a leftover and the write fails (about 5 in 1500 on main). */
TEST(backup_link_survives_a_concurrent_sweep)
{
	th_write_file("f", "0", 1);
	pid_t sweeper = fork();
	ASSERT_OK(sweeper);
	if (sweeper == 0) {
		for (;;)
			aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL);
	}
	aw_options o = { .durability = AW_DURABILITY_NONE };
	int failures = 0;
	aw_error e;
	char msg[512] = "";
	for (int i = 1; i <= 1500; i++) {
		char data[16];
		int n = snprintf(data, sizeof data, "%d", i);
		aw_file *f = NULL;
		if (aw_file_begin(&f, "f", &o, &e) < 0 || aw_file_write(f, data, (size_t)n, &e) < 0 ||
		    aw_file_keep_backup(f, "~", &e) < 0) {
			if (f)
				aw_file_discard(f);
			failures++;
			aw_error_format(&e, msg, sizeof msg);
			continue;
		}
		if (aw_file_commit(f, &e) != AW_OK) {
			failures++;
			aw_error_format(&e, msg, sizeof msg);
		}
	}
	kill(sweeper, SIGKILL);
	waitpid(sweeper, NULL, 0);
	if (failures)
		th_fail(__FILE__, __LINE__, "%d of 1500 --backup writes failed: %s", failures, msg);
	ASSERT_FILE("f", "1500", 4);
	ASSERT_FILE("f~", "1499", 4);
	aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL);
	ASSERT_NO_TEMPS(".");
}

/* D11: a commit that fails leaves the old backup as it was. */
/* "f" being replaced with "new", keeping the old one as "f~". */
static aw_file *begin_new_with_backup(void)
{
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "f", NULL, NULL));
	ASSERT_OK(aw_file_write(f, "new", 3, NULL));
	ASSERT_OK(aw_file_keep_backup(f, "~", NULL));
	return f;
}

/* Asserts the state a failed commit leaves: "f" and "f~" as they were,
 * no temporary file. */
static void assert_racer_and_older(void)
{
	ASSERT_FILE("f", "racer", 5);
	ASSERT_FILE("f~", "older", 5);
	ASSERT_NO_TEMPS(".");
}

TEST(failed_commit_keeps_the_old_backup)
{
	/* -n --backup losing the race: the target appears after begin. */
	th_write_file("f~", "older", 5);
	aw_options nc = { .flags = AW_NO_CLOBBER };
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "f", &nc, NULL));
	ASSERT_OK(aw_file_write(f, "mine", 4, NULL));
	th_write_file("f", "racer", 5);
	ASSERT_OK(aw_file_keep_backup(f, "~", NULL));
	aw_error e;
	ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
	ASSERT_EQ(e.err, EEXIST);
	assert_racer_and_older();

	/* A failed rename of the new file: the backup is untouched. */
	f = begin_new_with_backup();
	struct aw_fault_plan plan = { AW_SYS_RENAMEAT, 1, EIO, 0 };
	aw__fault_set(&plan);
	ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
	aw__fault_reset();
	ASSERT_EQ(e.step, AW_STEP_RENAME);
	assert_racer_and_older();

	/* The new file renamed, then the backup's rename fails: the old file
	 * is put back, the commit fails, the old backup stays. */
	f = begin_new_with_backup();
	struct aw_fault_plan second = { AW_SYS_RENAMEAT, 2, EIO, 0 };
	aw__fault_set(&second);
	ASSERT_EQ(aw_file_commit(f, &e), AW_FAILED);
	aw__fault_reset();
	ASSERT_EQ(e.step, AW_STEP_BACKUP);
	ASSERT_EQ(e.err, EIO);
	assert_racer_and_older();

	/* And a commit that succeeds replaces it. */
	f = begin_new_with_backup();
	ASSERT_AW_OK(aw_file_commit(f, NULL));
	ASSERT_FILE("f", "new", 3);
	ASSERT_FILE("f~", "racer", 5);
	ASSERT_NO_TEMPS(".");
}

/* D14: AW_LOCK in a batch would make entries sharing a directory wait for
 * each other.  (AW_MODE is honoured since 1.0: aw_batch_options.mode, see
 * test_api.c.) */
TEST(batch_refuses_flags_it_cannot_honour)
{
	aw_batch *b = NULL;
	aw_error e;
	aw_batch_options mode = { .mode = 0644 };
	ASSERT_ERRNO(aw_batch_new(&b, &mode, &e), EINVAL);
	ASSERT_EQ(e.step, AW_STEP_ARGS);
	aw_batch_options lock = { .flags = AW_LOCK | AW_NO_TMPFILE };
	ASSERT_ERRNO(aw_batch_new(&b, &lock, &e), EINVAL);
	aw_batch_options unknown = { .flags = 1u << 20 };
	ASSERT_ERRNO(aw_batch_new(&b, &unknown, &e), EINVAL);
	aw_batch_options durability = { .durability = (aw_durability)7 };
	ASSERT_ERRNO(aw_batch_new(&b, &durability, &e), EINVAL);
	ASSERT_TRUE(b == NULL);
	/* What it can honour still works. */
	aw_batch_options ok = { .flags = AW_NO_TMPFILE | AW_NO_CLOBBER | AW_FOLLOW_SYMLINKS };
	ASSERT_OK(aw_batch_new(&b, &ok, NULL));
	ASSERT_OK(aw_batch_add_buffer(b, "x", "x", 1, NULL));
	ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
	struct stat st;
	ASSERT_OK(stat("x", &st));
	ASSERT_EQ(st.st_mode & 0777, 0644);
}

/* Stages n files d/fNNNNN (written through aw_file_write after staging the
 * next few, so that some are reopened) in a batch with at most `open`
 * temporaries open. */
static aw_batch *stage_many(int n, size_t open, unsigned flags, aw_batch_flush how)
{
	aw__batch_open_max = open;
	aw_batch *b;
	aw_batch_options o = { .durability = AW_DURABILITY_FULL, .flags = flags, .flush = how };
	ASSERT_OK(aw_batch_new(&b, &o, NULL));
	aw__batch_open_max = AW__BATCH_OPEN_MAX;
	aw_file **f = calloc((size_t)n, sizeof *f);
	ASSERT_TRUE(f != NULL);
	for (int i = 0; i < n; i++) {
		char p[64];
		snprintf(p, sizeof p, "%s/f%05d", i % 3 ? "d1" : "d2", i);
		aw_error e;
		if (aw_batch_add(b, &f[i], p, &e) < 0)
			th_fail(__FILE__, __LINE__, "add %s: %s", p, strerror(e.err));
		/* Write to one staged earlier: closed by now, reopened. */
		if (i >= 7) {
			char data[32];
			int len = snprintf(data, sizeof data, "new %d", i - 7);
			ASSERT_OK(aw_file_write(f[i - 7], data, (size_t)len, NULL));
		}
	}
	for (int i = n - 7 < 0 ? 0 : n - 7; i < n; i++) {
		char data[32];
		int len = snprintf(data, sizeof data, "new %d", i);
		ASSERT_OK(aw_file_write(f[i], data, (size_t)len, NULL));
	}
	free(f);
	return b;
}

static void check_many(int n)
{
	for (int i = 0; i < n; i++) {
		char p[64], want[32];
		snprintf(p, sizeof p, "%s/f%05d", i % 3 ? "d1" : "d2", i);
		int len = snprintf(want, sizeof want, "new %d", i);
		ASSERT_FILE(p, want, (size_t)len);
	}
	ASSERT_NO_TEMPS("d1");
	ASSERT_NO_TEMPS("d2");
}

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 4096; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* R2: the batch keeps a bounded number of descriptors, and a concurrent
 * sweep leaves its closed temporaries (the batch's lock covers them). */
TEST(batch_closes_temporaries_beyond_its_budget_and_sweeps_leave_them)
{
	static const aw_batch_flush hows[] = { AW_BATCH_SYNCFS, AW_BATCH_PARALLEL,
	                                       AW_BATCH_SEQUENTIAL };
	static const unsigned flags[] = { 0, AW_NO_TMPFILE };
	for (size_t h = 0; h < 3; h++) {
		for (size_t k = 0; k < 2; k++) {
			ASSERT_OK(mkdir("d1", 0755));
			ASSERT_OK(mkdir("d2", 0755));
			int before = open_fds();
			aw_batch *b = stage_many(300, 8, flags[k], hows[h]);
			/* 8 temporaries, 2 directories, 2 lock links of one
			 * inode: far below one per file. */
			ASSERT_TRUE(open_fds() - before <= 8 + 2 + 1 + 1);
			ASSERT_TRUE(th_count_temps("d1") > 0);
			ASSERT_EQ(aw_dir_sweep("d1", 0, NULL, NULL, NULL, NULL), 0);
			ASSERT_EQ(aw_dir_sweep("d2", 0, NULL, NULL, NULL, NULL), 0);
			/* and from another process (flocks are per open file) */
			pid_t pid = fork();
			ASSERT_OK(pid);
			if (pid == 0)
				_exit(aw_dir_sweep("d1", 0, NULL, NULL, NULL, NULL) == 0 &&
				      aw_dir_sweep("d2", 0, NULL, NULL, NULL, NULL) == 0 ? 0 : 1);
			int status;
			ASSERT_EQ(waitpid(pid, &status, 0), pid);
			ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
			ASSERT_AW_OK(aw_batch_commit(b, NULL, NULL));
			ASSERT_EQ(open_fds(), before);
			check_many(300);
			ASSERT_EQ(system("rm -rf d1 d2"), 0);
		}
	}
}

/* The killed child's batch, never committed, kept where the process
 * still reaches it when it kills itself (valgrind checks for leaks at that
 * death): still reachable, not lost. */
static aw_batch *volatile killed_batch;

TEST(killed_batch_leftovers_and_lock_are_swept)
{
	ASSERT_OK(mkdir("d1", 0755));
	ASSERT_OK(mkdir("d2", 0755));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		killed_batch = stage_many(100, 4, AW_NO_TMPFILE, AW_BATCH_AUTO);
		raise(SIGKILL);
		_exit(1);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_TRUE(th_count_temps("d1") > 60);
	ASSERT_TRUE(aw_dir_sweep("d1", 0, NULL, NULL, NULL, NULL) > 60);
	ASSERT_TRUE(aw_dir_sweep("d2", 0, NULL, NULL, NULL, NULL) > 30);
	ASSERT_EQ(th_count_temps("d1"), 0);
	ASSERT_EQ(th_count_temps("d2"), 0);
}

/* In a child: stages n files as stage_many() names them, each holding
 * "new N", into b as buffers; exit status 4 (and the error on stderr)
 * on failure. */
static void stage_buffers(aw_batch *b, int n)
{
	for (int i = 0; i < n; i++) {
		char p[64], data[32];
		snprintf(p, sizeof p, "%s/f%05d", i % 3 ? "d1" : "d2", i);
		int len = snprintf(data, sizeof data, "new %d", i);
		aw_error e;
		if (aw_batch_add_buffer(b, p, data, (size_t)len, &e) < 0) {
			fprintf(stderr, "    %s: %s\n", p, strerror(e.err));
			_exit(4);
		}
	}
}

/* R2: 5000 files under a limit of 256 descriptors (the 100,000-file case
 * under 1024 is in tests/cli/test_sweep.sh's big sibling, make
 * check-batch-big, with the CLI in tests/cli/big_batch.sh). */
TEST(batch_of_5000_files_within_256_descriptors)
{
	ASSERT_OK(mkdir("d1", 0755));
	ASSERT_OK(mkdir("d2", 0755));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		/* The soft limit is the one enforced; the hard limit is
		 * left as it is (valgrind refuses to change it: EPERM). */
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		rl.rlim_cur = 256;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		/* No flushes: the descriptors are the point here (flushes of
		 * closed temporaries: batch_closes_temporaries_beyond_its_budget;
		 * a syncfs of a shared /tmp can take seconds). */
		{
			aw_batch *b;
			aw_batch_options o = { .durability = AW_DURABILITY_NONE };
			if (aw_batch_new(&b, &o, NULL) < 0)
				_exit(3);
			stage_buffers(b, 5000);
			if (aw_batch_commit(b, NULL, NULL) != AW_OK)
				_exit(5);
		}
		_exit(0);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	check_many(5000);
}

/* R2 at full size: 100,000 files under the default limit of 1024, timed.
 * Long: only with AW_BIG=1 (make check-batch-big, on tmpfs). */
TEST(batch_of_100000_files_within_1024_descriptors)
{
	if (!getenv("AW_BIG"))
		th_skip("AW_BIG not set (make check-batch-big)");
	ASSERT_OK(mkdir("d1", 0755));
	ASSERT_OK(mkdir("d2", 0755));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		struct rlimit rl = { 1024, 1024 };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		aw_batch *b;
		if (aw_batch_new(&b, NULL, NULL) < 0)
			_exit(3);
		stage_buffers(b, 100000);
		if (aw_batch_commit(b, NULL, NULL) != AW_OK)
			_exit(5);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("    100000 files in %.1f s (library, full durability, ulimit -n 1024)\n",
		       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		fflush(stdout);
		_exit(0);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	check_many(100000);
}

/* R2: a temporary the batch closed is reopened only if its name still
 * refers to the very inode it closed: a file swapped in at that name is
 * never written to, flushed or committed as ours. */
TEST(batch_refuses_a_file_swapped_in_for_a_closed_temporary)
{
	ASSERT_OK(mkdir("d1", 0755));
	ASSERT_OK(mkdir("d2", 0755));
	th_write_file("d1/victim", "old", 3);
	aw__batch_open_max = 2;
	aw_batch *b;
	ASSERT_OK(aw_batch_new(&b, NULL, NULL));
	aw__batch_open_max = AW__BATCH_OPEN_MAX;
	aw_file *f;
	ASSERT_OK(aw_batch_add(b, &f, "d1/victim", NULL));
	ASSERT_OK(aw_file_write(f, "mine", 4, NULL));
	for (int i = 0; i < 4; i++) {
		char p[32];
		snprintf(p, sizeof p, "d2/other%d", i);
		ASSERT_OK(aw_batch_add_buffer(b, p, "x", 1, NULL));
	}
	/* f is closed by now; its name is known. */
	const char *tmp = aw_file_temp_name(f, NULL);
	ASSERT_TRUE(tmp != NULL);
	char path[NAME_MAX + 8];
	snprintf(path, sizeof path, "d1/%s", tmp);
	th_write_file("d1/planted", "planted", 7);
	ASSERT_OK(rename("d1/planted", path));
	aw_error e;
	ASSERT_ERRNO(aw_file_write(f, "more", 4, &e), ESTALE);
	ASSERT_EQ(aw_batch_commit(b, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, ESTALE);
	ASSERT_FILE("d1/victim", "old", 3);
	ASSERT_EQ(access("d2/other0", F_OK), -1);
}
