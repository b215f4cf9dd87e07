--[=[
  Commit one SLO evaluation step: the alert state after it, how far event time was
  evaluated, and the transitions to publish. Compare-and-set on the evaluated boundary, so
  when several instances evaluate the same boundaries only the first commit counts.

  KEYS[1]  window meta hash (keys.windowMeta): field evaluated (last evaluated boundary, epoch ms)
  KEYS[2]  emit ledger hash (keys.sliEmitLedger): "topic|partition" -> JSON {o, w, a}
  ARGV[1]  JSON {
             expected: "<ms>"|false,    -- evaluated as read before the evaluation (false: never)
             next: "<ms>",              -- new evaluated boundary
             changes: [[alertStateKey, field, value|false]],   -- false: HDEL
             alerts: ["<Alert JSON>"...],
             owner: "topic|partition"|"", last: "<offset>", ttl
           }
  The alert state keys (keys.alertState) share the {topology} hash tag of KEYS.
  With an owner, the alerts join its ledger entry (see sliClose-3.lua) so that a batch that
  is not committed carries them again when it is replayed.

  Returns 1 when committed, 0 when evaluated had moved (another instance committed first).
]=]
local meta, ledger = KEYS[1], KEYS[2]
local p = cjson.decode(ARGV[1])
local function num(n) return string.format('%.0f', n) end

local current = redis.call('HGET', meta, 'evaluated')
if p.expected == false then
  if current then return 0 end
elseif not current or tonumber(current) ~= tonumber(p.expected) then
  return 0
end

for _, c in ipairs(p.changes) do
  if c[3] == false then
    redis.call('HDEL', c[1], c[2])
  else
    redis.call('HSET', c[1], c[2], c[3])
    redis.call('PEXPIRE', c[1], num(p.ttl))
  end
end
redis.call('HSET', meta, 'evaluated', p.next)

if p.owner ~= '' and #p.alerts > 0 then
  local entry = redis.call('HGET', ledger, p.owner)
  local e = {o = p.last, w = {}, a = {}}
  if entry then e = cjson.decode(entry) end
  for _, a in ipairs(p.alerts) do e.a[#e.a + 1] = a end
  e.o = p.last
  redis.call('HSET', ledger, p.owner, cjson.encode(e))
  redis.call('PEXPIRE', ledger, num(p.ttl))
end
return 1
