/* SPDX-License-Identifier: MIT */
/*
 * test_publish_safety.c - publication against a hostile or broken
 * neighbourhood (issue 11): planted version look-alikes (S4), trees whose
 * owner swaps entries under the copy (S6), half-built versions of killed
 * publishers (D1), links that spell their target differently (D2), the
 * adopted directory (D10), sparse files (R1), read-only directories of a
 * non-root publisher (R4), and what a reader holding LINK/ open gets (R5).
 */
#include "harness.h"
#include "atomicwrite.h"

#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NFILES 6
#define NOBODY 65534

/* Fills the version with the test tree of NFILES files holding
 * "version N"; a negative N stops halfway and SIGKILLs the process. */
static int fill(int dirfd, const char *path, void *ctx)
{
	(void)path;
	int version = *(int *)ctx;
	return th_tree_fill(dirfd, NFILES, (unsigned)(version < 0 ? -version : version),
	                    version < 0 ? NFILES / 2 : -1);
}

static int pub(const char *link, int version, unsigned keep)
{
	aw_publish_options o = { .keep = keep, .durability = AW_DURABILITY_NONE };
	return aw_link_publish(link, fill, &version, &o, NULL);
}

/* The version every file of the tree under path holds; -1 if they
 * disagree or one is missing (a partial or foreign tree). */
static int tree_version(const char *path)
{
	int v = th_tree_version(path, NFILES);
	return v < 0 ? -1 : v;
}

/* The stamp of the version link points at (by its name). */
static uint64_t live_stamp(const char *link)
{
	char target[256] = "";
	ASSERT_TRUE(readlink(link, target, sizeof target - 1) > 0);
	const char *p = strstr(target, ".awver-");
	ASSERT_TRUE(p != NULL);
	uint64_t s;
	ASSERT_EQ(sscanf(p + 7, "%20" SCNu64, &s), 1);
	return s;
}

/* Entries of "." whose name starts with prefix. */
static int count_prefix(const char *prefix)
{
	return th_count_named(".", prefix);
}

static bool is_link(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* A foreign tree that looks like version 666. */
static void make_evil_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "mkdir -p %s/sub && for i in 0 1 2 3 4 5; do "
	         "if [ $((i %% 2)) = 1 ]; then f=%s/sub/f$i; else f=%s/f$i; fi; "
	         "echo 'version 666' > $f; done", dir, dir, dir);
	ASSERT_EQ(system(cmd), 0);
}

TEST(planted_version_symlink_is_never_served_counted_or_removed)
{
	ASSERT_AW_OK(pub("site", 1, 1));
	ASSERT_AW_OK(pub("site", 2, 1));
	uint64_t live = live_stamp("site");
	make_evil_tree("evil");
	/* Just older than the live version: what rollback would pick. */
	char fake[128];
	snprintf(fake, sizeof fake, ".awver-%020" PRIu64 "-k1-site", live - 1);
	ASSERT_OK(symlink("evil", fake));
	/* Future-dated: what a publication would count as newest. */
	const char *future = ".awver-09000000000000000000-k1-site";
	ASSERT_OK(symlink("evil", future));

	/* A publication does not count either: the real previous (2) is
	 * the one kept, and the planted names are left alone. */
	ASSERT_AW_OK(pub("site", 3, 1));
	ASSERT_EQ(tree_version("site"), 3);
	ASSERT_TRUE(is_link(fake));
	ASSERT_TRUE(is_link(future));
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(tree_version("site"), 2);
	/* Nothing older is kept: the planted link is not a version. */
	aw_error e;
	ASSERT_EQ(aw_link_rollback("site", &e), AW_FAILED);
	ASSERT_EQ(e.err, ENOENT);
	ASSERT_EQ(tree_version("site"), 2);
	/* A sweep does not take them for leftovers either. */
	ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
	ASSERT_TRUE(is_link(fake));
	ASSERT_TRUE(is_link(future));
	ASSERT_EQ(tree_version("evil"), 666);
	ASSERT_EQ(tree_version("site"), 2);
}

TEST(another_users_version_directory_is_not_a_version)
{
	if (geteuid() != 0)
		th_skip("needs root (chown to another user)");
	ASSERT_AW_OK(pub("site", 1, 1));
	ASSERT_AW_OK(pub("site", 2, 1));
	uint64_t live = live_stamp("site");
	char fake[128], cmd[300];
	snprintf(fake, sizeof fake, ".awver-%020" PRIu64 "-k1-site", live - 1);
	make_evil_tree(fake);
	snprintf(cmd, sizeof cmd, "chown -R %d:%d %s", NOBODY, NOBODY, fake);
	ASSERT_EQ(system(cmd), 0);
	const char *future = ".awver-09000000000000000000-k1-site";
	make_evil_tree(future);
	snprintf(cmd, sizeof cmd, "chown -R %d:%d %s", NOBODY, NOBODY, future);
	ASSERT_EQ(system(cmd), 0);

	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(tree_version("site"), 1);
	ASSERT_AW_OK(pub("site", 3, 1));
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(tree_version("site"), 1);
	ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
	ASSERT_EQ(tree_version(fake), 666);
	ASSERT_EQ(tree_version(future), 666);
}

TEST(killed_publishers_half_built_version_is_never_kept_or_served)
{
	ASSERT_AW_OK(pub("site", 1, 1));
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		pub("site", -9, 1);   /* dies halfway through populating */
		_exit(0);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ASSERT_EQ(tree_version("site"), 1);
	/* The good version 1 is the one kept, not the partial one. */
	ASSERT_AW_OK(pub("site", 2, 1));
	ASSERT_EQ(tree_version("site"), 2);
	ASSERT_EQ(count_prefix(".awver-"), 2);
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(tree_version("site"), 1);
	/* The leftover is a sweep's to remove, and only it. */
	ASSERT_EQ(count_prefix(".awbld-"), 1);
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	ASSERT_EQ(count_prefix(".awbld-"), 0);
	ASSERT_EQ(tree_version("site"), 1);
}

TEST(sweep_leaves_a_build_directory_whose_publisher_lives)
{
	ASSERT_AW_OK(pub("site", 1, 0));
	/* A build in progress: its publisher holds the directory's flock. */
	const char *bld = ".awbld-09000000000000000000-k0-site";
	ASSERT_OK(mkdir(bld, 0700));
	th_write_file(".awbld-09000000000000000000-k0-site/f0", "half", 4);
	int fd = open(bld, O_RDONLY | O_DIRECTORY);
	ASSERT_OK(fd);
	ASSERT_OK(flock(fd, LOCK_EX));
	pid_t pid = fork();
	if (pid == 0)
		_exit(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL) == 0 ? 0 : 1);
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_FILE(".awbld-09000000000000000000-k0-site/f0", "half", 4);
	close(fd);
	/* Its publisher gone, it goes; a planted look-alike (a link) stays. */
	ASSERT_OK(symlink("site", ".awbld-09000000000000000001-k0-site"));
	ASSERT_EQ(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL), 1);
	ASSERT_EQ(count_prefix(".awbld-"), 1);
	ASSERT_TRUE(is_link(".awbld-09000000000000000001-k0-site"));
	ASSERT_EQ(tree_version("site"), 1);
}

/* Replaces the link site by one to target, spelled as given. */
static void respell(const char *target)
{
	ASSERT_OK(symlink(target, "site.new"));
	ASSERT_OK(rename("site.new", "site"));
}

TEST(sweep_finds_the_live_version_however_the_link_spells_it)
{
	ASSERT_AW_OK(pub("site", 1, 0));
	char target[256] = "", spelled[4400], cwd[4096];
	ASSERT_TRUE(readlink("site", target, sizeof target - 1) > 0);
	snprintf(spelled, sizeof spelled, "./%s", target);
	respell(spelled);
	ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
	ASSERT_EQ(tree_version("site"), 1);
	ASSERT_TRUE(getcwd(cwd, sizeof cwd) != NULL);
	snprintf(spelled, sizeof spelled, "%s/%s", cwd, target);
	respell(spelled);
	ASSERT_OK(aw_dir_sweep(".", 0, NULL, NULL, NULL, NULL));
	ASSERT_EQ(tree_version("site"), 1);
	/* And a publication after that sees it as the live version: with
	 * --keep 1 it is the one kept. */
	ASSERT_AW_OK(pub("site", 2, 1));
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_EQ(tree_version("site"), 1);
}

TEST(adopted_directory_is_kept_unless_discarding_is_asked)
{
#ifdef AW_FORCE_POSIX
	th_skip("no renameat2 in this build (AW_FORCE_POSIX): no adoption");
#endif
	ASSERT_OK(mkdir("site", 0755));
	th_write_file("site/old", "old", 3);
	int v = 1;
	aw_publish_options adopt = { .flags = AW_PUBLISH_ADOPT };   /* keep 0 */
	ASSERT_AW_OK(aw_link_publish("site", fill, &v, &adopt, NULL));
	ASSERT_TRUE(is_link("site"));
	ASSERT_EQ(tree_version("site"), 1);
	ASSERT_AW_OK(aw_link_rollback("site", NULL));
	ASSERT_FILE("site/old", "old", 3);

	ASSERT_OK(mkdir("other", 0755));
	th_write_file("other/old", "old", 3);
	aw_publish_options discard = {
		.flags = AW_PUBLISH_ADOPT | AW_PUBLISH_DISCARD_ADOPTED };
	ASSERT_AW_OK(aw_link_publish("other", fill, &v, &discard, NULL));
	ASSERT_EQ(tree_version("other"), 1);
	ASSERT_EQ(aw_link_rollback("other", NULL), AW_FAILED);
	ASSERT_EQ(count_prefix(".awver-"), 2);   /* site: the adopted one (rolled back to); other: its one */
}

/* Swaps a and b (on one filesystem) atomically, in a loop, until killed. */
static pid_t swapper(const char *a, const char *b)
{
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		for (;;)
			syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* EXCHANGE */);
	}
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

TEST(entry_swapped_for_a_fifo_never_hangs_the_publisher)
{
	ASSERT_OK(mkdir("src", 0755));
	ASSERT_OK(mkdir("stash", 0755));
	th_write_file("src/f", "file", 4);
	ASSERT_OK(mkfifo("stash/f", 0644));
	if (syscall(SYS_renameat2, AT_FDCWD, "src/f", AT_FDCWD, "stash/f", 2) < 0)
		th_skip("no RENAME_EXCHANGE here");
	pid_t pid = swapper("src/f", "stash/f");
	/* A publisher that opens the FIFO blocking waits forever: the
	 * watchdog child fails the test instead of the harness timeout. */
	pid_t pub_pid = fork();
	ASSERT_OK(pub_pid);
	if (pub_pid == 0) {
		alarm(30);
		aw_publish_options o = { .durability = AW_DURABILITY_NONE };
		int ok = 0, refused = 0;
		time_t end = time(NULL) + 4;
		while (time(NULL) < end) {
			aw_error e;
			int r = aw_link_publish_tree("site", "src", &o, &e);
			if (r == AW_OK)
				ok++;
			else if (e.err == EINVAL && strcmp(e.path, "src/f") == 0)
				refused++;
			else if (e.err != EAGAIN)   /* a link swapped: not here */
				_exit(3);
		}
		printf("    %d published, %d refused the FIFO\n", ok, refused);
		fflush(stdout);
		_exit(ok + refused > 0 ? 0 : 4);
	}
	int status;
	ASSERT_EQ(waitpid(pub_pid, &status, 0), pub_pid);
	stop(pid);
	if (WIFSIGNALED(status))
		th_fail(__FILE__, __LINE__, "publisher hung on the FIFO (signal %d)",
		        WTERMSIG(status));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The FIFO is refused outright, naming the entry. */
	ASSERT_OK(unlink("src/f"));
	ASSERT_OK(mkfifo("src/f", 0644));
	aw_error e;
	ASSERT_EQ(aw_link_publish_tree("site", "src", NULL, &e), AW_FAILED);
	ASSERT_EQ(e.err, EINVAL);
	ASSERT_STREQ(e.path, "src/f");
}

TEST(copied_file_gets_the_mode_of_the_contents_it_holds)
{
	ASSERT_OK(mkdir("src", 0755));
	ASSERT_OK(mkdir("stash", 0755));
	th_write_file("src/f", "secret", 6);
	ASSERT_OK(chmod("src/f", 0600));
	th_write_file("stash/f", "public", 6);
	ASSERT_OK(chmod("stash/f", 0644));
	if (syscall(SYS_renameat2, AT_FDCWD, "src/f", AT_FDCWD, "stash/f", 2) < 0)
		th_skip("no RENAME_EXCHANGE here");
	pid_t pid = swapper("src/f", "stash/f");
	aw_publish_options o = { .durability = AW_DURABILITY_NONE };
	int rounds = 0, mixed = 0;
	time_t end = time(NULL) + 4;
	while (time(NULL) < end) {
		if (aw_link_publish_tree("site", "src", &o, NULL) != AW_OK)
			continue;
		rounds++;
		struct stat st;
		size_t len;
		/* A readdir() racing a rename may miss the entry (btrfs does:
		 * the exchange re-indexes it); a tree that changes while it is
		 * copied is not promised whole, only each file true to itself. */
		if (stat("site/f", &st) < 0 && errno == ENOENT)
			continue;
		ASSERT_OK(stat("site/f", &st));
		char *s = th_read_file("site/f", &len);
		mode_t want = strcmp(s, "secret") == 0 ? 0600 : 0644;
		mixed += (st.st_mode & 07777) != want;
		free(s);
	}
	stop(pid);
	printf("    %d publications, %d with another file's mode\n", rounds, mixed);
	ASSERT_TRUE(rounds > 0);
	ASSERT_EQ(mixed, 0);
}

TEST(sparse_file_keeps_its_holes_when_published)
{
	ASSERT_OK(mkdir("src", 0755));
	int fd = open("src/sparse", O_WRONLY | O_CREAT | O_EXCL, 0644);
	ASSERT_OK(fd);
	ASSERT_OK(ftruncate(fd, 64 << 20));
	ASSERT_EQ(pwrite(fd, "end", 3, (64 << 20) - 3), 3);
	ASSERT_EQ(pwrite(fd, "start", 5, 0), 5);
	close(fd);
	struct stat st;
	ASSERT_OK(stat("src/sparse", &st));
	if ((long long)st.st_blocks * 512 > 1 << 20)
		th_skip("this filesystem does not keep holes");
	ASSERT_AW_OK(aw_link_publish_tree("site", "src", NULL, NULL));
	ASSERT_OK(stat("site/sparse", &st));
	ASSERT_EQ(st.st_size, 64 << 20);
	printf("    published copy: %lld KiB allocated of 65536\n",
	       (long long)st.st_blocks / 2);
	ASSERT_TRUE((long long)st.st_blocks * 512 < 8 << 20);
	ASSERT_EQ(system("cmp -s src/sparse site/sparse"), 0);
}

/* A directory other users can enter, for runs as nobody (the harness's
 * own is root's 0700); each test removes it before judging. */
static char shared_dir[64];

static void remove_shared(void)
{
	if (shared_dir[0]) {
		char cmd[200];
		snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", shared_dir, shared_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "    could not remove %s\n", shared_dir);
		shared_dir[0] = '\0';
	}
}

/* Runs fn as an ordinary user (nobody if we are root) in a directory
 * that user owns (made on the first call); returns fn's exit status. */
static int as_ordinary_user(int (*fn)(void))
{
	if (!shared_dir[0]) {
		snprintf(shared_dir, sizeof shared_dir, "/tmp/aw-pubsafe-XXXXXX");
		ASSERT_TRUE(mkdtemp(shared_dir) != NULL);
		if (geteuid() == 0)
			ASSERT_OK(chown(shared_dir, NOBODY, NOBODY));
	}
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		                       setresuid(NOBODY, NOBODY, NOBODY) < 0))
			_exit(100);
		if (chdir(shared_dir) < 0)
			_exit(101);
		_exit(fn());
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int publish_read_only_tree(void)
{
	if (system("mkdir -p src/ro/deeper && echo x > src/ro/deeper/f && echo y > src/ro/g"
	           " && chmod 0555 src/ro/deeper src/ro src") != 0)
		return 10;
	for (int i = 0; i < 3; i++)
		if (aw_link_publish_tree("site", "src", NULL, NULL) != AW_OK)
			return 11 + i;
	/* The versions switched away from are gone, whole. */
	if (count_prefix(".awver-") != 1)
		return 20;
	aw_error e;
	if (aw_dir_sweep(".", 0, NULL, NULL, NULL, &e) != 0)
		return 21;
	/* A leftover version with a read-only tree is swept too. */
	if (system("cp -a $(readlink site) .awver-00000000000000000001-k0-site") != 0)
		return 22;
	if (aw_dir_sweep(".", 0, NULL, NULL, NULL, &e) != 1 || count_prefix(".awver-") != 1)
		return 23;
	return 0;
}

TEST(read_only_directories_of_a_non_root_publisher_are_removed)
{
	int r = as_ordinary_user(publish_read_only_tree);
	remove_shared();
	if (r != 0)
		th_fail(__FILE__, __LINE__, "as an ordinary user: step %d failed", r);
}

static int sweep_reports_eacces(void)
{
	aw_error e;
	int r = aw_dir_sweep(".", 0, NULL, NULL, NULL, &e);
	if (r != -1)
		return 30;
	printf("    sweep: %s %s: %s\n", aw_step_name(e.step), e.path, strerror(e.err));
	fflush(stdout);
	return e.err == EACCES ? 0 : 31;
}

TEST(sweep_reports_the_real_errno_of_what_it_cannot_remove)
{
	if (geteuid() != 0)
		th_skip("needs root (a directory owned by another user)");
	/* nobody's leftover version holding root's directory: nobody may
	 * not empty it, and must be told so (EACCES), not ENOTEMPTY. */
	int r = as_ordinary_user(publish_read_only_tree);
	if (r != 0)
		remove_shared();
	ASSERT_EQ(r, 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "cd %s && mkdir -p .awver-00000000000000000002-k0-site/rootdir"
	         " && echo r > .awver-00000000000000000002-k0-site/rootdir/f"
	         " && chown %d:%d .awver-00000000000000000002-k0-site",
	         shared_dir, NOBODY, NOBODY);
	r = system(cmd);
	if (r == 0)
		r = as_ordinary_user(sweep_reports_eacces);
	remove_shared();
	ASSERT_EQ(r, 0);
}

TEST(reader_holding_the_link_open_keeps_its_tree_while_the_version_is_kept)
{
	/* What the manual promises (R5): a reader that opened LINK/ reads
	 * one whole version as long as that version exists; with --keep 0
	 * it is removed at the switch, and names not yet opened then fail
	 * with ENOENT, never giving a file of another version; files already
	 * open stay readable.  --keep N keeps it through N publications. */
	ASSERT_AW_OK(pub("site", 1, 0));
	int dfd = open("site", O_RDONLY | O_DIRECTORY);
	ASSERT_OK(dfd);
	int open_fd = openat(dfd, "f0", O_RDONLY);
	ASSERT_OK(open_fd);
	ASSERT_AW_OK(pub("site", 2, 0));
	ASSERT_ERRNO(openat(dfd, "f2", O_RDONLY), ENOENT);
	char buf[32] = "";
	ASSERT_TRUE(read(open_fd, buf, sizeof buf - 1) > 0);
	ASSERT_STREQ(buf, "version 1\n");
	close(open_fd);
	close(dfd);

	dfd = open("site", O_RDONLY | O_DIRECTORY);   /* version 2 */
	ASSERT_OK(dfd);
	ASSERT_AW_OK(pub("site", 3, 1));
	int fd = openat(dfd, "f2", O_RDONLY);
	ASSERT_OK(fd);
	memset(buf, 0, sizeof buf);
	ASSERT_TRUE(read(fd, buf, sizeof buf - 1) > 0);
	ASSERT_STREQ(buf, "version 2\n");
	close(fd);
	ASSERT_AW_OK(pub("site", 4, 1));
	ASSERT_ERRNO(openat(dfd, "f4", O_RDONLY), ENOENT);
	close(dfd);
}
