-- AddFailure: count one failed login in a fixed window.
-- KEYS[1]  the counter
-- ARGV[1]  the window (ms)
-- Returns {count, ms left in the window}. The first failure opens the window
-- (PEXPIRE only when the counter has no TTL, as PEXPIRE NX does on Redis 7,
-- written out so Redis 6 runs it too); later ones do not extend it.
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
