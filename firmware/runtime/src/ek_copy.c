/* RESHAPE when it cannot be a view (e.g. a graph input copied to a graph output). */
#include <string.h>
#include "ek_kernels.h"

void ek_copy_s8(const int8_t *in, int8_t *out, size_t n) {
    if (in != out) memmove(out, in, n);
}
