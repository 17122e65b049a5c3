/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the library's files share and nothing outside sees.
 * Internal names start with aw__ so that the symbol map exports none.
 */
#ifndef AW_INTERNAL_H
#define AW_INTERNAL_H

#include "atomicwrite.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#ifndef NAME_MAX
#define NAME_MAX 255
#endif

/* Where systems spell the same thing differently.  A struct stat's access,
 * modification and change times: st_atim/st_mtim/st_ctim (POSIX 2008),
 * st_atimespec/st_mtimespec/st_ctimespec on macOS.  "No such attribute": ENODATA on Linux, ENOATTR
 * on macOS and the BSDs (where ENODATA, if defined, means another thing). */
#if defined(__APPLE__)
#define AW__ST_ATIM(st) ((st)->st_atimespec)
#define AW__ST_MTIM(st) ((st)->st_mtimespec)
#define AW__ST_CTIM(st) ((st)->st_ctimespec)
#else
#define AW__ST_ATIM(st) ((st)->st_atim)
#define AW__ST_MTIM(st) ((st)->st_mtim)
#define AW__ST_CTIM(st) ((st)->st_ctim)
#endif
#ifdef ENOATTR
#define AW__ENOATTR ENOATTR
#else
#define AW__ENOATTR ENODATA
#endif

/*
 * Temporary names.  Every temporary file of ours is named
 *
 *     ".awtmp-" INO "-" TAG "-" TARGET          (the marked form)
 *
 * INO is the file's own st_ino, 16 lowercase hexadecimal digits; TAG is 8
 * random letters and digits (a batch's tag for the temporaries of a batch
 * that closes some of them, see batch.c); TARGET is as much of the target's
 * name as fits NAME_MAX (empty for a batch's liveness lock).  That the
 * number is the inode the name refers to is the proof that a writer of
 * ours named it: aw_dir_sweep() removes a marked entry only if it is a regular
 * file whose st_ino is INO, no process holds its flock() (each writer holds
 * LOCK_EX on its temporary, a --backup holder LOCK_SH on the old inode its
 * temporary link names), no live batch's lock covers its TAG, and the name
 * still refers to it.  The inode is known only once the file exists, so a
 * named temporary is created O_EXCL under the unmarked form
 *
 *     ".awtmp-" 12 random letters and digits "-" TARGET
 *
 * and renamed to its marked name at once (aw__create_marked()); an O_TMPFILE
 * is linked straight to its marked name.  A writer killed between the two
 * leaves an empty unmarked file, the one unmarked entry a sweep removes
 * (empty, regular, the sweeper's own, unlocked: nothing is lost with it).
 * The unmarked form is also that of publishers' temporary symbolic links.
 */
#define AW__TMP_PREFIX "." "awtmp-"
#define AW__TMP_PREFIX_LEN 7
#define AW__RAND_LEN 12
#define AW__TMP_FIXED_LEN (AW__TMP_PREFIX_LEN + AW__RAND_LEN + 1)
#define AW__INO_LEN 16
#define AW__TAG_LEN 8
#define AW__MARKED_FIXED_LEN (AW__TMP_PREFIX_LEN + AW__INO_LEN + 1 + AW__TAG_LEN + 1)
/* How often a fresh random name is tried before giving up: a collision of
 * random letters means someone is guessing, not bad luck. */
#define AW__NAME_TRIES 100

#define AW__ALL_FLAGS (AW_FOLLOW_SYMLINKS | AW_NO_CLOBBER | AW_LOCK | AW_MODE | \
                       AW_NO_TMPFILE | AW_NO_KEEP_OWNER_XATTRS | AW_COPY_TARGET)
/* Only for a single file's options (never a batch's): exchange.c. */
#define AW__KEEP_FLAGS (AW_KEEP_INODE | AW_IF_UNCHANGED)

struct aw_file {
	int dirfd;             /* the target's directory, ours to close
	                        * unless borrowed_dir */
	bool borrowed_dir;     /* dirfd is the caller's own, used only
	                        * within one aw_file_replace_at() */
	bool oneshot;          /* begun by aw_file_replace_at(): no caller
	                        * code runs between begin and commit */
	bool xattrs_asked;     /* listxattrat() of the old file was asked in
	                        * begin (oneshot only) ... */
	bool no_xattrs;        /* ... and said it has no extended attributes */
	int fd;                /* the temporary file */
	bool unnamed;          /* O_TMPFILE not yet given a name */
	bool named;            /* tmpname exists in dirfd */
	bool write_failed;     /* an aw_file_write() failed: refuse to commit */
	int write_errno;
	bool had_target;       /* a regular file stood at the name in aw_file_begin */
	struct stat target;    /* its status then */
	aw_options opts;
	int cleanup_slot;      /* handle in the opt-in registry, or -1 */
	/* temporary names (tmpname.c, batch.c) */
	char tag[AW__TAG_LEN + 1];   /* the tag to name the temporary with,
	                              * or "" for a random one */
	struct aw_batch *batch;      /* the batch f is staged in, or NULL */
	size_t batch_dir;            /* its directory's index in the batch */
	bool shared_dir;             /* dirfd is the batch's: not f's to close */
	bool temp_known;             /* temp_dev/temp_ino are the temporary's */
	dev_t temp_dev;
	ino_t temp_ino;
	/* aw_file_keep_backup() (backup.c): a marked hard link to the old file,
	 * renamed to the backup's name only once the commit's rename has
	 * succeeded */
	bool backup_pending;
	int backup_fd;               /* the old file, LOCK_SH held, or -1 */
	char backup_tmp[NAME_MAX + 1];
	char backup_name[NAME_MAX + 1];
	int lockfd;            /* the directory lock (AW_LOCK), or -1 */
	/* AW_KEEP_INODE (exchange.c): the target opened for writing, or -1,
	 * and with AW_IF_UNCHANGED its freshness at begin */
	int keep_fd;
	unsigned long long keep_fresh[6];
	char name[NAME_MAX + 1];     /* the target's name in dirfd */
	char tmpname[NAME_MAX + 1];  /* the temporary file's name, if named */
	char path[];           /* the target's path as the caller gave it */
};

/* Fills e (if not NULL: path2 empty, reserved zeroed) and sets errno to
 * err; returns -1.  aw__fail2() names a second path too (path2 may be
 * NULL). */
int aw__fail(aw_error *e, aw_step step, const char *path, int err);
int aw__fail2(aw_error *e, aw_step step, const char *path, const char *path2,
              int err);

/* Options (options.c): copy the caller's struct (NULL: the defaults; any
 * size the header's OPTION STRUCTS allows) into *o, the library's full
 * layout, and check it.  0, or -1 with e filled (AW_STEP_ARGS, naming
 * path): EINVAL, or E2BIG for fields this library does not know. */
int aw__file_options(aw_options *o, const aw_options *given,
                     const char *path, aw_error *e);
int aw__batch_options(aw_batch_options *o, const aw_batch_options *given,
                      aw_error *e);
int aw__publish_options(aw_publish_options *o, const aw_publish_options *given,
                        const char *link, aw_error *e);

/* ---- temporary names (tmpname.c) ------------------------------------ */

/* Writes a fresh unmarked temporary name for target into buf (NAME_MAX + 1
 * bytes), at most name_max bytes long.  Fails with ENAMETOOLONG if even
 * the fixed part does not fit.  For files only as the first step of
 * aw__create_marked(); publishers' temporary links use it as it is. */
int aw__tmpname(char *buf, const char *target, long name_max);
/* Writes the marked name of the file with inode ino for target: tag (8
 * letters and digits) or, if NULL or empty, a random one. */
int aw__tmpname_marked(char *buf, const char *target, uint64_t ino,
                       const char *tag, long name_max);
/* 8 random letters and digits and a NUL into tag (AW__TAG_LEN + 1). */
void aw__random_tag(char *tag);

enum { AW__TMP_NONE, AW__TMP_MARKED, AW__TMP_UNMARKED };
struct aw__tmpname_parts {
	uint64_t ino;                 /* marked: the inode the name spells */
	char tag[AW__TAG_LEN + 1];    /* marked: the tag */
	const char *target;           /* points into the name */
};
/* Which form name has (parts, if not NULL, filled for either form). */
int aw__parse_tmpname(const char *name, struct aw__tmpname_parts *parts);
/* Whether name has either form. */
bool aw__is_tmpname(const char *name);

/* What aw__fresh_name() makes of a candidate name: 0 done, 1 taken (try
 * another), -1 failed (errno). */
typedef int aw__name_attempt(int dirfd, const char *name, void *ctx);
/* The form of the fresh names to try: unmarked (marked false) or marked
 * with ino and tag (NULL or "": a random one). */
struct aw__name_spec {
	const char *target;
	bool marked;
	uint64_t ino;
	const char *tag;
};
/* The one "create under a fresh temporary name" loop: writes candidate
 * names of spec's form into name (NAME_MAX + 1 bytes) and calls attempt()
 * on each, until one is done.  One policy for every temporary name: a
 * taken name gets another random part (a marked name with a given tag is
 * final), ENAMETOOLONG asks the directory's NAME_MAX once and cuts names
 * to it (eCryptfs: 143), and after AW__NAME_TRIES taken names it gives up
 * with EEXIST.  0, or -1 with errno and name "". */
int aw__fresh_name(int dirfd, const struct aw__name_spec *spec, char *name,
                   aw__name_attempt *attempt, void *ctx);

/* ---- the temporary file's life (tempfile.c) --------------------------- */

/* Takes a writer's lock (flock LOCK_EX|LOCK_NB) on a temporary file, which
 * tells aw_dir_sweep() that it is alive.  Filesystems without flock() get no
 * such protection but still work.  EWOULDBLOCK: a sweeper holds it. */
int aw__lock_temp(int fd);
/* Gives the open file fd (st: its status) its marked name for target in
 * dirfd (linkat AT_EMPTY_PATH, else the /proc/self/fd link); name filled.
 * -1 with errno: ENOENT, EPERM or EACCES when a descriptor cannot be
 * named here at all. */
int aw__link_marked(int dirfd, int fd, const struct stat *st,
                    const char *target, const char *tag, char *name);
/* Moves the entry from (any type; st: its lstat) to its marked name in
 * the same directory, in one step: renameat2 RENAME_NOREPLACE, else (no
 * such rename) a plain rename, which could replace only an entry planted
 * by someone who guessed the inode and the random tag. */
int aw__rename_marked(int dirfd, const char *from, const struct stat *st,
                      const char *target, const char *tag, char *name);
/* Creates a new empty regular file of mode mode under its marked name for
 * target in dirfd, locked with aw__lock_temp(): O_EXCL|O_NOFOLLOW under an
 * unmarked name, then aw__rename_marked().  Returns its descriptor (name
 * and *st filled), or -1 with errno. */
int aw__create_marked(int dirfd, const char *target, const char *tag,
                      mode_t mode, char *name, struct stat *st);

/* Makes a symbolic link to target under a fresh unmarked temporary name
 * for name in dirfd (written to tmp).  0, or -1 with errno. */
int aw__temp_symlink(const char *target, int dirfd, const char *name, char *tmp);

/* The steps of an aw_file's temporary (see the diagram in tempfile.c).
 * create: an O_TMPFILE, or a named file where there is none (f->fd set).
 * name: gives an O_TMPFILE its marked name (nothing if named already).
 * retag: the temporary is to carry tag; renamed to it if named already.
 * use_dir: f's directory is reached through dirfd (the same directory,
 * a batch's descriptor, or f's own handed over) from now on, which f no
 * longer closes; f's own is closed if it is another one.
 * close / open_again / reopen: a batch closes a named temporary and opens
 * it again by name (O_NOFOLLOW, the same inode or ESTALE): open_again
 * returns a new descriptor with flags, reopen makes it f's, at the end.
 * Those that take e fill it on failure. */
int aw__temp_create(struct aw_file *f, aw_error *e);
int aw__temp_name(struct aw_file *f, aw_error *e);
int aw__temp_retag(struct aw_file *f, const char *tag, aw_error *e);
void aw__temp_use_dir(struct aw_file *f, int dirfd);
void aw__temp_close(struct aw_file *f);
int aw__temp_open_again(const struct aw_file *f, int flags);
int aw__temp_reopen(struct aw_file *f, aw_error *e);

/* Room for element n of the array p (*cap elements of size bytes): p
 * itself while n < *cap, else p grown (doubled; first elements the first
 * time; *cap updated).  NULL with ENOMEM when memory runs out, p then
 * untouched and still the caller's. */
void *aw__grow(void *p, size_t n, size_t *cap, size_t size, size_t first);

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
 * final name, following symlinks if asked: sets f->dirfd and f->name.
 * borrow: f lives only within the caller's call (aw_file_replace_at()),
 * so a directory descriptor it was given may serve as f->dirfd itself
 * (then f->borrowed_dir; see borrow_dir() in target.c). */
int aw__open_target(struct aw_file *f, int dirfd, const char *path,
                    bool borrow, aw_error *e);

/* Makes the temporary file's owner, extended attributes and mode those the
 * new file must have (see aw_file_commit()).  fresh: the temporary's
 * status taken in this same commit, or NULL (then it is asked for). */
int aw__apply_metadata(struct aw_file *f, const struct stat *fresh,
                       aw_error *e);

/* The steps of aw_file_commit() (tempfile.c), for batches too: prepare
 * names the temporary file and gives it its metadata, install renames it
 * over the target, release frees f and removes whatever temporary file is
 * left (keeps errno). */
int aw__prepare(struct aw_file *f, aw_error *e);
int aw__install(struct aw_file *f, aw_error *e);
void aw__release(struct aw_file *f);

/* AW_KEEP_INODE and AW_IF_UNCHANGED (exchange.c).  options: completes
 * and checks o's flags (0 or EINVAL; IF_UNCHANGED implies KEEP_INODE).
 * begin: after the temporary is created, opens the target for writing,
 * records its freshness (IF_UNCHANGED) and asks a dry-run exchange.
 * commit: the whole commit of such a handle, f released. */
int aw__keep_options(aw_options *o);
int aw__keep_begin(struct aw_file *f, aw_error *e);
int aw__keep_commit(struct aw_file *f, aw_error *e);

/* Backups (backup.c): after the commit's rename, puts the pending backup
 * at its name; if that fails, puts the old file back at the target's name
 * (AW_STEP_BACKUP).  Returns 0, -1 (old file back: the commit failed) or
 * -2 (neither rename worked: the target has the new contents, no backup).
 * drop removes a pending backup's link and lock (release, failures). */
int aw__backup_finish(struct aw_file *f, aw_error *e);
void aw__backup_drop(struct aw_file *f);

/* Batches (batch.c): reopens a staged temporary the batch closed to stay
 * within its descriptor budget (by name, O_NOFOLLOW, checking the inode),
 * at the end of its contents.  0, or -1 with e filled. */
int aw__batch_reopen(struct aw_file *f, aw_error *e);
/* At most this many temporaries of a batch are open at once. */
#define AW__BATCH_OPEN_MAX 64
#ifdef AW_TESTING
extern size_t aw__batch_open_max;   /* tests make it smaller */
#endif

/* Opt-in cleanup registry (cleanup.c), without a fixed size.  register
 * returns a handle (>= 0) for unregister, or -1 if the registry is not
 * installed or memory ran out (the file is then only sweep's to remove). */
int aw__cleanup_register(int dirfd, const char *name);
void aw__cleanup_unregister(int slot);

/* ---- the directory lock (lock.c; see "THE DIRECTORY LOCK" in the header)
 *
 * The lock of a directory is the existence of the file AW__LOCK_NAME in
 * it: an empty regular file, mode 0600, that its holder keeps flock()ed
 * from before the name exists until after it is removed.  The name is in
 * our temporary-name space (".awtmp-"), yet never has the form of a
 * temporary name (aw__is_tmpname() is false for it), so that a sweep
 * knows it and no target's temporary file can be named so. */
#define AW__LOCK_NAME "." "awtmp-lock"

/* Takes dirfd's lock, waiting as long as a live writer holds it: 0 and
 * *lockfd (what aw__unlock() releases), or -1 with errno: EINTR when a
 * caught signal interrupted the wait (nothing changed), EEXIST when a
 * user's file with contents stands at the lock's name, ENOLCK or
 * EOPNOTSUPP where the filesystem has no flock(), or the error of the
 * creation (EACCES: the directory is not writable). */
int aw__lock(int dirfd, int *lockfd);
/* The same without waiting: EWOULDBLOCK if the lock is held (or its
 * holder cannot be judged).  *cleared tells whether a dead holder's lock
 * file was removed on the way. */
int aw__trylock(int dirfd, int *lockfd, bool *cleared);
/* Releases the lock (removes the name, then closes); lockfd -1 does
 * nothing.  Keeps errno. */
void aw__unlock(int dirfd, int lockfd);
/* Whether name is the lock file's name. */
bool aw__is_lock_name(const char *name);

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

/* The keep rule, the one place that says which versions of a link stay:
 * the live one (stamp live), and the keep newest of those older than it,
 * counting only versions up to upto (a publication passes the previous
 * live version's stamp: the ones between it and the new one were never
 * switched to, a killed publisher's; UINT64_MAX counts all).  v: all the
 * link's complete versions (aw__list_versions()). */
bool aw__version_kept(const struct aw__version *v, size_t n, uint64_t stamp,
                      uint64_t live, uint64_t upto, unsigned keep);

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
