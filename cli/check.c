/*
 * check.c - running a validator (--check CMD) on the new contents before
 * they are committed, e.g. "nginx -t -c {}" or "visudo -cf {}".
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* s in single quotes for /bin/sh: a ' inside becomes '\'' */
static int append_quoted(struct text *t, const char *s)
{
	if (append(t, "'", 1) < 0)
		return -1;
	for (const char *p = s; *p; p++)
		if (append(t, *p == '\'' ? "'\\''" : p, *p == '\'' ? 4 : 1) < 0)
			return -1;
	return append(t, "'", 1);
}

char *cli_substitute(const char *cmd, const char *path)
{
	struct text t = { NULL, 0, 0 };
	bool substituted = false;
	if (append(&t, "", 0) < 0)
		return NULL;
	for (const char *p = cmd; *p; p++) {
		int r;
		if (p[0] == '{' && p[1] == '}') {
			r = append_quoted(&t, path);
			substituted = true;
			p++;
		} else {
			r = append(&t, p, 1);
		}
		if (r < 0)
			goto fail;
	}
	if (!substituted && (append(&t, " ", 1) < 0 || append_quoted(&t, path) < 0))
		goto fail;
	return t.s;
fail:
	free(t.s);
	return NULL;
}

int cli_run_check(const char *cmd, const char *path, bool verbose)
{
	char *line = cli_substitute(cmd, path);
	if (!line) {
		cli_warn("check: out of memory");
		return -1;
	}
	if (verbose)
		cli_warn("checking the new contents: %s", line);
	int out[2];
	if (pipe(out) < 0) {
		cli_warn("check: pipe: %s", strerror(errno));
		free(line);
		return -1;
	}
	fflush(NULL);
	pid_t pid = cli_fork();
	if (pid < 0) {
		cli_warn("check: fork: %s", strerror(errno));
		close(out[0]);
		close(out[1]);
		free(line);
		return -1;
	}
	if (pid == 0) {
		close(out[0]);
		dup2(out[1], STDOUT_FILENO);
		dup2(out[1], STDERR_FILENO);
		close(out[1]);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* Collect what it says; it is shown only if the check fails (or
	 * with --verbose), as a compiler's errors would be. */
	char *said = NULL;
	size_t len = 0, cap = 0;
	char buf[4096];
	for (;;) {
		ssize_t n = read(out[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len + (size_t)n > cap) {
			size_t ncap = (len + (size_t)n) * 2;
			char *ns = realloc(said, ncap);
			if (!ns)
				break;
			said = ns;
			cap = ncap;
		}
		memcpy(said + len, buf, (size_t)n);
		len += (size_t)n;
	}
	close(out[0]);
	int status;
	if (cli_wait(pid, &status) < 0) {
		cli_warn("waiting for the check (%s): %s", line, strerror(errno));
		free(said);
		return -1;
	}
	bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!passed || verbose) {
		if (len)
			fwrite(said, 1, len, stderr);
		if (!passed) {
			if (WIFEXITED(status))
				cli_warn("check failed (exit status %d): %s",
				         WEXITSTATUS(status), line);
			else
				cli_warn("check failed (killed by signal %d): %s",
				         WIFSIGNALED(status) ? WTERMSIG(status) : 0, line);
		}
	}
	free(said);
	free(line);
	return passed ? 0 : 1;
}
