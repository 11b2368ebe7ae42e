-- wrk script for the Zipf scenario of loadtests/run.sh: GET /z/<rank>, with the rank drawn from a
-- Zipf distribution over KEYS keys (rank r has weight 1 / r^S) by a PRNG with a fixed SEED, so
-- every server is asked the same sequence of ranks.
--   wrk -t1 -c50 -d8s -s loadtests/zipf.lua http://127.0.0.1:PORT -- [KEYS=10000] [S=1.0] [SEED=12345]
-- The requests are formatted once in init(), and each request() is a binary search over the
-- cumulative weights, so the script adds little to wrk's own cost per request.
local requests = {}
local cdf = {}
local n

function init(args)
  n = tonumber(args[1] or "10000")
  local s = tonumber(args[2] or "1.0")
  local seed = tonumber(args[3] or "12345")
  local sum = 0
  for r = 1, n do
    sum = sum + 1 / r ^ s
    cdf[r] = sum
  end
  for r = 1, n do
    cdf[r] = cdf[r] / sum
    requests[r] = wrk.format("GET", "/z/" .. r)
  end
  math.randomseed(seed)
end

function request()
  local u = math.random()
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return requests[lo]
end
