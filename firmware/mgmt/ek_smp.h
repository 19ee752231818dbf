/* Internals shared by the SMP framing (ek_smp.c) and the command groups (ek_mgmt_groups.c). */
#ifndef EK_SMP_H
#define EK_SMP_H
#include <stddef.h>
#include <stdint.h>
#include "ek_cbor.h"

#define EK_MGMT_BUF 16384   /* decoded reassembly buffer: length + SMP packet + CRC (mcumgr buf_size) */

enum { EK_OP_READ = 0, EK_OP_READ_RSP = 1, EK_OP_WRITE = 2, EK_OP_WRITE_RSP = 3 };
enum { EK_ERR_EOK = 0, EK_ERR_EUNKNOWN = 1, EK_ERR_ENOMEM = 2, EK_ERR_EINVAL = 3, EK_ERR_ENOENT = 5,
       EK_ERR_EBADSTATE = 6, EK_ERR_EMSGSIZE = 7, EK_ERR_ENOTSUP = 8, EK_ERR_ECORRUPT = 9, EK_ERR_EBUSY = 10 };

typedef struct {
    int op, group, cmd;
    int has_off, has_data, has_len, has_image, has_d, confirm, upgrade;
    uint64_t off, len, image;
    const uint8_t *data, *sha, *hash;
    size_t data_len, sha_len, hash_len;
    const char *d, *name, *type;
    size_t d_len, name_len, type_len;
} ek_req;

/* Handle one request: write the response map into *out and return 0, or return an MGMT_ERR
 * code with *rsn set (the framing then answers {"rc": code, "rsn": reason}). */
int ek_mgmt_dispatch(const ek_req *req, ek_cbor_enc *out, const char **rsn);
/* Called after the response went out (e.g. reset after answering). */
void ek_mgmt_after_response(const ek_req *req);

uint16_t ek_crc16_xmodem(const uint8_t *p, size_t n);
#endif
