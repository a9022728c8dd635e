/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_LOG_H
#define NATTRACED_LOG_H

#include <stdbool.h>
#include <syslog.h>

/*
 * The daemon's own messages (not timelines): one path, explicit levels,
 * the sink chosen once at start. On stderr a message reads
 * "nattraced: TEXT" ("nattraced: warning: TEXT" for warnings); in the
 * journal it is an entry with that PRIORITY, and when journald cannot
 * take it, it goes to stderr instead, so nothing is lost in silence.
 */
enum log_sink {
	LOG_SINK_STDERR,
	LOG_SINK_JOURNAL, /* --output journal */
};

void log_set_sink(enum log_sink sink);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * The same with ": " and the text of err (-errno) appended, like OpenBSD's
 * log_warn() beside log_warnx(): for a failure whose cause ends the line.
 */
void log_error_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_warning_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At a PRIORITY (LOG_ERR ... LOG_INFO) known only at run time. */
void log_at(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * An entry with a MESSAGE_ID (may be NULL) and "KEY=value" fields
 * (NULL-terminated, may be NULL) for the journal; on stderr, the text.
 */
void log_entry(int priority, const char *msgid, const char *const *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
