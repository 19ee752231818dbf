/* Word-level helpers the Cortex-M DSP kernels share (src/cortex_m/ek_*_dsp.c). Include it inside
 * their `__ARM_FEATURE_DSP` guard: it uses Armv7E-M instructions. */
#ifndef EK_DSP_M_H
#define EK_DSP_M_H
#include <stdint.h>
#include <string.h>
#include "ek_kernels.h"

static inline uint32_t ld32(const void *p) {
    uint32_t v;
    memcpy(&v, p, 4);   /* one LDR: Armv7E-M allows unaligned word loads */
    return v;
}

/* SXTB16 with its free ROR #8 (GCC's __sxtb16 has no rotate operand): bytes 1 and 3 */
EK_INLINE uint32_t sxtb16_ror8(uint32_t x) {
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
#endif
