/* edgekit device management: an SMP (MCUmgr) server over the link UART.
 *
 * The app's UART router hands every SMP frame to ek_mgmt_rx_frame(): a frame starts with
 * 06 09 (first frame of a packet) or 04 14 (continuation) and ends with '\n' (the '\n' may be
 * included or stripped). Replies go out through ek_mgmt_tx(), which the app/BSP implements.
 *
 * Build: compile the .c files of firmware/mgmt and firmware/crypto plus build/monocypher/monocypher.c
 * (edgekit.flash.build.mgmt_sources() lists them and fetches Monocypher), add -Ifirmware/mgmt
 * -Ifirmware/crypto. The server checks the Ed25519 signature itself before an image may be
 * tested; the bootloader checks it again before it boots anything. The board name and public key live in the bootloader (ek_slots.h). The app must
 * be linked to run from its slot: FLASH origin = slot base + EK_IMAGE_HEADER_SIZE (see ek_slots.h):
 * 0x00010200 (slot 0) or 0x00200200 (slot 1). The bootloader sets VTOR and the stack before jumping.
 *
 * Groups: OS (0) echo/reset/mcumgr_params, image (1) state read/set, upload, erase,
 * file (8) download and sha256 of the app's files (ek_mgmt_file_*), edgekit (100) self-test status. Flash writes go through ek_flash (write-through to the twin's
 * flash file with semihosting), so a killed twin behaves like a power cut.
 */
#ifndef EK_MGMT_H
#define EK_MGMT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One received SMP serial frame (called from the app's UART router, not from an ISR). */
void ek_mgmt_rx_frame(const uint8_t *buf, size_t len);

/* Implemented by the app/BSP: blocking write of bytes to the link UART. */
void ek_mgmt_tx(const uint8_t *buf, size_t len);

/* The app reports its self-test (model loaded, one inference matched the expected output baked
 * into the image): ok = 1 passed, 0 failed; detail is free (e.g. max abs error). The host reads it
 * over SMP (group 100, command 0) and confirms the image only when it passed. */
void ek_mgmt_selftest_done(int ok, int32_t detail);

/* Mark the running image as good (image_ok in its slot trailer). 0 on success. The host normally
 * does this over SMP after the self-test; an app may call it itself. */
int ek_mgmt_confirm_running(void);

/* Files the app serves through SMP's file group (8: download, sha256): the file's size or -1 if
 * there is no such file; bytes read or -1. Weak defaults (ek_mgmt_groups.c) serve none. */
int32_t ek_mgmt_file_size(const char *name);
int ek_mgmt_file_read(const char *name, uint32_t off, void *buf, size_t len);

/* Warm reset into the bootloader (what the SMP reset command does). Does not return. */
void ek_mgmt_reset(void);

#ifdef __cplusplus
}
#endif
#endif
