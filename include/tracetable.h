/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TRACETABLE_H
#define NATTRACED_TRACETABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Before raw (-300), conntrack (-200) and dstnat (-100). */
#define TRACETABLE_PRIORITY	   (-350)
#define TRACETABLE_CHECK_CHAIN	   "match_check"
/*
 * --follow: after conntrack (-200), before dstnat (-100), so that a match
 * still sees the headers the trace rule saw. Packets selected here show
 * no events of base chains before this priority (raw, conntrack).
 */
#define TRACETABLE_FOLLOW_PRIORITY (-150)
#define TRACETABLE_FOLLOW_SET	   "follow"
/* Rule handles of the follow chains kept to tell which rule selected a packet. */
#define TRACETABLE_FOLLOW_HANDLES  16

/* What one of our rules is, by its handle. */
enum tracetable_rule_kind {
	TRACETABLE_RULE_OTHER = 0,	 /* the trace rule, or not ours */
	TRACETABLE_RULE_FOLLOW_NEW,	 /* a new connection, added to the follow set */
	TRACETABLE_RULE_FOLLOW_ORIGINAL, /* a followed connection, original direction */
	TRACETABLE_RULE_FOLLOW_REPLY,	 /* ... reply direction */
};

struct tracetable_config {
	uint8_t family; /* NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6 */
	const char *table;
	unsigned int hooks; /* bit (1 << NF_INET_*) per hook */
	const char *match;
	const char *rate; /* "1/second", or NULL for no limit */
	/* Check the match only: the table is deleted again, *ret is NULL. */
	bool check_only;
	/*
	 * --follow: a set of conntrack ids (follow_size elements, each for
	 * follow_timeout_ms) and chains that trace their packets both ways.
	 * A new connection the match selects (at the same rate) is added by
	 * the kernel itself, so that even a reply a few microseconds later
	 * is traced. Only tracetable_install() reads these; a replace keeps
	 * the follow set and rebuilds the follow chains when they exist.
	 */
	bool follow;
	unsigned int follow_size;
	unsigned int follow_timeout_ms;
	/* packets traced per connection at most, counted by the kernel */
	unsigned int follow_packets;
};

struct tracetable;

/*
 * Create the owned table, check the match, hook the trace chains.
 * Returns 0; -EEXIST if a table of that name exists (touched nothing);
 * -EINVAL if the match was refused (the ruleset is as before); another
 * -errno on failure. err says what happened. ret_listing, if not NULL,
 * gets the check rule's JSON listing (for natfilter; the caller frees
 * it), possibly also when a later step failed.
 */
int tracetable_install(const struct tracetable_config *cfg, struct tracetable **ret,
		       char **ret_listing, char *err, size_t errlen);

/* Delete the table and close the owning context. NULL-safe; returns NULL. */
struct tracetable *tracetable_free(struct tracetable *t);

/*
 * Packets selected for tracing so far: the sum of the trace rules'
 * counters. 0, or -errno if the table could not be listed.
 */
int tracetable_selected(struct tracetable *t, uint64_t *ret_packets);

/*
 * Swap the trace rule for cfg's match, rate and hooks in one atomic batch,
 * after the checks tracetable_install() makes. The table's name and family
 * stay (cfg's must be the same, or 0/NULL). Returns 0; -EINVAL if refused
 * (the old trace runs on, unchanged); another -errno. err says why.
 * ret_listing, if not NULL, gets the new check rule's JSON listing on
 * success (for natfilter, as tracetable_install() gives it; the caller
 * frees it), else NULL.
 */
int tracetable_replace(struct tracetable *t, const struct tracetable_config *cfg,
		       char **ret_listing, char *err, size_t errlen);

/* Which of our follow rules a handle is (--follow), TRACETABLE_RULE_OTHER if none. */
enum tracetable_rule_kind tracetable_rule_kind(const struct tracetable *t, uint64_t handle);

/*
 * Stop following a connection: delete its element from the follow set.
 * 0, or -errno (-ENOENT when it expired already).
 */
int tracetable_follow_forget(struct tracetable *t, uint32_t ct_id);

/* Name of the trace chain at a hook: "trace_prerouting". */
const char *tracetable_chain_name(unsigned int hook, char *buf, size_t len);

#endif
