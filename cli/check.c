/* SPDX-License-Identifier: MIT */
/*
 * check.c - running a validator (--check CMD) on the new contents before
 * they are committed, e.g. "nginx -t -c {}" or "visudo -cf {}".
 *
 * The path never becomes part of the shell's program text: CMD runs as
 * sh -c CMD' sh PATH, and each {} in CMD is replaced by a reference to
 * the positional parameter $1, quoted as the place it stands needs
 * ("${1}" outside quotes, ${1} inside double quotes, '"${1}"' inside
 * single quotes), so a name holding $(...), backticks, quotes, spaces or
 * newlines is only ever data.  The shell does not parse the result of a
 * parameter expansion again, whatever quoting mistakes CMD makes.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct text {
	char *s;
	size_t len, cap;
};

static int append(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t ncap = (t->len + n + 1) * 2;
		char *ns = realloc(t->s, ncap);
		if (!ns)
			return -1;
		t->s = ns;
		t->cap = ncap;
	}
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
	return 0;
}

static int append_str(struct text *t, const char *s)
{
	return append(t, s, strlen(s));
}

/*
 * Where the scanner of CMD is: the quoting in force, inside which command
 * substitution ($(...) or `...`, which start a new quoting context), and
 * for $(...) how many plain parentheses are open in it.
 */
enum quote { Q_NONE, Q_SINGLE, Q_DOUBLE };
enum frame_kind { F_TOP, F_PAREN, F_BACKTICK };
struct frame {
	enum quote q;
	enum frame_kind kind;
	int depth;
};
#define MAX_FRAMES 64

char *cli_substitute(const char *cmd, const char *path)
{
	(void)path;  /* passed as $1, never in the text */
	struct text t = { NULL, 0, 0 };
	struct frame stack[MAX_FRAMES] = { { Q_NONE, F_TOP, 0 } };
	int top = 0;
	bool substituted = false;
	if (append(&t, "", 0) < 0)
		return NULL;
	for (const char *p = cmd; *p; p++) {
		struct frame *fr = &stack[top];
		int r = 0;
		if (p[0] == '{' && p[1] == '}') {
			r = append_str(&t, fr->q == Q_NONE ? "\"${1}\""
			                 : fr->q == Q_DOUBLE ? "${1}"
			                 : "'\"${1}\"'");
			substituted = true;
			p++;
		} else if (fr->q == Q_SINGLE) {
			if (*p == '\'')
				fr->q = Q_NONE;
			r = append(&t, p, 1);
		} else if (*p == '\\' && p[1]) {
			r = append(&t, p, 2);
			p++;
		} else if (*p == '$' && p[1] == '(') {
			if (top + 1 < MAX_FRAMES)
				stack[++top] = (struct frame){ Q_NONE, F_PAREN, 0 };
			r = append(&t, p, 2);
			p++;
		} else if (*p == '`') {
			if (fr->q == Q_NONE && fr->kind == F_BACKTICK)
				top--;
			else if (top + 1 < MAX_FRAMES)
				stack[++top] = (struct frame){ Q_NONE, F_BACKTICK, 0 };
			r = append(&t, p, 1);
		} else if (fr->q == Q_DOUBLE) {
			if (*p == '"')
				fr->q = Q_NONE;
			r = append(&t, p, 1);
		} else {
			if (*p == '\'')
				fr->q = Q_SINGLE;
			else if (*p == '"')
				fr->q = Q_DOUBLE;
			else if (*p == '(' && fr->kind == F_PAREN)
				fr->depth++;
			else if (*p == ')' && fr->kind == F_PAREN) {
				if (fr->depth > 0)
					fr->depth--;
				else
					top--;
			}
			r = append(&t, p, 1);
		}
		if (r < 0)
			goto fail;
	}
	if (!substituted && append_str(&t, " \"${1}\"") < 0)
		goto fail;
	return t.s;
fail:
	free(t.s);
	return NULL;
}

/*
 * What the check says, kept only in part: its first and its last
 * KEEP bytes (a compiler's first error, a validator's summary line).
 */
#define KEEP (32 * 1024)
struct said {
	char head[KEEP];
	char tail[KEEP];   /* a ring: the last KEEP bytes */
	size_t head_len;
	unsigned long long total;
};

static void said_add(struct said *s, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++, s->total++) {
		if (s->head_len < KEEP)
			s->head[s->head_len++] = buf[i];
		else
			s->tail[(s->total - KEEP) % KEEP] = buf[i];
	}
}

static void said_print(const struct said *s)
{
	fwrite(s->head, 1, s->head_len, stderr);
	if (s->total <= KEEP)
		return;
	unsigned long long in_tail = s->total - KEEP;
	if (in_tail > KEEP) {
		fprintf(stderr, "\n%s: [... %llu bytes of the check's output left out ...]\n",
		        cli_prog, in_tail - KEEP);
		size_t start = (size_t)((s->total - KEEP) % KEEP);
		fwrite(s->tail + start, 1, KEEP - start, stderr);
		fwrite(s->tail, 1, start, stderr);
	} else {
		fwrite(s->tail, 1, (size_t)in_tail, stderr);
	}
}

/* Reads what is there now from fd (non-blocking) into s, up to about
 * 1 MiB: 1 at its end, 0 if it would block or the 1 MiB is read, -1 on
 * error. */
static int drain(int fd, struct said *s)
{
	char buf[4096];
	for (size_t got = 0; got < (1 << 20);) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			said_add(s, buf, (size_t)n);
			got += (size_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	}
	return 0;
}

static int pidfd_for(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/*
 * Collects the check's output from fd until the check process itself
 * has ended (not until the pipe's end: a process the check left in the
 * background may hold the pipe open for a long time), and reaps it.
 * 0 with *status, or -1 with errno set.
 */
static int collect(pid_t pid, int fd, struct said *s, int *status)
{
	int pidfd = pidfd_for(pid);
	bool eof = false;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = eof ? -1 : fd, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		/* Without a pidfd, look at the process every 20 ms. */
		int n = poll(p, 2, eof ? -1 : pidfd >= 0 ? -1 : 20);
		if (n < 0 && errno != EINTR)
			break;
		if (!eof && drain(fd, s) != 0)
			eof = true;
		if (eof && pidfd < 0)
			break;  /* it is ending: a blocking wait */
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid) {
			drain(fd, s);  /* what it wrote before it ended */
			if (pidfd >= 0)
				close(pidfd);
			return 0;
		}
		if (w < 0 && errno != EINTR)
			break;
	}
	if (pidfd >= 0)
		close(pidfd);
	return cli_wait(pid, status);
}

/* Reaps the check with pid (its output on pipe fd, or -1: straight to
 * standard error) and, when it failed, prints the output kept.  0 with
 * *status, or -1 with errno set. */
static int reap_check(pid_t pid, int fd, int *status)
{
	if (fd < 0)
		return cli_wait(pid, status);
	struct said *said = calloc(1, sizeof *said);
	static struct said fallback;  /* if calloc fails */
	struct said *s = said ? said : &fallback;
	int r = collect(pid, fd, s, status);
	if (r == 0 && !cli_exited_ok(*status))
		said_print(s);
	free(said);
	return r;
}

int cli_run_check(const char *cmd, const char *path, bool verbose)
{
	char *line = cli_substitute(cmd, path);
	if (!line) {
		cli_warn("check: out of memory");
		return -1;
	}
	if (verbose)
		cli_warn("checking the new contents (%s): %s", path, cmd);
	/* With --verbose its output goes straight to standard error, as it
	 * comes; else to us, to be shown only if the check fails. */
	int out[2] = { -1, -1 };
	struct cli_child child = { .out = STDERR_FILENO, .err = -1, .quiet = true };
	if (!verbose) {
		if (cli_pipe_cloexec(out) < 0) {
			cli_warn("check: pipe: %s", strerror(errno));
			free(line);
			return -1;
		}
		child.out = child.err = out[1];
	}
	char *argv[] = { (char *)"sh", (char *)"-c", line, (char *)"sh", (char *)path, NULL };
	pid_t pid = cli_spawn("/bin/sh", argv, &child);
	int spawn_err = errno;
	if (out[1] >= 0)
		close(out[1]);
	int status, r = -1;
	if (pid < 0)
		cli_warn("check: fork: %s", strerror(spawn_err));
	else if ((r = reap_check(pid, out[0], &status)) < 0)
		cli_warn("waiting for the check (%s): %s", cmd, strerror(errno));
	if (out[0] >= 0)
		close(out[0]);
	free(line);
	if (r < 0)
		return -1;
	if (cli_exited_ok(status))
		return 0;
	if (WIFEXITED(status))
		cli_warn("check failed (exit status %d): %s", WEXITSTATUS(status), cmd);
	else
		cli_warn("check failed (killed by signal %d): %s",
		         WIFSIGNALED(status) ? WTERMSIG(status) : 0, cmd);
	return 1;
}
