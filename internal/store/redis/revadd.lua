-- AddRevocation: append an entry to the revocation feed, atomically.
-- KEYS[1]  the log (a stream of entries, in the order they were added)
-- KEYS[2]  the set in force (a sorted set: member "<kind>:<id>", score exp ms)
-- KEYS[3]  the feed's meta hash: epoch, last (latest stream id), floor (the
--          newest id trimmed away)
-- ARGV[1]  kind ("t" access token, "s" session)
-- ARGV[2]  id (jti or session id)
-- ARGV[3]  exp (unix ms)
-- ARGV[4]  now (unix ms, the application's clock)
-- ARGV[5]  the retention (ms): log entries older than that by Redis's
--          clock, the one that numbers them, are trimmed
-- ARGV[6]  an epoch to use when the feed has none yet
-- ARGV[7]  when the keys may expire (unix ms): no entry matters after it
-- Returns the new entry's stream id and the epoch.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local t = redis.call('TIME')
local minid = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[5])) .. '-0'
redis.call('HSETNX', KEYS[3], 'epoch', ARGV[6])
local epoch = redis.call('HGET', KEYS[3], 'epoch')
local floor = redis.call('HGET', KEYS[3], 'floor') or '0-0'
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[1] .. ':' .. ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[4])
-- The newest entry the trim below removes: a reader at it or later still
-- gets an exact answer, an older one gets the complete set.
local gone = redis.call('XREVRANGE', KEYS[1], '(' .. minid, '-', 'COUNT', 1)
if gone[1] and less(floor, gone[1][1]) then
  redis.call('HSET', KEYS[3], 'floor', gone[1][1])
end
local id = redis.call('XADD', KEYS[1], 'MINID', minid, '*', 'k', ARGV[1], 'i', ARGV[2], 'e', ARGV[3])
redis.call('HSET', KEYS[3], 'last', id)
for i = 1, 3 do
  redis.call('PEXPIREAT', KEYS[i], ARGV[7], 'NX')
  redis.call('PEXPIREAT', KEYS[i], ARGV[7], 'GT')
end
return {id, epoch}
