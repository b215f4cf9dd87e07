--[[
  Session windows in event time for a batch (Kafka Streams session-window rules), in batch
  order. One key per event; a key may repeat.

  Called with a variable key count (file suffix -n): numkeys = 1 + number of events.
  KEYS[1]     replies ledger of the batch's input partition (keys.sessionLedger): a sorted
              set, score = offset, member = "offset|start|merge" (the reply given to it)
  KEYS[1+i]   session key of event i's `by` value (keys.session)
  ARGV[1]     gap in ms
  ARGV[2]     ttl in ms of a session key and of the ledger (set on every write)
  ARGV[3]     max sessions kept per key (the oldest are dropped beyond it)
  ARGV[4]     allowed lateness in ms
  ARGV[5]     first offset of the batch: ledger entries below it are committed and dropped
  ARGV[4+2i]  event i's event time (ms)
  ARGV[5+2i]  event i's offset

  State per key: "seen;start,end;start,end;..." — seen is the highest event time the key
  has taken (its stream time); sessions are ordered, disjoint and more than gap apart. Each
  session is exactly a connected group of the key's events (neighbours at most gap apart),
  so the final sessions do not depend on the order the events arrived in.

  Rules for an event at time t that is not late (t >= seen - lateness):
    - every session with start - gap <= t <= end + gap is merged with t into one session
      [min start, t, max end]; none -> a new session [t, t]
    - when that changed a known start (a merge, or a start moved earlier), the reply carries
      "newStart,newEnd,oldStart,..." with every old start whose id is now replaced
  A late event (t < seen - lateness) changes nothing: sessions that old are final. It gets
  the session whose [start - gap, end + gap] holds it, or one of its own (start t, not kept).

  Replay: the reply to each (partition, offset) is kept in the ledger until a later batch of
  that partition starts past it (which means it was committed), so re-processing the same
  batch after a crash answers the same starts and merges, and changes no state.

  Returns { starts[], merges[], dropped } with one start and one merge string ("" when none)
  per event; dropped = sessions evicted by the per-key bound.
]]
local gap = tonumber(ARGV[1])
local ttl = ARGV[2]
local keep = tonumber(ARGV[3])
local lateness = tonumber(ARGV[4])
local ledger = KEYS[1]
local cache, order = {}, {}
local dropped = 0

redis.call('ZREMRANGEBYSCORE', ledger, '-inf', '(' .. ARGV[5])

local function load(key)
  local st = cache[key]
  if st then return st end
  st = { seen = nil, list = {} }
  local raw = redis.call('GET', key)
  if raw then
    local seen = string.match(raw, '^(%-?%d+)')
    st.seen = tonumber(seen)
    for s, e in string.gmatch(raw, ';(%-?%d+),(%-?%d+)') do
      st.list[#st.list + 1] = { tonumber(s), tonumber(e) }
    end
  end
  cache[key] = st
  order[#order + 1] = key
  return st
end

local function assign(st, t)
  local list = st.list
  if st.seen and t < st.seen - lateness then
    for j = 1, #list do
      if t >= list[j][1] - gap and t <= list[j][2] + gap then return list[j][1], '' end
    end
    return t, ''
  end
  if st.seen == nil or t > st.seen then st.seen = t end
  local first, last = nil, nil
  for j = 1, #list do
    if t >= list[j][1] - gap and t <= list[j][2] + gap then
      if first == nil then first = j end
      last = j
    end
  end
  if first == nil then
    local pos = #list + 1
    for j = 1, #list do
      if t < list[j][1] then pos = j; break end
    end
    table.insert(list, pos, { t, t })
    while #list > keep do table.remove(list, 1); dropped = dropped + 1 end
    return t, ''
  end
  local s = math.min(t, list[first][1])
  local e = math.max(t, list[last][2])
  local old = {}
  for j = first, last do
    if list[j][1] ~= s then old[#old + 1] = string.format('%.0f', list[j][1]) end
  end
  for j = last, first, -1 do table.remove(list, j) end
  table.insert(list, first, { s, e })
  if #old == 0 then return s, '' end
  return s, string.format('%.0f,%.0f,', s, e) .. table.concat(old, ',')
end

local starts, merges = {}, {}
for i = 1, #KEYS - 1 do
  local off = ARGV[5 + 2 * i]
  local seen = redis.call('ZRANGEBYSCORE', ledger, off, off)
  local hit = nil
  for _, m in ipairs(seen) do
    local o, s, merge = string.match(m, '^(%d+)|(%-?%d+)|(.*)$')
    if o == off then hit = { tonumber(s), merge } end
  end
  if hit then
    starts[i], merges[i] = hit[1], hit[2]
  else
    starts[i], merges[i] = assign(load(KEYS[1 + i]), tonumber(ARGV[4 + 2 * i]))
    redis.call('ZADD', ledger, off, off .. '|' .. string.format('%.0f', starts[i]) .. '|' .. merges[i])
  end
end
if #KEYS > 1 then redis.call('PEXPIRE', ledger, ttl) end

for _, key in ipairs(order) do
  local st = cache[key]
  local parts = { string.format('%.0f', st.seen or 0) }
  for j = 1, #st.list do
    parts[#parts + 1] = string.format('%.0f,%.0f', st.list[j][1], st.list[j][2])
  end
  redis.call('SET', key, table.concat(parts, ';'), 'PX', ttl)
end
return { starts, merges, dropped }
