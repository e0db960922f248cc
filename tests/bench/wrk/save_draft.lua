-- PUT a contribution draft with If-Match, as an agency auditor.
--
-- Run with as many threads as connections (wrk -t N -c N): a wrk thread's
-- state is then its one connection's, so each connection owns one
-- contribution (the plan's path number ``index``) and sends back the ETag
-- its last save returned. A 412 carries the current ETag too, so one lost
-- race costs one error, not the rest of the run.
--
-- Given several body files, a connection sends them in turn, the next after
-- each save that succeeded: an amendment of a submitted contribution
-- alternates two that differ in one section's grade, so that each one
-- changes something (its version, and the dashboard's counted rows).
-- Usage: wrk -t N -c N -s save_draft.lua URL -- PLAN_FILE BODY_FILE [BODY_FILE ...]
dofile("plan.lua")

local path, etag
local bodies, next_body = {}, 1

function init(args)
  local paths = read_plan(args[1])
  local mine = paths[(index - 1) % #paths + 1]
  path, etag = mine.path, mine.etag
  if mine.token ~= "" then
    -- The connection's own auditor: one person's writes are capped (#18).
    wrk.headers["Authorization"] = "Bearer " .. mine.token
  end
  for i = 2, #args do
    bodies[#bodies + 1] = read_file(args[i])
  end
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  wrk.headers["If-Match"] = etag
  return wrk.format("PUT", path, nil, bodies[next_body])
end

function response(status, headers, _)
  count_status(status)
  local tag = headers["etag"] or headers["ETag"]
  if tag then
    etag = tag
  end
  if status < 300 then
    next_body = next_body % #bodies + 1
  end
end
