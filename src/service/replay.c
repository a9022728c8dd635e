/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --replay FILE: the packets of timelines --output json wrote, replayed
 * in a clone of the namespace, with --change applied to the clone's
 * ruleset only. Each gets its replayed timeline and one comparison:
 * what the live run said, and what the clone says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "clone.h"
#include "daemon.h"
#include "journal.h"
#include "log.h"
#include "nattraced.h"
#include "options.h"
#include "replay.h"
#include "replay_int.h"
#include "replay_render.h"
#include "sink.h"

/* Timelines replayed per run: more is a capture to filter with --id. */
#define REPLAY_MAX_PACKETS 1000
/* --change-file, and a JSON line: bigger is not a change or a record of ours */
#define REPLAY_FILE_MAX	   (1 << 20)
#define REPLAY_LINE_MAX	   (1 << 20)

/* MESSAGE_ID of a replay's journal entry (contrib/systemd/nattraced.catalog) */
#define REPLAY_JOURNAL_MSGID "3f0bd6f0a3a34c7e9a5d2c1b8e7f6a21"

static int replay_journal(const void *ctx)
{
	const struct replay_report *rep = ctx;
	char after[1024], id[64], verdict[64], handle[64];
	const char *fields[] = { id, verdict, handle, NULL };

	replay_outcome_str(rep->outcome, after, sizeof(after));
	snprintf(id, sizeof(id), "NATTRACE_REPLAY_ID=%s", rep->pkt->id);
	snprintf(verdict, sizeof(verdict), "NATTRACE_REPLAY_VERDICT=%s",
		 replay_verdict_name(rep->outcome->verdict));
	if (rep->outcome->has_handle)
		snprintf(handle, sizeof(handle), "NATTRACE_REPLAY_HANDLE=%llu",
			 (unsigned long long)rep->outcome->handle);
	else
		fields[2] = NULL;
	return journal_message(LOG_INFO, REPLAY_JOURNAL_MSGID, fields,
			       "replay %s: before: %s; %s: %s", rep->pkt->id,
			       rep->pkt->before[0] ? rep->pkt->before : "-",
			       rep->changed ? "with the change" : "replayed", after);
}

/* A whole small file, NUL-terminated; NULL with errno. */
char *replay_read_file(const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap);
			if (!nb) {
				errno = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return NULL;
}

/* --change, in order, then --change-file: one batch. NULL: none; *ret_status on error. */
char *replay_change_text(const struct options *o, int *ret_status)
{
	size_t len = 1;
	char *text, *file = NULL;

	*ret_status = 0;
	if (o->change_file) {
		file = replay_read_file(o->change_file, REPLAY_FILE_MAX);
		if (!file) {
			fprintf(stderr, "nattraced: --change-file %s: %s\n", o->change_file,
				strerror(errno));
			*ret_status = EXIT_USAGE;
			return NULL;
		}
		len += strlen(file) + 1;
	}
	for (unsigned int i = 0; i < o->n_changes; i++)
		len += strlen(o->changes[i]) + 1;
	if (len == 1)
		return NULL;
	text = calloc(1, len);
	if (!text) {
		free(file);
		*ret_status = EXIT_RUNTIME;
		return NULL;
	}
	for (unsigned int i = 0; i < o->n_changes; i++) {
		strcat(text, o->changes[i]);
		strcat(text, "\n");
	}
	if (file) {
		strcat(text, file);
		strcat(text, "\n");
	}
	free(file);
	return text;
}

struct packets {
	struct replay_packet *v;
	size_t n;
};

/* The timelines of FILE (all, or --id's), as packets. An exit status, or GO_ON. */
static int read_packets(const struct options *o, struct packets *ret)
{
	FILE *f = strcmp(o->replay, "-") == 0 ? stdin : fopen(o->replay, "re");
	char *line = NULL, err[REPLAY_ERR_MAX];
	size_t cap = 0;
	unsigned int lineno = 0;
	int status = -1;
	ssize_t n;

	if (!f) {
		fprintf(stderr, "nattraced: --replay %s: %s\n", o->replay, strerror(errno));
		return EXIT_USAGE;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		struct replay_packet p;
		int r;

		lineno++;
		if (n > REPLAY_LINE_MAX || (n <= 1 && line[0] == '\n'))
			continue;
		r = replay_packet_from_json(line, &p, err, sizeof(err));
		if (r == -ENOENT)
			continue; /* a stats or lifecycle record */
		if (o->replay_id && r == 0 && strcmp(p.id, o->replay_id) != 0)
			continue;
		if (r < 0) {
			fprintf(stderr, "nattraced: %s:%u: %s\n", o->replay, lineno, err);
			status = EXIT_USAGE;
			break;
		}
		if (ret->n == REPLAY_MAX_PACKETS) {
			fprintf(stderr,
				"nattraced: %s: more than %d timelines: pick one with --id\n",
				o->replay, REPLAY_MAX_PACKETS);
			status = EXIT_USAGE;
			break;
		}
		if (ret->n % 64 == 0) {
			struct replay_packet *nv = realloc(ret->v, (ret->n + 64) * sizeof(*nv));

			if (!nv) {
				status = EXIT_RUNTIME;
				break;
			}
			ret->v = nv;
		}
		ret->v[ret->n++] = p;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	if (status < 0 && !ret->n) {
		if (o->replay_id)
			fprintf(stderr, "nattraced: %s: no timeline with id %s\n", o->replay,
				o->replay_id);
		else
			fprintf(stderr,
				"nattraced: %s: no timeline (write them with --output json)\n",
				o->replay);
		status = EXIT_USAGE;
	}
	return status;
}

/* A refused clone is a usage error (2): what is missing is said. */
int replay_start(const struct options *o, int argc, char **argv, struct replayer **ret)
{
	char err[1024];
	/* --check: one line per expectation, its timeline with --verbose */
	int r = replayer_new(o, o->replay || o->verbose, argc, argv, ret, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "nattraced: cannot build a clone of the namespace: %s\n", err);
		return r == -ENOMEM || r == -EIO ? EXIT_RUNTIME : EXIT_USAGE;
	}
	log_notice("replaying in a throwaway clone of the namespace; %s", clone_limits());
	return GO_ON;
}

int replay_main(struct options *opts, int argc, char **argv)
{
	struct packets pk = {};
	struct replayer *r = NULL;
	char err[1024];
	int status;
	char *change = replay_change_text(opts, &status);

	if (status)
		return status;
	status = read_packets(opts, &pk);
	if (status == GO_ON)
		status = replay_start(opts, argc, argv, &r);
	if (status == GO_ON && change && replayer_change(r, change, err, sizeof(err)) < 0) {
		fprintf(stderr, "nattraced: --change refused: %s\n", err);
		status = EXIT_USAGE;
	}
	for (size_t i = 0; status == GO_ON && i < pk.n; i++) {
		struct replay_outcome out;
		struct replay_report rep = { .pkt = &pk.v[i],
					     .outcome = &out,
					     .changed = change != NULL };

		if (replayer_run(r, &pk.v[i], &out, err, sizeof(err)) < 0) {
			fprintf(stderr, "nattraced: replay %s: %s\n", pk.v[i].id, err);
			status = EXIT_RUNTIME;
			break;
		}
		sink_result(replayer_sink(r), &(struct sink_result){ .text = replay_report_text,
								     .json = replay_report_json,
								     .journal = replay_journal,
								     .ctx = &rep });
		/* each result as it comes: a long run shows its progress */
		sink_flush(replayer_sink(r));
	}
	if (replayer_free(r) && status == GO_ON)
		status = EXIT_RUNTIME;
	free(change);
	free(pk.v);
	return status == GO_ON ? EXIT_OK : status;
}
