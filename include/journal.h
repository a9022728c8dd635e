/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_JOURNAL_H
#define NATTRACED_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "format.h"
#include "timeline.h"

/*
 * MESSAGE_IDs of nattraced's journal entries (made once with
 * systemd-id128 new); contrib/systemd/nattraced.catalog explains each.
 */
#define JOURNAL_MSGID_TIMELINE "5ec034376eec4a589f7f395bb4e2c33d"
#define JOURNAL_MSGID_STARTED  "6d7c2ce16d9c4f1aba9bdf3461f68c9a"
#define JOURNAL_MSGID_STOPPED  "cdeaa07a071340bea206dfdae2b905c8"
#define JOURNAL_MSGID_LOST     "1d83ada192f340e3ab1d737f83bd45e2"
#define JOURNAL_MSGID_RELOAD   "ec659958a7614f7a85ba4496aa9f088e"
#define JOURNAL_MSGID_STATS    "1b6a260af9de4774af83404f09a010b6"
#define JOURNAL_MSGID_NAT      "165613a6238044e1992eaa564334fd5b"
#define JOURNAL_MSGID_SUMMARY  "5026b033cc76430e8ce59d45dc02feed"

#define JOURNAL_IDENTIFIER "nattraced"
#define JOURNAL_FIELDS_MAX 32

/* The fields of one entry, each "KEY=value" (values may hold newlines). */
struct journal_fields {
	char *field[JOURNAL_FIELDS_MAX];
	size_t n;
};

/* Built with libsystemd (meson -Djournal=enabled)? */
bool journal_supported(void);
/*
 * Does journald listen on its socket? 0, or -ENOENT / -ECONNREFUSED.
 * sd_journal_sendv() reports success when it does not, so journal_send()
 * asks this (at most once a second) and fails with the same error.
 */
int journal_reachable(void);

/*
 * The entry for one timeline: MESSAGE (a summary line, then the steps as
 * --output text prints them), PRIORITY, MESSAGE_ID, SYSLOG_IDENTIFIER and
 * the NATTRACE_* fields, NATTRACE_JSON holding what --output json prints.
 * Needs no libsystemd. 0, or -ENOMEM.
 */
int journal_timeline_fields(const struct timeline *tl, const struct explain *ex,
			    struct journal_fields *ret);
void journal_fields_free(struct journal_fields *f);

struct natmap;
/*
 * The entry for one NAT log event (--nat-log): MESSAGE is the line the
 * text log prints, MESSAGE_ID JOURNAL_MSGID_NAT, and NATTRACE_NAT_EVENT,
 * NATTRACE_NAT_KIND, NATTRACE_PROTO, NATTRACE_ORIG_SRC, NATTRACE_ORIG_DST,
 * NATTRACE_REPLY_SRC, NATTRACE_REPLY_DST, NATTRACE_CT_ID and
 * NATTRACE_CT_STATE (each when known), NATTRACE_JSON the object
 * --output json prints. NATTRACE_CT_ID is the timelines' field of the same
 * name. Needs no libsystemd. 0, or -ENOMEM.
 */
int journal_natmap_fields(const struct natmap *m, struct journal_fields *ret);
/* Send the entry of a NAT log event. 0 or -errno. */
int journal_natmap(const struct natmap *m);

/* Send one entry. 0, -ENOSYS without libsystemd, or -errno. */
int journal_send(const struct journal_fields *f);

/* Send the entry of a timeline. 0 or -errno. */
int journal_timeline(const struct timeline *tl, const struct explain *ex);

struct capture_stats;
struct follow_conn;
/*
 * A statistics entry (JOURNAL_MSGID_STATS): MESSAGE the stats line,
 * NATTRACE_STATS_REASON, the counts as fields, NATTRACE_JSON the record
 * --output json prints. 0 or -errno.
 */
int journal_stats(const struct capture_stats *st);
/*
 * A followed connection's end (FOLLOW_JOURNAL_MSGID): NATTRACE_CT_ID,
 * NATTRACE_REPLY_SEEN, NATTRACE_FOLLOW_END; a warning when no reply was
 * seen. 0 or -errno.
 */
int journal_connection(const struct follow_conn *c, const char *end, const char *note);
/*
 * A daemon message: MESSAGE from fmt, PRIORITY (LOG_*), MESSAGE_ID unless
 * msgid is NULL, and the "KEY=value" strings of fields (NULL-terminated,
 * may be NULL). 0 or -errno.
 */
int journal_message(int priority, const char *msgid, const char *const *fields, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));

struct summary_view;
/*
 * --summary: the entry of row i of v (i == v->n: the "other" row), with
 * JOURNAL_MSGID_SUMMARY. 0 or -errno.
 */
int journal_summary_row(const struct summary_view *v, unsigned int i, const char *reason);

/* sd_notify(): "READY=1", "STATUS=...". A no-op outside a notify service. */
int journal_notify(const char *state);

#endif
