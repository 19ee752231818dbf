/* The SMP server under test, compiled into the harness's translation unit so that a harness can
 * reach its static state (reassembly buffer, upload session, caches) and start every input from
 * the same state, as a freshly booted board would. Sources are used unchanged. Include once. */
#ifndef EK_FUZZ_SERVER_H
#define EK_FUZZ_SERVER_H
#include <stdio.h>
#include <stdlib.h>
#include "fuzz_flash.h"
#include "ek_smp.c"
#include "ek_mgmt_groups.c"

static unsigned long fuzz_tx_frames, fuzz_resets;

/* Every frame the server sends must be a well-formed SMP serial frame: 06 09 or 04 14, base64,
 * '\n', at most 127 bytes (the line length the host's reader and mcumgr accept). */
void ek_mgmt_tx(const uint8_t *buf, size_t len) {
    int ok = len >= 4 && len <= 127 && buf[len - 1] == '\n' && (len - 3) % 4 == 0 &&
             ((buf[0] == 0x06 && buf[1] == 0x09) || (buf[0] == 0x04 && buf[1] == 0x14));
    for (size_t i = 2; ok && i + 1 < len; i++) ok = b64val(buf[i]) >= 0 || buf[i] == '=';
    if (!ok) { fprintf(stderr, "fuzz: malformed response frame (%zu bytes)\n", len); abort(); }
    fuzz_tx_frames++;
}

void ek_mgmt_reset(void) { fuzz_resets++; }

static inline void fuzz_server_reset(void) {
    static int inited;
    if (!inited) { fuzz_flash_init(); inited = 1; }
    fuzz_flash_restore();
    rx_len = 0; rx_active = 0;
    memset(&up, 0, sizeof up);
    memset(&selftest, 0, sizeof selftest);
    verified[0] = verified[1] = -1;
    ek_mgmt_host_running_slot = 0;
}
#endif
