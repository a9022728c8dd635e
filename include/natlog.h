/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_NATLOG_H
#define NATTRACED_NATLOG_H

/*
 * The NAT translation log and table: conntrack events and dumps through
 * ctnetlink (libnetfilter_conntrack parses), filtered to NATed entries and
 * to what --match selects, handed to the daemon's output (sink.h): on
 * stdout next to the timelines, or one journal entry per event. A mapping
 * a full buffer or journald cannot take is dropped and counted in
 * natlog_report().
 */
#include <stdint.h>
#include <stdio.h>

#include "natfilter.h"
#include "natmap.h"
#include "options.h"

struct natlog;

/*
 * Join the conntrack new/update/destroy groups of the current network
 * namespace with a large receive buffer; mappings go to sink. Call before anything can create
 * the connections to be logged. Logs every NATed connection until
 * natlog_start() sets the filter. 0 or -errno (-EPERM without CAP_NET_ADMIN).
 */
struct sink;
int natlog_open(struct sink *sink, struct natlog **ret);
struct natlog *natlog_close(struct natlog *l);
int natlog_fd(const struct natlog *l);

/*
 * Fill the mapping cache from a dump of the current conntrack table,
 * printing nothing: timelines of connections older than the daemon find
 * their mapping too. 0 or -errno.
 */
int natlog_seed(struct natlog *l);

/*
 * Read and print what is queued. Returns lines printed (>= 0), or -errno
 * when writing the output failed or the socket broke (said on stderr,
 * except -EPIPE: the reader went away).
 */
int natlog_drain(struct natlog *l);

/*
 * Once the trace table is in place: the filter from the check rule's
 * listing (NULL: every NATed connection, --nat-log=all), then the cache
 * seeded (natlog_seed; a failure only warns). 0 or -errno.
 */
int natlog_start(struct natlog *l, const char *listing);

/*
 * A reload swapped the match: the filter from the new check rule's
 * listing, as natlog_start() builds it (NULL or unreadable: every NATed
 * connection, said on stderr). Mappings cached so far stay: timelines
 * look them up by conntrack id whatever the filter.
 */
void natlog_refilter(struct natlog *l, const char *listing);

/*
 * The mapping of a connection by conntrack id, NULL if none is known.
 * It points into the NAT cache: valid until the next conntrack event is
 * handled (natlog_drain(), natlog_start()); copy it to keep it.
 */
const struct natmap *natlog_lookup(struct natlog *l, uint32_t ct_id);

struct nlmsghdr;
/*
 * One ctnetlink request in the current network namespace: msg is an
 * IPCTNL_MSG_* type, flags what it needs besides NLM_F_REQUEST (NLM_F_DUMP,
 * NLM_F_ACK); each answer goes through cb (a libmnl callback) until the
 * kernel says done. A second with no answer is an error. 0 or -errno.
 */
int natlog_ctnetlink(uint16_t msg, uint16_t flags,
		     int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);
/* Counters at exit, on stderr. */
void natlog_report(const struct natlog *l);

/*
 * Turn --match into a filter: check it the way the trace table does, in an
 * owned table that is deleted again, and read the rule back. Warns on
 * stderr about conditions it ignores. Returns an exit status (EXIT_OK on
 * success).
 */
int natlog_filter_from_match(const struct options *o, struct natfilter *ret);
/* The same from a listing the trace table already returned. */
void natlog_filter_from_listing(const char *listing, struct natfilter *ret);

/* --nat-table: dump, filter, print, return the exit status. */
int natlog_table_main(const struct options *o);

#endif
