/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal sink and the service manager edge, through libsystemd's
 * sd-journal and sd-daemon. Without libsystemd (meson -Djournal=disabled)
 * the fields are still built (the unit tests use them) but nothing is
 * sent: journal_supported() says so and main refuses --output journal.
 *
 * A timeline's fields come from the very object --output json prints, so
 * NATTRACE_JSON and the single fields can never disagree.
 */
#include <errno.h>
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

#include <jansson.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif

#include "journal.h"

bool journal_supported(void)
{
#ifdef HAVE_LIBSYSTEMD
	return true;
#else
	return false;
#endif
}

/* Where sd_journal_sendv() sends (systemd's JOURNAL_SOCKET_PATH). */
#define JOURNAL_SOCKET		"/run/systemd/journal/socket"
/* How often journal_send() checks that journald still listens. */
#define JOURNAL_CHECK_NS	(1000ull * 1000 * 1000)

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
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
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

static int add(struct journal_fields *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* "198.51.100.1:1222", "[2001:db8::1]:22", or the address without ports. */
static void endpoint(const json_t *pkt, bool src, char *buf, size_t len)
{
	const char *addr = str(pkt, src ? "saddr" : "daddr");
	const json_t *port = json_object_get(pkt, src ? "sport" : "dport");
	bool v6 = addr && strchr(addr, ':');

	if (!addr)
		snprintf(buf, len, "?");
	else if (!json_is_integer(port))
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, "%s%s%s:%lld", v6 ? "[" : "", addr, v6 ? "]" : "",
			 (long long)json_integer_value(port));
}

/* How the cause reads in one line: "rule `drop` (handle 11)", "policy". */
static void cause_words(const json_t *cause, char *buf, size_t len)
{
	const char *type = str(cause, "type"), *rule = str(cause, "rule");
	const json_t *handle = json_object_get(cause, "handle");

	if (type && strcmp(type, "policy") == 0)
		snprintf(buf, len, "policy");
	else if (rule)
		snprintf(buf, len, "rule `%s` (handle %lld)", rule,
			 (long long)json_integer_value(handle));
	else if (json_is_integer(handle))
		snprintf(buf, len, "rule handle %lld", (long long)json_integer_value(handle));
	else
		snprintf(buf, len, "end of chain");
}

static int priority_of(const char *verdict, bool complete)
{
	if (verdict && strcmp(verdict, "drop") == 0)
		return LOG_WARNING;
	if (!complete || !verdict || strcmp(verdict, "unknown") == 0)
		return LOG_NOTICE;
	return LOG_INFO;
}

/*
 * MESSAGE: one summary line, then the steps of format_text() (its first
 * line repeats the packet and is left out, as is its closing blank line).
 */
static int message(const struct timeline *tl, const struct resolver *r, const json_t *o,
		   char **ret)
{
	const json_t *pkt = json_object_get(o, "packet"), *nat = json_object_get(o, "nat");
	const json_t *cause = json_object_get(o, "cause"), *n;
	char src[96], dst[96], words[4200], *text = NULL, *steps, *msg = NULL;
	size_t text_len = 0, i;
	FILE *f, *mem;
	int ret_code = 0;

	mem = open_memstream(&text, &text_len);
	if (!mem)
		return -ENOMEM;
	if (format_text(mem, tl, r) < 0)
		ret_code = -EIO;
	if (fclose(mem) != 0 || ret_code < 0) {
		free(text);
		return -ENOMEM;
	}
	steps = strchr(text, '\n');
	steps = steps ? steps + 1 : text + text_len;
	while (text_len && text[text_len - 1] == '\n' && text + text_len > steps)
		text[--text_len] = '\0';

	msg = NULL;
	f = open_memstream(&msg, &i);
	if (!f) {
		free(text);
		return -ENOMEM;
	}
	if (json_is_object(pkt)) {
		endpoint(pkt, true, src, sizeof(src));
		endpoint(pkt, false, dst, sizeof(dst));
		fprintf(f, "%s %s -> %s", str(pkt, "proto") ? str(pkt, "proto") : "?", src, dst);
	} else {
		fputs("packet not seen", f);
	}
	json_array_foreach(nat, i, n)
		fprintf(f, ", %s %s -> %s", str(n, "type"), str(n, "from"),
			str(n, "to") ? str(n, "to") : "?");
	fprintf(f, ": %s", str(o, "verdict"));
	if (json_is_object(cause)) {
		cause_words(cause, words, sizeof(words));
		fprintf(f, " by %s in %s %s %s", words, str(cause, "family"), str(cause, "table"),
			str(cause, "chain"));
	}
	if (!json_is_true(json_object_get(o, "complete")))
		fputs(" (incomplete)", f);
	fprintf(f, " [trace %s]\n%s", str(o, "id"), steps);
	if (fclose(f) != 0) {
		free(msg);
		msg = NULL;
	}
	free(text);
	if (!msg)
		return -ENOMEM;
	*ret = msg;
	return 0;
}

int journal_timeline_fields(const struct timeline *tl, const struct resolver *r,
			    struct journal_fields *ret)
{
	struct journal_fields f = { .n = 0 };
	const json_t *pkt, *cause, *nat, *n;
	char buf[96], *json = NULL, *msg = NULL, *nats = NULL;
	const char *verdict;
	size_t i, nats_len = 0;
	bool complete;
	struct jsonw w;
	FILE *mem;
	json_t *o;
	int err = 0;

	/*
	 * The line --output json prints, read back: the single fields below
	 * come from the same object as NATTRACE_JSON, so they cannot disagree.
	 */
	jsonw_init(&w, NULL, 0);
	if (format_json(&w, tl, r) == 0 && jsonw_text(&w))
		json = strdup(jsonw_text(&w));
	jsonw_release(&w);
	o = json ? json_loads(json, 0, NULL) : NULL;
	if (!o) {
		free(json);
		return -ENOMEM;
	}
	err = message(tl, r, o, &msg);
	if (err < 0)
		goto out;
	verdict = str(o, "verdict");
	complete = json_is_true(json_object_get(o, "complete"));

	err |= add(&f, "MESSAGE=%s", msg);
	err |= add(&f, "MESSAGE_ID=" JOURNAL_MSGID_TIMELINE);
	err |= add(&f, "PRIORITY=%d", priority_of(verdict, complete));
	err |= add(&f, "SYSLOG_IDENTIFIER=" JOURNAL_IDENTIFIER);
	err |= add(&f, "NATTRACE_ID=%s", str(o, "id"));
	/* one packet under several trace ids: journalctl NATTRACE_IDS=... */
	json_array_foreach(json_object_get(o, "ids"), i, n)
		err |= add(&f, "NATTRACE_IDS=%s", json_string_value(n));
	err |= add(&f, "NATTRACE_VERDICT=%s", verdict);
	err |= add(&f, "NATTRACE_COMPLETE=%s", complete ? "true" : "false");
	pkt = json_object_get(o, "packet");
	if (json_is_object(pkt)) {
		err |= add(&f, "NATTRACE_PROTO=%s", str(pkt, "proto"));
		endpoint(pkt, true, buf, sizeof(buf));
		err |= add(&f, "NATTRACE_SRC=%s", buf);
		endpoint(pkt, false, buf, sizeof(buf));
		err |= add(&f, "NATTRACE_DST=%s", buf);
	}
	nat = json_object_get(o, "nat");
	if (json_array_size(nat)) {
		mem = open_memstream(&nats, &nats_len);
		if (!mem) {
			err = -ENOMEM;
			goto out;
		}
		json_array_foreach(nat, i, n)
			fprintf(mem, "%s%s %s -> %s", i ? ", " : "", str(n, "type"),
				str(n, "from"), str(n, "to") ? str(n, "to") : "?");
		if (fclose(mem) != 0) {
			err = -ENOMEM;
			goto out;
		}
		err |= add(&f, "NATTRACE_NAT=%s", nats);
	}
	cause = json_object_get(o, "cause");
	if (json_is_object(cause)) {
		const char *type = str(cause, "type"), *rule = str(cause, "rule");
		const json_t *handle = json_object_get(cause, "handle"), *path, *p;

		/* the rule's text, "policy", or what is known of the rule */
		if (type && strcmp(type, "policy") == 0)
			err |= add(&f, "NATTRACE_CAUSE=policy %s", verdict);
		else if (rule)
			err |= add(&f, "NATTRACE_CAUSE=%s", rule);
		else if (json_is_integer(handle))
			err |= add(&f, "NATTRACE_CAUSE=rule handle %lld",
				   (long long)json_integer_value(handle));
		else
			err |= add(&f, "NATTRACE_CAUSE=end of chain");
		err |= add(&f, "NATTRACE_CAUSE_FAMILY=%s", str(cause, "family"));
		err |= add(&f, "NATTRACE_CAUSE_TABLE=%s", str(cause, "table"));
		err |= add(&f, "NATTRACE_CAUSE_CHAIN=%s", str(cause, "chain"));
		if (json_is_integer(handle))
			err |= add(&f, "NATTRACE_CAUSE_HANDLE=%lld",
				   (long long)json_integer_value(handle));
		path = json_object_get(cause, "path");
		if (json_array_size(path)) {
			free(nats);
			nats = NULL;
			mem = open_memstream(&nats, &nats_len);
			if (!mem) {
				err = -ENOMEM;
				goto out;
			}
			json_array_foreach(path, i, p)
				fprintf(mem, "%s%s", i ? " -> " : "", json_string_value(p));
			if (fclose(mem) != 0) {
				err = -ENOMEM;
				goto out;
			}
			err |= add(&f, "NATTRACE_CAUSE_CHAIN_PATH=%s", nats);
		}
	}
	/* issue 4's explanation and the link to the NAT log (ct id) */
	if (json_is_object(cause) && str(cause, "kind"))
		err |= add(&f, "NATTRACE_CAUSE_KIND=%s", str(cause, "kind"));
	json_array_foreach(json_object_get(o, "hints"), i, n) {
		if (f.n + 4 >= JOURNAL_FIELDS_MAX)
			break;
		if (str(n, "text"))
			err |= add(&f, "NATTRACE_HINT=%s", str(n, "text"));
		if (str(n, "command"))
			err |= add(&f, "NATTRACE_HINT_COMMAND=%s", str(n, "command"));
	}
	n = json_object_get(json_object_get(o, "ct"), "id");
	if (json_is_integer(n))
		err |= add(&f, "NATTRACE_CT_ID=%lld", (long long)json_integer_value(n));
	err |= add(&f, "NATTRACE_JSON=%s", json);
	/* add() returns 0 or one of two negative codes: any failure is fatal */
	if (err)
		err = -ENOMEM;
out:
	free(nats);
	free(msg);
	free(json);
	json_decref(o);
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

int journal_timeline(const struct timeline *tl, const struct resolver *r)
{
	struct journal_fields f;
	int ret;

	ret = journal_timeline_fields(tl, r, &f);
	if (ret < 0)
		return ret;
	ret = journal_send(&f);
	journal_fields_free(&f);
	return ret;
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
