/*
 * cleanup.c - the opt-in registry of in-flight named temporary files,
 * removed on exit and on terminating signals (aw_cleanup_install()).
 *
 * This is the library's only global mutable state, and it exists only
 * for processes that ask for it.  A signal handler may run at any moment,
 * in any thread, so the registry is a fixed array of slots claimed with
 * atomic compare-and-swap; the handler touches only slots marked complete
 * and calls only async-signal-safe functions (unlinkat, getpid, sigaction,
 * raise).
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AW__SLOTS 256

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY };

struct slot {
	atomic_int state;
	pid_t pid;      /* a forked child must not remove its parent's files */
	int dirfd;
	char name[NAME_MAX + 1];
};

static struct slot slots[AW__SLOTS];
static atomic_int installed;

static const int signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE };

int aw__cleanup_register(int dirfd, const char *name)
{
	if (!atomic_load(&installed))
		return -1;
	for (int i = 0; i < AW__SLOTS; i++) {
		int expected = SLOT_FREE;
		if (!atomic_compare_exchange_strong(&slots[i].state, &expected,
		                                    SLOT_FILLING))
			continue;
		slots[i].pid = getpid();
		slots[i].dirfd = dirfd;
		strcpy(slots[i].name, name);
		atomic_store(&slots[i].state, SLOT_READY);
		return i;
	}
	/* Full: this file goes unregistered, and a later aw_sweep() is
	 * what removes it if the process dies. */
	return -1;
}

void aw__cleanup_unregister(int slot)
{
	if (slot >= 0 && slot < AW__SLOTS)
		atomic_store(&slots[slot].state, SLOT_FREE);
}

static void remove_all(void)
{
	pid_t self = getpid();
	for (int i = 0; i < AW__SLOTS; i++) {
		if (atomic_load(&slots[i].state) != SLOT_READY ||
		    slots[i].pid != self)
			continue;
		/* Plain unlinkat: the seam is for the library's own steps. */
		unlinkat(slots[i].dirfd, slots[i].name, 0);
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
		sigemptyset(&sa.sa_mask);
		if (sigaction(signals[i], &sa, NULL) < 0)
			return -1;
	}
	return 0;
}
