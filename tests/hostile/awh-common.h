/* SPDX-License-Identifier: MIT */
/*
 * awh-common.h - what the hostile tier's timed attackers (awh-peek,
 * awh-plant, awh-swap) share: a run of SECONDS on the monotonic clock,
 * which SIGTERM ends early (the helper still prints its count).
 *
 *     double end = awh_deadline(argv[i]);
 *     while (!awh_stop && awh_now() < end) { ... }
 */
#ifndef AWH_COMMON_H
#define AWH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdlib.h>
#include <time.h>

/* Set by SIGTERM once awh_deadline() has been called. */
static volatile sig_atomic_t awh_stop;

static inline void awh_on_term(int sig)
{
	(void)sig;
	awh_stop = 1;
}

/* The monotonic clock, in seconds. */
static inline double awh_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* When a run of seconds (the helper's SECONDS argument) started now
 * ends; from now on SIGTERM ends it early. */
static inline double awh_deadline(const char *seconds)
{
	signal(SIGTERM, awh_on_term);
	return awh_now() + atof(seconds);
}

#endif
