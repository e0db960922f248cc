-- GET the plan's paths in turn (each thread starting at its own), with the
-- plan's headers (a bearer token or a session cookie).
-- Usage: wrk -s get.lua URL -- PLAN_FILE   (run from this folder)
dofile("plan.lua")

local paths, n

function init(args)
  paths = read_plan(args[1])
  n = (index or 0) % #paths
end

function request()
  n = n % #paths + 1
  return wrk.format("GET", paths[n].path)
end
