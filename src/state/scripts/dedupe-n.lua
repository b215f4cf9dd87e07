--[[
  Dedupe a batch of idempotency keys in one round trip, in batch order.

  Called with a variable key count (file suffix -n): numkeys = number of events.
  KEYS[i]     dedupe key of event i (keys.dedupe(idempotencyKey)); a key may repeat.
  ARGV[1]     window in ms (PX of a newly stored key)
  ARGV[2i]    "topic|partition|offset|fingerprint" of event i
  ARGV[2i+1]  for a replayed dead letter, the entry its original would have stored:
              "source_topic|source_partition|source_offset|fingerprint" from the replay
              header; "" for any other event

  Returns a flat array of 2 * #KEYS entries; for event i:
    [2i-1] code: 0 NEW       key was absent, now stored with ARGV[2i]
                 1 REPLAY    stored by this very topic|partition|offset (re-processing after a crash)
                 2 DUPLICATE stored by another offset, same fingerprint
                 3 CONFLICT  stored by another offset, different fingerprint
                 4 RESUMED   a replayed dead letter whose original holds the key: the original
                             never reached the enriched topic (it was dead-lettered after this
                             stage), so the replay takes the key over: the entry now names the
                             replay's own offset, with the TTL it had
    [2i]   the stored value before this call ("" for NEW)

  Taking the key over is what makes a dead letter pass once: a second copy of the same
  replay (re-sent after an interrupted run) names the same original, which no longer holds
  the key, so it is a DUPLICATE. The window still runs from the first sighting.
]]
local window = ARGV[1]
local out = {}
for i = 1, #KEYS do
  local mine = ARGV[2 * i]
  local origin = ARGV[2 * i + 1]
  local stored = redis.call('GET', KEYS[i])
  if not stored then
    redis.call('SET', KEYS[i], mine, 'PX', window)
    out[#out + 1] = 0
    out[#out + 1] = ''
  else
    local sep = string.find(stored, '|[^|]*$')
    local myCut = string.find(mine, '|[^|]*$')
    local code
    if sep and myCut and string.sub(stored, 1, sep) == string.sub(mine, 1, myCut) then
      code = 1
    elseif origin ~= '' and stored == origin then
      redis.call('SET', KEYS[i], mine, 'KEEPTTL')
      code = 4
    elseif sep and myCut and string.sub(stored, sep) == string.sub(mine, myCut) then
      code = 2
    else
      code = 3
    end
    out[#out + 1] = code
    out[#out + 1] = stored
  end
end
return out
