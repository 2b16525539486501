-- ingest: one inbound message from a contact, THE hot path (DESIGN §8: one script call does dedup,
-- the identity lookup, the log append, the agent event and the publish to the agent's node).
--
-- ARGV: now, channelId, conversation kind, skill, priority, identity kind, identity address,
--       display name ('' = keep), externalId ('' = no dedup), message body JSON, dedup TTL seconds,
--       visitor node ('' = none), subject ('' = none), initial status for a new conversation
--       ('queued' or 'bot', '' = queued), the address the contact wrote to ('' = none; kept on a
--       new conversation as `replyFrom`, so replies leave from it: a WeCom open_kfid)
-- The body is the Message JSON object without id, conversationId and status (see _d_store.lua):
-- the conversation id of a new conversation is only known here.
-- Returns (RESP array, no JSON on the hot path):
--   { conversationId, messageId, contactId, created 0|1, duplicate 0|1, conversation status,
--     message JSON with id ('' if a duplicate's original was trimmed) }
-- A new conversation is enqueued by the caller next (the Router's enqueue script).

local channel, ckind, skill, priority = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ikind, addr, name, ext = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local body, ttl, vnode, subject = ARGV[10], tonumber(ARGV[11]), ARGV[12], ARGV[13]
local initial, reply_from = ARGV[14], ARGV[15] or ''
if initial == nil or initial == '' then initial = 'queued' end

if channel == '' or ckind == '' or ikind == '' or addr == '' then
  fail('bad_request', 'channel, kind and identity are required')
end
local prio = tonumber(priority)
if prio == nil or prio < 0 or prio > 9 or prio % 1 ~= 0 then fail('bad_request', 'priority must be 0…9') end
if initial ~= 'queued' and initial ~= 'bot' then fail('bad_request', 'initial status must be queued or bot') end
Store.check_body(body)

-- Dedup first: a provider retry (Twilio re-POSTs on timeout, WeChat retries 3 times) must not be
-- stored twice. The key holds "<conv> <msg> <contact>" of the original.
local dkey = nil
if ext ~= '' then
  if ttl == nil or ttl < 1 then fail('bad_request', 'dedup TTL must be positive') end
  dkey = K.dedup(channel, ext)
  local seen = redis.call('GET', dkey)
  if seen then
    local conv, msg, contact = string.match(seen, '^(%S+) (%S+) (%S+)$')
    local status = redis.call('HGET', K.conv(conv), 'status') or ''
    return { conv, msg, contact, 0, 1, status, Store.read_message(conv, msg) or '' }
  end
end

-- Identity -> contact.
local ikey = K.ident(ikind, addr)
local contact = redis.call('GET', ikey)
local new_contact = not contact
if new_contact then
  contact = new_id('contact', 'k')
  redis.call('HSET', K.contact(contact), 'id', contact, 'name', name, 'created', now_s())
  redis.call('SET', ikey, contact)
elseif name ~= '' then
  redis.call('HSET', K.contact(contact), 'name', name)
end
-- The contact's open conversation on this channel, else a new one (DESIGN §6). A contact id minted
-- just now (new_id: unique) has none.
local okey = K.open(contact, channel)
local conv = nil
if not new_contact then conv = redis.call('GET', okey) end
-- Status and assignee in one read: on the hot path (an assigned conversation) these two fields
-- are all that is asked of the conversation hash.
local status, assignee = nil, nil
if conv then
  local f = redis.call('HMGET', K.conv(conv), 'status', 'assignee')
  status, assignee = f[1], f[2]
  if not status or not Store.OPEN[status] then conv, assignee = nil, nil end
end
local created = 0
if conv then
  if vnode ~= '' then redis.call('HSET', K.conv(conv), 'vnode', vnode) end
else
  created = 1
  -- The conversation carries the contact's name; a contact created just now has the name just
  -- written, and only a new conversation needs it (not read on the hot path).
  local contact_name = name
  if contact_name == '' and not new_contact then
    contact_name = redis.call('HGET', K.contact(contact), 'name') or ''
  end
  conv = new_id('conv', 'c')
  status = initial
  local fields = { 'id', conv, 'channel', channel, 'kind', ckind, 'skill', skill, 'priority', priority,
                   'status', status, 'contact', contact, 'contactName', contact_name, 'address', addr,
                   'createdAt', now_s() }
  if status == 'queued' then fields[#fields + 1] = 'queuedAt'; fields[#fields + 1] = now_s() end
  if vnode ~= '' then fields[#fields + 1] = 'vnode'; fields[#fields + 1] = vnode end
  if subject ~= '' then fields[#fields + 1] = 'subject'; fields[#fields + 1] = subject end
  if reply_from ~= '' then fields[#fields + 1] = 'replyFrom'; fields[#fields + 1] = reply_from end
  redis.call('HSET', K.conv(conv), unpack(fields))
  redis.call('SET', okey, conv)
  -- The contact's conversations on every channel (contact_history).
  redis.call('ZADD', K.contact_convs(contact), now_s(), conv)
end

-- Append: an inbound message has arrived, so it is `delivered` from the broker's point of view.
-- Built from the body's tail directly: the same texts as Store.compose and Store.render(msg, m)
-- with no status to merge, with three fewer long strings (see emit_agent_parts).
local tail = string.sub(body, 2)
local m, head = Store.compose_tail(conv, 'delivered', tail)
local msg = redis.call('XADD', K.log(conv), '*', 'm', m)
local wire = '{"id":"' .. msg .. '",' .. string.sub(head, 2) .. tail

-- A conversation created just now (a new_id, unique) has no assignee.
if assignee and assignee ~= '' then
  emit_agent_parts(assignee, '"type":"message","conversationId":"' .. conv .. '","message":', wire, '}')
end

if dkey then redis.call('SET', dkey, conv .. ' ' .. msg .. ' ' .. contact, 'NX', 'EX', ttl) end
stat('inbound:' .. channel)

return { conv, msg, contact, created, 0, status, wire }
