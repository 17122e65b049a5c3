/* SPDX-License-Identifier: MIT */
/*
 * test_lock.c - the directory lock (src/lock.c): a lock only writers of
 * the directory can hold (S5: a reader's flock on the directory blocked
 * every writer forever), a killed holder's lock cleared by the next
 * writer, a lock file of another user waited for, and waits that a caught
 * signal interrupts with EINTR at AW_STEP_LOCK, having changed nothing.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOCK_NAME ".awtmp-lock"

/* The uids of two users who are neither root nor each other. */
#define NOBODY 65534
#define OTHER 65533

static void become(uid_t uid)
{
	if (setresgid(uid, uid, uid) < 0 || setgroups(0, NULL) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		th_fail(__FILE__, __LINE__, "becoming uid %u: %s", (unsigned)uid,
		        strerror(errno));
}

static void need_root(void)
{
	if (geteuid() != 0)
		th_skip("needs root (to run a process as another user)");
}

/* A helper process, stopped by closing *stop (or by the test's end: it
 * exits when the pipe's write end is gone, so none outlives the test). */
struct helper {
	pid_t pid;
	int stop;
};

static void helper_wait_for_stop(int fd)
{
	char c;
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

enum hold_kind { HOLD_DIR_FLOCK, HOLD_LOCK };

/* Starts a process (as uid, unless it is 0) that holds what kind says in
 * dir: the directory's own flock (what `flock -x DIR` does), or the
 * directory lock, through an AW_LOCK writer of dir/f.  Returns once it
 * holds it. */
static struct helper hold(enum hold_kind kind, const char *dir, uid_t uid)
{
	int ready[2], stop[2];
	ASSERT_OK(pipe(ready));
	ASSERT_OK(pipe(stop));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		close(ready[0]);
		close(stop[1]);
		if (uid)
			become(uid);
		aw_file *f = NULL;
		if (kind == HOLD_DIR_FLOCK) {
			int fd = open(dir, O_RDONLY | O_DIRECTORY);
			if (fd < 0 || flock(fd, LOCK_EX) < 0)
				_exit(1);
		} else {
			char path[4096];
			snprintf(path, sizeof path, "%s/f", dir);
			aw_options o = { .flags = AW_LOCK };
			if (aw_file_begin(&f, path, &o, NULL) < 0)
				_exit(1);
		}
		(void)!write(ready[1], "x", 1);
		helper_wait_for_stop(stop[0]);
		aw_file_discard(f);
		_exit(0);
	}
	close(ready[1]);
	close(stop[0]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return (struct helper){ pid, stop[1] };
}

/* Ends the helper; returns its wait status. */
static int release(struct helper *h)
{
	int status;
	close(h->stop);
	ASSERT_EQ(waitpid(h->pid, &status, 0), h->pid);
	return status;
}

static void kill_helper(struct helper *h)
{
	int status;
	ASSERT_OK(kill(h->pid, SIGKILL));
	ASSERT_EQ(waitpid(h->pid, &status, 0), h->pid);
	close(h->stop);
}

/* Runs fn in a child (as uid, unless 0), killed if it takes more than
 * secs: a call that blocks shows as a failure, not a hung test.  Asserts
 * that fn returned normally. */
static void bounded(void (*fn)(void), uid_t uid, unsigned secs)
{
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		if (uid)
			become(uid);
		fn();
		_exit(0);
	}
	int status;
	for (unsigned ms = 0;; ms += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		ASSERT_OK(r);
		if (r == pid)
			break;
		if (ms >= secs * th_timeout_scale() * 1000) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			th_fail(__FILE__, __LINE__, "blocked for %u s (killed)",
			        secs * th_timeout_scale());
		}
		usleep(10000);
	}
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void make_tree(const char *dir, const char *contents)
{
	ASSERT_OK(mkdir(dir, 0755));
	char path[256];
	snprintf(path, sizeof path, "%s/a", dir);
	th_write_file(path, contents, strlen(contents));
}

/* Every operation that takes the directory lock, in the directory "d":
 * each must complete. */
static void every_locking_operation(void)
{
	aw_error e;
	aw_options lock = { .flags = AW_LOCK };
	ASSERT_AW_OK(aw_file_replace("d/f", "new", 3, &lock, &e));
	ASSERT_FILE("d/f", "new", 3);
	aw_file *f;
	ASSERT_OK(aw_file_begin(&f, "d/g", &lock, &e));
	ASSERT_OK(aw_file_write(f, "g", 1, &e));
	ASSERT_AW_OK(aw_file_commit(f, &e));
	ASSERT_AW_OK(aw_link_set("f", "d/l", &e));
	aw_publish_options keep = { .keep = 1 };
	ASSERT_AW_OK(aw_link_publish_tree("d/site", "v1", &keep, &e));
	ASSERT_AW_OK(aw_link_publish_tree("d/site", "v2", &keep, &e));
	ASSERT_FILE("d/site/a", "2", 1);
	ASSERT_AW_OK(aw_link_rollback("d/site", &e));
	ASSERT_FILE("d/site/a", "1", 1);
	/* The sweep gets the lock too: nothing is left unswept. */
	unsigned status = 99;
	ASSERT_OK(aw_dir_sweep("d", 0, NULL, NULL, &status, &e));
	ASSERT_EQ(status, 0);
	ASSERT_TRUE(!exists("d/" LOCK_NAME));
}

static void prepare_d(mode_t mode)
{
	ASSERT_OK(mkdir("d", 0755));
	ASSERT_OK(chmod("d", mode));
	th_write_file("d/f", "old", 3);
	make_tree("v1", "1");
	make_tree("v2", "2");
}

TEST(lock_not_blocked_by_a_flock_on_the_directory)
{
	/* flock -x d, by another process of the same user: the old lock. */
	prepare_d(0755);
	struct helper h = hold(HOLD_DIR_FLOCK, "d", 0);
	bounded(every_locking_operation, 0, 10);
	ASSERT_EQ(release(&h), 0);
}

TEST(lock_not_blocked_by_a_reader_who_may_not_write_the_directory)
{
	need_root();
	/* A user who may read d but not write it: flock -x d as nobody. */
	prepare_d(0755);
	ASSERT_OK(chmod(".", 0755));
	struct helper h = hold(HOLD_DIR_FLOCK, "d", NOBODY);
	bounded(every_locking_operation, 0, 10);
	ASSERT_EQ(release(&h), 0);
}

static void nobody_cannot_take_or_fake_the_lock(void)
{
	/* Cannot open the holder's 0600 lock file to flock it... */
	ASSERT_ERRNO(open("d/" LOCK_NAME, O_RDONLY), EACCES);
	/* ...nor create one, nor take the lock any other way. */
	ASSERT_ERRNO(open("d/" LOCK_NAME "2", O_RDWR | O_CREAT | O_EXCL, 0600), EACCES);
	aw_options lock = { .flags = AW_LOCK };
	aw_error e;
	ASSERT_EQ(aw_file_replace("d/f", "x", 1, &lock, &e), AW_FAILED);
	ASSERT_TRUE(e.step == AW_STEP_LOCK || e.step == AW_STEP_CREATE_TEMP);
}

TEST(lock_file_is_private_and_only_writers_can_create_it)
{
	prepare_d(0755);
	struct helper h = hold(HOLD_LOCK, "d", 0);
	struct stat st;
	ASSERT_OK(lstat("d/" LOCK_NAME, &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_EQ(st.st_size, 0);
	ASSERT_EQ(st.st_uid, geteuid());
	/* Held: its flock cannot be taken. */
	int fd = open("d/" LOCK_NAME, O_RDONLY);
	ASSERT_OK(fd);
	ASSERT_ERRNO(flock(fd, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	close(fd);
	if (geteuid() == 0) {
		ASSERT_OK(chmod(".", 0755));
		bounded(nobody_cannot_take_or_fake_the_lock, NOBODY, 10);
	}
	ASSERT_EQ(release(&h), 0);
	/* Released: the name is gone. */
	ASSERT_TRUE(!exists("d/" LOCK_NAME));
}

/* The writer after a killed holder, of each kind, clears its lock file. */
TEST(lock_of_a_killed_holder_is_cleared_by_the_next_writer)
{
	prepare_d(0755);
	aw_options lock = { .flags = AW_LOCK };
	aw_error e;
	for (int round = 0; round < 4; round++) {
		struct helper h = hold(HOLD_LOCK, "d", 0);
		kill_helper(&h);
		ASSERT_TRUE(exists("d/" LOCK_NAME));
		/* Not a leftover of ours in the sweep's eyes while a writer
		 * could be alive: only its flock decides. */
		switch (round) {
		case 0:
			ASSERT_AW_OK(aw_file_replace("d/f", "after", 5, &lock, &e));
			ASSERT_FILE("d/f", "after", 5);
			break;
		case 1:
			ASSERT_AW_OK(aw_link_publish_tree("d/site", "v1", NULL, &e));
			break;
		case 2:
			ASSERT_AW_OK(aw_link_set("f", "d/l", &e));
			break;
		case 3: {
			/* The sweep removes it (and, without O_TMPFILE, the
			 * killed holders' named temporary files). */
			unsigned status = 99;
			ASSERT_TRUE(aw_dir_sweep("d", 0, NULL, NULL, &status, &e) >= 1);
			ASSERT_EQ(status, 0);
			break;
		}
		}
		ASSERT_TRUE(!exists("d/" LOCK_NAME));
	}
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* A SIGALRM handler without SA_RESTART and a timer that fires every
 * 100 ms, as the CLI arms them. */
static void arm_interrupts(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ASSERT_OK(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = { { 0, 100000 }, { 0, 100000 } };
	ASSERT_OK(setitimer(ITIMER_REAL, &it, NULL));
}

/* The entries of d, as one string, to show that nothing changed. */
static char *listing(const char *dir)
{
	static char buf[4096];
	buf[0] = '\0';
	DIR *d = opendir(dir);
	ASSERT_TRUE(d != NULL);
	struct dirent *de;
	char names[64][256];
	int n = 0;
	while ((de = readdir(d)) && n < 64)
		snprintf(names[n++], sizeof names[0], "%s", de->d_name);
	closedir(d);
	/* sorted, so that the order readdir chose does not matter */
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char t[256];
				memcpy(t, names[i], sizeof t);
				memcpy(names[i], names[j], sizeof t);
				memcpy(names[j], t, sizeof t);
			}
	size_t used = 0;
	for (int i = 0; i < n && used < sizeof buf; i++) {
		int w = snprintf(buf + used, sizeof buf - used, "%s ", names[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	return strdup(buf);
}

/* Each locking operation, against a live holder, with a timer
 * interrupting: fails with EINTR at AW_STEP_LOCK, having changed
 * nothing. */
static void interrupted_operations(void)
{
	char *before = listing("d");
	arm_interrupts();
	aw_error e;
	aw_options lock = { .flags = AW_LOCK };
	aw_file *f = NULL;
	memset(&e, 0, sizeof e);
	ASSERT_ERRNO(aw_file_begin(&f, "d/f", &lock, &e), EINTR);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EINTR);
	ASSERT_TRUE(f == NULL);
	memset(&e, 0, sizeof e);
	ASSERT_EQ(aw_link_publish_tree("d/site", "v2", NULL, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EINTR);
	memset(&e, 0, sizeof e);
	ASSERT_EQ(aw_link_rollback("d/site", &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EINTR);
	memset(&e, 0, sizeof e);
	ASSERT_EQ(aw_link_set("f", "d/l", &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EINTR);
	ASSERT_TRUE(alarms >= 4);
	/* stop the timer before looking (nothing left to interrupt) */
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	ASSERT_OK(setitimer(ITIMER_REAL, &off, NULL));
	char *after = listing("d");
	ASSERT_STREQ(after, before);
	ASSERT_FILE("d/f", "old", 3);
	free(after);
	free(before);
}

TEST(lock_wait_is_interrupted_by_a_signal_and_changes_nothing)
{
	prepare_d(0755);
	aw_publish_options keep = { .keep = 1 };
	ASSERT_AW_OK(aw_link_publish_tree("d/site", "v1", &keep, NULL));
	ASSERT_AW_OK(aw_link_publish_tree("d/site", "v2", &keep, NULL));
	struct helper h = hold(HOLD_LOCK, "d", 0);
	bounded(interrupted_operations, 0, 10);
	ASSERT_EQ(release(&h), 0);
	/* Called again once the holder is gone: done. */
	aw_options lock = { .flags = AW_LOCK };
	ASSERT_AW_OK(aw_file_replace("d/f", "new", 3, &lock, NULL));
	ASSERT_TRUE(!exists("d/" LOCK_NAME));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* As another user than the holder (who may write d, but not open the
 * holder's 0600 lock file): waits until the lock file goes, then writes. */
static void other_user_waits_then_writes(void)
{
	aw_options lock = { .flags = AW_LOCK };
	aw_error e;
	double t0 = now();
	ASSERT_AW_OK(aw_file_replace("d/f", "other", 5, &lock, &e));
	/* The holder lets go after 0.5 s. */
	ASSERT_TRUE(now() - t0 > 0.4);
	ASSERT_FILE("d/f", "other", 5);
}

static void other_user_is_interrupted(void)
{
	arm_interrupts();
	aw_options lock = { .flags = AW_LOCK };
	aw_error e;
	ASSERT_EQ(aw_file_replace("d/f", "x", 1, &lock, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EINTR);
}

TEST(lock_file_of_another_user_is_waited_for_until_it_goes)
{
	need_root();
	ASSERT_OK(chmod(".", 0755));
	prepare_d(0777);
	ASSERT_OK(chmod("d/f", 0666));
	struct helper h = hold(HOLD_LOCK, "d", NOBODY);
	struct stat st;
	ASSERT_OK(lstat("d/" LOCK_NAME, &st));
	ASSERT_EQ(st.st_uid, NOBODY);
	/* A wait that cannot judge the holder (polling) is interruptible
	 * too. */
	bounded(other_user_is_interrupted, OTHER, 10);
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		close(h.stop);   /* the holder's stop is the parent's to give */
		bounded(other_user_waits_then_writes, OTHER, 10);
		_exit(0);
	}
	usleep(500000);
	ASSERT_EQ(release(&h), 0);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_TRUE(!exists("d/" LOCK_NAME));

	/* A killed holder's file that the other user cannot judge is
	 * cleared by root (a writer who can open it). */
	h = hold(HOLD_LOCK, "d", NOBODY);
	kill_helper(&h);
	ASSERT_TRUE(exists("d/" LOCK_NAME));
	aw_options lock = { .flags = AW_LOCK };
	ASSERT_AW_OK(aw_file_replace("d/f", "root", 4, &lock, NULL));
	ASSERT_TRUE(!exists("d/" LOCK_NAME));
}

TEST(lock_name_holding_a_users_data_is_never_removed)
{
	ASSERT_OK(mkdir("d", 0755));
	th_write_file("d/f", "old", 3);
	th_write_file("d/" LOCK_NAME, "mine", 4);
	aw_options lock = { .flags = AW_LOCK };
	aw_error e;
	ASSERT_EQ(aw_file_replace("d/f", "new", 3, &lock, &e), AW_FAILED);
	ASSERT_EQ(e.step, AW_STEP_LOCK);
	ASSERT_EQ(e.err, EEXIST);
	ASSERT_FILE("d/" LOCK_NAME, "mine", 4);
	ASSERT_FILE("d/f", "old", 3);
	/* The sweep leaves it too, and says why it could not lock. */
	memset(&e, 0, sizeof e);
	ASSERT_ERRNO(aw_dir_sweep("d", 0, NULL, NULL, NULL, &e), EEXIST);
	ASSERT_STREQ(e.path, LOCK_NAME);
	ASSERT_FILE("d/" LOCK_NAME, "mine", 4);
	/* An empty regular file there is a stale lock file (a power cut
	 * can leave one) and goes. */
	th_write_file("d/" LOCK_NAME, "", 0);
	ASSERT_AW_OK(aw_file_replace("d/f", "new", 3, &lock, &e));
	ASSERT_TRUE(!exists("d/" LOCK_NAME));
}

static void sweep_sees_the_lock_held(void)
{
	unsigned status = 0;
	ASSERT_EQ(aw_dir_sweep("d", 0, NULL, NULL, &status, NULL), 0);
	ASSERT_EQ(status, AW_SWEEP_LOCK_HELD);
}

TEST(sweep_says_when_a_held_lock_made_it_skip_publish_leftovers)
{
	prepare_d(0755);
	ASSERT_AW_OK(aw_link_publish_tree("d/site", "v1", NULL, NULL));
	struct helper h = hold(HOLD_LOCK, "d", 0);
	bounded(sweep_sees_the_lock_held, 0, 10);
	/* The live holder's lock file stays. */
	ASSERT_TRUE(exists("d/" LOCK_NAME));
	ASSERT_EQ(release(&h), 0);
	unsigned status = 99;
	ASSERT_EQ(aw_dir_sweep("d", 0, NULL, NULL, &status, NULL), 0);
	ASSERT_EQ(status, 0);
	/* A directory with nothing a publisher leaves is swept without the
	 * lock: nothing is written there. */
	ASSERT_OK(mkdir("plain", 0755));
	th_write_file("plain/x", "x", 1);
	struct stat before, after;
	ASSERT_OK(stat("plain", &before));
	usleep(20000);
	status = 99;
	ASSERT_EQ(aw_dir_sweep("plain", 0, NULL, NULL, &status, NULL), 0);
	ASSERT_EQ(status, 0);
	ASSERT_OK(stat("plain", &after));
	ASSERT_TRUE(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	            before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
}

/* Threads of one process take turns too (the lock is per open file, not
 * per process). */
struct racer {
	int failures;
};

#include <pthread.h>

static void *increment(void *p)
{
	struct racer *r = p;
	for (int i = 0; i < 100; i++) {
		aw_options o = { .durability = AW_DURABILITY_NONE, .flags = AW_LOCK };
		aw_file *f;
		if (aw_file_begin(&f, "counter", &o, NULL) < 0) {
			r->failures++;
			continue;
		}
		char out[32];
		int n = snprintf(out, sizeof out, "%ld", th_read_number("counter") + 1);
		if (aw_file_write(f, out, (size_t)n, NULL) < 0 || aw_file_commit(f, NULL) != AW_OK)
			r->failures++;
	}
	return NULL;
}

TEST(lock_serialises_threads_of_one_process)
{
	enum { THREADS = 4 };
	pthread_t t[THREADS];
	struct racer r[THREADS];
	for (int i = 0; i < THREADS; i++) {
		r[i].failures = 0;
		ASSERT_EQ(pthread_create(&t[i], NULL, increment, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		ASSERT_EQ(pthread_join(t[i], NULL), 0);
		ASSERT_EQ(r[i].failures, 0);
	}
	size_t len;
	char *got = th_read_file("counter", &len);
	ASSERT_EQ(atol(got), THREADS * 100);
	free(got);
	ASSERT_TRUE(!exists(LOCK_NAME));
}
