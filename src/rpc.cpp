// awf.rpc(method, params): the RPC entry point of the Aidbox Task Executor API. It reads `params`
// as the API documents it (camelCase keys, JSON types), converts it to the arguments of the typed
// SQL function of that method, checks that the caller may EXECUTE that function, and calls it
// through fmgr, so its SECURITY DEFINER and pinned search_path apply exactly as for a direct call.
// The role model therefore lives in GRANTs on the typed functions, nowhere else.
#include <array>

#include "core/format.hpp"
#include "core/methods.hpp"
#include "core/validate.hpp"
#include "pg/guard.hpp"
#include "pg/jsonb.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_collation.h"
#include "catalog/pg_proc.h"
#include "utils/acl.h"
#include "utils/inval.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

namespace awf {
namespace {

using pg::JsonKind;

// The typed function behind each method, resolved once per backend.
struct TypedFunction {
  Method method;
  const char *signature;
  Oid oid;
  FmgrInfo flinfo;
};

std::array<TypedFunction, 19> typed_functions = {{
    {Method::Poll, "awf.task_poll(pg_catalog.text[],pg_catalog.text[],pg_catalog.int4)", InvalidOid, {}},
    {Method::LongPoll,
     "awf.task_long_poll(pg_catalog.text[],pg_catalog.text[],pg_catalog.int4,pg_catalog.int4)",
     InvalidOid, {}},
    {Method::Start, "awf.task_start(pg_catalog.uuid,pg_catalog.uuid)", InvalidOid, {}},
    {Method::Notify,
     "awf.task_notify(pg_catalog.uuid,pg_catalog.uuid,pg_catalog.text,pg_catalog.text,"
     "pg_catalog.int8,pg_catalog.int8,pg_catalog.text)",
     InvalidOid, {}},
    {Method::Success, "awf.task_success(pg_catalog.uuid,pg_catalog.uuid,pg_catalog.jsonb)", InvalidOid, {}},
    {Method::Fail, "awf.task_fail(pg_catalog.uuid,pg_catalog.uuid,pg_catalog.jsonb)", InvalidOid, {}},
    {Method::Create,
     "awf.task_create(pg_catalog.text,pg_catalog.jsonb,pg_catalog.uuid,pg_catalog.text,"
     "pg_catalog.timestamptz,pg_catalog.int4,pg_catalog.int4,pg_catalog.int4,pg_catalog.int4,"
     "pg_catalog.int4)",
     InvalidOid, {}},
    {Method::Status, "awf.task_status(pg_catalog.uuid,pg_catalog.bool,pg_catalog.bool)", InvalidOid, {}},
    {Method::Cancel, "awf.task_cancel(pg_catalog.uuid)", InvalidOid, {}},
    {Method::List,
     "awf.task_list(pg_catalog.text[],pg_catalog.text[],pg_catalog.text[],pg_catalog.text[],"
     "pg_catalog.text,pg_catalog.text,pg_catalog.text,pg_catalog.int4,pg_catalog.int4)",
     InvalidOid, {}},
    {Method::NlflowWorkflowPut,
     "awf.nlflow_workflow_put(pg_catalog.text,pg_catalog.text,pg_catalog.text,pg_catalog.int8,"
     "pg_catalog.bool)",
     InvalidOid, {}},
    {Method::NlflowWorkflowList, "awf.nlflow_workflow_list(pg_catalog.text)", InvalidOid, {}},
    {Method::WorkflowCreate, "awf.workflow_create(pg_catalog.text,pg_catalog.jsonb,pg_catalog.uuid)",
     InvalidOid, {}},
    {Method::WorkflowStatus, "awf.workflow_status(pg_catalog.uuid,pg_catalog.bool)", InvalidOid, {}},
    {Method::WorkflowCancel, "awf.workflow_cancel(pg_catalog.uuid)", InvalidOid, {}},
    {Method::WorkflowList,
     "awf.workflow_list(pg_catalog.text[],pg_catalog.text[],pg_catalog.int4,pg_catalog.int4)",
     InvalidOid, {}},
    {Method::SchedulerRulePut, "awf.scheduler_rule_put(pg_catalog.jsonb)", InvalidOid, {}},
    {Method::SchedulerRuleDelete, "awf.scheduler_rule_delete(pg_catalog.text)", InvalidOid, {}},
    {Method::SchedulerRuleList, "awf.scheduler_rule_list(pg_catalog.text)", InvalidOid, {}},
}};

// Forget resolved functions when pg_proc changes (e.g. DROP/CREATE EXTENSION in this backend).
void forget_typed_functions(Datum, int, uint32) {
  for (auto &fn : typed_functions) fn.oid = InvalidOid;
}

TypedFunction &resolve(Method method) {
  for (auto &fn : typed_functions) {
    if (fn.method != method) continue;
    if (fn.oid == InvalidOid) {
      const char *signature = fn.signature;
      Oid oid = pg::pg_call([&] {
        return DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(signature)));
      });
      FmgrInfo *flinfo = &fn.flinfo;
      pg::pg_call([&] { fmgr_info_cxt(oid, flinfo, TopMemoryContext); });
      fn.oid = oid;
    }
    return fn;
  }
  throw Error(ErrorCode::Internal, "no SQL function for method");
}

std::string shorten(std::string_view s) {
  return s.size() <= 64 ? std::string(s) : std::string(s.substr(0, 61)) + "...";
}

// Reads the keys of one params object and turns them into typed-function arguments.
class ParamReader {
 public:
  ParamReader(std::string_view method, pg::JsonbField object) : method_(method), object_(object) {}

  // The value of key, or nullopt when absent or JSON null (clients send null for "not given").
  std::optional<pg::JsonbField> get(const char *key) const {
    auto v = object_.member(key);
    if (!v || v->kind() == JsonKind::Null) return std::nullopt;
    return v;
  }

  NullableDatum string(const char *key, bool required = false) const {
    auto v = typed(key, JsonKind::String, required);
    if (!v) return null();
    return value(pg::text_datum(v->string()));
  }

  NullableDatum string_array(const char *key) const {
    auto v = typed(key, JsonKind::Array, false);
    if (!v) return null();
    return value(pg::text_array_datum(strings_of(key, *v)));
  }

  // A string or an array of strings (filter.status, filter.outcome).
  NullableDatum string_or_array(const char *key) const {
    auto v = get(key);
    if (!v) return null();
    if (v->kind() == JsonKind::String) return value(pg::text_array_datum({std::string(v->string())}));
    if (v->kind() != JsonKind::Array) wrong_type(key, "a string or an array of strings", *v);
    return value(pg::text_array_datum(strings_of(key, *v)));
  }

  NullableDatum int4(const char *key, bool required = false) const {
    auto n = integer(key, required);
    if (!n) return null();
    if (*n < INT32_MIN || *n > INT32_MAX)
      throw_invalid_param(method_, key, "must be a 32-bit integer, got " + std::to_string(*n));
    return value(Int32GetDatum(static_cast<int32>(*n)));
  }

  NullableDatum int8(const char *key) const {
    auto n = integer(key, false);
    if (!n) return null();
    return value(Int64GetDatum(*n));
  }

  NullableDatum boolean(const char *key) const {
    auto v = typed(key, JsonKind::Boolean, false);
    if (!v) return null();
    return value(BoolGetDatum(v->boolean()));
  }

  NullableDatum object(const char *key) const {
    auto v = typed(key, JsonKind::Object, false);
    if (!v) return null();
    return value(v->as_jsonb_datum());
  }

  // An object or an array (a decision task's result may be its bare list of actions).
  NullableDatum object_or_array(const char *key) const {
    auto v = get(key);
    if (!v) return null();
    if (v->kind() != JsonKind::Object && v->kind() != JsonKind::Array)
      wrong_type(key, "an object or an array", *v);
    return value(v->as_jsonb_datum());
  }

  // The whole params object (methods whose SQL function reads a document: scheduler rules).
  NullableDatum whole() const { return value(object_.as_jsonb_datum()); }

  NullableDatum uuid(const char *key, bool required) const {
    auto v = typed(key, JsonKind::String, required);
    if (!v) return null();
    unsigned char bytes[16];
    if (!parse_uuid(v->string(), bytes))
      throw_invalid_param(method_, key,
                          "must be a UUID like \"c578a224-c1fa-44c1-bc7a-9d2e624b872b\", got \"" +
                              shorten(v->string()) + "\"");
    auto *id = pg::pg_call([] { return static_cast<pg_uuid_t *>(palloc(sizeof(pg_uuid_t))); });
    std::copy(bytes, bytes + 16, id->data);
    return value(UUIDPGetDatum(id));
  }

  NullableDatum timestamp(const char *key) const {
    auto v = typed(key, JsonKind::String, false);
    if (!v) return null();
    auto ts = parse_timestamp(v->string());
    if (!ts)
      throw_invalid_param(method_, key,
                          "must be an ISO-8601 timestamp like \"2023-05-04T15:30:43Z\", got \"" +
                              shorten(v->string()) + "\"");
    return value(TimestampTzGetDatum(*ts));
  }

  // A nested object (filter, sort, paging) to read further.
  std::optional<ParamReader> nested(const char *key) const {
    auto v = typed(key, JsonKind::Object, false);
    if (!v) return std::nullopt;
    return ParamReader(method_, *v);
  }

  const pg::JsonbField &object_field() const { return object_; }

  static NullableDatum null() { return NullableDatum{(Datum)0, true}; }
  static NullableDatum value(Datum d) { return NullableDatum{d, false}; }

 private:
  std::optional<pg::JsonbField> typed(const char *key, JsonKind kind, bool required) const {
    auto v = get(key);
    if (!v) {
      if (required) throw_invalid_param(method_, key, "is required");
      return std::nullopt;
    }
    if (v->kind() != kind) wrong_type(key, pg::json_kind_name(kind), *v);
    return v;
  }

  std::optional<int64_t> integer(const char *key, bool required) const {
    auto v = typed(key, JsonKind::Number, required);
    if (!v) return std::nullopt;
    const std::string text = v->number_text();
    auto n = parse_integral(text);
    if (!n) throw_invalid_param(method_, key, "must be an integer, got " + shorten(text));
    return n;
  }

  std::vector<std::string> strings_of(const char *key, const pg::JsonbField &array) const {
    const int size = array.array_size();
    if (size > 10000)
      throw_invalid_param(method_, key, "has " + std::to_string(size) + " elements; at most 10000 are allowed");
    std::vector<std::string> out;
    out.reserve(size);
    for (int i = 0; i < size; ++i) {
      pg::JsonbField e = array.element(i);
      if (e.kind() != JsonKind::String)
        throw_invalid_param(method_, key,
                            std::string("must be an array of strings; element ") +
                                std::to_string(i) + " is " + pg::json_kind_name(e.kind()));
      out.emplace_back(e.string());
    }
    return out;
  }

  [[noreturn]] void wrong_type(const char *key, const char *expected, const pg::JsonbField &v) const {
    throw_invalid_param(method_, key,
                        std::string("must be ") + expected + ", got " + pg::json_kind_name(v.kind()));
  }

  std::string_view method_;
  pg::JsonbField object_;
};

// The arguments of the typed function of `method`, in its declared order.
std::vector<NullableDatum> typed_arguments(const MethodInfo &info, const ParamReader &p) {
  switch (info.method) {
    case Method::Poll:
      return {p.string_array("taskDefinitions"), p.string_array("workflowDefinitions"),
              p.int4("maxBatchSize")};
    case Method::LongPoll:
      return {p.string_array("taskDefinitions"), p.string_array("workflowDefinitions"),
              p.int4("maxBatchSize"), p.int4("timeout")};
    case Method::Start:
      return {p.uuid("id", true), p.uuid("execId", true)};
    case Method::Notify: {
      NullableDatum notification = p.string("notification");
      if (notification.isnull && !info.implied_notification.empty())
        notification = ParamReader::value(pg::text_datum(info.implied_notification));
      return {p.uuid("id", true),        p.uuid("execId", true),    notification,
              p.string("message"),       p.int8("progress-current"), p.int8("progress-total"),
              p.string("progress-unit")};
    }
    case Method::Success:
      return {p.uuid("id", true), p.uuid("execId", true), p.object_or_array("result")};
    case Method::Fail:
      return {p.uuid("id", true), p.uuid("execId", true), p.object("error")};
    case Method::Create:
      return {p.string("definition", true), p.object("params"),     p.uuid("id", false),
              p.string("label"),            p.timestamp("executeAt"), p.int4("priority"),
              p.int4("requestedToStartTimeout"), p.int4("inProgressTimeout"),
              p.int4("allowedRetryCount"),       p.int4("retryDelay")};
    case Method::Status:
      return {p.uuid("id", true), p.boolean("include-log"), p.boolean("include-settings")};
    case Method::Cancel:
      return {p.uuid("id", true)};
    case Method::List: {
      std::vector<NullableDatum> args(9, ParamReader::null());
      if (auto filter = p.nested("filter")) {
        args[0] = filter->string_array("includeDefinitions");
        args[1] = filter->string_array("excludeDefinitions");
        args[2] = filter->string_or_array("status");
        args[3] = filter->string_or_array("outcome");
        args[4] = filter->string("ilike");
      }
      if (auto sort = p.nested("sort")) {
        // {createdAt: desc} or {lastUpdated: asc}: one key, its value the order.
        for (const char *key : {"createdAt", "lastUpdated"}) {
          NullableDatum order = sort->string(key);
          if (order.isnull) continue;
          args[5] = ParamReader::value(pg::text_datum(key));
          args[6] = order;
        }
        if (args[5].isnull && sort->object_field().container() &&
            JsonContainerSize(sort->object_field().container()) > 0)
          throw_invalid_param(info.name, "sort", "must be {createdAt: asc|desc} or {lastUpdated: asc|desc}");
      }
      if (auto paging = p.nested("paging")) {
        args[7] = paging->int4("count");
        args[8] = paging->int4("page");
      }
      return args;
    }
    case Method::NlflowWorkflowPut: {
      // timeout: ms of queue plus execution time; absent means the default of one hour.
      NullableDatum timeout = p.int8("timeout");
      if (timeout.isnull) timeout = ParamReader::value(Int64GetDatum(3600000));
      return {p.string("id", true), p.string("name", true), p.string("definition", true), timeout,
              p.boolean("published")};
    }
    case Method::NlflowWorkflowList:
      return {p.string("id")};
    case Method::WorkflowCreate:
      return {p.string("definition", true), p.object("params"), p.uuid("id", false)};
    case Method::WorkflowStatus:
      return {p.uuid("id", true), p.boolean("include-activities")};
    case Method::WorkflowCancel:
      return {p.uuid("id", true)};
    case Method::WorkflowList: {
      std::vector<NullableDatum> args(4, ParamReader::null());
      if (auto filter = p.nested("filter")) {
        args[0] = filter->string_or_array("definition");
        args[1] = filter->string_or_array("status");
      }
      if (auto paging = p.nested("paging")) {
        args[2] = paging->int4("count");
        args[3] = paging->int4("page");
      }
      return args;
    }
    case Method::SchedulerRulePut:
      return {p.whole()};
    case Method::SchedulerRuleDelete:
    case Method::SchedulerRuleList:
      return {p.string("id", info.method == Method::SchedulerRuleDelete)};
  }
  throw Error(ErrorCode::Internal, "unhandled method");
}

Datum rpc(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0))
    throw Error(ErrorCode::UnknownMethod, "awf.rpc: method is required",
                std::string("Known methods: ") + std::string(known_methods_list()) + ".");
  text *method_text = pg::pg_call([&] { return PG_GETARG_TEXT_PP(0); });
  const std::string method(VARDATA_ANY(method_text), VARSIZE_ANY_EXHDR(method_text));
  auto info = find_method(method);
  if (!info)
    throw Error(ErrorCode::UnknownMethod, "unknown method \"" + shorten(method) + "\"",
                std::string("Known methods: ") + std::string(known_methods_list()) + ".");

  // Permission first: a role that may not call the method learns nothing about its parameters.
  TypedFunction &fn = resolve(info->method);
  const Oid fn_oid = fn.oid;
  AclResult acl = pg::pg_call([&] { return awf_proc_aclcheck(fn_oid, GetUserId(), ACL_EXECUTE); });
  if (acl != ACLCHECK_OK) {
    const char *role = pg::pg_call([] { return GetUserNameFromId(GetUserId(), false); });
    throw pg::PgError(ERRCODE_INSUFFICIENT_PRIVILEGE,
                      "permission denied for " + std::string(info->name) + ": role \"" + role +
                          "\" may not call awf." + std::string(info->sql_function),
                      "", "Grant the role awf_executor, awf_user or awf_admin as the method needs.");
  }

  // params: an object; SQL NULL is the same as {}.
  Jsonb *params = PG_ARGISNULL(1) ? nullptr : pg::pg_call([&] { return PG_GETARG_JSONB_P(1); });
  if (params == nullptr)
    params = pg::empty_jsonb_object();
  if (!pg::JsonbObject(params).is_object())
    throw Error(ErrorCode::InvalidParams,
                std::string(info->name) + ": params must be an object of named parameters");
  JsonbValue root;
  root.type = jbvBinary;
  root.val.binary.data = &params->root;
  root.val.binary.len = static_cast<int>(VARSIZE(params) - VARHDRSZ);
  const ParamReader reader(info->name, pg::JsonbField{root});
  std::vector<NullableDatum> args = typed_arguments(*info, reader);

  FmgrInfo *flinfo = &fn.flinfo;
  const int nargs = static_cast<int>(args.size());
  const NullableDatum *arg_values = args.data();
  return pg::pg_call([&] {
    FunctionCallInfo call = static_cast<FunctionCallInfo>(palloc0(SizeForFunctionCallInfo(nargs)));
    InitFunctionCallInfoData(*call, flinfo, nargs, DEFAULT_COLLATION_OID, nullptr, nullptr);
    for (int i = 0; i < nargs; ++i) call->args[i] = arg_values[i];
    Datum result = FunctionCallInvoke(call);
    if (call->isnull) elog(ERROR, "pg_awf: typed function %u returned NULL", flinfo->fn_oid);
    return result;
  });
}

}  // namespace

void register_rpc_invalidation() {
  CacheRegisterSyscacheCallback(PROCOID, forget_typed_functions, (Datum)0);
}

}  // namespace awf

extern "C" {
PG_FUNCTION_INFO_V1(awf_rpc);
Datum awf_rpc(PG_FUNCTION_ARGS) { return awf::pg::invoke(fcinfo, awf::rpc); }
}
