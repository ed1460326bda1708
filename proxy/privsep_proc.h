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

#endif
