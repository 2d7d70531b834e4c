#include "pg/guard.hpp"

#include <cstring>

namespace awf::pg {

namespace detail {

void run_guarded(void (*fn)(void *), void *arg) {
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData *volatile edata = nullptr;
  PG_TRY();
  {
    fn(arg);
  }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    edata = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  if (edata == nullptr) return;
  // Copy into C++ strings, free the palloc'd copy, then throw: PgError owns its text.
  int code = edata->sqlerrcode;
  std::string message = edata->message ? edata->message : "";
  std::string detail = edata->detail ? edata->detail : "";
  std::string hint = edata->hint ? edata->hint : "";
  FreeErrorData(edata);
  throw PgError(code, std::move(message), std::move(detail), std::move(hint));
}

}  // namespace detail

namespace {
void copy_text(char *dest, size_t size, const char *src) noexcept {
  std::strncpy(dest, src, size - 1);
  dest[size - 1] = '\0';
}
}  // namespace

int sqlstate_of(ErrorCode code) {
  const char *s = error_info(code).sqlstate;
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

void save_error(SavedError &out, const std::exception_ptr &error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const awf::Error &e) {
    out.sqlerrcode = sqlstate_of(e.code());
    copy_text(out.message, sizeof out.message, e.what());
    copy_text(out.detail, sizeof out.detail, e.detail().c_str());
    copy_text(out.hint, sizeof out.hint, e.hint().c_str());
  } catch (const PgError &e) {
    out.sqlerrcode = e.sqlerrcode();
    copy_text(out.message, sizeof out.message, e.what());
    copy_text(out.detail, sizeof out.detail, e.detail().c_str());
    copy_text(out.hint, sizeof out.hint, e.hint().c_str());
  } catch (const std::bad_alloc &) {
    out.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
    copy_text(out.message, sizeof out.message, "pg_awf: out of memory");
  } catch (const std::exception &e) {
    out.sqlerrcode = sqlstate_of(ErrorCode::Internal);
    copy_text(out.message, sizeof out.message, "pg_awf internal error: ");
    std::strncat(out.message, e.what(), sizeof out.message - std::strlen(out.message) - 1);
  } catch (...) {
    out.sqlerrcode = sqlstate_of(ErrorCode::Internal);
    copy_text(out.message, sizeof out.message, "pg_awf internal error: unknown exception");
  }
}

void raise_saved_error(const SavedError &error) {
  ereport(ERROR, (errcode(error.sqlerrcode), errmsg_internal("%s", error.message),
                  error.detail[0] ? errdetail_internal("%s", error.detail) : 0,
                  error.hint[0] ? errhint("%s", error.hint) : 0));
  pg_unreachable();
}

}  // namespace awf::pg
