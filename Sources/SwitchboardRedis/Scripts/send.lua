-- send: a reply from an agent, a bot or the API into a conversation (DESIGN §9 message.send,
-- REST POST /v1/conversations/{id}/messages).
--
-- ARGV: now, conversation id, author kind (agent|bot|system), author id, required assignee
--       ('' = no check: API keys and bots; else the conversation must be assigned to exactly this
--       agent), clientId ('' = none), message body JSON (without id, conversationId, status),
--       delivery mode ('socket': web chat, pushed to the visitor's node; 'outbox': provider
--       channels, delivered by the outbox consumer group, DESIGN §11; '' = by the conversation's
--       kind: an agent's console names only the conversation), the kinds delivered over a socket
--       (space-separated, from DeliveryTransport in SwitchboardCore: the one table of which kind
--       delivers how)
-- Returns (RESP array): { messageId, duplicate 0|1, outbox entry id ('' for socket or duplicate),
--                         message JSON with id (a duplicate's: the first message, '' if trimmed) }
-- Errors: not_found (no such conversation), conflict (not open), forbidden (not the assignee).

local conv, author, author_id, required = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local client_id, body, mode, socket_kinds = ARGV[6], ARGV[7], ARGV[8], ' ' .. (ARGV[9] or '') .. ' ' 

if author ~= 'agent' and author ~= 'bot' and author ~= 'system' then
  fail('bad_request', 'author must be agent, bot or system')
end
if mode ~= 'socket' and mode ~= 'outbox' and mode ~= '' then fail('bad_request', 'mode must be socket or outbox') end
Store.check_body(body)

local c = redis.call('HMGET', K.conv(conv), 'id', 'status', 'assignee', 'channel', 'address', 'firstResponseAt', 'kind',
  'subject', 'replyFrom')
if not c[1] then fail('not_found', 'no conversation ' .. conv) end
if mode == '' then
  if string.find(socket_kinds, ' ' .. tostring(c[7]) .. ' ', 1, true) then mode = 'socket' else mode = 'outbox' end
end
local status, assignee, channel, address = c[2], c[3] or '', c[4], c[5] or ''
if not Store.OPEN[status] then fail('conflict', 'conversation ' .. conv .. ' is ' .. tostring(status)) end
if required ~= '' and (status ~= 'assigned' or assignee ~= required) then
  fail('forbidden', 'conversation ' .. conv .. ' is not assigned to ' .. required)
end

-- Idempotency: a retried message.send with the same clientId returns the first message.
if client_id ~= '' then
  local first = redis.call('HGET', K.clients(conv), client_id)
  if first then return { first, 1, '', Store.read_message(conv, first) or '' } end
end

local delivery = 'pending'
if mode == 'socket' then delivery = 'delivered' end
local m = Store.compose(conv, delivery, body)
local msg = redis.call('XADD', K.log(conv), '*', 'm', m)
local wire = Store.render(msg, m)
-- The current status is tracked from the start, so callbacks compare without reading the log.
redis.call('HSET', K.msg_status(conv), msg, delivery)
if client_id ~= '' then redis.call('HSET', K.clients(conv), client_id, msg) end

if (author == 'agent' or author == 'bot') and (not c[6] or c[6] == '') then
  redis.call('HSET', K.conv(conv), 'firstResponseAt', NOW)
end

local outbox_id = ''
if mode == 'outbox' then
  -- The entry carries the message JSON and its delivery context (kind, subject, the address the
  -- contact wrote to) so the delivery worker renders without another round trip.
  outbox_id = redis.call('XADD', K.outbox(), '*', 'conv', conv, 'msg', msg, 'channel', channel, 'to', address,
    'attempt', '1', 'idem', conv .. ':' .. msg, 'enqueuedAt', NOW, 'm', wire, 'kind', c[7] or '',
    'subject', c[8] or '', 'from', c[9] or '')
else
  emit_visitor(conv, '{"type":"message","message":' .. wire .. '}')
end

-- Every console of the assignee shows the reply, including the one that sent it.
if assignee ~= '' then
  emit_agent(assignee, '{"type":"message","conversationId":"' .. conv .. '","message":' .. wire .. '}')
end
stat('outbound:' .. channel)

return { msg, 0, outbox_id, wire }
