-- KEYS: pair, version; ARGV: the pair blob. The first seed stores it at version 1; every seed
-- answers the stored pair and its version.
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('SET', KEYS[2], 1)
end
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2])}
