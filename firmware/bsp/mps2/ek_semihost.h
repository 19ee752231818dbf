/* The one semihosting trap of the Cortex-M twin (ARM DUI0471: bkpt 0xAB, r0 = operation, r1 =
 * argument block; QEMU -semihosting-config enable=on), shared by the BSP, its startup and the
 * bootloader. */
#ifndef EK_SEMIHOST_H
#define EK_SEMIHOST_H
#include <stdint.h>

enum { EK_SYS_OPEN = 0x01, EK_SYS_CLOSE = 0x02, EK_SYS_WRITE0 = 0x04, EK_SYS_WRITE = 0x05,
       EK_SYS_READ = 0x06, EK_SYS_SEEK = 0x0A, EK_SYS_FLEN = 0x0C, EK_SYS_EXIT_EXTENDED = 0x20 };

static inline int32_t ek_semihost(uint32_t op, const void *args)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return (int32_t)r0;
}

/* NUL-terminated text to the semihosting console (QEMU's stdout). */
static inline void ek_sh_puts(const char *s) { (void)ek_semihost(EK_SYS_WRITE0, s); }

static inline void ek_sh_putu(uint32_t v)
{
    char b[11], *p = b + 10;
    *p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    ek_sh_puts(p);
}

/* Stop the emulator (SYS_EXIT_EXTENDED). QEMU exits with `code` for ADP_Stopped_ApplicationExit
 * (0x20026) and with 1 for any other reason, e.g. ADP_Stopped_InternalError (0x20024). */
static inline void ek_sh_exit(uint32_t reason, uint32_t code)
{
    const uint32_t block[2] = {reason, code};
    (void)ek_semihost(EK_SYS_EXIT_EXTENDED, block);
    for (;;) {}
}
#endif
