/* The twin's "flash driver": code memory at 0x0 is RAM in QEMU's mps2 machines, so a write is a
 * memory copy plus a write-through with semihosting (SYS_OPEN/SYS_SEEK/SYS_WRITE) to the board's
 * flash file `flash.bin` in QEMU's working directory (edgekit starts QEMU there and preloads the
 * file with `-device loader,file=flash.bin,addr=0x10000`). The host file sees every write the
 * moment it completes, so killing QEMU is a real power cut: the next start loads exactly the
 * bytes written before the kill. On a real board this file is replaced by the flash HAL. */
#include <string.h>
#include "ek_slots.h"

static int flash_fd = -2;   /* -2: not opened yet; -1: no semihosting file (memory only) */

static int semihost(int op, void *args) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int flash_file(void) {
    if (flash_fd == -2) {
        static const char name[] = "flash.bin";
        uint32_t args[3] = {(uint32_t)name, 3 /* "r+b" */, sizeof name - 1};
        flash_fd = semihost(0x01, args);
        if (flash_fd < 0) flash_fd = -1;
    }
    return flash_fd;
}

const uint8_t *ek_flash_ptr(uint32_t addr) { return (const uint8_t *)addr; }

static int write_through(uint32_t addr, const void *data, size_t n) {
    int fd = flash_file();
    if (fd < 0) return 0;
    uint32_t seek[2] = {(uint32_t)fd, addr - EK_FLASH_FILE_BASE};
    uint32_t wr[3] = {(uint32_t)fd, (uint32_t)data, (uint32_t)n};
    if (semihost(0x0A, seek) != 0) return -1;
    return semihost(0x05, wr) == 0 ? 0 : -1;   /* SYS_WRITE returns the bytes NOT written */
}

int ek_flash_write(uint32_t addr, const void *data, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memcpy((void *)addr, data, n);
    return write_through(addr, (const void *)addr, n);
}

int ek_flash_erase(uint32_t addr, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memset((void *)addr, 0xFF, n);
    return write_through(addr, (const void *)addr, n);
}
