/* Minimal Cortex-M start-up shared by the bootloader and the test app: vector table, .data copy,
 * .bss clear, FPU on, then main(). */
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static void fault(void) {
    for (;;) {}
}

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;   /* CPACR: CP10/CP11 full access */
    __asm__ volatile("dsb\n\tisb");
    main();
    for (;;) {}
}

__attribute__((section(".isr_vector"), used)) void (*const ek_vectors[16])(void) = {
    (void (*)(void))&_estack, Reset_Handler, fault, fault, fault, fault, fault, 0, 0, 0, 0,
    fault, fault, 0, fault, fault,
};
