/* The one Cortex-M7 startup of the mps2-an500 twin, shared by the car app (this BSP), the
 * bootloader and the flash test app: vector table, VTOR, FPU on, .data copy, .bss zero, main().
 * No heap: static buffers only (the linker scripts define none). Linker scripts provide
 * __vectors_start, __data_load/start/end, __bss_start/end and __stack_top. */
#include <stdint.h>
#include "ek_semihost.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern uint32_t __vectors_start;
#ifdef EK_STARTUP_MAIN_VOID   /* the bootloader and the test app */
int main(void);
#define EK_CALL_MAIN() main()
#else                         /* the car app: main(argc, argv) like its Linux build */
int main(int argc, char **argv);
#define EK_CALL_MAIN() main(0, 0)
#endif

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)
#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
    SCB_VTOR = (uint32_t)&__vectors_start; /* also right when started from an MCUboot slot */
    SCB_CPACR |= 0xFu << 20;                /* CP10/CP11: the FPU (hard-float ABI) */
    __asm volatile("dsb\n isb");
    for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
    for (uint32_t *d = &__bss_start; d < &__bss_end;) *d++ = 0;
    EK_CALL_MAIN();
    for (;;) {}
}

static void Fault_Handler(void)
{
    ek_sh_exit(0x20024u, 0xFAu); /* InternalError: a crashed twin ends (QEMU exit 1) instead of hanging */
}

__attribute__((section(".vectors"), used)) void (*const ek_vectors[16])(void) = {
    (void (*)(void))&__stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, 0, 0, 0, 0, Fault_Handler, Fault_Handler, 0, Fault_Handler,
    Fault_Handler,
};
