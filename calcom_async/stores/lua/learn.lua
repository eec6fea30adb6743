-- ARGV: status, retry_after ms (-1: none), slack ms, same-window ms, ttl ms, then per limit
-- name, limit, remaining, reset ms (-1: none).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local key = KEYS[1]
redis.call('DEL', KEYS[2])
local slack = tonumber(ARGV[3])
local same = tonumber(ARGV[4])
local i = 6
while i + 3 <= #ARGV + 1 do
  local n, lim = ARGV[i], tonumber(ARGV[i + 1])
  local rem, rs = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  i = i + 4
  local at = 0
  if rs >= 0 then at = now + rs + slack end
  local old = redis.call('HMGET', key, 'L:' .. n, 'R:' .. n, 'T:' .. n, 'F:' .. n)
  if not old[1] then
    redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, rem, 'T:' .. n, at, 'F:' .. n, now)
  else
    local r, tt, f = tonumber(old[2]), tonumber(old[3]), tonumber(old[4])
    if tt == 0 then
      -- refilled: an answer still about the old window (reset within a second of the refill,
      -- the server rounds up) tells nothing about the new one
      if at == 0 or at > f + 1000 + slack then
        redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, math.min(r, rem), 'T:' .. n, at)
      end
    elseif at > tt + same then
      redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, rem, 'T:' .. n, at, 'F:' .. n, now)
    else
      local nt = tt
      if at > 0 and at < tt then nt = at end
      redis.call('HSET', key, 'L:' .. n, lim, 'R:' .. n, math.min(r, rem), 'T:' .. n, nt)
    end
  end
end
if ARGV[1] == '429' then
  local wait = tonumber(ARGV[2])
  if wait < 0 then wait = 60000 end
  local until_ = now + wait + slack
  local b = tonumber(redis.call('HGET', key, 'blocked') or '0')
  if until_ > b then redis.call('HSET', key, 'blocked', until_) end
end
redis.call('PEXPIRE', key, ARGV[5])
return 0
