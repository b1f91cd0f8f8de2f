// Error reporting for facepipe.
//
// Two mechanisms, by design (see docs/engine.md):
//  * Start-up code (importers, planners, config) throws facepipe::Error with a message that names the
//    file, op or tensor at fault; the application boundary catches it and exits non-zero.
//  * Hot paths (per-frame work) return Status. A successful Status carries no allocation; an error
//    Status points at a static message so that reporting an error allocates nothing either.
#pragma once

#include <stdexcept>
#include <string>

namespace facepipe {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,
  kUnsupported,
  kOutOfRange,
  kInternal,
  kUnavailable,
  kDeviceError,
};

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  static constexpr Status ok() { return Status(); }
  // `message` must outlive the Status (use string literals).
  static constexpr Status error(StatusCode code, const char* message) { return Status(code, message); }

  constexpr bool is_ok() const { return code_ == StatusCode::kOk; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr StatusCode code() const { return code_; }
  constexpr const char* message() const { return message_ ? message_ : ""; }

 private:
  constexpr Status(StatusCode code, const char* message) : code_(code), message_(message) {}
  StatusCode code_ = StatusCode::kOk;
  const char* message_ = nullptr;
};

#define FACEPIPE_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::facepipe::Status facepipe_status_ = (expr);  \
    if (!facepipe_status_.is_ok()) return facepipe_status_; \
  } while (0)

}  // namespace facepipe
