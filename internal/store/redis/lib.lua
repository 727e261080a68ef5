-- Shared helpers, prepended to every script that touches a subject's index.
-- A session id is "<tag>.<random>"; its family lives at
-- <prefix>s:{<tag>}.<random> and its subject's index at <prefix>u:{<tag>}, so
-- a script given the index key and BASE (<prefix>s:{<tag>}) can reach every
-- family of the index in the same hash slot.
local TAGLEN = 16

-- family_key returns the key of the family sid, under base.
local function family_key(base, sid)
  return base .. string.sub(sid, TAGLEN + 1)
end

-- reindex_expiry makes the index expire with its longest-lived member, so
-- it never outlives the sessions it lists.
local function reindex_expiry(idx)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] then
    redis.call('PEXPIREAT', idx, top[2])
  end
end

-- unindex removes sid from the index, and the index once it is empty.
local function unindex(idx, sid)
  redis.call('ZREM', idx, sid)
  if redis.call('ZCARD', idx) == 0 then
    redis.call('DEL', idx)
  end
end

-- end_subject deletes every live family of sub listed in idx and returns
-- their ids appended to out. Entries expired by now, and entries whose family
-- is gone, leave the index.
local function end_subject(idx, base, sub, now, out)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
  for _, sid in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    local fk = family_key(base, sid)
    local owner = redis.call('HGET', fk, 'sub')
    if not owner then
      redis.call('ZREM', idx, sid)
    elseif owner == sub then
      redis.call('DEL', fk)
      redis.call('ZREM', idx, sid)
      out[#out + 1] = sid
    end
  end
  if redis.call('ZCARD', idx) == 0 then
    redis.call('DEL', idx)
  end
  return out
end
