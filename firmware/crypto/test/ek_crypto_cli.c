/* Host test driver for the bootloader crypto: reads commands on stdin, one per line, answers one
 * line each (used by tests/test_bootloader_crypto.py with RFC 8032 and cross-checked vectors):
 *   sha256 HEX          -> digest hex
 *   sha512 HEX          -> digest hex
 *   verify SIG PUB MSG  -> ok | bad      (hex; MSG may be "-" for empty) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ek_ed25519.h"
#include "ek_sha256.h"

static size_t unhex(const char *s, uint8_t *out) {
    size_t n = 0;
    if (strcmp(s, "-") == 0) return 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void puthex(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) printf("%02x", p[i]);
    printf("\n");
}

int main(void) {
    static char line[1 << 20];
    static uint8_t a[1 << 19], b[64], c[64];
    char cmd[16], *s1, *s2, *s3;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (sscanf(line, "%15s", cmd) != 1) continue;
        s1 = strtok(line + strlen(cmd), " ");
        if (!strcmp(cmd, "sha256")) {
            uint8_t d[32];
            ek_sha256(a, s1 ? unhex(s1, a) : 0, d);
            puthex(d, 32);
        } else if (!strcmp(cmd, "sha512")) {
            uint8_t d[64];
            ek_sha512_ctx ctx;
            size_t n = s1 ? unhex(s1, a) : 0;
            ek_sha512_init(&ctx);
            ek_sha512_update(&ctx, a, n);
            ek_sha512_final(&ctx, d);
            puthex(d, 64);
        } else if (!strcmp(cmd, "verify")) {
            s2 = strtok(NULL, " ");
            s3 = strtok(NULL, " ");
            if (!s1 || !s2 || !s3 || unhex(s1, b) != 64 || unhex(s2, c) != 32) { printf("bad\n"); continue; }
            size_t n = unhex(s3, a);
            printf(ek_ed25519_verify(b, c, a, n) == 0 ? "ok\n" : "bad\n");
        } else {
            printf("?\n");
        }
        fflush(stdout);
    }
    return 0;
}
