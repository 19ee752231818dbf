/* MLPerf Tiny DUT protocol (mlcommons/tiny benchmark/api, docs/SOURCES.md §7) on the link.
 * Results are the model's raw int8 outputs (m-results-[q0,q1,...]) so a client can check them
 * bit for bit against TFLM; dequantize with the model's output scale and zero point. */
#include <string.h>
#include "ek_app.h"
#include "ek_hal.h"

int8_t ek_input[EK_MODEL_INPUT_BYTES];
int8_t ek_output[EK_MODEL_OUTPUT_BYTES];
static uint32_t db_expect, db_have;

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static uint32_t parse_u32(const char **p)
{
    uint32_t v = 0;
    while (**p == ' ') (*p)++;
    while (**p >= '0' && **p <= '9') v = v * 10 + (uint32_t)(*(*p)++ - '0');
    return v;
}

static void send_results(void)
{
    ek_line l;
    line_start(&l, "m-results-[");
    for (int i = 0; i < EK_MODEL_OUTPUT_BYTES; i++) {
        if (i) line_str(&l, ",");
        line_int(&l, ek_output[i]);
    }
    line_str(&l, "]");
    line_send(&l);
}

static void lap(uint64_t t)
{
    ek_line l;
    line_start(&l, "m-lap-us-");
    line_int(&l, (int64_t)t);
    line_send(&l);
}

static void db_command(const char *arg)
{
    ek_line l;
    if (strncmp(arg, "load", 4) == 0) {
        const char *p = arg + 4;
        uint32_t n = parse_u32(&p);
        if (n == 0 || n > EK_MODEL_INPUT_BYTES) {
            line_start(&l, "e-[db load: expected 1..");
            line_int(&l, EK_MODEL_INPUT_BYTES);
            line_str(&l, " bytes]");
            line_send(&l);
            return;
        }
        db_expect = n;
        db_have = 0;
        line_start(&l, "m-[Expecting ");
        line_int(&l, n);
        line_str(&l, " bytes]");
        line_send(&l);
        return;
    }
    for (const char *p = arg; p[0] && p[1]; p += 2) {
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0) { reply("e-[db: bad hex]"); return; }
        if (db_have >= db_expect) { reply("e-[db: more bytes than announced]"); return; }
        ek_input[db_have++] = (int8_t)(hi << 4 | lo);
    }
    if (db_expect && db_have == db_expect) {
        reply("m-load-done");
        db_expect = 0;
    }
}

static void infer_command(const char *arg)
{
    const char *p = arg;
    uint32_t n = parse_u32(&p), warm = parse_u32(&p);
    if (n == 0) n = 1;
    ek_line l;
    line_start(&l, "m-warmup-start-");
    line_int(&l, warm);
    line_send(&l);
    for (uint32_t i = 0; i < warm; i++) ek_model_invoke(ek_input, ek_output);
    reply("m-warmup-done");
    line_start(&l, "m-infer-start-");
    line_int(&l, n);
    line_send(&l);
    int rc = 0;
    lap(hal_clock_us());
    for (uint32_t i = 0; i < n; i++) rc |= ek_model_invoke(ek_input, ek_output);
    lap(hal_clock_us());
    reply("m-infer-done");
    if (rc) reply("e-[ek_model_invoke failed]");
    send_results();
}

int dut_command(char *cmd)
{
    ek_line l;
    if (strcmp(cmd, "name") == 0) {
        line_start(&l, "m-name-dut-[edgekit-");
        line_str(&l, hal_board_name());
        line_str(&l, "]");
        line_send(&l);
    } else if (strcmp(cmd, "profile") == 0) {
        reply("m-profile-[edgekit]");
        line_start(&l, "m-model-[");
        line_str(&l, EK_MODEL_NAME);
        line_str(&l, "]");
        line_send(&l);
        line_start(&l, "m-sizes-[in=");
        line_int(&l, EK_MODEL_INPUT_BYTES);
        line_str(&l, ",out=");
        line_int(&l, EK_MODEL_OUTPUT_BYTES);
        line_str(&l, ",arena=");
        line_int(&l, EK_MODEL_ARENA_BYTES);
        line_str(&l, "]");
        line_send(&l);
    } else if (strncmp(cmd, "db ", 3) == 0) {
        db_command(cmd + 3);
    } else if (strncmp(cmd, "infer", 5) == 0 && (cmd[5] == ' ' || cmd[5] == 0)) {
        infer_command(cmd + 5);
    } else if (strcmp(cmd, "results") == 0) {
        send_results();
    } else if (strcmp(cmd, "timestamp") == 0) {
        lap(hal_clock_us());
    } else {
        return 0;
    }
    return 1;
}
