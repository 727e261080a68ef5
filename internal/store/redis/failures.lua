-- Failures: read a name's failure count and its address's state together.
-- KEYS[1]  the address's hash (see addfailure.lua)
-- ARGV[1]  the name's field
-- Returns {name count, address total, names held, ms left}, all 0 when the
-- address has no window open.
local v = redis.call('HMGET', KEYS[1], ARGV[1], '#')
if not v[2] then
  return {0, 0, 0, 0}
end
return {tonumber(v[1] or 0), tonumber(v[2]), redis.call('HLEN', KEYS[1]) - 1, redis.call('PTTL', KEYS[1])}
