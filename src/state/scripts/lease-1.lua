--[=[
  Take or renew a lease: one holder at a time, until its TTL runs out unrenewed.

  KEYS[1]  lease key (e.g. keys.sliIdleLease): the holder's id
  ARGV[1]  holder id
  ARGV[2]  TTL, ms

  Free or already ours: (re)set to ARGV[1] with the TTL, returns 1. Held by another: 0.
  sliClose-3.lua applies the same rule in idle mode, so the claim is made by the holder.
]=]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
