/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trace table, through libnftables 1.0.6.
 *
 * The table is created with "flags owner": the kernel deletes it when the
 * netlink socket that created it closes, also on SIGKILL. libnftables keeps
 * one socket per nft_ctx for the context's whole life, so the context lives
 * exactly as long as struct tracetable.
 *
 * The user's match is first added to an unhooked chain, where it cannot see
 * a packet, and the rule libnftables built is checked (match.c) before the
 * same text is added to hooked chains.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <nftables/libnftables.h>

#include "match.h"
#include "options.h"
#include "strbuf.h"
#include "tracetable.h"
#include "tracetable_int.h"

const char *tracetable_chain_name(unsigned int hook, char *buf, size_t len)
{
	const char *kw = options_hook_keyword(hook);
	int n;

	if (!kw || !buf)
		return NULL;
	n = snprintf(buf, len, "trace_%s", kw);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

/* The name is spliced into commands: an nft identifier, nothing more. */
static bool table_name_valid(const char *name)
{
	/* "table inet counter" does not parse: a keyword is no name */
	return name && options_table_name_ok(name) && !options_nft_keyword(name);
}

int tracetable_run(struct tracetable *t, const char *cmd, char *msg, size_t msglen)
{
	int rc;

	rc = nft_run_cmd_from_buffer(t->nft, cmd);
	if (rc) {
		const char *raw = nft_ctx_get_error_buffer(t->nft);

		tracetable_error_text(raw, msg, msglen);
		snprintf(t->last_error, sizeof(t->last_error), "%s", raw ? raw : "");
	} else
		nft_ctx_get_error_buffer(t->nft);
	nft_ctx_get_output_buffer(t->nft);
	return rc ? -1 : 0;
}

/*
 * libnftables calls exit() when it cannot open its netlink sockets
 * (netlink_init_error(): NETLINK_NETFILTER in nft_ctx_new(), NETLINK_ROUTE
 * for interface names in a match). Opening both first turns that into an
 * error we can return.
 */
static int netlink_usable(int protocol)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static void delete_table(struct tracetable *t)
{
	char cmd[TRACETABLE_NAME_MAX + 32], msg[128];

	snprintf(cmd, sizeof(cmd), "delete table %s %s", t->family, t->table);
	/* Gone already is fine: the socket close would remove it anyway. */
	tracetable_run(t, cmd, msg, sizeof(msg));
}

/* ---- the text of a batch ---- */

int tracetable_append(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used)
		return -ENOSPC;
	*used += (size_t)n;
	return 0;
}

/* The batch lines every path writes, in one place each. */
static int add_base_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			  const char *chain, unsigned int hook, int priority)
{
	return tracetable_append(
		batch, len, used,
		"add chain %s %s %s { type filter hook %s priority %d; policy accept; }\n",
		t->family, t->table, chain, options_hook_keyword(hook), priority);
}

static int add_rule(const struct tracetable *t, char *batch, size_t len, size_t *used,
		    const char *chain, const char *rule)
{
	return tracetable_append(batch, len, used, "add rule %s %s %s %s\n", t->family, t->table,
				 chain, rule);
}

/* A chain holding a rule cannot be deleted: flush it first. */
static int remove_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			const char *chain)
{
	return tracetable_append(batch, len, used, "flush chain %s %s %s\ndelete chain %s %s %s\n",
				 t->family, t->table, chain, t->family, t->table, chain);
}

int tracetable_batch_chain(const struct tracetable *t, char *batch, size_t len, size_t *used,
			   const char *chain, unsigned int hook, int priority, bool had, bool wants)
{
	int r = 0;

	if (had && !wants)
		r = remove_chain(t, batch, len, used, chain);
	else if (had)
		r = tracetable_append(batch, len, used, "flush chain %s %s %s\n", t->family,
				      t->table, chain);
	if (r == 0 && !had && wants)
		r = add_base_chain(t, batch, len, used, chain, hook, priority);
	return r;
}

/*
 * The batch that hooks the trace rule, for install and replace alike: the
 * trace chains move from the hooks t has to cfg's, each holding rule; the
 * follow chains, if t has them, are rebuilt for the new match; the check
 * chain goes. The kernel commits it at once or not at all.
 * *ret_follow_hooks gets the follow chains' hooks, if t has them.
 */
static int trace_batch(struct tracetable *t, const struct tracetable_config *cfg, const char *rule,
		       char *batch, size_t len, unsigned int *ret_follow_hooks)
{
	char chain[TRACETABLE_CHAIN_MAX];
	size_t used = 0;
	int r = 0;

	for (unsigned int hook = 0; hook < NF_INET_NUMHOOKS && r == 0; hook++) {
		bool had = t->hooks & (1u << hook), wants = cfg->hooks & (1u << hook);

		tracetable_chain_name(hook, chain, sizeof(chain));
		r = tracetable_batch_chain(t, batch, len, &used, chain, hook, TRACETABLE_PRIORITY,
					   had, wants);
		if (r == 0 && wants)
			r = add_rule(t, batch, len, &used, chain, rule);
	}
	if (r == 0 && t->follow)
		r = tracetable_follow_batch(t, cfg->match, cfg->rate, cfg->hooks, batch, len, &used,
					    ret_follow_hooks);
	if (r == 0)
		r = remove_chain(t, batch, len, &used, TRACETABLE_CHECK_CHAIN);
	return r;
}

/* ---- the steps ---- */

static int hooks_valid(unsigned int hooks, char *err, size_t errlen)
{
	if (!hooks || hooks >= (1u << NF_INET_NUMHOOKS))
		return strbuf_error(
			err, errlen,
			"no hook, or a hook other than prerouting, input, forward, output, "
			"postrouting");
	return 0;
}

/* The trace rule's text for cfg's match and rate, or -EINVAL and why. */
static int trace_rule_text(const struct tracetable_config *cfg, char *rule, char *err,
			   size_t errlen)
{
	int r = match_rule_text(cfg->match, cfg->rate, rule, TRACETABLE_RULE_MAX);

	if (r == -ENOSPC)
		return strbuf_error(err, errlen, "match refused: too long");
	if (r < 0)
		strbuf_error(err, errlen, "rate '%.32s' is not <n>/<second|minute|hour|day>",
			     cfg->rate ? cfg->rate : "");
	return r;
}

/* Steps b-c: refuse an existing table and a textually hostile match. */
static int check_before_create(struct tracetable *t, const struct tracetable_config *cfg, char *err,
			       size_t errlen)
{
	char cmd[TRACETABLE_NAME_MAX + 32], msg[256];

	snprintf(cmd, sizeof(cmd), "list table %s %s", t->family, t->table);
	if (tracetable_run(t, cmd, msg, sizeof(msg)) == 0) {
		strbuf_error(
			err, errlen,
			"table %s %s already exists and is not owned by this process; remove it "
			"(nft delete table %s %s) or choose another name with --table",
			t->family, t->table, t->family, t->table);
		return -EEXIST;
	}
	if (!strstr(msg, strerror(ENOENT))) {
		int ret = tracetable_errno(msg);

		strbuf_error(err, errlen, "cannot list table %s %s: %s", t->family, t->table, msg);
		return ret == -EINVAL ? -EIO : ret;
	}
	return match_precheck(cfg->match, err, errlen);
}

/*
 * Step d: the unhooked check chain and the rule, in one batch; at install
 * (create) the table too.
 */
static int add_check_chain(struct tracetable *t, const char *match, const char *rule, bool create,
			   char *err, size_t errlen)
{
	const size_t len = TRACETABLE_CMD_MAX + 512;
	char *batch, msg[512];
	size_t used = 0;
	int ret = 0;

	batch = malloc(len);
	if (!batch)
		return -ENOMEM;
	/* nft 1.0.6 wants ';' or a newline before a closing '}'. */
	if (create)
		ret = tracetable_append(batch, len, &used, "create table %s %s { flags owner; }\n",
					t->family, t->table);
	if (ret == 0)
		ret = tracetable_append(batch, len, &used,
					"add chain %s %s " TRACETABLE_CHECK_CHAIN "\n"
					"add rule %s %s " TRACETABLE_CHECK_CHAIN " %s\n",
					t->family, t->table, t->family, t->table, rule);
	if (ret < 0)
		ret = strbuf_error(err, errlen, "match refused: too long");
	else if (tracetable_run(t, batch, msg, sizeof(msg)) < 0)
		ret = tracetable_check_refused(t, match, rule, msg, create, err, errlen);
	free(batch);
	return ret;
}

/* Step e: what libnftables built must be matches plus our statements. */
static int verify_check_chain(struct tracetable *t, const char *rate, char **ret_listing, char *err,
			      size_t errlen)
{
	char cmd[TRACETABLE_NAME_MAX + 64], msg[256];
	unsigned int flags;
	char *listing = NULL;
	int ret;

	snprintf(cmd, sizeof(cmd), "list chain %s %s " TRACETABLE_CHECK_CHAIN, t->family, t->table);
	flags = nft_ctx_output_get_flags(t->nft);
	nft_ctx_output_set_flags(t->nft, flags | NFT_CTX_OUTPUT_JSON);
	ret = nft_run_cmd_from_buffer(t->nft, cmd);
	nft_ctx_output_set_flags(t->nft, flags);
	if (ret) {
		tracetable_error_text(nft_ctx_get_error_buffer(t->nft), msg, sizeof(msg));
		nft_ctx_get_output_buffer(t->nft);
		strbuf_error(err, errlen, "cannot list the check chain: %s", msg);
		return -EIO;
	}
	nft_ctx_get_error_buffer(t->nft);
	/* The buffer is reused by the next command: copy it. */
	listing = strdup(nft_ctx_get_output_buffer(t->nft));
	if (!listing)
		return -ENOMEM;
	ret = match_verify_listing(listing, rate, err, errlen);
	if (ret == 0 && ret_listing) {
		*ret_listing = listing;
		listing = NULL;
	}
	free(listing);
	return ret;
}

/*
 * After step f failed: which hooks refuse the rule (e.g. "fib daddr oif" is
 * not allowed at output)? libnftables 1.0.6 cannot tell us (see above), so
 * try each hook alone. Adding and deleting the chain in one batch proves
 * nothing: the kernel validates at commit and skips deleted chains. So a
 * hook that takes the rule holds it, already verified, for one more batch.
 */
static void probe_hooks(struct tracetable *t, unsigned int hooks, const char *rule, char *out,
			size_t outlen)
{
	char chain[TRACETABLE_CHAIN_MAX], *batch, msg[128];
	size_t used = 0, batch_used;
	unsigned int hook;

	out[0] = '\0';
	batch = malloc(TRACETABLE_CMD_MAX + 512);
	if (!batch)
		return;
	for (hook = 0; hook < NF_INET_NUMHOOKS; hook++) {
		if (!(hooks & (1u << hook)))
			continue;
		tracetable_chain_name(hook, chain, sizeof(chain));
		batch_used = 0;
		if (add_base_chain(t, batch, TRACETABLE_CMD_MAX + 512, &batch_used, chain, hook,
				   TRACETABLE_PRIORITY) < 0 ||
		    add_rule(t, batch, TRACETABLE_CMD_MAX + 512, &batch_used, chain, rule) < 0)
			break;
		if (tracetable_run(t, batch, msg, sizeof(msg)) == 0) {
			batch_used = 0;
			/* If this fails, deleting the table follows. */
			if (remove_chain(t, batch, TRACETABLE_CMD_MAX + 512, &batch_used, chain) ==
			    0)
				tracetable_run(t, batch, msg, sizeof(msg));
			continue;
		}
		if (tracetable_append(out, outlen, &used, "%s%s", used ? ", " : "",
				      options_hook_keyword(hook)) < 0)
			break;
	}
	free(batch);
}

/* Step f: hook the trace chains and drop the check chain, one batch. */
static int hook_trace_chains(struct tracetable *t, const struct tracetable_config *cfg,
			     const char *rule, char *err, size_t errlen)
{
	char *batch, msg[512], refused[64];
	unsigned int follow_hooks = 0;
	int ret;

	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!batch)
		return -ENOMEM;
	ret = trace_batch(t, cfg, rule, batch, TRACETABLE_BATCH_MAX, &follow_hooks);
	if (ret < 0) {
		ret = strbuf_error(err, errlen, "match refused: too long");
	} else if (tracetable_run(t, batch, msg, sizeof(msg)) < 0) {
		/* The text passed the check chain: a hook does not take it. */
		ret = tracetable_errno(msg);
		if (ret == -EINVAL)
			probe_hooks(t, cfg->hooks, rule, refused, sizeof(refused));
		if (ret == -EINVAL && refused[0])
			strbuf_error(err, errlen, "match refused at hook %s: %s", refused, msg);
		else
			strbuf_error(err, errlen, "%scannot hook the trace chains: %s",
				     ret == -EINVAL ? "match refused: " : "", msg);
	}
	free(batch);
	return ret;
}

/* Step a's conditions: cfg names a trace table we can make, and netlink opens. */
static int install_allowed(const struct tracetable_config *cfg, char *err, size_t errlen)
{
	int r;

	if (!options_family_keyword(cfg->family)) {
		strbuf_error(err, errlen, "family %u has no trace table", cfg->family);
		return -EINVAL;
	}
	if (!table_name_valid(cfg->table))
		return strbuf_error(
			err, errlen,
			"table name must be a letter then up to %d letters, digits, '_' or '-'",
			TRACETABLE_NAME_MAX - 1);
	r = hooks_valid(cfg->hooks, err, errlen);
	if (r < 0)
		return r;
	r = netlink_usable(NETLINK_NETFILTER);
	if (r == 0)
		r = netlink_usable(NETLINK_ROUTE);
	if (r < 0)
		strbuf_error(err, errlen, "cannot open a netlink socket: %s", strerror(-r));
	return r;
}

/* Step a: our own context, silent: everything goes to buffers. */
static int open_context(struct tracetable *t)
{
	t->nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!t->nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(t->nft) || nft_ctx_buffer_error(t->nft))
		return -ENOMEM;
	/* "include" is refused by the precheck; no search path either. */
	nft_ctx_clear_include_paths(t->nft);
	return 0;
}

int tracetable_install(const struct tracetable_config *cfg, struct tracetable **ret,
		       char **ret_listing, char *err, size_t errlen)
{
	struct tracetable *t = NULL;
	bool created = false;
	char *rule = NULL;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!cfg || !ret) {
		r = -EINVAL;
		goto out;
	}
	r = install_allowed(cfg, err, errlen);
	if (r < 0)
		goto out;

	t = calloc(1, sizeof(*t));
	rule = malloc(TRACETABLE_RULE_MAX);
	if (!t || !rule) {
		r = -ENOMEM;
		goto out;
	}
	t->family = options_family_keyword(cfg->family);
	t->nfproto = cfg->family;
	snprintf(t->table, sizeof(t->table), "%s", cfg->table);
	r = open_context(t);
	if (r < 0)
		goto out;

	r = check_before_create(t, cfg, err, errlen);
	if (r < 0)
		goto out;

	r = trace_rule_text(cfg, rule, err, errlen);
	if (r < 0)
		goto out;

	r = add_check_chain(t, cfg->match, rule, true, err, errlen);
	if (r < 0)
		goto out;
	created = true;

	r = verify_check_chain(t, cfg->rate, ret_listing, err, errlen);
	if (r < 0)
		goto out;
	if (cfg->check_only) {
		free(rule);
		tracetable_free(t);
		*ret = NULL;
		return 0;
	}

	r = hook_trace_chains(t, cfg, rule, err, errlen);
	t->hooks = cfg->hooks;
	if (r == 0 && cfg->follow)
		r = tracetable_follow_install(t, cfg, err, errlen);
out:
	free(rule);
	if (r < 0) {
		if (err && errlen && !err[0])
			strbuf_error(err, errlen, "cannot install the trace table: %s",
				     strerror(-r));
		if (t && created)
			delete_table(t);
		if (t && t->nft)
			nft_ctx_free(t->nft);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct tracetable *tracetable_free(struct tracetable *t)
{
	if (!t)
		return NULL;
	delete_table(t);
	nft_ctx_free(t->nft);
	if (t->counters)
		mnl_socket_close(t->counters);
	free(t);
	return NULL;
}

static void drop_check_chain(struct tracetable *t)
{
	char cmd[2 * TRACETABLE_NAME_MAX + 128], msg[128];
	size_t used = 0;

	if (remove_chain(t, cmd, sizeof(cmd), &used, TRACETABLE_CHECK_CHAIN) == 0)
		tracetable_run(t, cmd, msg, sizeof(msg));
}

/*
 * Reload: the same checks as tracetable_install() on an unhooked check
 * chain, then one batch that empties the hooked chains and refills them
 * with the new rule, adds chains for new hooks and deletes those of hooks
 * no longer wanted. The kernel commits a batch atomically: packets meet
 * either the old rule or the new one, never none. If anything is refused,
 * the old chains and rules are untouched.
 */
/* What a reload may not change: the table's family and name, and the hooks must be hooks. */
static int replace_allowed(const struct tracetable *t, const struct tracetable_config *cfg,
			   char *err, size_t errlen)
{
	if (cfg->family != 0 && strcmp(options_family_keyword(cfg->family) ?: "", t->family) != 0)
		return strbuf_error(err, errlen,
				    "the family of the trace table cannot change while it runs");
	if (cfg->table && strcmp(cfg->table, t->table) != 0)
		return strbuf_error(err, errlen,
				    "the name of the trace table cannot change while it runs");
	return hooks_valid(cfg->hooks, err, errlen);
}

int tracetable_replace(struct tracetable *t, const struct tracetable_config *cfg,
		       char **ret_listing, char *err, size_t errlen)
{
	char *rule = NULL, *batch = NULL, msg[512];
	char *listing = NULL;
	bool checking = false;
	unsigned int follow_hooks = 0;
	int r;

	if (ret_listing)
		*ret_listing = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (!t || !cfg)
		return -EINVAL;
	r = replace_allowed(t, cfg, err, errlen);
	if (r < 0)
		return r;
	r = match_precheck(cfg->match, err, errlen);
	if (r < 0)
		return r;
	rule = malloc(TRACETABLE_RULE_MAX);
	batch = malloc(TRACETABLE_BATCH_MAX);
	if (!rule || !batch) {
		r = -ENOMEM;
		goto out;
	}
	r = trace_rule_text(cfg, rule, err, errlen);
	if (r < 0)
		goto out;

	/* If the batch fails it added nothing, and deleting nothing is harmless. */
	checking = true;
	r = add_check_chain(t, cfg->match, rule, false, err, errlen);
	if (r < 0)
		goto out;
	r = verify_check_chain(t, cfg->rate, ret_listing ? &listing : NULL, err, errlen);
	if (r < 0)
		goto out;

	r = trace_batch(t, cfg, rule, batch, TRACETABLE_BATCH_MAX, &follow_hooks);
	if (r < 0) {
		r = strbuf_error(err, errlen, "match refused: too long");
		goto out;
	}
	if (tracetable_run(t, batch, msg, sizeof(msg)) < 0) {
		/* It passed the check chain: a hook does not take it. */
		r = tracetable_errno(msg);
		strbuf_error(err, errlen, "%scannot swap the trace rule: %s",
			     r == -EINVAL ? "match refused at a hook: " : "", msg);
		goto out;
	}
	checking = false; /* the batch deleted it */
	t->hooks = cfg->hooks;
	if (t->follow) {
		t->follow_hooks = follow_hooks;
		tracetable_follow_handles(t);
	}
	if (ret_listing) {
		*ret_listing = listing;
		listing = NULL;
	}
out:
	if (checking)
		drop_check_chain(t);
	free(listing);
	free(rule);
	free(batch);
	if (r < 0 && err && errlen && !err[0])
		strbuf_error(err, errlen, "cannot swap the trace rule: %s", strerror(-r));
	return r;
}
