-- awf.task/list (filter, sort, paging) and awf.task/status (include-log, include-settings).
SELECT awf.task_create('list.alpha', jsonb_build_object('city', c), label => 'alpha ' || c) IS NOT NULL
  FROM unnest(ARRAY['Paris', 'Oslo', 'Lima']) c;
SELECT awf.task_create('list.beta', '{"city": "Rome"}', label => 'beta 100%') IS NOT NULL;
SELECT awf.task_cancel((SELECT id FROM awf.task WHERE label = 'alpha Oslo')) #>> '{resource,outcome}';

CREATE FUNCTION pg_temp.labels(params jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(r ->> 'label', ', ' ORDER BY ord), '(none)')
    FROM jsonb_array_elements(awf.rpc('awf.task/list', params) -> 'resources') WITH ORDINALITY AS x(r, ord)
$$;

SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"]}, "sort": {"createdAt": "asc"}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"]}, "sort": {"createdAt": "desc"}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha"], "status": "ready"}, "sort": {"createdAt": "asc"}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha"], "status": ["done"], "outcome": "canceled"}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"], "excludeDefinitions": ["list.alpha"]}}');
-- ilike matches a substring of id, definition, label or params, literally (% is not a wildcard)
SELECT pg_temp.labels('{"filter": {"ilike": "LIMA"}}');
SELECT pg_temp.labels('{"filter": {"ilike": "100%"}}');
SELECT pg_temp.labels('{"filter": {"ilike": "1_0"}}');
-- paging
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"]}, "sort": {"createdAt": "asc"}, "paging": {"count": 2, "page": 1}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"]}, "sort": {"createdAt": "asc"}, "paging": {"count": 2, "page": 2}}');
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha", "list.beta"]}, "sort": {"createdAt": "asc"}, "paging": {"count": 2, "page": 3}}');
-- lastUpdated: the canceled task changed last
SELECT pg_temp.labels('{"filter": {"includeDefinitions": ["list.alpha"]}, "sort": {"lastUpdated": "desc"}, "paging": {"count": 1}}');
-- the typed function
SELECT jsonb_array_length(awf.task_list(include_definitions => ARRAY['list.alpha'], status => ARRAY['ready']) -> 'resources');

-- status: resource only, then with settings, then with the log
SELECT awf.task_status((SELECT id FROM awf.task WHERE label = 'beta 100%')) -> 'resource' ->> 'label';
SELECT awf.task_status((SELECT id FROM awf.task WHERE label = 'beta 100%')) ?| ARRAY['log', 'settings'] AS has_extras;
SELECT awf.task_status((SELECT id FROM awf.task WHERE label = 'beta 100%'), include_settings => true) -> 'settings';
SELECT jsonb_array_length(awf.task_status((SELECT id FROM awf.task WHERE label = 'alpha Oslo'), include_log => true) -> 'log') AS log_entries;
SELECT e ->> 'type' AS type, e ->> 'statusFrom' AS from, e ->> 'statusTo' AS to, e #>> '{task,resourceType}' AS task
  FROM jsonb_array_elements(awf.task_status((SELECT id FROM awf.task WHERE label = 'alpha Oslo'), include_log => true) -> 'log') e;
