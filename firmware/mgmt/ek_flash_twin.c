/* The twin's "flash driver": code memory at 0x0 is RAM in QEMU's mps2 machines, so a write is a
 * memory copy plus a write-through with semihosting (SYS_OPEN/SYS_SEEK/SYS_WRITE) to the board's
 * flash file `flash.bin` in QEMU's working directory (edgekit starts QEMU there and preloads the
 * file with `-device loader,file=flash.bin,addr=0x10000`). The host file sees every write the
 * moment it completes, so killing QEMU is a real power cut: the next start loads exactly the
 * bytes written before the kill. On a real board this file is replaced by the flash HAL.
 *
 * Power switch (MCUboot simulator style, docs in firmware/bootloader/README.md): when the host
 * preloads a power block at EK_POWER_ADDR (unused PSRAM, kept across the warm resets between
 * bootloader and app), every completed write/erase is counted there (and, with the trace flag,
 * logged as "W|E addr len" lines to `flash-ops.log`); when the count reaches `cut_after` the
 * board loses power: QEMU exits with EK_POWER_CUT_EXIT right after that operation. */
#include <string.h>
#include "ek_slots.h"

#define EK_POWER_ADDR 0x60FFFF00u
#define EK_POWER_MAGIC 0x5057524bu   /* "KRWP" */
#define EK_POWER_CUT_EXIT 86

typedef struct { uint32_t magic, cut_after, count, trace; } ek_power;

static int flash_fd = -2;   /* -2: not opened yet; -1: no semihosting file (memory only) */
static int trace_fd = -2;

static int semihost(int op, void *args) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = args;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static int open_file(int *fd, const char *name, size_t len, uint32_t mode) {
    if (*fd == -2) {
        uint32_t args[3] = {(uint32_t)name, mode, (uint32_t)len};
        *fd = semihost(0x01, args);
        if (*fd < 0) *fd = -1;
    }
    return *fd;
}

const uint8_t *ek_flash_ptr(uint32_t addr) { return (const uint8_t *)addr; }

static int write_through(uint32_t addr, const void *data, size_t n) {
    static const char name[] = "flash.bin";
    int fd = open_file(&flash_fd, name, sizeof name - 1, 3 /* "r+b" */);
    if (fd < 0) return 0;
    uint32_t seek[2] = {(uint32_t)fd, addr - EK_FLASH_FILE_BASE};
    uint32_t wr[3] = {(uint32_t)fd, (uint32_t)data, (uint32_t)n};
    if (semihost(0x0A, seek) != 0) return -1;
    return semihost(0x05, wr) == 0 ? 0 : -1;   /* SYS_WRITE returns the bytes NOT written */
}

static char *put_hex(char *p, uint32_t v) {
    for (int s = 28; s >= 0; s -= 4) *p++ = "0123456789abcdef"[(v >> s) & 0xFu];
    return p;
}

/* After each completed operation: count it, trace it, and cut the power at the chosen one. */
static void power_tick(char kind, uint32_t addr, size_t n) {
    uintptr_t at = EK_POWER_ADDR;
    __asm__ volatile("" : "+r"(at));   /* a fixed MMIO-style address, not an object */
    volatile ek_power *pw = (volatile ek_power *)at;
    if (pw->magic != EK_POWER_MAGIC) return;
    pw->count = pw->count + 1u;
    if (pw->trace) {
        static const char name[] = "flash-ops.log";
        int opened = trace_fd == -2, fd = open_file(&trace_fd, name, sizeof name - 1, 8 /* "a" */);
        if (fd >= 0 && opened) {   /* QEMU opens "a" without O_APPEND: seek to the end ourselves */
            uint32_t flen[1] = {(uint32_t)fd};
            int end = semihost(0x0C, flen);   /* SYS_FLEN */
            uint32_t seek[2] = {(uint32_t)fd, (uint32_t)(end > 0 ? end : 0)};
            (void)semihost(0x0A, seek);
        }
        if (fd >= 0) {
            char line[24], *p = line;
            *p++ = kind; *p++ = ' ';
            p = put_hex(p, addr); *p++ = ' ';
            p = put_hex(p, (uint32_t)n); *p++ = '\n';
            uint32_t wr[3] = {(uint32_t)fd, (uint32_t)line, (uint32_t)(p - line)};
            (void)semihost(0x05, wr);
        }
    }
    if (pw->cut_after && pw->count == pw->cut_after) {
        uint32_t args[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, EK_POWER_CUT_EXIT};
        (void)semihost(0x20, args);   /* SYS_EXIT_EXTENDED: QEMU exits with that code */
        for (;;) {}
    }
}

int ek_flash_write(uint32_t addr, const void *data, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memcpy((void *)addr, data, n);
    int rc = write_through(addr, (const void *)addr, n);
    power_tick('W', addr, n);
    return rc;
}

int ek_flash_erase(uint32_t addr, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memset((void *)addr, 0xFF, n);
    int rc = write_through(addr, (const void *)addr, n);
    power_tick('E', addr, n);
    return rc;
}
