/* SPDX-License-Identifier: MIT */
/*
 * dmctl.c - device-mapper control ioctls (see dmctl.h).  Each request is
 * one struct dm_ioctl followed, at data_start, by its payload: a target
 * spec and its parameters for a table load, a struct dm_target_msg for a
 * message, room for the answer for a status.
 */
#define _GNU_SOURCE
#include "dmctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define BUFSIZE 16384

/* Aligned for the structures the kernel places in it. */
static union {
	struct dm_ioctl io;
	uint64_t align;
	char bytes[BUFSIZE];
} req;

static int control = -1;

/* Start a request for device NAME whose payload has LEN bytes; returns a
 * pointer to the payload. */
static char *begin(const char *name, size_t len)
{
	memset(&req, 0, sizeof req);
	req.io.version[0] = DM_VERSION_MAJOR;
	req.io.version[1] = DM_VERSION_MINOR;
	req.io.version[2] = DM_VERSION_PATCHLEVEL;
	req.io.data_start = (sizeof req.io + 7) & ~7u;
	req.io.data_size = req.io.data_start + (uint32_t)len;
	snprintf(req.io.name, sizeof req.io.name, "%s", name);
	return req.bytes + req.io.data_start;
}

static int submit(unsigned long cmd)
{
	if (control < 0) {
		/* Kept open: the workload sends a mark after every replace. */
		control = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
		if (control < 0)
			return -1;
	}
	return ioctl(control, cmd, &req.io) < 0 ? -1 : 0;
}

static int device_of(const char *path, char *out, size_t outlen, uint64_t *sectors)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fstat(fd, &st) < 0 || ioctl(fd, BLKGETSIZE64, sectors) < 0 ? -1 : 0;
	close(fd);
	if (r < 0)
		return -1;
	if (!S_ISBLK(st.st_mode)) {
		errno = ENOTBLK;
		return -1;
	}
	*sectors /= 512;
	snprintf(out, outlen, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

int dm_logwrites_create(const char *name, const char *data, const char *log, unsigned *minor_out)
{
	char datadev[32], logdev[32];
	uint64_t sectors, logsectors;
	if (device_of(data, datadev, sizeof datadev, &sectors) < 0 ||
	    device_of(log, logdev, sizeof logdev, &logsectors) < 0)
		return -1;

	begin(name, 0);
	if (submit(DM_DEV_CREATE) < 0)
		return -1;
	*minor_out = minor(req.io.dev);

	char params[80];
	int plen = snprintf(params, sizeof params, "%s %s", datadev, logdev);
	struct dm_target_spec *spec = (void *)begin(name, sizeof *spec + (size_t)plen + 1);
	spec->sector_start = 0;
	spec->length = sectors;
	snprintf(spec->target_type, sizeof spec->target_type, "log-writes");
	memcpy(spec + 1, params, (size_t)plen + 1);
	req.io.target_count = 1;
	/* Loaded into the inactive slot, made live by a resume. */
	if (submit(DM_TABLE_LOAD) < 0)
		goto undo;
	begin(name, 0);
	if (submit(DM_DEV_SUSPEND) < 0)
		goto undo;
	return 0;
undo:;
	int saved = errno;
	dm_remove(name);
	errno = saved;
	return -1;
}

int dm_message(const char *name, const char *message)
{
	size_t n = strlen(message) + 1;
	if (sizeof(struct dm_target_msg) + n > BUFSIZE - sizeof req.io - 8) {
		errno = E2BIG;
		return -1;
	}
	struct dm_target_msg *msg = (void *)begin(name, sizeof *msg + n);
	msg->sector = 0;
	memcpy(msg->message, message, n);
	return submit(DM_TARGET_MSG);
}

int dm_status(const char *name, char *out, size_t outlen)
{
	begin(name, BUFSIZE - sizeof req.io - 8);
	if (submit(DM_TABLE_STATUS) < 0)
		return -1;
	if (req.io.flags & DM_BUFFER_FULL_FLAG) {
		errno = ENOSPC;
		return -1;
	}
	if (req.io.target_count != 1) {
		errno = ENODEV;
		return -1;
	}
	/* One target: its spec, then its status text. */
	struct dm_target_spec *spec = (void *)(req.bytes + req.io.data_start);
	snprintf(out, outlen, "%s", (char *)(spec + 1));
	return 0;
}

int dm_remove(const char *name)
{
	begin(name, 0);
	return submit(DM_DEV_REMOVE);
}
