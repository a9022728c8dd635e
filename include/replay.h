/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NATTRACED_REPLAY_H
#define NATTRACED_REPLAY_H

/*
 * --replay, --check and --verify: a packet replayed in a throwaway clone
 * of the namespace (clone.h), traced there by the same machinery as live,
 * its causes named with the source ruleset's handles, and where it went
 * seen on the far end of the clone's interfaces, not inferred.
 */
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "replay_outcome.h"
#include "replaypkt.h"

struct clone;
struct options;

/* ---- wire.c: into the clone and out of it ---- */

#define WIRE_SEEN_MAX 8

/* A packet that left the clone, seen on the far end of a veth. */
struct wire_seen {
	char ifname[IF_NAMESIZE]; /* the clone's interface it left by */
	struct packet_info info;
	bool valid; /* info parsed */
};

struct wire;

/* The calling thread is in the clone. 0 or -errno. */
int wire_open(const struct clone *c, struct wire **ret);
struct wire *wire_free(struct wire *w);
/* Forget what the far ends saw so far. */
void wire_clear(struct wire *w);
/*
 * Send p: on the far end of its input interface, or from the clone's
 * own stack for a packet the host sends. 0 or -errno with err.
 */
int wire_send(struct wire *w, const struct replay_packet *p, char *err, size_t errlen);
/* What the far ends received, waiting at most wait_ms for the first one. */
unsigned int wire_collect(struct wire *w, int wait_ms, struct wire_seen *ret, unsigned int max);

/* ---- replayer.c: one clone, the trace machinery inside it ---- */

struct replayer;
struct sink;

/*
 * Clone the namespace the process is in and move the process into the
 * clone (before any thread: every socket from now on is the clone's),
 * then start the daemon's machinery there, writing to the --output
 * sink (each replayed timeline too when timelines). -errno with err;
 * -EPERM, -EOPNOTSUPP, -EINVAL: the clone is refused (exit 2).
 */
int replayer_new(const struct options *opts, bool timelines, int argc, char **argv,
		 struct replayer **ret, char *err, size_t errlen);
/* The ruleset as copied, then nft commands (--change) on it. "" or NULL: none. */
int replayer_change(struct replayer *r, const char *nft_text, char *err, size_t errlen);
/*
 * Replay one packet, conntrack flushed first: its timeline goes to the
 * output, its outcome to ret. 0, or -errno with err (not sent).
 */
int replayer_run(struct replayer *r, const struct replay_packet *p, struct replay_outcome *ret,
		 char *err, size_t errlen);
struct sink *replayer_sink(struct replayer *r);
/* Stop, tear down (the clone vanishes); true if the output failed. */
bool replayer_free(struct replayer *r);

/* ---- replay.c, check.c: the modes (exit status) ---- */
int replay_main(struct options *opts, int argc, char **argv);
int check_main(struct options *opts, int argc, char **argv);

#endif
