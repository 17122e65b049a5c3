/* SPDX-License-Identifier: MIT */
/*
 * test_publish.c - directory publication: trees copied exactly, versions
 * kept and rolled back, adoption of a real directory, a fault at every
 * step leaving the link on the old version with nothing leaked, readers
 * never seeing two versions in one walk, racing and killed publishers.
 */
#include "harness.h"
#include "atomicwrite.h"
#include "sys.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NFILES 8

/* Fills dir (an fd) with the test tree of NFILES files, every file
 * holding "version N". */
static int fill_version(int dirfd, const char *path, void *ctx)
{
	(void)path;
	return th_tree_fill(dirfd, NFILES, *(unsigned *)ctx, -1);
}

static int publish_version(const char *link, unsigned version,
                           const aw_publish_options *o, aw_error *e)
{
	return aw_link_publish(link, fill_version, &version, o, e);
}

/* Reads every file of the tree through one opened directory: the version
 * all of them hold, -1 if they disagree (a mixed tree), -2 if the walk
 * lost a race with the removal of an old version (not a violation). */
static int walk_version(const char *link)
{
	return th_tree_version(link, NFILES);
}

/* Entries of "." other than those named. */
static int entries_besides(const char *a, const char *b)
{
	int n = th_count_entries(".");
	n -= a && access(a, F_OK) == 0;
	n -= b && access(b, F_OK) == 0;
	return n;
}

/* Whether name is a version of the link named ctx: .awver-...-LINK. */
static bool version_of(const char *name, const void *ctx)
{
	const char *link = ctx;
	size_t l = strlen(name), ll = strlen(link);
	return strncmp(name, ".awver-", 7) == 0 && l > ll &&
	       strcmp(name + l - ll, link) == 0 && name[l - ll - 1] == '-';
}

static int versions_of(const char *link)
{
	return th_count_if(".", version_of, link);
}

static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

TEST(publish_creates_switches_and_removes_previous)
{
	aw_error e;
	ASSERT_AW_OK(publish_version("site", 1, NULL, &e));
	ASSERT_TRUE(is_link("site"));
	ASSERT_EQ(walk_version("site"), 1);
	ASSERT_EQ(versions_of("site"), 1);
	ASSERT_AW_OK(publish_version("site", 2, NULL, &e));
	ASSERT_EQ(walk_version("site"), 2);
	ASSERT_EQ(versions_of("site"), 1);
	ASSERT_EQ(th_count_entries("."), 2);
	/* The version directory gets its final mode. */
	struct stat st;
	ASSERT_OK(stat("site", &st));
	ASSERT_EQ(st.st_mode & 07777, 0755);
	ASSERT_NO_TEMPS(".");
}

TEST(keep_and_rollback)
{
	aw_error e;
	aw_publish_options o = { .keep = 2 };
	for (unsigned v = 1; v <= 5; v++)
		ASSERT_AW_OK(publish_version("site", v, &o, &e));
	ASSERT_EQ(versions_of("site"), 3);
	ASSERT_EQ(walk_version("site"), 5);
	ASSERT_AW_OK(aw_link_rollback("site", &e));
	ASSERT_EQ(walk_version("site"), 4);
	ASSERT_EQ(versions_of("site"), 2);
	ASSERT_AW_OK(aw_link_rollback("site", &e));
	ASSERT_EQ(walk_version("site"), 3);
	ASSERT_EQ(aw_link_rollback("site", &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(e.step, AW_STEP_FIND_VERSION);
	ASSERT_EQ(walk_version("site"), 3);
	/* Publishing after a rollback makes a newer version again. */
	ASSERT_AW_OK(publish_version("site", 6, &o, &e));
	ASSERT_EQ(walk_version("site"), 6);
	ASSERT_AW_OK(aw_link_rollback("site", &e));
	ASSERT_EQ(walk_version("site"), 3);
	ASSERT_EQ(aw_link_rollback("nothing", &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
}

TEST(real_directory_refused_unless_adopted)
{
	aw_error e;
	ASSERT_OK(mkdir("site", 0755));
	th_write_file("site/old", "old", 3);
	ASSERT_EQ(publish_version("site", 1, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EISDIR);
	ASSERT_EQ(e.step, AW_STEP_INSPECT_LINK);
	ASSERT_FILE("site/old", "old", 3);
	ASSERT_EQ(th_count_entries("."), 1);

	aw_publish_options adopt = { .flags = AW_PUBLISH_ADOPT, .keep = 1 };
#ifdef AW_FORCE_POSIX
	/* No atomic exchange without renameat2: refused, nothing moved. */
	ASSERT_EQ(publish_version("site", 1, &adopt, &e), AW_FAILED);
	ASSERT_EQ(e.err, EOPNOTSUPP);
	ASSERT_EQ(e.step, AW_STEP_ADOPT);
	ASSERT_FILE("site/old", "old", 3);
	ASSERT_EQ(th_count_entries("."), 1);
	return;
#endif
	ASSERT_AW_OK(publish_version("site", 1, &adopt, &e));
	ASSERT_TRUE(is_link("site"));
	ASSERT_EQ(walk_version("site"), 1);
	ASSERT_EQ(versions_of("site"), 2);
	/* The adopted directory is the previous version. */
	ASSERT_AW_OK(aw_link_rollback("site", &e));
	ASSERT_FILE("site/old", "old", 3);
	ASSERT_TRUE(is_link("site"));

	/* A regular file at the link's name is never replaced. */
	th_write_file("file", "x", 1);
	ASSERT_EQ(publish_version("file", 1, &adopt, &e), AW_FAILED);
	ASSERT_EQ(e.err, EEXIST);
	ASSERT_FILE("file", "x", 1);
}

TEST(publish_tree_reproduces_the_tree)
{
	umask(022);
	ASSERT_OK(mkdir("src", 0750));
	ASSERT_OK(mkdir("src/a", 0755));
	ASSERT_OK(mkdir("src/a/b", 0700));
	th_write_file("src/empty", "", 0);
	th_write_file("src/a/b/deep", "deep", 4);
	unsigned char *big = th_pattern(1u << 20, 3);
	th_write_file("src/a/big", big, 1u << 20);
	free(big);
	ASSERT_OK(chmod("src/a/big", 0604));
	ASSERT_OK(symlink("a/b/deep", "src/rel-link"));
	ASSERT_OK(symlink("/nonexistent", "src/dangling"));
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	ASSERT_OK(utimensat(AT_FDCWD, "src/a/b/deep", old, AT_SYMLINK_NOFOLLOW));

	aw_error e;
	ASSERT_AW_OK(aw_link_publish_tree("site", "src", NULL, &e));
	/* Same names, types, modes, sizes, link targets and file mtimes. */
#define LIST_TREE(dir, out) \
		"cd " dir " && find . -mindepth 1 \\( -type l -printf '%p %y %l\\n' \\) -o " \
		"\\( -type d -printf '%p %y %m\\n' \\) -o " \
		"\\( -printf '%p %y %m %s %T@\\n' \\) | sort > ../" out
	ASSERT_EQ(system(LIST_TREE("src", "src.list")), 0);
	ASSERT_EQ(system(LIST_TREE("site/", "site.list")), 0);
	size_t la, lb;
	char *a = th_read_file("src.list", &la);
	char *b = th_read_file("site.list", &lb);
	ASSERT_TRUE(la > 100);
	ASSERT_STREQ(a, b);
	free(a);
	free(b);
	ASSERT_EQ(system("diff -r --no-dereference src site/ >/dev/null"), 0);
	struct stat st;
	ASSERT_OK(stat("site", &st));
	ASSERT_EQ(st.st_mode & 07777, 0750);   /* the source root's mode */

	/* A FIFO in the tree fails the publication, naming the entry. */
	ASSERT_OK(mkfifo("src/a/fifo", 0644));
	ASSERT_EQ(aw_link_publish_tree("site", "src", NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(e.step, AW_STEP_COPY_TREE);
	ASSERT_STREQ(e.path, "src/a/fifo");
	ASSERT_EQ(versions_of("site"), 1);
	ASSERT_NO_TEMPS(".");
}

static int failing_populate(int dirfd, const char *path, void *ctx)
{
	(void)ctx;
	/* The path and the descriptor name the same, writable directory. */
	char p[4200];
	snprintf(p, sizeof p, "%s/made-by-path", path);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	if (faccessat(dirfd, "made-by-path", F_OK, 0) < 0)
		return -1;
	errno = ENOTRECOVERABLE;
	return -1;
}

TEST(populate_failure_leaves_nothing)
{
	aw_error e;
	ASSERT_AW_OK(publish_version("site", 1, NULL, &e));
	ASSERT_EQ(aw_link_publish("site", failing_populate, NULL, NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOTRECOVERABLE);
	ASSERT_EQ(e.step, AW_STEP_POPULATE);
	ASSERT_EQ(walk_version("site"), 1);
	ASSERT_EQ(versions_of("site"), 1);
	ASSERT_EQ(th_count_entries("."), 2);
	aw_publish_options bad = { .keep = 1000 };
	ASSERT_EQ(publish_version("site", 2, &bad, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_EQ(aw_link_publish(NULL, failing_populate, NULL, NULL, &e), AW_FAILED);
	ASSERT_EQ(aw_link_publish("site", NULL, NULL, NULL, &e), AW_FAILED);
}

struct pub_scenario {
	const char *label;
	int setup;         /* 0: link exists, 1: first publication, 2: adopt */
	unsigned keep;
};

static void pub_prepare(const struct pub_scenario *s)
{
	aw__fault_reset();
	ASSERT_EQ(system("rm -rf site .awver-* .awtmp-*"), 0);
	if (s->setup == 0) {
		/* Not under test: no flushes, to keep the sweep quick. */
		aw_publish_options o = { .keep = s->keep,
		                         .durability = AW_DURABILITY_NONE };
		ASSERT_AW_OK(publish_version("site", 1, &o, NULL));
		ASSERT_AW_OK(publish_version("site", 2, &o, NULL));
	} else if (s->setup == 2) {
		ASSERT_OK(mkdir("site", 0755));
		th_write_file("site/old", "old", 3);
	}
	aw__fault_reset();
}

/* After a publication that returned r, what must hold. */
static void pub_check(const struct pub_scenario *s, int r, bool persistent,
                      const char *what)
{
	int expect_new = r == AW_OK || r == AW_UNSYNCED;
	if (expect_new) {
		if (walk_version("site") != 3)
			th_fail(__FILE__, __LINE__, "%s: returned %d but site is not version 3", what, r);
	} else if (s->setup == 0) {
		if (walk_version("site") != 2)
			th_fail(__FILE__, __LINE__, "%s: failed but site is not version 2", what);
	} else if (s->setup == 1) {
		if (access("site", F_OK) == 0 || is_link("site"))
			th_fail(__FILE__, __LINE__, "%s: failed but site exists", what);
	} else {
		struct stat st;
		ASSERT_OK(lstat("site", &st));
		if (!S_ISDIR(st.st_mode))
			th_fail(__FILE__, __LINE__, "%s: failed but the adopted directory moved", what);
		ASSERT_FILE("site/old", "old", 3);
	}
	/* The lock file whose removal kept failing is left unlocked (and,
	 * without O_TMPFILE, the lock's temporary file whose removal kept
	 * failing): the next publisher's or the sweep's to remove. */
	if (access(".awtmp-lock", F_OK) == 0 || persistent) {
		if (access(".awtmp-lock", F_OK) == 0)
			printf("    %s: left the lock file, swept\n", what);
		ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
		ASSERT_TRUE(access(".awtmp-lock", F_OK) < 0);
	}
	ASSERT_NO_TEMPS(".");
	/* Nothing leaked: the link and the versions it keeps, no more. */
	int versions = versions_of("site");
	int want;
	if (expect_new)
		want = 1 + (s->setup == 0 ? (int)(s->keep < 2 ? s->keep : 2) : s->setup == 2 ? (int)s->keep : 0);
	else
		want = s->setup == 0 ? 1 + (int)(s->keep < 1 ? s->keep : 1) : 0;
	/* Pruning after the switch is best effort, and a fault that keeps
	 * failing the very calls cleanup needs (unlinkat, opening a
	 * directory) cannot be cleaned up after: what either leaves, the
	 * sweep must remove once the fault is gone.  A one-shot fault
	 * before the switch must leave nothing. */
	if ((expect_new || persistent) &&
	    (versions > want || entries_besides("site", NULL) > versions)) {
		ASSERT_TRUE(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL) > 0);
		versions = versions_of("site");
	}
	if (versions != want)
		th_fail(__FILE__, __LINE__, "%s: %d versions, expected %d", what, versions, want);
	if (entries_besides("site", NULL) != versions)
		th_fail(__FILE__, __LINE__, "%s: %d entries besides the link, %d versions",
		        what, entries_besides("site", NULL), versions);
}

/* A fault at every call of one scenario's publication, each errno, once
 * and persistent.  One TEST per scenario: each gets the harness's whole
 * timeout, which the flushes of a loaded machine otherwise come near. */
static void publish_fault_sweep(const struct pub_scenario *s)
{
	static const int errs[] = { EIO, ENOSPC, EACCES };
	unsigned cases = 0;
	aw_publish_options o = { .keep = s->keep,
	                         .flags = s->setup == 2 ? AW_PUBLISH_ADOPT : 0 };
	pub_prepare(s);
	ASSERT_AW_OK(publish_version("site", 3, &o, NULL));
	unsigned long calls = aw__fault_calls(-1);
	ASSERT_TRUE(calls > 10);
	for (unsigned long nth = 1; nth <= calls; nth++) {
		for (size_t j = 0; j < sizeof errs / sizeof errs[0]; j++) {
			for (int persistent = 0; persistent <= 1; persistent++) {
				pub_prepare(s);
				struct aw_fault_plan plan = { -1, nth, errs[j], persistent };
				aw__fault_set(&plan);
				aw_error e = { 0 };
				int r = publish_version("site", 3, &o, &e);
				int kind = aw__fault_fired_kind();
				aw__fault_reset();
				char what[200];
				snprintf(what, sizeof what, "%s: %s at call %lu (%s)%s",
				         s->label, strerror(errs[j]), nth,
				         aw__sys_call_name(kind),
				         persistent ? ", persistent" : "");
				if (r != AW_OK && (e.err != errs[j] || e.step == AW_STEP_NONE))
					th_fail(__FILE__, __LINE__, "%s: reported errno %d step %d",
					        what, e.err, (int)e.step);
				if (r == AW_OK && kind == AW_SYS_FSYNC)
					th_fail(__FILE__, __LINE__, "%s: success after a failed fsync", what);
				pub_check(s, r, persistent, what);
				cases++;
			}
		}
	}
	printf("    %u injected faults checked\n", cases);
}

TEST(publish_fault_at_every_call_keeps_old_version_and_leaks_nothing)
{
	static const struct pub_scenario s = { "existing link", 0, 0 };
	publish_fault_sweep(&s);
}

TEST(publish_fault_at_every_call_keep_1)
{
	static const struct pub_scenario s = { "existing link, keep 1", 0, 1 };
	publish_fault_sweep(&s);
}

TEST(publish_fault_at_every_call_first_publication)
{
	static const struct pub_scenario s = { "first publication", 1, 0 };
	publish_fault_sweep(&s);
}

TEST(publish_fault_at_every_call_adopting)
{
#ifdef AW_FORCE_POSIX
	th_skip("no renameat2 in this build (AW_FORCE_POSIX): no adoption");
#endif
	static const struct pub_scenario s = { "adopting a directory, keep 1", 2, 1 };
	publish_fault_sweep(&s);
}

TEST(readers_never_see_two_versions_in_one_walk)
{
	enum { PUBLISHES = 500, READERS = 2 };
	aw_publish_options fast = { .durability = AW_DURABILITY_NONE };
	ASSERT_AW_OK(publish_version("site", 0, &fast, NULL));
	int stop[2];
	ASSERT_OK(pipe(stop));
	for (int r = 0; r < READERS; r++) {
		if (fork() == 0) {
			close(stop[1]);
			fcntl(stop[0], F_SETFL, O_NONBLOCK);
			unsigned long walks = 0, mixed = 0, raced = 0;
			char c;
			while (read(stop[0], &c, 1) < 0) {
				int v = walk_version("site");
				walks++;
				mixed += v == -1;
				raced += v == -2;
			}
			printf("    reader %d: %lu walks, %lu mixed, %lu lost a race with a removal\n",
			       r, walks, mixed, raced);
			fflush(stdout);
			_exit(mixed == 0 && walks > raced ? 0 : 1);
		}
	}
	close(stop[0]);
	for (unsigned v = 1; v <= PUBLISHES; v++)
		ASSERT_AW_OK(publish_version("site", v, &fast, NULL));
	close(stop[1]);
	int bad = 0;
	for (int r = 0; r < READERS; r++) {
		int status;
		ASSERT_TRUE(wait(&status) > 0);
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	ASSERT_EQ(bad, 0);
	ASSERT_EQ(walk_version("site"), PUBLISHES);
	ASSERT_EQ(versions_of("site"), 1);
}

TEST(racing_publishers_leave_one_complete_version)
{
	enum { EACH = 40 };
	for (int p = 0; p < 2; p++) {
		if (fork() == 0) {
			aw_publish_options fast = { .durability = AW_DURABILITY_NONE };
			for (unsigned v = 1; v <= EACH; v++)
				if (publish_version("site", (unsigned)p * 1000 + v, &fast, NULL) != AW_OK)
					_exit(1);
			_exit(0);
		}
	}
	int bad = 0;
	for (int p = 0; p < 2; p++) {
		int status;
		ASSERT_TRUE(wait(&status) > 0);
		bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	ASSERT_EQ(bad, 0);
	int v = walk_version("site");
	ASSERT_TRUE(v == EACH || v == 1000 + EACH);
	ASSERT_EQ(versions_of("site"), 1);
	ASSERT_EQ(th_count_entries("."), 2);
}

TEST(killed_publisher_then_sweep_leaves_a_complete_version)
{
	unsigned seed = (unsigned)time(NULL);
	printf("    seed %u\n", seed);
	srand(seed);
	aw_publish_options fast = { .durability = AW_DURABILITY_NONE };
	ASSERT_AW_OK(publish_version("site", 0, &fast, NULL));
	int leftovers = 0;
	for (int round = 0; round < 40; round++) {
		pid_t pid = fork();
		ASSERT_OK(pid);
		if (pid == 0) {
			for (unsigned v = 1;; v++)
				publish_version("site", v, &fast, NULL);
		}
		usleep((useconds_t)(rand() % 20000));
		ASSERT_OK(kill(pid, SIGKILL));
		ASSERT_EQ(waitpid(pid, NULL, 0), pid);
		int v = walk_version("site");
		if (v < 0)
			th_fail(__FILE__, __LINE__, "round %d: site is not one complete version (%d)", round, v);
		int r = aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL);
		ASSERT_OK(r);
		leftovers += r;
		ASSERT_EQ(walk_version("site"), v);
		ASSERT_EQ(versions_of("site"), 1);
		ASSERT_EQ(th_count_entries("."), 2);
	}
	printf("    40 kills, %d leftovers swept\n", leftovers);
}

TEST(sweep_keeps_live_and_kept_versions_only)
{
	aw_publish_options o = { .keep = 1 };
	for (unsigned v = 1; v <= 3; v++)
		ASSERT_AW_OK(publish_version("site", v, &o, NULL));
	ASSERT_EQ(versions_of("site"), 2);
	/* Leftovers of a dead publisher: a newer version never switched to,
	 * an older one beyond the kept, a temporary link. */
	ASSERT_OK(mkdir(".awver-99999999999999999999-k1-site", 0700));
	ASSERT_OK(mkdir(".awver-00000000000000000001-k1-site", 0700));
	th_write_file(".awver-00000000000000000001-k1-site/x", "x", 1);
	ASSERT_OK(symlink(".awver-99999999999999999999-k1-site", ".awtmp-abcdefghijkl-site"));
	/* Not ours: a version-like file, another link's live version. */
	th_write_file(".awver-00000000000000000002-k1-site", "file", 4);
	ASSERT_AW_OK(publish_version("other", 7, NULL, NULL));

	/* While a publisher holds the lock (its lock file, flocked), nothing
	 * of this is touched, and the sweep says so. */
	int lfd = open(".awtmp-lock", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ASSERT_OK(lfd);
	ASSERT_OK(flock(lfd, LOCK_EX));
	pid_t pid = fork();
	if (pid == 0) {
		unsigned status = 0;
		_exit(aw_dir_sweep(".", 0, NULL, NULL, &status, NULL) == 0 &&
		      status == AW_SWEEP_LOCK_HELD ? 0 : 1);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(versions_of("site"), 5);   /* the file counts here too */
	ASSERT_OK(unlink(".awtmp-lock"));
	close(lfd);

	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 3);
	ASSERT_EQ(versions_of("site"), 3);   /* live, kept, the file */
	ASSERT_EQ(walk_version("site"), 3);
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(walk_version("site"), 2);
	ASSERT_EQ(walk_version("other"), 7);
	ASSERT_FILE(".awver-00000000000000000002-k1-site", "file", 4);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 0);

	/* With its link gone, a link's versions are all leftovers. */
	ASSERT_OK(unlink("other"));
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	ASSERT_EQ(versions_of("other"), 0);
}

TEST(symlink_replaced_atomically_while_readers_resolve_it)
{
	aw_error e;
	th_write_file("a", "A", 1);
	th_write_file("b", "B", 1);
	ASSERT_AW_OK(aw_link_set("a", "cur", &e));
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 20000; i++) {
			char c;
			int fd = open("cur", O_RDONLY);
			if (fd < 0 || read(fd, &c, 1) != 1 || (c != 'A' && c != 'B'))
				_exit(1);
			close(fd);
		}
		_exit(0);
	}
	for (int i = 0; i < 2000; i++)
		ASSERT_AW_OK(aw_link_set(i % 2 ? "a" : "b", "cur", &e));
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_NO_TEMPS(".");
	/* A file is replaced by the link; a directory is refused. */
	ASSERT_AW_OK(aw_link_set("a", "b", &e));
	ASSERT_TRUE(is_link("b"));
	ASSERT_OK(mkdir("d", 0755));
	ASSERT_EQ(aw_link_set("a", "d", &e), AW_FAILED);
	ASSERT_EQ(e.err, EISDIR);
	/* Faults: the old link stays, nothing is left. */
	ASSERT_AW_OK(aw_link_set("a", "cur", &e));
	for (unsigned long nth = 1; nth <= 8; nth++) {
		struct aw_fault_plan plan = { -1, nth, EIO, 0 };
		aw__fault_set(&plan);
		int r = aw_link_set("b", "cur", &e);
		aw__fault_reset();
		char target[8] = "";
		ASSERT_TRUE(readlink("cur", target, sizeof target - 1) > 0);
		ASSERT_STREQ(target, r == AW_FAILED ? "a" : "b");
		ASSERT_NO_TEMPS(".");
		ASSERT_AW_OK(aw_link_set("a", "cur", &e));
	}
}

TEST(exchange_swaps_any_two_paths)
{
	aw_error e;
#ifdef AW_FORCE_POSIX
	th_write_file("f", "1", 1);
	th_write_file("g", "2", 1);
	ASSERT_EQ(aw_path_exchange("f", "g", &e), AW_FAILED);
	ASSERT_EQ(e.err, EOPNOTSUPP);
	ASSERT_FILE("f", "1", 1);
	th_skip("no renameat2 in this build (AW_FORCE_POSIX): refusal checked");
#endif
	ASSERT_OK(mkdir("d1", 0755));
	ASSERT_OK(mkdir("d2", 0755));
	th_write_file("d1/x", "1", 1);
	th_write_file("d2/x", "2", 1);
	ASSERT_AW_OK(aw_path_exchange("d1", "d2", &e));
	ASSERT_FILE("d1/x", "2", 1);
	ASSERT_FILE("d2/x", "1", 1);
	th_write_file("f", "file", 4);
	ASSERT_AW_OK(aw_path_exchange("f", "d1", &e));
	ASSERT_FILE("d1", "file", 4);
	ASSERT_FILE("f/x", "2", 1);
	/* Across directories. */
	ASSERT_AW_OK(aw_path_exchange("d1", "d2/x", &e));
	ASSERT_FILE("d2/x", "file", 4);
	ASSERT_FILE("d1", "1", 1);

	ASSERT_EQ(aw_path_exchange("f", "missing", &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(e.step, AW_STEP_EXCHANGE);
	ASSERT_STREQ(e.path, "f");
	ASSERT_STREQ(e.path2, "missing");
	/* A kernel without the exchange: a clear "not supported". */
	struct aw_fault_plan plan = { AW_SYS_EXCHANGE, 1, ENOSYS, 0 };
	aw__fault_set(&plan);
	ASSERT_EQ(aw_path_exchange("f", "d1", &e), AW_FAILED);
	aw__fault_reset();
	ASSERT_EQ(e.err, EOPNOTSUPP);
	/* A failed parent fsync after the exchange: done, not durable. */
	struct aw_fault_plan sync = { AW_SYS_FSYNC, 1, EIO, 0 };
	aw__fault_set(&sync);
	ASSERT_EQ(aw_path_exchange("f", "d1", &e), AW_UNSYNCED);
	aw__fault_reset();
	ASSERT_FILE("f", "1", 1);
}

/* fsyncs before and after the rename that switches the link. */
static void count_publish_fsyncs(aw_durability d, int *before, int *after)
{
	aw_publish_options o = { .durability = d };
	aw__fault_reset();
	ASSERT_AW_OK(publish_version("site", 9, &o, NULL));
	int kinds[2048];
	size_t n = aw__fault_trace(kinds, 2048);
	ASSERT_TRUE(n < 2048);
	size_t rename_at = n;
	for (size_t i = 0; i < n; i++)
		if (kinds[i] == AW_SYS_RENAMEAT)
			rename_at = i;
	ASSERT_TRUE(rename_at < n);
	*before = *after = 0;
	for (size_t i = 0; i < n; i++)
		if (kinds[i] == AW_SYS_FSYNC)
			(*(i < rename_at ? before : after))++;
}

TEST(publish_fsyncs_every_file_and_directory_before_the_switch)
{
	int before, after;
	ASSERT_AW_OK(publish_version("site", 1, NULL, NULL));
	/* NFILES files, "sub", the version itself, then the parent. */
	count_publish_fsyncs(AW_DURABILITY_FULL, &before, &after);
	ASSERT_EQ(before, NFILES + 2 + 1);
	ASSERT_EQ(after, 1);
	count_publish_fsyncs(AW_DURABILITY_FILE, &before, &after);
	ASSERT_EQ(before, NFILES + 2 + 1);
	ASSERT_EQ(after, 0);
	count_publish_fsyncs(AW_DURABILITY_NONE, &before, &after);
	ASSERT_EQ(before + after, 0);
}
