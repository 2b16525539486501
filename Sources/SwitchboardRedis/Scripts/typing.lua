-- typing: a typing indicator (DESIGN §9), from the assigned agent to the visitor's socket, or from
-- the visitor to the assignee's consoles. Not stored anywhere but the agent's event stream.
--
-- ARGV: now, conversation id, source ('agent'|'visitor'), agent id (source agent only)
-- Returns an integer: 1 if someone was told, 0 if nobody was there to tell.
-- Errors: not_found (no such conversation), forbidden (agent not the assignee).

local conv, source, agent = ARGV[2], ARGV[3], ARGV[4] or ''
local c = redis.call('HMGET', K.conv(conv), 'id', 'status', 'assignee', 'vnode')
if not c[1] then fail('not_found', 'no conversation ' .. conv) end
local status, assignee, vnode = c[2], c[3] or '', c[4] or ''

if source == 'agent' then
  if agent == '' or status ~= 'assigned' or assignee ~= agent then
    fail('forbidden', 'conversation ' .. conv .. ' is not assigned to ' .. agent)
  end
  if vnode == '' then return 0 end
  emit_visitor(conv, '{"type":"typing"}')
  return 1
elseif source == 'visitor' then
  if assignee == '' or not Store.OPEN[status] then return 0 end
  emit_agent(assignee, '{"type":"typing","conversationId":"' .. conv .. '"}')
  return 1
end
fail('bad_request', 'typing source must be agent or visitor')
