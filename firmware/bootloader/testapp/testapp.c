/* A small car-app stand-in for bootloader/SMP tests: CMSDK UART0 polling loop that routes SMP
 * frames (06 09 / 04 14 ... '\n') to ek_mgmt_rx_frame(), answers "ping" lines with
 * "pong <version> slot <n>", reports its self-test (EK_TESTAPP_SELFTEST=0 simulates a failing
 * one) and prints a boot banner. The real car app (firmware/app) routes frames the same way. */
#include <stdint.h>
#include <string.h>
#include "ek_mgmt.h"
#include "ek_slots.h"

#ifndef EK_TESTAPP_VERSION
#define EK_TESTAPP_VERSION "0.0.0"
#endif
#ifndef EK_TESTAPP_SELFTEST
#define EK_TESTAPP_SELFTEST 1
#endif
#ifndef EK_TESTAPP_PAD
#define EK_TESTAPP_PAD 1
#endif

#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART_BAUDDIV (*(volatile uint32_t *)0x40004010u)

/* Filler so tests can make images of a chosen size (a stand-in for model weights). */
const uint8_t ek_testapp_pad[EK_TESTAPP_PAD] = {1};

void ek_mgmt_tx(const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & 1u) {}
        UART_DATA = buf[i];
    }
}

static void puts_uart(const char *s) { ek_mgmt_tx((const uint8_t *)s, strlen(s)); }

int main(void) {
    static uint8_t line[256];
    size_t n = 0;
    char slot[2] = {(char)('0' + ek_slot_of((uint32_t)(uintptr_t)&main)), 0};
    UART_BAUDDIV = 16;
    UART_CTRL = 3;
    ek_mgmt_selftest_done(EK_TESTAPP_SELFTEST, (int32_t)((const volatile uint8_t *)ek_testapp_pad)[EK_TESTAPP_PAD - 1]);
    puts_uart("app: testapp " EK_TESTAPP_VERSION " slot ");
    puts_uart(slot);
    puts_uart("\n");
    for (;;) {
        if (!(UART_STATE & 2u)) continue;
        uint8_t c = (uint8_t)UART_DATA;
        if (n < sizeof line) line[n++] = c;
        if (c != '\n') continue;
        if (n >= 2 && ((line[0] == 0x06 && line[1] == 0x09) || (line[0] == 0x04 && line[1] == 0x14)))
            ek_mgmt_rx_frame(line, n);
        else if (n >= 5 && memcmp(line, "ping", 4) == 0) {
            puts_uart("pong " EK_TESTAPP_VERSION " slot ");
            puts_uart(slot);
            puts_uart("\n");
        }
        n = 0;
    }
}
