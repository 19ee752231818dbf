/* libFuzzer harness: SMP request handling (firmware/mgmt/ek_mgmt_groups.c on ek_smp.c's request
 * decoder) past the framing, so the fuzzer need not forge CRCs and base64. Input: SMP packets
 * back to back, each 8-byte header (op, flags, BE16 body length, BE16 group, seq, cmd) + body,
 * as the framing layer delivers them; a short or inconsistent tail is passed as is. State per
 * input: a provisioned board running a confirmed image from slot 0 (fuzz_flash.h), so uploads,
 * test, confirm and erase all run against real flash contents. */
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_server_reset();
    while (size) {
        size_t n = size < 8 ? size : 8 + (size_t)(data[2] << 8 | data[3]);
        if (n > size) n = size;
        handle_packet(data, n);
        data += n;
        size -= n;
    }
    return 0;
}
