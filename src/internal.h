/*
 * internal.h - what the library's files share and nothing outside sees.
 * Internal names start with aw__ so that the symbol map exports none.
 */
#ifndef AW_INTERNAL_H
#define AW_INTERNAL_H

#include "atomicwrite.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* Our temporary names: ".awtmp-" + AW__RAND_LEN random letters and digits
 * + "-" + as much of the target's name as fits NAME_MAX.  The fixed part
 * is what aw_sweep() recognises. */
#define AW__TMP_PREFIX "." "awtmp-"
#define AW__TMP_PREFIX_LEN 7
#define AW__RAND_LEN 12
#define AW__TMP_FIXED_LEN (AW__TMP_PREFIX_LEN + AW__RAND_LEN + 1)

#define AW__ALL_FLAGS (AW_FOLLOW_SYMLINKS | AW_NO_CLOBBER | AW_LOCK | AW_MODE | \
                       AW_NO_TMPFILE | AW_NO_KEEP_OWNER_XATTRS | AW_COPY_TARGET)

struct aw_file {
	int dirfd;             /* the target's directory, ours to close */
	int fd;                /* the temporary file */
	bool unnamed;          /* O_TMPFILE not yet given a name */
	bool named;            /* tmpname exists in dirfd */
	bool write_failed;     /* an aw_write() failed: refuse to commit */
	int write_errno;
	bool had_target;       /* a regular file stood at the name in aw_begin */
	struct stat target;    /* its status then */
	aw_options opts;
	int cleanup_slot;      /* handle in the opt-in registry, or -1 */
	char name[NAME_MAX + 1];     /* the target's name in dirfd */
	char tmpname[NAME_MAX + 1];  /* the temporary file's name, if named */
	char path[];           /* the target's path as the caller gave it */
};

/* Fills e (if not NULL) and sets errno to err; returns -1. */
int aw__fail(aw_error *e, aw_step step, const char *path, int err);

/* Writes a fresh temporary name for target into buf (NAME_MAX + 1 bytes),
 * at most name_max bytes long.  Fails with ENAMETOOLONG if even the fixed
 * part does not fit. */
int aw__tmpname(char *buf, const char *target, long name_max);
/* Whether name has the form aw__tmpname() makes. */
bool aw__is_tmpname(const char *name);

/* Opens the directory part of path relative to at (never following the
 * last component) and stores the last component in name (NAME_MAX + 1
 * bytes).  Returns the directory's fd, or -1 with e filled: open_step and
 * display name the failure. */
int aw__open_parent(int at, const char *path, char *name, const char *display,
                    aw_step open_step, aw_error *e);

/* Whether a file owned by owner in the directory whose status is dir is
 * protected from us the way the kernel's fs.protected_symlinks and
 * fs.protected_regular protect it: dir is sticky and world-writable and
 * owner is neither our euid nor the directory's owner. */
bool aw__sticky_protected(const struct stat *dir, uid_t owner);

/* Resolves the target (path or dirfd/name) to an opened directory and a
 * final name, following symlinks if asked: sets f->dirfd and f->name. */
int aw__open_target(struct aw_file *f, int dirfd, const char *path,
                    aw_error *e);

/* Makes the temporary file's owner, extended attributes and mode those the
 * new file must have (see aw_commit()). */
int aw__apply_metadata(struct aw_file *f, aw_error *e);

/* The steps of aw_commit() (replace.c), for batches: prepare names the
 * temporary file and gives it its metadata, install renames it over the
 * target, release frees f and removes whatever temporary file is left. */
int aw__prepare(struct aw_file *f, aw_error *e);
int aw__install(struct aw_file *f, aw_error *e);
void aw__release(struct aw_file *f);

/* Opt-in cleanup registry (cleanup.c), without a fixed size.  register
 * returns a handle (>= 0) for unregister, or -1 if the registry is not
 * installed or memory ran out (the file is then only sweep's to remove). */
int aw__cleanup_register(int dirfd, const char *name);
void aw__cleanup_unregister(int slot);

/* Writes all of len bytes, treating a 0-byte write as ENOSPC. */
int aw__write_all(int fd, const void *buf, size_t len);

/* How aw__copy_data() copied. */
enum aw__copy_method {
	AW__COPY_CLONE,       /* shared extents (FICLONE) */
	AW__COPY_RANGE,       /* copy_file_range in the kernel */
	AW__COPY_READ_WRITE   /* through a user-space buffer */
};

/* Appends everything src holds from its offset on to dst, by the cheapest
 * method that works (a clone only when allow_clone and both offsets are 0).
 * On failure sets *failed to AW_STEP_READ_SOURCE or AW_STEP_WRITE. */
int aw__copy_data(int dst, int src, bool allow_clone,
                  enum aw__copy_method *how, aw_step *failed);

/* ---- directory publication (version.c, tree.c, publish.c) ---------- */

#include <stdint.h>

/* Version directory names: ".awver-" + 20 digits + "-k" + keep + "-" +
 * the link's name (see the header).  A version is built under the same
 * name with the ".awbld-" prefix and renamed to its ".awver-" name only
 * once it is complete and flushed: that rename (and the parent's fsync
 * after it) is the completeness mark.  Nothing ever treats a ".awbld-"
 * directory as a version. */
#define AW__VER_PREFIX ".awver-"
#define AW__BLD_PREFIX ".awbld-"
#define AW__VER_PREFIX_LEN 7
#define AW__VER_DIGITS 20
#define AW__MAX_KEEP 999

struct aw__version {
	uint64_t stamp;          /* nanoseconds since the epoch, made unique */
	unsigned keep;           /* older versions to keep behind this one */
	dev_t dev;               /* the directory's identity when listed */
	ino_t ino;
	char name[NAME_MAX + 1];
};

/* Writes the version name for link into buf; ENAMETOOLONG if it does not
 * fit NAME_MAX.  aw__building_name() writes the name it is built under. */
int aw__version_name(char *buf, const char *link, uint64_t stamp, unsigned keep);
int aw__building_name(char *buf, const char *link, uint64_t stamp, unsigned keep);
/* Parses a version name; *link points into name.  False if not one.
 * aw__parse_building() parses a building name. */
bool aw__parse_version(const char *name, uint64_t *stamp, unsigned *keep,
                       const char **link);
bool aw__parse_building(const char *name, uint64_t *stamp, unsigned *keep,
                        const char **link);
/* Whether st (from lstat: symbolic links are never followed) is a
 * directory of ours: a real directory owned by the caller's euid.  Only
 * such an entry can be a version or a build leftover; anything else with
 * such a name was planted and is never used, followed or removed. */
bool aw__is_our_dir(const struct stat *st);
/* The complete versions of link in dirfd (entries with the version name
 * for which aw__is_our_dir() holds), oldest first (malloc'd, *n entries). */
int aw__list_versions(int dirfd, const char *link, struct aw__version **out,
                      size_t *n);
/* The version link (a name in dirfd) points at: if link is a symbolic
 * link that resolves (however its target is spelled) to the very
 * directory of one of link's complete versions in dirfd (same device and
 * inode), 1 and *v filled; 0 if not; -1 on error. */
int aw__live_version(int dirfd, const char *link, struct aw__version *v);

/* Removes name (a directory: its whole tree, never following links) from
 * dirfd.  ENOENT counts as done.  Directories the caller owns but may not
 * write (mode 0555) are made writable first, so that a non-root
 * publisher's read-only directories can go; what still cannot be removed
 * is reported with its own errno (EACCES, EPERM), not ENOTEMPTY. */
int aw__remove_tree(int dirfd, const char *name);
/* aw__remove_tree() of a directory of ours, only if name still refers to
 * the directory dev/ino (0 if it no longer does, nothing removed). */
int aw__remove_our_tree(int dirfd, const char *name, dev_t dev, ino_t ino);
/* fsyncs every regular file and directory below dirfd, children before
 * their parents, and dirfd last. */
int aw__sync_tree(int dirfd);
/* Copies the contents of directory src into the empty directory dst.  On
 * failure *failed_at holds the source entry's path relative to src and
 * *step which step failed. */
int aw__copy_tree(int src, int dst, char *failed_at, size_t size);

#endif /* AW_INTERNAL_H */
