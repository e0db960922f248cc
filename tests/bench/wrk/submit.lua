-- POST .../submit, as an agency auditor, each contribution once.
--
-- Run with as many threads as connections (wrk -t N -c N). The plan's
-- paths are complete contributions, saved but not submitted, each with the
-- ETag its save returned and its agency's bearer token; connection k of N
-- submits paths k, k + N, k + 2N, ... in turn, so no two connections share
-- one. A submitted contribution cannot be submitted again, so the plan
-- holds more than a run can submit; a connection that runs out sends its
-- last one again, answered 412 (its ETag is stale) or 409, which make bench
-- reports.
-- Usage: wrk -t N -c N -s submit.lua URL -- PLAN_FILE CONNECTIONS
dofile("plan.lua")

local mine, n

function init(args)
  local paths = read_plan(args[1])
  local connections = tonumber(args[2])
  mine = {}
  for i = index, #paths, connections do
    mine[#mine + 1] = paths[i]
  end
  n = 0
end

function request()
  n = math.min(n + 1, #mine)
  local contribution = mine[n]
  wrk.headers["If-Match"] = contribution.etag
  wrk.headers["Authorization"] = "Bearer " .. contribution.token
  return wrk.format("POST", contribution.path .. "/submit")
end

function response(status, _, _)
  count_status(status)
end
