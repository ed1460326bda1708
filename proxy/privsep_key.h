/* privsep_key.h: the TLS private key, read by the root auth process for the network side's reload.
 */
#ifndef AG_PRIVSEP_KEY_H
#define AG_PRIVSEP_KEY_H

#include <stddef.h>
#include <stdint.h>

/*
 * A key is usually root-only (0600), and the network side runs as `user`
 * after start-up: on SIGHUP it asks the auth process, which reads the key
 * named by the configuration file *it* loads (never a path the network side
 * sends: a compromised network process must not read any root file it
 * likes) and sends the PEM back. Wire format, one SOCK_SEQPACKET message each:
 *   request: u32 seq
 *   reply:   u32 seq, u8 status (0: the PEM follows, 1: an error text follows)
 */
#define PRIVSEP_KEY_MAX 65536 /* an RSA 8192 key in PEM is under 7 KB */
#define PRIVSEP_KEY_REQ 4
#define PRIVSEP_KEY_HDR 5
#define PRIVSEP_KEY_TIMEOUT_MS 5000

/* Auth process: answer the request waiting on fd. -1 when the network side has gone. */
int privsep_key_serve(int fd, const char *config_path);

/*
 * Network side: ask and wait (bounded: a reload is rare and short). 0 with
 * *pem malloc'd (*len bytes, NUL-terminated; the caller wipes and frees it),
 * or -1 with err.
 */
int privsep_key_fetch(int fd, uint32_t seq, char **pem, size_t *len, char *err, size_t errlen);

#endif
