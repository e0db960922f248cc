-- Shared by the wrk scripts: each wrk thread learns its number, reads the
-- plan file ``make bench`` wrote, and prints its figures when the run ends.
--
-- Plan file lines:  "H Name: value"  a request header;
--                   "P /path [etag]" a path (with the ETag it is at, for saves).
-- Tokens and session keys travel in the file, never on wrk's command line.

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

function read_plan(file)
  local paths = {}
  for line in io.lines(file) do
    local kind, rest = line:match("^(%u) (.*)$")
    if kind == "H" then
      local name, value = rest:match("^([^:]+):%s*(.*)$")
      wrk.headers[name] = value
    elseif kind == "P" then
      local path, etag = rest:match("^(%S+)%s*(%S*)$")
      paths[#paths + 1] = { path = path, etag = etag }
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
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "status": %d, "connect": %d, "read": %d, "write": %d, '
      .. '"timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
