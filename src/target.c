/* SPDX-License-Identifier: MIT */
/*
 * target.c - from what the caller named to (opened directory, final name):
 * splitting the path, opening the directory, following symbolic links when
 * asked.
 *
 * The caller's own path is opened as the kernel resolves it (its rules,
 * its fs.protected_symlinks setting).  What a link points to is walked here,
 * one component at a time, never letting the kernel follow a link: each
 * link met, the last component or a directory on the way, is judged by
 * may_follow() before it is read and followed.
 */
#include "internal.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Links followed at most, as the kernel's own limit for path lookup. */
#define AW__MAX_LINKS 40

/* How directories on the way through a link's target are opened: only to
 * look up the next name in (search permission is all the kernel's own
 * lookup would need).  The directory the walk ends in is opened O_RDONLY. */
#if defined(O_PATH) && !defined(AW_FORCE_POSIX)
#define AW__SEARCH O_PATH
#elif defined(O_SEARCH)
#define AW__SEARCH O_SEARCH
#else
#define AW__SEARCH O_RDONLY
#endif

/*
 * Splits path into its directory part (copied to dir, "." or "/" when it
 * has none) and its last component (pointed to by *base).  A path that
 * ends in a slash, or whose last component is "." or "..", names a
 * directory.
 */
static int split_path(const char *path, char *dir, size_t dirsize,
                      const char **base, aw_step *step)
{
	size_t len = strlen(path);
	*step = AW_STEP_ARGS;
	if (len == 0)
		return ENOENT;
	if (path[len - 1] == '/') {
		*step = AW_STEP_TARGET_TYPE;
		return EISDIR;
	}
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0) {
		*step = AW_STEP_TARGET_TYPE;
		return EISDIR;
	}
	if (strlen(b) > NAME_MAX)
		return ENAMETOOLONG;
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= dirsize)
			return ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	*base = b;
	return 0;
}

bool aw__sticky_protected(const struct stat *dir, uid_t owner)
{
	if ((dir->st_mode & (S_ISVTX | S_IWOTH)) != (S_ISVTX | S_IWOTH))
		return false;
	uid_t me = geteuid();
	return owner != me && owner != dir->st_uid;
}

/*
 * Whether the link name in dirfd may be followed: the rule of the
 * kernel's fs.protected_symlinks, applied whatever the sysctl says.  In a
 * sticky world-writable directory (/tmp) anyone can plant a link under a
 * name another user will use; such a link is followed only if it belongs
 * to the follower or to the directory's owner.  Otherwise EACCES, which is
 * what the kernel answers.
 *
 * The owner is looked at before the link is read and checked again after
 * (same inode), so the text followed is that of the link judged: in such
 * a directory nobody but its owner can replace a link they do not own,
 * and a link's text never changes.
 */
static int may_follow(int dirfd, const char *name, struct stat *before)
{
	if (aw__fstatat(dirfd, name, before, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	/* Our own links need no look at the directory. */
	if (!S_ISLNK(before->st_mode) || before->st_uid == geteuid())
		return 0;
	struct stat dir;
	if (aw__fstat(dirfd, &dir) < 0)
		return -1;
	if (aw__sticky_protected(&dir, before->st_uid)) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * The next component of the path at *p, skipping slashes and "."
 * components: its length (0 at the end of the path), *comp pointing to
 * it; *p moves past it.
 */
static size_t next_component(const char **p, const char **comp)
{
	const char *s = *p;
	for (;;) {
		while (*s == '/')
			s++;
		if (*s == '\0') {
			*p = s;
			return 0;
		}
		const char *end = strchr(s, '/');
		if (!end)
			end = s + strlen(s);
		size_t n = (size_t)(end - s);
		if (n == 1 && s[0] == '.') {
			s = end;
			continue;
		}
		*comp = s;
		*p = end;
		return n;
	}
}

/* Whether nothing but slashes and "." components is left at p. */
static bool path_done(const char *p)
{
	const char *comp;
	return next_component(&p, &comp) == 0;
}

/* A failed open(O_NOFOLLOW|O_DIRECTORY) that may mean "a link is there":
 * Linux says ENOTDIR, POSIX ELOOP, FreeBSD EMLINK, NetBSD EFTYPE. */
static bool maybe_link(int err)
{
	return err == ENOTDIR || err == ELOOP || err == EMLINK
#ifdef EFTYPE
	       || err == EFTYPE
#endif
	       ;
}

/* A walk of open_dir_judged(): the path left to walk (p, in rest), room
 * for the next one (spare), and the directory reached (cur). */
struct walk {
	char *rest, *spare;
	const char *p;
	bool from_root;         /* p is absolute: walked from "/" */
	int cur;
	bool own;               /* whether cur is ours to close */
	bool readable;          /* whether cur was opened O_RDONLY */
	int *hops;
};

/* The walk has reached fd, opened with flags. */
static void walk_enter(struct walk *w, int fd, int flags)
{
	if (w->own)
		aw__close(w->cur);
	w->cur = fd;
	w->own = true;
	w->readable = flags == O_RDONLY;
}

/* Puts the link text read into spare (got bytes) in front of what is left
 * of the path.  0, or -1 with errno. */
static int walk_splice(struct walk *w, size_t got)
{
	size_t tail = strlen(w->p);
	if (got >= PATH_MAX || got + 1 + tail >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (got == 0) {
		errno = ENOENT;
		return -1;
	}
	/* The link's text, then what was left after it. */
	w->spare[got] = '/';
	memcpy(w->spare + got + 1, w->p, tail + 1);
	char *t = w->rest;
	w->rest = w->spare;
	w->spare = t;
	w->p = w->rest;
	w->from_root = *w->p == '/';
	return 0;
}

/* The component name (starting at start in the path) could not be opened
 * as a directory (err): a link, perhaps, judged where it is and followed;
 * anything that changed meanwhile is looked at again.  0 to go on, or -1
 * with errno. */
static int walk_link(struct walk *w, const char *name, const char *start,
                     int err)
{
	struct stat before, after;
	if (may_follow(w->cur, name, &before) < 0)
		return -1;
	if (!S_ISLNK(before.st_mode) && !S_ISDIR(before.st_mode)) {
		errno = err;   /* not a directory: err says so */
		return -1;
	}
	/* A link, or a directory now (swapped in since: look again), each
	 * bounded like a hop. */
	if (++*w->hops > AW__MAX_LINKS) {
		errno = ELOOP;
		return -1;
	}
	const char *next = w->p;   /* past the component */
	w->p = start;
	if (!S_ISLNK(before.st_mode))
		return 0;
	ssize_t got = aw__readlinkat(w->cur, name, w->spare, PATH_MAX);
	if (got < 0)   /* no longer a link, or gone: look again */
		return errno == EINVAL || errno == ENOENT ? 0 : -1;
	/* The text read must be that of the link judged. */
	if (aw__fstatat(w->cur, name, &after, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!same_file(&before, &after))
		return 0;
	w->p = next;
	return walk_splice(w, (size_t)got);
}

/* One step of the walk: the next component.  0 to go on, 1 at the end,
 * -1 with errno. */
static int walk_step(struct walk *w)
{
	if (w->from_root) {
		w->from_root = false;
		/* An absolute path (or link text): from the root. */
		int flags = path_done(w->p) ? O_RDONLY : AW__SEARCH;
		int fd = aw__openat(AT_FDCWD, "/", flags | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		walk_enter(w, fd, flags);
	}
	const char *comp, *start = w->p;
	size_t n = next_component(&w->p, &comp);
	if (n == 0)
		return 1;
	if (n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char name[NAME_MAX + 1];
	memcpy(name, comp, n);
	name[n] = '\0';
	int flags = path_done(w->p) ? O_RDONLY : AW__SEARCH;
	int fd = aw__openat(w->cur, name, flags | O_DIRECTORY | O_NOFOLLOW |
	                    O_CLOEXEC, 0);
	if (fd >= 0) {
		walk_enter(w, fd, flags);
		return 0;
	}
	int err = errno;
	if (!maybe_link(err))
		return -1;
	return walk_link(w, name, start, err);
}

/*
 * Opens the directory dir (the directory part of a link's text) relative
 * to at, or to "/" if dir is absolute, the way the kernel would resolve it
 * but one component at a time, O_NOFOLLOW: a component that is a link is
 * judged by may_follow() in the directory holding it, read, and its text
 * put in front of what is left of the path.  Every link followed counts in
 * *hops, ELOOP past AW__MAX_LINKS.  ".." is the parent of the directory
 * reached, as in the kernel's lookup.  Returns the directory's descriptor
 * (O_RDONLY), or -1 with errno.
 */
static int open_dir_judged(int at, const char *dir, int *hops)
{
	char *buf = malloc(2 * (size_t)PATH_MAX);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	size_t len = strlen(dir);
	if (len >= PATH_MAX) {
		free(buf);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, dir, len + 1);
	struct walk w = { buf, buf + PATH_MAX, buf, *dir == '/', at, false,
	                  false, hops };
	int r;
	while ((r = walk_step(&w)) == 0)
		;
	if (r > 0 && !w.readable) {
		/* Nothing walked ("." or only slashes and dots), or the walk
		 * ended in a directory opened to search (a link to "."). */
		int fd = aw__openat(w.cur, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
		if (fd < 0)
			r = -1;
		else
			walk_enter(&w, fd, O_RDONLY);
	}
	int err = errno;
	free(buf);
	if (r > 0)
		return w.cur;
	if (w.own)
		aw__close(w.cur);
	errno = err;
	return -1;
}

/*
 * Splits path into its directory part and last component (stored in name),
 * and opens the directory part relative to at: as the kernel resolves it
 * when hops is NULL, else with open_dir_judged() (links judged, counted in
 * *hops).  Returns the directory's descriptor, or -1 with e filled:
 * open_step and display name the failure.
 */
static int open_dir_part(int at, const char *path, char *name,
                         const char *display, aw_step open_step, int *hops,
                         int access, aw_error *e)
{
	char *dir = malloc(PATH_MAX);
	if (!dir)
		return aw__fail(e, open_step, display, ENOMEM);
	const char *base;
	aw_step step;
	int err = split_path(path, dir, PATH_MAX, &base, &step);
	if (err) {
		free(dir);
		return aw__fail(e, step, display, err);
	}
	int fd = hops ? open_dir_judged(at, dir, hops)
	              : aw__openat(at, dir, access | O_DIRECTORY | O_CLOEXEC, 0);
	err = errno;
	free(dir);
	if (fd < 0)
		return aw__fail(e, open_step, display, err);
	strcpy(name, base);
	return fd;
}

int aw__open_parent(int at, const char *path, char *name,
                       const char *display, aw_step open_step, aw_error *e)
{
	return open_dir_part(at, path, name, display, open_step, NULL,
	                     O_RDONLY, e);
}

/* The directory part of a link's text (read in dirfd), links on the way
 * judged by the protected_symlinks rule. */
static int open_link_parent(int dirfd, const char *link, char *name,
                            const char *display, int *hops, aw_error *e)
{
	return open_dir_part(dirfd, link, name, display, AW_STEP_RESOLVE_LINK,
	                     hops, O_RDONLY, e);
}

/*
 * Whether f's directory may be open O_PATH.  aw_file_replace*() without
 * AW_DURABILITY_FULL never fsyncs or reads it, and nobody else sees the
 * handle: every step only names files relative to it, which an O_PATH
 * descriptor does (it needs search permission on the directory, as those
 * steps do, not read permission), and it is cheaper to open and to close
 * (no file operations, no open or close hooks; issue 17).  Not with
 * AW_LOCK (whose lock is on the directory), AW_KEEP_INODE (its
 * flushes) or AW_FOLLOW_SYMLINKS (its own walk); not in aw_file_begin*(),
 * whose aw_file_dirfd() hands the descriptor to the caller.
 */
static bool path_dir_will_do(const struct aw_file *f)
{
#if defined(O_PATH) && !defined(AW_FORCE_POSIX)
	return f->oneshot && f->opts.durability != AW_DURABILITY_FULL &&
	       !(f->opts.flags & (AW_LOCK | AW_KEEP_INODE | AW_FOLLOW_SYMLINKS));
#else
	(void)f;
	return false;
#endif
}

static int dir_access(const struct aw_file *f)
{
#if defined(O_PATH) && !defined(AW_FORCE_POSIX)
	if (path_dir_will_do(f))
		return O_PATH;
#endif
	return O_RDONLY;
}

/*
 * Whether the caller's directory descriptor serves as f's own: 1 (then
 * f->dirfd is dirfd and f->name path), 0 (open it as usual), or -1 with e
 * filled.  Only for a bare name (no slash: dirfd is its directory, and
 * nothing is resolved), neither AW_FOLLOW_SYMLINKS (which moves to other
 * directories) nor AW_LOCK (whose steps come before the first look at the
 * name), and only a descriptor open for reading: one opened O_PATH (or
 * O_SEARCH) can be neither fsynced nor read, so it is opened as before -
 * unless path_dir_will_do(), and then no fcntl either.
 * The descriptor stays the caller's: never closed, used only until
 * aw_file_replace_at() returns.  One fcntl instead of an openat and a
 * close; the directory check that O_DIRECTORY made is the ENOTDIR of the
 * first look at the name (inspect_target(), reported at
 * AW_STEP_OPEN_DIR).
 */
static int borrow_dir(struct aw_file *f, int dirfd, const char *path,
                      aw_error *e)
{
	if (dirfd == AT_FDCWD || strchr(path, '/') ||
	    (f->opts.flags & (AW_FOLLOW_SYMLINKS | AW_LOCK)))
		return 0;
	char dir[2];
	const char *base;
	aw_step step;
	int err = split_path(path, dir, sizeof dir, &base, &step);
	if (err)
		return aw__fail(e, step, f->path, err);
	/* Where an O_PATH descriptor would do, any directory's does (a
	 * directory opens only O_RDONLY or O_PATH) and its flags need no
	 * look: what is no directory, or no descriptor, fails at the first
	 * look at the name (ENOTDIR, EBADF), at AW_STEP_OPEN_DIR. */
	if (!path_dir_will_do(f)) {
		int fl = aw__getfl(dirfd);
		if (fl < 0)
			return aw__fail(e, AW_STEP_OPEN_DIR, f->path, errno);
		bool path_fd = false;
#ifdef O_PATH
		path_fd = fl & O_PATH;
#endif
		if (path_fd || (fl & O_ACCMODE) != O_RDONLY)
			return 0;
	}
	f->dirfd = dirfd;
	f->borrowed_dir = true;
	strcpy(f->name, base);
	return 1;
}

int aw__open_target(struct aw_file *f, int dirfd, const char *path,
                    bool borrow, aw_error *e)
{
	int borrowed = borrow ? borrow_dir(f, dirfd, path, e) : 0;
	if (borrowed)
		return borrowed < 0 ? -1 : 0;
	/* The caller's own path: as the kernel resolves it. */
	f->dirfd = open_dir_part(dirfd, path, f->name, f->path,
	                         AW_STEP_OPEN_DIR, NULL, dir_access(f), e);
	if (f->dirfd < 0)
		return -1;
	if (!(f->opts.flags & AW_FOLLOW_SYMLINKS))
		return 0;

	char *link = malloc(PATH_MAX);
	if (!link)
		return aw__fail(e, AW_STEP_RESOLVE_LINK, f->path, ENOMEM);
	/* Links followed so far, at the last component and on the way
	 * through the directories of their texts. */
	int hops = 0;
	for (;;) {
		struct stat before, after;
		if (may_follow(f->dirfd, f->name, &before) < 0) {
			/* ENOENT: nothing there yet: the file to create. */
			if (errno == ENOENT)
				break;
			goto fail_errno;
		}
		/* Not a link: this is the file to write. */
		if (!S_ISLNK(before.st_mode))
			break;
		if (++hops > AW__MAX_LINKS) {
			errno = ELOOP;
			goto fail_errno;
		}
		ssize_t n = aw__readlinkat(f->dirfd, f->name, link, PATH_MAX);
		if (n < 0) {
			/* EINVAL: no longer a link; ENOENT: gone.  Either
			 * way this is the file to write. */
			if (errno == EINVAL || errno == ENOENT)
				break;
			goto fail_errno;
		}
		/* Replaced between the look and the read: what was read is
		 * not what was judged.  Look again. */
		if (aw__fstatat(f->dirfd, f->name, &after, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue;
			goto fail_errno;
		}
		if (!same_file(&before, &after))
			continue;   /* counts as a hop: bounded by the limit */
		if (n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			goto fail_errno;
		}
		link[n] = '\0';
		/* A relative link is relative to the directory it is in; its
		 * directory part is walked with every link in it judged. */
		int next = open_link_parent(f->dirfd, link, f->name, f->path,
		                            &hops, e);
		if (next < 0) {
			free(link);
			return -1;
		}
		aw__close(f->dirfd);
		f->dirfd = next;
	}
	free(link);
	return 0;

fail_errno:;
	int err = errno;
	free(link);
	return aw__fail(e, AW_STEP_RESOLVE_LINK, f->path, err);
}
