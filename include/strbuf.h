/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_STRBUF_H
#define NATTRACED_STRBUF_H

#include <stddef.h>

/*
 * Bounded string building: append to buf at *off as snprintf would, never
 * past len, always terminated. *off grows by what snprintf would have
 * written, so *off >= len afterwards says the text was cut.
 */
void strbuf_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Append word as one shell word that a user can copy into a command: as
 * it is when it holds only characters no shell treats specially, else in
 * single quotes (a ' inside as '\''). The ruleset names a command quotes
 * can hold anything: "FWD;curl x|sh;#" stays a name.
 */
void strbuf_shell_word(char *buf, size_t len, size_t *off, const char *word);

/*
 * An error message into err (errlen bytes; err may be NULL) for a caller
 * that returns -EINVAL: returns -EINVAL.
 */
int strbuf_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
