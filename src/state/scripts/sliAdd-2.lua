--[=[
  Count one batch of SLI observations, in one round trip, exactly once per input offset.

  KEYS[1]  window meta hash (keys.windowMeta): closed, first, hw|<topic|partition>, seen|<topic|partition>
  KEYS[2]  open windows zset (keys.sliOpenWindows): window hash key -> bucket start
  ARGV[1]  JSON {
             now, bucketMs, ttl,                          -- ms; ttl applies to every key written
             known: knownSeriesKey|false,                 -- keys.sliKnownSeries (idle close, sliClose-3.lua)
             parts:  [[fenceKey, "topic|partition", lastOffset, highEventTime|false]],
             series: [[seriesSetKey|"", maxSeries, sli, historyIndexKey|"",
                       labelsKey, windowPrefix, historyPrefix|"",              -- as observed
                       otherLabelsKey, otherWindowPrefix, otherHistoryPrefix|""]],  -- when capped
             agg:    [[partIdx, minOffset, maxOffset, seriesIdx, bucketStart,
                       count, good, {latencyBin: count}, latencyMax|false]]
           }
  The caller sums its observations per (partition, series, bucket) into agg entries (one
  entry per observation is also valid). An entry is counted or skipped whole; when a
  partition's fence falls inside an entry's offset range (a replay with other batch
  boundaries) nothing is written and {-1} is returned: the caller then resends one entry per
  observation.
  Keys named in ARGV (fences, series sets, window hashes) carry the same {topology} hash tag
  as KEYS, so they live in the same cluster slot.

  Per input partition, offsets <= its fence (highest offset already counted) are skipped;
  the fence then moves to lastOffset. A series is admitted to its SLI's set while the set has
  fewer than maxSeries members, otherwise it counts under the __other__ labels. An
  observation whose bucket is already closed (bucketStart + bucketMs <= closed) is late: it
  adds 1 to field l of the series' next open window (start = closed) and nothing else.

  Known series: every series counted (as observed or as __other__) is recorded in the known
  hash, window prefix -> JSON [sli, labelsKey, latest bucket start counted], so that the
  idle close can give it an empty window for each bucket it closes.

  Window hash fields: t total, g good, l late, n latency count, m latency max,
  b<key>|z latency bin counts, _s sli, _l labelsKey, _t start, _h history prefix, _x history index.

  Returns {-1} as said above, or {counted (not fenced, late included), skipped (fenced), late, closed|"",
           {fence before this batch, per part ("-1": none)},
           {per series: 1 counted as observed, 0 counted as __other__, -1 nothing counted}}.
]=]
local meta, open = KEYS[1], KEYS[2]
local p = cjson.decode(ARGV[1])
local bucketMs, ttl, now = tonumber(p.bucketMs), tonumber(p.ttl), tonumber(p.now)
local closed = tonumber(redis.call('HGET', meta, 'closed') or '')

local function num(n) return string.format('%.0f', n) end

local fence = {}
for i, part in ipairs(p.parts) do
  fence[i] = tonumber(redis.call('GET', part[1]) or '-1')
end

-- series index -> {labelsKey, windowPrefix, historyPrefix}, admitted on its first counted observation
local target = {}
local function resolve(si)
  local t = target[si]
  if t then return t end
  local s = p.series[si]
  local setKey, maxSeries, raw = s[1], tonumber(s[2]), s[5]
  local admitted = true
  if setKey ~= '' then
    if redis.call('SISMEMBER', setKey, raw) == 0 then
      if redis.call('SCARD', setKey) < maxSeries then
        redis.call('SADD', setKey, raw)
      else
        admitted = false
      end
    end
    redis.call('PEXPIRE', setKey, num(ttl))
  end
  if admitted then t = {s[5], s[6], s[7]} else t = {s[8], s[9], s[10]} end
  target[si] = t
  return t
end

-- An entry cut by its partition's fence cannot be split here: ask for one entry per observation.
for _, e in ipairs(p.agg) do
  local f = fence[e[1]]
  if tonumber(e[2]) <= f and tonumber(e[3]) > f then return {-1} end
end

local agg, order = {}, {}
local counted, skipped, late = 0, 0, 0
local minStart = nil
for _, e in ipairs(p.agg) do
  local pi, si, start, n = e[1], e[4], tonumber(e[5]), tonumber(e[6])
  if tonumber(e[3]) <= fence[pi] then
    skipped = skipped + n
  else
    local t = resolve(si)
    local isLate = closed ~= nil and start + bucketMs <= closed
    local bstart = start
    if isLate then bstart = closed end
    local key = t[2] .. num(bstart)
    local a = agg[key]
    if not a then
      a = {g = 0, t = 0, l = 0, n = 0, m = nil, bins = {}, start = bstart, si = si, target = t}
      agg[key] = a
      order[#order + 1] = key
    end
    counted = counted + n
    if isLate then
      a.l = a.l + n
      late = late + n
    else
      a.t = a.t + n
      a.g = a.g + tonumber(e[7])
      for bin, c in pairs(e[8]) do
        a.bins[bin] = (a.bins[bin] or 0) + c
        a.n = a.n + c
      end
      if e[9] ~= false then
        local v = tonumber(e[9])
        if a.m == nil or v > a.m then a.m = v end
      end
      if minStart == nil or start < minStart then minStart = start end
    end
  end
end

for _, key in ipairs(order) do
  local a = agg[key]
  local s = p.series[a.si]
  if a.t > 0 then redis.call('HINCRBY', key, 't', a.t) end
  if a.g > 0 then redis.call('HINCRBY', key, 'g', a.g) end
  if a.l > 0 then redis.call('HINCRBY', key, 'l', a.l) end
  if a.n > 0 then
    redis.call('HINCRBY', key, 'n', a.n)
    for bin, c in pairs(a.bins) do redis.call('HINCRBY', key, bin, c) end
    local m = tonumber(redis.call('HGET', key, 'm') or '')
    if m == nil or a.m > m then redis.call('HSET', key, 'm', string.format('%.17g', a.m)) end
  end
  redis.call('HSET', key, '_s', s[3], '_l', a.target[1], '_t', num(a.start), '_h', a.target[3], '_x', s[4])
  redis.call('PEXPIRE', key, num(ttl))
  redis.call('ZADD', open, a.start, key)
end

if p.known and p.known ~= false then
  local latest, latestOrder = {}, {}
  for _, key in ipairs(order) do
    local a = agg[key]
    local prefix = a.target[2]
    if latest[prefix] == nil then
      latestOrder[#latestOrder + 1] = prefix
      latest[prefix] = {sli = p.series[a.si][3], labels = a.target[1], start = a.start}
    elseif a.start > latest[prefix].start then
      latest[prefix].start = a.start
    end
  end
  for _, prefix in ipairs(latestOrder) do
    local l = latest[prefix]
    local cur = redis.call('HGET', p.known, prefix)
    if not cur or tonumber(cjson.decode(cur)[3]) < l.start then
      redis.call('HSET', p.known, prefix, cjson.encode({l.sli, l.labels, num(l.start)}))
    end
  end
  if #latestOrder > 0 then redis.call('PEXPIRE', p.known, num(ttl)) end
end

for i, part in ipairs(p.parts) do
  local last = tonumber(part[3])
  if last > fence[i] then
    redis.call('SET', part[1], num(last), 'PX', num(ttl))
  else
    redis.call('PEXPIRE', part[1], num(ttl))
  end
  local pid, high = part[2], part[4]
  if high ~= false then
    local hw = tonumber(redis.call('HGET', meta, 'hw|' .. pid) or '')
    if hw == nil or tonumber(high) > hw then redis.call('HSET', meta, 'hw|' .. pid, num(high)) end
  end
  redis.call('HSET', meta, 'seen|' .. pid, num(now))
end
if minStart ~= nil then
  local first = tonumber(redis.call('HGET', meta, 'first') or '')
  if first == nil or minStart < first then redis.call('HSET', meta, 'first', num(minStart)) end
end
redis.call('PEXPIRE', meta, num(ttl))
redis.call('PEXPIRE', open, num(ttl))
local fencesOut, flags = {}, {}
for i = 1, #p.parts do fencesOut[i] = num(fence[i]) end
for i = 1, #p.series do
  local t = target[i]
  if t == nil then flags[i] = -1 elseif t[1] == p.series[i][5] then flags[i] = 1 else flags[i] = 0 end
end
return {counted, skipped, late, closed and num(closed) or '', fencesOut, flags}
