/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The service: lifecycle entries (started, stopped, lost, reload) with
 * their MESSAGE_IDs, sd_notify status, warnings about a match, and
 * SIGHUP's reload of the configuration.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "journal.h"
#include "log.h"
#include "names.h"
#include "natlog.h"
#include "rulecache.h"
#include "sink.h"
#include "ruletext.h"
#include "stats.h"
#include "tracetable.h"

#define STATUS_INTERVAL_NS (1000ull * 1000 * 1000)
#define LOST_INTERVAL_NS   (60ull * 1000 * 1000 * 1000)

void service_match_warnings(const char *match, bool rate_none)
{
	if (rate_none)
		log_warning(
			"--rate none: every matching packet is traced, which costs CPU on a busy host");
	/* The trace chains run at -350, before conntrack (-200). */
	if (ruletext_has_word(match, "ct"))
		log_warning(
			"the trace rule runs before conntrack: ct expressions in --match see no connection yet");
}

void service_emitted(struct daemon *d, const struct timeline *tl, const struct tl_summary *sum)
{
	if (sum->verdict == TL_VERDICT_DROP)
		d->svc.drops++;
	d->svc.status_dirty = true;
	if (d->svc.ct_seen)
		return;
	for (int h = 0; h < tl->n_hdrs; h++) {
		if (!tl->hdrs[h].ct.present)
			continue;
		/* Linux 6.16+ sends them: say so once, when the first shows up */
		d->svc.ct_seen = true;
		sink_lifecycle(
			d->sink,
			&(struct sink_entry){
				.priority = LOG_INFO,
				.fields = (const char *const[]){ "NATTRACE_CT_ATTRS=seen", NULL },
				.text = "the kernel sends conntrack trace attributes (ct state, direction, status, id)",
			});
		break;
	}
}

/* STATUS= for systemctl status: at most once a second, when something changed. */
void service_status(struct daemon *d, uint64_t now, bool force)
{
	char buf[256];

	if (!d->svc.notify ||
	    (!force && (!d->svc.status_dirty || now - d->svc.status_at < STATUS_INTERVAL_NS)))
		return;
	snprintf(buf, sizeof(buf),
		 "STATUS=tracing '%.80s': %lu packets traced, %llu dropped, %llu receive overruns",
		 d->opts->match, d->emitted, (unsigned long long)d->svc.drops,
		 (unsigned long long)d->enobufs);
	journal_notify(buf);
	d->svc.status_at = now;
	d->svc.status_dirty = false;
}

/* Wake up for a STATUS= update that is due. */
int64_t service_due(const struct daemon *d, uint64_t now)
{
	if (!d->svc.notify || !d->svc.status_dirty)
		return -1;
	return now - d->svc.status_at >= STATUS_INTERVAL_NS
		       ? 0
		       : (int64_t)(d->svc.status_at + STATUS_INTERVAL_NS - now);
}

/* One lifecycle entry being built: its texts and "KEY=value" fields. */
struct entry_buf {
	struct sink_entry e;
	char hooks[64], text[2048], line[1024], f[8][256];
	const char *fields[9];
	size_t n;
};

static void field(struct entry_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(struct entry_buf *b, const char *fmt, ...)
{
	va_list ap;

	if (b->n >= sizeof(b->f) / sizeof(b->f[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(b->f[b->n], sizeof(b->f[0]), fmt, ap);
	va_end(ap);
	b->fields[b->n] = b->f[b->n];
	b->n++;
}

static void started(struct daemon *d, struct entry_buf *b)
{
	const struct options *o = d->opts;
	struct utsname u = {};

	uname(&u);
	snprintf(b->line, sizeof(b->line), "tracing '%s' at %s, rate %s, table %s %s%s%s", o->match,
		 b->hooks, o->rate_none ? "unlimited" : o->rate, options_family_keyword(o->family),
		 o->table, o->netns ? ", network namespace " : "", o->netns ? o->netns : "");
	snprintf(
		b->text, sizeof(b->text),
		"%s; kernel %s, conntrack trace attributes not yet seen (Linux 6.16 and later send them)",
		b->line, u.release);
	field(b, "NATTRACE_MATCH=%s", o->match);
	field(b, "NATTRACE_RATE=%s", o->rate_none ? "none" : o->rate);
	field(b, "NATTRACE_TABLE=%s %s", options_family_keyword(o->family), o->table);
	field(b, "NATTRACE_HOOKS=%s", b->hooks);
	field(b, "NATTRACE_KERNEL=%s", u.release);
	field(b, "NATTRACE_CT_ATTRS=not yet seen");
	field(b, "NATTRACE_CONFIG=%s", o->config ? o->config : "");
	field(b, "NATTRACE_NETNS=%s", o->netns ? o->netns : "");
	b->e.msgid = JOURNAL_MSGID_STARTED;
	b->e.line = b->line;
}

/* stderr gets no line: the statistics' stop line said it all */
static void stopped(struct daemon *d, struct entry_buf *b)
{
	const struct capture_stats *cs = &d->exit_stats;
	const struct timeline_stats *st = timeline_stats(d->timelines);
	FILE *f_text = fmemopen(b->text, sizeof(b->text), "w");

	if (!f_text) {
		b->e.text = NULL;
		return;
	}
	fputs("stopped: ", f_text);
	stats_text(f_text, cs);
	fprintf(f_text, "; %llu dropped; %llu journal write errors; conntrack trace attributes %s",
		(unsigned long long)d->svc.drops, (unsigned long long)sink_journal_errors(d->sink),
		d->svc.ct_seen ? "seen" : "not seen");
	fclose(f_text);
	field(b, "NATTRACE_TIMELINES=%lu", d->emitted);
	field(b, "NATTRACE_DROPS=%llu", (unsigned long long)d->svc.drops);
	field(b, "NATTRACE_ENOBUFS=%llu", (unsigned long long)d->enobufs);
	field(b, "NATTRACE_INCOMPLETE=%llu", (unsigned long long)st->incomplete);
	field(b, "NATTRACE_MALFORMED=%llu", (unsigned long long)d->malformed);
	field(b, "NATTRACE_CT_ATTRS=%s", d->svc.ct_seen ? "seen" : "not seen");
	if (cs->selected_known) {
		field(b, "NATTRACE_SELECTED=%llu", (unsigned long long)cs->selected);
		field(b, "NATTRACE_LOST=%llu", (unsigned long long)cs->lost);
	}
	b->e.msgid = JOURNAL_MSGID_STOPPED;
}

/* stderr: once; the journal: at most once a minute, with the count */
static void lost(struct daemon *d, struct entry_buf *b)
{
	uint64_t now = now_ns();

	b->e.priority = LOG_WARNING;
	b->e.msgid = JOURNAL_MSGID_LOST;
	if (d->enobufs == 1)
		b->e.line =
			"receive buffer overrun: trace events lost, affected timelines are marked incomplete";
	if (d->svc.lost_logged_at && now - d->svc.lost_logged_at < LOST_INTERVAL_NS) {
		b->e.text = NULL;
		return;
	}
	d->svc.lost_logged_at = now;
	snprintf(
		b->text, sizeof(b->text),
		"receive buffer overrun: trace events lost (%llu overruns so far), affected timelines are marked incomplete",
		(unsigned long long)d->enobufs);
	field(b, "NATTRACE_ENOBUFS=%llu", (unsigned long long)d->enobufs);
}

static void reloaded(struct daemon *d, struct entry_buf *b, bool applied, const char *detail)
{
	const struct options *o = d->opts;

	if (applied)
		snprintf(b->text, sizeof(b->text),
			 "reloaded: tracing '%s' at %s, rate %s, table %s %s%s%s", o->match,
			 b->hooks, o->rate_none ? "unlimited" : o->rate,
			 options_family_keyword(o->family), o->table,
			 d->natlog && o->nat_log == NAT_LOG_MATCH ? ", NAT log of this match" : "",
			 detail && *detail ? detail : "");
	else {
		/* nft's marks under a refused match follow the line (match.h) */
		const char *more = detail ? strchr(detail, '\n') : NULL;

		snprintf(b->text, sizeof(b->text), "reload refused: %.*s; still tracing '%s'%s",
			 more ? (int)(more - detail) : (int)strlen(detail ? detail : ""),
			 detail ? detail : "", o->match, more ? more : "");
	}
	field(b, "NATTRACE_RELOAD=%s", applied ? "applied" : "refused");
	field(b, "NATTRACE_MATCH=%s", o->match);
	b->e.priority = applied ? LOG_NOTICE : LOG_ERR;
	b->e.msgid = JOURNAL_MSGID_RELOAD;
	b->e.line = b->text;
}

/*
 * The daemon's life in one place: each entry with its MESSAGE_ID and
 * fields for the journal, and the shorter line stderr has always had; the
 * sink writes the one its output takes.
 */
void service_lifecycle(struct daemon *d, enum lifecycle what, const char *detail)
{
	struct entry_buf b = { .e = { .priority = LOG_INFO } };

	b.e.fields = b.fields;
	b.e.text = b.text;
	names_hooks_str(d->opts->hooks, ",", b.hooks, sizeof(b.hooks));
	switch (what) {
	case LC_STARTED:
		started(d, &b);
		break;
	case LC_STOPPED:
		stopped(d, &b);
		break;
	case LC_LOST:
		lost(d, &b);
		break;
	case LC_RELOADED:
	case LC_RELOAD_REFUSED:
		reloaded(d, &b, what == LC_RELOADED, detail);
		break;
	}
	sink_lifecycle(d->sink, &b.e);
}

/*
 * SIGHUP: read the configuration again and swap the trace rule in one
 * batch; the NAT log follows the new match. Every other setting
 * (options_reload_kept()) stays as it was at start. A refused match
 * leaves the old one running.
 */
void service_reload(struct daemon *d)
{
	struct tracetable_config cfg;
	struct config *c = NULL;
	struct options o;
	uint64_t selected;
	char err[1024], kept[256], note[sizeof(kept) + 64] = "";
	char *listing = NULL;
	bool refilter;
	int r;

	journal_notify("RELOADING=1");
	r = config_options(d->svc.argc, d->svc.argv, &o, &c, err, sizeof(err));
	if (r < 0) {
		service_lifecycle(d, LC_RELOAD_REFUSED, err);
		goto out;
	}
	if (options_reload_kept(d->opts, &o, kept, sizeof(kept)) > 0) {
		/* the wording of before, which scripts may look for, now naming every setting */
		log_warning("reload: %s keep their values from the start (a restart applies them); "
			    "a reload applies only " OPTIONS_RELOAD_APPLIES,
			    kept);
		snprintf(note, sizeof(note), "; kept from the start: %s", kept);
	}
	/* the NAT log's filter comes from the new check rule, like the trace's */
	refilter = d->natlog && d->opts->nat_log == NAT_LOG_MATCH;
	cfg = (struct tracetable_config){
		.family = d->opts->family,
		.table = d->opts->table,
		.hooks = o.hooks,
		.match = o.match,
		.rate = o.rate_none ? NULL : o.rate,
	};
	/*
	 * The new rules count from zero: keep what the old ones counted.
	 * Packets selected between this read and the swap are not counted.
	 */
	if (tracetable_selected(d->table, &selected) < 0)
		selected = 0;
	r = tracetable_replace(d->table, &cfg, refilter ? &listing : NULL, err, sizeof(err));
	if (r < 0) {
		char msg[sizeof(err) + PATH_MAX + 16], place[PATH_MAX + 16];

		/* a match from --config: the file and line to edit */
		snprintf(msg, sizeof(msg), "%s%s",
			 r == -EINVAL
				 ? config_match_place(c, o.config, o.match, place, sizeof(place))
				 : "",
			 err);
		config_free(c);
		service_lifecycle(d, LC_RELOAD_REFUSED, msg);
		goto out;
	}
	if (refilter)
		natlog_refilter(d->natlog, listing);
	free(listing);
	d->selected_before += selected;
	/* our chains changed: judge the next packets against them */
	if (rulecache_sync(d->rules) < 0)
		log_warning("listing the ruleset after the reload failed, rule text may be stale");
	d->svc.cur = *d->opts;
	d->svc.cur.match = o.match;
	memcpy(d->svc.cur.rate, o.rate, sizeof(d->svc.cur.rate));
	d->svc.cur.rate_none = o.rate_none;
	d->svc.cur.hooks = o.hooks;
	d->opts = &d->svc.cur;
	if (d->svc.config != d->svc.config0)
		config_free(d->svc.config);
	d->svc.config = c;
	service_match_warnings(o.match, o.rate_none);
	service_lifecycle(d, LC_RELOADED, note);
out:
	journal_notify("READY=1");
	service_status(d, now_ns(), true);
}
