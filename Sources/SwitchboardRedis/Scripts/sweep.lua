-- sweep: the routing clock (DESIGN §7). Every node runs it every sweep_interval with its own now;
-- everything it handles is removed from its sorted set as it is handled, so two nodes sweeping the
-- same instant (or one node twice) do the work once.
--
-- No arguments besides the settings. In order:
--   (a) offers whose deadline ≤ now: rescinded (reason timeout), the agent declined for that
--       conversation and its missed count +1 (away(missed) at offer_missed_limit), the conversation
--       to the next agent (R.expire_offer);
--   (b) wrap-ups ended (score ≤ now): conversation closed, capacity back, the agent drains;
--   (c) reconnect graces ended for agents still disconnected: evicted (R.evict);
--   (d) re-offer cooldowns ended (K.reoffer, score ≤ now): a conversation still queued is
--       dispatched again, now possibly to the agent who declined it (DESIGN §7 "Re-offer");
--   (e) call-back tasks due again (K.callbacks, voice_callback's unreached): queued.
-- At most BATCH items of each kind per call; the rest wait for the next tick.
-- Returns {"expiredOffers":n,"finishedWrapups":n,"endedGraces":n}.

R.setup()
local BATCH = 500

local expired = 0
for _, oid in ipairs(redis.call('ZRANGEBYSCORE', K.offers(), '-inf', NOW, 'LIMIT', 0, BATCH)) do
  if R.expire_offer(oid) then expired = expired + 1 end
end

local finished = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.wrapups(), '-inf', NOW, 'LIMIT', 0, BATCH)) do
  local aid = R.finalize(id)
  finished = finished + 1
  if aid then R.drain(aid) end
end

local ended = 0
for _, aid in ipairs(redis.call('ZRANGEBYSCORE', K.grace(), '-inf', NOW, 'LIMIT', 0, BATCH)) do
  redis.call('ZREM', K.grace(), aid)
  if redis.call('HGET', K.agent(aid), 'connected') ~= '1' then
    R.evict(aid, 'disconnected')
    ended = ended + 1
  end
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.reoffer(), '-inf', NOW, 'LIMIT', 0, BATCH)) do
  redis.call('ZREM', K.reoffer(), id)
  if redis.call('HGET', K.conv(id), 'status') == 'queued' then R.redispatch(id) end
end

-- (e) call-back tasks whose retry time came (voice_callback, unreached): queued again for any agent.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K.callbacks(), '-inf', NOW, 'LIMIT', 0, BATCH)) do
  redis.call('ZREM', K.callbacks(), id)
  local f = redis.call('HMGET', K.conv(id), 'status', 'callback')
  if f[1] == 'bot' and f[2] == '1' then
    redis.call('HDEL', K.conv(id), 'callbackDue')
    R.with_args(script_enqueue, id, '0')
  end
end

return cjson.encode({ expiredOffers = expired, finishedWrapups = finished, endedGraces = ended })
