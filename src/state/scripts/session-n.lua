--[[
  Session assignment for a batch, in batch order. One key per event; a key may repeat.

  Called with a variable key count (file suffix -n): numkeys = number of events.
  KEYS[i]    session key of event i's `by` value (keys.session)
  ARGV[1]    gap in ms
  ARGV[2]    ttl in ms of a session key (set on every write)
  ARGV[3]    how many recent sessions to keep per key
  ARGV[3+i]  event i's event time (ms)

  State per key: "start,lo,hi;start,lo,hi;..." ordered by time. start is the event time of
  the session's first event (the session id is derived from it, in Node); [lo, hi] is the
  range of event times the session has taken. Ranges never overlap.

  Rules for an event at time t:
    - t inside a session's [lo, hi]                 -> that session, nothing changes
    - else the nearest session within gap of t       -> that session, lo or hi moves to t
      (ties: the earlier session). start never moves, so an id already handed out stays.
    - else                                           -> a new session starting at t
  Keeping only the newest ARGV[3] sessions, oldest dropped.

  Replay: after a batch ran, every event's time lies inside its session's range, and ranges
  only grow and stay disjoint, so re-running the same events answers the same starts — as
  long as the session is still among the kept ones and the key has not expired.

  Returns one integer per event: the start of its session.
]]
local gap = tonumber(ARGV[1])
local ttl = ARGV[2]
local keep = tonumber(ARGV[3])
local cache, order = {}, {}

local function load(key)
  local list = cache[key]
  if list then return list end
  list = {}
  local raw = redis.call('GET', key)
  if raw then
    for s, lo, hi in string.gmatch(raw, '(%-?%d+),(%-?%d+),(%-?%d+)') do
      list[#list + 1] = { tonumber(s), tonumber(lo), tonumber(hi) }
    end
  end
  cache[key] = list
  order[#order + 1] = key
  return list
end

local function assign(list, t)
  local best, bestDist = nil, nil
  for j = 1, #list do
    local s = list[j]
    if t >= s[2] and t <= s[3] then return s[1] end
    local d
    if t < s[2] then d = s[2] - t else d = t - s[3] end
    if d <= gap and (bestDist == nil or d < bestDist) then best, bestDist = j, d end
  end
  if best then
    local s = list[best]
    if t < s[2] then s[2] = t else s[3] = t end
    return s[1]
  end
  local pos = #list + 1
  for j = 1, #list do
    if t < list[j][2] then pos = j; break end
  end
  table.insert(list, pos, { t, t, t })
  while #list > keep do table.remove(list, 1) end
  return t
end

local out = {}
for i = 1, #KEYS do
  out[i] = assign(load(KEYS[i]), tonumber(ARGV[3 + i]))
end

for _, key in ipairs(order) do
  local list = cache[key]
  local parts = {}
  for j = 1, #list do
    local s = list[j]
    parts[j] = string.format('%.0f,%.0f,%.0f', s[1], s[2], s[3])
  end
  redis.call('SET', key, table.concat(parts, ';'), 'PX', ttl)
end
return out
