-- LogoutAll: check a presented refresh token, then end every session of its
-- subject.
-- KEYS[1]  the family hash of the presented token
-- KEYS[2]  the subject's index
-- ARGV[1]  the presented jti
-- ARGV[2]  now (unix ms)
-- ARGV[3]  grace (ms; 0: only the current token is accepted)
-- ARGV[4]  the session id
-- ARGV[5]  BASE, the family key prefix of the index's tag
-- ARGV[6]  the thumbprint of the request's DPoP proof key ('' for none)
-- Returns {0} not found, {3} reused (that family is deleted), {4} the
-- session is bound to another DPoP key (nothing changed), or {1, sub, ended
-- ids...}.
local fam, idx, sid, now = KEYS[1], KEYS[2], ARGV[4], tonumber(ARGV[2])
local f = redis.call('HMGET', fam, 'sub', 'cur', 'exp', 'prev', 'rot', 'jkt')
if not f[2] then
  return {0}
end
if tonumber(f[3]) <= now then
  redis.call('DEL', fam)
  unindex(idx, sid)
  return {0}
end
local presented, grace = ARGV[1], tonumber(ARGV[3])
local ok = f[2] == presented
if not ok and f[4] and f[4] == presented and grace > 0 and now - tonumber(f[5]) <= grace then
  ok = true
end
if not ok then
  -- Reuse of a rotated-away token (RFC 9700 section 4.14.2).
  redis.call('DEL', fam)
  unindex(idx, sid)
  return {3}
end
-- A session bound to a DPoP key (RFC 9449 section 5) needs a proof by it.
local jkt = f[6] or ''
if jkt ~= '' and ARGV[6] ~= jkt then
  return {4}
end
local reply = end_subject(idx, ARGV[5], f[1], now, {1, f[1]})
if redis.call('EXISTS', fam) == 1 then
  -- Not indexed (it should be): it ends all the same.
  redis.call('DEL', fam)
  reply[#reply + 1] = sid
end
return reply
