/* SPDX-License-Identifier: MIT */
/*
 * publish.c - publishing a directory tree by switching a symbolic link to
 * a complete new version, and rolling back to a kept one.  The protocol
 * is described in atomicwrite.h.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct publish {
	const char *link;             /* as the caller gave it, for messages */
	int dirfd;                    /* the link's parent */
	int lockfd;                   /* its lock (lock.c), or -1 */
	char name[NAME_MAX + 1];      /* the link's name in dirfd */
	aw_publish_options o;
	bool adopt;                   /* a real directory stands at name */
	uint64_t stamp;               /* the new version's */
	uint64_t live;                /* the version the link pointed at, or
	                               * UINT64_MAX if none of ours */
	char building[NAME_MAX + 1];  /* the name it is built under */
	char version[NAME_MAX + 1];   /* its name once complete */
	enum { NOT_MADE, BUILDING, COMPLETE } made;
	char tmplink[NAME_MAX + 1];   /* the temporary link's name */
	bool tmplink_made;
};

/* Opens and locks the link's parent, with the lock AW_LOCK writers take
 * (lock.c): a killed holder's lock is cleared by the next one. */
static int open_locked(struct publish *p, int at, const char *link,
                       aw_error *e)
{
	p->link = link;
	p->dirfd = aw__open_parent(at, link, p->name, link,
	                           AW_STEP_OPEN_DIR, e);
	if (p->dirfd < 0)
		return -1;
	if (aw__lock(p->dirfd, &p->lockfd) < 0)
		return aw__fail(e, AW_STEP_LOCK, link, errno);
	return 0;
}

/* A symbolic link (ours or not) is replaced; nothing there is a first
 * publication; a real directory only with AW_PUBLISH_ADOPT. */
static int inspect_link(struct publish *p, aw_error *e)
{
	struct stat st;
	if (aw__fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return aw__fail(e, AW_STEP_INSPECT_LINK, p->link, errno);
	}
	if (S_ISLNK(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		if (!(p->o.flags & AW_PUBLISH_ADOPT))
			return aw__fail(e, AW_STEP_INSPECT_LINK, p->link, EISDIR);
		p->adopt = true;
		return 0;
	}
	return aw__fail(e, AW_STEP_INSPECT_LINK, p->link, EEXIST);
}

/* A stamp newer than every existing version of the link, so that names
 * sort by age even if the clock steps back. */
static int new_stamp(struct publish *p, uint64_t *out)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t stamp = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(p->dirfd, p->name, &v, &n) < 0)
		return -1;
	/* Room below the new stamp for an adopted directory's. */
	if (n > 0 && v[n - 1].stamp + 2 > stamp)
		stamp = v[n - 1].stamp + 2;
	free(v);
	*out = stamp;
	return 0;
}

static int name_version(struct publish *p, aw_error *e)
{
	if (aw__building_name(p->building, p->name, p->stamp, p->o.keep) < 0 ||
	    aw__version_name(p->version, p->name, p->stamp, p->o.keep) < 0)
		return aw__fail(e, AW_STEP_ARGS, p->link, ENAMETOOLONG);
	return 0;
}

/* Creates the new version under its building name and returns it open.
 * Its flock, held until it is complete, tells a sweep that a live
 * publisher is at work on it. */
static int make_version(struct publish *p, aw_error *e)
{
	if (new_stamp(p, &p->stamp) < 0)
		return aw__fail(e, AW_STEP_MAKE_VERSION, p->link, errno);
	for (int tries = 0;; tries++) {
		if (name_version(p, e) < 0)
			return -1;
		if (aw__mkdirat(p->dirfd, p->building, 0700) == 0)
			break;
		/* A leftover (or a planted name) is never reused. */
		if (errno != EEXIST || tries == AW__NAME_TRIES)
			return aw__fail(e, AW_STEP_MAKE_VERSION, p->link, errno);
		p->stamp += 2;
	}
	p->made = BUILDING;
	int fd = aw__openat(p->dirfd, p->building,
	                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return aw__fail(e, AW_STEP_MAKE_VERSION, p->link, errno);
	/* Best effort: the parent's lock already keeps sweeps away. */
	aw__flock(fd, LOCK_EX | LOCK_NB);
	return fd;
}

/* The completeness mark: the built and flushed version takes its final
 * name (never over an existing one), and the parent is flushed, before
 * any link may point at it.  A version killed or cut off before this
 * keeps its building name, which nothing takes for a version. */
static int mark_complete(struct publish *p, bool sync, aw_error *e)
{
	for (int tries = 0;; tries++) {
		int r = aw__renameat_noreplace(p->dirfd, p->building, p->dirfd,
		                               p->version);
		if (r < 0 && (errno == ENOSYS || errno == EINVAL ||
		              errno == EOPNOTSUPP || errno == ENOTSUP)) {
			/* No renameat2: look, then rename (the parent's
			 * lock keeps other publishers out). */
			struct stat st;
			if (aw__fstatat(p->dirfd, p->version, &st, AT_SYMLINK_NOFOLLOW) == 0)
				errno = EEXIST;
			else if (errno == ENOENT)
				r = aw__renameat(p->dirfd, p->building, p->dirfd, p->version);
		}
		if (r == 0)
			break;
		if (errno != EEXIST || tries == AW__NAME_TRIES)
			return aw__fail(e, AW_STEP_MAKE_VERSION, p->link, errno);
		/* Something planted at the final name: another stamp. */
		p->stamp += 2;
		if (aw__version_name(p->version, p->name, p->stamp, p->o.keep) < 0)
			return aw__fail(e, AW_STEP_ARGS, p->link, ENAMETOOLONG);
	}
	p->made = COMPLETE;
	if (sync && aw__fsync(p->dirfd) < 0)
		return aw__fail(e, AW_STEP_SYNC_TREE, p->link, errno);
	return 0;
}

/* The path of a name in the link's parent, as the caller would write it. */
static char *sibling_path(const struct publish *p, const char *name)
{
	const char *slash = strrchr(p->link, '/');
	size_t dirlen = slash ? (size_t)(slash - p->link) + 1 : 0;
	size_t len = dirlen + strlen(name);
	char *path = malloc(len + 1);
	if (path) {
		memcpy(path, p->link, dirlen);
		strcpy(path + dirlen, name);
	}
	return path;
}

static int make_tmplink(struct publish *p, const char *target, aw_error *e)
{
	if (aw__temp_symlink(target, p->dirfd, p->name, p->tmplink) < 0)
		return aw__fail(e, AW_STEP_MAKE_LINK, p->link, errno);
	p->tmplink_made = true;
	return 0;
}

/* Puts the temporary link in the link's place.  Adopting, the real
 * directory and the link swap names in one step, and the directory then
 * becomes the version just before the new one. */
static int switch_link(struct publish *p, aw_error *e)
{
	if (!p->adopt) {
		if (aw__renameat(p->dirfd, p->tmplink, p->dirfd, p->name) < 0)
			return aw__fail(e, AW_STEP_SWITCH_LINK, p->link, errno);
		p->tmplink_made = false;
		return 0;
	}
	if (aw__exchangeat(p->dirfd, p->tmplink, p->dirfd, p->name) < 0) {
		int err = errno;
		if (err == EINVAL || err == ENOSYS)
			err = EOPNOTSUPP;
		return aw__fail(e, AW_STEP_ADOPT, p->link, err);
	}
	char old[NAME_MAX + 1];
	if (aw__version_name(old, p->name, p->stamp - 1, p->o.keep) < 0 ||
	    aw__renameat_noreplace(p->dirfd, p->tmplink, p->dirfd, old) < 0) {
		/* Put the directory back where it was; the temporary name
		 * then holds the link again and is removed as usual. */
		int err = errno;
		if (aw__exchangeat(p->dirfd, p->tmplink, p->dirfd, p->name) < 0) {
			/* Both names exist, one of them is the user's tree
			 * under our temporary name: say where it is rather
			 * than remove anything. */
			p->tmplink_made = false;
			return aw__fail(e, AW_STEP_ADOPT, p->tmplink, err);
		}
		return aw__fail(e, AW_STEP_ADOPT, p->link, err);
	}
	p->tmplink_made = false;
	return 0;
}

/* Removes the versions a publication or rollback leaves behind: those
 * newer than live, those between upto and live (complete, but never
 * switched to: a killed publisher's), and those older than live beyond
 * the kept ones.  Only complete versions of ours are ever considered
 * (aw__list_versions()).  Best effort: what stays is removed by the next
 * publication or sweep. */
static void prune(int dirfd, const char *name, uint64_t live, uint64_t upto,
                  unsigned keep)
{
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(dirfd, name, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!aw__version_kept(v, n, v[i].stamp, live, upto, keep))
			aw__remove_our_tree(dirfd, v[i].name, v[i].dev, v[i].ino);
	free(v);
}

static void finish(struct publish *p)
{
	int saved = errno;
	if (p->tmplink_made)
		aw__unlinkat(p->dirfd, p->tmplink, 0);
	if (p->made == BUILDING)
		aw__remove_tree(p->dirfd, p->building);
	else if (p->made == COMPLETE)
		aw__remove_tree(p->dirfd, p->version);
	aw__unlock(p->dirfd, p->lockfd);
	if (p->dirfd >= 0)
		aw__close(p->dirfd);
	errno = saved;
}

static int publish(int at, const char *link, aw_populate_fn populate,
                   void *ctx, mode_t default_mode,
                   const aw_publish_options *opts, aw_error *e)
{
	struct publish p = { .dirfd = -1, .lockfd = -1 };
	if (!link || !populate)
		return aw__fail(e, AW_STEP_ARGS, link, EINVAL);
	if (aw__publish_options(&p.o, opts, link, e) < 0)
		return AW_FAILED;
	bool sync = p.o.durability != AW_DURABILITY_NONE;

	if (open_locked(&p, at, link, e) < 0 || inspect_link(&p, e) < 0)
		goto fail;
	/* An adopted directory is kept (as the previous version, for
	 * rollback) unless the caller says to discard it. */
	if (p.adopt && p.o.keep == 0 && !(p.o.flags & AW_PUBLISH_DISCARD_ADOPTED))
		p.o.keep = 1;
	struct aw__version live;
	int lr = p.adopt ? 0 : aw__live_version(p.dirfd, p.name, &live);
	if (lr < 0) {
		aw__fail(e, AW_STEP_INSPECT_LINK, link, errno);
		goto fail;
	}
	p.live = lr > 0 ? live.stamp : UINT64_MAX;
	int vfd = make_version(&p, e);
	if (vfd < 0)
		goto fail;

	char *vpath = sibling_path(&p, p.building);
	errno = 0;
	int r = vpath ? populate(vfd, vpath, ctx) : -1;
	int err = vpath ? errno : ENOMEM;
	free(vpath);
	if (r < 0) {
		aw__close(vfd);
		aw__fail(e, AW_STEP_POPULATE, link, err ? err : EIO);
		goto fail;
	}
	/* Complete: the final mode, then every byte and name of the tree on
	 * disk, then the version's final name in the parent (the
	 * completeness mark) and the parent on disk, all before any link can
	 * point at it. */
	mode_t mode = (p.o.flags & AW_PUBLISH_MODE) ? p.o.mode : default_mode;
	if (aw__fchmod(vfd, mode) < 0 || (sync && aw__sync_tree(vfd) < 0)) {
		err = errno;
		aw__close(vfd);
		aw__fail(e, AW_STEP_SYNC_TREE, link, err);
		goto fail;
	}
	r = mark_complete(&p, sync, e);
	aw__close(vfd);   /* drops its flock */
	if (r < 0)
		goto fail;

	if (make_tmplink(&p, p.version, e) < 0 || switch_link(&p, e) < 0)
		goto fail;
	p.made = NOT_MADE;   /* live now: never remove it */

	int result = AW_OK;
	if (p.o.durability == AW_DURABILITY_FULL && aw__fsync(p.dirfd) < 0) {
		aw__fail(e, AW_STEP_SYNC_DIR, link, errno);
		result = AW_UNSYNCED;
	}
	prune(p.dirfd, p.name, p.stamp, p.adopt ? p.stamp - 1 : p.live, p.o.keep);
	finish(&p);
	return result;

fail:
	finish(&p);
	return AW_FAILED;
}

int aw_link_publish_at(int dirfd, const char *link, aw_populate_fn populate,
                       void *ctx, const aw_publish_options *opts,
                       aw_error *e)
{
	return publish(dirfd, link, populate, ctx, 0755, opts, e);
}

int aw_link_publish(const char *link, aw_populate_fn populate, void *ctx,
               const aw_publish_options *opts, aw_error *e)
{
	return aw_link_publish_at(AT_FDCWD, link, populate, ctx, opts, e);
}

struct tree_source {
	int fd;
	const char *path;
	bool failed;       /* the copy failed: err says on which entry */
	aw_error err;
};

static int copy_source(int dirfd, const char *path, void *ctx)
{
	struct tree_source *src = ctx;
	char rel[4096];
	(void)path;
	if (aw__copy_tree(src->fd, dirfd, rel, sizeof rel) == 0)
		return 0;
	int err = errno;
	src->failed = true;
	aw__fail(&src->err, AW_STEP_COPY_TREE, NULL, err);
	int n = snprintf(src->err.path, sizeof src->err.path, "%s/%s", src->path, rel);
	if (n < 0 || (size_t)n >= sizeof src->err.path)
		src->err.path[sizeof src->err.path - 1] = '\0';
	errno = err;
	return -1;
}

int aw_link_publish_tree_at(int dirfd, const char *link, int srcdirfd,
                            const char *srcdir,
                            const aw_publish_options *opts, aw_error *e)
{
	if (!srcdir)
		return aw__fail(e, AW_STEP_ARGS, link, EINVAL);
	struct tree_source src = { .fd = -1, .path = srcdir };
	src.fd = aw__openat(srcdirfd, srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	struct stat st;
	if (src.fd < 0 || aw__fstat(src.fd, &st) < 0) {
		int err = errno;
		if (src.fd >= 0)
			aw__close(src.fd);
		return aw__fail(e, AW_STEP_COPY_TREE, srcdir, err);
	}
	int r = publish(dirfd, link, copy_source, &src, st.st_mode & 07777,
	                opts, e);
	aw__close(src.fd);
	/* The entry that could not be copied tells more than "populating
	 * new version of LINK". */
	if (r == AW_FAILED && src.failed) {
		if (e)
			*e = src.err;
		errno = src.err.err;
	}
	return r;
}

int aw_link_publish_tree(const char *link, const char *srcdir,
                    const aw_publish_options *opts, aw_error *e)
{
	return aw_link_publish_tree_at(AT_FDCWD, link, AT_FDCWD, srcdir, opts, e);
}

int aw_link_rollback_at(int dirfd, const char *link, aw_error *e)
{
	struct publish p = { .dirfd = -1, .lockfd = -1 };
	if (!link)
		return aw__fail(e, AW_STEP_ARGS, NULL, EINVAL);
	if (open_locked(&p, dirfd, link, e) < 0)
		goto fail;
	struct aw__version live;
	int r = aw__live_version(p.dirfd, p.name, &live);
	if (r <= 0) {
		aw__fail(e, r < 0 ? AW_STEP_INSPECT_LINK : AW_STEP_FIND_VERSION,
		         link, r < 0 ? errno : ENOENT);
		goto fail;
	}
	struct aw__version *v;
	size_t n;
	if (aw__list_versions(p.dirfd, p.name, &v, &n) < 0) {
		aw__fail(e, AW_STEP_FIND_VERSION, link, errno);
		goto fail;
	}
	struct aw__version prev = { 0 };
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].stamp < live.stamp) {
			prev = v[i];
			found = true;
		}
	}
	free(v);
	if (!found) {
		aw__fail(e, AW_STEP_FIND_VERSION, link, ENOENT);
		goto fail;
	}
	if (make_tmplink(&p, prev.name, e) < 0 || switch_link(&p, e) < 0)
		goto fail;
	int result = AW_OK;
	if (aw__fsync(p.dirfd) < 0) {
		aw__fail(e, AW_STEP_SYNC_DIR, link, errno);
		result = AW_UNSYNCED;
	}
	/* The version rolled back from goes; the older kept ones stay. */
	prune(p.dirfd, p.name, prev.stamp, UINT64_MAX, prev.keep);
	finish(&p);
	return result;

fail:
	finish(&p);
	return AW_FAILED;
}

int aw_link_rollback(const char *link, aw_error *e)
{
	return aw_link_rollback_at(AT_FDCWD, link, e);
}
