/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_TIMELINE_H
#define NATTRACED_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"
#include "strpool.h"
#include "trace.h"

/*
 * Bounds per packet, sized for generated rulesets: one SYN through
 * firewalld's zones makes 80-100 events, kube-proxy's up to 300, and an
 * OpenWrt fw4 forward passes 8 base chains besides ours. Past a bound the
 * first and the last events are kept (the verdict is among the last) and
 * the gap between them is counted.
 */
#define TIMELINE_MAX_STEPS     512  /* events kept per packet, by default */
#define TIMELINE_STEPS_CEILING 1024 /* ... and at most (max_steps) */
#define TIMELINE_MAX_HDRS      32   /* base chains with headers per packet */
#define TIMELINE_MAX_IDS       4    /* trace ids one packet is known by */
#define TIMELINE_MAX_SEL       4    /* our rules' selections kept per packet */
#define TIMELINE_IDLE_NS       (80ull * 1000 * 1000)

/* Why a timeline was emitted. */
enum timeline_end {
	TL_END_VERDICT,	 /* drop, stolen or queue */
	TL_END_IDLE,	 /* no event for TIMELINE_IDLE_NS */
	TL_END_REUSED,	 /* its trace id started a new packet */
	TL_END_EVICTED,	 /* table full: the oldest was pushed out */
	TL_END_FLUSH,	 /* daemon stopping */
	TL_END_ACCEPTED, /* accepted where nothing can follow */
};

/* Conntrack attributes as sent with the first event of a base chain. */
struct tl_ct {
	uint32_t present; /* TRACE_HAS_CT_* bits */
	uint32_t id;
	uint8_t direction;
	uint32_t status;
	uint32_t state;
};

/*
 * Headers as seen on entry to one base chain. The kernel sends headers,
 * interfaces and conntrack with the chain's first event, and the mark
 * with every event as it is after that event's rule: mark is the one
 * before the chain's first event (the packet's previous event's, 0 if
 * that had none), TRACE_HAS_MARK when it is not 0.
 */
struct tl_hdr {
	const char *table, *chain; /* the base chain (interned) */
	uint8_t family;
	bool own; /* one of our own trace chains */
	struct packet_info pkt;
	bool pkt_valid;
	uint32_t iif, oif, mark;
	uint16_t oiftype; /* ARPHRD_* */
	uint32_t present; /* TRACE_HAS_IIF/OIF/MARK/OIFTYPE */
	struct tl_ct ct;
	/*
	 * The header bytes as the kernel sent them (--pcap): link, network
	 * and transport header one after the other in raw, each cut by the
	 * kernel at TRACE_*_MAX; iiftype (ARPHRD_*) says what the link
	 * header is, 0 when the event had none.
	 */
	uint16_t iiftype;
	uint8_t ll_len, nh_len, th_len;
	uint8_t raw[TRACE_LL_MAX + TRACE_NH_MAX + TRACE_TH_MAX];
};

/* One trace event, compacted; names are interned in the table's pool. */
struct tl_step {
	const char *table, *chain, *target;
	uint64_t handle;
	int32_t verdict;
	uint8_t type;	/* enum trace_type */
	uint8_t family; /* NFPROTO_* of the table */
	bool has_handle;
	bool has_verdict;
	int8_t hdr;  /* index into hdrs[], -1 if none */
	int8_t base; /* hdrs[] of the base chain entry it is in, -1 unknown */
	/*
	 * The packet's mark as this event reported it (0 when it had none),
	 * and whether it differs from the packet's previous event's: this
	 * event's rule (or, for a chain's end or policy, a statement of a
	 * rule that then did not match) changed it.
	 */
	bool mark_changed;
	uint32_t mark;
};

struct timeline {
	uint32_t id; /* the first trace id */
	/*
	 * Every trace id the packet had, ids[0] == id. The kernel hashes the
	 * input interface into the id, so a bridged packet (br_netfilter)
	 * changes id between prerouting and forward: see timeline_join.c.
	 */
	uint32_t ids[TIMELINE_MAX_IDS];
	uint8_t n_ids;
	uint64_t first_ns, last_ns;
	uint32_t seq; /* order in which timelines started */
	bool started; /* our trace rule selected it */
	bool ended;   /* a final verdict arrived */
	bool lossy;   /* events may be missing (ENOBUFS, eviction) */
	/*
	 * A packet under a trace id that joined no timeline showed up after
	 * this one's last event: it may have been this packet's continuation.
	 */
	bool unjoined_after;
	/*
	 * Events beyond the table's max_steps: the first half and the last
	 * half are kept, steps_dropped events between steps[gap_at - 1] and
	 * steps[gap_at] are not.
	 */
	uint32_t steps_dropped;
	uint16_t gap_at;
	uint16_t hdrs_dropped; /* base chain entries beyond TIMELINE_MAX_HDRS */
	uint16_t ids_dropped;  /* trace ids beyond TIMELINE_MAX_IDS */
	uint8_t nfproto;
	uint16_t n_steps;
	uint8_t n_hdrs;
	bool names_lost;   /* a name did not fit the pool: shown as "?" */
	bool own_accepted; /* our trace chain's policy let it through */
	/*
	 * Handles of our own rules that selected the packet, in order (the
	 * trace rule, --follow's rules), the first TIMELINE_MAX_SEL.
	 */
	uint64_t sel_handles[TIMELINE_MAX_SEL];
	uint8_t n_sel;
	struct tl_hdr hdrs[TIMELINE_MAX_HDRS];
	struct tl_step steps[TIMELINE_STEPS_CEILING];
};

struct timeline_stats {
	uint64_t events;
	uint64_t own_events;
	uint64_t timelines;
	uint64_t incomplete;
	uint64_t evicted;
	uint64_t steps_dropped;
	uint64_t names_dropped;
	uint64_t hdrs_dropped; /* base chain entries past TIMELINE_MAX_HDRS */
	uint64_t joined;       /* trace id changes joined to their packet */
	uint64_t foreign;      /* packets another tracer selected: not ours */
	/*
	 * Our rule's event for a packet already ours (several --hooks, a
	 * looped-back packet): its counter counted the packet again.
	 */
	uint64_t reselected;
};

/*
 * Called as a timeline ends. The timeline and its table and chain names
 * are valid only during the call.
 */
typedef void (*timeline_emit_fn)(void *ctx, const struct timeline *tl, enum timeline_end why);

struct timeline_table;

struct timeline_config {
	const char *own_table; /* events of this table are ours */
	uint8_t own_family;
	unsigned int max_inflight;
	unsigned int max_steps; /* 0: TIMELINE_MAX_STEPS */
	uint64_t idle_ns;
	timeline_emit_fn emit;
	void *emit_ctx;
	/*
	 * Does an accept in this base chain end the packet's path (no base
	 * chain sees it after)? first_packet: nat chains still see it (its
	 * conntrack entry is new, or not known). Then the timeline ends at
	 * once instead of after the idle time. NULL: always wait.
	 */
	bool (*final_accept)(void *ctx, uint8_t family, const char *table, const char *chain,
			     bool first_packet);
	void *final_ctx;
};

int timeline_table_new(const struct timeline_config *cfg, struct timeline_table **ret);
struct timeline_table *timeline_table_free(struct timeline_table *t);

/* Feed one decoded event received at now_ns. May emit timelines. */
void timeline_add(struct timeline_table *t, const struct trace_event *ev, uint64_t now_ns);
/* Emit timelines idle since before now_ns - idle. */
void timeline_expire(struct timeline_table *t, uint64_t now_ns);
/* Nanoseconds until the next idle expiry, or -1 if none is in flight. */
int64_t timeline_next_expiry(const struct timeline_table *t, uint64_t now_ns);
/* Emit everything in flight (on exit). */
void timeline_flush(struct timeline_table *t);
/* Events were lost: whatever is in flight may have gaps. */
void timeline_mark_lossy(struct timeline_table *t);
/*
 * An overrun (ENOBUFS). The kernel reports it on the first receive after
 * the overrun, before the messages still queued: the gap lies behind
 * them. So from loss_begin (the report) until loss_end (the socket was
 * found empty) every packet that gets an event may have lost some, and
 * so may those still in flight at the end.
 */
void timeline_loss_begin(struct timeline_table *t);
void timeline_loss_end(struct timeline_table *t);
unsigned int timeline_inflight(const struct timeline_table *t);
const struct timeline_stats *timeline_stats(const struct timeline_table *t);

/* A timeline is complete when it started in our chain and nothing is missing. */
bool timeline_complete(const struct timeline *tl);

#endif
