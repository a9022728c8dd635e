/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal sink and the service manager edge, through libsystemd's
 * sd-journal and sd-daemon. Without libsystemd (meson -Djournal=disabled)
 * the fields are still built (the unit tests use them) but nothing is
 * sent: journal_supported() says so and main refuses --output journal.
 *
 * A timeline's fields, its MESSAGE and NATTRACE_JSON are rendered from
 * one explanation (explain_timeline(), done once by the daemon), so they
 * can never disagree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif

#include "clock.h"
#include "explain_text.h"
#include "follow.h"
#include "journal.h"
#include "natmap.h"
#include "owner.h"
#include "owner_render.h"
#include "packet.h"
#include "stats.h"
#include "strbuf.h"
#include "summary.h"

bool journal_supported(void)
{
#ifdef HAVE_LIBSYSTEMD
	return true;
#else
	return false;
#endif
}

/* Where sd_journal_sendv() sends (systemd's JOURNAL_SOCKET_PATH). */
#define JOURNAL_SOCKET	 "/run/systemd/journal/socket"
/* How often journal_send() checks that journald still listens. */
#define JOURNAL_CHECK_NS (1000ull * 1000 * 1000)

int journal_reachable(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
	int fd, r = 0;

	/*
	 * sd_journal_sendv() returns success when the socket is missing
	 * (ENOENT is swallowed), so ask the way it would send: a datagram
	 * connect fails with ENOENT (no socket) or ECONNREFUSED (nobody
	 * bound to it).
	 */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	close(fd);
	return r;
}

#ifdef HAVE_LIBSYSTEMD
/* journal_reachable(), asked at most once a second. */
static int reachable_now(void)
{
	static uint64_t checked_at;
	static int last;
	uint64_t now = now_ns();
	if (!checked_at || now - checked_at >= JOURNAL_CHECK_NS) {
		last = journal_reachable();
		checked_at = now;
	}
	return last;
}
#endif

void journal_fields_free(struct journal_fields *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->field[i]);
	f->n = 0;
}

static int add(struct journal_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add(struct journal_fields *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (f->n >= JOURNAL_FIELDS_MAX)
		return -ENOSPC;
	va_start(ap, fmt);
	n = vasprintf(&f->field[f->n], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	f->n++;
	return 0;
}

static int priority_of(enum timeline_verdict verdict, bool complete)
{
	if (verdict == TL_VERDICT_DROP)
		return LOG_WARNING;
	if (!complete || verdict == TL_VERDICT_UNKNOWN)
		return LOG_NOTICE;
	return LOG_INFO;
}

/* "tcp 198.51.100.2:40000 -> 198.51.100.1:1222", "packet not seen" */
static void packet_words(FILE *f, const struct explain *ex)
{
	const struct packet_info *p;
	char proto[8], src[PACKET_ADDRSTRLEN], dst[PACKET_ADDRSTRLEN];

	if (!ex->sum.packet || !ex->sum.packet->pkt_valid) {
		fputs("packet not seen", f);
		return;
	}
	p = &ex->sum.packet->pkt;
	packet_endpoint_str(p, true, src, sizeof(src));
	packet_endpoint_str(p, false, dst, sizeof(dst));
	fprintf(f, "%s %s -> %s", packet_proto_name(p->l4proto, proto, sizeof(proto)), src, dst);
}

/* "dnat 198.51.100.1:1222 -> 203.0.113.10:22, snat ..." */
static void nat_words(FILE *f, const struct explain *ex, const char *first_sep)
{
	char from[PACKET_ADDRSTRLEN], to[PACKET_ADDRSTRLEN];

	for (unsigned int i = 0; i < ex->n_nat; i++) {
		const struct explain_nat *n = &ex->nat[i];

		explain_nat_endpoints(n, from, to, sizeof(from));
		fprintf(f, "%s%s %s -> %s", i ? ", " : first_sep,
			n->type == TL_NAT_SNAT ? "snat" : "dnat", from, n->addr_known ? to : "?");
	}
}

/*
 * MESSAGE: one summary line, then the steps as format_text() prints them
 * (without its first line, which the summary replaces).
 */
static char *message(const struct timeline *tl, const struct explain *ex)
{
	char *msg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&msg, &len), *esc;

	if (!f)
		return NULL;
	/* as in text output, the ruleset's control bytes escaped (format.h) */
	esc = format_text_stream(f);
	if (!esc) {
		fclose(f);
		free(msg);
		return NULL;
	}
	packet_words(esc, ex);
	nat_words(esc, ex, ", ");
	/* the verdict line's word: a reject rule's is reject (the kernel's drop) */
	fprintf(esc, ": %s", explain_verdict_kind(ex));
	if (ex->sum.cause >= 0) {
		const struct tl_step *s = &tl->steps[ex->sum.cause];
		char words[4400];

		explain_step_str(s, &ex->rules[ex->sum.cause], false, words, sizeof(words));
		fprintf(esc, " by %s in %s %s %s", words, trace_family_name(s->family), s->table,
			s->chain);
	}
	if (!timeline_complete(tl))
		fputs(" (incomplete)", esc);
	fprintf(esc, " [trace %08x]", tl->ids[0]);
	fputc('\0', esc); /* the line's end */
	fclose(esc);
	format_text_body(f, tl, ex);
	if (fclose(f) != 0) {
		free(msg);
		return NULL;
	}
	/* the body ends its last line; a MESSAGE does not */
	while (len && msg[len - 1] == '\n')
		msg[--len] = '\0';
	return msg;
}

/* The deciding rule's text, "policy VERDICT", or what is known of the rule. */
static int cause_fields(struct journal_fields *f, const struct timeline *tl,
			const struct explain *ex)
{
	const struct tl_step *s = &tl->steps[ex->sum.cause];
	const char *text = ex->rules[ex->sum.cause].text;
	char words[1024];
	int err = 0;

	if (s->type == TRACE_TYPE_POLICY)
		err |= add(f, "NATTRACE_CAUSE=policy %s", timeline_verdict_name(ex->sum.verdict));
	else if (text)
		err |= add(f, "NATTRACE_CAUSE=%s", text);
	else if (s->has_handle)
		err |= add(f, "NATTRACE_CAUSE=rule handle %" PRIu64, s->handle);
	else
		err |= add(f, "NATTRACE_CAUSE=end of chain");
	err |= add(f, "NATTRACE_CAUSE_FAMILY=%s", trace_family_name(s->family));
	err |= add(f, "NATTRACE_CAUSE_TABLE=%s", s->table);
	err |= add(f, "NATTRACE_CAUSE_CHAIN=%s", s->chain);
	/* which manager wrote the rule, in its terms (issue 14) */
	if (ex->has_cause_owner && owner_str(&ex->cause_owner, true, words, sizeof(words)) > 0)
		err |= add(f, "NATTRACE_CAUSE_OWNER=%s", words);
	if (s->has_handle)
		err |= add(f, "NATTRACE_CAUSE_HANDLE=%" PRIu64, s->handle);
	if (ex->sum.n_path) {
		char path[TL_MAX_PATH * 260];
		size_t off = 0;

		path[0] = '\0';
		for (unsigned int i = 0; i < ex->sum.n_path; i++)
			strbuf_add(path, sizeof(path), &off, "%s%s", i ? " -> " : "",
				   ex->sum.path[i]);
		err |= add(f, "NATTRACE_CAUSE_CHAIN_PATH=%s", path);
	}
	err |= add(f, "NATTRACE_CAUSE_KIND=%s", explain_verdict_kind(ex));
	return err;
}

int journal_timeline_fields(const struct timeline *tl, const struct explain *ex,
			    struct journal_fields *ret)
{
	struct journal_fields f = { .n = 0 };
	char buf[512], *msg, *nats = NULL;
	const struct tl_ct *ct;
	size_t nats_len = 0;
	bool complete = timeline_complete(tl);
	struct jsonw w;
	FILE *mem;
	int err = 0;

	msg = message(tl, ex);
	if (!msg)
		return -ENOMEM;
	err |= add(&f, "MESSAGE=%s", msg);
	free(msg);
	err |= add(&f, "MESSAGE_ID=" JOURNAL_MSGID_TIMELINE);
	err |= add(&f, "PRIORITY=%d", priority_of(ex->sum.verdict, complete));
	err |= add(&f, "SYSLOG_IDENTIFIER=" JOURNAL_IDENTIFIER);
	err |= add(&f, "NATTRACE_ID=%08x", tl->ids[0]);
	/* one packet under several trace ids: journalctl NATTRACE_IDS=... */
	for (unsigned int i = 0; tl->n_ids > 1 && i < tl->n_ids; i++)
		err |= add(&f, "NATTRACE_IDS=%08x", tl->ids[i]);
	err |= add(&f, "NATTRACE_VERDICT=%s", timeline_verdict_name(ex->sum.verdict));
	err |= add(&f, "NATTRACE_COMPLETE=%s", complete ? "true" : "false");
	if (ex->sum.packet && ex->sum.packet->pkt_valid) {
		const struct packet_info *p = &ex->sum.packet->pkt;

		err |= add(&f, "NATTRACE_PROTO=%s",
			   packet_proto_name(p->l4proto, buf, sizeof(buf)));
		packet_endpoint_str(p, true, buf, sizeof(buf));
		err |= add(&f, "NATTRACE_SRC=%s", buf);
		packet_endpoint_str(p, false, buf, sizeof(buf));
		err |= add(&f, "NATTRACE_DST=%s", buf);
	}
	if (ex->n_nat) {
		mem = open_memstream(&nats, &nats_len);
		if (!mem) {
			err = -ENOMEM;
			goto out;
		}
		nat_words(mem, ex, "");
		if (fclose(mem) != 0) {
			err = -ENOMEM;
			goto out;
		}
		err |= add(&f, "NATTRACE_NAT=%s", nats);
	}
	if (ex->sum.cause >= 0)
		err |= cause_fields(&f, tl, ex);
	for (unsigned int i = 0; i < ex->n_hints; i++) {
		if (f.n + 4 >= JOURNAL_FIELDS_MAX)
			break;
		explain_hint_str(&ex->hints[i], buf, sizeof(buf));
		err |= add(&f, "NATTRACE_HINT=%s", buf);
		if (explain_hint_command(&ex->hints[i], buf, sizeof(buf)) > 0)
			err |= add(&f, "NATTRACE_HINT_COMMAND=%s", buf);
		/* --verify: what the replay with the command gave */
		if (ex->hints[i].verified)
			err |= add(&f, "NATTRACE_HINT_VERIFIED=%s: %s",
				   ex->hints[i].verified == EXPLAIN_VERIFIED ? "verified"
									     : "not enough",
				   ex->hints[i].verified_cause);
	}
	/* why a packet was lost outside the ruleset (vanish.h) */
	if (ex->outside) {
		err |= add(&f, "NATTRACE_OUTSIDE_REASON=%s",
			   vanish_reason_name(ex->outside_why.reason));
		if (ex->outside_why.evidence[0])
			err |= add(&f, "NATTRACE_OUTSIDE_EVIDENCE=%s", ex->outside_why.evidence);
	}
	/*
	 * accepted, no later chain: where the kernel sends it; two fields, as
	 * for NATTRACE_OUTSIDE_* (never both), to stay within JOURNAL_FIELDS_MAX
	 */
	if (ex->after_ruleset) {
		err |= add(&f, "NATTRACE_AFTER_RULESET=%s", vanish_next_name(&ex->outside_why));
		vanish_next_str(&ex->outside_why, buf, sizeof(buf));
		err |= add(&f, "NATTRACE_AFTER_RULESET_EVIDENCE=%s", buf);
	}
	ct = timeline_first_ct(tl);
	if (ct && (ct->present & TRACE_HAS_CT_ID))
		err |= add(&f, "NATTRACE_CT_ID=%" PRIu32, ct->id);
	/* --follow: which way the packet went in its connection */
	if (ct && (ct->present & TRACE_HAS_CT_ID) && (ct->present & TRACE_HAS_CT_DIRECTION))
		err |= add(&f, "NATTRACE_CT_DIRECTION=%s", ct->direction ? "reply" : "original");
	/* what --output json prints, from the same explanation */
	jsonw_init(&w, NULL, 0);
	if (format_json(&w, tl, ex) == 0 && jsonw_text(&w))
		err |= add(&f, "NATTRACE_JSON=%s", jsonw_text(&w));
	else
		err = -ENOMEM;
	jsonw_release(&w);
	/* add() returns 0 or one of two negative codes: any failure is fatal */
	if (err)
		err = -ENOMEM;
out:
	free(nats);
	if (err) {
		journal_fields_free(&f);
		return err;
	}
	*ret = f;
	return 0;
}

int journal_send(const struct journal_fields *f)
{
#ifdef HAVE_LIBSYSTEMD
	struct iovec iov[JOURNAL_FIELDS_MAX];
	int r = reachable_now();

	/* journald gone: an error to count, not a success that loses it */
	if (r < 0)
		return r;
	for (size_t i = 0; i < f->n; i++)
		iov[i] = (struct iovec){ .iov_base = f->field[i], .iov_len = strlen(f->field[i]) };
	return sd_journal_sendv(iov, (int)f->n);
#else
	(void)f;
	return -ENOSYS;
#endif
}

int journal_timeline(const struct timeline *tl, const struct explain *ex)
{
	struct journal_fields f;
	int ret;

	ret = journal_timeline_fields(tl, ex, &f);
	if (ret < 0)
		return ret;
	ret = journal_send(&f);
	journal_fields_free(&f);
	return ret;
}

int journal_natmap_fields(const struct natmap *m, struct journal_fields *ret)
{
	static const struct {
		const char *field;
		size_t ep;
	} eps[] = {
		{ "NATTRACE_ORIG_SRC", offsetof(struct natmap, orig_src) },
		{ "NATTRACE_ORIG_DST", offsetof(struct natmap, orig_dst) },
		{ "NATTRACE_REPLY_SRC", offsetof(struct natmap, reply_src) },
		{ "NATTRACE_REPLY_DST", offsetof(struct natmap, reply_dst) },
	};
	struct journal_fields f = { .n = 0 };
	char line[1024], ep[NATMAP_ENDPOINT_STRLEN], proto[8];
	const char *event = natmap_event_name(m->event), *state = natmap_state_name(m);
	struct jsonw w;
	int err = 0;

	/* the very line the text log prints, and the object of --output json */
	natmap_text(m, line, sizeof(line));
	jsonw_init(&w, NULL, 0);
	natmap_json(&w, NULL, m);
	err |= add(&f, "MESSAGE=%s", line);
	err |= add(&f, "MESSAGE_ID=" JOURNAL_MSGID_NAT);
	err |= add(&f, "PRIORITY=%d", LOG_INFO);
	err |= add(&f, "SYSLOG_IDENTIFIER=" JOURNAL_IDENTIFIER);
	if (event)
		err |= add(&f, "NATTRACE_NAT_EVENT=%s", event);
	err |= add(&f, "NATTRACE_NAT_KIND=%s", natmap_kind_name(m->nat));
	err |= add(&f, "NATTRACE_PROTO=%s", packet_proto_name(m->l4proto, proto, sizeof(proto)));
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		natmap_endpoint_str(m, (const struct natmap_ep *)((const char *)m + eps[i].ep), ep,
				    sizeof(ep));
		err |= add(&f, "%s=%s", eps[i].field, ep);
	}
	/* the join with the timelines: their NATTRACE_CT_ID */
	if (m->has_ct_id)
		err |= add(&f, "NATTRACE_CT_ID=%" PRIu32, m->ct_id);
	if (strcmp(state, "-") != 0)
		err |= add(&f, "NATTRACE_CT_STATE=%s", state);
	if (jsonw_text(&w))
		err |= add(&f, "NATTRACE_JSON=%s", jsonw_text(&w));
	else
		err = -ENOMEM;
	jsonw_release(&w);
	if (err) {
		journal_fields_free(&f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

int journal_natmap(const struct natmap *m)
{
	struct journal_fields f;
	int ret;

	ret = journal_natmap_fields(m, &f);
	if (ret < 0)
		return ret;
	ret = journal_send(&f);
	journal_fields_free(&f);
	return ret;
}

int journal_stats(const struct capture_stats *st)
{
	char text[1024], f[7][96], json[1024];
	const char *fields[9] = {};
	char *jfield = NULL;
	struct jsonw w;
	size_t n = 0;
	int r;
	FILE *out = fmemopen(text, sizeof(text), "w");

	if (!out)
		return -errno;
	fputs("stats: ", out);
	stats_text(out, st);
	fclose(out);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_STATS_REASON=%s",
		 st->reason == STATS_SIGNAL ? "signal" : "interval");
	if (st->selected_known) {
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_SELECTED=%llu",
			 (unsigned long long)st->selected);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_LOST=%llu", (unsigned long long)st->lost);
	}
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_TIMELINES=%llu", (unsigned long long)st->emitted);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_INCOMPLETE=%llu",
		 (unsigned long long)st->incomplete);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_ENOBUFS=%llu", (unsigned long long)st->enobufs);
	for (size_t i = 0; i < n; i++)
		fields[i] = f[i];
	/* NATTRACE_JSON may be long: a field of its own, not in f[] */
	jsonw_init(&w, json, sizeof(json));
	stats_json(&w, st);
	if (jsonw_text(&w) && asprintf(&jfield, "NATTRACE_JSON=%s", jsonw_text(&w)) >= 0)
		fields[n++] = jfield;
	r = journal_message(LOG_INFO, JOURNAL_MSGID_STATS, fields, "%s", text);
	free(jfield);
	jsonw_release(&w);
	return r;
}

int journal_summary_row(const struct summary_view *v, unsigned int i, const char *reason)
{
	const struct summary_row *row = i < v->n ? v->rows[i] : NULL;
	char text[1024], path[3 * SUMMARY_NAME_MAX], json[2048];
	char f[16][SUMMARY_NAME_MAX + 40];
	const char *fields[18] = {};
	char *jfield = NULL;
	struct jsonw w;
	size_t n = 0, off;
	int r;

	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_REASON=%s", reason);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_TIMELINES=%" PRIu64, v->timelines);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_PATHS=%" PRIu64, v->paths);
	if (!row) {
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_RANK=other");
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_COUNT=%" PRIu64, v->other_count);
		snprintf(text, sizeof(text),
			 "summary: %" PRIu64 " timelines over %" PRIu64 " more paths%s",
			 v->other_count, v->other_paths,
			 v->table_full ? ", and paths past the bound of the table" : "");
		for (size_t k = 0; k < n; k++)
			fields[k] = f[k];
		return journal_message(LOG_INFO, JOURNAL_MSGID_SUMMARY, fields, "%s", text);
	}
	summary_path_str(row, path, sizeof(path));
	off = 0;
	strbuf_add(text, sizeof(text), &off, "summary: %" PRIu64 " x %s", row->count, path);
	if (row->hooks[0])
		strbuf_add(text, sizeof(text), &off, ", hooks %s", row->hooks);
	if (row->nat[0])
		strbuf_add(text, sizeof(text), &off, ", nat %s", row->nat);
	if (row->src[0])
		strbuf_add(text, sizeof(text), &off, "; e.g. %s %s -> %s", row->proto, row->src,
			   row->dst);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_RANK=%u", i + 1);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_COUNT=%" PRIu64, row->count);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_VERDICT=%s", row->verdict);
	if (row->table[0]) {
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_CAUSE_FAMILY=%s", row->family);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_CAUSE_TABLE=%s", row->table);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_CAUSE_CHAIN=%s", row->chain);
		if (row->handle[0])
			snprintf(f[n++], sizeof(f[0]), "NATTRACE_CAUSE_HANDLE=%s", row->handle);
	}
	if (row->owner[0])
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_CAUSE_OWNER=%s", row->owner);
	snprintf(f[n++], sizeof(f[0]), "NATTRACE_SUMMARY_HOOKS=%s", row->hooks);
	if (row->nat[0])
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_NAT_KIND=%s", row->nat);
	if (row->src[0]) {
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_PROTO=%s", row->proto);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_SRC=%s", row->src);
		snprintf(f[n++], sizeof(f[0]), "NATTRACE_DST=%s", row->dst);
	}
	for (size_t k = 0; k < n; k++)
		fields[k] = f[k];
	jsonw_init(&w, json, sizeof(json));
	summary_row_json(&w, NULL, row);
	if (jsonw_text(&w) && asprintf(&jfield, "NATTRACE_JSON=%s", jsonw_text(&w)) >= 0)
		fields[n++] = jfield;
	r = journal_message(LOG_INFO, JOURNAL_MSGID_SUMMARY, fields, "%s", text);
	free(jfield);
	jsonw_release(&w);
	return r;
}

int journal_connection(const struct follow_conn *c, const char *end, const char *note)
{
	bool reply = follow_reply_seen(c);
	char f[3][64];
	const char *fields[4] = { f[0], f[1], f[2], NULL };

	snprintf(f[0], sizeof(f[0]), "NATTRACE_CT_ID=%u", c->ct_id);
	snprintf(f[1], sizeof(f[1]), "NATTRACE_REPLY_SEEN=%s", reply ? "true" : "false");
	snprintf(f[2], sizeof(f[2]), "NATTRACE_FOLLOW_END=%s", end);
	return journal_message(
		reply ? LOG_INFO : LOG_WARNING, FOLLOW_JOURNAL_MSGID, fields,
		"connection %u %s: %u packet%s traced, %u repl%s, followed until %s%s%s", c->ct_id,
		c->label, c->packets, c->packets == 1 ? "" : "s", c->replies,
		c->replies == 1 ? "y" : "ies", end, note && note[0] ? "; " : "", note ? note : "");
}

int journal_message(int priority, const char *msgid, const char *const *fields, const char *fmt,
		    ...)
{
	struct journal_fields f = { .n = 0 };
	char *msg = NULL;
	va_list ap;
	int ret = 0, n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	ret |= add(&f, "MESSAGE=%s", msg);
	ret |= add(&f, "PRIORITY=%d", priority);
	ret |= add(&f, "SYSLOG_IDENTIFIER=" JOURNAL_IDENTIFIER);
	if (msgid)
		ret |= add(&f, "MESSAGE_ID=%s", msgid);
	for (size_t i = 0; fields && fields[i]; i++)
		ret |= add(&f, "%s", fields[i]);
	free(msg);
	if (ret == 0)
		ret = journal_send(&f);
	else
		ret = -ENOMEM;
	journal_fields_free(&f);
	return ret;
}

int journal_notify(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
	return sd_notify(0, state);
#else
	(void)state;
	return 0;
#endif
}
