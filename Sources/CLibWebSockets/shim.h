#ifndef SB_LWS_SHIM_H
#define SB_LWS_SHIM_H
#include <libwebsockets.h>
#include <signal.h>

/* LWS_PRE is a ternary macro Swift cannot import (DESIGN §5). */
static inline size_t sb_lws_pre(void) { return LWS_PRE; }

/* lws_sul embedded at the start of a struct carrying an owner pointer, so a C callback can reach Swift. */
typedef struct sb_sul {
    lws_sorted_usec_list_t sul;
    void *owner;
    long tag;
} sb_sul_t;

static inline sb_sul_t *sb_sul_from(lws_sorted_usec_list_t *s) { return (sb_sul_t *)s; }

/* Server options: the option macros are 64-bit shift expressions, kept in C.
 * VALIDATE_UTF8: lws closes a text frame with invalid UTF-8 using 1007 (RFC 6455 §8.1). */
static inline uint64_t sb_lws_server_options(int tls) {
    uint64_t o = LWS_SERVER_OPTION_VALIDATE_UTF8;
    (void)tls; /* TLS init is always done: outbound HTTPS deliveries need it even without a server cert */
    o |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    return o;
}

/* Client connection flags for outbound HTTPS. */
static inline int sb_lws_client_ssl_flags(void) { return LCCSCF_USE_SSL; }
#endif
