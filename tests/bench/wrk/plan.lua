-- Shared by the wrk scripts: each wrk thread learns its number, reads the
-- plan file ``make bench`` wrote, and prints its figures when the run ends.
--
-- Plan file lines:  "H Name: value"  a request header;
--                   "P /path [etag [token]]" a path (with the ETag it is at, for
--                   writes, and the bearer token of the agency whose it is).
-- Tokens and session keys travel in the file, never on wrk's command line.
--
-- Every response's status is counted per thread (``statuses``, read back by
-- done()), so an error is told apart by kind: 412 (a stale ETag), 409,
-- 503 (shed load), and so on; wrk itself counts only "status >= 400".

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  threads[#threads + 1] = thread
end

statuses = {}

function count_status(status)
  statuses[status] = (statuses[status] or 0) + 1
end

-- The scripts that read nothing from the answer count its status only.
function response(status, _, _)
  count_status(status)
end

function read_plan(file)
  local paths = {}
  for line in io.lines(file) do
    local kind, rest = line:match("^(%u) (.*)$")
    if kind == "H" then
      local name, value = rest:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
    elseif kind == "P" then
      local path, etag, token = rest:match("^(%S+)%s*(%S*)%s*(%S*)$")
      paths[#paths + 1] = { path = path, etag = etag, token = token }
    end
  end
  return paths
end

function read_file(name)
  local f = assert(io.open(name, "rb"))
  local content = f:read("*a")
  f:close()
  return content
end

-- One line ``tests/bench/figures.py`` reads; latencies in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  local total = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      total[status] = (total[status] or 0) + n
    end
  end
  local counted = {}
  for status, n in pairs(total) do
    counted[#counted + 1] = string.format('"%d": %d', status, n)
  end
  table.sort(counted)
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    table.concat(counted, ", ")))
end
