/* backend_caps.h: what each backend's EHLO offers, learnt and cached, and what we may advertise. */
#ifndef AG_PROXY_BACKEND_CAPS_H
#define AG_PROXY_BACKEND_CAPS_H

#include "policy/esmtp.h"

struct proxy_server;
struct ag_config;
struct ag_hostport;

struct backend_caps *backend_caps_new(void);
void backend_caps_free(struct backend_caps *bc);
/* A backend's EHLO reply was read (a probe, or a real transaction's last EHLO). */
void backend_caps_learn(struct proxy_server *srv, const struct ag_hostport *hp,
			const struct ag_esmtp_caps *caps);
/*
 * What the client's EHLO may promise under cfg: SMTPUTF8 and DSN only if every
 * backend whose EHLO we know offers them (and at least one is known); SIZE the
 * smallest of max_message_size and every known backend's fixed limit.
 */
void backend_caps_offer(const struct proxy_server *srv, const struct ag_config *cfg,
			struct ag_esmtp_caps *out);
/* Ask every backend of cfg for its EHLO now, in the background (startup, reload). */
void backend_caps_probe_all(struct proxy_server *srv, struct ag_config *cfg);

#endif
