/* Semihosting console output for the twin (QEMU -semihosting-config enable=on). */
#ifndef EK_SEMIHOST_H
#define EK_SEMIHOST_H
#include <stdint.h>
static inline void ek_sh_puts(const char *s) {
    register int r0 __asm__("r0") = 0x04;   /* SYS_WRITE0 */
    register const char *r1 __asm__("r1") = s;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
}
static inline void ek_sh_putu(uint32_t v) {
    char b[11], *p = b + 10;
    *p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    ek_sh_puts(p);
}
#endif
