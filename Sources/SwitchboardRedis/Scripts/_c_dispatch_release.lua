-- Routing release paths, shared by the routing scripts (DESIGN §7): taking offers back, agents
-- leaving and coming back, the end of wrap-up and of a reconnect grace. Extends `R` from
-- _c_dispatch.lua (which sorts, and so is loaded, first).

-- Removes an offer and gives back the capacity it reserved. Returns the offer table and whether
-- the conversation was still waiting on exactly this offer (`live`), or nil for an unknown offer.
-- Idempotent: a second call finds nothing (several nodes sweep the same expired offers).
function R.drop_offer(oid)
  local o = hgetall(K.offer(oid))
  redis.call('ZREM', K.offers(), oid)
  if o.id == nil then return nil, false end
  redis.call('DEL', K.offer(oid))
  redis.call('SREM', K.agent_offers(o.agent), oid)
  R.release_load(o.agent, o.kind)
  local f = redis.call('HMGET', K.conv(o.conv), 'status', 'offer')
  local live = f[1] == 'offered' and f[2] == oid
  if live then redis.call('HDEL', K.conv(o.conv), 'offer') end
  return o, live
end

-- Takes an offer back and returns its conversation to the queue at its remembered rank.
-- `decline`: the agent joins the conversation's declined set (reject, timeout): not offered it
-- again while another agent can take it, nor within the cooldown (R.declined). `reason`: when set,
-- the agent is told `offer.rescinded{offerId,reason}` at once (a reject needs no event: the agent
-- asked for it; a timeout is told by R.expire_offer once it knows where the conversation went).
-- Does not dispatch: the caller does, once its own state is settled. Returns the offer table (with
-- `.live`) or nil.
function R.requeue_offer(oid, reason, decline)
  local o, live = R.drop_offer(oid)
  if o == nil then return nil end
  if decline then R.decline(o.conv, o.agent) end
  if reason then
    emit_agent_table(o.agent, { type = 'offer.rescinded', offerId = oid, reason = reason })
  end
  if live then
    local c = hgetall(K.conv(o.conv))
    R.queue(o.conv, c.skill, tonumber(c.qscore) or R.rank(c, false))
  end
  o.live = live
  return o
end

-- Dispatches a conversation a decline put back in its queue; if nobody else could take it, the
-- sweep tries again when the decline has cooled (R.cooldown). Answers the agent it went to, or nil.
function R.redispatch(id)
  local aid = R.dispatch(id)
  if aid == nil then R.cooldown(id) end
  return aid
end

-- Takes an agent out of routing (away or offline): out of every avail set, and every pending offer
-- rescinded back to its queue (not declined: the agent may get it again once back). Returns the
-- conversation ids put back, for the caller to dispatch to others.
function R.withdraw(aid, a, status, reason, why)
  redis.call('HSET', K.agent(aid), 'status', status, 'reason', reason or '')
  R.avail_remove(aid, a)
  R.emit_presence(aid, status, reason)
  local back = {}
  for _, oid in ipairs(redis.call('SMEMBERS', K.agent_offers(aid))) do
    local o = R.requeue_offer(oid, why, false)
    if o and o.live then back[#back + 1] = o.conv end
  end
  return back
end

function R.dispatch_all(ids)
  for _, id in ipairs(ids) do R.dispatch(id) end
end

-- Makes an agent available (DESIGN §7 presence): coming from away/offline resets idleSince (the
-- agent joins the back of the longest-idle order, as mod_callcenter's last-status-change) and the
-- missed count; then the agent drains its queues at once.
function R.make_available(aid, a, reason)
  if a.status ~= 'available' then
    a.idleSince = tostring(NOW)
    redis.call('HSET', K.agent(aid), 'idleSince', now_s(), 'missed', '0')
  end
  redis.call('HSET', K.agent(aid), 'status', 'available', 'reason', reason or '')
  R.avail_add(aid, a)
  R.emit_presence(aid, 'available', reason)
  return R.drain(aid)
end

-- An offer deadline passed (DESIGN §7): like a reject, plus the agent is told and its missed count
-- grows; at offer_missed_limit consecutive misses it goes away(missed) as Connect and mod_callcenter
-- (max-no-answer) do. The conversation goes to the next agent; the agent drains if still available.
-- The agent's offer.rescinded{reason:"timeout"} says where the conversation went (DESIGN §7
-- "Re-offer": the truth): `next` "agent" when it was offered to another agent, "queue" when it went
-- back to wait (none when it had already left, e.g. abandoned).
function R.expire_offer(oid)
  local o = R.requeue_offer(oid, nil, true)
  if o == nil then return false end
  local ev = { type = 'offer.rescinded', offerId = oid, reason = 'timeout' }
  if o.live then
    if R.redispatch(o.conv) then ev.next = 'agent' else ev.next = 'queue' end
  end
  emit_agent_table(o.agent, ev)
  stat('offers_timeout')
  local missed = redis.call('HINCRBY', K.agent(o.agent), 'missed', '1')
  if missed >= R.S.missed_limit then
    local a = hgetall(K.agent(o.agent))
    if a.status == 'available' then R.dispatch_all(R.withdraw(o.agent, a, 'away', 'missed', 'presence')) end
  end
  R.drain(o.agent)
  return true
end

-- Ends a conversation's wrap-up: closed, and its capacity returned. Returns the agent freed, or nil.
-- Idempotent (only a conversation still in wrapup is finalized). `c`: the conversation's record
-- when the caller holds one (close), kept in step.
function R.finalize(id, c)
  redis.call('ZREM', K.wrapups(), id)
  local f
  if c and c[Conv.LIVE] then
    f = { c.status, c.assignee or false, c.kind or false }
  else
    f = redis.call('HMGET', K.conv(id), 'status', 'assignee', 'kind')
  end
  if f[1] ~= 'wrapup' then return nil end
  Conv.set(id, c, 'status', 'closed')
  Conv.del(id, c, 'wrapupUntil')
  expire_conversation(id)
  local aid = f[2]
  if aid and aid ~= '' then
    R.release_load(aid, f[3])
    redis.call('SREM', K.agent_convs(aid), id)
    -- The console shows wrap-up until told the conversation is closed.
    emit_updated_json(aid, Conv.json(id, c))
    stat('closed')
    return aid
  end
  stat('closed')
  return nil
end

-- Takes a waiting conversation out of routing (a visitor or caller gone, a caller sent to
-- voicemail): its queue entry removed and, when offered, the offer rescinded with `reason` (the
-- reservation released). Returns the agent whose offer it was, to drain once the caller has written
-- the conversation's new status.
function R.unqueue(id, c, reason)
  local freed = nil
  if c.status == 'offered' and c.offer then
    local o = R.drop_offer(c.offer)
    if o then
      emit_agent_table(o.agent, { type = 'offer.rescinded', offerId = c.offer, reason = reason })
      freed = o.agent
    end
  end
  redis.call('ZREM', K.queue(c.skill), id)
  redis.call('HDEL', K.conv(id), 'offer', 'qscore')
  return freed
end

-- A call the agent accepted whose caller hung up before the bridge came up (issue 10: "the offer
-- becomes an abandon"): no longer the agent's (capacity back, the agent drains), abandoned, counted.
-- Only while still assigned: a call that is already over (a status callback came first) stays as it is.
function R.abandon_accepted(id, channel)
  local c = Conv.load(id)
  if c.status ~= 'assigned' or not c.assignee then return false end
  local aid = c.assignee
  R.release_load(aid, c.kind)
  redis.call('SREM', K.agent_convs(aid), id)
  Conv.set(id, c, 'status', 'abandoned', 'closedAt', now_s(), 'callConnected', '0')
  R.drop_open(id, c)
  stat('abandoned')
  stat('calls:abandoned:' .. channel)
  R.emit_updated(aid, id, c)
  expire_conversation(id)
  R.drain(aid)
  return true
end

-- Takes an assigned conversation away from its agent (grace ended, transfer, agent removed):
-- capacity returned, no longer the agent's. The conversation's status is the caller's to set.
function R.unassign(id, aid, kind)
  R.release_load(aid, kind)
  redis.call('SREM', K.agent_convs(aid), id)
  redis.call('HDEL', K.conv(id), 'assignee')
end

-- DESIGN §7 "Disconnects": after the grace (or when removed from configuration) the agent is set
-- offline, its offers go back to their queues and its assigned conversations are requeued at the
-- front, so the contact waits as little as possible. Conversations in wrap-up simply finish.
-- Requeued conversations are dispatched before the rescinded offers: they waited longest.
function R.evict(aid, reason)
  local a = hgetall(K.agent(aid))
  if a.status == nil then return 0 end
  local back = R.withdraw(aid, a, 'offline', reason, 'disconnected')
  local front = {}
  for _, id in ipairs(redis.call('SMEMBERS', K.agent_convs(aid))) do
    local c = hgetall(K.conv(id))
    if c.status == 'assigned' and c.assignee == aid then
      R.unassign(id, aid, c.kind)
      R.queue(id, c.skill, R.rank(c, true))
      R.emit_updated(aid, id)
      stat('requeued')
      front[#front + 1] = id
    elseif c.status ~= 'wrapup' then
      redis.call('SREM', K.agent_convs(aid), id)
    end
  end
  R.dispatch_all(front)
  R.dispatch_all(back)
  return #front
end
