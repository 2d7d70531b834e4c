// The C++ / PostgreSQL error boundary (the pattern of pg_duckdb's cpp_wrapper.hpp and
// PostgresFunctionGuard). Two rules, and this file is the only place that implements them:
//
//  1. Every call from C++ into PostgreSQL that can ereport goes through pg_call(): a PostgreSQL
//     ERROR is caught (PG_TRY), copied, flushed, and rethrown as awf::PgError, so the longjmp never
//     skips a C++ destructor. Code inside pg_call must hold no object with a destructor.
//  2. Every SQL-callable entry point runs its C++ body through invoke(): any C++ exception is
//     caught, its SQLSTATE and text are copied into plain buffers, and only after every C++ frame
//     is gone is it raised with ereport(ERROR).
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "core/errors.hpp"
#include "pg/postgres.hpp"

namespace awf::pg {

// A PostgreSQL ERROR, carried through C++ frames as an exception and re-raised unchanged.
class PgError : public std::exception {
 public:
  PgError(int sqlerrcode, std::string message, std::string detail, std::string hint)
      : sqlerrcode_(sqlerrcode),
        message_(std::move(message)),
        detail_(std::move(detail)),
        hint_(std::move(hint)) {}
  const char *what() const noexcept override { return message_.c_str(); }
  int sqlerrcode() const { return sqlerrcode_; }
  const std::string &detail() const { return detail_; }
  const std::string &hint() const { return hint_; }

 private:
  int sqlerrcode_;
  std::string message_, detail_, hint_;
};

namespace detail {
// Runs fn(arg) under PG_TRY; throws PgError if PostgreSQL raised an ERROR.
void run_guarded(void (*fn)(void *), void *arg);
}  // namespace detail

// Calls a PostgreSQL function that may ereport. The callable must not own C++ objects with
// destructors on its own frame (a longjmp may leave it); a C++ exception it throws is carried
// past PG_TRY and rethrown here, never unwound through it.
template <typename F>
auto pg_call(F &&fn) {
  using R = std::invoke_result_t<F &>;
  struct Frame {
    F *fn;
    std::conditional_t<std::is_void_v<R>, char, R> result{};
    std::exception_ptr cpp_error;
  } frame{&fn, {}, nullptr};
  detail::run_guarded(
      [](void *p) {
        auto *fr = static_cast<Frame *>(p);
        try {
          if constexpr (std::is_void_v<R>)
            (*fr->fn)();
          else
            fr->result = (*fr->fn)();
        } catch (...) {
          fr->cpp_error = std::current_exception();
        }
      },
      &frame);
  if (frame.cpp_error) std::rethrow_exception(frame.cpp_error);
  if constexpr (!std::is_void_v<R>) return frame.result;
}

// The error saved by invoke() while C++ frames are unwinding: plain buffers only.
struct SavedError {
  int sqlerrcode = 0;
  char message[2048] = {0};
  char detail[1024] = {0};
  char hint[512] = {0};
};

void save_error(SavedError &out, const std::exception_ptr &error) noexcept;
[[noreturn]] void raise_saved_error(const SavedError &error);

// Runs the C++ body of an SQL-callable function. Must be the whole body of the extern "C" shim.
template <typename Body>
Datum invoke(FunctionCallInfo fcinfo, Body body) {
  SavedError error;
  bool failed = false;
  Datum result = (Datum)0;
  try {
    result = body(fcinfo);
  } catch (...) {
    failed = true;
    save_error(error, std::current_exception());
  }
  if (failed) raise_saved_error(error);  // no C++ frame of ours is live below this point
  return result;
}

// The SQLSTATE PostgreSQL uses for one of our codes ("WA001" -> MAKE_SQLSTATE(...)).
int sqlstate_of(ErrorCode code);

}  // namespace awf::pg
