-- PUT a contribution draft with If-Match, as an agency auditor.
--
-- Run with as many threads as connections (wrk -t N -c N): a wrk thread's
-- state is then its one connection's, so each connection owns one
-- contribution (the plan's path number ``index``) and sends back the ETag
-- its last save returned. A 412 carries the current ETag too, so one lost
-- race costs one error, not the rest of the run.
-- Usage: wrk -t N -c N -s save_draft.lua URL -- PLAN_FILE BODY_FILE
dofile("plan.lua")

local path, etag, body

function init(args)
  local paths = read_plan(args[1])
  local mine = paths[(index - 1) % #paths + 1]
  path, etag = mine.path, mine.etag
  body = read_file(args[2])
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  wrk.headers["If-Match"] = etag
  return wrk.format("PUT", path, nil, body)
end

function response(status, headers, _)
  local tag = headers["etag"] or headers["ETag"]
  if tag then
    etag = tag
  end
end
