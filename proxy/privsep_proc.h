/* privsep_proc.h: the privileged auth process (PAM), and the wire format it shares with privsep.c.
 */
#ifndef AG_PRIVSEP_PROC_H
#define AG_PRIVSEP_PROC_H

/*
 * Wire format, host byte order (both ends are the same binary on the same host),
 * one SOCK_SEQPACKET message per request or reply so that there is no framing:
 *   request: u64 id, u16 user_len, u16 pass_len, u16 ip_len, user, password, ip
 *   reply:   u64 id, u8 result
 * The auth process parses nothing else that a client sent.
 */
#define PRIVSEP_MAX_USER 256
#define PRIVSEP_MAX_PASS 1024
#define PRIVSEP_MAX_IP 64
#define PRIVSEP_HDR 14
#define PRIVSEP_MAX_REQ (PRIVSEP_HDR + PRIVSEP_MAX_USER + PRIVSEP_MAX_PASS + PRIVSEP_MAX_IP)
#define PRIVSEP_REPLY 9
#define PRIVSEP_MAX_WORKERS 256 /* auth_workers allows up to 256 */
#define PRIVSEP_READ_BATCH                                                                         \
	64 /* messages handled per wakeup, so one side cannot starve the other                     \
	    */

/*
 * The auth process: called in the child right after fork(), as root, with its
 * ends of the socketpairs (PAM requests; the key channel of privsep_key.h). Serves requests with up to `workers` PAM workers and
 * exits when the network side closes the socket. Never returns.
 */
void privsep_proc_main(int sock, int keysock, const char *pam_service, unsigned workers,
		       const char *config_path) __attribute__((noreturn));

/* ---- shared by the supervisor (privsep_proc.c) and its workers (privsep_worker.c) ---- */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "privsep.h" /* enum privsep_result */

struct privsep_req {
	uint64_t id;
	char user[PRIVSEP_MAX_USER + 1];
	char pass[PRIVSEP_MAX_PASS + 1];
	char ip[PRIVSEP_MAX_IP + 1];
};

/* A request off the wire into r (NUL-terminated fields); 0, or -1 if malformed. */
int privsep_decode(const unsigned char *buf, size_t n, struct privsep_req *r);
/* The PRIVSEP_REPLY bytes of a reply. */
void privsep_encode_reply(unsigned char *buf, uint64_t id, enum privsep_result res);
/* A PAM worker: serves requests on fd until it closes or the supervisor (parent) dies. */
void privsep_worker_main(int fd, const char *service, pid_t parent) __attribute__((noreturn));

#endif
