/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_HASH_H
#define NATTRACED_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_INIT 2166136261u

/* FNV-1a over len bytes, continuing from h (HASH_FNV1A_INIT to start). */
static inline uint32_t hash_fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

#define HASH_FNV1A64_INIT 0xcbf29ce484222325ull

/*
 * 64-bit FNV-1a over the string s and its terminating NUL, continuing from
 * h (HASH_FNV1A64_INIT to start): fields hashed one after another cannot
 * run into each other ("a" "bc" is not "ab" "c").
 */
static inline uint64_t hash_fnv1a64_str(uint64_t h, const char *s)
{
	do {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	} while (*s++);
	return h;
}

#endif
