/* SPDX-License-Identifier: MIT */
/*
 * atomicwrite.h - crash-safe replacement of files.
 *
 * A reader of a file replaced through this library sees either the complete
 * old contents or the complete new contents, never a mix, a truncation or an
 * empty file, whatever happens to the writer (killed, out of space, a failing
 * system call).  With the default durability a replacement that returned
 * success also survives a power cut.
 *
 * LIFE CYCLE
 *
 *     aw_file *f;
 *     aw_error e;
 *     if (aw_file_begin(&f, "/etc/app.conf", NULL, &e) < 0)
 *         -> nothing was created; e says why
 *     write through aw_file_write(f, ...) or to aw_file_fd(f)
 *     if (aw_file_commit(f, &e) < 0)       -> f is freed either way
 *         -> AW_FAILED: the target is untouched, nothing is left behind
 *         -> AW_UNSYNCED: the target was replaced but the directory fsync
 *            failed, so the replacement may not survive a power cut
 *     or, to give up: aw_file_discard(f)   -> the target is untouched
 *
 * aw_file_replace() does all of it for one buffer.
 *
 * THE PROTOCOL
 *
 * The target's directory is opened once and every later step is relative
 * to it.  The new contents go to a temporary file in that directory: an
 * unnamed O_TMPFILE where the filesystem has it, otherwise a hidden file
 * with an unpredictable name created with O_EXCL|O_NOFOLLOW and renamed at
 * once (never replacing anything) to its marked name, which spells its own
 * inode number (see aw_dir_sweep()).  On commit the library copies the old
 * file's owner, extended attributes and mode onto the temporary file (in
 * that order: chown clears set-id bits), gives an unnamed temporary its
 * hidden marked name, fsyncs it, renames it over the target and fsyncs the
 * directory.  Each temporary file is flock()ed by its writer for its whole
 * life, which is how aw_dir_sweep() tells a crashed writer's leftover from a
 * live writer's file.
 *
 * PATHS AND DIRECTORY DESCRIPTORS
 *
 * Every function that takes a path has an _at twin that takes a directory
 * descriptor before it, as openat() does: aw_file_begin_at(),
 * aw_file_replace_at(), aw_batch_add_at(), aw_batch_add_buffer_at(),
 * aw_dir_sweep_at() (which takes the directory itself),
 * aw_link_publish_at(), aw_link_publish_tree_at(), aw_link_rollback_at(),
 * aw_link_set_at() (as symlinkat()) and aw_path_exchange_at() (as
 * renameat2()).  The plain function is its twin called with AT_FDCWD.  A
 * relative name is resolved from dirfd, an absolute one ignores it; names
 * may contain slashes.  The library never closes dirfd and does not need
 * it once the call has returned.  Errors name the path as the caller gave
 * it (relative to dirfd, then).
 *
 * OPTION STRUCTS
 *
 * aw_options, aw_batch_options and aw_publish_options can grow in 1.x
 * without breaking programs built against 1.0.  Each starts with a
 * size_t size: 0 means the 1.0 layout, so a zeroed struct is the safe
 * default, as NULL is; otherwise it is sizeof the struct as the caller
 * compiled it (AW_OPTIONS_INIT and its siblings set it).  A size smaller
 * than 1.0's (and not 0) fails with EINVAL at AW_STEP_ARGS.  A size larger
 * than the library knows (a program built against a newer header, run
 * with an older library) is accepted if every byte beyond the fields the
 * library knows is zero (the new fields are unused, as if at their
 * defaults); otherwise, or beyond 4096 bytes, the call fails with E2BIG at
 * AW_STEP_ARGS rather than ignore what the caller asked for.  The library
 * copies the caller's struct before using it and keeps no pointer to it.
 *
 * MODES
 *
 * A mode is set only when its flag says so: AW_MODE in aw_options.flags
 * and aw_batch_options.flags, AW_PUBLISH_MODE in aw_publish_options.flags.
 * Then exactly that mode is given (no umask applied; 0 means 0000).
 * Without the flag the mode field must be 0: a non-zero mode without its
 * flag fails with EINVAL at AW_STEP_ARGS, as does a mode with bits beyond
 * 07777.
 *
 * ERRORS
 *
 * Every function that can fail returns a negative value, sets errno and,
 * when given a non-NULL aw_error, fills it with the errno, the step that
 * failed and the path it failed on (and, for a step that involves two,
 * the second path); aw_error_format() turns that into one line such as
 * "fsync of temporary file for /etc/app.conf: Input/output error", in a
 * buffer of AW_ERROR_FORMAT_SIZE bytes.  No function writes its outputs
 * on failure.  Misuse (a NULL path, an unknown flag) fails with EINVAL.
 *
 * THE DIRECTORY LOCK
 *
 * AW_LOCK writers, aw_link_publish(), aw_link_rollback(), aw_link_set()
 * and aw_dir_sweep() (and their _at twins) take turns on one lock per
 * directory: the existence of the file
 * ".awtmp-lock" in it, an empty regular file of mode 0600 that its holder
 * creates already flock()ed (an O_TMPFILE, or elsewhere a temporary file,
 * flocked and then linked to the name) and removes (unlink, then close) on
 * release.  Only users who may write the directory can take it; a user
 * who may only read the directory can no longer hold writers up (the
 * directory's own flock, which any reader can take, plays no part).
 * A writer that finds the lock file waits for its flock: when it gets it,
 * the holder has released the lock or died; a dead holder's file is
 * removed (only while holding its flock, and only if the name still
 * refers to it) and the lock taken.  A lock file the waiter may not open
 * (another user's, 0600, for a writer that is not root) cannot be judged:
 * the waiter polls until the name goes.  If its holder died, the file
 * stays until its owner's or root's next writer, or a sweep by one of
 * them, removes it; a power cut can also leave one.  Not a lock file, and
 * never removed: a regular file with contents at that name (the call
 * fails with EEXIST at AW_STEP_LOCK); anything else there (a directory, a
 * link) is waited for like a lock that cannot be judged.  A user who may
 * write the directory can always hold writers up (by holding the lock, or
 * by filling the directory); a bounded wait is the caller's (below).  On a
 * filesystem without flock() the lock fails (ENOLCK or EOPNOTSUPP).
 *
 * Waiting is interruptible: when a signal caught by a handler installed
 * without SA_RESTART interrupts the wait, the call fails with EINTR at
 * AW_STEP_LOCK having changed nothing (no lock, no temporary file, no
 * version), so that the caller may say why it waits, give up, or call
 * again.  (With SA_RESTART the kernel may restart the wait instead.)
 * This is how the atomicwrite command prints "waiting for the lock" and
 * implements --wait: a SIGALRM every second.  Every other step of the
 * library retries EINTR.
 *
 * THREADS AND PROCESSES
 *
 * Functions may be called from any number of threads; an aw_file belongs to
 * one thread at a time.  The library keeps no global mutable state except
 * the opt-in cleanup registry (aw_cleanup_install()), never prints, never
 * exits and never changes the umask or signal dispositions unless asked.
 * Any number of threads and processes may replace the same file at once:
 * the result is always one writer's complete contents.
 */
#ifndef ATOMICWRITE_H
#define ATOMICWRITE_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AW_VERSION_MAJOR 1
#define AW_VERSION_MINOR 0
#define AW_VERSION_PATCH 0
#define AW_VERSION_STRING "1.0.0"

/* The version of the library actually linked, e.g. "1.0.0". */
const char *aw_lib_version(void);

/*
 * How much a successful commit promises about power loss.  Every level is
 * atomic against a crash of the writing process.
 */
typedef enum aw_durability {
	/* fsync the new file and then its directory: once aw_file_commit() has
	 * returned AW_OK the new contents survive a power cut.  Default. */
	AW_DURABILITY_FULL = 0,
	/* fsync the new file only: after a power cut the name may still
	 * refer to the old complete contents, never to a torn file. */
	AW_DURABILITY_FILE = 1,
	/* no fsync at all: atomic against process crashes only.  After a
	 * power cut the file may be empty, zero-filled or old. */
	AW_DURABILITY_NONE = 2
} aw_durability;

/* Flags for aw_options.flags.  Zero is the safe default. */
enum aw_flags {
	/* When the target is a symbolic link, replace the file it points to
	 * (in that file's directory) instead of the link itself.  At most 40
	 * links are followed; relative links resolve against the directory of
	 * the link.  A dangling link creates the file it names.  Every link
	 * followed is judged as the kernel's fs.protected_symlinks would,
	 * whatever that sysctl says: a link in a sticky world-writable
	 * directory (/tmp) is followed only if it belongs to the caller's
	 * effective user or to the directory's owner; otherwise EACCES (step
	 * AW_STEP_RESOLVE_LINK), before anything is created.  That holds for
	 * the links in the directory part of a followed link's text too
	 * (../tmp/dir/file, dir a link): that part is walked one directory at
	 * a time, never letting the kernel follow a link in it; they count in
	 * the 40 (ELOOP beyond).  The directory part of the path the caller
	 * gives is resolved by the kernel, under its own rules. */
	AW_FOLLOW_SYMLINKS = 1u << 0,
	/* Fail with EEXIST, atomically, if the target exists at commit
	 * (renameat2 RENAME_NOREPLACE; where the filesystem lacks it, a
	 * link() to the target's name, then removing the temporary name: if
	 * only that removal fails, the commit succeeds and the second name,
	 * unlocked, is left for aw_dir_sweep()). */
	AW_NO_CLOBBER = 1u << 1,
	/* Take the target directory's lock (THE DIRECTORY LOCK below) in
	 * aw_file_begin(), waiting while another writer holds it, and hold it
	 * until commit or discard, so that read-modify-write cycles of
	 * cooperating writers (all using AW_LOCK) do not lose updates.  A
	 * killed holder's lock is cleared by the next writer. */
	AW_LOCK = 1u << 2,
	/* Set the mode to exactly aw_options.mode (no umask applied) instead
	 * of keeping the old file's mode or using 0666 & ~umask (MODES
	 * above).  In aw_batch_options.flags: every file of the batch gets
	 * aw_batch_options.mode. */
	AW_MODE = 1u << 3,
	/* Do not use O_TMPFILE even where the filesystem has it: use the named
	 * temporary file every system has.  For tests and odd filesystems. */
	AW_NO_TMPFILE = 1u << 4,
	/* Do not copy the old file's owner, group and extended attributes
	 * (the mode is still kept unless AW_MODE). */
	AW_NO_KEEP_OWNER_XATTRS = 1u << 5,
	/* Start the new contents as a copy of the current target (a reflink
	 * clone where the filesystem shares extents: btrfs, XFS with reflink,
	 * so even a huge file costs milliseconds; else an in-kernel copy), with
	 * the descriptor's offset at its end.  Change blocks in place with
	 * pwrite() on aw_file_fd(), append with aw_file_write(), then
	 * commit: a small edit of a big file, atomically, at the cost of the
	 * edit.  No target: the new contents start empty. */
	AW_COPY_TARGET = 1u << 6,
	/* Commit by exchanging contents instead of renaming (XFS made with
	 * `mkfs.xfs -i exchange=1`, Linux 6.10 or later): the target keeps
	 * its inode and with it its hard links, owner, group, mode, ACLs,
	 * extended attributes, inotify watches and bind mounts (save
	 * set-ID bits and file capabilities, which the kernel clears: see
	 * KEEPING THE INODE); nothing is
	 * copied and no privilege is needed, only read and write permission
	 * on the target (opened O_RDWR only at begin's dry run and at the
	 * commit, so ETXTBSY only for a program running at those moments)
	 * and write permission on its directory (the temporary is made
	 * there).  KEEPING THE
	 * INODE below says what begin checks and what others see. */
	AW_KEEP_INODE = 1u << 7,
	/* Commit only if the target has not changed since aw_file_begin():
	 * else the commit fails with EBUSY (step AW_STEP_TARGET_CHANGED),
	 * the target untouched, nothing left.  XFS's commit-range (Linux
	 * 6.12 and later; 6.10 and 6.11 exchange without it) compares the
	 * target's inode number, generation, ctime and mtime under its I/O
	 * and mmap locks just before the exchange's transaction.  Exact with
	 * multigrain timestamps (6.13 and later); before them timestamps
	 * are the coarse clock's tick, so begin waits (at most a tick, up to
	 * 50 ms) until that clock is past the target's ctime and mtime
	 * before recording them, and records again if the target changed
	 * meanwhile (EBUSY at AW_STEP_TARGET_CHANGED from begin after 5
	 * tries), which makes it exact
	 * there too - save for the wall clock stepped back between begin
	 * and a change, which can give the change the recorded times again.
	 * Implies AW_KEEP_INODE; where there is no commit-range it is
	 * refused at begin (EOPNOTSUPP), never replaced by a stat()
	 * comparison, which would race.  A
	 * read-modify-write without locks: begin, then read the target (or
	 * its AW_COPY_TARGET copy), write, commit; on EBUSY start over.  A
	 * change between a read made before begin and the begin is not
	 * seen. */
	AW_IF_UNCHANGED = 1u << 8
};

/*
 * KEEPING THE INODE (AW_KEEP_INODE, AW_IF_UNCHANGED)
 *
 * aw_file_begin() opens the target O_RDONLY, held until the commit,
 * which opens it again O_RDWR (the same inode, see below; begin's dry
 * run opens it O_RDWR for a moment too) (O_NOFOLLOW: a symbolic
 * link not followed is refused, EINVAL at AW_STEP_TARGET_TYPE), creates
 * the temporary in its directory, and asks the filesystem a dry-run
 * exchange of the two: where it cannot exchange (ext4, btrfs, tmpfs, an
 * XFS made without the feature, a kernel before 6.10, a system that is
 * not Linux) begin fails with EOPNOTSUPP at AW_STEP_EXCHANGE_CONTENTS,
 * having changed nothing; the commit never falls back to a rename.  The
 * decision is the kernel's answer (ENOTTY and ENOSYS count as
 * EOPNOTSUPP), never a version.  A target that does not exist fails at
 * AW_STEP_OPEN_TARGET with ENOENT: there is no inode to keep (replace
 * without the flag to create it).  A target that cannot be opened for
 * reading and writing fails there with that errno; one on another mount than its
 * directory (a bind-mounted single file) with EXDEV at the dry run.
 * The file opened must be the one begin first looked at: a symbolic link
 * or no file at that look fails there (EINVAL or ENOENT as above) before
 * anything is opened, and a different inode found at the name by the open
 * (a rename in between) fails with ESTALE at AW_STEP_STAT_TARGET; so the
 * fs.protected_regular rule (AW_STEP_PROTECTED_FILE) judges the inode
 * that would be written.  In a sticky world-writable directory another
 * user's file with more than one link is refused too (EACCES,
 * AW_STEP_PROTECTED_FILE: fs.protected_hardlinks' concern, whatever the
 * sysctl says), even where that user owns the directory.
 * With AW_IF_UNCHANGED begin also records the target's freshness
 * (XFS_IOC_START_COMMIT) before AW_COPY_TARGET copies it.
 *
 * AW_COPY_TARGET copies from the inode begin opened.  The commit first
 * opens the name again O_RDWR (a program running from the target then:
 * ETXTBSY at AW_STEP_OPEN_TARGET, untouched) and requires that inode,
 * still linked: if another writer renamed a file over the name (or removed it)
 * since begin, it fails without exchanging - EBUSY at
 * AW_STEP_TARGET_CHANGED with AW_IF_UNCHANGED (the target changed:
 * read again, retry), ESTALE at AW_STEP_STAT_TARGET without.  A rename
 * in the instant between that check and the exchange is not seen (no
 * lock holds the name): the contents then go to the inode renamed away.
 *
 * The commit exchanges all of the temporary's contents and size into the
 * target (XFS_IOC_EXCHANGE_RANGE or, with AW_IF_UNCHANGED,
 * XFS_IOC_COMMIT_RANGE, to the end of both files) as one logged
 * operation: after a crash the target holds the old contents or the new
 * ones, whole.  The temporary then holds the old contents and is
 * removed.  First (not with AW_IF_UNCHANGED) the target's holes under the
 * new size are allocated (fallocate FALLOC_FL_KEEP_SIZE: it reads the
 * same, its mtime and ctime change): XFS's log recovery (seen on Linux
 * 6.18 and 7.3.4) finishes an exchange cut short by a crash wrongly where
 * it must move blocks into a hole of the target - the target then has the
 * new size and first mapping and loses the rest - and with no hole there
 * it finishes it whole.  The exchange is asked without DSYNC (which forces
 * the log with the exchange's intent alone and leaves the swap to that
 * recovery until the next flush).  Durability: FULL and FILE - an fsync
 * of the target follows the exchange (the kernel writes both files' data
 * before it), so that the new contents survive a power cut once AW_OK is
 * returned (AW_UNSYNCED, step AW_STEP_SYNC_TARGET, if only that fsync
 * fails; AW_UNSYNCED at AW_STEP_EXCHANGE_CONTENTS with the kernel's errno
 * if the exchange failed after the swap - its clearing of set-ID bits:
 * the new contents are in place, their durability not assured; told by
 * the temporary's ctime, size or blocks having moved, so that on kernels
 * without multigrain timestamps (before 6.13) a swap of contents of one
 * size and block count within one clock tick of the temporary's last
 * write may still be reported AW_FAILED); NONE - no flush (atomic against
 * crashes, the contents may be old after a power cut).  No directory is
 * changed, so there is no directory fsync.
 *
 * Power cuts (README, TESTING.md round 4: guest Linux 7.3.4, an XFS made
 * with -i exchange=1): no torn or lost file in the cuts made since; the
 * earlier commit (DSYNC, holes left) tore a longer version cut between
 * its exchange and its fsync, as the control still does.  AW_IF_UNCHANGED
 * cannot allocate first (the commit would see the ctime change): a crash
 * that cuts its exchange short (only if the kernel logs the exchange's
 * first step apart from the rest, which the missing DSYNC makes rare) may
 * still tear a version longer than the old, on the kernels above.
 *
 * What others see (tests/unit/test_keep_inode.c): every read() or pread()
 * returns old bytes or new bytes, never a mix (the exchange holds the
 * file's I/O lock); a reader holding the file open reads the new contents
 * from the exchange on - at its current offset, so a reader of several
 * read() calls may get old bytes then new ones, as with any in-place
 * writer (a renaming writer would leave it reading the old inode); a
 * shared mmap() shows the new contents from the exchange on (beyond a
 * smaller new size, SIGBUS); an O_APPEND writer's write between begin and
 * commit is lost by a plain AW_KEEP_INODE commit (the exchange takes the
 * temporary's contents as a whole) and makes an AW_IF_UNCHANGED commit
 * fail with EBUSY; after the commit its writes go to the end of the new
 * contents.  The kernel treats the exchange as a write to the target:
 * mtime and ctime change, set-user-ID and set-group-ID bits are cleared
 * as a write by the caller would clear them (a caller with CAP_FSETID
 * keeps them), and file capabilities (the security.capability attribute,
 * setcap(8)) are removed on every exchange, whoever makes it: a program
 * given capabilities needs them set again after its replacement.
 *
 * Refused with EINVAL (AW_STEP_ARGS): AW_KEEP_INODE with AW_NO_CLOBBER,
 * AW_MODE or AW_NO_KEEP_OWNER_XATTRS (the target keeps its own), in a
 * batch's flags, and aw_file_keep_backup() on such a handle (the old
 * inode is the target itself).
 */

/* Options for a replacement.  A zeroed struct (or NULL) is the default:
 * full durability, symlinks replaced, mode/owner/xattrs kept.  Unknown
 * flags and durabilities fail with EINVAL (AW_STEP_ARGS); size as OPTION
 * STRUCTS above says. */
typedef struct aw_options {
	size_t size;          /* 0 (the 1.0 layout) or sizeof(aw_options) */
	aw_durability durability;
	unsigned int flags;   /* an OR of enum aw_flags */
	mode_t mode;          /* permission bits, with AW_MODE only (else 0) */
} aw_options;

/* The defaults, with size set: aw_options o = AW_OPTIONS_INIT; */
#define AW_OPTIONS_INIT { sizeof(aw_options), AW_DURABILITY_FULL, 0, 0 }

/* Return values of aw_file_commit() and aw_file_replace(). */
enum aw_result {
	AW_OK = 0,
	/* failed: the target is untouched and no temporary file remains */
	AW_FAILED = -1,
	/* the target was replaced, but the fsync of its directory failed:
	 * the new contents are in place now, they may not survive a power
	 * cut (errno tells why).  Retrying the fsync proves nothing. */
	AW_UNSYNCED = -2
};

/* The steps of a replacement, as reported in aw_error.step. */
typedef enum aw_step {
	AW_STEP_NONE = 0,
	AW_STEP_ARGS,           /* checking the arguments */
	AW_STEP_OPEN_DIR,       /* opening the target's directory */
	AW_STEP_RESOLVE_LINK,   /* following a symbolic link */
	AW_STEP_LOCK,           /* taking the directory lock */
	AW_STEP_STAT_TARGET,    /* looking at the existing target */
	AW_STEP_TARGET_TYPE,    /* the target is not a regular file */
	AW_STEP_CREATE_TEMP,    /* creating the temporary file */
	AW_STEP_WRITE,          /* writing the new contents */
	AW_STEP_READ_SOURCE,    /* reading the new contents (CLI, copies) */
	AW_STEP_CHOWN,          /* giving the new file the old owner */
	AW_STEP_XATTRS,         /* copying extended attributes and ACLs */
	AW_STEP_CHMOD,          /* setting the mode */
	AW_STEP_LINK_TEMP,      /* naming the unnamed temporary file */
	AW_STEP_SYNC_TEMP,      /* fsync of the temporary file */
	AW_STEP_RENAME,         /* renaming the temporary file over the target */
	AW_STEP_SYNC_DIR,       /* fsync of the directory after the rename */
	AW_STEP_SWEEP,          /* removing leftovers (aw_dir_sweep) */
	/* directory publication (aw_link_publish() and friends) */
	AW_STEP_INSPECT_LINK,   /* looking at what stands at the link's name */
	AW_STEP_MAKE_VERSION,   /* creating the new version directory */
	AW_STEP_POPULATE,       /* the caller's populate callback failed */
	AW_STEP_COPY_TREE,      /* copying a source tree entry (path: the entry) */
	AW_STEP_SYNC_TREE,      /* fsync of the new version's files and dirs */
	AW_STEP_MAKE_LINK,      /* creating the temporary symbolic link */
	AW_STEP_SWITCH_LINK,    /* renaming it over the link */
	AW_STEP_ADOPT,          /* exchanging a real directory for the link */
	AW_STEP_FIND_VERSION,   /* finding the version to roll back to */
	AW_STEP_EXCHANGE,       /* exchanging two paths (aw_path_exchange) */
	AW_STEP_BACKUP,         /* keeping the old file as a backup */
	AW_STEP_PROTECTED_FILE, /* the target is another user's file in a
	                           sticky world-writable directory (EACCES) */
	AW_STEP_OPEN_TARGET,    /* opening the target for writing (AW_KEEP_INODE) */
	AW_STEP_EXCHANGE_CONTENTS, /* exchanging contents with the target
	                           (AW_KEEP_INODE: the dry run at begin, the
	                           exchange at commit) */
	AW_STEP_SYNC_TARGET,    /* fsync of the target after the exchange */
	AW_STEP_TARGET_CHANGED  /* AW_IF_UNCHANGED found the target changed
	                           since begin (EBUSY; only this step means
	                           that: the kernel's own EBUSY elsewhere is
	                           a failure like any other) */
} aw_step;

/* The size of each path in aw_error, terminating NUL included. */
#define AW_PATH_MAX_BYTES 4096

/*
 * What went wrong: filled by any failing call given a non-NULL pointer.
 * The library fills it whole (it has no size field: the caller does not
 * fill it), so it is the same for every 1.x: later fields come out of
 * reserved.
 */
typedef struct aw_error {
	int err;           /* the errno value */
	aw_step step;      /* the step that failed */
	/* the path it failed on, as the caller gave it (truncated if
	 * longer) */
	char path[AW_PATH_MAX_BYTES];
	/* the second path of a step that involves two, else "":
	 * aw_path_exchange()'s second path (step AW_STEP_EXCHANGE, or
	 * AW_STEP_ARGS, AW_STEP_SYNC_DIR), the backup's name in the
	 * target's directory (AW_STEP_BACKUP, once it is known) */
	char path2[AW_PATH_MAX_BYTES];
	unsigned int reserved[16];   /* zeroed by the library */
} aw_error;

/* A short description of a step, e.g. "fsync of temporary file for". */
const char *aw_step_name(aw_step step);

/* A buffer of this many bytes always holds aw_error_format()'s whole
 * message, whatever the paths. */
#define AW_ERROR_FORMAT_SIZE (2 * AW_PATH_MAX_BYTES + 512)

/* Writes "STEP PATH: REASON" into buf (always NUL-terminated when size
 * is not 0, truncated if size is smaller than the message) and returns
 * buf.  With a second path: "exchanging PATH and PATH2: REASON", or for a
 * backup "keeping a backup of PATH as PATH2: REASON".  REASON is
 * strerror(), and a few say more: EACCES creating the temporary file adds
 * that the directory must be writable (the new file is made there, not
 * in the old one). */
char *aw_error_format(const aw_error *e, char *buf, size_t size);

/* ---- streaming replacement ------------------------------------------- */

typedef struct aw_file aw_file;

/*
 * Begins the replacement of path (relative paths from the current
 * directory).  On success stores a handle in *ret and returns 0; the target
 * is not touched until aw_file_commit().  Fails with EISDIR for a directory and
 * EINVAL for a FIFO, socket or device (never opening it), ENAMETOOLONG for
 * a name no temporary name fits beside, and whatever open() may say.
 * In a sticky world-writable directory (/tmp) a file owned by neither the
 * caller's effective user nor the directory's owner is refused with EACCES
 * (step AW_STEP_PROTECTED_FILE), as the kernel's fs.protected_regular
 * refuses to open it for writing, whatever that sysctl says: replacing it
 * would keep its owner and mode and so hand that user a file with our
 * contents (set-user-ID, even).  The descriptors the library opens are
 * never 0, 1 or 2, even if the caller runs with those closed.
 */
int aw_file_begin(aw_file **ret, const char *path, const aw_options *opts,
             aw_error *err);

/* The same for name relative to the directory dirfd (or AT_FDCWD), as
 * PATHS AND DIRECTORY DESCRIPTORS says: name may contain slashes; dirfd
 * is not closed and may be closed once aw_file_begin_at() returns.  The
 * handle keeps its own descriptor of the target's directory. */
int aw_file_begin_at(aw_file **ret, int dirfd, const char *name,
                const aw_options *opts, aw_error *err);

/* The temporary file's descriptor, open for reading and writing, for
 * callers that write themselves (write(), sendfile(), mmap() ...).  It is
 * closed by aw_file_commit()/aw_file_discard(); do not close it. */
int aw_file_fd(const aw_file *f);

/* Writes all of buf, retrying short writes and EINTR.  Returns 0, or -1
 * (the handle stays valid; aw_file_discard() it). */
int aw_file_write(aw_file *f, const void *buf, size_t len, aw_error *err);

/*
 * The temporary file's name in the target's directory (aw_file_dirfd()), for
 * callers that must hand the new contents to another program before
 * committing (a validator, an editor).  An unnamed O_TMPFILE is given its
 * hidden name now, as aw_file_commit() would.  The string lives as long as f.
 * NULL on failure (then a commit is refused).  Whoever opens the name must
 * not rename or remove it: aw_file_commit() renames that name.
 */
const char *aw_file_temp_name(aw_file *f, aw_error *err);

/* The target's directory, open, for *at() calls; closed with f. */
int aw_file_dirfd(const aw_file *f);

/*
 * Keeps the target's current file as a backup named NAME + suffix (e.g.
 * "~") in the same directory: a hard link to it, made now under the old
 * file's temporary name (holding a shared flock() on the old file, so that
 * a concurrent aw_dir_sweep() leaves the link), and renamed over any older
 * backup by aw_file_commit() only after the commit's own rename has succeeded,
 * so the backup too appears atomically and a commit that fails (or an
 * aw_file_discard()) leaves an older backup as it was.  If that last rename
 * fails, the commit puts the old file back at the target's name and fails
 * (AW_FAILED, step AW_STEP_BACKUP); if even that fails, the new contents
 * stay, without a backup, and the commit returns AW_UNSYNCED with step
 * AW_STEP_BACKUP.  The commit's directory fsync makes the backup durable
 * with the new contents.  Nothing to back up (no target yet) is not an
 * error; a directory at the backup's name fails now with EISDIR.  Calling
 * it again replaces the earlier request.  Returns 0 or -1 (step
 * AW_STEP_BACKUP).
 */
int aw_file_keep_backup(aw_file *f, const char *suffix, aw_error *err);

/*
 * Appends everything srcfd holds, from its current offset to its end, to
 * the new contents, as cheaply as the filesystem allows: into an empty
 * temporary file from a regular file at offset 0, a reflink clone (the
 * blocks are shared, so a 1 GiB copy on btrfs or XFS takes milliseconds);
 * else copy_file_range(); else read() and write().  Holes stay holes: a
 * sparse source is copied one data region at a time (SEEK_DATA/SEEK_HOLE),
 * with the exact size.  srcfd is not closed.
 * Returns 0, or -1 with the step AW_STEP_READ_SOURCE or AW_STEP_WRITE
 * (the handle stays valid; aw_file_discard() it, a commit is refused).
 */
int aw_file_copy_from(aw_file *f, int srcfd, aw_error *err);

/*
 * Makes the new contents the target's, as the protocol above says, and
 * frees f whatever happens.  Returns AW_OK, AW_FAILED (target untouched,
 * nothing left behind) or AW_UNSYNCED (replaced, durability unknown).
 * The old owner and group are kept where the writer may set them; where
 * it may not (chown fails with EPERM, with EINVAL for a caller other than
 * root, as in a user namespace where the old owner has no id, or with
 * ENOSYS), the new file is the writer's, as with mv(1).  Root failing to
 * set an owner fails the commit (step AW_STEP_CHOWN).
 */
int aw_file_commit(aw_file *f, aw_error *err);

/* Abandons the replacement: the target is untouched and the temporary file
 * is removed.  Accepts NULL.  Keeps errno. */
void aw_file_discard(aw_file *f);

/* ---- one call ------------------------------------------------------- */

/* Replaces path with len bytes of buf (buf may be NULL when len is 0):
 * aw_file_begin(), aw_file_write(), aw_file_commit().  Returns as
 * aw_file_commit(): AW_OK, AW_FAILED (target untouched, nothing left
 * behind) or AW_UNSYNCED. */
int aw_file_replace(const char *path, const void *buf, size_t len,
               const aw_options *opts, aw_error *err);

/* The same for name relative to dirfd (aw_file_begin_at()).  For a name
 * without a slash (and neither AW_FOLLOW_SYMLINKS nor AW_LOCK) a dirfd
 * open for reading (below AW_DURABILITY_FULL, an O_PATH one too) is used
 * itself, not reopened, until the call returns: like any *at() call's, it
 * must stay open that long.  Below AW_DURABILITY_FULL (and without
 * AW_LOCK, AW_KEEP_INODE, AW_FOLLOW_SYMLINKS) aw_file_replace*() opens the
 * directory O_PATH (Linux; elsewhere for reading): it needs search and
 * write permission on it, not read permission. */
int aw_file_replace_at(int dirfd, const char *name, const void *buf, size_t len,
                  const aw_options *opts, aw_error *err);

/* ---- batches ---------------------------------------------------------- */

/*
 * A batch replaces many files durably for little more than the cost of
 * one: all new files are written, then flushed together (fsyncs issued in
 * parallel, or one syncfs() per filesystem), then renamed, then each
 * distinct directory is fsynced once.  Each file is replaced atomically as
 * with aw_file_commit(); the batch as a whole is not one atomic step.
 *
 * Semantics of aw_batch_commit(): if anything fails before the first
 * rename (writing, naming, metadata, flushing), no target is touched,
 * every temporary file is removed and AW_FAILED is returned.  A rename
 * that fails leaves the entries renamed before it replaced (durably, once
 * their directory is fsynced) and abandons it and the ones after it;
 * AW_FAILED, and the per-entry results say which is which.
 */
typedef struct aw_batch aw_batch;

/* How the new files are flushed before the renames. */
typedef enum aw_batch_flush {
	/* syncfs() when the batch has at least 16 files on a filesystem,
	 * else parallel fsyncs (measured: bench/batch/README.md) */
	AW_BATCH_AUTO = 0,
	AW_BATCH_SEQUENTIAL,  /* one fsync after another */
	AW_BATCH_PARALLEL,    /* fsyncs from up to 16 threads at once */
	AW_BATCH_SYNCFS       /* one syncfs() per filesystem (Linux) */
} aw_batch_flush;

typedef struct aw_batch_options {
	size_t size;               /* 0 (the 1.0 layout) or sizeof */
	aw_durability durability;  /* for the whole batch; FULL by default */
	unsigned int flags;        /* aw_flags for every file; AW_LOCK fails
	                            * aw_batch_new() with EINVAL (entries
	                            * sharing a directory would wait for each
	                            * other), as do unknown flags */
	aw_batch_flush flush;
	mode_t mode;               /* with AW_MODE: every file's exact mode;
	                            * else 0, and every file keeps its old
	                            * mode (or gets 0666 & ~umask) */
} aw_batch_options;

/* The defaults, with size set. */
#define AW_BATCH_OPTIONS_INIT \
	{ sizeof(aw_batch_options), AW_DURABILITY_FULL, 0, AW_BATCH_AUTO, 0 }

/*
 * Makes an empty batch (opts NULL: the defaults) and stores it in *ret.
 * Returns 0, or -1 at AW_STEP_ARGS: EINVAL for AW_LOCK, an unknown flag,
 * durability or flush, or a mode without AW_MODE; E2BIG or EINVAL for a
 * size as OPTION STRUCTS says; ENOMEM.  Nothing is opened until entries
 * are added.  Free it with aw_batch_commit() or aw_batch_discard().
 */
int aw_batch_new(aw_batch **ret, const aw_batch_options *opts, aw_error *err);

/* Stages the replacement of path, as aw_file_begin() does (with the
 * batch's durability, flags and mode), and returns its handle: write to
 * it with aw_file_write(), aw_file_fd() or aw_file_copy_from(), but do not
 * commit or discard it: the batch does.
 *
 * A batch of any size fits the usual limit of 1024 descriptors: it holds
 * one descriptor per distinct directory (so the number of directories, not
 * of files, must stay below the limit: beyond it, EMFILE) and at most 64
 * temporary files open.  Staging the 65th closes the oldest (naming it
 * first), and aw_file_write(), aw_file_copy_from() and aw_file_fd() on a
 * closed handle reopen it by name (O_NOFOLLOW, and only the very inode it
 * closed, else ESTALE at AW_STEP_CREATE_TEMP), at the end of its contents.
 * So a descriptor from aw_file_fd() on a batch entry stays valid only
 * until 64 other entries of the batch have been staged or reopened since:
 * write through it at once, or call aw_file_fd() again.  A closed
 * temporary has no writer's flock() of its own: its name carries the
 * batch's tag, and the batch holds a lock file (".awtmp-INO-TAG-", one
 * inode per filesystem linked into each directory, LOCK_EX for the batch's
 * life) that aw_dir_sweep() honours.
 */
int aw_batch_add(aw_batch *b, aw_file **ret, const char *path, aw_error *err);

/* The same for name relative to dirfd (see aw_file_begin_at()). */
int aw_batch_add_at(aw_batch *b, aw_file **ret, int dirfd, const char *name,
                    aw_error *err);

/* Stages path with len bytes of buf.  Returns 0 or -1; a failed write
 * fails the batch's commit before any target is touched. */
int aw_batch_add_buffer(aw_batch *b, const char *path, const void *buf,
                        size_t len, aw_error *err);

/* The same for name relative to dirfd. */
int aw_batch_add_buffer_at(aw_batch *b, int dirfd, const char *name,
                           const void *buf, size_t len, aw_error *err);

/* Number of staged entries. */
size_t aw_batch_size(const aw_batch *b);

/*
 * Commits every staged entry as described above and frees b.  If results
 * is not NULL it receives one value per entry, in the order added: AW_OK,
 * AW_FAILED or AW_UNSYNCED.  Returns AW_OK, AW_FAILED or AW_UNSYNCED (all
 * replaced, a directory fsync failed); err describes the first failure.
 */
int aw_batch_commit(aw_batch *b, int *results, aw_error *err);

/* Abandons every staged entry: no target is touched.  Accepts NULL. */
void aw_batch_discard(aw_batch *b);

/* ---- leftovers ------------------------------------------------------ */

/* Called by aw_dir_sweep() for each entry it removed. */
typedef void (*aw_sweep_fn)(const char *name, void *ctx);

/*
 * Removes from the directory path the temporary files of writers that died
 * before committing (killed, powered off).  A name proves nothing (an
 * editor's swap file beside a scratch copy looks like one of ours): a file
 * is removed only if it is provably one a writer of this library created.
 * Each temporary file's name is ".awtmp-" + its own inode number (16
 * lowercase hexadecimal digits) + "-" + 8 random letters and digits + "-" +
 * the target's name, given once the file exists; an entry is removed only
 * if it is a regular file (links are never followed, nothing else is
 * opened) whose inode is the one its name spells, no process holds its
 * flock() (every writer holds one on its temporary file for its whole
 * life, aw_file_keep_backup() a shared one on the old file while its link
 * exists), no live batch's lock covers it (aw_batch_add()), and the name
 * still refers to it when removed.  So sweeping while writers, editors and
 * batches work is safe, and sweeping twice is harmless.  The one entry of
 * another form that goes: an empty regular file of the sweeper's own named
 * ".awtmp-" + 12 letters and digits + "-" + a name, which is what a writer
 * killed between creating its named temporary file and naming it leaves
 * (AW_NO_TMPFILE and systems without O_TMPFILE); an empty file loses no
 * data.  Leftovers of versions before 0.2, whose names carried no inode,
 * are left: remove them by hand.
 *
 * When no publisher holds the directory's lock, it also removes what dead
 * publishers left: their temporary symbolic links (owned by the caller),
 * half-built versions (".awbld-" directories no live publisher holds),
 * and version directories that are neither the one their link points at
 * nor among the kept older ones (all of a link's versions if no link of
 * ours stands at its name).  Only real directories owned by the caller's
 * euid are ever removed: a link, a file or another user's directory with
 * such a name is left alone.  The live version is the one the link
 * resolves to (same device and inode, however its target is spelled:
 * "./.awver-...", an absolute path); it is never touched and nothing is
 * followed out of the directory.  Directories of ours made read-only
 * (mode 0555) are made writable to be emptied; what cannot be removed is
 * reported with its own errno (EACCES), not ENOTEMPTY.  If a publisher
 * is at work, these are left for a later sweep.
 *
 * The lock: publishers' leftovers are looked at only if the directory
 * holds any (entries with their names), and then with the directory's lock
 * taken without waiting; a dead holder's lock file is removed too.  If a
 * live writer holds the lock (or a lock file stands there that this caller
 * cannot judge), they are left for a later sweep: aw_dir_sweep() says so.
 *
 * flags is an OR of enum aw_sweep_flags (an unknown flag fails with
 * EINVAL).  If status is not NULL, *status receives what the sweep could
 * not do (an OR of enum aw_sweep_status_bits, 0 if it was complete)
 * whenever the call returns >= 0.  Returns the number of entries removed
 * (or, with AW_SWEEP_DRY_RUN, that would be), or -1.
 */
int aw_dir_sweep(const char *path, unsigned int flags, aw_sweep_fn fn,
                 void *ctx, unsigned int *status, aw_error *err);

/* The same for the open directory dirfd itself (not a name in it: its
 * whole path is the descriptor); dirfd is not closed.  Errors on the
 * directory itself name it "."; on an entry, the entry's name. */
int aw_dir_sweep_at(int dirfd, unsigned int flags, aw_sweep_fn fn, void *ctx,
                    unsigned int *status, aw_error *err);

/* Flags for aw_dir_sweep(). */
enum aw_sweep_flags {
	/* Remove nothing: call fn for each entry a sweep would remove now,
	 * after the same checks, and return their number.  The directory's
	 * lock is not taken (publishers' leftovers are listed as if no
	 * publisher were at work). */
	AW_SWEEP_DRY_RUN = 1u << 0
};

/* Bits aw_dir_sweep() stores in *status. */
enum aw_sweep_status_bits {
	/* The directory's lock was held by a live writer (or could not be
	 * judged): what publishers leave was not looked at; sweep again
	 * later. */
	AW_SWEEP_LOCK_HELD = 1u << 0
};

/* ---- directory publication ------------------------------------------ */

/*
 * Publishing replaces a whole directory tree at once.  LINK is a symbolic
 * link; each publication builds a complete new version directory beside
 * it, in the same parent, and then renames a new symbolic link over LINK.
 * A reader that opens LINK/any/path gets a file of one complete version,
 * the old one or the new one, never a mix.
 *
 * A reader that opens LINK/ once and reads relative to it reads one whole
 * version for as long as that version exists, and no longer: with keep 0
 * the version switched away from is removed right after the switch, so
 * such a reader's next open of a name it has not opened yet fails with
 * ENOENT (never giving a file of another version), while files it already
 * holds open stay readable; with keep N the version stays through the
 * next N publications.  A reader that must outlast a publication needs
 * keep 1 or more (or to reopen LINK/ and start over on ENOENT).
 *
 * Version directories are named ".awver-" + 20 digits (nanoseconds since
 * the epoch, strictly increasing per link) + "-k" + the number of older
 * versions to keep + "-" + LINK's name, so they sort by age and a sweep
 * knows which are ours and how many to keep.  LINK's name may therefore
 * be at most NAME_MAX - 33 bytes.  A version is built under the same name
 * with the prefix ".awbld-" (mode 0700) and renamed to its ".awver-" name
 * only once it is complete, has its final mode and is on disk: that
 * rename, made durable by an fsync of the parent, is the completeness
 * mark, before any link may point at it.  A publisher killed (or a power
 * cut) before it leaves a ".awbld-" directory, which is never kept,
 * counted, rolled back to or served; aw_dir_sweep() removes it.
 *
 * A name is not enough to be a version: publishing, pruning, rollback and
 * sweep count an entry only if lstat says it is a real directory (never a
 * symbolic link, which is never followed in its place) owned by the
 * caller's euid.  A look-alike planted by another user (in a sticky
 * directory, say) is neither served nor counted nor removed.
 *
 * The protocol: lock the parent directory (the directory lock AW_LOCK
 * takes, so publishers of one parent take turns and a killed one's lock is
 * cleared by the next); create the ".awbld-" directory; populate it; give
 * it its final mode; fsync every file and directory in it, bottom-up;
 * rename it to its ".awver-" name and fsync the parent; create a
 * temporary symbolic link to it (a relative link, so the parent may be
 * moved or mounted elsewhere); rename that over LINK; fsync the parent;
 * remove versions beyond the ones kept.  On failure before the rename,
 * LINK is untouched and the new version and the temporary link are
 * removed.  Removing old versions after the switch is best effort: what
 * is left is removed by the next publication or by aw_dir_sweep().
 */

/* Fills the new version directory, given as an open descriptor (the
 * library's: do not close it) and as a path (its ".awbld-" name, valid
 * only during the call).  Returns 0, or -1 with errno
 * set to abandon the publication (reported as AW_STEP_POPULATE). */
typedef int (*aw_populate_fn)(int dirfd, const char *path, void *ctx);

enum aw_publish_flags {
	/* If a real directory stands at LINK, turn it into the previous
	 * version and put the link in its place, in one atomic exchange
	 * (renameat2 RENAME_EXCHANGE; EOPNOTSUPP where the kernel or
	 * filesystem has no such exchange).  Without it, EISDIR.  The
	 * adopted directory is kept for rollback (keep 0 counts as 1) unless
	 * AW_PUBLISH_DISCARD_ADOPTED is given too.  It counts as a version
	 * only if the publisher owns it. */
	AW_PUBLISH_ADOPT = 1u << 0,
	/* With AW_PUBLISH_ADOPT and keep 0: keep 0 means 0, the adopted
	 * directory is removed once the link is in its place. */
	AW_PUBLISH_DISCARD_ADOPTED = 1u << 1,
	/* Give the new version directory exactly aw_publish_options.mode
	 * (MODES above) instead of the source tree's mode
	 * (aw_link_publish_tree()) or 0755 (aw_link_publish()). */
	AW_PUBLISH_MODE = 1u << 2
};

typedef struct aw_publish_options {
	size_t size;               /* 0 (the 1.0 layout) or sizeof */
	aw_durability durability;  /* as for files; FULL by default */
	unsigned int flags;        /* an OR of enum aw_publish_flags */
	unsigned int keep;         /* older versions kept for rollback, <= 999 */
	mode_t mode;               /* with AW_PUBLISH_MODE: the version
	                            * directory's final mode; else 0 */
} aw_publish_options;

/* The defaults, with size set. */
#define AW_PUBLISH_OPTIONS_INIT \
	{ sizeof(aw_publish_options), AW_DURABILITY_FULL, 0, 0, 0 }

/* Publishes a new version filled by populate.  Returns AW_OK, AW_FAILED
 * (LINK untouched, nothing left behind) or AW_UNSYNCED (LINK switched,
 * the parent's fsync failed).  EINVAL at AW_STEP_ARGS for a NULL link or
 * populate, an unknown flag or durability, keep over 999, or a mode
 * without AW_PUBLISH_MODE. */
int aw_link_publish(const char *link, aw_populate_fn populate, void *ctx,
               const aw_publish_options *opts, aw_error *err);

/* The same for link relative to dirfd.  The path given to populate is
 * then relative to dirfd too (it names the version beside link). */
int aw_link_publish_at(int dirfd, const char *link, aw_populate_fn populate,
                       void *ctx, const aw_publish_options *opts,
                       aw_error *err);

/* Publishes a copy of the tree at srcdir: regular files (by reflink,
 * copy_file_range or read/write), directories and symbolic links, with
 * their modes and modification times (and owners, when run as root).
 * Hard links become separate files; a FIFO, socket or device in the tree
 * fails the publication with EINVAL (AW_STEP_COPY_TREE, path: the entry)
 * without being opened.  Each entry is opened first (O_NOFOLLOW,
 * O_NONBLOCK: never waiting on one swapped for a FIFO) and judged by the
 * opened descriptor: the mode, owner and times a copy gets are those of
 * the very file whose contents it holds, even if the tree's owner swaps
 * entries during the copy.  Holes in sparse files are kept. */
int aw_link_publish_tree(const char *link, const char *srcdir,
                    const aw_publish_options *opts, aw_error *err);

/* The same for link relative to dirfd and srcdir relative to srcdirfd
 * (each AT_FDCWD or a directory descriptor; neither is closed). */
int aw_link_publish_tree_at(int dirfd, const char *link, int srcdirfd,
                            const char *srcdir,
                            const aw_publish_options *opts, aw_error *err);

/* Points LINK back at the newest kept version older than the current one,
 * atomically and durably, and removes the version it rolled back from.
 * Only complete versions of ours count (see above).  ENOENT
 * (AW_STEP_FIND_VERSION) if no older version is kept. */
int aw_link_rollback(const char *link, aw_error *err);

/* The same for link relative to dirfd. */
int aw_link_rollback_at(int dirfd, const char *link, aw_error *err);

/* Makes linkpath a symbolic link to target, atomically (a temporary link
 * renamed over it, under the directory's lock) and durably (the parent is
 * fsynced).  Whatever stood at linkpath is replaced, except a directory:
 * EISDIR (AW_STEP_TARGET_TYPE).  target is stored as it is, never
 * resolved; an empty one fails with EINVAL.  Returns AW_OK, AW_FAILED
 * (nothing changed) or AW_UNSYNCED (replaced, the fsync failed). */
int aw_link_set(const char *target, const char *linkpath, aw_error *err);

/* The same for linkpath relative to dirfd, as symlinkat() takes them. */
int aw_link_set_at(const char *target, int dirfd, const char *linkpath,
                   aw_error *err);

/* Swaps the two paths atomically, whatever their types (renameat2
 * RENAME_EXCHANGE), and fsyncs both parents.  Both must exist on one
 * filesystem.  EOPNOTSUPP where the kernel or filesystem cannot.  Returns
 * AW_OK, AW_FAILED (nothing changed) or AW_UNSYNCED (swapped, a parent's
 * fsync failed); the error carries path1 in path and path2 in path2. */
int aw_path_exchange(const char *path1, const char *path2, aw_error *err);

/* The same for path1 relative to dirfd1 and path2 relative to dirfd2, as
 * renameat2() takes them. */
int aw_path_exchange_at(int dirfd1, const char *path1, int dirfd2,
                        const char *path2, aw_error *err);

/* ---- opt-in cleanup on exit and fatal signals ------------------------ */

/*
 * Installs handlers for SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE and
 * atexit() that remove this process's named temporary files still in
 * flight, then let the signal do what it did before.  Signals the process
 * ignores stay ignored.  Call it once, early, from the main thread; calling
 * it again does nothing.  Unnamed (O_TMPFILE) temporaries need no cleanup:
 * the kernel frees them.  SIGKILL cannot be caught: aw_dir_sweep() covers it.
 * Returns 0 or -1.
 */
int aw_cleanup_install(void);

#ifdef __cplusplus
}
#endif

#endif /* ATOMICWRITE_H */
