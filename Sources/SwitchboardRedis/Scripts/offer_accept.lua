-- offer_accept: the agent takes an offer (DESIGN §7 "Offers"; agent frame offer.accept{offerId}).
--
-- ARGV[9] = agent id, ARGV[10] = offer id
-- The reservation becomes the assignment (load stays), the agent's missed count resets and its
-- idleSince becomes now (it moves to the back of the longest-idle order). The agent gets
-- assigned{conversation}; a web visitor gets agent.joined{name}. The wait (queuedAt → accept) feeds
-- the moving average behind queue_position's estimate.
-- A call (kind voice) also queues its bridge to the agent's phone in the outbox (below).
-- Returns the conversation JSON. Errors: not_found (no such offer), forbidden (someone else's),
-- conflict (expired, not yet swept; or the conversation moved on).

R.setup()
local aid, oid = R.arg(1), R.arg(2)
if aid == nil or aid == '' or oid == nil or oid == '' then fail('bad_request', 'agent and offer are required') end
local f = redis.call('HMGET', K.offer(oid), 'id', 'agent', 'deadline', 'conv')
local o = { id = f[1] or nil, agent = f[2] or nil, deadline = f[3] or nil, conv = f[4] or nil }
if o.id == nil then fail('not_found', 'no offer ' .. oid) end
if o.agent ~= aid then fail('forbidden', 'offer ' .. oid .. ' is not yours') end
if num(o.deadline, 0) <= NOW then fail('conflict', 'offer ' .. oid .. ' expired') end
local c = Conv.load(o.conv)
if c.status ~= 'offered' or c.offer ~= oid then fail('conflict', 'offer ' .. oid .. ' is no longer valid') end

local id = o.conv
redis.call('DEL', K.offer(oid))
redis.call('ZREM', K.offers(), oid)
redis.call('SREM', K.agent_offers(aid), oid)
-- Only a first assignment feeds the wait average (below): decided on the hash as it was.
local first = c.assignedAt == nil
Conv.set(id, c, 'status', 'assigned', 'assignee', aid, 'assignedAt', now_s())
Conv.del(id, c, 'offer')
-- A new queue cycle (a later transfer) starts with a clean slate of decliners.
redis.call('DEL', K.declined(id))
redis.call('SADD', K.agent_convs(aid), id)

local a = R.agent_read(aid, { 'status', 'skills', 'name' })
redis.call('HSET', K.agent(aid), 'missed', '0', 'idleSince', now_s())
if a.status == 'available' then
  for skill in pairs(R.skills(a)) do redis.call('ZADD', K.avail(skill), 'XX', now_s(), aid) end
end

-- Exponential moving average (weight 1/5) of the wait, per skill and overall, in ms. Only a
-- first assignment counts: after a transfer or a requeue, queuedAt → now includes handling time.
if first then
  local wait = math.max(0, NOW - num(c.queuedAt, NOW))
  local fields = { 'wait_ms:' .. c.skill, 'wait_ms' }
  local olds = redis.call('HMGET', K.stats(), fields[1], fields[2])
  local sets = {}
  for i, field in ipairs(fields) do
    local old = tonumber(olds[i])
    local avg = wait
    if old then avg = old + (wait - old) / 5 end
    sets[#sets + 1] = field
    sets[#sets + 1] = nstr(math.floor(avg + 0.5))
  end
  redis.call('HSET', K.stats(), unpack(sets))
end
stat('offers_accepted')

-- A call: the bridge to the agent's phone leaves with the acceptance, in the same step (issue 10
-- "Bridging on accept"). It is a system message in the thread (so the agent sees whether it went
-- through, and why not) and its outbox entry, sent once per acceptance: the idempotency key is the
-- call and the offer, and `to` is where the agent's phone is (agents[].phone or sip).
if c.kind == 'voice' and c.callId and c.callId ~= '' then
  -- The call figures (GB/T 33358 人工应答及时率: answered within 15 s of queueing): a caller's
  -- first answer only; a voicemail's call-back task is not a call answered.
  if first and c.callback ~= '1' then
    local wait = math.max(0, NOW - num(c.queuedAt, NOW))
    Conv.set(id, c, 'answerMs', wait)
    stat('calls:answered:' .. c.channel)
    stat('calls:answer_ms:' .. c.channel, nstr(wait))
    if wait <= 15000 then stat('calls:answered_15s:' .. c.channel) end
  end
  local endpoint = redis.call('HGET', K.agent(aid), 'endpoint')
  if endpoint and endpoint ~= '' then
    local body = cjson.encode({ direction = 'out', author = 'system', parts = { { type = 'call', event = 'bridge' } },
                                createdAt = NOW })
    local m = Store.compose(id, 'pending', body)
    local msg = redis.call('XADD', K.log(id), '*', 'm', m)
    local wire = Store.render(msg, m)
    redis.call('XADD', K.outbox(), '*', 'conv', id, 'msg', msg, 'channel', c.channel, 'to', endpoint,
      'attempt', '1', 'idem', c.callId .. ':' .. oid, 'enqueuedAt', NOW, 'm', wire, 'kind', 'voice',
      'subject', '', 'from', '', 'call', c.callId)
    emit_agent(aid, '{"type":"message","conversationId":"' .. id .. '","message":' .. wire .. '}')
  end
end

local j = Conv.json(id, c)
emit_agent(aid, '{"type":"assigned"' .. conv_member(j) .. '}')
emit_visitor(id, cjson.encode({ type = 'agent.joined', name = a.name or aid }), c)
return j
