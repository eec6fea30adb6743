-- The budget of one bucket is a hash: L:<name> limit, R:<name> remaining, T:<name> reset time
-- (ms, Redis clock; 0 = refilled, not learnt since), F:<name> when it was refilled; "blocked" (ms)
-- after a 429. Times come from Redis's own clock, so every process agrees on them.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
local blocked = tonumber(redis.call('HGET', key, 'blocked') or '0')
if now < blocked then return blocked - now end
local all = redis.call('HGETALL', key)
local h = {}
local names = {}
for i = 1, #all, 2 do
  h[all[i]] = all[i + 1]
  if string.sub(all[i], 1, 2) == 'L:' then names[#names + 1] = string.sub(all[i], 3) end
end
if #names == 0 then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
  return -1
end
local wait = 0
local pending = false
local unknown = false
for _, n in ipairs(names) do
  local lim = tonumber(h['L:' .. n])
  local rem = tonumber(h['R:' .. n])
  local reset = tonumber(h['T:' .. n])
  local from = tonumber(h['F:' .. n] or '0')
  if reset > 0 and now >= reset then
    rem = lim
    from = now
    redis.call('HSET', key, 'R:' .. n, lim, 'T:' .. n, 0, 'F:' .. n, now)
  end
  if rem < 1 then
    if reset > 0 and now < reset then
      if reset - now > wait then wait = reset - now end
    elseif now - from < tonumber(ARGV[1]) then
      -- spent since the refill, and the answers that tell when this window ends are still
      -- on their way: wait for one (a probe now would be one request over the limit)
      pending = true
    else
      unknown = true  -- no answer came for a while: one probe finds out
    end
  end
end
if wait > 0 then return wait end
if pending then return -1 end
if unknown then
  if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 0 end
  return -1
end
for _, n in ipairs(names) do redis.call('HINCRBY', key, 'R:' .. n, -1) end
redis.call('PEXPIRE', key, ARGV[2])
return 0
