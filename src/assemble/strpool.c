/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interned strings: open addressing, bounded by max, emptied as a whole.
 * Lookups allocate nothing; only a name seen for the first time is copied.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "strpool.h"

struct strpool {
	unsigned int max, count, mask;
	char **slots;
};

/* FNV-1a: names are short and this runs once per event. */
static uint32_t hash_str(const char *s)
{
	return hash_fnv1a(HASH_FNV1A_INIT, s, strlen(s));
}

int strpool_new(unsigned int max, struct strpool **ret)
{
	struct strpool *p;
	unsigned int size = 16;

	/* Keep the load factor at or below one half. */
	while (size < 2 * max)
		size <<= 1;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->slots = calloc(size, sizeof(*p->slots));
	if (!p->slots) {
		free(p);
		return -ENOMEM;
	}
	p->max = max;
	p->mask = size - 1;
	*ret = p;
	return 0;
}

void strpool_reset(struct strpool *p)
{
	for (unsigned int i = 0; i <= p->mask; i++) {
		free(p->slots[i]);
		p->slots[i] = NULL;
	}
	p->count = 0;
}

bool strpool_full(const struct strpool *p)
{
	return p->count >= p->max;
}

struct strpool *strpool_free(struct strpool *p)
{
	if (!p)
		return NULL;
	strpool_reset(p);
	free(p->slots);
	free(p);
	return NULL;
}

const char *strpool_intern(struct strpool *p, const char *s)
{
	unsigned int i = hash_str(s) & p->mask;

	for (; p->slots[i]; i = (i + 1) & p->mask)
		if (strcmp(p->slots[i], s) == 0)
			return p->slots[i];
	if (p->count >= p->max)
		return NULL;
	p->slots[i] = strdup(s);
	if (!p->slots[i])
		return NULL;
	p->count++;
	return p->slots[i];
}
