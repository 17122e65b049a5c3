/* SPDX-License-Identifier: MIT */
/*
 * cmd_run.c - "atomicwrite run [OPTION]... -- CMD [ARG]...": run CMD with
 * libatomicwrite-preload.so in LD_PRELOAD, so that the whole-file writes
 * it and its children make become atomic replacements
 * (docs/run-design.md).  Here: the options into the environment the
 * preload reads, the state directory its records live in (removed when
 * CMD ends), the warnings for programs the preload cannot reach.
 */
#include "cli.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AW_PRELOADDIR
#define AW_PRELOADDIR "/usr/local/lib/atomicwrite"
#endif
#define PRELOAD_NAME "libatomicwrite-preload.so"
/* run's own failure, told apart from CMD's statuses (as env(1) does). */
#define EXIT_RUN_FAILED 125

static void usage(void)
{
	printf("Usage: %s run [OPTION]... -- COMMAND [ARG]...\n"
	       "Run COMMAND so that every file it (or a program it starts) opens for\n"
	       "writing with truncation -- shell '>' redirections, fopen(\"w\"), cp, dd --\n"
	       "is written to a temporary file and replaced atomically at its last close:\n"
	       "a crash or kill leaves the old file whole.  Appends, devices, FIFOs and\n"
	       "/proc, /sys, /dev are left alone.  Needs a dynamically linked COMMAND\n"
	       "(LD_PRELOAD); a static or set-id one is warned about and runs unchanged.\n"
	       "\n"
	       "  -o, --only=GLOB         replace only files whose absolute path matches\n"
	       "                          GLOB (repeatable; '*' crosses '/'; a GLOB not\n"
	       "                          starting with '/' or '*' is taken from the\n"
	       "                          current directory)\n"
	       "  -x, --except=GLOB       never replace files matching GLOB (repeatable)\n"
	       "      --durability=LEVEL  full (default), file or none, as for FILE\n"
	       "  -v, --verbose           log each replacement, commit and pass-through\n"
	       "      --log=FILE          log to FILE (appended) instead of standard error\n"
	       "  -h, --help              show this help and exit\n"
	       "\n"
	       "Exit status: COMMAND's (128+N if signal N killed it); 125 if run itself\n"
	       "failed (no preload library, no state directory), 126/127 if COMMAND\n"
	       "cannot be executed or found, 2 usage error.  A commit that fails at a\n"
	       "close() is that close()'s error; at exit it is logged.\n",
	       cli_prog);
}

/* Appends s to the newline-separated list *list (malloc'd). */
static int add_glob(char **list, const char *s)
{
	char cwd[PATH_MAX];
	const char *pre = "";
	if (s[0] != '/' && s[0] != '*') {
		if (!getcwd(cwd, sizeof(cwd)))
			return -1;
		pre = cwd;
	}
	size_t n = (*list ? strlen(*list) + 1 : 0) + strlen(pre) + 1 + strlen(s) + 1;
	char *v = malloc(n);
	if (!v)
		return -1;
	snprintf(v, n, "%s%s%s%s%s", *list ? *list : "", *list ? "\n" : "", pre,
	         *pre ? "/" : "", s);
	free(*list);
	*list = v;
	return 0;
}

/* The preload beside this program (the build tree), in ../lib/atomicwrite
 * from it (an installed tree, wherever its prefix went), else in
 * PRELOADDIR. */
static int find_preload(char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			if ((size_t)snprintf(buf, size, "%s/%s", exe, PRELOAD_NAME) < size &&
			    access(buf, R_OK) == 0)
				return 0;
			if ((size_t)snprintf(buf, size, "%s/../lib/atomicwrite/%s", exe, PRELOAD_NAME) < size &&
			    access(buf, R_OK) == 0)
				return 0;
		}
	}
	snprintf(buf, size, "%s/%s", AW_PRELOADDIR, PRELOAD_NAME);
	return access(buf, R_OK) == 0 ? 0 : -1;
}

/* CMD's path as execvp() would find it, into buf; -1 if not found. */
static int which(const char *cmd, char *buf, size_t size)
{
	if (strchr(cmd, '/')) {
		snprintf(buf, size, "%s", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	for (const char *p = path ? path : "/usr/bin:/bin"; ; p++) {
		const char *end = p + strcspn(p, ":");   /* strchrnul is GNU's */
		int len = (int)(end - p);
		snprintf(buf, size, "%.*s%s%s", len, p, len ? "/" : "", cmd);
		if (access(buf, X_OK) == 0)
			return 0;
		if (!*end)
			return -1;
		p = end;
	}
}

/* Whether the ELF file fd has no program interpreter (statically
 * linked); false for anything else (a script, unreadable). */
static bool static_elf(int fd)
{
	unsigned char id[EI_NIDENT];
	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		return false;
	bool is64 = id[EI_CLASS] == ELFCLASS64;
	Elf64_Ehdr h64;
	Elf32_Ehdr h32;
	off_t phoff;
	unsigned phnum, phsize;
	if (is64) {
		if (pread(fd, &h64, sizeof(h64), 0) != (ssize_t)sizeof(h64))
			return false;
		phoff = (off_t)h64.e_phoff, phnum = h64.e_phnum, phsize = h64.e_phentsize;
	} else {
		if (pread(fd, &h32, sizeof(h32), 0) != (ssize_t)sizeof(h32))
			return false;
		phoff = (off_t)h32.e_phoff, phnum = h32.e_phnum, phsize = h32.e_phentsize;
	}
	for (unsigned i = 0; i < phnum; i++) {
		Elf64_Phdr p64;
		Elf32_Phdr p32;
		uint32_t type;
		if (is64 ? pread(fd, &p64, sizeof(p64), phoff + (off_t)i * phsize) != (ssize_t)sizeof(p64)
		         : pread(fd, &p32, sizeof(p32), phoff + (off_t)i * phsize) != (ssize_t)sizeof(p32))
			return false;
		type = is64 ? p64.p_type : p32.p_type;
		if (type == PT_INTERP)
			return false;
	}
	return true;
}

/* The warnings for a CMD the preload cannot reach. */
static void check_reachable(const char *cmd)
{
	char path[PATH_MAX];
	struct stat st;
	if (which(cmd, path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return;     /* the exec reports it */
	if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
	    ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
		cli_warn("run: %s is set-user-ID or set-group-ID: the dynamic linker ignores "
		         "LD_PRELOAD for it, so its writes are not made atomic", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (static_elf(fd))
			cli_warn("run: %s is statically linked: LD_PRELOAD cannot reach it, so "
			         "its writes are not made atomic", path);
		close(fd);
	}
}

/* A fresh state directory, 0700, under $XDG_RUNTIME_DIR, $TMPDIR,
 * /dev/shm or /tmp, the first writable: a record per replaced file is made
 * and removed there, cheap on a tmpfs, a journal entry on a disk. */
static char *make_state(void)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"), "/dev/shm", "/tmp" };
	const char *base = "/tmp";
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (bases[i] && bases[i][0] == '/' && access(bases[i], W_OK | X_OK) == 0) {
			base = bases[i];
			break;
		}
	}
	size_t n = strlen(base) + sizeof("/atomicwrite-run.XXXXXX");
	char *dir = malloc(n);
	if (!dir)
		return NULL;
	snprintf(dir, n, "%s/atomicwrite-run.XXXXXX", base);
	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Removes the state directory and the records killed writers left. */
static void remove_state(const char *dir)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dp = d >= 0 ? fdopendir(d) : NULL;
	struct dirent *de;
	if (dp) {
		while ((de = readdir(dp)))
			if (de->d_name[0] != '.')
				unlinkat(d, de->d_name, 0);
		closedir(dp);
	}
	rmdir(dir);
}

static pid_t child;

/* In the child: the signals run ignores while it waits are CMD's again. */
static void child_signals(void *ctx)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
}

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

struct run_opts {
	char *only, *except;
	const char *durability, *log;
	bool verbose;
};

static int parse(int argc, char **argv, struct run_opts *o)
{
	enum { OPT_DURABILITY = 256, OPT_LOG };
	static const struct option longopts[] = {
		{ "only", required_argument, NULL, 'o' },
		{ "except", required_argument, NULL, 'x' },
		{ "durability", required_argument, NULL, OPT_DURABILITY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	aw_durability d;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+o:x:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'x':
			if (add_glob(c == 'o' ? &o->only : &o->except, optarg) < 0)
				return cli_usage_error("run: cannot use the glob '%s'", optarg);
			break;
		case OPT_DURABILITY:
			if (cli_parse_durability(optarg, &d) < 0)
				return cli_usage_error("invalid durability '%s': use full, file or none", optarg);
			o->durability = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			return cli_bad_option("run", argv, c);
		}
	}
	if (optind >= argc)
		return cli_usage_error("run: missing COMMAND");
	return -1;
}

/* LD_PRELOAD with ours appended, and the preload's variables. */
static int set_environment(const struct run_opts *o, const char *preload, const char *state)
{
	const char *old = getenv("LD_PRELOAD");
	size_t n = (old ? strlen(old) : 0) + strlen(preload) + 2;
	char *v = malloc(n), log[PATH_MAX];
	if (!v)
		return -1;
	snprintf(v, n, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", preload);
	if (o->log && o->log[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)) ||
		    (size_t)snprintf(log, sizeof(log), "%s/%s", cwd, o->log) >= sizeof(log))
			return -1;
	} else {
		snprintf(log, sizeof(log), "%s", o->log ? o->log : "");
	}
	int r = setenv("LD_PRELOAD", v, 1) | setenv("AW_RUN_STATE", state, 1) |
	        setenv("AW_RUN_DURABILITY", o->durability ? o->durability : "full", 1) |
	        setenv("AW_RUN_VERBOSE", o->verbose ? "1" : "0", 1) |
	        setenv("AW_RUN_LOG", log, 1) |
	        setenv("AW_RUN_ONLY", o->only ? o->only : "", 1) |
	        setenv("AW_RUN_EXCEPT", o->except ? o->except : "", 1);
	free(v);
	return r;
}

static int wait_status(pid_t pid)
{
	int status;
	if (cli_wait(pid, &status) < 0) {
		cli_warn("run: waiting for the command: %s", strerror(errno));
		return EXIT_RUN_FAILED;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = { 0 };
	char preload[PATH_MAX];
	int r = parse(argc, argv, &o);
	if (r >= 0)
		return r;
	char **cmd = argv + optind;
	if (find_preload(preload, sizeof(preload)) < 0) {
		cli_warn("run: %s not found beside %s nor in %s", PRELOAD_NAME, cli_prog, AW_PRELOADDIR);
		return EXIT_RUN_FAILED;
	}
	if (strpbrk(preload, " :")) {
		cli_warn("run: %s: LD_PRELOAD cannot name a path with a space or a colon", preload);
		return EXIT_RUN_FAILED;
	}
	/* Nested: the outer run's state directory serves (its records are
	 * the ones inherited descriptors have). */
	const char *outer = getenv("AW_RUN_STATE");
	struct stat st;
	char *state = outer && outer[0] == '/' && stat(outer, &st) == 0 && S_ISDIR(st.st_mode)
	              ? NULL : make_state();
	if (!state && !(outer && outer[0] == '/')) {
		cli_warn("run: cannot make a state directory: %s", strerror(errno));
		return EXIT_RUN_FAILED;
	}
	if (set_environment(&o, preload, state ? state : outer) < 0) {
		cli_warn("run: cannot set the environment: %s", strerror(errno));
		r = EXIT_RUN_FAILED;
		goto out;
	}
	check_reachable(cmd[0]);
	void (*old[4])(int) = { signal(SIGINT, SIG_IGN), signal(SIGQUIT, SIG_IGN),
	                        signal(SIGTERM, forward), signal(SIGHUP, forward) };
	struct cli_child c = { .out = -1, .err = -1, .setup = child_signals };
	child = cli_spawn(cmd[0], cmd, &c);
	r = child < 0 ? EXIT_RUN_FAILED : wait_status(child);
	signal(SIGINT, old[0]);
	signal(SIGQUIT, old[1]);
	signal(SIGTERM, old[2]);
	signal(SIGHUP, old[3]);
	child = 0;
out:
	if (state)
		remove_state(state);
	free(state);
	free(o.only);
	free(o.except);
	return r;
}
