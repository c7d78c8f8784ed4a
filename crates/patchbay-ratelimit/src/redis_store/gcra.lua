-- GCRA (generic cell rate algorithm) for one pacing key, atomically.
--
-- KEYS[1]  the key's theoretical arrival time (TAT): Redis clock, microseconds
-- ARGV[1]  emission interval in microseconds (the pace's period / requests), >= 1
-- ARGV[2]  burst tolerance in microseconds ((burst - 1) * interval), >= 0
--
-- Returns 0 when a slot was taken (the TAT moved one interval on), otherwise the
-- microseconds until the next slot is free (nothing changed). The key expires
-- when its TAT is reached: by then the key is back at full burst, which is what
-- a missing key means.
--
-- The clock is the Redis server's (TIME), so every process sharing this Redis
-- shares one clock whatever their own clocks say.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])

local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end

local allowed_at = tat - tolerance
if now < allowed_at then
  return math.ceil(allowed_at - now)
end

local next_tat = tat + interval
-- '%.0f': a plain integer (Lua's own formatting of large numbers uses exponents).
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
  'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
