/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside src/nft only: what the trace table's files share. tracetable.c
 * installs, swaps and deletes the table and runs its commands through
 * libnftables; tracetable_follow.c adds the --follow set and chains;
 * tracetable_counters.c reads the trace rules' counters.
 */
#ifndef NATTRACED_TRACETABLE_INT_H
#define NATTRACED_TRACETABLE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "tracetable.h"

/* Our own bound; the kernel allows 255 (NFT_TABLE_MAXNAMELEN - 1). */
#define TRACETABLE_NAME_MAX  OPTIONS_TABLE_NAME_MAX
/* "trace_" + the longest hook keyword ("postrouting") + NUL. */
#define TRACETABLE_CHAIN_MAX 32
/* match (MATCH 4096 max) + our statements + one command's framing. */
#define TRACETABLE_RULE_MAX  4352
#define TRACETABLE_CMD_MAX   (TRACETABLE_RULE_MAX + 256)
/*
 * Up to five hooks, each a chain and a rule command, and the cleanup; with
 * --follow as many again for the follow chains, and their fixed rules.
 */
#define TRACETABLE_BATCH_MAX (10 * (TRACETABLE_CMD_MAX + 256) + 4096)

struct mnl_socket;
struct nft_ctx;

struct tracetable {
	struct nft_ctx *nft;
	struct mnl_socket *counters; /* reads the trace rules' counters */
	uint32_t counters_seq;
	uint8_t nfproto;
	const char *family;
	char table[TRACETABLE_NAME_MAX + 1];
	unsigned int hooks; /* hooked trace chains, for tracetable_replace() */
	/* --follow */
	bool follow;
	unsigned int follow_hooks; /* hooked follow chains */
	unsigned int follow_timeout_ms;
	unsigned int follow_packets;
	uint64_t follow_handle[TRACETABLE_FOLLOW_HANDLES];
	uint8_t follow_kind[TRACETABLE_FOLLOW_HANDLES]; /* enum tracetable_rule_kind */
	unsigned int n_follow;
	char last_error[2048]; /* libnftables' whole error text of the last failed run */
};

/* tracetable.c: libnftables */

/*
 * Run one buffer (one atomic batch). 0, or -1 with libnftables' error text
 * in msg. Both buffers are drained so the next command starts clean.
 */
int tracetable_run(struct tracetable *t, const char *cmd, char *msg, size_t msglen);

/* tracetable_refusal.c: why libnftables refused */

/* A kernel error's text, as libnftables gives it, back to an -errno. */
int tracetable_errno(const char *text);
/* libnftables' error buffer cut to its "Error: <what>" reasons, joined with "; ". */
void tracetable_error_text(const char *buf, char *out, size_t outlen);
/*
 * The check batch of rule (made from match) failed with msg: why, in err,
 * with nft's marks under the match where it gave some. The -errno.
 */
int tracetable_check_refused(struct tracetable *t, const char *match, const char *rule,
			     const char *msg, bool create, char *err, size_t errlen);

/* tracetable.c: the text of a batch */

/* Append to a batch; -ENOSPC when it does not fit. */
int tracetable_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * One hooked chain's lines in a batch that moves chains from the hooks
 * they had to those now wanted: a chain no longer wanted is deleted, one
 * kept is emptied, a new one is added. Its rules follow. 0 or -ENOSPC.
 */
int tracetable_batch_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			   const char *chain, unsigned int hook, int priority, bool had,
			   bool wants);

/* tracetable_follow.c */

/*
 * The follow chains' commands for match, rate and hooks, appended to a
 * batch; *ret_hooks gets the hooks they are at. 0 or -ENOSPC.
 */
int tracetable_follow_batch(struct tracetable *t, const char *match, const char *rate,
			    unsigned int hooks, char *batch, size_t len, size_t *used,
			    unsigned int *ret_hooks);

/* After the trace chains: the follow set and chains, one batch. 0 or -errno, err says why. */
int tracetable_follow_install(struct tracetable *t, const struct tracetable_config *cfg, char *err,
			      size_t errlen);

/* Which follow rule each handle is, from the follow chains' listing. */
void tracetable_follow_handles(struct tracetable *t);

#endif
