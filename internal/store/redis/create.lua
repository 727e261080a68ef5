-- CreateSession: store a new refresh-token family unless its id is taken,
-- index it under its subject, and keep the subject within its session limit.
-- KEYS[1]      the family hash
-- KEYS[2]      the subject's index (sorted set: session id -> current exp)
-- ARGV[1..5]   session: subject, client id, scope, auth time, max expiry (unix ms)
-- ARGV[6..12]  first token: jti, iat, exp, access jti, access iat, access exp,
--              access scope (times in unix ms)
-- ARGV[13]     the first access token's DPoP key thumbprint ('' for none)
-- ARGV[14]     the DPoP key thumbprint the session is bound to ('' for none)
-- ARGV[15]     origin
-- ARGV[16]     the session id
-- ARGV[17]     now (unix ms)
-- ARGV[18]     the session limit (0: none)
-- ARGV[19]     BASE, the family key of the id without its random part
-- Returns {1, ended ids...} when the family now exists as asked (created, or
-- created before by this same call), {0} when the id belongs to another
-- family.
local fam, idx = KEYS[1], KEYS[2]
local cur = redis.call('HGET', fam, 'cur')
if cur then
  if cur == ARGV[6] and redis.call('HEXISTS', fam, 'prev') == 0 then
    return {1}
  end
  return {0}
end
local sub, now, limit, base = ARGV[1], tonumber(ARGV[17]), tonumber(ARGV[18]), ARGV[19]
-- The family is written first: Redis refuses a script's first write that
-- can grow memory when it is at maxmemory (OOM), but lets every later one
-- through once the script has written anything, so a clean-up before this
-- would let a full Redis grow.
redis.call('HSET', fam,
  'sub', ARGV[1], 'cid', ARGV[2], 'scope', ARGV[3], 'auth', ARGV[4], 'max', ARGV[5],
  'cur', ARGV[6], 'iat', ARGV[7], 'exp', ARGV[8],
  'aid', ARGV[9], 'aiat', ARGV[10], 'aexp', ARGV[11], 'ascope', ARGV[12],
  'ajkt', ARGV[13], 'jkt', ARGV[14], 'org', ARGV[15])
redis.call('PEXPIREAT', fam, ARGV[8])
local reply = {1}
redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
if limit > 0 then
  -- The subject's live sessions, oldest login first; the oldest end until
  -- the new one fits.
  local live = {}
  for _, sid in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    local f = redis.call('HMGET', family_key(base, sid), 'sub', 'auth')
    if not f[1] then
      redis.call('ZREM', idx, sid)
    elseif f[1] == sub then
      live[#live + 1] = {tonumber(f[2]), sid}
    end
  end
  if #live >= limit then
    table.sort(live, function(a, b)
      if a[1] ~= b[1] then return a[1] < b[1] end
      return a[2] < b[2]
    end)
    for i = 1, #live - limit + 1 do
      redis.call('DEL', family_key(base, live[i][2]))
      redis.call('ZREM', idx, live[i][2])
      reply[#reply + 1] = live[i][2]
    end
  end
end
redis.call('ZADD', idx, ARGV[8], ARGV[16])
reindex_expiry(idx)
return reply
