/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streaming JSON (RFC 8259) into a growable buffer. Strings are escaped
 * as the RFC requires and their UTF-8 is checked, so rule text with a
 * broken comment still gives a valid line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	*w = (struct jsonw){ .buf = buf, .cap = cap, .initial = buf };
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->depth = 0;
	w->nonempty = 0;
	w->failed = false;
}

void jsonw_release(struct jsonw *w)
{
	if (w->buf != w->initial)
		free(w->buf);
	jsonw_init(w, NULL, 0);
}

static bool grow(struct jsonw *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->failed)
		return false;
	if (w->len + n + 1 > JSONW_MAX_LEN)
		goto fail;
	for (cap = w->cap ? w->cap : 256; cap < w->len + n + 1; cap *= 2)
		;
	if (cap > JSONW_MAX_LEN)
		cap = JSONW_MAX_LEN;
	if (w->buf == w->initial) {
		p = malloc(cap);
		if (p && w->len)
			memcpy(p, w->buf, w->len);
	} else {
		p = realloc(w->buf, cap);
	}
	if (!p)
		goto fail;
	w->buf = p;
	w->cap = cap;
	return true;
fail:
	w->failed = true;
	return false;
}

/* Room for n more bytes and a NUL. */
static inline bool reserve(struct jsonw *w, size_t n)
{
	if (__builtin_expect(w->len + n + 1 <= w->cap, 1))
		return !w->failed;
	return grow(w, n);
}

static inline void put(struct jsonw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc_(struct jsonw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
}

/*
 * Bytes a JSON string cannot hold as they are: control characters, '"',
 * '\\', and every non-ASCII byte (checked as UTF-8). The scan for them is
 * the hot loop of the output: one table load per byte.
 */
static const unsigned char special[256] = {
	[0x00 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
	[0x80 ... 0xff] = 1,
};

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlongs (e0 a0..), no surrogates (ed 80..9f) */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4
											       : 0;
	}
	return 0;
}

static void put_escaped(struct jsonw *w, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;

	putc_(w, '"');
	for (;;) {
		size_t n;
		char esc[6];

		/* the common case: printable ASCII that needs no escape */
		while (!special[*s])
			s++;
		if (!*s)
			break;
		n = utf8_len(s);
		if (n > 1) {
			s += n;
			continue;
		}
		/* flush the plain run, then the escape */
		put(w, (const char *)run, (size_t)(s - run));
		if (n == 0) {
			put(w, "\\ufffd", 6);
		} else if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			put(w, esc, 2);
		} else if (*s == '\n') {
			put(w, "\\n", 2);
		} else if (*s == '\t') {
			put(w, "\\t", 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*s >> 4];
			esc[5] = hex[*s & 0xf];
			put(w, esc, 6);
		}
		s++;
		run = s;
	}
	/* the run, the closing quote: one reservation */
	{
		size_t n = (size_t)(s - run);

		if (!reserve(w, n + 1))
			return;
		memcpy(w->buf + w->len, run, n);
		w->buf[w->len + n] = '"';
		w->len += n + 1;
	}
}

/*
 * The separator and key before a value at the current depth. Keys are our
 * own literals: plain ASCII goes out in one copy, anything else escaped.
 */
static void begin_value(struct jsonw *w, const char *key)
{
	uint32_t bit = 1u << w->depth;
	bool comma = w->nonempty & bit;
	size_t n;

	w->nonempty |= bit;
	if (!key) {
		if (comma)
			putc_(w, ',');
		return;
	}
	for (n = 0; !special[(unsigned char)key[n]]; n++)
		;
	if (key[n]) {
		if (comma)
			putc_(w, ',');
		put_escaped(w, key);
		putc_(w, ':');
		return;
	}
	/* ,"key": */
	if (!reserve(w, n + 4))
		return;
	if (comma)
		w->buf[w->len++] = ',';
	w->buf[w->len++] = '"';
	memcpy(w->buf + w->len, key, n);
	w->len += n;
	w->buf[w->len++] = '"';
	w->buf[w->len++] = ':';
}

static void open_(struct jsonw *w, const char *key, char c)
{
	begin_value(w, key);
	if (w->depth + 1 >= JSONW_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	putc_(w, c);
	w->depth++;
	w->nonempty &= ~(1u << w->depth);
}

static void close_(struct jsonw *w, char c)
{
	if (w->depth == 0) {
		w->failed = true;
		return;
	}
	w->depth--;
	putc_(w, c);
}

void jsonw_object_open(struct jsonw *w, const char *key)
{
	open_(w, key, '{');
}

void jsonw_object_close(struct jsonw *w)
{
	close_(w, '}');
}

void jsonw_array_open(struct jsonw *w, const char *key)
{
	open_(w, key, '[');
}

void jsonw_array_close(struct jsonw *w)
{
	close_(w, ']');
}

void jsonw_string(struct jsonw *w, const char *key, const char *s)
{
	begin_value(w, key);
	if (s)
		put_escaped(w, s);
	else
		put(w, "null", 4);
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t v)
{
	char digits[20];
	size_t n = sizeof(digits);

	begin_value(w, key);
	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, digits + n, sizeof(digits) - n);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	begin_value(w, key);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	begin_value(w, key);
	put(w, "null", 4);
}

void jsonw_raw(struct jsonw *w, const char *s, size_t len)
{
	put(w, s, len);
}

const char *jsonw_text(struct jsonw *w)
{
	if (w->failed || !reserve(w, 0))
		return NULL;
	w->buf[w->len] = '\0';
	return w->buf;
}

int jsonw_write_line(struct jsonw *w, FILE *out)
{
	const char *text;

	jsonw_raw(w, "\n", 1);
	text = jsonw_text(w);
	if (!text)
		return -ENOMEM;
	return fwrite(text, 1, w->len, out) == w->len ? 0 : -EIO;
}
