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
#endif
