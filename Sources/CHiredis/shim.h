#ifndef SB_HIREDIS_SHIM_H
#define SB_HIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#endif
