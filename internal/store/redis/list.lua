-- Sessions: list a subject's live sessions.
-- KEYS[1]  the subject's index
-- ARGV[1]  the subject
-- ARGV[2]  now (unix ms)
-- ARGV[3]  BASE, the family key prefix of the index's tag
-- Returns, per live session of the subject, 17 values: its id, then sub, cid,
-- scope, auth, max, cur, iat, exp, aid, aiat, aexp, ascope, ajkt, jkt, org,
-- rot ("" when absent). Entries expired by now, and entries whose family is gone, leave
-- the index.
local idx, sub, now, base = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
  local f = redis.call('HMGET', family_key(base, sid), 'sub', 'cid', 'scope', 'auth', 'max',
    'cur', 'iat', 'exp', 'aid', 'aiat', 'aexp', 'ascope', 'ajkt', 'jkt', 'org', 'rot')
  if not f[1] then
    redis.call('ZREM', idx, sid)
  elseif f[1] == sub and tonumber(f[8]) > now then
    out[#out + 1] = sid
    for i = 1, 16 do
      out[#out + 1] = f[i] or ''
    end
  end
end
return out
