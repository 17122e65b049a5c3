/* SPDX-License-Identifier: MIT */
/*
 * test_concurrency.c - many processes at once: writers racing on one file
 * while readers check every read, no-clobber races with exactly one
 * winner, and read-modify-write under AW_LOCK losing no update.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A self-describing version: "writer version length" header, then a body
 * that is a function of the header, so a reader can tell a complete
 * version from anything torn. */
static size_t make_version(unsigned char *buf, unsigned writer, unsigned version)
{
	size_t body = 100 + (size_t)((writer * 7919u + version * 104729u) % 200000u);
	int h = snprintf((char *)buf, 64, "%u %u %zu\n", writer, version, body);
	for (size_t i = 0; i < body; i++)
		buf[h + i] = (unsigned char)(writer * 31u + version * 17u + i * 13u);
	return (size_t)h + body;
}

static bool version_ok(const unsigned char *buf, size_t len)
{
	unsigned writer, version;
	size_t body;
	char head[64];
	size_t hl = len < 63 ? len : 63;
	memcpy(head, buf, hl);
	head[hl] = '\0';
	if (sscanf(head, "%u %u %zu\n", &writer, &version, &body) != 3)
		return false;
	const char *nl = memchr(head, '\n', hl);
	if (!nl)
		return false;
	size_t h = (size_t)(nl - head) + 1;
	if (len != h + body)
		return false;
	for (size_t i = 0; i < body; i++)
		if (buf[h + i] != (unsigned char)(writer * 31u + version * 17u + i * 13u))
			return false;
	return true;
}

static int wait_all(int n)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		int status;
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
	}
	return bad;
}

TEST(writers_and_readers_never_see_a_torn_file)
{
	enum { WRITERS = 8, READERS = 4, REPLACES = 200 };
	unsigned char *buf = malloc(300000);
	ASSERT_TRUE(buf != NULL);
	size_t n = make_version(buf, 99, 0);
	th_write_file("f", buf, n);
	int stop[2];
	ASSERT_OK(pipe(stop));

	for (int r = 0; r < READERS; r++) {
		if (fork() == 0) {
			close(stop[1]);
			fcntl(stop[0], F_SETFL, O_NONBLOCK);
			unsigned char *rb = malloc(300000);
			unsigned long reads = 0, torn = 0;
			char c;
			while (read(stop[0], &c, 1) < 0) {
				int fd = open("f", O_RDONLY);
				if (fd < 0) {
					torn++;  /* the name must always exist */
					continue;
				}
				ssize_t got = 0, k;
				while ((k = read(fd, rb + got, 300000 - (size_t)got)) > 0)
					got += k;
				close(fd);
				reads++;
				if (!version_ok(rb, (size_t)got))
					torn++;
			}
			printf("    reader %d: %lu reads, %lu torn\n", r, reads, torn);
			fflush(stdout);
			free(rb);
			free(buf);
			_exit(torn == 0 && reads > 0 ? 0 : 1);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		if (fork() == 0) {
			aw_options o = { .durability = AW_DURABILITY_NONE,
			                 .flags = w % 2 ? AW_NO_TMPFILE : 0 };
			unsigned v;
			for (v = 1; v <= REPLACES; v++) {
				size_t len = make_version(buf, (unsigned)w, v);
				if (aw_file_replace("f", buf, len, &o, NULL) != AW_OK)
					break;
			}
			bool done = v > REPLACES;
			free(buf);
			_exit(done ? 0 : 1);
		}
	}
	/* Writers first, then tell the readers to stop. */
	int bad = 0;
	for (int i = 0; i < WRITERS + READERS; i++) {
		int status;
		pid_t p = wait(&status);
		ASSERT_TRUE(p > 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad++;
		if (i == WRITERS - 1)
			close(stop[1]);
	}
	close(stop[0]);
	ASSERT_EQ(bad, 0);
	size_t len;
	unsigned char *last = (unsigned char *)th_read_file("f", &len);
	ASSERT_TRUE(version_ok(last, len));
	free(last);
	free(buf);
	ASSERT_NO_TEMPS(".");
	ASSERT_EQ(th_count_entries("."), 1);
}

TEST(no_clobber_race_has_exactly_one_winner)
{
	enum { RACERS = 8, ROUNDS = 20 };
	for (int round = 0; round < ROUNDS; round++) {
		unlink("f");
		int go[2];
		ASSERT_OK(pipe(go));
		for (int i = 0; i < RACERS; i++) {
			if (fork() == 0) {
				close(go[1]);
				char c;
				(void)!read(go[0], &c, 1);   /* all start together */
				char me[16];
				int n = snprintf(me, sizeof me, "racer %d", i);
				aw_options o = { .durability = AW_DURABILITY_NONE,
				                 .flags = AW_NO_CLOBBER |
				                          (i % 2 ? AW_NO_TMPFILE : 0) };
				aw_error e;
				int r = aw_file_replace("f", me, (size_t)n, &o, &e);
				if (r == AW_OK)
					_exit(10 + i);
				_exit(e.err == EEXIST ? 0 : 1);
			}
		}
		close(go[0]);
		close(go[1]);
		int winners = 0, winner = -1, bad = 0;
		for (int i = 0; i < RACERS; i++) {
			int status;
			ASSERT_TRUE(wait(&status) > 0);
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			if (code >= 10) {
				winners++;
				winner = code - 10;
			} else if (code != 0) {
				bad++;
			}
		}
		ASSERT_EQ(bad, 0);
		ASSERT_EQ(winners, 1);
		char expect[16];
		int n = snprintf(expect, sizeof expect, "racer %d", winner);
		ASSERT_FILE("f", expect, (size_t)n);
		ASSERT_NO_TEMPS(".");
	}
}

/* Increments the number in "counter" under AW_LOCK: the lock is taken in
 * aw_file_begin(), before the read, and held until the commit. */
static int locked_increment(void)
{
	aw_options o = { .durability = AW_DURABILITY_NONE, .flags = AW_LOCK };
	aw_file *f;
	if (aw_file_begin(&f, "counter", &o, NULL) < 0)
		return -1;
	char out[32];
	int n = snprintf(out, sizeof out, "%ld", th_read_number("counter") + 1);
	if (aw_file_write(f, out, (size_t)n, NULL) < 0) {
		aw_file_discard(f);
		return -1;
	}
	return aw_file_commit(f, NULL);
}

TEST(locked_read_modify_write_loses_no_update)
{
	enum { PROCS = 4, EACH = 150 };
	for (int p = 0; p < PROCS; p++) {
		if (fork() == 0) {
			for (int i = 0; i < EACH; i++)
				if (locked_increment() != AW_OK)
					_exit(1);
			_exit(0);
		}
	}
	ASSERT_EQ(wait_all(PROCS), 0);
	size_t len;
	char *got = th_read_file("counter", &len);
	ASSERT_EQ(atol(got), PROCS * EACH);
	free(got);
	ASSERT_NO_TEMPS(".");
}

struct thread_arg {
	int id;
	unsigned flags;
	int failures;
};

static void *thread_writer(void *p)
{
	struct thread_arg *a = p;
	unsigned char *buf = malloc(300000);
	if (!buf) {
		a->failures++;
		return NULL;
	}
	aw_options o = { .durability = AW_DURABILITY_NONE, .flags = a->flags };
	for (unsigned v = 1; v <= 100; v++) {
		size_t len = make_version(buf, (unsigned)a->id, v);
		if (aw_file_replace("f", buf, len, &o, NULL) != AW_OK)
			a->failures++;
	}
	free(buf);
	return NULL;
}

TEST(threads_replacing_one_file_leave_one_complete_version)
{
	enum { THREADS = 8 };
	static const unsigned flag_sets[] = { 0, AW_NO_TMPFILE, AW_LOCK };
	for (size_t s = 0; s < sizeof flag_sets / sizeof flag_sets[0]; s++) {
		pthread_t t[THREADS];
		struct thread_arg args[THREADS];
		for (int i = 0; i < THREADS; i++) {
			args[i] = (struct thread_arg){ i, flag_sets[s], 0 };
			ASSERT_EQ(pthread_create(&t[i], NULL, thread_writer, &args[i]), 0);
		}
		for (int i = 0; i < THREADS; i++) {
			ASSERT_EQ(pthread_join(t[i], NULL), 0);
			ASSERT_EQ(args[i].failures, 0);
		}
		size_t len;
		unsigned char *got = (unsigned char *)th_read_file("f", &len);
		ASSERT_TRUE(version_ok(got, len));
		free(got);
		ASSERT_NO_TEMPS(".");
	}
}

TEST(lock_of_a_killed_writer_does_not_block_others)
{
	int ready[2];
	ASSERT_OK(pipe(ready));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		aw_options o = { .flags = AW_LOCK };
		aw_file *f;
		if (aw_file_begin(&f, "f", &o, NULL) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();   /* holds the lock until killed */
		_exit(2);
	}
	close(ready[1]);
	char c;
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);

	/* While the writer lives, its lock file's flock is held. */
	int lfd = open(".awtmp-lock", O_RDONLY);
	int lerr = errno;
	int locked = lfd >= 0 ? flock(lfd, LOCK_EX | LOCK_NB) : 0;
	lerr = lfd >= 0 ? errno : lerr;
	if (lfd >= 0)
		close(lfd);
	ASSERT_OK(kill(pid, SIGKILL));
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	errno = lerr;
	ASSERT_OK(lfd);
	ASSERT_TRUE(locked < 0 && lerr == EWOULDBLOCK);
	/* Its holder dead, the lock file stays until the next writer. */
	ASSERT_OK(access(".awtmp-lock", F_OK));

	/* The harness's timeout would catch a begin that blocks forever. */
	aw_options o = { .flags = AW_LOCK };
	ASSERT_AW_OK(aw_file_replace("f", "after", 5, &o, NULL));
	ASSERT_FILE("f", "after", 5);
	ASSERT_TRUE(access(".awtmp-lock", F_OK) < 0);
	/* A named temporary file of the killed writer (no O_TMPFILE) is
	 * the sweep's to remove. */
	ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
	ASSERT_EQ(th_count_entries("."), 1);
}
