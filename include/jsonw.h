/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_JSONW_H
#define NATTRACED_JSONW_H

/*
 * A streaming JSON writer for the output hot path. jansson builds a tree
 * with an allocation per value and then serialises it; for one timeline
 * line per traced packet that was 60% of the daemon's CPU under a flood.
 * This writes straight into a buffer the caller provides (on its stack,
 * usually) and moves to the heap only for an unusually long line.
 * Parsing stays with jansson.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Nesting deeper than this marks the writer failed. */
#define JSONW_MAX_DEPTH 32
/* A line longer than this marks the writer failed rather than grow on. */
#define JSONW_MAX_LEN	(4u << 20)

/* On the caller's stack; its fields are the writer's own: use the functions. */
struct jsonw {
	char *buf;
	size_t len, cap;
	char *initial;	   /* the caller's buffer, not ours to free */
	uint32_t nonempty; /* bit per depth: a value was written there */
	unsigned int depth;
	bool failed; /* out of memory, too long or too deep */
};

/* Start writing into buf (cap bytes, may be NULL/0). */
void jsonw_init(struct jsonw *w, char *buf, size_t cap);
/* Forget what was written, keep the buffer. */
void jsonw_reset(struct jsonw *w);
void jsonw_release(struct jsonw *w);

/* key is NULL for a value inside an array or at the top level. */
void jsonw_object_open(struct jsonw *w, const char *key);
void jsonw_object_close(struct jsonw *w);
void jsonw_array_open(struct jsonw *w, const char *key);
void jsonw_array_close(struct jsonw *w);
/* s NULL writes null. Invalid UTF-8 becomes U+FFFD. */
void jsonw_string(struct jsonw *w, const char *key, const char *s);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* Raw text, for a newline after the top-level value. */
void jsonw_raw(struct jsonw *w, const char *s, size_t len);

/*
 * The text so far, NUL-terminated; NULL if the writer failed. Valid until
 * the next write, jsonw_reset() or jsonw_release().
 */
const char *jsonw_text(struct jsonw *w);
/* A newline, then the text to out. 0, -ENOMEM if the writer failed, or -EIO. */
int jsonw_write_line(struct jsonw *w, FILE *out);

#endif
