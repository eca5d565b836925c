// Ownership of GLib/GObject handles in the type: GRef<T> holds one reference of a
// refcounted object, CPtr<T> owns a single-owner C handle with its free function.
#pragma once

#include <glib-object.h>

#include <memory>
#include <utility>

namespace atrium {

template <typename T>
class GRef {
public:
  GRef() = default;
  GRef(std::nullptr_t) {}
  // Takes a new reference (transfer none).
  explicit GRef(T* p) : p_(p) {
    if (p_) g_object_ref(p_);
  }
  // Wraps a reference the caller already owns (transfer full).
  static GRef adopt(T* p) {
    GRef r;
    r.p_ = p;
    return r;
  }
  GRef(const GRef& o) : GRef(o.p_) {}
  GRef(GRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  GRef& operator=(GRef o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~GRef() {
    if (p_) g_object_unref(p_);
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  T* release() { return std::exchange(p_, nullptr); }
  void reset() { *this = GRef(); }

private:
  T* p_ = nullptr;
};

template <auto Fn>
struct FnDeleter {
  template <typename T>
  void operator()(T* p) const {
    if (p) Fn(p);
  }
};

template <typename T, auto Fn>
using CPtr = std::unique_ptr<T, FnDeleter<Fn>>;

using GErrorPtr = CPtr<GError, g_error_free>;
using GCharPtr = CPtr<gchar, g_free>;

}  // namespace atrium
