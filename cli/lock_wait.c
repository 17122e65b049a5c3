/* SPDX-License-Identifier: MIT */
/*
 * lock_wait.c - waiting for a directory lock where the user can see it,
 * for as long as --wait allows.
 *
 * The library's wait for a directory lock ends with EINTR at
 * AW_STEP_LOCK, having changed nothing, when a caught signal interrupts
 * it (a handler installed without SA_RESTART).  So while a command makes
 * a call that may wait, a SIGALRM handler without SA_RESTART is installed
 * and a timer ticks every second (sooner, for a --wait shorter than
 * that): the first tick that finds the call waiting makes it return, the
 * command says once that it is waiting, and calls again, until --wait
 * has passed.  An interval timer, not a single alarm: a tick that comes
 * just before the call starts its wait is retried away inside the
 * library, and the next one must still come.  Every other step of the
 * library retries EINTR, so ticks that come after the lock is taken do
 * no harm; the timer is stopped as soon as the call returns.
 */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

double cli_lock_wait = -1;

int cli_parse_wait(const char *cmd, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	/* Seconds, fractions allowed (as flock -w); no sign, no "inf". */
	if (errno || end == s || *end || !(s[0] >= '0' && s[0] <= '9') ||
	    !(v >= 0 && v <= 1e9))
		return cli_usage_error("%s%sinvalid --wait '%s': give seconds, such as 10 or 0.5",
		                       cmd ? cmd : "", cmd ? ": " : "", s);
	cli_lock_wait = v;
	return 0;
}

static void on_tick(int sig)
{
	(void)sig;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The next tick in secs (at least 10 ms), then one every second. */
static void set_timer(double secs)
{
	if (secs < 0.01)
		secs = 0.01;
	struct itimerval it;
	it.it_interval.tv_sec = 1;
	it.it_interval.tv_usec = 0;
	it.it_value.tv_sec = (time_t)secs;
	it.it_value.tv_usec = (suseconds_t)((secs - (double)(time_t)secs) * 1e6);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void stop_timer(struct cli_waiter *w)
{
	if (!w->active)
		return;
	w->active = false;
	struct itimerval off;
	memset(&off, 0, sizeof off);
	if (setitimer(ITIMER_REAL, &off, NULL) == 0) {
		/* A tick that was pending has been taken by the handler as
		 * setitimer() returned; none comes after.  Programs started
		 * later (the editor, --check) get SIGALRM as we got it. */
		sigaction(SIGALRM, &w->old_alarm, NULL);
		return;
	}
	/* Still ticking: ticks must neither interrupt what follows nor
	 * kill us. */
	signal(SIGALRM, SIG_IGN);
}

void cli_wait_start(struct cli_waiter *w, const char *path, bool follow,
                    bool locks)
{
	memset(w, 0, sizeof *w);
	w->path = path;
	w->follow = follow;
	if (!locks)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: the tick must end the wait */
	if (sigaction(SIGALRM, &sa, &w->old_alarm) < 0)
		return;   /* no tick: the call waits as long as it must */
	w->active = true;
	w->start = now();
	set_timer(cli_lock_wait >= 0 && cli_lock_wait < 1 ? cli_lock_wait : 1);
}

/* The directory whose lock the call waits for, for the messages
 * (malloc'd, or NULL). */
static char *lock_dir(const struct cli_waiter *w)
{
	char *resolved = w->follow ? realpath(w->path, NULL) : NULL;
	char *copy = strdup(resolved ? resolved : w->path);
	free(resolved);
	if (!copy)
		return NULL;
	char *dir = strdup(dirname(copy));
	free(copy);
	return dir;
}

bool cli_wait_again(struct cli_waiter *w, int result, const aw_error *e)
{
	if (!w->active || result == 0 || e->step != AW_STEP_LOCK ||
	    e->err != EINTR) {
		stop_timer(w);
		return false;
	}
	double waited = now() - w->start;
	if (cli_lock_wait >= 0 && waited + 0.005 >= cli_lock_wait) {
		stop_timer(w);
		char *dir = lock_dir(w);
		cli_warn("timed out after %g s waiting for the lock on %s",
		         cli_lock_wait, dir ? dir : w->path);
		free(dir);
		w->timed_out = true;
		return false;
	}
	if (!w->said) {
		char *dir = lock_dir(w);
		cli_warn("waiting for the lock on %s (held by another writer) ...",
		         dir ? dir : w->path);
		free(dir);
		w->said = true;
	}
	if (cli_lock_wait >= 0 && cli_lock_wait - waited < 1)
		set_timer(cli_lock_wait - waited);
	return true;
}
