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
    static uint8_t prev;
    /* An SMP frame start (06 09 / 04 14: control bytes no command or base64 holds) always begins
     * a new buffer, full or not: bytes left over from a dropped link or a lost first byte would
     * otherwise sit in front of every later frame, which then never parses as SMP (seen after the
     * SMP reset). */
    if ((prev == 0x06 && c == 0x09) || (prev == 0x04 && c == 0x14)) {
        rx[0] = prev;
        rx_n = 1;
        rx_overflow = 0;
    }
    prev = c;
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

#if defined(EK_WITH_MGMT) && __has_include("ek_selftest.h")
#include "ek_selftest.h"
/* One inference on a fixed input against TFLM's outputs baked in by the build; the flashing flow
 * confirms a new image only after the SMP server reports this passed. */
static void selftest(void)
{
    for (size_t i = 0; i < EK_MODEL_INPUT_BYTES; i++) ek_input[i] = (int8_t)(uint8_t)((i * 7u + 3u) & 0xFFu);
    int rc = ek_model_invoke(ek_input, ek_output);
    int32_t worst = 0;
    for (size_t i = 0; i < sizeof ek_selftest_expected && i < EK_MODEL_OUTPUT_BYTES; i++) {
        int32_t d = ek_output[i] - ek_selftest_expected[i];
        if (d < 0) d = -d;
        if (d > worst) worst = d;
    }
    int ok = rc == 0 && worst == 0 && sizeof ek_selftest_expected == EK_MODEL_OUTPUT_BYTES;
    ek_mgmt_selftest_done(ok, worst);
    reply(ok ? "m-selftest-[pass]" : "e-[selftest failed]");
}
#else
static void selftest(void) {}
#endif

int main(int argc, char **argv)
{
    hal_init(argc, argv);
    drive_init();
    selftest();
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
