/* Board support for the mps2-an500 twin of `coral` (QEMU: CMSDK UART0, FPGAIO counter,
 * semihosting files in the twin's state folder for the camera feed and the storage).
 * On the real Coral Dev Board Micro these become LPUART, GPT, the CSI camera and QSPI flash. */
#include <stdint.h>
#include "ek_hal.h"
#include "ek_semihost.h"

#ifndef EK_BOARD_NAME
#define EK_BOARD_NAME "coral"
#endif

#define UART0 0x40004000u
#define REG(a) (*(volatile uint32_t *)(a))
#define UART_DATA REG(UART0 + 0x00)
#define UART_STATE REG(UART0 + 0x04) /* bit0 TX full, bit1 RX full */
#define UART_CTRL REG(UART0 + 0x08)
#define UART_BAUDDIV REG(UART0 + 0x10)
#define FPGAIO_COUNTER REG(0x40028018u) /* free-running at the 25 MHz system clock */
#define CLOCK_HZ 25000000u

static uint64_t clock_ticks;
static uint32_t clock_last;
static int32_t actuator_steer, actuator_throttle; /* no PWM on the twin: values go out as telemetry */

/* ---- semihosting files (the trap: ek_semihost.h) ---- */
#define semihost ek_semihost
enum { SYS_OPEN = EK_SYS_OPEN, SYS_CLOSE = EK_SYS_CLOSE, SYS_WRITE = EK_SYS_WRITE, SYS_READ = EK_SYS_READ,
       SYS_SEEK = EK_SYS_SEEK };
enum { MODE_RB = 1, MODE_RPB = 3, MODE_WPB = 7 };

static int32_t sh_open(const char *name, uint32_t mode)
{
    uint32_t len = 0;
    while (name[len]) len++;
    uint32_t a[3] = {(uint32_t)name, mode, len};
    return semihost(SYS_OPEN, a);
}
static void sh_close(int32_t fd) { uint32_t a[1] = {(uint32_t)fd}; semihost(SYS_CLOSE, a); }
static int sh_seek(int32_t fd, uint32_t pos) { uint32_t a[2] = {(uint32_t)fd, pos}; return semihost(SYS_SEEK, a); }
static int32_t sh_read(int32_t fd, void *buf, uint32_t n) /* bytes read */
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, n};
    return (int32_t)n - semihost(SYS_READ, a);
}
static int32_t sh_write(int32_t fd, const void *buf, uint32_t n)
{
    uint32_t a[3] = {(uint32_t)fd, (uint32_t)buf, n};
    return (int32_t)n - semihost(SYS_WRITE, a);
}

static int32_t storage_fd = -1;

void hal_init(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    UART_BAUDDIV = 16;
    UART_CTRL = 3; /* TX and RX enabled, polled */
    if (!(UART_STATE & 2u))
        (void)UART_DATA; /* a DATA read makes QEMU re-poll its chardev at once (else ~1 s until the first RX byte);
                          * only when empty: a byte that arrived during the boot is the start of a frame */
    clock_last = FPGAIO_COUNTER;
    storage_fd = sh_open("storage.bin", MODE_RPB);
    if (storage_fd < 0) storage_fd = sh_open("storage.bin", MODE_WPB);
}

const char *hal_board_name(void) { return EK_BOARD_NAME; }

uint64_t hal_clock_us(void)
{
    uint32_t now = FPGAIO_COUNTER; /* 32 bits wrap after 171 s: extend on every read */
    clock_ticks += (uint32_t)(now - clock_last);
    clock_last = now;
    return clock_ticks / (CLOCK_HZ / 1000000u);
}

int hal_link_getc(uint32_t timeout_us)
{
    if (UART_STATE & 2u) return (int)(UART_DATA & 0xFFu); /* fast path: no clock read */
    if (timeout_us == 0) return -1;
    uint64_t start = hal_clock_us();
    for (;;) {
        for (int i = 0; i < 64; i++)
            if (UART_STATE & 2u) return (int)(UART_DATA & 0xFFu);
        if (hal_clock_us() - start >= timeout_us) return -1;
    }
}

void hal_link_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & 1u) {}
        UART_DATA = p[i];
    }
}

int hal_link_up(void) { return 1; }

/* camera.bin (written by the host, replaced atomically): "EKCF", u32 seq, u32 len, u32 0, pixels */
int hal_camera_read(uint8_t *frame, size_t len, uint32_t *seq)
{
    int32_t fd = sh_open("camera.bin", MODE_RB);
    if (fd < 0) return -1;
    uint32_t hdr[4];
    int ok = sh_read(fd, hdr, sizeof hdr) == (int32_t)sizeof hdr && hdr[0] == 0x4643454bu &&
             hdr[2] == len && sh_read(fd, frame, (uint32_t)len) == (int32_t)len;
    sh_close(fd);
    if (!ok) return -1;
    *seq = hdr[1];
    return 0;
}

void hal_actuate(int32_t steering_milli, int32_t throttle_milli)
{
    actuator_steer = steering_milli;
    actuator_throttle = throttle_milli;
}

int hal_storage_read(uint32_t offset, void *buf, size_t len)
{
    if (storage_fd < 0 || sh_seek(storage_fd, offset) != 0) return -1;
    return sh_read(storage_fd, buf, (uint32_t)len);
}

int hal_storage_write(uint32_t offset, const void *buf, size_t len)
{
    if (storage_fd < 0 || sh_seek(storage_fd, offset) != 0) return -1;
    return sh_write(storage_fd, buf, (uint32_t)len);
}
