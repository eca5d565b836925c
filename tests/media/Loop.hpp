// Helpers that drive the default GMainContext from a test thread: wait for a condition,
// post work from GStreamer threads back to it, and wait for a webrtcbin promise.
#pragma once

#include "core/Log.hpp"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace atrium::test {
// Internal linkage on purpose: tests/rpc/Harness.cpp defines an external RunUntil with the
// same signature, and conference test binaries link both libraries. (A file that includes
// both headers gets an ambiguous call: use one of them.)
namespace {

// Iterates the default main context until done() is true (returns true) or timeoutMs
// passes (returns false).
inline bool RunUntil(const std::function<bool()>& done, int timeoutMs) {
  gint64 deadline = g_get_monotonic_time() + gint64(timeoutMs) * 1000;
  while (!done()) {
    if (g_get_monotonic_time() > deadline) return false;
    // Wake up at least every 10 ms so that the deadline is honoured.
    guint t = g_timeout_add(
        10, [](gpointer) { return G_SOURCE_REMOVE; }, nullptr);
    g_main_context_iteration(nullptr, TRUE);
    if (GSource* s = g_main_context_find_source_by_id(nullptr, t)) g_source_destroy(s);
  }
  return true;
}

// Runs fn on the default main context at its next iteration, from any thread. Always
// deferred (never called inline), so a caller on the main thread is not re-entered.
inline void PostToMain(std::function<void()> fn) {
  GSource* src = g_idle_source_new();
  g_source_set_priority(src, G_PRIORITY_DEFAULT);
  g_source_set_callback(
      src,
      [](gpointer data) {
        try {
          (*static_cast<std::function<void()>*>(data))();
        } catch (const std::exception& e) {
          GST_CAT_ERROR(atrium_media_debug, "exception in posted callback [what:%s]", e.what());
        }
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(fn)),
      [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
  g_source_attach(src, g_main_context_default());
  g_source_unref(src);
}

// A GstPromise whose reply is awaited by iterating the main context, so the test thread
// keeps dispatching posted callbacks while webrtcbin's :pc thread works.
class PromiseWaiter {
public:
  PromiseWaiter() : replied_(std::make_shared<std::atomic<bool>>(false)) {
    promise_ = gst_promise_new_with_change_func(
        [](GstPromise*, gpointer data) {
          static_cast<std::shared_ptr<std::atomic<bool>>*>(data)->get()->store(true);
          g_main_context_wakeup(nullptr);
        },
        new std::shared_ptr<std::atomic<bool>>(replied_),
        [](gpointer data) { delete static_cast<std::shared_ptr<std::atomic<bool>>*>(data); });
  }
  ~PromiseWaiter() { gst_promise_unref(promise_); }
  PromiseWaiter(const PromiseWaiter&) = delete;
  PromiseWaiter& operator=(const PromiseWaiter&) = delete;

  // Transfer none: pass to g_signal_emit_by_name, which takes its own reference.
  GstPromise* get() const { return promise_; }

  // Waits for the reply; throws on timeout, interruption or an "error" field. The
  // returned structure belongs to the promise (may be null for set-*-description).
  const GstStructure* Wait(const std::string& what, int timeoutMs = 10000) {
    if (!RunUntil([&] { return replied_->load(); }, timeoutMs)) {
      gst_promise_interrupt(promise_);
      throw std::runtime_error(what + ": no reply within " + std::to_string(timeoutMs) + " ms");
    }
    if (gst_promise_wait(promise_) != GST_PROMISE_RESULT_REPLIED)
      throw std::runtime_error(what + ": promise not replied");
    const GstStructure* reply = gst_promise_get_reply(promise_);
    if (reply && gst_structure_has_field(reply, "error")) {
      GError* err = nullptr;
      gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
      std::string msg = what + ": " + (err ? err->message : "unknown error");
      if (err) g_error_free(err);
      throw std::runtime_error(msg);
    }
    return reply;
  }

private:
  std::shared_ptr<std::atomic<bool>> replied_;
  GstPromise* promise_ = nullptr;
};

}  // namespace
}  // namespace atrium::test
