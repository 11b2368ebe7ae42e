-- Paced load for loadtests/run.sh's paced1k scenario: each connection waits DELAY ms (the first
-- script argument, 2 by default) after a response before it sends its next request. With 50
-- connections that offers about 50 / (DELAY + latency) requests per ms, a rate every server in the
-- run sustains without using up a CPU, and wrk itself stays well short of one: p99 then compares
-- the servers at about the same rate, where the unpaced rows measure each at its own limit (and
-- the faster server makes wrk, whose clock the latency is read from, the busier).
local delay_ms = 2

function init(args)
  if args[1] then
    delay_ms = tonumber(args[1])
  end
end

function delay()
  return delay_ms
end
