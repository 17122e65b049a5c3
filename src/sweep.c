/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - removing the temporary files of writers that died.
 *
 * Every writer holds an flock() on its temporary file for as long as it
 * lives; the kernel drops it when the writer dies, however it dies.  So a
 * temporary file whose lock can be taken belongs to nobody, and one whose
 * lock is held belongs to a live writer and is left alone.  A name of the
 * temporary form proves nothing by itself (an editor's swap file beside a
 * scratch copy has one): an entry is ours only if it is a regular file
 * whose inode is the one its marked name spells (tmpname.c, internal.h).
 *
 * A batch that closes some of its temporaries to stay within the
 * descriptor limit (batch.c) names them with its tag and holds, in each
 * directory, a lock file named with the same tag (marked, empty target):
 * while that lock is held the batch is alive and its temporaries are left
 * even though nobody holds their own locks.  Such a lock is linked into a
 * directory before any temporary with its tag is, and removed after the
 * last one, so a sweep that reads the directory again after seeing a
 * temporary (and finds the temporary still there afterwards) cannot miss
 * its lock: an entry that exists for the whole of a readdir() pass is
 * returned by it.
 */
#include "internal.h"
#include "sys.h"

#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

/* A batch's lock seen in the directory, and what a look at it found. */
struct seen_lock {
	char tag[AW__TAG_LEN + 1];
	char name[NAME_MAX + 1];
	int live;   /* -1 not looked at yet, 0 dead (or not a lock), 1 live */
};

struct sweep {
	int dirfd;
	dev_t dev;
	uid_t euid;
	bool dry_run;
	struct seen_lock *locks;
	size_t nlocks;
};

/* Whether the batch lock l is held by a live batch.  Anything we cannot
 * judge counts as live: leaving a file is always safe. */
static int batch_alive(const struct sweep *sw, struct seen_lock *l)
{
	if (l->live >= 0)
		return l->live;
	struct aw__tmpname_parts parts;
	aw__parse_tmpname(l->name, &parts);
	int fd = aw__openat(sw->dirfd, l->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		l->live = errno == ENOENT || errno == ELOOP ? 0 : 1;
		return l->live;
	}
	struct stat st;
	if (aw__fstat(fd, &st) < 0)
		l->live = 1;
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_ino != parts.ino)
		l->live = 0;   /* not a lock of ours: it covers nothing */
	else if (aw__flock(fd, LOCK_SH | LOCK_NB) == 0)
		l->live = 0;
	else
		l->live = 1;
	aw__close(fd);
	return l->live;
}

/* Whether a live batch's lock covers the temporary with this tag. */
static bool covered_by_batch(const struct sweep *sw, const char *tag)
{
	for (size_t i = 0; i < sw->nlocks; i++)
		if (strcmp(sw->locks[i].tag, tag) == 0 && batch_alive(sw, &sw->locks[i]))
			return true;
	return false;
}

/* Removes name if it is provably a temporary file of ours that no live
 * writer holds.  Returns 1 if removed (or, dry run, removable), 0 if
 * left, -1 on error. */
static int sweep_one(const struct sweep *sw, const char *name)
{
	struct aw__tmpname_parts parts;
	int kind = aw__parse_tmpname(name, &parts);
	if (kind == AW__TMP_NONE)
		return 0;
	struct stat st, now;
	/* A first look without opening: a FIFO or device is never opened,
	 * a file whose inode is not the one its name spells never locked. */
	if (aw__fstatat(sw->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode) || st.st_dev != sw->dev)
		return 0;
	if (kind == AW__TMP_MARKED && (uint64_t)st.st_ino != parts.ino)
		return 0;
	/* The unmarked form: only what a writer killed between creating its
	 * file and naming it leaves, an empty file of the sweeper's own. */
	if (kind == AW__TMP_UNMARKED && (st.st_size != 0 || st.st_uid != sw->euid))
		return 0;

	int fd = aw__openat(sw->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	                    O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0) {
		/* Gone already (another sweeper, or its writer committed),
		 * replaced by a symbolic link, or not ours to read: leave it. */
		if (errno == ENOENT || errno == ELOOP || errno == EACCES ||
		    errno == EPERM || errno == ENXIO || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	int result = 0;
	struct stat opened;
	if (aw__fstat(fd, &opened) < 0) {
		result = -1;
		goto out;
	}
	if (!S_ISREG(opened.st_mode) || opened.st_dev != st.st_dev ||
	    opened.st_ino != st.st_ino ||
	    (kind == AW__TMP_UNMARKED && opened.st_size != 0))
		goto out;
	if (aw__flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			result = -1;
		goto out;
	}
	/* Locked: no writer holds it.  A batch's temporaries are held by the
	 * batch's lock instead. */
	if (kind == AW__TMP_MARKED && parts.target[0] &&
	    covered_by_batch(sw, parts.tag))
		goto out;
	/* Remove it only if the name still refers to the file we hold. */
	if (aw__fstatat(sw->dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			result = -1;
		goto out;
	}
	if (now.st_dev != st.st_dev || now.st_ino != st.st_ino)
		goto out;
	if (!sw->dry_run && aw__unlinkat(sw->dirfd, name, 0) < 0) {
		if (errno != ENOENT)
			result = -1;
		goto out;
	}
	result = 1;
out:
	aw__close(fd);
	return result;
}

struct name_list {
	bool (*keep)(const char *);
	char **names;
	size_t n, cap;
};

static int add_name(int dirfd, const struct dirent *de, void *ctx)
{
	struct name_list *l = ctx;
	(void)dirfd;
	if (!l->keep(de->d_name))
		return 0;
	char **names = aw__grow(l->names, l->n, &l->cap, sizeof *names, 16);
	if (!names)
		return -1;
	l->names = names;
	if (!(l->names[l->n] = strdup(de->d_name))) {
		errno = ENOMEM;
		return -1;
	}
	l->n++;
	return 0;
}

/* The names of one readdir() pass that keep(name) accepts (malloc'd; to
 * be freed even on failure). */
static int list_names(int dirfd, bool (*keep)(const char *), char ***out,
                      size_t *n)
{
	struct name_list l = { keep, NULL, 0, 0 };
	int r = aw__dir_walk(dirfd, add_name, &l);
	*out = l.names;
	*n = l.n;
	return r;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool is_batch_lock_name(const char *name)
{
	struct aw__tmpname_parts parts;
	return aw__parse_tmpname(name, &parts) == AW__TMP_MARKED && !parts.target[0];
}

/* What a sweep did: removed entries (each told to fn), and its first
 * failure (err, on the entry failed; "." for the directory itself). */
struct sweep_report {
	aw_sweep_fn fn;
	void *ctx;
	int removed;
	int err;
	char failed[NAME_MAX + 1];
};

/* Counts one entry's outcome r (1 removed, 0 left, -1 failed: errno).
 * A failure is kept going past: one stuck file must not shield the rest;
 * the first is reported. */
static void tally(struct sweep_report *rp, const char *name, int r)
{
	if (r < 0 && !rp->err) {
		rp->err = errno ? errno : EIO;
		snprintf(rp->failed, sizeof rp->failed, "%s", name);
	}
	if (r > 0) {
		rp->removed++;
		if (rp->fn)
			rp->fn(name, rp->ctx);
	}
}

/* The batch locks among the directory's entries, read in a pass after the
 * one that saw the temporaries (see the top of this file), into sw. */
static int load_batch_locks(struct sweep *sw)
{
	char **locks;
	size_t nlocks;
	int err = 0;
	if (list_names(sw->dirfd, is_batch_lock_name, &locks, &nlocks) < 0)
		err = errno;
	if (!err && nlocks > 0) {
		sw->locks = calloc(nlocks, sizeof *sw->locks);
		if (!sw->locks)
			err = ENOMEM;
		for (size_t i = 0; sw->locks && i < nlocks; i++) {
			struct aw__tmpname_parts parts;
			aw__parse_tmpname(locks[i], &parts);
			memcpy(sw->locks[i].tag, parts.tag, sizeof parts.tag);
			snprintf(sw->locks[i].name, sizeof sw->locks[i].name, "%s", locks[i]);
			sw->locks[i].live = -1;
		}
		sw->nlocks = sw->locks ? nlocks : 0;
	}
	free_names(locks, nlocks);
	errno = err;
	return err ? -1 : 0;
}

/* The temporary files of dead writers in the directory, into rp. */
static void sweep_temps(struct sweep *sw, struct sweep_report *rp)
{
	char **names;
	size_t n;
	if (list_names(sw->dirfd, aw__is_tmpname, &names, &n) < 0) {
		tally(rp, ".", -1);
		free_names(names, n);
		return;
	}
	size_t todo = n;
	if (n > 0 && load_batch_locks(sw) < 0) {
		tally(rp, ".", -1);
		todo = 0;   /* nothing can be judged without them */
	}
	/* Temporaries first, then batch locks (whose liveness the first
	 * decide on). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < todo; i++)
			if (is_batch_lock_name(names[i]) == (pass == 1))
				tally(rp, names[i], sweep_one(sw, names[i]));
	free(sw->locks);
	sw->locks = NULL;
	sw->nlocks = 0;
	free_names(names, n);
}

/* Whether a version of link is one the link keeps: the one it points at
 * (by device and inode, however the link spells it), or among the newest
 * `keep` versions older than that (keep as the live version's publisher
 * asked).  Only complete versions of ours count (aw__list_versions()). */
static int version_kept(int dirfd, const char *link, uint64_t stamp)
{
	struct aw__version live;
	int r = aw__live_version(dirfd, link, &live);
	if (r <= 0)
		return r;
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(dirfd, link, &v, &n) < 0)
		return -1;
	bool kept = aw__version_kept(v, n, stamp, live.stamp, UINT64_MAX, live.keep);
	free(v);
	return kept;
}

/* Removes a dead publisher's half-built version: only a real directory
 * of ours that no live publisher holds (its flock can be taken) and that
 * the name still refers to.  Returns 1 if removed, 0 if left, -1. */
static int sweep_building(int dirfd, const char *name, bool dry_run)
{
	int fd = aw__openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	                    O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENOTDIR ||
		       errno == EACCES ? 0 : -1;
	int result = 0;
	struct stat st;
	if (aw__fstat(fd, &st) < 0) {
		result = -1;
		goto out;
	}
	if (!aw__is_our_dir(&st))
		goto out;
	if (aw__flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			result = -1;
		goto out;
	}
	if (dry_run)
		result = 1;
	else
		result = aw__remove_our_tree(dirfd, name, st.st_dev, st.st_ino) < 0 ? -1 : 1;
out:
	aw__close(fd);
	return result;
}

/* Removes name if it is a dead publisher's leftover.  Called with the
 * directory's lock held, so that no publisher is at work.  Returns 1 if
 * removed (or, dry run, removable), 0 if left, -1 on error.  Nothing that
 * is not a real directory (or, for temporary links, a link) of ours is
 * ever touched. */
static int sweep_publish_one(int dirfd, const char *name, bool dry_run)
{
	struct stat st;
	if (aw__fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (aw__is_tmpname(name)) {
		/* Publishers' temporary links; temporary files are
		 * sweep_one()'s, directories are never ours to guess at. */
		if (!S_ISLNK(st.st_mode) || st.st_uid != geteuid())
			return 0;
		if (dry_run)
			return 1;
		if (aw__unlinkat(dirfd, name, 0) < 0)
			return errno == ENOENT ? 0 : -1;
		return 1;
	}
	uint64_t stamp;
	unsigned keep;
	const char *link;
	if (!aw__is_our_dir(&st))
		return 0;
	if (aw__parse_building(name, &stamp, &keep, &link))
		return sweep_building(dirfd, name, dry_run);
	if (!aw__parse_version(name, &stamp, &keep, &link))
		return 0;
	int kept = version_kept(dirfd, link, stamp);
	if (kept != 0)
		return kept < 0 ? -1 : 0;
	if (dry_run)
		return 1;
	return aw__remove_our_tree(dirfd, name, st.st_dev, st.st_ino) < 0 ? -1 : 1;
}

/* Whether an entry may be a publisher's leftover (or a dead holder's
 * lock file): the entries that make the sweep take the directory's lock.
 * A directory with none is swept without it, so that sweeping a directory
 * one may only read still works and writes nothing. */
static bool publish_candidate(const struct dirent *de)
{
	if (aw__is_lock_name(de->d_name) ||
	    strncmp(de->d_name, AW__VER_PREFIX, AW__VER_PREFIX_LEN) == 0 ||
	    strncmp(de->d_name, AW__BLD_PREFIX, AW__VER_PREFIX_LEN) == 0)
		return true;
#ifdef DT_LNK
	if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
		return false;
#endif
	return aw__is_tmpname(de->d_name);
}

static int find_candidate(int dirfd, const struct dirent *de, void *ctx)
{
	int *found = ctx;
	(void)dirfd;
	if (!publish_candidate(de))
		return 0;
	if (!aw__is_lock_name(de->d_name)) {
		*found = 2;
		return 1;
	}
	*found = 1;
	return 0;
}

/* Whether the directory holds any publish_candidate(): 2 if one that is
 * not the lock file, 1 if only the lock file, 0 if none, or -1. */
static int has_publish_candidates(int dirfd)
{
	int found = 0;
	return aw__dir_walk(dirfd, find_candidate, &found) < 0 ? -1 : found;
}

struct leftovers {
	bool dry_run;
	struct sweep_report *rp;
};

static int sweep_leftover(int dirfd, const struct dirent *de, void *ctx)
{
	struct leftovers *l = ctx;
	if (aw__is_tmpname(de->d_name) ||
	    strncmp(de->d_name, AW__VER_PREFIX, AW__VER_PREFIX_LEN) == 0 ||
	    strncmp(de->d_name, AW__BLD_PREFIX, AW__VER_PREFIX_LEN) == 0)
		tally(l->rp, de->d_name, sweep_publish_one(dirfd, de->d_name,
		                                           l->dry_run));
	return 0;
}

/* What dead publishers leave, removed only while the directory's lock
 * (the one publishers hold) is ours; if a live writer holds it, left for
 * a later sweep and *held set. */
static void sweep_publish_leftovers(int dirfd, bool dry_run,
                                    struct sweep_report *rp, bool *held)
{
	int candidates = has_publish_candidates(dirfd);
	if (candidates <= 0) {
		if (candidates < 0)
			tally(rp, ".", -1);
		return;
	}
	int lockfd = -1;
	bool cleared = false;
	/* A dry run changes nothing, not even a dead holder's lock file: it
	 * lists what a sweep would remove if no publisher were at work. */
	if (!dry_run && aw__trylock(dirfd, &lockfd, &cleared) < 0) {
		/* A live writer's lock file alone leaves nothing undone:
		 * only say so when leftovers were skipped. */
		if (errno == EWOULDBLOCK)
			*held = candidates == 2;
		else
			tally(rp, AW__LOCK_NAME, -1);
		return;
	}
	if (cleared)
		tally(rp, AW__LOCK_NAME, 1);   /* a dead holder's lock file */
	struct leftovers l = { dry_run, rp };
	if (aw__dir_walk(dirfd, sweep_leftover, &l) < 0)
		tally(rp, ".", -1);
	aw__unlock(dirfd, lockfd);
}

static int sweep_at(int dirfd, unsigned int flags, aw_sweep_fn fn, void *ctx,
                    unsigned int *status, aw_error *e)
{
	if (flags & ~(unsigned)AW_SWEEP_DRY_RUN)
		return aw__fail(e, AW_STEP_ARGS, ".", EINVAL);
	int fd = aw__openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return aw__fail(e, AW_STEP_SWEEP, ".", errno);
	struct stat st;
	if (aw__fstat(fd, &st) < 0) {
		int err = errno;
		aw__close(fd);
		return aw__fail(e, AW_STEP_SWEEP, ".", err);
	}
	struct sweep sw = { fd, st.st_dev, geteuid(), (flags & AW_SWEEP_DRY_RUN) != 0,
	                    NULL, 0 };
	struct sweep_report rp = { fn, ctx, 0, 0, "." };
	bool held = false;
	sweep_temps(&sw, &rp);
	sweep_publish_leftovers(fd, sw.dry_run, &rp, &held);
	aw__close(fd);
	if (status)
		*status = held ? AW_SWEEP_LOCK_HELD : 0;
	if (rp.err)
		return aw__fail(e, AW_STEP_SWEEP, rp.failed, rp.err);
	return rp.removed;
}

int aw_dir_sweep_at(int dirfd, unsigned int flags, aw_sweep_fn fn, void *ctx,
                    unsigned int *status, aw_error *e)
{
	return sweep_at(dirfd, flags, fn, ctx, status, e);
}

int aw_dir_sweep(const char *path, unsigned int flags, aw_sweep_fn fn,
                 void *ctx, unsigned int *status, aw_error *e)
{
	if (!path)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	int fd = aw__openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0)
		return aw__fail(e, AW_STEP_SWEEP, path, errno);
	int r = sweep_at(fd, flags, fn, ctx, status, e);
	int err = errno;
	aw__close(fd);
	if (r < 0 && e && e->path[0] == '.' && e->path[1] == '\0')
		snprintf(e->path, sizeof e->path, "%s", path);
	errno = err;
	return r;
}
