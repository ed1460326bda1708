/* utf8.h: strict UTF-8 sequence validation (RFC 3629), shared by the audit writer and reader. */
#ifndef AG_UTF8_H
#define AG_UTF8_H

#include <stddef.h>

/*
 * Length (2..4) of the valid multi-byte UTF-8 sequence at s, or 0 if it is
 * invalid: a bad lead byte, an overlong form, a UTF-16 surrogate, a code point
 * beyond U+10FFFF, or fewer than the needed bytes within avail. In a
 * NUL-terminated string avail may overstate what is left: NUL is never a
 * continuation byte, so validation stops there without reading past it.
 */
size_t utf8_sequence_len(const unsigned char *s, size_t avail);

#endif
