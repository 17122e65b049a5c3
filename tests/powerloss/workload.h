/* SPDX-License-Identifier: MIT */
/*
 * workload.h - what the power-loss workload's parts share: workload.c
 * (the library's file and publish loops, the unsafe controls) and
 * workload_cli.c (the loops that run the command's subcommands).
 */
#ifndef AW_POWERLOSS_WORKLOAD_H
#define AW_POWERLOSS_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_BODY (256 * 1024)

int write_all(int fd, const void *buf, size_t n);
/* Report a success: LINE on the serial port, then MARK into the log. */
int acknowledge(int ack, const char *line, const char *mark);
/* "ACK id v" and its mark "ack-id-v". */
int ack_file(int ack, uint32_t id, uint64_t v);
/* In the log mode: time is up. */
bool stopping(void);
size_t make_version(unsigned char *buf, uint32_t id, uint64_t v, uint64_t *seed);
/* Four parts "version V part I" into dirfd (an aw_populate_fn, ctx a
 * uint64_t *). */
int fill_tree(int dirfd, const char *path, void *ctx);
/* The loop of MODE if it is one of the command's (batch, backup, edit,
 * symlink, exchange, adopt): its exit status; else -1. */
int cli_loop(int ack, const char *mode, uint64_t seed);

#endif
