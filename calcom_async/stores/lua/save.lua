-- KEYS: pair, version; ARGV: new pair blob, expected version. The fence: written only over the
-- version the refresh started from.
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if v == tonumber(ARGV[2]) + 1 and redis.call('GET', KEYS[1]) == ARGV[1] then
  return 1  -- this very write, sent again after its reply was lost (a reconnect)
end
if v ~= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], v + 1)
return 1
