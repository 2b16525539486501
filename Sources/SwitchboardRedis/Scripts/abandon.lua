-- abandon: the contact left before an agent took the conversation (DESIGN §7 "Abandon": a visitor
-- closed the chat, a caller hung up).
--
-- ARGV[9] = conversation id
-- queued: out of the queue. offered: the offer is rescinded (offer.rescinded reason "abandoned"),
-- its reservation released and that agent drains. Either way status abandoned, closedAt now,
-- counted, and the contact's open-conversation pointer dropped.
-- Returns 1 when abandoned, 0 when not waiting (assigned ones are the agent's to close; a repeat is
-- a no-op). Errors: not_found.

R.setup()
local id = R.arg(1)
if id == nil or id == '' then fail('bad_request', 'conversation id is required') end
local c = hgetall(K.conv(id))
if c.id == nil then fail('not_found', 'no conversation ' .. id) end
if c.status ~= 'queued' and c.status ~= 'offered' then return 0 end

local freed = R.unqueue(id, c, 'abandoned')
redis.call('HSET', K.conv(id), 'status', 'abandoned', 'closedAt', NOW)
R.drop_open(id, c)
stat('abandoned')
expire_conversation(id)
if freed then R.drain(freed) end
return 1
