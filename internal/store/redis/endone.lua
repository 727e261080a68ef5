-- EndSession: delete one family and its index entry.
-- KEYS[1]  the family hash
-- KEYS[2]  the subject's index
-- ARGV[1]  the session id
-- ARGV[2]  now (unix ms)
-- Returns {0} when there was no live family, else {1, sub, cid, scope, auth,
-- max, org, jkt}.
local fam, idx, sid, now = KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2])
local f = redis.call('HMGET', fam, 'sub', 'cid', 'scope', 'auth', 'max', 'exp', 'org', 'jkt')
redis.call('DEL', fam)
unindex(idx, sid)
if not f[1] or tonumber(f[6]) <= now then
  return {0}
end
return {1, f[1], f[2], f[3], f[4], f[5], f[7] or '', f[8] or ''}
