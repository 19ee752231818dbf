/* Cortex-M7 startup for the mps2-an500 twin: vector table, .data copy, .bss zero, FPU on.
 * No heap: the app uses static buffers only (the linker script defines no heap). */
#include <stdint.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern uint32_t __vectors_start;
int main(int argc, char **argv);

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
    SCB_VTOR = (uint32_t)&__vectors_start; /* also right when started from an MCUboot slot */
    SCB_CPACR |= 0xFu << 20;                /* CP10/CP11: the FPU (hard-float ABI) */
    __asm volatile("dsb\n isb");
    for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
    for (uint32_t *d = &__bss_start; d < &__bss_end;) *d++ = 0;
    main(0, 0);
    for (;;) {}
}

static void Fault_Handler(void)
{
    /* SYS_EXIT_EXTENDED with an error code, so a crashed twin ends instead of hanging. */
    static const uint32_t block[2] = {0x20024u, 0xFAu};
    register uint32_t r0 __asm("r0") = 0x20;
    register const uint32_t *r1 __asm("r1") = block;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    for (;;) {}
}

__attribute__((section(".vectors"), used)) void (*const ek_vectors[16])(void) = {
    (void (*)(void))&__stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler,
    Fault_Handler,
};
