-- wrk script for loadtests/memory-stress.sh: every request asks for PREFIX<n> with a new n per
-- request (per thread: id, id+T, id+2T, ...), so every request is a miss that fills one entry.
--   wrk -t T -c C -d 180s -s loadtests/unique-path.lua http://127.0.0.1:PORT -- PREFIX T
local tid = 0
function setup(thread)
  thread:set("id", tid)
  tid = tid + 1
end

local prefix, n, stride
function init(args)
  prefix = args[1] or "/p/"
  stride = tonumber(args[2] or "1")
  n = id or 0
end

function request()
  local path = prefix .. n
  n = n + stride
  return wrk.format("GET", path)
end
