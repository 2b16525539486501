-- Conversation JSON and event delivery, shared by every script that tells someone something.

-- The wire form of a conversation (DESIGN §6, §9). Empty fields are left out.
local function conv_table(id)
  local c = hgetall(K.conv(id))
  if c.id == nil then return nil end
  local t = {
    id = c.id, channel = c.channel, kind = c.kind, skill = c.skill,
    priority = num(c.priority, 0), status = c.status,
    contact = { id = c.contact, name = c.contactName, address = c.address },
    createdAt = num(c.createdAt, nil), queuedAt = num(c.queuedAt, nil),
    firstResponseAt = num(c.firstResponseAt, nil), closedAt = num(c.closedAt, nil),
  }
  if c.subject and c.subject ~= '' then t.subject = c.subject end
  if c.category and c.category ~= '' then t.category = c.category end
  if c.assignee and c.assignee ~= '' then t.assignee = c.assignee end
  return t
end

-- Appends one event to the agent's stream with the next seq, and pushes it to the node holding the
-- agent's socket. `body` is a JSON object text WITHOUT seq, e.g. '{"type":"offer",…}'.
-- The stream entry id is "<seq>-0", so `resume` is XRANGE (<lastSeq+1>-0) + (DESIGN §9).
-- Returns the seq.
local function emit_agent(agent, body)
  local seq = redis.call('HINCRBY', K.agent(agent), 'seq', 1)
  local json = '{"seq":' .. seq .. ',' .. string.sub(body, 2)
  -- agent_event_backlog from the broker settings (sb:{r}:config), 10000 if unset.
  local backlog = redis.call('HGET', K.config(), 'agent_event_backlog') or '10000'
  redis.call('XADD', K.events(agent), 'MAXLEN', '~', backlog, seq .. '-0', 'e', json)
  local node = redis.call('HGET', K.agent(agent), 'node')
  if node and node ~= '' then
    redis.call('PUBLISH', K.node(node), 'a:' .. agent .. '\n' .. json)
  end
  return seq
end

local function emit_agent_table(agent, t)
  return emit_agent(agent, cjson.encode(t))
end

-- Pushes an event to the visitor socket of a web-chat conversation, if one is held by a node.
-- Visitor events carry no seq: a returning visitor is sent its history instead.
local function emit_visitor(conv, body)
  local node = redis.call('HGET', K.conv(conv), 'vnode')
  if node and node ~= '' then
    redis.call('PUBLISH', K.node(node), 'v:' .. conv .. '\n' .. body)
  end
end

local function stat(field, by)
  redis.call('HINCRBY', K.stats(), field, by or 1)
end

-- A conversation that ended (closed or abandoned) expires with its log, statuses and idempotency
-- keys after the configured retention (DESIGN §1: records kept ≥ 3 months; §8 "trimmed by
-- retention"). Without a configured retention nothing expires.
local function expire_conversation(id)
  local ms = tonumber(redis.call('HGET', K.config(), 'retention_ms') or '')
  if ms == nil or ms <= 0 then return end
  for _, key in ipairs({ K.conv(id), K.log(id), K.declined(id), K.msgstatus(id), K.conv(id) .. ':clients' }) do
    redis.call('PEXPIRE', key, ms)
  end
end
