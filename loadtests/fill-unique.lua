-- wrk script for loadtests/purge-bench.sh: every request asks for a new URL /p/<n>, so every
-- request is a cache miss that stores one entry. Threads interleave: thread i asks for
-- START+i, START+i+T, START+i+2T, ... (T = thread count); once n reaches START+COUNT it wraps
-- around (those requests are then hits). Usage:
--   wrk -t T -c C -d 300s -s loadtests/fill-unique.lua http://127.0.0.1:PORT -- COUNT T [START]
local tid = 0
function setup(thread)
  thread:set("id", tid)
  tid = tid + 1
end

local n, stride, first, limit
function init(args)
  local count = tonumber(args[1] or "1000000")
  stride = tonumber(args[2] or "1")
  first = tonumber(args[3] or "0")
  limit = first + count
  n = first + (id or 0)
end

function request()
  local path = "/p/" .. n
  n = n + stride
  if n >= limit then n = n - limit + first end
  return wrk.format("GET", path)
end
