/* rdns.h: the client's name by forward-confirmed reverse DNS (evdns), bounded in time, cached. */
#ifndef AG_PROXY_RDNS_H
#define AG_PROXY_RDNS_H

#include "net.h"
#include "rdns_cache.h"

struct proxy_server;
struct rdns_req;

#define RDNS_CACHE_SIZE 1024 /* addresses remembered (rdns_cache.h) */

/*
 * The resolver of [proxy] resolver (system: /etc/resolv.conf; or one name
 * server's IP[:PORT]) in srv->dns, which backend names use too, and the
 * answer cache in srv->rdns. 0, or -1 (logged).
 */
int rdns_setup(struct proxy_server *srv);
/* After the sessions are freed: the resolver, the cache, lookups cancelled but not yet called back.
 */
void rdns_teardown(struct proxy_server *srv);

/* Called once, from the event loop, when a lookup that was pending ends. */
typedef void (*rdns_done_fn)(void *arg);

/*
 * Find ip's name within timeout seconds: PTR, then A (IPv4) or AAAA (IPv6)
 * of that name without the search list; the name counts only if one of its
 * addresses is ip (FCrDNS) and it is a host name (net_check_hostname). A
 * cached answer is there at once (rdns_status is not PENDING, done is not
 * called). sid: the session id for log lines. NULL if out of memory.
 */
struct rdns_req *rdns_start(struct proxy_server *srv, const struct ag_ip *ip, unsigned timeout,
			    const char *sid, rdns_done_fn done, void *arg);
enum rdns_status rdns_status(const struct rdns_req *q);
/* The confirmed name, or NULL unless rdns_status is RDNS_OK. */
const char *rdns_name(const struct rdns_req *q);
/* Cancels what is outstanding; done is never called after this. NULL is fine. */
void rdns_free(struct rdns_req *q);

#endif
