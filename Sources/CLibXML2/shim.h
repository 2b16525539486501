#ifndef SB_LIBXML2_SHIM_H
#define SB_LIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU, so <libxml/encoding.h> includes <unicode/ucnv.h>. In a
 * Swift module that also imports Foundation, the system ICU's `UErrorCode` then clashes with
 * Foundation's own ICU copy (_FoundationICU) and the module does not compile. Swift never
 * touches libxml2's ICU converter state (only `xmlCharEncodingHandler`'s trailing fields,
 * reached by pointer inside libxml2), so the ICU part of the headers is switched off here. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif
