/* Atrium's own GStreamer elements.
 *
 * atriumd links them statically and registers them with
 * gst_atrium_register_static() at start-up, so that it never depends on the
 * system plugin path; the same sources also build the "atrium" plugin module
 * installed for gst-launch-1.0 and gst-inspect-1.0. */
#ifndef __GST_ATRIUM_H__
#define __GST_ATRIUM_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/* Registers the "atrium" plugin (once; later calls return TRUE). */
gboolean gst_atrium_register_static (void);

G_END_DECLS

#endif /* __GST_ATRIUM_H__ */
