/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_FOLLOW_H
#define NATTRACED_FOLLOW_H

/*
 * --follow: the connections whose later packets are traced, as the daemon
 * sees them. The kernel decides which connections are followed (the trace
 * table's follow set, see tracetable.h); this table counts their packets,
 * notes replies and FIN/RST, ends a connection at its packet bound, its
 * time limit or its close, and keeps each connection's text timelines so
 * that text output shows a connection as one block.
 *
 * Pure: time comes in as an argument, nothing is logged, every table is
 * bounded (connections, text per connection, text in all).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Connections ended or refused lately, remembered so that a packet still
 * on its way when a follow ended does not start it again.
 */
#define FOLLOW_ENDED_RING 256

/* Text kept per connection, and in all, for the block printed at its end. */
#define FOLLOW_TEXT_MAX	  (64u * 1024)
#define FOLLOW_TEXT_TOTAL (8u * 1024 * 1024)

/* "tcp 198.51.100.2:40000 -> 198.51.100.1:1222", set by the caller */
#define FOLLOW_LABEL_MAX 160

/* MESSAGE_ID of the journal entry that ends a followed connection (the catalog explains it). */
#define FOLLOW_JOURNAL_MSGID "a227dd0f732241b7b0847f3537db2895"

#define FOLLOW_NO_REPLY_NOTE "the server's reply took another path or was never sent"

enum follow_dir {
	FOLLOW_DIR_ORIGINAL,
	FOLLOW_DIR_REPLY,
};

enum follow_end {
	FOLLOW_END_TIMEOUT, /* --follow-timeout passed */
	FOLLOW_END_PACKETS, /* --follow-packets reached */
	FOLLOW_END_CLOSED,  /* RST, or FIN in both directions */
	FOLLOW_END_FLUSH,   /* the daemon stops */
};

struct follow_conn {
	uint32_t ct_id;
	uint64_t start_ns, deadline_ns;
	unsigned int packets; /* timelines of it seen */
	unsigned int replies; /* ... in the reply direction */
	bool fin_original, fin_reply, rst;
	char label[FOLLOW_LABEL_MAX]; /* the first packet, for people */
	/* over, waiting until close_ns for its timelines still in flight (follow_close()) */
	bool closing;
	enum follow_end close_why;
	uint64_t close_ns;
	/* its record written, its slot kept until deadline_ns (follow_expire()) */
	bool lingering;
	/* text timelines kept for the block (text output only) */
	char *text;
	size_t text_len;
	bool text_overflow; /* some were printed at once: no room */
	size_t *text_ends;  /* where each kept timeline's text ends */
	unsigned int n_kept;
	/* internal */
	int32_t hnext, prev, next, cprev, cnext;
	bool in_use;
};

struct follow_config {
	unsigned int max;     /* connections at once */
	unsigned int packets; /* per connection */
	uint64_t timeout_ns;  /* per connection */
};

struct follow_stats {
	uint64_t followed; /* connections followed */
	uint64_t full;	   /* not followed: max connections reached */
	uint64_t no_reply; /* ended without a reply seen */
	uint64_t packets;  /* timelines of followed connections */
};

struct follow_table;

int follow_table_new(const struct follow_config *cfg, struct follow_table **ret);
/* NULL-safe; returns NULL. */
struct follow_table *follow_table_free(struct follow_table *t);

/* The connection followed under ct_id, NULL if none. Valid until the next change. */
struct follow_conn *follow_find(struct follow_table *t, uint32_t ct_id);

/*
 * Start following ct_id at now_ns (its first packet). Returns the entry;
 * NULL when max connections are followed already (counted in full), or
 * when ct_id is followed already (then follow_find() has it).
 */
struct follow_conn *follow_start(struct follow_table *t, uint32_t ct_id, uint64_t now_ns);

/*
 * A new connection that was not followed for want of room (the kernel's
 * set was full): counted in full once per connection.
 */
void follow_missed(struct follow_table *t, uint32_t ct_id);
/* Not to be followed (its first packet was dropped, or no room): remembered as ended. */
void follow_refuse(struct follow_table *t, uint32_t ct_id);
/* Did ct_id's follow end (or was it refused) within the last FOLLOW_ENDED_RING? */
bool follow_ended_recently(const struct follow_table *t, uint32_t ct_id);

/*
 * One packet of a followed connection: counted, replies and TCP FIN/RST
 * (flags as in the TCP header, 0 for other protocols) noted. Returns true
 * when the connection's follow is over (packet bound reached, RST, or FIN
 * both ways): the caller ends it with follow_end().
 */
bool follow_packet(struct follow_table *t, struct follow_conn *c, enum follow_dir dir,
		   uint8_t tcp_flags);

/*
 * Keep a text timeline for the connection's block. -ENOSPC when it does
 * not fit (FOLLOW_TEXT_MAX, FOLLOW_TEXT_TOTAL): print it at once instead.
 */
int follow_keep_text(struct follow_table *t, struct follow_conn *c, const char *text, size_t len);

typedef void (*follow_end_fn)(void *ctx, const struct follow_conn *c, enum follow_end why);

/*
 * The follow is over (why), but timelines of packets traced before may
 * still be in flight: the connection ends at at_ns (follow_expire()), and
 * packets until then still count. One over at its packet bound
 * (FOLLOW_END_PACKETS) keeps its slot after that, until its time limit:
 * the kernel's element, whose packet limit stops the tracing, lives until
 * then (it is not deleted, or a connection still new would be added and
 * traced again).
 */
void follow_close(struct follow_table *t, struct follow_conn *c, enum follow_end why,
		  uint64_t at_ns);
/* End one connection now: end() is called, then the entry and its text are freed. */
void follow_end(struct follow_table *t, struct follow_conn *c, enum follow_end why,
		follow_end_fn end, void *ctx);
/* End every connection whose time limit (or close) passed by now_ns (oldest first). */
void follow_expire(struct follow_table *t, uint64_t now_ns, follow_end_fn end, void *ctx);
/* End every connection (exit). */
void follow_flush(struct follow_table *t, follow_end_fn end, void *ctx);
/* Nanoseconds until the next time limit, -1 if nothing is followed. */
int64_t follow_next_expiry(const struct follow_table *t, uint64_t now_ns);
/* Slots in use: connections followed, and those lingering (as the kernel's set holds them). */
unsigned int follow_count(const struct follow_table *t);
/* Text timelines kept now, in all connections (written at their end). */
unsigned int follow_kept(const struct follow_table *t);
const struct follow_stats *follow_stats(const struct follow_table *t);

/* Why follow_packet() said the follow is over: FOLLOW_END_CLOSED or _PACKETS. */
enum follow_end follow_done_reason(const struct follow_conn *c);
/* Did the connection see a reply? */
bool follow_reply_seen(const struct follow_conn *c);
/* "timeout", "packets", "closed", "stopped" */
const char *follow_end_name(enum follow_end why);
/* "original", "reply" */
const char *follow_dir_name(enum follow_dir dir);

/*
 * Can --follow run? Only where trace events carry the conntrack id: without
 * it a connection's packets can be neither grouped nor bounded. probe is
 * followprobe_ct_id()'s answer (1 yes, 0 no, -errno none came);
 * release_sends_ct, the kernel release being 6.16 or later, counts only
 * when the probe got no answer.
 */
bool follow_kernel_ok(int probe, bool release_sends_ct);

#endif
