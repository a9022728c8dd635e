/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "log.h"

#define LOG_LINE_MAX 2048

static enum log_sink sink = LOG_SINK_STDERR;

void log_set_sink(enum log_sink s)
{
	sink = s;
}

/* prefix: "warning: " before a warning's text (not for entries with fields) */
static void vlog(int priority, bool prefix, const char *msgid, const char *const *fields,
		 const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];
	const char *p = prefix && priority == LOG_WARNING ? "warning: " : "";

	vsnprintf(text, sizeof(text), fmt, ap);
	if (sink == LOG_SINK_JOURNAL &&
	    journal_message(priority, msgid, fields, "%s%s", p, text) == 0)
		return;
	fprintf(stderr, "nattraced: %s%s\n", p, text);
}

#define LOG_AT(name, priority)                             \
	void name(const char *fmt, ...)                    \
	{                                                  \
		va_list ap;                                \
                                                           \
		va_start(ap, fmt);                         \
		vlog(priority, true, NULL, NULL, fmt, ap); \
		va_end(ap);                                \
	}

LOG_AT(log_error, LOG_ERR)
LOG_AT(log_warning, LOG_WARNING)
LOG_AT(log_notice, LOG_NOTICE)
LOG_AT(log_info, LOG_INFO)

/* vlog() with ": strerror(-err)" after the text */
static void vlog_errno(int priority, int err, const char *fmt, va_list ap)
{
	char text[LOG_LINE_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	log_at(priority, "%s: %s", text, strerror(err < 0 ? -err : err));
}

void log_error_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_ERR, err, fmt, ap);
	va_end(ap);
}

void log_warning_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_errno(LOG_WARNING, err, fmt, ap);
	va_end(ap);
}

void log_at(int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, true, NULL, NULL, fmt, ap);
	va_end(ap);
}

void log_entry(int priority, const char *msgid, const char *const *fields, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(priority, false, msgid, fields, fmt, ap);
	va_end(ap);
}
