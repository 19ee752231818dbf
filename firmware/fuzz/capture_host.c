/* Host runner of the firmware capture (firmware/app/ek_capture.c, unchanged) for the shared
 * vectors (firmware/app/vectors/capture_vectors.json, tests/test_capture_codec.py). Config: the
 * DUT fuzz harness's (dut/ek_app_config.h: pre 3, post 2, threshold 300, 2 slots; 96-byte frames).
 * stdin, one command a line:
 *   mode M | flush | idle | step SEQ T_US PILOT_S PILOT_T HUMAN HUMAN_S HUMAN_T TAKEOVER SEED
 *     (frame byte i = (SEED + 7 i) mod 256)
 *   parse HEX   -> "ok ID FRAMES TRIGGER REASON MODE" or "bad" (ek_capture_parse on one slot)
 * At the end: "stats EVENTS WINDOWS DROPPED ERRORS" and "area HEX" (the capture area). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_app_config.h"
#include "ek_capture.h"
#include "ek_hal.h"

static uint8_t storage[EK_CAPTURE_BASE + EK_CAPTURE_AREA_BYTES];

uint64_t hal_clock_us(void) { return 0; }
int hal_storage_read(uint32_t off, void *buf, size_t len) {
    if (off > sizeof storage || len > sizeof storage - off) return -1;
    memcpy(buf, storage + off, len);
    return (int)len;
}
int hal_storage_write(uint32_t off, const void *buf, size_t len) {
    if (off > sizeof storage || len > sizeof storage - off) return -1;
    memcpy(storage + off, buf, len);
    return (int)len;
}

static int unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) return -1;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return (int)n;
}

int main(void) {
    static char line[2 * EK_CAPTURE_SLOT_BYTES + 64];
    static uint8_t slot[EK_CAPTURE_SLOT_BYTES];
    uint8_t frame[EK_CAPTURE_FRAME_BYTES];
    ek_capture_init();
    while (fgets(line, sizeof line, stdin)) {
        long a[9];
        if (sscanf(line, "mode %ld", &a[0]) == 1) ek_capture_set_mode((int)a[0]);
        else if (strncmp(line, "flush", 5) == 0) ek_capture_flush();
        else if (strncmp(line, "idle", 4) == 0) ek_capture_idle();
        else if (sscanf(line, "step %ld %ld %ld %ld %ld %ld %ld %ld %ld", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5],
                        &a[6], &a[7], &a[8]) == 9) {
            for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)((unsigned long)a[8] + 7 * i);
            ek_capture_step(frame, (uint32_t)a[0], (uint64_t)a[1], (int32_t)a[2], (int32_t)a[3], (int)a[4],
                            (int32_t)a[5], (int32_t)a[6], (int)a[7]);
        } else if (strncmp(line, "parse ", 6) == 0) {
            ek_capture_hdr h;
            line[strcspn(line, "\n")] = 0;
            int n = unhex(line + 6, slot, sizeof slot);
            if (n >= 0 && ek_capture_parse(slot, (size_t)n, &h) == 0)
                printf("ok %u %u %u %u %u\n", h.id, h.frames, h.trigger, h.reason, h.mode);
            else
                printf("bad\n");
        }
    }
    for (int i = 0; i < 64 && ek_capture_busy(); i++) ek_capture_idle(); /* a collecting window stays open */
    const ek_capture_stats *s = ek_capture_get_stats();
    printf("stats %u %u %u %u\narea ", s->events, s->windows, s->dropped, s->errors);
    for (uint32_t i = 0; i < EK_CAPTURE_AREA_BYTES; i++) printf("%02x", storage[EK_CAPTURE_BASE + i]);
    printf("\n");
    return 0;
}
