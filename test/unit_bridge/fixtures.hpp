// The seed's YAML examples of the Task Executor API (/work/shared/seeds/002_c7a4374992fb0c5f.txt),
// requests (bodies only, without the "POST /rpc" and header lines) and responses, copied verbatim,
// each with the JSON a YAML reader must make of it (strings stay strings, numbers numbers).
#pragma once

#include <array>

namespace awf::bridge::test {

struct SeedExample {
  const char *method;    // the seed section, e.g. "awf.task/notify"
  const char *kind;      // "request" or "response"
  const char *yaml;      // the body as the seed shows it
  const char *json;      // what it means, as JSON
};

// The seed shows the same response for poll and long-poll.
inline constexpr const char *kPolledYaml =
    R"yaml(result:
  resources:
    - execId: ea5c0022-c1e7-4f3c-b1ed-7e9b2428b7d2
      params:
        type: aidbox
        input:
          url: >-
            https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz
          resourceType: Organization
      status: requested
      executeAt: '2023-05-04T15:30:43'
      definition: aidbox.bulk/import-resource-task
      id: >-
        819c2499-1303-4c0e-bf1e-bcca761bfbde
      resourceType: AidboxTask
      meta:
        lastUpdated: '2023-05-04T16:33:14.682354Z'
        createdAt: '2023-05-04T16:33:12.056223Z'
        versionId: '17633'
)yaml";
inline constexpr const char *kPolledJson =
    R"json({
  "result": {
    "resources": [
      {
        "execId": "ea5c0022-c1e7-4f3c-b1ed-7e9b2428b7d2",
        "params": {
          "type": "aidbox",
          "input": {
            "url": "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz",
            "resourceType": "Organization"
          }
        },
        "status": "requested",
        "executeAt": "2023-05-04T15:30:43",
        "definition": "aidbox.bulk/import-resource-task",
        "id": "819c2499-1303-4c0e-bf1e-bcca761bfbde",
        "resourceType": "AidboxTask",
        "meta": {
          "lastUpdated": "2023-05-04T16:33:14.682354Z",
          "createdAt": "2023-05-04T16:33:12.056223Z",
          "versionId": "17633"
        }
      }
    ]
  }
})json";

inline const std::array<SeedExample, 12> kSeedExamples = {{
  {"awf.task/poll", "request",
   R"yaml(method: awf.task/poll
params:
    taskDefinitions: [aidbox.bulk/import-resource-task]
)yaml",
   R"json({
  "method": "awf.task/poll",
  "params": {
    "taskDefinitions": [
      "aidbox.bulk/import-resource-task"
    ]
  }
})json"},
  {"awf.task/poll", "response", kPolledYaml, kPolledJson},
  {"awf.task/long-poll", "request",
   R"yaml(method: awf.task/long-poll
params:
    timeout: 50000
    taskDefinitions: [aidbox.bulk/import-resource-task]
)yaml",
   R"json({
  "method": "awf.task/long-poll",
  "params": {
    "timeout": 50000,
    "taskDefinitions": [
      "aidbox.bulk/import-resource-task"
    ]
  }
})json"},
  {"awf.task/long-poll", "response", kPolledYaml, kPolledJson},
  {"awf.task/start", "request",
   R"yaml(method: awf.task/start
params:
    id: c578a224-c1fa-44c1-bc7a-9d2e624b872b
    execId: aac4c869-daa4-45fb-917a-46fe14359ed4
)yaml",
   R"json({
  "method": "awf.task/start",
  "params": {
    "id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
    "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4"
  }
})json"},
  {"awf.task/start", "response",
   R"yaml(result:
  resource:
    definition: aidbox.bulk/import-resource-task
    meta:
      lastUpdated: '2023-05-05T13:40:38.088195Z'
      createdAt: '2023-05-05T09:37:41.786909Z'
      versionId: '128518'
    params:
      type: aidbox
      input:
        url: >-
          https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz
        resourceType: Organization
    retryCount: 1
    resourceType: AidboxTask
    status: in-progress
    execId: aac4c869-daa4-45fb-917a-46fe14359ed4
    id: >-
      c578a224-c1fa-44c1-bc7a-9d2e624b872b
)yaml",
   R"json({
  "result": {
    "resource": {
      "definition": "aidbox.bulk/import-resource-task",
      "meta": {
        "lastUpdated": "2023-05-05T13:40:38.088195Z",
        "createdAt": "2023-05-05T09:37:41.786909Z",
        "versionId": "128518"
      },
      "params": {
        "type": "aidbox",
        "input": {
          "url": "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz",
          "resourceType": "Organization"
        }
      },
      "retryCount": 1,
      "resourceType": "AidboxTask",
      "status": "in-progress",
      "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4",
      "id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b"
    }
  }
})json"},
  {"awf.task/notify", "request",
   R"yaml(method: awf.task/notify
params:
    id: 3abf82be-ec63-4fb4-908a-21d91b2d4af9
    execId:   292e9f34-c275-4cd3-840f-b4c39d0512e4
    notification: awf.task/heartbeat
    message: "task is alive"
)yaml",
   R"json({
  "method": "awf.task/notify",
  "params": {
    "id": "3abf82be-ec63-4fb4-908a-21d91b2d4af9",
    "execId": "292e9f34-c275-4cd3-840f-b4c39d0512e4",
    "notification": "awf.task/heartbeat",
    "message": "task is alive"
  }
})json"},
  {"awf.task/notify", "response",
   R"yaml(result:
  inProgressTimeoutAt: '2023-05-05T14:07:27.831585Z'
)yaml",
   R"json({
  "result": {
    "inProgressTimeoutAt": "2023-05-05T14:07:27.831585Z"
  }
})json"},
  {"awf.task/success", "request",
   R"yaml(method: awf.task/success
params:
    id: c578a224-c1fa-44c1-bc7a-9d2e624b872b
    execId: aac4c869-daa4-45fb-917a-46fe14359ed4
)yaml",
   R"json({
  "method": "awf.task/success",
  "params": {
    "id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b",
    "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4"
  }
})json"},
  {"awf.task/success", "response",
   R"yaml(result:
  resource:
    definition: aidbox.bulk/import-resource-task
    pool: awf.executor/aidbox-long-tasks-pool2
    meta:
      lastUpdated: '2023-05-05T13:41:20.628857Z'
      createdAt: '2023-05-05T09:37:41.786909Z'
      versionId: '128521'
    params:
      type: aidbox
      input:
        url: >-
          https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz
        resourceType: Organization
    retryCount: 1
    outcome: succeeded
    resourceType: AidboxTask
    status: done
    execId: aac4c869-daa4-45fb-917a-46fe14359ed4
    id: >-
      c578a224-c1fa-44c1-bc7a-9d2e624b872b
)yaml",
   R"json({
  "result": {
    "resource": {
      "definition": "aidbox.bulk/import-resource-task",
      "pool": "awf.executor/aidbox-long-tasks-pool2",
      "meta": {
        "lastUpdated": "2023-05-05T13:41:20.628857Z",
        "createdAt": "2023-05-05T09:37:41.786909Z",
        "versionId": "128521"
      },
      "params": {
        "type": "aidbox",
        "input": {
          "url": "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz",
          "resourceType": "Organization"
        }
      },
      "retryCount": 1,
      "outcome": "succeeded",
      "resourceType": "AidboxTask",
      "status": "done",
      "execId": "aac4c869-daa4-45fb-917a-46fe14359ed4",
      "id": "c578a224-c1fa-44c1-bc7a-9d2e624b872b"
    }
  }
})json"},
  {"awf.task/fail", "request",
   R"yaml(method: awf.task/fail
params:
    id: 7572b48b-7196-4887-bab7-a78bf09bdd83
    execId: d9bdbaa7-35ee-4234-a603-990a6a5dd559
)yaml",
   R"json({
  "method": "awf.task/fail",
  "params": {
    "id": "7572b48b-7196-4887-bab7-a78bf09bdd83",
    "execId": "d9bdbaa7-35ee-4234-a603-990a6a5dd559"
  }
})json"},
  {"awf.task/fail", "response",
   R"yaml(result:
  resource:
    definition: aidbox.bulk/import-resource-task
    meta:
      lastUpdated: '2023-05-05T14:15:49.658083Z'
      createdAt: '2023-05-05T14:12:52.899952Z'
      versionId: '128620'
    params:
      type: aidbox
      input:
        url: >-
          https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz
        resourceType: Organization
    retryCount: 2
    outcome: failed
    resourceType: AidboxTask
    status: done
    execId: d9bdbaa7-35ee-4234-a603-990a6a5dd559
    id: >-
      7572b48b-7196-4887-bab7-a78bf09bdd83
    outcomeReason:
      type: awf.task/failed-by-executor
      message: Failed by executor

)yaml",
   R"json({
  "result": {
    "resource": {
      "definition": "aidbox.bulk/import-resource-task",
      "meta": {
        "lastUpdated": "2023-05-05T14:15:49.658083Z",
        "createdAt": "2023-05-05T14:12:52.899952Z",
        "versionId": "128620"
      },
      "params": {
        "type": "aidbox",
        "input": {
          "url": "https://storage.googleapis.com/aidbox-public/synthea/100/Organization.ndjson.gz",
          "resourceType": "Organization"
        }
      },
      "retryCount": 2,
      "outcome": "failed",
      "resourceType": "AidboxTask",
      "status": "done",
      "execId": "d9bdbaa7-35ee-4234-a603-990a6a5dd559",
      "id": "7572b48b-7196-4887-bab7-a78bf09bdd83",
      "outcomeReason": {
        "type": "awf.task/failed-by-executor",
        "message": "Failed by executor"
      }
    }
  }
})json"},
}};

}  // namespace awf::bridge::test
