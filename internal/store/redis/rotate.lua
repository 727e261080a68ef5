-- Rotate: replace the current refresh token of a family, atomically.
-- KEYS[1]     the family hash
-- KEYS[2]     the subject's index
-- ARGV[1]     the presented jti
-- ARGV[2]     now (unix ms, the application's clock)
-- ARGV[3]     grace (ms; 0 disables idempotent retries)
-- ARGV[4..10] next token: jti, iat, exp, access jti, access iat, access exp,
--             access scope (times in unix ms)
-- ARGV[11]    the next access token's DPoP key thumbprint ('' for none)
-- ARGV[12]    the thumbprint of the request's DPoP proof key ('' for none)
-- ARGV[13]    '1' when the client must send a DPoP proof
-- ARGV[14]    the session id
-- Returns {0} not found, {3} reused (the family is deleted), {4} the session
-- is bound to another DPoP key, {5} a required DPoP proof is missing (both:
-- nothing changed), {1, sub, cid, scope, auth, max, jkt, org} rotated (the
-- current token is the one in ARGV, so it is not sent back), or {2, fields}
-- retried, where fields are the family's sub, cid, scope, auth, max, cur,
-- iat, exp, aid, aiat, aexp, ascope, ajkt, jkt, org.
local key, idx, sid = KEYS[1], KEYS[2], ARGV[14]
local f = redis.call('HMGET', key, 'sub', 'cid', 'scope', 'auth', 'max',
  'cur', 'iat', 'exp', 'aid', 'aiat', 'aexp', 'ascope', 'ajkt', 'jkt', 'org', 'prev', 'rot')
local cur, ajkt, jkt, org, prev, rot = f[6], f[13] or '', f[14] or '', f[15] or '', f[16], f[17]
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
-- What the presented token may do: rotate, repeat a lost rotation, retry
-- inside the grace window; anything else is a reuse.
local action
if cur == presented then
  action = 'rotate'
elseif prev and prev == presented then
  if cur == ARGV[4] then
    action = 'repeat'
  elseif tonumber(ARGV[3]) > 0 and now - tonumber(rot) <= tonumber(ARGV[3]) then
    action = 'retry'
  end
end
if not action then
  -- Reuse of a rotated-away token (RFC 9700 section 4.14.2): revoke the family.
  redis.call('DEL', key)
  unindex(idx, sid)
  return {3}
end
-- DPoP (RFC 9449 section 5), after reuse detection: a bound session needs
-- a proof by its key; a client may require a proof.
if jkt ~= '' and ARGV[12] ~= jkt then
  return {4}
end
if ARGV[13] == '1' and ARGV[12] == '' then
  return {5}
end
if action == 'rotate' then
  redis.call('HSET', key, 'prev', cur, 'rot', ARGV[2],
    'cur', ARGV[4], 'iat', ARGV[5], 'exp', ARGV[6],
    'aid', ARGV[7], 'aiat', ARGV[8], 'aexp', ARGV[9], 'ascope', ARGV[10], 'ajkt', ARGV[11])
  redis.call('PEXPIREAT', key, ARGV[6])
  -- The index expires with its longest-lived member. When the family was
  -- indexed already, its new expiry can only push that later (GT: no
  -- lookup of the others); an entry that was missing (the index may be
  -- new, without a TTL) takes the full recomputation.
  if redis.call('ZADD', idx, ARGV[6], sid) == 1 then
    reindex_expiry(idx)
  else
    redis.call('PEXPIREAT', idx, ARGV[6], 'GT')
  end
  return {1, f[1], f[2], f[3], f[4], f[5], jkt, org}
end
if action == 'repeat' then
  -- This very request rotated the family already; its reply was lost.
  return {1, f[1], f[2], f[3], f[4], f[5], jkt, org}
end
return {2, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], ajkt, jkt, org}
