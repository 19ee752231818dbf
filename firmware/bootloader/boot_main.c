/* edgekit bootloader for the Cortex-M7 twin: direct-XIP with revert (see firmware/mgmt/ek_slots.h).
 * Picks the bootable slot with the highest sequence number whose image passes SHA-256, key hash,
 * Ed25519 and board checks; marks a pending image as on trial before its one trial boot; jumps to
 * the image's vector table at slot + 0x200. Logs go to the semihosting console (QEMU stdout). */
#include <stdint.h>
#include "ek_slots.h"
#include "ek_semihost.h"   /* firmware/bsp/mps2: the one semihosting trap */

#define SCB_VTOR (*(volatile uint32_t *)0xE000ED08u)

/* Provisioning block at 0x200 (EK_PUBKEY_ADDR / EK_BOARD_ADDR), generated per key and board. */
extern const uint8_t ek_provisioning[64];

static void jump(uint32_t vt_addr) {
    const uint32_t *vt = (const uint32_t *)vt_addr;
    SCB_VTOR = vt_addr;
    __asm__ volatile("dsb\n\tisb\n\tmsr msp, %0\n\tbx %1" : : "r"(vt[0]), "r"(vt[1]) : "memory");
}

static void log_slot(const char *what, int s, const char *why) {
    ek_sh_puts("ekboot: slot ");
    ek_sh_putu((uint32_t)s);
    ek_sh_puts(" ");
    ek_sh_puts(what);
    if (why) { ek_sh_puts(": "); ek_sh_puts(why); }
    ek_sh_puts("\n");
}

int main(void) {
    ek_trailer tr[2];
    int order[2] = {0, 1};
    (void)ek_provisioning[0];
    ek_sh_puts("ekboot: start\n");
    for (int s = 0; s < 2; s++) ek_trailer_read(ek_slot_base(s), &tr[s]);
    if (tr[1].seq > tr[0].seq) { order[0] = 1; order[1] = 0; }
    for (int i = 0; i < 2; i++) {
        int s = order[i];
        uint32_t base = ek_slot_base(s);
        ek_image im;
        const char *why = 0;
        if (!ek_trailer_bootable(&tr[s])) {
            log_slot(tr[s].trial ? "skipped: trial boot was not confirmed (reverted)" : "skipped: not set for boot", s, 0);
            continue;
        }
        if (ek_image_parse(base, &im, &why) || ek_image_verify(&im, &why)) {
            log_slot("rejected", s, why);
            continue;
        }
        if (!tr[s].ok) {
            if (ek_trailer_set_trial(base)) { log_slot("rejected", s, "cannot mark trial"); continue; }
            log_slot("trial boot", s, 0);
        } else {
            log_slot("boot", s, 0);
        }
        jump(base + EK_IMAGE_HEADER_SIZE);
    }
    ek_sh_puts("ekboot: no bootable image\n");
    for (;;) __asm__ volatile("wfi");
}
