/* SPDX-License-Identifier: MIT */
/*
 * test_leftovers.c - what a dead writer leaves and how it is cleaned up:
 * nothing at all with O_TMPFILE, a named temporary file that aw_dir_sweep()
 * removes only once its writer is gone, and the opt-in cleanup that
 * removes named temporaries when a signal kills the process.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(killed_writer_with_o_tmpfile_leaves_nothing)
{
#ifdef AW_FORCE_POSIX
	th_skip("built without O_TMPFILE (AW_FORCE_POSIX)");
#endif
	th_write_file("f", "old", 3);
	th_kill_writer("f", 0, false);
	ASSERT_FILE("f", "old", 3);
	ASSERT_EQ(th_count_entries("."), 1);
}

static void count_removed(const char *name, void *ctx)
{
	ASSERT_EQ(strncmp(name, ".awtmp-", 7), 0);
	(*(int *)ctx)++;
}

TEST(sweep_removes_dead_writers_files_only)
{
	th_write_file("f", "old", 3);
	th_kill_writer("f", AW_NO_TMPFILE, false);
	th_kill_writer("f", AW_NO_TMPFILE, false);
	ASSERT_EQ(th_count_temps("."), 2);

	/* A live writer in this process: its file must survive the sweep. */
	aw_options named = { .flags = AW_NO_TMPFILE };
	aw_file *live;
	ASSERT_OK(aw_file_begin(&live, "g", &named, NULL));
	ASSERT_EQ(th_count_temps("."), 3);

	/* Look-alikes that are not ours to remove. */
	ASSERT_OK(mkdir(".awtmp-abcdefghijkl-dir", 0755));
	ASSERT_OK(symlink("f", ".awtmp-abcdefghijkl-link"));
	th_write_file(".awtmp-short", "x", 1);
	th_write_file("awtmp-abcdefghijkl-f", "x", 1);

	/* The symbolic link has the form of a dead publisher's temporary
	 * link: removed, without following it to f. */
	int removed = 0;
	aw_error e;
	ASSERT_EQ(aw_dir_sweep(".", 0, count_removed, &removed, NULL, &e), 3);
	ASSERT_EQ(removed, 3);
	ASSERT_FILE("f", "old", 3);
	ASSERT_EQ(access(".awtmp-abcdefghijkl-dir", F_OK), 0);
	ASSERT_EQ(access(".awtmp-short", F_OK), 0);
	ASSERT_EQ(access("awtmp-abcdefghijkl-f", F_OK), 0);
	ASSERT_EQ(access(".awtmp-abcdefghijkl-link", F_OK), -1);
	ASSERT_FILE("f", "old", 3);

	/* The live writer still commits. */
	ASSERT_OK(aw_file_write(live, "live", 4, NULL));
	ASSERT_AW_OK(aw_file_commit(live, NULL));
	ASSERT_FILE("g", "live", 4);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 0);
}

TEST(sweep_of_missing_directory_fails_with_step)
{
	aw_error e;
	ASSERT_EQ(aw_dir_sweep("nope", 0, NULL, NULL, NULL, &e), -1);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(e.step, AW_STEP_SWEEP);
}

/* A child that installs the cleanup, starts a named replacement and is
 * then killed by sig: returns how it ended. */
static int killed_by(int sig, bool install, bool ignore)
{
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		/* Whatever we inherited: a shell's background job starts
		 * with SIGINT and SIGQUIT ignored. */
		signal(sig, ignore ? SIG_IGN : SIG_DFL);
		if (install && aw_cleanup_install() < 0)
			_exit(1);
		aw_options o = { .flags = AW_NO_TMPFILE };
		aw_file *f;
		if (aw_file_begin(&f, "f", &o, NULL) < 0)
			_exit(1);
		raise(sig);
		exit(3);  /* only when ignored; exit() runs the atexit cleanup */
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	return status;
}

TEST(cleanup_install_removes_named_temp_on_fatal_signal)
{
	int status = killed_by(SIGTERM, true, false);
	/* The signal still ends the process, as it did before. */
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	ASSERT_EQ(th_count_temps("."), 0);

	status = killed_by(SIGINT, true, false);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
	ASSERT_EQ(th_count_temps("."), 0);

	/* Without the opt-in, the library touches no signal: the file stays
	 * for a sweep. */
	status = killed_by(SIGTERM, false, false);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	ASSERT_EQ(th_count_temps("."), 1);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);

	/* An ignored signal stays ignored. */
	status = killed_by(SIGTERM, true, true);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	ASSERT_EQ(th_count_temps("."), 0);  /* removed at exit() by atexit */
}
