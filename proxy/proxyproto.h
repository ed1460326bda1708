/* proxyproto.h: HAProxy PROXY protocol v1/v2 header parser over a byte buffer (pure, no I/O). */
#ifndef AG_PROXYPROTO_H
#define AG_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/net.h"

#define PROXYPROTO_V1_MAX 107	    /* "PROXY UNKNOWN <39> <39> 65535 65535\r\n", spec 2.1 */
#define PROXYPROTO_V2_HDR 16	    /* signature, version/command, family, length */
#define PROXYPROTO_V2_MAX_BODY 2048 /* addresses + TLVs we accept; real senders use < 300 */
/* The most a caller ever has to buffer before proxyproto_parse() decides. */
#define PROXYPROTO_MAX_HEADER (PROXYPROTO_V2_HDR + PROXYPROTO_V2_MAX_BODY)

struct proxyproto_result {
	int version; /* 1 or 2 */
	bool local;  /* keep the connection's addresses: v2 LOCAL, v1 UNKNOWN, UNSPEC, UNIX */
	int family;  /* AF_INET or AF_INET6 when !local, else AF_UNSPEC */
	/* Binary, as policy/net.h keeps addresses (IPv4 as ::ffff:a.b.c.d); zero when local. */
	struct ag_ip src; /* the client */
	uint16_t src_port;
	struct ag_ip dst; /* the address the client connected to */
	uint16_t dst_port;
	const char *why; /* a constant, set when parsing fails */
};

/*
 * Parse the header at the start of buf (len bytes received so far).
 * Returns the number of bytes the header takes (> 0: the SMTP stream starts
 * right after), 0 if more bytes are needed to decide, -1 if this is not a
 * valid header (out->why says why; the caller closes the connection). A
 * caller that has PROXYPROTO_MAX_HEADER bytes always gets a decision; a
 * prefix of a valid header always gets 0, never -1.
 */
int proxyproto_parse(const uint8_t *buf, size_t len, struct proxyproto_result *out);

#endif
