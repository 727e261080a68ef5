-- Rotate: replace the current refresh token of a family, atomically.
-- KEYS[1]     the family hash
-- KEYS[2]     the subject's index
-- ARGV[1]     the presented jti
-- ARGV[2]     now (unix ms, the application's clock)
-- ARGV[3]     grace (ms; 0 disables idempotent retries)
-- ARGV[4..10] next token: jti, iat, exp, access jti, access iat, access exp,
--             access scope (times in unix ms)
-- ARGV[11]    the session id
-- Returns {0} not found, {3} reused (the family is deleted), or {1, fields}
-- rotated, {2, fields} retried, where fields are the family's sub, cid,
-- scope, auth, max, cur, iat, exp, aid, aiat, aexp, ascope, org after the call.
local key, idx, sid = KEYS[1], KEYS[2], ARGV[11]
local f = redis.call('HMGET', key, 'sub', 'cid', 'scope', 'auth', 'max',
  'cur', 'iat', 'exp', 'aid', 'aiat', 'aexp', 'ascope', 'org', 'prev', 'rot')
local cur, org, prev, rot = f[6], f[13] or '', f[14], f[15]
if not cur then
  return {0}
end
local presented, now = ARGV[1], tonumber(ARGV[2])
-- Expired by the application's clock, even if Redis has not caught up.
if tonumber(f[8]) <= now then
  redis.call('DEL', key)
  unindex(idx, sid)
  return {0}
end
if cur == presented then
  redis.call('HSET', key, 'prev', cur, 'rot', ARGV[2],
    'cur', ARGV[4], 'iat', ARGV[5], 'exp', ARGV[6],
    'aid', ARGV[7], 'aiat', ARGV[8], 'aexp', ARGV[9], 'ascope', ARGV[10])
  redis.call('PEXPIREAT', key, ARGV[6])
  redis.call('ZADD', idx, ARGV[6], sid)
  reindex_expiry(idx)
  return {1, f[1], f[2], f[3], f[4], f[5],
    ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], org}
end
if prev and prev == presented then
  -- This very request rotated the family already; its reply was lost.
  if cur == ARGV[4] then
    return {1, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], org}
  end
  -- An idempotent retry inside the grace window: hand out the current token.
  local grace = tonumber(ARGV[3])
  if grace > 0 and now - tonumber(rot) <= grace then
    return {2, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], org}
  end
end
-- Reuse of a rotated-away token (RFC 9700 section 4.14.2): revoke the family.
redis.call('DEL', key)
unindex(idx, sid)
return {3}
