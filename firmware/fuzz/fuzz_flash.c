/* See fuzz_flash.h. Out-of-range addresses behave like ek_flash_twin.c: writes/erases outside
 * the flash file are refused; reads are memory-mapped, so the caller must stay below EK_FLASH_END
 * (the flash array is exactly that big: ASan reports any read past it). */
#include "fuzz_flash.h"
#include <string.h>
#include "ek_fuzz_provision.h"
#include "ek_slots.h"

static uint8_t flash[EK_FLASH_END], pristine[EK_FLASH_END];
static uint32_t dirty_lo = EK_FLASH_END, dirty_hi;

static void touch(uint32_t addr, size_t n) {
    if (addr < dirty_lo) dirty_lo = addr;
    if (addr + n > dirty_hi) dirty_hi = (uint32_t)(addr + n);
}

void fuzz_flash_init(void) {
    static const uint8_t boot_magic[16] = {0x77, 0xc2, 0x95, 0xf3, 0x60, 0xd2, 0xef, 0x7f,
                                           0x35, 0x52, 0x50, 0x0f, 0x2c, 0xb6, 0x79, 0x80};
    uint32_t tr = EK_SLOT0_BASE + EK_SLOT_SIZE - 64;
    memset(pristine, 0xFF, sizeof pristine);
    memcpy(pristine + EK_PUBKEY_ADDR, ek_fuzz_pubkey, 32);
    memset(pristine + EK_BOARD_ADDR, 0, 32);
    memcpy(pristine + EK_BOARD_ADDR, ek_fuzz_board, sizeof ek_fuzz_board);
    memcpy(pristine + EK_SLOT0_BASE, ek_fuzz_slot0, sizeof ek_fuzz_slot0);
    pristine[tr + 0] = 1; pristine[tr + 1] = 0; pristine[tr + 2] = 0; pristine[tr + 3] = 0;   /* seq 1 */
    pristine[tr + 32] = 1;                                                                   /* ok */
    memcpy(pristine + tr + 48, boot_magic, 16);
    memcpy(flash, pristine, sizeof flash);
    dirty_lo = EK_FLASH_END; dirty_hi = 0;
}

void fuzz_flash_restore(void) {
    if (dirty_hi > dirty_lo) memcpy(flash + dirty_lo, pristine + dirty_lo, dirty_hi - dirty_lo);
    dirty_lo = EK_FLASH_END; dirty_hi = 0;
}

void fuzz_flash_load(uint32_t addr, const uint8_t *data, size_t n) {
    if (addr >= EK_FLASH_END) return;
    if (n > EK_FLASH_END - addr) n = EK_FLASH_END - addr;
    touch(addr, n);
    memcpy(flash + addr, data, n);
}

const uint8_t *ek_flash_ptr(uint32_t addr) { return flash + addr; }

int ek_flash_write(uint32_t addr, const void *data, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    touch(addr, n);
    memcpy(flash + addr, data, n);
    return 0;
}

int ek_flash_erase(uint32_t addr, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    touch(addr, n);
    memset(flash + addr, 0xFF, n);
    return 0;
}
