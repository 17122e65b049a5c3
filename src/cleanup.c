/* SPDX-License-Identifier: MIT */
/*
 * cleanup.c - the opt-in registry of in-flight named temporary files,
 * removed on exit and on terminating signals (aw_cleanup_install()).
 *
 * This is the library's only global mutable state, and it exists only
 * for processes that ask for it.  There is no fixed limit: a batch may
 * have any number of temporary files in flight.
 *
 * Why a signal handler may read it at any moment, in any thread:
 *
 *  - The registry is a singly linked list of chunks of slots.  A chunk is
 *    allocated (calloc) by a registrant that found no free slot, filled
 *    completely, and only then published by an atomic compare-and-swap of
 *    the list head; its `next` and `base` never change afterwards, and no
 *    chunk is ever unlinked or freed.  So any pointer the handler loads
 *    from the head, or from a published chunk, points at a complete chunk
 *    that stays valid: the walk cannot meet freed or half-built memory,
 *    and needs no lock (a handler that interrupted a lock holder would
 *    deadlock).  Memory is bounded by the most files ever in flight at
 *    once, rounded up to a chunk.
 *  - Each slot goes FREE -> FILLING (claimed by compare-and-swap, so one
 *    registrant owns it) -> READY (stored after its fields are written)
 *    -> FREE again on unregister.  The handler touches only READY slots,
 *    and claims each by compare-and-swap READY -> REMOVING before reading
 *    its name, so a slot being reused by another thread is never read half
 *    written; a slot found REMOVING by unregister is left so (the process
 *    is dying or exiting).
 *  - The handler calls only async-signal-safe functions (unlinkat, getpid,
 *    sigaction, raise) and lock-free atomics (checked below); calloc is
 *    called by registrants only, never in the handler.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if ATOMIC_INT_LOCK_FREE != 2 || ATOMIC_POINTER_LOCK_FREE != 2
#error "the cleanup registry needs lock-free atomics (async-signal safety)"
#endif

#define AW__CHUNK_SLOTS 64

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_REMOVING };

struct slot {
	atomic_int state;
	pid_t pid;      /* a forked child must not remove its parent's files */
	int dirfd;
	char name[NAME_MAX + 1];
};

struct chunk {
	struct chunk *next;   /* older chunk; fixed before publication */
	int base;             /* handle of slots[0] */
	struct slot slots[AW__CHUNK_SLOTS];
};

static _Atomic(struct chunk *) chunks;
static atomic_int next_base;
static atomic_int installed;

static const int signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE };

static void fill(struct slot *s, int dirfd, const char *name)
{
	s->pid = getpid();
	s->dirfd = dirfd;
	strcpy(s->name, name);
	atomic_store(&s->state, SLOT_READY);
}

int aw__cleanup_register(int dirfd, const char *name)
{
	if (!atomic_load(&installed))
		return -1;
	for (struct chunk *c = atomic_load(&chunks); c; c = c->next) {
		for (int i = 0; i < AW__CHUNK_SLOTS; i++) {
			int expected = SLOT_FREE;
			if (!atomic_compare_exchange_strong(&c->slots[i].state,
			                                    &expected, SLOT_FILLING))
				continue;
			fill(&c->slots[i], dirfd, name);
			return c->base + i;
		}
	}
	/* All slots taken: a new chunk, its first slot ours before anyone
	 * can see it. */
	struct chunk *c = calloc(1, sizeof *c);
	if (!c) {
		/* This file goes unregistered, and a later aw_dir_sweep() is
		 * what removes it if the process dies. */
		return -1;
	}
	for (int i = 0; i < AW__CHUNK_SLOTS; i++)
		atomic_init(&c->slots[i].state, SLOT_FREE);
	atomic_init(&c->slots[0].state, SLOT_FILLING);
	fill(&c->slots[0], dirfd, name);
	c->base = atomic_fetch_add(&next_base, AW__CHUNK_SLOTS);
	c->next = atomic_load(&chunks);
	while (!atomic_compare_exchange_weak(&chunks, &c->next, c))
		;
	return c->base;
}

void aw__cleanup_unregister(int handle)
{
	if (handle < 0)
		return;
	for (struct chunk *c = atomic_load(&chunks); c; c = c->next) {
		if (handle < c->base || handle >= c->base + AW__CHUNK_SLOTS)
			continue;
		int expected = SLOT_READY;
		atomic_compare_exchange_strong(&c->slots[handle - c->base].state,
		                               &expected, SLOT_FREE);
		return;
	}
}

static void remove_all(void)
{
	pid_t self = getpid();
	for (struct chunk *c = atomic_load(&chunks); c; c = c->next) {
		for (int i = 0; i < AW__CHUNK_SLOTS; i++) {
			struct slot *s = &c->slots[i];
			int expected = SLOT_READY;
			if (!atomic_compare_exchange_strong(&s->state, &expected,
			                                    SLOT_REMOVING))
				continue;
			/* Plain unlinkat: the seam is for the library's own
			 * steps. */
			if (s->pid == self)
				unlinkat(s->dirfd, s->name, 0);
			else
				atomic_store(&s->state, SLOT_READY);
		}
	}
}

static void on_signal(int sig)
{
	int saved = errno;
	remove_all();
	/* Then die of the signal as the process would have. */
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(sig, &dfl, NULL);
	raise(sig);
	errno = saved;
}

int aw_cleanup_install(void)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&installed, &expected, 1))
		return 0;
	if (atexit(remove_all) != 0) {
		atomic_store(&installed, 0);
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		struct sigaction old, sa;
		if (sigaction(signals[i], NULL, &old) < 0)
			return -1;
		/* Only signals that would kill the process: an ignored
		 * signal or one the program handles itself does not end it,
		 * and its writers must keep their files. */
		if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
			continue;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		/* One handler at a time: a second signal arriving during
		 * the removal waits instead of ending the process halfway
		 * through the list. */
		sigemptyset(&sa.sa_mask);
		for (size_t j = 0; j < sizeof signals / sizeof signals[0]; j++)
			sigaddset(&sa.sa_mask, signals[j]);
		if (sigaction(signals[i], &sa, NULL) < 0)
			return -1;
	}
	return 0;
}
