/* SPDX-License-Identifier: MIT */
/*
 * harness.c - the unit-test runner; see harness.h.
 */
#include "harness.h"
#include "atomicwrite.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif

/* Per-test timeout, in seconds.  Under valgrind (AW_VALGRIND=1, set by
 * make check-valgrind through tests/run-check.sh) everything runs ~20x
 * slower, so the timeout is scaled by th_timeout_scale() rather than
 * any test doing less. */
#define TH_TIMEOUT 120

unsigned th_timeout_scale(void)
{
	const char *v = getenv("AW_VALGRIND");
	if (v && strcmp(v, "1") == 0)
		return 20;
	v = getenv("AW_TIMEOUT_SCALE");
	return v && atoi(v) > 1 ? (unsigned)atoi(v) : 1;
}

static struct th_test *tests;

void th_register(struct th_test *t)
{
	/* Constructors run in link order; keep the list in that order. */
	struct th_test **p = &tests;
	while (*p)
		p = &(*p)->next;
	*p = t;
}

enum { TH_PASS = 0, TH_FAIL = 1, TH_SKIP = 77 };

void th_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(TH_FAIL);
}

void th_skip(const char *why)
{
	fprintf(stderr, "    skipped: %s\n", why);
	_exit(TH_SKIP);
}

void th_write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		th_fail(__FILE__, __LINE__, "writing %s: %s", path, strerror(errno));
}

char *th_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		th_fail(__FILE__, __LINE__, "opening %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0)
		th_fail(__FILE__, __LINE__, "fstat %s: %s", path, strerror(errno));
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0)
			th_fail(__FILE__, __LINE__, "reading %s: %s", path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == (size_t)st.st_size)
			break;
	}
	close(fd);
	buf[got] = '\0';
	if (len)
		*len = got;
	return buf;
}

void th_assert_file(const char *file, int line, const char *path,
                    const void *data, size_t len)
{
	size_t got;
	char *buf = th_read_file(path, &got);
	if (got != len)
		th_fail(file, line, "%s holds %zu bytes, expected %zu", path, got, len);
	if (len && memcmp(buf, data, len) != 0)
		th_fail(file, line, "%s differs from the expected bytes", path);
	free(buf);
}

void th_assert_no_temps(const char *file, int line, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		th_fail(file, line, "opendir %s: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, ".awtmp-", 7) == 0)
			th_fail(file, line, "temporary file left in %s: %s", dir, de->d_name);
	closedir(d);
}

int th_count_if(const char *dir, bool (*match)(const char *name, const void *ctx),
                const void *ctx)
{
	DIR *d = opendir(dir);
	if (!d)
		th_fail(__FILE__, __LINE__, "opendir %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += match(de->d_name, ctx);
	closedir(d);
	return n;
}

static bool not_dots(const char *name, const void *ctx)
{
	(void)ctx;
	return strcmp(name, ".") && strcmp(name, "..");
}

int th_count_entries(const char *dir)
{
	return th_count_if(dir, not_dots, NULL);
}

static bool has_prefix(const char *name, const void *prefix)
{
	return strncmp(name, prefix, strlen(prefix)) == 0;
}

int th_count_named(const char *dir, const char *prefix)
{
	return th_count_if(dir, has_prefix, prefix);
}

int th_count_temps(const char *dir)
{
	return th_count_named(dir, ".awtmp-");
}

static void tree_name(char *name, size_t size, int i)
{
	snprintf(name, size, i % 2 ? "sub/f%d" : "f%d", i);
}

int th_tree_fill(int dirfd, int nfiles, unsigned version, int kill_at)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "version %u\n", version);
	if (mkdirat(dirfd, "sub", 0755) < 0)
		return -1;
	for (int i = 0; i < nfiles; i++) {
		if (i == kill_at)
			kill(getpid(), SIGKILL);
		char name[32];
		tree_name(name, sizeof name, i);
		int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return -1;
		bool ok = write(fd, buf, (size_t)n) == n;
		close(fd);
		if (!ok)
			return -1;
	}
	return 0;
}

/* The version file i of the tree under dfd holds, or as
 * th_tree_version() says. */
static int tree_file_version(int dfd, int i)
{
	char name[32], buf[64] = "";
	tree_name(name, sizeof name, i);
	int fd = openat(dfd, name, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? TH_TREE_GONE : -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	unsigned v;
	if (n <= 0 || sscanf(buf, "version %u", &v) != 1 || v > INT32_MAX)
		return -1;
	return (int)v;
}

int th_tree_version(const char *path, int nfiles)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return TH_TREE_GONE;
	int seen = -1;
	for (int i = 0; i < nfiles; i++) {
		int v = tree_file_version(dfd, i);
		if (v < 0 || (i > 0 && v != seen)) {
			seen = v < 0 ? v : -1;
			break;
		}
		seen = v;
	}
	close(dfd);
	return seen;
}

long th_read_number(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		(void)!read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	return atol(buf);
}

void th_kill_writer(const char *path, unsigned flags, bool name)
{
	pid_t pid = fork();
	ASSERT_OK(pid);
	if (pid == 0) {
		aw_options o = { .flags = flags };
		aw_file *f;
		if (aw_file_begin(&f, path, &o, NULL) < 0)
			_exit(1);
		(void)aw_file_write(f, "partial", 7, NULL);
		if (name && !aw_file_temp_name(f, NULL))
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	int status;
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

int th_setxattr(const char *path, const char *name, const void *value, size_t size)
{
#ifdef __linux__
	return setxattr(path, name, value, size, 0);
#else
	(void)path; (void)name; (void)value; (void)size;
	errno = ENOTSUP;
	return -1;
#endif
}

long th_getxattr(const char *path, const char *name, void *value, size_t size)
{
#ifdef __linux__
	return (long)getxattr(path, name, value, size);
#else
	(void)path; (void)name; (void)value; (void)size;
	errno = ENOTSUP;
	return -1;
#endif
}

const char *th_errmsg(const char *prefix, int err)
{
	static char msg[4096];
	snprintf(msg, sizeof msg, "%s: %s", prefix, strerror(err));
	return msg;
}

unsigned char *th_pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

/* The open descriptors: /proc/self/fd where there is one, else (macOS,
 * the BSDs without fdescfs) each number up to the limit probed. */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		long max = sysconf(_SC_OPEN_MAX);
		int n = 0;
		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = 0; fd < max; fd++)
			if (fcntl(fd, F_GETFD) >= 0)
				n++;
		return n;
	}
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;  /* opendir's own */
}

static void remove_tree(const char *path)
{
	char cmd[8300];
	int n = snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'",
	                 path, path);
	if (n < 0 || (size_t)n >= sizeof cmd || system(cmd) != 0)
		fprintf(stderr, "    could not remove %s\n", path);
}

/* Runs one test in a child; returns TH_PASS, TH_FAIL or TH_SKIP. */
static int run_one(struct th_test *t, const char *base)
{
	char dir[4096];
	int n = snprintf(dir, sizeof dir, "%s/%s", base, t->name);
	if (n < 0 || (size_t)n >= sizeof dir) {
		fprintf(stderr, "    test directory name too long\n");
		return TH_FAIL;
	}
	if (mkdir(dir, 0755) < 0) {
		fprintf(stderr, "    mkdir %s: %s\n", dir, strerror(errno));
		return TH_FAIL;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(dir) < 0)
			th_fail(__FILE__, __LINE__, "chdir: %s", strerror(errno));
		alarm(TH_TIMEOUT * th_timeout_scale());
		int before = count_fds();
		t->fn();
		int after = count_fds();
		if (before != after)
			th_fail(t->file, 0, "descriptor leak: %d open before, %d after", before, after);
		/* exit(), not _exit(): LeakSanitizer and valgrind judge the
		 * test's process at its exit and turn leaks and memory errors
		 * into a failing status. */
		exit(TH_PASS);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	remove_tree(dir);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(status),
		        WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
		return TH_FAIL;
	}
	return WEXITSTATUS(status) == TH_SKIP ? TH_SKIP :
	       WEXITSTATUS(status) == 0 ? TH_PASS : TH_FAIL;
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char base[4096];
	snprintf(base, sizeof base, "%s/aw-unit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	/* The tests set their own umask where it matters; start known. */
	umask(022);
	/* AW_UNIT_SHARD=K/N runs every N-th test from the K-th (0-based), so
	 * that tests/run-check.sh can run the suite in parallel lanes. */
	unsigned shard = 0, shards = 1, index = 0;
	const char *spec = getenv("AW_UNIT_SHARD");
	if (spec && *spec && (sscanf(spec, "%u/%u", &shard, &shards) != 2 || shards == 0 || shard >= shards)) {
		fprintf(stderr, "AW_UNIT_SHARD=%s: expected K/N with K < N\n", spec);
		return 1;
	}
	int passed = 0, failed = 0, skipped = 0;
	for (struct th_test *t = tests; t; t = t->next) {
		if (index++ % shards != shard)
			continue;
		int want = 0, named = 0;
		const char *excluded = NULL;
		for (int i = 1; i < argc; i++) {
			if (argv[i][0] == '-' && strstr(t->name, argv[i] + 1))
				excluded = argv[i];
			else if (argv[i][0] != '-')
				want |= (named = 1, strstr(t->name, argv[i]) != NULL);
		}
		if (named && !want)
			continue;
		if (excluded) {
			printf("skip %s (excluded: %s)\n", t->name, excluded);
			skipped++;
			continue;
		}
		int r = run_one(t, base);
		const char *word = r == TH_PASS ? "ok  " : r == TH_SKIP ? "skip" : "FAIL";
		printf("%s %s\n", word, t->name);
		fflush(stdout);
		if (r == TH_PASS)
			passed++;
		else if (r == TH_SKIP)
			skipped++;
		else
			failed++;
	}
	rmdir(base);
	printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}
