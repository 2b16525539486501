#ifndef SB_GMIME_SHIM_H
#define SB_GMIME_SHIM_H
/* GMime 3 (issue 11: MIME with GMime). Its type checks and casts are GObject macros, which Swift
 * does not import: these inline functions are the same checks as functions. */
#include <gmime/gmime.h>

static inline int sb_gmime_is_multipart(GMimeObject *o) { return GMIME_IS_MULTIPART(o); }
static inline int sb_gmime_is_message_part(GMimeObject *o) { return GMIME_IS_MESSAGE_PART(o); }
static inline int sb_gmime_is_part(GMimeObject *o) { return GMIME_IS_PART(o); }
static inline int sb_gmime_is_text_part(GMimeObject *o) { return GMIME_IS_TEXT_PART(o); }
static inline GMimeMultipart *sb_gmime_multipart(GMimeObject *o) { return GMIME_MULTIPART(o); }
static inline GMimeMessagePart *sb_gmime_message_part(GMimeObject *o) { return GMIME_MESSAGE_PART(o); }
static inline GMimePart *sb_gmime_part(GMimeObject *o) { return GMIME_PART(o); }
static inline GMimeTextPart *sb_gmime_text_part(GMimeObject *o) { return GMIME_TEXT_PART(o); }
static inline void sb_g_object_unref(void *p) { if (p) g_object_unref(p); }
static inline void sb_g_free(void *p) { g_free(p); }
#endif
