--[[
  Identity links for a batch, in batch order (an identify earlier in the batch applies to
  later events). One key per event; a key may repeat.

  Called with a variable key count (file suffix -n): numkeys = number of events.
  KEYS[i]          identity key of event i's anonymous id: a sorted set
                   member = user id, score = latest event time (ms) that linked them
  ARGV[1]          ttl in ms, refreshed whenever the key is used
  ARGV[2]          max user ids per anonymous id
  ARGV[1+2i]       event i's user id, or "" when the event only has an anonymous id
  ARGV[2+2i]       event i's event time (ms)

  Returns a flat array of 2 * #KEYS entries; for event i: code, user id
    0 ""    no link at or before the event time (resolve)
    1 user  new link added
    2 user  link already known (score raised to the later event time only when
            another user was in effect at that time, see below)
    3 user  link refused: the anonymous id already has max user ids (merge blocked)
    4 user  resolved: the user linked most recently at or before the event time

  Resolution looks only at links with score <= the event's time, so re-processing the same
  events after a crash answers the same even when later identifies were stored meanwhile.
  For that, a re-link must not move a score past events that already resolved through it:
  it raises the score only when another user is in effect at its time (a shared device
  switching back). Raising it on every re-link made an anonymous event between two
  identifies of the same user resolve to that user on the first pass and to nobody on a
  replay (the chaos test found it: batches retried after a kill -9 or a Redis restart).
]]
local ttl = ARGV[1]
local maxUsers = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local user = ARGV[1 + 2 * i]
  local t = ARGV[2 + 2 * i]
  if user ~= '' then
    local score = redis.call('ZSCORE', key, user)
    if score then
      if tonumber(t) > tonumber(score) then
        local current = redis.call('ZREVRANGEBYSCORE', key, t, '-inf', 'LIMIT', 0, 1)
        if current[1] ~= user then redis.call('ZADD', key, t, user) end
      end
      redis.call('PEXPIRE', key, ttl)
      out[#out + 1] = 2
    elseif redis.call('ZCARD', key) >= maxUsers then
      out[#out + 1] = 3
    else
      redis.call('ZADD', key, t, user)
      redis.call('PEXPIRE', key, ttl)
      out[#out + 1] = 1
    end
    out[#out + 1] = user
  else
    local found = redis.call('ZREVRANGEBYSCORE', key, t, '-inf', 'LIMIT', 0, 1)
    if found[1] then
      redis.call('PEXPIRE', key, ttl)
      out[#out + 1] = 4
      out[#out + 1] = found[1]
    else
      out[#out + 1] = 0
      out[#out + 1] = ''
    end
  end
end
return out
