/* Host harness for the C SMP server (built with gcc, optionally with sanitizers):
 *   ek_mgmt_host            reads frames as hex lines on stdin, one line per frame; after each
 *                           input line prints the server's output frames as hex lines, then "."
 *   ek_mgmt_host fuzz N SEED  mutates built-in seed frames N times (bit flips, truncation,
 *                           splices, random bytes) and feeds them; exits 0 when nothing crashed.
 * Flash is a 4 MiB host array; the running slot is 0. Used by tests/test_smp_vectors.py with
 * firmware/mgmt/vectors/smp_vectors.json (the same vectors the Python codec checks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_mgmt.h"
#include "ek_slots.h"

static uint8_t flash[EK_FLASH_END];
static int quiet;

const uint8_t *ek_flash_ptr(uint32_t addr) { return addr < sizeof flash ? flash + addr : flash; }
int ek_flash_write(uint32_t addr, const void *d, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memcpy(flash + addr, d, n);
    return 0;
}
int ek_flash_erase(uint32_t addr, size_t n) {
    if (addr < EK_FLASH_FILE_BASE || addr + n > EK_FLASH_END) return -1;
    memset(flash + addr, 0xFF, n);
    return 0;
}

void ek_mgmt_tx(const uint8_t *buf, size_t len) {
    if (quiet) return;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') { printf("0a\n"); continue; }   /* one output frame per line */
        printf("%02x", buf[i]);
    }
}

void ek_mgmt_reset(void) { if (!quiet) printf("RESET\n"); }

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    for (; s[0] && s[1] && n < cap; s += 2) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static uint32_t rng_state;
static uint32_t rnd(void) { rng_state = rng_state * 1664525u + 1013904223u; return rng_state >> 8; }

int main(int argc, char **argv) {
    static char line[1 << 16];
    static uint8_t frame[1 << 15];
    memset(flash, 0xFF, sizeof flash);
    if (argc >= 4 && strcmp(argv[1], "fuzz") == 0) {
        long iters = atol(argv[2]);
        static uint8_t seeds[64][256];
        static size_t seed_len[64];
        int nseeds = 0;
        rng_state = (uint32_t)atol(argv[3]);
        quiet = 1;
        while (nseeds < 64 && fgets(line, sizeof line, stdin))   /* seed frames (hex) on stdin */
            seed_len[nseeds] = unhex(line, seeds[nseeds], 256), nseeds++;
        if (!nseeds) return 2;
        for (long i = 0; i < iters; i++) {
            int k = (int)(rnd() % (uint32_t)nseeds);
            size_t n = seed_len[k];
            memcpy(frame, seeds[k], n);
            int muts = 1 + (int)(rnd() % 4);
            for (int m = 0; m < muts; m++) {
                uint32_t r = rnd() % 5;
                if (r == 0 && n) frame[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
                else if (r == 1 && n) n = rnd() % n;
                else if (r == 2 && n < 250) frame[n++] = (uint8_t)rnd();
                else if (r == 3 && n > 2) frame[2 + rnd() % (n - 2)] = "AZaz09+/=\n"[rnd() % 10];
                else { int j = (int)(rnd() % (uint32_t)nseeds); size_t c = seed_len[j] < 250 - n ? seed_len[j] : 0;
                       memcpy(frame + n, seeds[j], c); n += c; }
            }
            ek_mgmt_rx_frame(frame, n);
        }
        printf("fuzz ok %ld\n", iters);
        return 0;
    }
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t n = unhex(line, frame, sizeof frame);
        ek_mgmt_rx_frame(frame, n);
        printf(".\n");
        fflush(stdout);
    }
    return 0;
}
