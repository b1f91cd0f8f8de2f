// The replaceable global operator new/delete forms, defined over malloc/aligned_alloc with a
// counting hook: a program (or test binary) that wants to count its heap allocations includes
// this in exactly one .cpp file and expands FACEPIPE_DEFINE_COUNTING_OPERATOR_NEW(hook) once, with
// `hook` an expression run for every allocation (a thread-local or an atomic increment). Every form
// is defined so that new and delete always pair up (free() for all).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace facepipe::detail {

inline void* malloc_for_new(std::size_t size, std::size_t alignment) {
  if (size == 0) size = 1;
  // aligned_alloc wants a multiple of the alignment
  void* p = alignment <= alignof(std::max_align_t)
                ? std::malloc(size)
                : std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace facepipe::detail

#define FACEPIPE_DEFINE_COUNTING_OPERATOR_NEW(hook)                                                             \
  static void* facepipe_counted_new(std::size_t n, std::size_t a) {                                           \
    hook;                                                                                                     \
    return facepipe::detail::malloc_for_new(n, a);                                                            \
  }                                                                                                           \
  static void* facepipe_counted_new_nothrow(std::size_t n, std::size_t a) noexcept {                          \
    try {                                                                                                     \
      return facepipe_counted_new(n, a);                                                                      \
    } catch (...) {                                                                                           \
      return nullptr;                                                                                         \
    }                                                                                                         \
  }                                                                                                           \
  void* operator new(std::size_t n) { return facepipe_counted_new(n, 0); }                                    \
  void* operator new[](std::size_t n) { return facepipe_counted_new(n, 0); }                                  \
  void* operator new(std::size_t n, std::align_val_t a) { return facepipe_counted_new(n, std::size_t(a)); }   \
  void* operator new[](std::size_t n, std::align_val_t a) { return facepipe_counted_new(n, std::size_t(a)); } \
  void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return facepipe_counted_new_nothrow(n, 0); } \
  void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return facepipe_counted_new_nothrow(n, 0); } \
  void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {                     \
    return facepipe_counted_new_nothrow(n, std::size_t(a));                                                   \
  }                                                                                                           \
  void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {                   \
    return facepipe_counted_new_nothrow(n, std::size_t(a));                                                   \
  }                                                                                                           \
  void operator delete(void* p) noexcept { std::free(p); }                                                    \
  void operator delete[](void* p) noexcept { std::free(p); }                                                  \
  void operator delete(void* p, std::size_t) noexcept { std::free(p); }                                       \
  void operator delete[](void* p, std::size_t) noexcept { std::free(p); }                                     \
  void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }                                  \
  void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }                                \
  void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }                     \
  void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }                   \
  void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }                             \
  void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }                           \
  void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }           \
  void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
