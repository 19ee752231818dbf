/* libFuzzer harness: the car app's link router and text protocol (firmware/app/ek_main.c's
 * rx_byte, the MLPerf Tiny DUT commands of ek_dut.c, the drive commands of ek_drive.c, reply
 * formatting of ek_line.c). Input: raw link bytes (`name%`, `db load N%`, `db HHHH%`,
 * `infer N W%`, `drive step%`, `rc S T%`, SMP frames mixed in ...). The app sources are compiled
 * into this translation unit unchanged so every input starts from a freshly booted app.
 *
 * Host shims: a fake HAL (virtual clock advancing 1 ms per received byte, a camera producing a new
 * frame every 50 ms, RAM storage) and a stand-in model (deterministic, cheap). `infer N W` runs
 * the model N+W times by protocol; runs past MODEL_BUDGET end the input (longjmp back here), so a
 * request for 4e9 inferences costs the fuzzer nothing. The loop is the protocol's, not a bug. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define main ek_app_main   /* the app's endless main loop is replaced by the fuzz loop below */
#include "ek_main.c"
#undef main
#include "ek_dut.c"
#include "ek_drive.c"
#include "ek_capture.c"

#define MODEL_BUDGET 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now_us;
static uint8_t storage[256];
static unsigned model_runs;
static jmp_buf budget_out;

static void check(int cond, const char *what) {
    if (!cond) { fprintf(stderr, "fuzz_dut: invariant broken: %s\n", what); abort(); }
}

void hal_init(int argc, char **argv) { (void)argc; (void)argv; }
const char *hal_board_name(void) { return "fuzz"; }
int hal_link_getc(uint32_t timeout_us) { (void)timeout_us; return -1; }
int hal_link_up(void) { return 1; }
uint64_t hal_clock_us(void) { return now_us; }

/* Writes are at most ek_line's buffer (a longer line goes out in parts); the last byte written
 * for an input is the end of a line (every command is answered, last with m-ready). */
static int last_out = -1;
void hal_link_write(const void *buf, size_t len) {
    check(len >= 1 && len <= sizeof(((ek_line *)0)->buf), "write length");
    last_out = ((const uint8_t *)buf)[len - 1];
}

int hal_camera_read(uint8_t *frame, size_t len, uint32_t *seq) {
    uint32_t s = (uint32_t)(now_us / 50000);
    for (size_t i = 0; i < len; i++) frame[i] = (uint8_t)(s + i);
    *seq = s;
    return 0;
}

void hal_actuate(int32_t steering_milli, int32_t throttle_milli) {
    check(steering_milli >= -1000 && steering_milli <= 1000, "steering out of range");
    check(throttle_milli >= -1000 && throttle_milli <= 1000, "throttle out of range");
}

int hal_storage_read(uint32_t offset, void *buf, size_t len) {
    if (offset > sizeof storage || len > sizeof storage - offset) return -1;
    memcpy(buf, storage + offset, len);
    return (int)len;
}

int hal_storage_write(uint32_t offset, const void *buf, size_t len) {
    if (offset > sizeof storage || len > sizeof storage - offset) return -1;
    memcpy(storage + offset, buf, len);
    return (int)len;
}

int ek_model_invoke(const int8_t *in, int8_t *out) {
    if (++model_runs > MODEL_BUDGET) longjmp(budget_out, 1);
    int32_t acc = 0;
    for (int i = 0; i < EK_MODEL_INPUT_BYTES; i++) acc += in[i] * (i + 1);
    out[0] = (int8_t)acc;
    out[1] = (int8_t)(acc >> 8);
    return 0;
}

static void app_reset(void) {
    rx_n = 0; rx_overflow = 0;                               /* ek_main.c */
    db_expect = db_have = 0;                                 /* ek_dut.c */
    memset(ek_input, 0, sizeof ek_input);
    memset(ek_output, 0, sizeof ek_output);
    loop_mode = OFF; rc_active = failsafe = 0;               /* ek_drive.c */
    rc_steer = rc_throttle = out_steer = out_throttle = 0;
    last_fresh = next_tick = 0;
    last_seq = 0xffffffffu;
    memset(storage, 0, sizeof storage);
    now_us = 1000000;
    model_runs = 0;
    drive_init();
    last_out = -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    app_reset();
    if (setjmp(budget_out)) return 0;
    for (size_t i = 0; i < size; i++) {   /* after a longjmp nothing here is read again */
        rx_byte(data[i]);
        now_us += 1000;
        drive_poll(now_us);
    }
    check(last_out == -1 || last_out == '\n', "output ends inside a line");
    return 0;
}
