/* A twin of HailoRT's C API (hailo-ai/hailort, branch hailo8, 4.x) for tests on machines without
 * a Hailo device. It exports the entry points edgekit's binding calls, with the same signatures
 * and status codes (declared here from the public header's documentation, not copied).
 *
 * Its "HEF" is not Hailo's format (magic 0x01484546 + protobuf, made only by Hailo's Dataflow
 * Compiler) but an edgekit container naming a host build of the generated C model:
 *     EKHEF1
 *     lib /abs/path/libek_model_<tag>.so
 *     input <name> <bytes> <scale> <zero_point>     (one line per input, in the model's order)
 *     output <name> <bytes> <scale> <zero_point>
 * Frames are raw int8 (format AUTO or UINT8) or float32 (FLOAT32: the twin quantizes and
 * dequantizes with the tensor's scale and zero point, as TFLM's QUANTIZE/DEQUANTIZE do)
 * so a model run through this library is computed by the generated C, bit-exact with TFLM.
 * Timings of this library say nothing about a Hailo-8L. Every call is recorded (twin_log.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* dladdr */
#endif
#include <dlfcn.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "twin_log.h"

typedef int hailo_status;
enum { HAILO_SUCCESS = 0, HAILO_INVALID_ARGUMENT = 2, HAILO_OUT_OF_HOST_MEMORY = 3, HAILO_TIMEOUT = 4,
       HAILO_INSUFFICIENT_BUFFER = 5, HAILO_INVALID_OPERATION = 6, HAILO_NOT_IMPLEMENTED = 7,
       HAILO_OPEN_FILE_FAILURE = 13, HAILO_INVALID_HEF = 26, HAILO_NOT_FOUND = 61 };
enum { FORMAT_AUTO = 0, FORMAT_UINT8 = 1, FORMAT_FLOAT32 = 3 };

#define NAME_SIZE 128
#define MAX_IO 16

typedef struct { int type, order, flags; } hailo_format_t;
typedef struct {
    hailo_format_t user_buffer_format;
    uint32_t timeout_ms, queue_size;
    int vstream_stats_flags, pipeline_elements_stats_flags;
} hailo_vstream_params_t;
typedef struct { char name[NAME_SIZE]; hailo_vstream_params_t params; } hailo_vstream_params_by_name_t;
typedef struct { uint32_t major, minor, revision; } hailo_version_t;

typedef int (*invoke_fn)(const int8_t *in, int8_t *out);

struct io { char name[NAME_SIZE]; size_t bytes, offset; float scale; int zero_point; };
struct model { void *dl; invoke_fn invoke; struct io in[MAX_IO], out[MAX_IO]; size_t n_in, n_out, in_bytes, out_bytes; };

struct _hailo_hef { struct model m; };
struct _hailo_configured_network_group {
    struct model m;
    int8_t *in_buf, *out_buf;
    bool written[MAX_IO], ran;
};
struct _hailo_vdevice { struct _hailo_configured_network_group *ng; };
struct _hailo_input_vstream { struct _hailo_configured_network_group *ng; size_t idx; int format; };
struct _hailo_output_vstream { struct _hailo_configured_network_group *ng; size_t idx; int format; };

typedef struct _hailo_vdevice *hailo_vdevice;
typedef struct _hailo_hef *hailo_hef;
typedef struct _hailo_configured_network_group *hailo_configured_network_group;
typedef struct _hailo_input_vstream *hailo_input_vstream;
typedef struct _hailo_output_vstream *hailo_output_vstream;

#define FAIL_POINT(fn) do { if (ektwin_should_fail(fn)) { ektwin_record("%s -> %d (injected)", fn, ektwin_fail_status); return ektwin_fail_status; } } while (0)

hailo_status hailo_get_library_version(hailo_version_t *v)
{
    ektwin_record("hailo_get_library_version");
    if (!v) return HAILO_INVALID_ARGUMENT;
    v->major = 4; v->minor = 23; v->revision = 0;
    return HAILO_SUCCESS;
}

hailo_status hailo_create_vdevice(void *params, hailo_vdevice *vdevice)
{
    ektwin_record("hailo_create_vdevice params=%s", params ? "set" : "NULL");
    FAIL_POINT("hailo_create_vdevice");
    if (!vdevice) return HAILO_INVALID_ARGUMENT;
    *vdevice = calloc(1, sizeof **vdevice);
    if (!*vdevice) return HAILO_OUT_OF_HOST_MEMORY;
    ektwin_live_handles++;
    return HAILO_SUCCESS;
}

static void free_ng(struct _hailo_configured_network_group *ng)
{
    if (!ng) return;
    if (ng->m.dl) dlclose(ng->m.dl);
    free(ng->in_buf);
    free(ng->out_buf);
    free(ng);
    ektwin_live_handles--;
}

hailo_status hailo_release_vdevice(hailo_vdevice vdevice)
{
    ektwin_record("hailo_release_vdevice");
    if (!vdevice) return HAILO_INVALID_ARGUMENT;
    free_ng(vdevice->ng);   /* configured network groups belong to their vdevice */
    free(vdevice);
    ektwin_live_handles--;
    return HAILO_SUCCESS;
}

static hailo_status parse_container(FILE *f, struct model *m, const char *path)
{
    char line[512], kind[16], name[NAME_SIZE], lib[400];
    unsigned long bytes;
    float scale;
    int zp;
    if (!fgets(line, sizeof line, f) || strcmp(line, "EKHEF1\n") != 0) return HAILO_INVALID_HEF;
    lib[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "lib %399s", lib) == 1) continue;
        if (sscanf(line, "%15s %127s %lu %f %d", kind, name, &bytes, &scale, &zp) != 5 || bytes == 0 || !(scale > 0))
            return HAILO_INVALID_HEF;
        struct io *io;
        if (strcmp(kind, "input") == 0 && m->n_in < MAX_IO) {
            io = &m->in[m->n_in++]; io->offset = m->in_bytes; m->in_bytes += bytes;
        } else if (strcmp(kind, "output") == 0 && m->n_out < MAX_IO) {
            io = &m->out[m->n_out++]; io->offset = m->out_bytes; m->out_bytes += bytes;
        } else {
            return HAILO_INVALID_HEF;
        }
        snprintf(io->name, sizeof io->name, "%s", name);
        io->bytes = bytes;
        io->scale = scale;
        io->zero_point = zp;
    }
    if (!lib[0] || !m->n_in || !m->n_out) return HAILO_INVALID_HEF;
    m->dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!m->dl) { ektwin_record("  %s: cannot load %s", path, lib); return HAILO_INVALID_HEF; }
    *(void **)&m->invoke = dlsym(m->dl, "ek_model_invoke");
    if (!m->invoke) { dlclose(m->dl); m->dl = NULL; return HAILO_INVALID_HEF; }
    return HAILO_SUCCESS;
}

hailo_status hailo_create_hef_file(hailo_hef *hef, const char *file_name)
{
    ektwin_record("hailo_create_hef_file %s", file_name ? file_name : "(null)");
    FAIL_POINT("hailo_create_hef_file");
    if (!hef || !file_name) return HAILO_INVALID_ARGUMENT;
    FILE *f = fopen(file_name, "r");
    if (!f) return HAILO_OPEN_FILE_FAILURE;
    struct _hailo_hef *h = calloc(1, sizeof *h);
    if (!h) { fclose(f); return HAILO_OUT_OF_HOST_MEMORY; }
    hailo_status st = parse_container(f, &h->m, file_name);
    fclose(f);
    if (st != HAILO_SUCCESS) { free(h); return st; }
    *hef = h;
    ektwin_live_handles++;
    return HAILO_SUCCESS;
}

hailo_status hailo_release_hef(hailo_hef hef)
{
    ektwin_record("hailo_release_hef");
    if (!hef) return HAILO_INVALID_ARGUMENT;
    dlclose(hef->m.dl);
    free(hef);
    ektwin_live_handles--;
    return HAILO_SUCCESS;
}

hailo_status hailo_configure_vdevice(hailo_vdevice vdevice, hailo_hef hef, void *params,
                                     hailo_configured_network_group *groups, size_t *count)
{
    ektwin_record("hailo_configure_vdevice params=%s capacity=%zu", params ? "set" : "NULL", count ? *count : 0);
    FAIL_POINT("hailo_configure_vdevice");
    if (!vdevice || !hef || !groups || !count) return HAILO_INVALID_ARGUMENT;
    if (*count < 1) return HAILO_INSUFFICIENT_BUFFER;
    if (vdevice->ng) return HAILO_INVALID_OPERATION;   /* the twin holds one network group */
    struct _hailo_configured_network_group *ng = calloc(1, sizeof *ng);
    if (!ng) return HAILO_OUT_OF_HOST_MEMORY;
    ng->m = hef->m;
    ng->m.dl = NULL;
    for (size_t i = 0; i < MAX_IO; i++) ng->written[i] = false;
    /* A reference of its own so the HEF may be released first, as with HailoRT. */
    Dl_info info;
    if (!dladdr(*(void **)&hef->m.invoke, &info) || !(ng->m.dl = dlopen(info.dli_fname, RTLD_NOW | RTLD_LOCAL))) {
        free(ng);
        return HAILO_INVALID_HEF;
    }
    ng->in_buf = calloc(ng->m.in_bytes, 1);
    ng->out_buf = calloc(ng->m.out_bytes, 1);
    ektwin_live_handles++;
    if (!ng->in_buf || !ng->out_buf) { free_ng(ng); return HAILO_OUT_OF_HOST_MEMORY; }
    vdevice->ng = ng;
    groups[0] = ng;
    *count = 1;
    return HAILO_SUCCESS;
}

static hailo_status make_params(const struct io *ios, size_t n, int format_type,
                                hailo_vstream_params_by_name_t *params, size_t *count)
{
    if (!params || !count) return HAILO_INVALID_ARGUMENT;
    if (*count < n) { *count = n; return HAILO_INSUFFICIENT_BUFFER; }
    if (format_type != FORMAT_AUTO && format_type != FORMAT_UINT8 && format_type != FORMAT_FLOAT32)
        return HAILO_NOT_IMPLEMENTED;
    for (size_t i = 0; i < n; i++) {
        memset(&params[i], 0, sizeof params[i]);
        snprintf(params[i].name, NAME_SIZE, "%s", ios[i].name);
        params[i].params.user_buffer_format.type = format_type;
        params[i].params.timeout_ms = 10000;
        params[i].params.queue_size = 2;
    }
    *count = n;
    return HAILO_SUCCESS;
}

hailo_status hailo_make_input_vstream_params(hailo_configured_network_group ng, bool unused, int format_type,
                                             hailo_vstream_params_by_name_t *params, size_t *count)
{
    (void)unused;
    ektwin_record("hailo_make_input_vstream_params format=%d capacity=%zu", format_type, count ? *count : 0);
    FAIL_POINT("hailo_make_input_vstream_params");
    if (!ng) return HAILO_INVALID_ARGUMENT;
    return make_params(ng->m.in, ng->m.n_in, format_type, params, count);
}

hailo_status hailo_make_output_vstream_params(hailo_configured_network_group ng, bool unused, int format_type,
                                              hailo_vstream_params_by_name_t *params, size_t *count)
{
    (void)unused;
    ektwin_record("hailo_make_output_vstream_params format=%d capacity=%zu", format_type, count ? *count : 0);
    FAIL_POINT("hailo_make_output_vstream_params");
    if (!ng) return HAILO_INVALID_ARGUMENT;
    return make_params(ng->m.out, ng->m.n_out, format_type, params, count);
}

static long find_io(const struct io *ios, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(ios[i].name, name, NAME_SIZE) == 0) return (long)i;
    return -1;
}

hailo_status hailo_create_input_vstreams(hailo_configured_network_group ng, const hailo_vstream_params_by_name_t *params,
                                         size_t n, hailo_input_vstream *out)
{
    ektwin_record("hailo_create_input_vstreams count=%zu", n);
    FAIL_POINT("hailo_create_input_vstreams");
    if (!ng || !params || !out || n != ng->m.n_in) return HAILO_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        long idx = find_io(ng->m.in, ng->m.n_in, params[i].name);
        out[i] = idx < 0 ? NULL : calloc(1, sizeof *out[i]);
        if (!out[i]) {
            while (i--) { free(out[i]); ektwin_live_handles--; }
            return idx < 0 ? HAILO_NOT_FOUND : HAILO_OUT_OF_HOST_MEMORY;
        }
        out[i]->ng = ng; out[i]->idx = (size_t)idx;
        out[i]->format = params[i].params.user_buffer_format.type;
        ektwin_live_handles++;
    }
    return HAILO_SUCCESS;
}

hailo_status hailo_create_output_vstreams(hailo_configured_network_group ng, const hailo_vstream_params_by_name_t *params,
                                          size_t n, hailo_output_vstream *out)
{
    ektwin_record("hailo_create_output_vstreams count=%zu", n);
    FAIL_POINT("hailo_create_output_vstreams");
    if (!ng || !params || !out || n != ng->m.n_out) return HAILO_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        long idx = find_io(ng->m.out, ng->m.n_out, params[i].name);
        out[i] = idx < 0 ? NULL : calloc(1, sizeof *out[i]);
        if (!out[i]) {
            while (i--) { free(out[i]); ektwin_live_handles--; }
            return idx < 0 ? HAILO_NOT_FOUND : HAILO_OUT_OF_HOST_MEMORY;
        }
        out[i]->ng = ng; out[i]->idx = (size_t)idx;
        out[i]->format = params[i].params.user_buffer_format.type;
        ektwin_live_handles++;
    }
    return HAILO_SUCCESS;
}

hailo_status hailo_get_input_vstream_frame_size(hailo_input_vstream vs, size_t *size)
{
    ektwin_record("hailo_get_input_vstream_frame_size");
    if (!vs || !size) return HAILO_INVALID_ARGUMENT;
    *size = vs->ng->m.in[vs->idx].bytes * (vs->format == FORMAT_FLOAT32 ? sizeof(float) : 1);
    return HAILO_SUCCESS;
}

hailo_status hailo_get_output_vstream_frame_size(hailo_output_vstream vs, size_t *size)
{
    ektwin_record("hailo_get_output_vstream_frame_size");
    if (!vs || !size) return HAILO_INVALID_ARGUMENT;
    *size = vs->ng->m.out[vs->idx].bytes * (vs->format == FORMAT_FLOAT32 ? sizeof(float) : 1);
    return HAILO_SUCCESS;
}

hailo_status hailo_vstream_write_raw_buffer(hailo_input_vstream vs, const void *buf, size_t size)
{
    ektwin_record("hailo_vstream_write_raw_buffer size=%zu", size);
    FAIL_POINT("hailo_vstream_write_raw_buffer");
    if (!vs || !buf) return HAILO_INVALID_ARGUMENT;
    struct _hailo_configured_network_group *ng = vs->ng;
    const struct io *io = &ng->m.in[vs->idx];
    if (vs->format == FORMAT_FLOAT32) {
        if (size != io->bytes * sizeof(float)) return HAILO_INVALID_ARGUMENT;
        for (size_t i = 0; i < io->bytes; i++) {   /* TFLM QUANTIZE: round half away from zero */
            float x;
            memcpy(&x, (const char *)buf + i * sizeof x, sizeof x);
            float v = x / io->scale;
            long q = (long)(v >= 0 ? floorf(v + 0.5f) : ceilf(v - 0.5f)) + io->zero_point;
            ng->in_buf[io->offset + i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
    } else {
        if (size != io->bytes) return HAILO_INVALID_ARGUMENT;
        memcpy(ng->in_buf + io->offset, buf, size);
    }
    ng->written[vs->idx] = true;
    ng->ran = false;
    return HAILO_SUCCESS;
}

hailo_status hailo_vstream_read_raw_buffer(hailo_output_vstream vs, void *buf, size_t size)
{
    ektwin_record("hailo_vstream_read_raw_buffer size=%zu", size);
    FAIL_POINT("hailo_vstream_read_raw_buffer");
    if (!vs || !buf) return HAILO_INVALID_ARGUMENT;
    struct _hailo_configured_network_group *ng = vs->ng;
    const struct io *io = &ng->m.out[vs->idx];
    if (size != io->bytes * (vs->format == FORMAT_FLOAT32 ? sizeof(float) : 1)) return HAILO_INVALID_ARGUMENT;
    if (!ng->ran) {   /* run once every input has a frame; otherwise HailoRT would time out */
        for (size_t i = 0; i < ng->m.n_in; i++)
            if (!ng->written[i]) return HAILO_TIMEOUT;
        if (ng->m.invoke(ng->in_buf, ng->out_buf) != 0) return HAILO_INVALID_OPERATION;
        for (size_t i = 0; i < ng->m.n_in; i++) ng->written[i] = false;
        ng->ran = true;
    }
    if (vs->format == FORMAT_FLOAT32) {
        for (size_t i = 0; i < io->bytes; i++) {   /* TFLM DEQUANTIZE */
            float y = (float)((double)io->scale * (ng->out_buf[io->offset + i] - io->zero_point));
            memcpy((char *)buf + i * sizeof y, &y, sizeof y);
        }
    } else {
        memcpy(buf, ng->out_buf + io->offset, size);
    }
    return HAILO_SUCCESS;
}

hailo_status hailo_release_input_vstreams(const hailo_input_vstream *vs, size_t n)
{
    ektwin_record("hailo_release_input_vstreams count=%zu", n);
    if (!vs) return HAILO_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) { free(vs[i]); ektwin_live_handles--; }
    return HAILO_SUCCESS;
}

hailo_status hailo_release_output_vstreams(const hailo_output_vstream *vs, size_t n)
{
    ektwin_record("hailo_release_output_vstreams count=%zu", n);
    if (!vs) return HAILO_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) { free(vs[i]); ektwin_live_handles--; }
    return HAILO_SUCCESS;
}
