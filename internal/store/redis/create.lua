-- CreateSession: store a new refresh-token family unless its id is taken.
-- KEYS[1]     the family hash
-- ARGV[1..5]  session: subject, client id, scope, auth time, max expiry (unix ms)
-- ARGV[6..12] first token: jti, iat, exp, access jti, access iat, access exp,
--             access scope (times in unix ms)
-- ARGV[13]    the first access token's DPoP key thumbprint ('' for none)
-- ARGV[14]    the DPoP key thumbprint the session is bound to ('' for none)
-- Returns 1 when the family now exists as asked (created, or created before
-- by this same call), 0 when the id belongs to another family.
local cur = redis.call('HGET', KEYS[1], 'cur')
if cur then
  if cur == ARGV[6] and redis.call('HEXISTS', KEYS[1], 'prev') == 0 then
    return 1
  end
  return 0
end
redis.call('HSET', KEYS[1],
  'sub', ARGV[1], 'cid', ARGV[2], 'scope', ARGV[3], 'auth', ARGV[4], 'max', ARGV[5],
  'cur', ARGV[6], 'iat', ARGV[7], 'exp', ARGV[8],
  'aid', ARGV[9], 'aiat', ARGV[10], 'aexp', ARGV[11], 'ascope', ARGV[12],
  'ajkt', ARGV[13], 'jkt', ARGV[14])
redis.call('PEXPIREAT', KEYS[1], ARGV[8])
return 1
