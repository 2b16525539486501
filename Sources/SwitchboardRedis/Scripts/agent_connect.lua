-- agent_connect: an agent's console authenticated on `node` (DESIGN §9 welcome, resume).
--
-- ARGV[9] = agent id, ARGV[10] = node id
-- Ends any reconnect grace, and, if the agent is available, drains its queues (it was not offered
-- anything while disconnected). Then answers the snapshot the welcome frame is built from.
-- Returns a RESP array (the JSON items go to the wire as they are):
--   { status, reason, lastSeq, { conversation JSON… }, { offer JSON… } }
-- conversations: those assigned to or in wrap-up with the agent; offers: the pending, unexpired
-- ones as {"offerId","conversation","expiresAt"}. lastSeq counts the offers this call made.
-- Errors: not_found (unknown agent), bad_request.

R.setup()
local aid, node = R.arg(1), R.arg(2)
if aid == nil or aid == '' or node == nil or node == '' then fail('bad_request', 'agent and node are required') end
local key = K.agent(aid)
if redis.call('SISMEMBER', K.agents(), aid) == 0 then fail('not_found', 'no agent ' .. aid) end

redis.call('HSET', key, 'node', node, 'connected', 1)
forget_node(aid)   -- emit_agent's per-call memo of the node (_b_events.lua)
redis.call('HDEL', key, 'disconnectedAt')
redis.call('ZREM', K.grace(), aid)
R.drain(aid)

local a = hgetall(key)
local convs = {}
for _, id in ipairs(redis.call('SORT', K.agent_convs(aid), 'ALPHA')) do
  local t = conv_table(id)
  if t and (t.status == 'assigned' or t.status == 'wrapup') then convs[#convs + 1] = cjson.encode(t) end
end
local offers = {}
for _, oid in ipairs(redis.call('SORT', K.agent_offers(aid), 'ALPHA')) do
  local o = hgetall(K.offer(oid))
  if o.id and num(o.deadline, 0) > NOW then
    local t = conv_table(o.conv)
    if t then
      offers[#offers + 1] = cjson.encode({ offerId = oid, conversation = t, expiresAt = num(o.deadline, 0) })
    end
  end
end
return { a.status or 'offline', a.reason or '', num(a.seq, 0), convs, offers }
