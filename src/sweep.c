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

/* The names of one readdir() pass that keep(name) accepts (malloc'd). */
static int list_names(int dirfd, bool (*keep)(const char *), char ***out,
                      size_t *n)
{
	*out = NULL;
	*n = 0;
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	size_t cap = 0;
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		if (!keep(de->d_name))
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **p = realloc(*out, ncap * sizeof *p);
			if (!p) {
				err = ENOMEM;
				break;
			}
			*out = p;
			cap = ncap;
		}
		if (!((*out)[*n] = strdup(de->d_name))) {
			err = ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	errno = err;
	return err ? -1 : 0;
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

/* The temporary files of dead writers in fd.  Returns 0 or -1 (errno, and
 * failed names the entry); *removed counts. */
static int sweep_temps(struct sweep *sw, aw_sweep_fn fn, void *ctx, int *removed,
                       char *failed, size_t size)
{
	char **names, **locks = NULL;
	size_t n, nlocks = 0;
	if (list_names(sw->dirfd, aw__is_tmpname, &names, &n) < 0) {
		free_names(names, n);
		return -1;
	}
	/* A second pass, after the first: the locks of the batches whose
	 * temporaries the first one saw (see the top of this file). */
	int err = 0, fatal = 0;
	if (n > 0 && list_names(sw->dirfd, is_batch_lock_name, &locks, &nlocks) < 0)
		err = fatal = errno;
	if (!err && nlocks > 0) {
		sw->locks = calloc(nlocks, sizeof *sw->locks);
		if (!sw->locks)
			err = fatal = ENOMEM;
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
	/* Temporaries first, then batch locks (whose liveness the first
	 * decide on). */
	for (int pass = 0; !fatal && pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (is_batch_lock_name(names[i]) != (pass == 1))
				continue;
			int r = sweep_one(sw, names[i]);
			if (r < 0 && !err) {
				/* Keep going: one stuck file must not shield the
				 * rest.  Report the first failure. */
				err = errno;
				snprintf(failed, size, "%s", names[i]);
				err = err ? err : EIO;
			}
			if (r > 0) {
				(*removed)++;
				if (fn)
					fn(names[i], ctx);
			}
		}
	}
	free(sw->locks);
	sw->locks = NULL;
	sw->nlocks = 0;
	free_names(names, n);
	errno = err;
	return err ? -1 : 0;
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
	if (stamp == live.stamp)
		return 1;
	if (stamp > live.stamp)
		return 0;   /* built, never switched to, or rolled back from */
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(dirfd, link, &v, &n) < 0)
		return -1;
	unsigned newer = 0;   /* versions between this one and the live one */
	for (size_t i = 0; i < n; i++)
		newer += v[i].stamp > stamp && v[i].stamp < live.stamp;
	free(v);
	return newer < live.keep;
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

/* Whether the directory holds any publish_candidate(): 2 if one that is
 * not the lock file, 1 if only the lock file, 0 if none, or -1. */
static int has_publish_candidates(int dirfd)
{
	DIR *d = aw__opendirat(dirfd);
	if (!d)
		return -1;
	int found = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = aw__readdir(d);
		if (!de) {
			if (errno)
				found = -1;
			break;
		}
		if (!publish_candidate(de))
			continue;
		if (!aw__is_lock_name(de->d_name)) {
			found = 2;
			break;
		}
		found = 1;
	}
	int err = errno;
	closedir(d);
	errno = err;
	return found;
}

/* What dead publishers leave, removed only while the directory's lock
 * (the one publishers hold) is ours; if a live writer holds it, left for
 * a later sweep and *held set. */
static int sweep_publish_leftovers(int dirfd, bool dry_run, aw_sweep_fn fn,
                                   void *ctx, int *removed, char *failed,
                                   size_t size, bool *held)
{
	int candidates = has_publish_candidates(dirfd);
	if (candidates <= 0)
		return candidates;
	int lockfd = -1;
	bool cleared = false;
	/* A dry run changes nothing, not even a dead holder's lock file: it
	 * lists what a sweep would remove if no publisher were at work. */
	if (!dry_run && aw__trylock(dirfd, &lockfd, &cleared) < 0) {
		if (errno == EWOULDBLOCK) {
			/* A live writer's lock file alone leaves nothing
			 * undone: only say so when leftovers were skipped. */
			*held = candidates == 2;
			return 0;
		}
		snprintf(failed, size, "%s", AW__LOCK_NAME);
		return -1;
	}
	if (cleared) {
		/* A dead holder's lock file. */
		(*removed)++;
		if (fn)
			fn(AW__LOCK_NAME, ctx);
	}
	DIR *d = aw__opendirat(dirfd);
	if (!d) {
		aw__unlock(dirfd, lockfd);
		return -1;
	}
	int err = 0;
	for (;;) {
		struct dirent *de = aw__readdir(d);
		if (!de) {
			if (errno && !err)
				err = errno;
			break;
		}
		if (!aw__is_tmpname(de->d_name) &&
		    strncmp(de->d_name, AW__VER_PREFIX, AW__VER_PREFIX_LEN) != 0 &&
		    strncmp(de->d_name, AW__BLD_PREFIX, AW__VER_PREFIX_LEN) != 0)
			continue;
		int r = sweep_publish_one(dirfd, de->d_name, dry_run);
		if (r < 0 && !err) {
			err = errno;
			snprintf(failed, size, "%s", de->d_name);
		}
		if (r > 0) {
			(*removed)++;
			if (fn)
				fn(de->d_name, ctx);
		}
	}
	closedir(d);
	aw__unlock(dirfd, lockfd);
	errno = err;
	return err ? -1 : 0;
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
	int removed = 0, err = 0;
	bool held = false;
	char failed[NAME_MAX + 1] = ".";
	if (sweep_temps(&sw, fn, ctx, &removed, failed, sizeof failed) < 0)
		err = errno;
	if (sweep_publish_leftovers(fd, sw.dry_run, fn, ctx, &removed, failed,
	                            sizeof failed, &held) < 0 && !err)
		err = errno;
	aw__close(fd);
	if (status)
		*status = held ? AW_SWEEP_LOCK_HELD : 0;
	if (err)
		return aw__fail(e, AW_STEP_SWEEP, failed, err);
	return removed;
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
