#ifndef OPSMITH_UTIL_H
#define OPSMITH_UTIL_H

#include <stddef.h>

size_t opsmith_trim(char *s);

#endif
