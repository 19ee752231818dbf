/* libFuzzer harness: the capture window parser (firmware/app/ek_capture.c ek_capture_parse), which
 * reads slots back from storage a power cut may have torn. Input: one slot's bytes. Invariants
 * beyond the sanitizers: an accepted slot's frames lie inside it and its trigger is one of them.
 * The HAL below is a stand-in (the parser touches none of it). */
#include <stdlib.h>
#include <string.h>
#include "ek_capture.c"

uint64_t hal_clock_us(void) { return 0; }
int hal_storage_read(uint32_t off, void *buf, size_t len) { (void)off; memset(buf, 0, len); return (int)len; }
int hal_storage_write(uint32_t off, const void *buf, size_t len) { (void)off; (void)buf; return (int)len; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ek_capture_hdr h;
    if (ek_capture_parse(data, size, &h) == 0) {
        uint64_t need = EK_CAPTURE_HDR + (uint64_t)h.frames * (EK_CAPTURE_REC + (uint64_t)h.frame_bytes) + EK_CAPTURE_COMMIT;
        if (need > size || h.trigger >= h.frames || h.frames == 0) abort();
    }
    return 0;
}
