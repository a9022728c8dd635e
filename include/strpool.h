/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_STRPOOL_H
#define NATTRACED_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Interned table and chain names. Names repeat in every event, so each is
 * copied once; the pool is bounded and refuses new names once full. The
 * timeline table keeps two and empties the older one when no timeline
 * uses it any more (timeline.c).
 */
#define STRPOOL_MAX 4096

struct strpool;

int strpool_new(unsigned int max, struct strpool **ret);
struct strpool *strpool_free(struct strpool *p);
/* The pooled copy of s, or NULL if the pool is full. Lives until a reset. */
const char *strpool_intern(struct strpool *p, const char *s);
/* Forget every name: pointers handed out before are freed. */
void strpool_reset(struct strpool *p);
bool strpool_full(const struct strpool *p);

#endif
