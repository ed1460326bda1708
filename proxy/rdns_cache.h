/* rdns_cache.h: recent client-name answers by address, bounded, with a lifetime per kind (pure). */
#ifndef AG_RDNS_CACHE_H
#define AG_RDNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define RDNS_NAME_MAX 253 /* a host name net_check_hostname accepts */

/* What the lookup of a client's name came to: XCLIENT NAME's three cases. */
enum rdns_status {
	RDNS_PENDING = 0, /* still asking (never cached) */
	RDNS_OK,	  /* a forward-confirmed, valid host name */
	RDNS_NONE,	  /* no name: no PTR, not confirmed, or not a host name ([UNAVAILABLE]) */
	RDNS_TEMP,	  /* no answer in time, or a server failure ([TEMPUNAVAIL]) */
};

/* Seconds an answer is kept: a name as long as the issue asks, a failure shorter. */
#define RDNS_TTL_OK 300
#define RDNS_TTL_NONE 60
#define RDNS_TTL_TEMP 20

/*
 * A flood from one address costs one lookup. Fixed size, allocated once:
 * sets of RDNS_CACHE_WAYS entries chosen by a hash of the address; a full
 * set gives up its entry nearest to expiry. Not thread-safe (one event loop).
 */
struct rdns_cache;

/* capacity entries (rounded up to a multiple of RDNS_CACHE_WAYS); NULL if out of memory. */
struct rdns_cache *rdns_cache_new(size_t capacity);
void rdns_cache_free(struct rdns_cache *c);
/* The live answer for ip at now (Unix seconds): its status, the name into name[len]; else PENDING.
 */
enum rdns_status rdns_cache_get(struct rdns_cache *c, const struct ag_ip *ip, int64_t now,
				char *name, size_t len);
/* Remember an answer (OK with its name); PENDING is ignored. */
void rdns_cache_put(struct rdns_cache *c, const struct ag_ip *ip, enum rdns_status st,
		    const char *name, int64_t now);

#endif
