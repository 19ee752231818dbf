/* The car app's main loop and link router. The one UART carries three kinds of traffic, told
 * apart by their first bytes (docs/CONTRACTS.md "Link"):
 *   06 09 / 04 14 ... '\n'  SMP management frames -> ek_mgmt_rx_frame() (firmware/mgmt/)
 *   ASCII ... '%'           commands: MLPerf Tiny DUT (ek_dut.c) and drive (ek_drive.c);
 *                           every command is answered, last line `m-ready`
 *   replies                 `m-`/`e-` lines (DUT), `t-` lines (drive telemetry)
 * Camera frames never travel on the UART: they come through the BSP's camera side channel. */
#include <string.h>
#include "ek_app.h"
#include "ek_hal.h"
#include "ek_mgmt.h"

#define RX_MAX 8192
static uint8_t rx[RX_MAX];
static size_t rx_n;
static int rx_overflow;

static void command(char *cmd)
{
    while (*cmd == ' ' || *cmd == '\r' || *cmd == '\n') cmd++;
    if (drive_command(cmd)) {
        if (strcmp(cmd, "hb") == 0) return;
    } else if (!dut_command(cmd)) {
        ek_line l;
        line_start(&l, "e-[Unknown command: ");
        line_str(&l, cmd);
        line_str(&l, "]");
        line_send(&l);
    }
    reply("m-ready");
}

static int is_smp(void)
{
    return rx_n >= 2 && ((rx[0] == 0x06 && rx[1] == 0x09) || (rx[0] == 0x04 && rx[1] == 0x14));
}

static void rx_byte(uint8_t c)
{
    if (rx_n == 0 && (c == '\r' || c == '\n' || c == ' ')) return; /* between commands */
    if (rx_n < RX_MAX) rx[rx_n++] = c;
    else rx_overflow = 1;
    if (is_smp()) {
        if (c == '\n') {
            if (!rx_overflow) ek_mgmt_rx_frame(rx, rx_n);
            rx_n = 0;
            rx_overflow = 0;
        }
        return;
    }
    if (c != '%') return;
    if (rx_overflow) {
        reply("e-[command too long]");
        reply("m-ready");
    } else {
        rx[rx_n - 1] = 0;
        command((char *)rx);
    }
    rx_n = 0;
    rx_overflow = 0;
}

int main(int argc, char **argv)
{
    hal_init(argc, argv);
    drive_init();
    reply("m-boot-[edgekit]");
    reply("m-ready");
    for (;;) {
        int c = hal_link_getc(1000);
        while (c >= 0) {
            rx_byte((uint8_t)c);
            c = hal_link_getc(0);
        }
        drive_poll(hal_clock_us());
    }
}
