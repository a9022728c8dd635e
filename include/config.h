/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_CONFIG_H
#define NATTRACED_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "options.h"

/* A line holds at most a key, " = " and the longest match (4096). */
#define CONFIG_LINE_MAX	   4608
/* A file holds at most 16 settings of one line each, and comments. */
#define CONFIG_SIZE_MAX	   (64 * 1024)
/* One entry per key: there are fewer keys than this. */
#define CONFIG_ENTRIES_MAX 16

/*
 * A configuration file: "key = value" per line, keys are the long option
 * names (match, rate, count, timeout, output, table, family, hooks); blank
 * lines and lines starting with '#' are ignored. The value is the rest of
 * the line with surrounding blanks removed, taken literally (quotes are
 * part of it, as in iifname "wan0").
 */
struct config;

/*
 * Parse a configuration read from in; name is what error messages call it.
 * Each value is checked as its command-line option would be. Returns 0, or
 * -EINVAL with "NAME:LINE: problem" in err; -ENOMEM.
 */
int config_parse(const char *name, FILE *in, struct config **ret, char *err, size_t errlen);
/*
 * config_parse() on a file. Only a regular file of at most CONFIG_SIZE_MAX
 * bytes is read (a FIFO, a device or a directory is refused with -EINVAL,
 * without blocking); -errno with the reason in err if unreadable. Control
 * characters from the file appear escaped (\xNN) in err.
 */
int config_load(const char *path, struct config **ret, char *err, size_t errlen);
struct config *config_free(struct config *c);

/* The value of key, NULL if the file does not set it. Lives as long as c. */
const char *config_get(const struct config *c, const char *key);
/* The line that set key, 0 if the file does not set it. */
unsigned int config_line(const struct config *c, const char *key);
/*
 * "FILE:LINE: " in buf when the match in use (match) is the file's, so
 * that an error about it points at the line to edit; "" otherwise (it
 * came from the command line, or there is no file). Returns buf.
 */
const char *config_match_place(const struct config *c, const char *path, const char *match,
			       char *buf, size_t len);

/*
 * The options of a command line that may name a file with --config:
 * the file's settings first, then the command line's, which win. On
 * success *ret_config holds the file (NULL if none), which the strings in
 * *ret point into: free it after the options. Returns 0; -EINVAL with the
 * problem in err (a usage error, the file's name and line where it is
 * the file's); another -errno if the file cannot be read.
 */
int config_options(int argc, char **argv, struct options *ret, struct config **ret_config,
		   char *err, size_t errlen);

#endif
