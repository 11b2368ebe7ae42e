-- wrk script for loadtests/memory-stress.sh: requests spread over a hot set of COUNT URLs
-- PREFIX0 .. PREFIX<COUNT-1> (hits once each was filled).
--   wrk -t 1 -c C -d 180s -s loadtests/hot-set.lua http://127.0.0.1:PORT -- PREFIX COUNT
local prefix, count
function init(args)
  prefix = args[1] or "/size/16384/hot"
  count = tonumber(args[2] or "100")
end

function request()
  return wrk.format("GET", prefix .. math.random(0, count - 1))
end
