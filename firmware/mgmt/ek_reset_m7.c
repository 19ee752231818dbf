/* Warm reset into the bootloader for the Cortex-M twin. QEMU's system reset (AIRCR) would
 * re-copy the start-up flash file over code memory and lose every write since start, so the
 * reset re-enters the bootloader's reset vector with interrupts off instead. */
#include "ek_mgmt.h"

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define NVIC_ICER ((volatile uint32_t *)0xE000E180u)
#define NVIC_ICPR ((volatile uint32_t *)0xE000E280u)

void ek_mgmt_reset(void) {
    uintptr_t base = 0;
    __asm__ volatile("" : "+r"(base));   /* hide the null address from the optimiser (no trap) */
    const volatile uint32_t *vt = (const volatile uint32_t *)base;
    __asm__ volatile("cpsid i" ::: "memory");
    SYST_CSR = 0;
    for (int i = 0; i < 16; i++) { NVIC_ICER[i] = 0xFFFFFFFFu; NVIC_ICPR[i] = 0xFFFFFFFFu; }
    SCB_VTOR = 0;
    __asm__ volatile("msr control, %2\n\tisb\n\tmsr msp, %0\n\tcpsie i\n\tbx %1" : : "r"(vt[0]), "r"(vt[1]), "r"(0) : "memory");
    for (;;) {}
}
