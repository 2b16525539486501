#ifndef SB_LIBXML2_SHIM_H
#define SB_LIBXML2_SHIM_H
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif
