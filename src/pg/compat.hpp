// Every #if PG_VERSION_NUM shim of the extension. Built and tested against PostgreSQL 15.
#pragma once

#if PG_VERSION_NUM < 150000
#error "pg_awf needs PostgreSQL 15 or later"
#endif

#if PG_VERSION_NUM >= 160000
#define awf_proc_aclcheck(proc_oid, role_oid, mode) \
  object_aclcheck(ProcedureRelationId, (proc_oid), (role_oid), (mode))
#else
#define awf_proc_aclcheck(proc_oid, role_oid, mode) pg_proc_aclcheck((proc_oid), (role_oid), (mode))
#endif
