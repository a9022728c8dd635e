/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_REPLAY_INT_H
#define NATTRACED_REPLAY_INT_H

/* Between replay.c and check.c: their shared inputs and start. */
#include <stddef.h>

#include "options.h"
#include "replay.h"

/* A whole file (path "-": stdin), NUL-terminated, at most max bytes; NULL with errno. */
char *replay_read_file(const char *path, size_t max);
/* --change..., then --change-file: one text; NULL for none, *ret_status on error. */
char *replay_change_text(const struct options *o, int *ret_status);
/* The clone and the machinery in it: GO_ON, or an exit status (said). */
int replay_start(const struct options *o, int argc, char **argv, struct replayer **ret);

#endif
