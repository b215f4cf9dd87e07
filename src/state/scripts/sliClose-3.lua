--[=[
  Close SLI windows up to the watermark; each window is claimed by exactly one batch.

  KEYS[1]  window meta hash (keys.windowMeta): closed, hw|<partition id>, seen|<partition id>
  KEYS[2]  open windows zset (keys.sliOpenWindows)
  KEYS[3]  emit ledger hash (keys.sliEmitLedger): "topic|partition" -> JSON {o, w, a}
  ARGV[1]  JSON {
             now, bucketMs, latenessMs, idleMs,          -- ms
             watermark: number|false,                     -- false: compute it from hw|/seen|
             owner: "topic|partition"|"", first, last,    -- the input batch that will carry the output
             chunkBuckets, ttl, historyTtl, maxClaim,
             idle: false | {                              -- the wall-clock close (SloObserver.closeIdle)
               lease, holder, leaseMs,                    -- lease key (same hash tag), who asks, its TTL
               known,                                     -- known-series hash (keys.sliKnownSeries, see sliAdd-2.lua)
               skewMs                                     -- the sources' largest maxFutureSkew
             }
           }

  Watermark (same rule as computeWatermark in src/window/watermark.ts): min of hw over the
  partitions seen less than idleMs ago, or the max over all when every one is idle, minus
  latenessMs; none while a partition seen less than idleMs ago has no hw yet (assigned, its
  backlog not read). closed = floor(watermark / bucketMs) * bucketMs, never moving backwards.

  One close claims at most maxClaim windows, whole buckets only (a bucket with more windows
  than that is claimed whole). When windows up to the watermark are left over, closed stops
  at the first bucket not claimed, so that it always means "every window before it is
  claimed and in the history": the SLO evaluator and lateness rely on that. Later batches
  claim the rest.

  Emit ledger: what the owner's previous batch carried (window keys w, alert JSON a, its last
  offset o). If this batch starts at or before o, that batch was not committed (a retry or a
  replay after a crash or rebalance): its windows and alerts are returned again. Otherwise
  it was committed: its window hashes are deleted. Newly claimed windows join the entry, and
  o becomes this batch's last offset. With owner "" nothing is kept (windows are read and
  deleted at once).

  Claiming a window removes it from the open set and adds its (good,total) to the packed
  history string of its series (BITFIELD u32 pair at bucket index within the chunk).

  Idle close (idle ~= false): only the lease holder may run it (the lease is taken when free
  and renewed when held, in this script, so the check and the claim are one step). When every
  partition with progress was seen idleMs ago or earlier, the watermark also follows the wall
  clock (same rule as idleWatermark in src/window/watermark.ts):
    watermark = max(max hw - latenessMs, now - skewMs - latenessMs)
  and every known series gets a window (t = 0 unless it has one) in every bucket from the old
  closed boundary (or the first bucket ever counted) to the new one, before the claim, so the
  empty buckets are claimed, published and evaluated like any other. Windows are created
  for whole buckets, at most maxClaim per call (one bucket alone may have more); closed stops
  after the last bucket filled, and the next call goes on.
  While a partition is active nothing new is claimed (the batches close); the owner's ledger
  entry is still handled.

  Returns {watermark|"", closed|"", {alertJson...}, status, {windowKey, field, value, ...}...},
  status "ok" (closed as asked), "busy" (idle: another instance holds the lease; nothing
  done) or "active" (idle: a partition is active, nothing new claimed).
]=]
local meta, open, ledger = KEYS[1], KEYS[2], KEYS[3]
local p = cjson.decode(ARGV[1])
local now, bucketMs = tonumber(p.now), tonumber(p.bucketMs)
local function num(n) return string.format('%.0f', n) end

local idle = p.idle
if idle ~= false then
  local holder = redis.call('GET', idle.lease)
  if holder and holder ~= idle.holder then
    return {'', redis.call('HGET', meta, 'closed') or '', {}, 'busy'}
  end
  redis.call('SET', idle.lease, idle.holder, 'PX', num(idle.leaseMs))
end

local status = 'ok'
local watermark = nil
if p.watermark ~= false then
  watermark = tonumber(p.watermark)
else
  local flat = redis.call('HGETALL', meta)
  local hw, seen = {}, {}
  for i = 1, #flat, 2 do
    local f = flat[i]
    if string.sub(f, 1, 3) == 'hw|' then
      hw[string.sub(f, 4)] = tonumber(flat[i + 1])
    elseif string.sub(f, 1, 5) == 'seen|' then
      seen[string.sub(f, 6)] = tonumber(flat[i + 1])
    end
  end
  local minActive, maxAll, waiting, anyActive = nil, nil, false, false
  for pid, s in pairs(seen) do
    if now - s < tonumber(p.idleMs) then
      anyActive = true
      if hw[pid] == nil then waiting = true end
    end
  end
  for pid, h in pairs(hw) do
    if maxAll == nil or h > maxAll then maxAll = h end
    local s = seen[pid]
    if s ~= nil and now - s < tonumber(p.idleMs) then
      if minActive == nil or h < minActive then minActive = h end
    end
  end
  if maxAll ~= nil and not waiting then watermark = (minActive or maxAll) - tonumber(p.latenessMs) end
  if idle ~= false then
    if anyActive then
      status, watermark = 'active', nil
    elseif maxAll ~= nil then
      watermark = math.max(maxAll, now - tonumber(idle.skewMs)) - tonumber(p.latenessMs)
    end
  end
end

local closed = tonumber(redis.call('HGET', meta, 'closed') or '')
local target = closed
if status == 'active' then target = nil end
if watermark ~= nil then
  local c = math.floor(watermark / bucketMs) * bucketMs
  if target == nil or c > target then target = c end
end

-- Idle close: a window for every known series in every bucket it closes (see header).
if idle ~= false and status == 'ok' and target ~= nil then
  local from = closed or tonumber(redis.call('HGET', meta, 'first') or '')
  if from ~= nil and from < target then
    local series = {}
    local kflat = redis.call('HGETALL', idle.known)
    for i = 1, #kflat, 2 do
      local v = cjson.decode(kflat[i + 1])
      -- a series silent for longer than the retention is forgotten
      if tonumber(v[3]) + tonumber(p.ttl) < from then
        redis.call('HDEL', idle.known, kflat[i])
      else
        series[#series + 1] = {kflat[i], v[1], v[2]}
      end
    end
    if #series > 0 then
      local made, b = 0, from
      -- whole buckets, no more than maxClaim windows unless one bucket alone has more
      while b + bucketMs <= target and (made == 0 or made + #series <= tonumber(p.maxClaim)) do
        for _, s in ipairs(series) do
          local key = s[1] .. num(b)
          if redis.call('EXISTS', key) == 0 then
            redis.call('HSET', key, 't', 0, '_s', s[2], '_l', s[3], '_t', num(b))
            redis.call('PEXPIRE', key, num(p.ttl))
            redis.call('ZADD', open, b, key)
          end
          made = made + 1
        end
        b = b + bucketMs
      end
      target = b
    end
  end
end

local windows, alerts = {}, {}
local owner = p.owner
if owner ~= '' then
  local entry = redis.call('HGET', ledger, owner)
  if entry then
    local e = cjson.decode(entry)
    if tonumber(p.first) <= tonumber(e.o) then
      for _, k in ipairs(e.w) do windows[#windows + 1] = k end
      for _, a in ipairs(e.a) do alerts[#alerts + 1] = a end
    else
      for _, k in ipairs(e.w) do redis.call('DEL', k) end
    end
  end
end

local claimed = {}
if target ~= nil then
  local maxClaim = tonumber(p.maxClaim)
  local rows = redis.call('ZRANGEBYSCORE', open, '-inf', num(target - bucketMs), 'WITHSCORES', 'LIMIT', 0, maxClaim + 1)
  local n = #rows / 2
  if n > maxClaim then
    -- windows are left over: stop before the bucket of the first one left
    local rest = tonumber(rows[2 * maxClaim + 2])
    n = maxClaim
    while n > 0 and tonumber(rows[2 * n]) == rest do n = n - 1 end
    if n == 0 then
      rows = redis.call('ZRANGEBYSCORE', open, num(rest), num(rest), 'WITHSCORES')
      n = #rows / 2
      rest = rest + bucketMs
    end
    target = rest
  end
  for i = 1, n do claimed[i] = rows[2 * i - 1] end
end
if target ~= nil and (closed == nil or target > closed) then
  closed = target
  redis.call('HSET', meta, 'closed', num(closed))
end
local chunkBuckets = tonumber(p.chunkBuckets)
for _, key in ipairs(claimed) do
  redis.call('ZREM', open, key)
  local h = redis.call('HMGET', key, '_h', '_x', '_l', '_t', 'g', 't')
  local hist, index, labels = h[1], h[2], h[3]
  local start, g, t = tonumber(h[4]), tonumber(h[5] or '0'), tonumber(h[6] or '0')
  if hist and hist ~= '' and start ~= nil and t > 0 then
    local idx = start / bucketMs
    local chunk = math.floor(idx / chunkBuckets)
    local pos = idx - chunk * chunkBuckets
    local hkey = hist .. num(chunk)
    redis.call('BITFIELD', hkey, 'OVERFLOW', 'SAT',
      'INCRBY', 'u32', '#' .. num(2 * pos), g,
      'INCRBY', 'u32', '#' .. num(2 * pos + 1), t)
    redis.call('PEXPIRE', hkey, num(p.historyTtl))
    redis.call('SADD', index, labels)
    redis.call('PEXPIRE', index, num(p.historyTtl))
  end
  windows[#windows + 1] = key
end

local out = {watermark and num(watermark) or '', closed and num(closed) or '', alerts, status}
for _, key in ipairs(windows) do
  local flat = redis.call('HGETALL', key)
  if #flat > 0 then
    local row = {key}
    for i = 1, #flat do row[#row + 1] = flat[i] end
    out[#out + 1] = row
  end
end

if owner ~= '' then
  if #windows > 0 or #alerts > 0 then
    redis.call('HSET', ledger, owner, cjson.encode({o = tostring(p.last), w = windows, a = alerts}))
    redis.call('PEXPIRE', ledger, num(p.ttl))
  else
    redis.call('HDEL', ledger, owner)
  end
else
  for _, key in ipairs(claimed) do redis.call('DEL', key) end
end
return out
