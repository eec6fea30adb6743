-- the holder keeps its lock alive while it works (a slow refresh must not let a second process
-- refresh the same token); a holder that dies stops extending it, and it expires
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
