/* libFuzzer harness: SMP over serial framing (firmware/mgmt/ek_smp.c) as the link delivers it.
 * Input: raw link bytes; each '\n'-terminated piece is one frame for ek_mgmt_rx_frame(), exactly
 * what the app's router hands over (06 09 / 04 14 start, base64, BE16 length, CRC16). Complete
 * packets reach the real command groups on a RAM flash (fuzz_flash.c). */
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_server_reset();
    size_t start = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] != '\n') continue;
        ek_mgmt_rx_frame(data + start, i + 1 - start);
        start = i + 1;
    }
    if (start < size) ek_mgmt_rx_frame(data + start, size - start);   /* '\n' may be stripped */
    return 0;
}
