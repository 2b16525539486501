-- note: an agent's internal note in a conversation's thread (issue 10: a call's notes box), never
-- delivered to the contact: no outbox entry, no visitor event; the assignee's consoles see it.
--
-- ARGV: now, agent id, agent name, conversation id, text (checked by the caller: 1…2000 characters)
-- Allowed to the conversation's assignee, in any status (a call's notes are often finished in its
-- wrap-up). The stored message is author agent, direction out, `"internal":true`.
-- Returns the message JSON. Errors: not_found, forbidden.

local aid, name, conv, text = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if aid == '' or conv == '' or text == nil or text == '' then fail('bad_request', 'agent, conversation and text are required') end
local assignee = redis.call('HMGET', K.conv(conv), 'id', 'assignee')
if not assignee[1] then fail('not_found', 'no conversation ' .. conv) end
if assignee[2] ~= aid then fail('forbidden', 'conversation ' .. conv .. ' is not assigned to you') end
local body = cjson.encode({ direction = 'out', author = 'agent', authorId = aid, authorName = name, internal = true,
                            parts = { { type = 'text', text = text } }, createdAt = NOW })
local m = Store.compose(conv, 'delivered', body)
local msg = redis.call('XADD', K.log(conv), '*', 'm', m)
local wire = Store.render(msg, m)
emit_agent_parts(aid, '"type":"message","conversationId":"' .. conv .. '","message":', wire, '}')
return wire
