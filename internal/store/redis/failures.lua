-- Failures: read a failure counter and the time left in its window together.
-- KEYS[1]  the counter
-- Returns {count, ms left}, {0, 0} when there is no counter.
local n = redis.call('GET', KEYS[1])
if not n then
  return {0, 0}
end
return {tonumber(n), redis.call('PTTL', KEYS[1])}
