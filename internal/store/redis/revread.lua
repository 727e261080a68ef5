-- Revocations: read the revocation feed after a cursor, or all of it.
-- KEYS[1..3] the log, the set in force and the meta hash (see revadd.lua)
-- ARGV[1]  the cursor's epoch ("" for the complete set)
-- ARGV[2]  the cursor's stream id ("<ms>-<seq>")
-- ARGV[3]  now (unix ms, the application's clock)
-- ARGV[4]  an epoch to use when the feed has none yet
-- ARGV[5]  how long (ms) a new, empty feed's meta lives
-- Returns {0, epoch, last, entries} with the log entries after the cursor
-- (XRANGE form), or {1, epoch, last, members} with the set in force
-- (member, score, member, score ...) when there is no cursor or it cannot be
-- answered exactly.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local epoch = redis.call('HGET', KEYS[3], 'epoch')
if not epoch then
  -- Give the feed an epoch now, so that the cursor handed out stays valid
  -- once the first entry arrives.
  epoch = ARGV[4]
  redis.call('HSET', KEYS[3], 'epoch', epoch)
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
end
local last = redis.call('HGET', KEYS[3], 'last') or '0-0'
local floor = redis.call('HGET', KEYS[3], 'floor') or '0-0'
local c = ARGV[2]
if ARGV[1] == epoch and not less(c, floor) and not less(last, c) then
  return {0, epoch, last, redis.call('XRANGE', KEYS[1], '(' .. c, '+')}
end
return {1, epoch, last, redis.call('ZRANGE', KEYS[2], '(' .. ARGV[3], '+inf', 'BYSCORE', 'WITHSCORES')}
