/* SPDX-License-Identifier: MIT */
/*
 * dmctl.h - the few device-mapper ioctls the power-loss guest needs, for a
 * busybox system without dmsetup: stack a log-writes target over a disk,
 * send it marks, read its status, take it down.  Every function returns 0
 * or -1 with errno set.
 */
#ifndef AW_POWERLOSS_DMCTL_H
#define AW_POWERLOSS_DMCTL_H

#include <stddef.h>

/* Create device NAME as "log-writes DATA LOG" over the whole of block device
 * DATA, live; its node is /dev/dm-MINOR (devtmpfs). */
int dm_logwrites_create(const char *name, const char *data, const char *log, unsigned *minor);
/* Send a target message (for log-writes: "mark TEXT"). */
int dm_message(const char *name, const char *message);
/* The target's status line ("<entries> <last sector>[ logging_disabled]"). */
int dm_status(const char *name, char *out, size_t outlen);
/* Remove the device; log-writes then writes its last entries and super. */
int dm_remove(const char *name);

#endif
