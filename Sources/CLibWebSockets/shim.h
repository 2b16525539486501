#ifndef SB_LWS_SHIM_H
#define SB_LWS_SHIM_H
#include <libwebsockets.h>
#include <signal.h>
#include <ev.h>

/* LWS_PRE is a ternary macro Swift cannot import (DESIGN §5). */
static inline size_t sb_lws_pre(void) { return LWS_PRE; }

/* A timer owned by Swift (LoopTimer): an lws_sul on lws' poll(2) loop, or an ev_timer on a libev
 * loop. lws 4.1's libev glue re-arms its one hrtimer with ev_timer_set on a possibly active
 * watcher, which libev ignores (libev docs, "ev_timer_set ... must not be called on an active
 * watcher"), so a sul due before the armed time fires late (seen: EventLoopServerTests' 50 ms timer
 * did not fire within the test's 5 s while lws' 20 s connection timeout was armed). The broker's own timers therefore bypass lws' sul on libev. */
typedef struct sb_sul sb_sul_t;
typedef void (*sb_timer_fire_fn)(sb_sul_t *);
struct sb_sul {
    lws_sorted_usec_list_t sul;
    void *owner;
    long tag;
    ev_timer ev;
    struct ev_loop *evloop;
    sb_timer_fire_fn fire;
};

static void sb_ev_timer_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    sb_sul_t *s = (sb_sul_t *)w->data;
    (void)loop; (void)revents;
    s->fire(s);
}
/* (Re)starts the timer `seconds` from now; a pending firing is replaced. */
static inline void sb_ev_timer_schedule(sb_sul_t *s, void *loop, double seconds, sb_timer_fire_fn fire) {
    s->evloop = (struct ev_loop *)loop;
    s->fire = fire;
    ev_timer_stop(s->evloop, &s->ev);
    ev_now_update(s->evloop); /* the loop's cached time is from before this turn's callbacks */
    ev_timer_init(&s->ev, sb_ev_timer_cb, seconds, 0.);
    s->ev.data = s;
    ev_timer_start(s->evloop, &s->ev);
}
static inline void sb_ev_timer_cancel(sb_sul_t *s) {
    if (s->evloop) ev_timer_stop(s->evloop, &s->ev);
}

static inline sb_sul_t *sb_sul_from(lws_sorted_usec_list_t *s) { return (sb_sul_t *)s; }

/* Server options: the option macros are 64-bit shift expressions, kept in C.
 * VALIDATE_UTF8: lws closes a text frame with invalid UTF-8 using 1007 (RFC 6455 §8.1). */
static inline uint64_t sb_lws_server_options(int tls) {
    uint64_t o = LWS_SERVER_OPTION_VALIDATE_UTF8;
    (void)tls; /* TLS init is always done: outbound HTTPS deliveries need it even without a server cert */
    o |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    return o;
}

/* The loop is libev on epoll (DESIGN §5, docs/architecture.md): lws 4.1's own loop is poll(2), which
 * scans every descriptor each turn. lws runs its libev glue from the Debian plugin
 * libwebsockets-evlib_ev.so on a loop we own ("foreign"), so the broker still decides when a turn
 * runs and when to stop. Returns NULL when libev has no epoll here. */
static inline void *sb_ev_loop_new(void) { return ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV); }
static inline void sb_ev_run_once(void *loop) { ev_run((struct ev_loop *)loop, EVRUN_ONCE); }
static inline void sb_ev_loop_destroy(void *loop) { ev_loop_destroy((struct ev_loop *)loop); }
static inline uint64_t sb_lws_option_libev(void) { return LWS_SERVER_OPTION_LIBEV; }

/* Client connection flags for outbound HTTPS. */
static inline int sb_lws_client_ssl_flags(void) { return LCCSCF_USE_SSL; }
#endif
