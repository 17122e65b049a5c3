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
                       AW_NO_TMPFILE | AW_NO_KEEP_OWNER_XATTRS)

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
	int cleanup_slot;      /* index in the opt-in registry, or -1 */
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

/* Resolves the target (path or dirfd/name) to an opened directory and a
 * final name, following symlinks if asked: sets f->dirfd and f->name. */
int aw__open_target(struct aw_file *f, int dirfd, const char *path,
                    aw_error *e);

/* Makes the temporary file's owner, extended attributes and mode those the
 * new file must have (see aw_commit()). */
int aw__apply_metadata(struct aw_file *f, aw_error *e);

/* Opt-in cleanup registry (cleanup.c).  register returns a slot or -1. */
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

#endif /* AW_INTERNAL_H */
