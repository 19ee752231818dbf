/* A twin of libedgetpu.so.1's C API (google-coral/libedgetpu, tflite/public/edgetpu_c.h) for
 * tests on machines without an Edge TPU: device listing, options, verbosity, version and the
 * delegate's lifetime, through the same symbols and signatures (declared here from the header's
 * documentation, not copied), including the plugin entry points LiteRT's load_delegate() calls.
 *
 * Devices come from EKTWIN_EDGETPU_DEVICES, e.g. "usb:/sys/bus/usb/devices/2-1,pci:/dev/apex_0";
 * unset or empty means none (then the list is NULL with 0 entries, like the real library).
 * The delegate it returns has no kernels: it cannot execute a compiled Edge TPU segment, and
 * nothing from this library is an Edge TPU measurement. Every call is recorded (twin_log.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "twin_log.h"

enum edgetpu_device_type { EDGETPU_APEX_PCI = 0, EDGETPU_APEX_USB = 1 };
struct edgetpu_device { enum edgetpu_device_type type; const char *path; };
struct edgetpu_option { const char *name; const char *value; };

/* The TfLiteDelegate layout (tensorflow/lite/core/c/common.h): data pointer, four callbacks,
 * int64 flags, opaque builder. The twin leaves the callbacks NULL. */
typedef struct {
    void *data_;
    void *prepare, *copy_from_buffer_handle, *copy_to_buffer_handle, *free_buffer_handle;
    int64_t flags;
    void *opaque_delegate_builder;
} twin_delegate;

#define MAX_DEVICES 8
static struct edgetpu_device devices[MAX_DEVICES];
static char device_paths[MAX_DEVICES][128];
static int verbosity;

static size_t scan_devices(void)
{
    const char *env = getenv("EKTWIN_EDGETPU_DEVICES");
    size_t n = 0;
    char buf[1024];
    if (!env || !*env) return 0;
    snprintf(buf, sizeof buf, "%s", env);
    for (char *tok = strtok(buf, ","); tok && n < MAX_DEVICES; tok = strtok(NULL, ",")) {
        char *colon = strchr(tok, ':');
        if (!colon) continue;
        *colon = '\0';
        if (strcmp(tok, "usb") != 0 && strcmp(tok, "pci") != 0) continue;
        devices[n].type = strcmp(tok, "usb") == 0 ? EDGETPU_APEX_USB : EDGETPU_APEX_PCI;
        snprintf(device_paths[n], sizeof device_paths[n], "%s", colon + 1);
        devices[n].path = device_paths[n];
        n++;
    }
    return n;
}

struct edgetpu_device *edgetpu_list_devices(size_t *num_devices)
{
    size_t n = scan_devices();
    ektwin_record("edgetpu_list_devices -> %zu", n);
    if (num_devices) *num_devices = 0;
    if (!num_devices || n == 0 || ektwin_should_fail("edgetpu_list_devices")) return NULL;
    struct edgetpu_device *out = calloc(n, sizeof *out);
    if (!out) return NULL;
    memcpy(out, devices, n * sizeof *out);
    *num_devices = n;
    ektwin_live_handles++;
    return out;
}

void edgetpu_free_devices(struct edgetpu_device *dev)
{
    ektwin_record("edgetpu_free_devices %s", dev ? "list" : "NULL");
    if (!dev) return;
    free(dev);
    ektwin_live_handles--;
}

void edgetpu_verbosity(int level)
{
    ektwin_record("edgetpu_verbosity %d", level);
    verbosity = level;
}

const char *edgetpu_version(void)
{
    ektwin_record("edgetpu_version");
    return "edgekit libedgetpu twin (not a runtime); API of libedgetpu 16.0";
}

/* As libedgetpu's option parsing (tflite/edgetpu_context_direct.cc): names it does not know are
 * ignored; a known option with a bad value makes the delegate creation fail. */
static int valid_option(const char *name, const char *value)
{
    if (strcmp(name, "Performance") == 0)
        return strcmp(value, "Low") == 0 || strcmp(value, "Medium") == 0 || strcmp(value, "High") == 0 ||
               strcmp(value, "Max") == 0;
    if (strcmp(name, "Usb.AlwaysDfu") == 0)
        return strcmp(value, "True") == 0 || strcmp(value, "False") == 0;
    if (strcmp(name, "Usb.MaxBulkInQueueLength") == 0) {
        char *end;
        long n = strtol(value, &end, 10);
        return *value && !*end && n >= 0 && n <= 255;
    }
    return 1;
}

void *edgetpu_create_delegate(enum edgetpu_device_type type, const char *name,
                              const struct edgetpu_option *options, size_t num_options)
{
    size_t n = scan_devices();
    ektwin_record("edgetpu_create_delegate type=%d name=%s options=%zu", (int)type, name ? name : "(null)", num_options);
    for (size_t i = 0; i < num_options; i++) {
        if (!options || !options[i].name || !options[i].value) return NULL;
        ektwin_record("  option %s=%s", options[i].name, options[i].value);
        if (!valid_option(options[i].name, options[i].value)) return NULL;
    }
    if (ektwin_should_fail("edgetpu_create_delegate")) return NULL;
    for (size_t i = 0; i < n; i++) {
        if (devices[i].type != type) continue;
        if (name && *name && strcmp(name, devices[i].path) != 0) continue;
        twin_delegate *d = calloc(1, sizeof *d);
        if (!d) return NULL;
        ektwin_live_handles++;
        return d;
    }
    return NULL;   /* no such device */
}

void edgetpu_free_delegate(void *delegate)
{
    ektwin_record("edgetpu_free_delegate %s", delegate ? "delegate" : "NULL");
    if (!delegate) return;
    free(delegate);
    ektwin_live_handles--;
}

/* LiteRT's external-delegate plugin ABI. `device` selects "", ":N", "usb", "usb:N", "pci", "pci:N". */
void *tflite_plugin_create_delegate(const char *const *keys, const char *const *values, size_t n,
                                    void (*report_error)(const char *))
{
    const char *device = "";
    struct edgetpu_option opts[8];
    size_t n_opts = 0;
    (void)report_error;   /* libedgetpu 16 does not call it either: failure is a NULL delegate */
    ektwin_record("tflite_plugin_create_delegate options=%zu", n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keys[i], "device") == 0) device = values[i];
        else if (n_opts < 8) { opts[n_opts].name = keys[i]; opts[n_opts].value = values[i]; n_opts++; }
    }
    size_t count = scan_devices();
    long want = -1;
    int want_type = -1;
    const char *idx = device;
    if (strncmp(device, "usb", 3) == 0) { want_type = EDGETPU_APEX_USB; idx = device + 3; }
    else if (strncmp(device, "pci", 3) == 0) { want_type = EDGETPU_APEX_PCI; idx = device + 3; }
    if (*idx == ':') {
        char *end;
        want = strtol(idx + 1, &end, 10);
        if (end == idx + 1 || *end || want < 0) idx = "bad";
        else idx = "";
    }
    if (*idx) {
        ektwin_record("  bad device option %s", device);
        return NULL;
    }
    long seen = 0;
    for (size_t i = 0; i < count; i++) {
        if (want_type >= 0 && (int)devices[i].type != want_type) continue;
        if (want < 0 || seen++ == want)
            return edgetpu_create_delegate(devices[i].type, devices[i].path, opts, n_opts);
    }
    ektwin_record("  no device matches %s", device);
    return NULL;
}

void tflite_plugin_destroy_delegate(void *delegate)
{
    ektwin_record("tflite_plugin_destroy_delegate");
    edgetpu_free_delegate(delegate);
}
