/* The "atrium" plugin: registers Atrium's elements, nothing else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstatrium.h"
#include "gstatriumaudiomixminus.h"
#include "gstatriumrtpswitch.h"
#include "gstatriumfacedetect.h"
#include "gstatriummotiondetect.h"

#define ATRIUM_PLUGIN_VERSION "0.1.0"
#define ATRIUM_PLUGIN_LICENSE "LGPL"
#define ATRIUM_PLUGIN_PACKAGE "Atrium"
#define ATRIUM_PLUGIN_ORIGIN "https://github.com/atrium-media/atrium"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = TRUE;

  ok &= GST_ELEMENT_REGISTER (atriumaudiomixminus, plugin);
  ok &= GST_ELEMENT_REGISTER (atriumrtpswitch, plugin);
  /* The OpenCV elements load their data files when they start, not here:
   * the plugin loads without opencv-data. */
  ok &= GST_ELEMENT_REGISTER (atriumfacedetect, plugin);
  ok &= GST_ELEMENT_REGISTER (atriummotiondetect, plugin);
  return ok;
}

#ifdef GST_ATRIUM_STATIC
gboolean
gst_atrium_register_static (void)
{
  static gsize done = 0;
  static gboolean ok = FALSE;

  if (g_once_init_enter (&done)) {
    ok = gst_plugin_register_static (GST_VERSION_MAJOR, GST_VERSION_MINOR,
        "atrium", "Atrium media server elements", plugin_init,
        ATRIUM_PLUGIN_VERSION, ATRIUM_PLUGIN_LICENSE, "atrium",
        ATRIUM_PLUGIN_PACKAGE, ATRIUM_PLUGIN_ORIGIN);
    g_once_init_leave (&done, 1);
  }
  return ok;
}
#else
#define PACKAGE "atrium"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, atrium,
    "Atrium media server elements", plugin_init, ATRIUM_PLUGIN_VERSION,
    ATRIUM_PLUGIN_LICENSE, ATRIUM_PLUGIN_PACKAGE, ATRIUM_PLUGIN_ORIGIN)
#endif
