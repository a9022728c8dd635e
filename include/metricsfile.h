/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_METRICSFILE_H
#define NATTRACED_METRICSFILE_H

#include "sink.h"

/*
 * --metrics-file PATH: a sink tap that counts timelines (metrics.h) and
 * rewrites PATH with every statistics record (--stats-interval, SIGUSR1,
 * exit) and once at start: a temporary file in PATH's directory, written,
 * fsync'ed and renamed over PATH, so a reader (node_exporter's textfile
 * collector) never sees half a file. No socket is opened. 0, or -errno
 * said here.
 */
int metricsfile_open(const char *path, struct sink_tap *ret);

/* Write text to path the same way, through fill(). 0 or -errno. */
int metricsfile_replace(const char *path, int (*fill)(FILE *out, void *ctx), void *ctx);

#endif
