/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

void strbuf_add(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(*off < len ? buf + *off : NULL, *off < len ? len - *off : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*off += (size_t)w;
}

void strbuf_shell_word(char *buf, size_t len, size_t *off, const char *word)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_-.,:/@%+=";

	if (word[0] && word[strspn(word, plain)] == '\0') {
		strbuf_add(buf, len, off, "%s", word);
		return;
	}
	strbuf_add(buf, len, off, "'");
	for (const char *p = word; *p; p++) {
		size_t n = strcspn(p, "'");

		strbuf_add(buf, len, off, "%.*s", (int)n, p);
		p += n;
		if (!*p)
			break;
		strbuf_add(buf, len, off, "'\\''");
	}
	strbuf_add(buf, len, off, "'");
}

int strbuf_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}
