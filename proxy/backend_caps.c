/*
 * backend_caps.c: what each backend's EHLO offers, learnt and cached, and what we may advertise.
 *
 * The proxy opens a backend connection per transaction, at MAIL, so the
 * client's EHLO is answered before any backend is talked to. What it
 * advertises beyond our own keywords (SIZE's value, SMTPUTF8, DSN) therefore
 * comes from a cache per backend (host:port): filled by a probe (connect,
 * EHLO, QUIT, in the background through the relay's own state machine) at
 * startup and after every reload, and refreshed by the last EHLO reply of
 * every real transaction, so a backend reconfigured in between (Postfix
 * smtputf8_enable, message_size_limit) is followed from its next connection.
 * Failover may take any backend, so only what every known backend offers is
 * promised; with none known, nothing extra is. Should the backend actually
 * used lack what the transaction needs, the relay passes it over like one
 * that is down (relay.c), never sending it a parameter it did not offer.
 */
#include "backend_caps.h"

#include <stdlib.h>
#include <string.h>

#include "policy/config.h"
#include "log.h"
#include "relay.h"
#include "server.h"

#define BACKEND_CAPS_SLOTS (2 * AG_MAX_BACKENDS) /* room for a reload's new list beside the old */

struct backend_caps_slot {
	bool used;
	struct ag_hostport hp;
	struct ag_esmtp_caps caps;
};

struct backend_caps {
	struct backend_caps_slot slot[BACKEND_CAPS_SLOTS];
	size_t next_victim;
};

struct backend_caps *backend_caps_new(void)
{
	return calloc(1, sizeof(struct backend_caps));
}

void backend_caps_free(struct backend_caps *bc)
{
	free(bc);
}

static bool caps_same_backend(const struct ag_hostport *a, const struct ag_hostport *b)
{
	return a->port == b->port && strcmp(a->host, b->host) == 0;
}

static const struct backend_caps_slot *caps_find(const struct backend_caps *bc,
						 const struct ag_hostport *hp)
{
	for (size_t i = 0; i < BACKEND_CAPS_SLOTS; i++)
		if (bc->slot[i].used && caps_same_backend(&bc->slot[i].hp, hp))
			return &bc->slot[i];
	return NULL;
}

void backend_caps_learn(struct proxy_server *srv, const struct ag_hostport *hp,
			const struct ag_esmtp_caps *caps)
{
	struct backend_caps *bc = srv->backend_caps;
	struct backend_caps_slot *sl = NULL;
	size_t i;

	if (bc == NULL)
		return;
	for (i = 0; i < BACKEND_CAPS_SLOTS && sl == NULL; i++)
		if (bc->slot[i].used && caps_same_backend(&bc->slot[i].hp, hp))
			sl = &bc->slot[i];
	for (i = 0; i < BACKEND_CAPS_SLOTS && sl == NULL; i++)
		if (!bc->slot[i].used)
			sl = &bc->slot[i];
	if (sl == NULL) {
		/* Only after reloads that changed the list more than once: forget the oldest. */
		sl = &bc->slot[bc->next_victim];
		bc->next_victim = (bc->next_victim + 1) % BACKEND_CAPS_SLOTS;
		sl->used = false;
	}
	if (sl->used && memcmp(&sl->caps, caps, sizeof(*caps)) == 0)
		return;
	/* One line when it changes, not per transaction: the log says what we may promise. */
	log_msg(LOG_INFO, NULL, "backend %s:%u offers SIZE %s%llu, SMTPUTF8 %s, DSN %s", hp->host,
		hp->port, caps->size ? "" : "(none) ", (unsigned long long)caps->size_limit,
		caps->smtputf8 ? "yes" : "no", caps->dsn ? "yes" : "no");
	sl->used = true;
	sl->hp = *hp;
	sl->caps = *caps;
}

void backend_caps_offer(const struct proxy_server *srv, const struct ag_config *cfg,
			struct ag_esmtp_caps *out)
{
	size_t known = 0;

	memset(out, 0, sizeof(*out));
	out->size = true;
	out->size_limit = cfg->max_message_size;
	out->smtputf8 = out->dsn = true;
	for (size_t i = 0; srv->backend_caps != NULL && i < cfg->nbackends; i++) {
		const struct backend_caps_slot *sl =
		    caps_find(srv->backend_caps, &cfg->backends[i]);

		if (sl == NULL)
			continue;
		known++;
		out->smtputf8 = out->smtputf8 && sl->caps.smtputf8;
		out->dsn = out->dsn && sl->caps.dsn;
		if (sl->caps.size && sl->caps.size_limit > 0 &&
		    sl->caps.size_limit < out->size_limit)
			out->size_limit = sl->caps.size_limit;
	}
	if (known == 0)
		out->smtputf8 = out->dsn = false;
}

void backend_caps_probe_all(struct proxy_server *srv, struct ag_config *cfg)
{
	for (size_t i = 0; i < cfg->nbackends; i++)
		relay_probe(srv, cfg, i);
}
