-- AddFailure: count one failed check of a name from an address.
-- KEYS[1]  the address's hash: field '#' the address total, every other field
--          one name (a fixed-size keyed hash) and its count
-- ARGV[1]  the name's field
-- ARGV[2]  the window (ms)
-- ARGV[3]  the most names the address may hold
-- Returns {name count, address total, names held, ms left in the window}. A
-- name that would be one too many is counted in the total only. The first
-- failure opens the window (PEXPIRE only when the hash has no TTL, written
-- out so Redis 6 runs it too); later ones do not extend it.
local total = redis.call('HINCRBY', KEYS[1], '#', 1)
local names = redis.call('HLEN', KEYS[1]) - 1
local n = 0
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or names < tonumber(ARGV[3]) then
  n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  if n == 1 then
    names = names + 1
  end
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, total, names, ttl}
