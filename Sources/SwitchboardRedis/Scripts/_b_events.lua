-- Conversation JSON and event delivery, shared by every script that tells someone something.

-- The text members of a conversation's wire form (conv_wire, conv_wire_json) from its hash `c` (as
-- hgetall returns it; DESIGN §6, §9). Empty optional fields are left out.
local function conv_wire_text(c)
  local t = {
    id = c.id, channel = c.channel, kind = c.kind, skill = c.skill, status = c.status,
    contact = { id = c.contact, name = c.contactName, address = c.address },
  }
  if c.subject and c.subject ~= '' then t.subject = c.subject end
  if c.category and c.category ~= '' then t.category = c.category end
  if c.assignee and c.assignee ~= '' then t.assignee = c.assignee end
  -- A phone call's facts (voice_call): the console's ringing card and the reports read them.
  if c.callId and c.callId ~= '' then
    local answer_ms = tonumber(c.answerMs or '')
    t.call = { id = c.callId, talkSeconds = tonumber(c.talkSeconds or ''), abandonWait = tonumber(c.abandonWait or ''),
               answerSeconds = answer_ms and math.floor(answer_ms / 1000) or nil,
               shortAbandon = c.shortAbandon == '1' or nil, voicemail = c.voicemail == '1' or nil,
               callback = c.callback == '1' or nil }
    -- Whether the bridge came up, once the call has ended after an acceptance (absent before).
    if c.callConnected == '1' then t.call.connected = true elseif c.callConnected == '0' then t.call.connected = false end
  end
  return t
end

-- The numeric members of the wire form, all optional but priority.
local CONV_TIMES = { 'createdAt', 'queuedAt', 'assignedAt', 'firstResponseAt', 'closedAt' }

-- The wire form of a conversation hash `c`, as a table.
local function conv_wire(c)
  local t = conv_wire_text(c)
  t.priority = num(c.priority, 0)
  for i = 1, #CONV_TIMES do t[CONV_TIMES[i]] = num(c[CONV_TIMES[i]], nil) end
  return t
end

local function conv_table(id)
  local c = hgetall(K.conv(id))
  if c.id == nil then return nil end
  return conv_wire(c)
end

-- A stored number field as the JSON text cjson.encode(num(v, nil)) would print, or nil. The
-- timestamps the scripts store are canonical integers, already that text: no float printing.
local function jfield(v)
  if v == nil then return nil end
  if #v <= 14 and string.find(v, '^[1-9]%d*$') then return v end
  local n = tonumber(v)
  if n == nil then return nil end
  return jnum(n)
end

-- cjson.encode(conv_wire(c)), the same members, with the numbers spliced in as text by jfield
-- (member order is not part of JSON, and cjson's own follows Lua's hash layout).
local function conv_wire_json(c)
  local parts = { string.sub(cjson.encode(conv_wire_text(c)), 1, -2), ',"priority":', jfield(c.priority) or '0' }
  for _, f in ipairs(CONV_TIMES) do
    local v = jfield(c[f])
    if v then
      parts[#parts + 1] = ',"' .. f .. '":'
      parts[#parts + 1] = v
    end
  end
  parts[#parts + 1] = '}'
  return table.concat(parts)
end

-- A conversation record: the hash read once in a call and kept in step with the call's own writes
-- (Conv.set, Conv.del), so a script that changes a conversation and then tells its agent, its
-- visitor and its caller reads the hash once and encodes the JSON once (close did three HGETALLs
-- and three encodings of the same conversation). Only writes made through Conv.set and Conv.del
-- are mirrored: code holding a record writes that hash no other way. A record lives in a local of
-- one call, never across calls. Plain hgetall tables are never trusted as records (Conv.json reads
-- those again), so R.offer(id, c, …) stays right for callers that changed the hash behind `c`.
local Conv = { LIVE = {}, JSON = {} }   -- private keys: a table key never collides with a field

function Conv.load(id)
  local c = hgetall(K.conv(id))
  c[Conv.LIVE] = true
  return c
end

-- HSET id's hash (field, value, …) and mirror it into `c` if that is a record (else `c`, nil or a
-- plain table, is left alone). Numbers are written as nstr text, what redis.call made of them.
function Conv.set(id, c, ...)
  local args = { ... }
  for i = 2, #args, 2 do
    if type(args[i]) == 'number' then args[i] = nstr(args[i]) end
  end
  redis.call('HSET', K.conv(id), unpack(args))
  if c and c[Conv.LIVE] then
    for i = 1, #args, 2 do c[args[i]] = args[i + 1] end
    c[Conv.JSON] = nil
  end
end

-- HDEL id's fields. On a record, only the fields it holds are deleted: the record mirrors the hash,
-- so a field it lacks is not there (and an HDEL that deletes nothing changes nothing, replication
-- included); with none left there is no command at all.
function Conv.del(id, c, ...)
  local fields = { ... }
  if c and c[Conv.LIVE] then
    local present = {}
    for _, f in ipairs(fields) do
      if c[f] ~= nil then
        present[#present + 1] = f
        c[f] = nil
      end
    end
    if #present == 0 then return end
    fields = present
    c[Conv.JSON] = nil
  end
  redis.call('HDEL', K.conv(id), unpack(fields))
end

-- The conversation's JSON text (nil if there is none): from record `c`, encoded once per state of
-- the record, or read afresh when `c` is not a record.
function Conv.json(id, c)
  if c and c[Conv.LIVE] then
    if c.id == nil then return nil end
    local j = c[Conv.JSON]
    if j == nil then
      j = conv_wire_json(c)
      c[Conv.JSON] = j
    end
    return j
  end
  local t = conv_table(id)
  if t == nil then return nil end
  return cjson.encode(t)
end

-- `,"conversation":<json>` for splicing into an event, or nothing when there is no conversation
-- (what cjson.encode does with a nil field).
local function conv_member(j)
  if j == nil then return '' end
  return ',"conversation":' .. j
end

-- The node holding an agent's socket, read at most once per call (CALL.node): close tells the same
-- agent twice. The scripts that move an agent's socket (agent_connect, agent_disconnect, node_lost,
-- agent_sync) call forget_node after writing `node`.
local function agent_node(agent)
  local nodes = CALL.node
  if nodes == nil then
    nodes = {}
    CALL.node = nodes
  end
  local node = nodes[agent]
  if node == nil then
    node = redis.call('HGET', K.agent(agent), 'node')
    nodes[agent] = node
  end
  return node
end

local function forget_node(agent)
  if CALL.node then CALL.node[agent] = nil end
end

-- Appends one event to the agent's stream with the next seq, and pushes it to the node holding the
-- agent's socket. The event is the JSON object `{"seq":N,` .. a .. b .. c: the caller's members
-- after `{` (e.g. '"type":"offer",…}'), in up to three pieces so a large message is spliced in
-- without an intermediate copy. Every long string a script makes costs Redis' Lua ~8.7k
-- instructions (callgrind: one 700-byte concatenation in an otherwise empty FCALL), and the hot
-- path used to make three more than it needed.
-- The stream entry id is "<seq>-0", so `resume` is XRANGE (<lastSeq+1>-0) + (DESIGN §9).
-- Returns the seq.
local function emit_agent_parts(agent, a, b, c)
  local seq = redis.call('HINCRBY', K.agent(agent), 'seq', '1')
  local s = jnum(seq)
  local json = '{"seq":' .. s .. ',' .. a .. (b or '') .. (c or '')
  -- agent_event_backlog from the broker settings (sb:{r}:config), 10000 if unset.
  local backlog = config('agent_event_backlog') or '10000'
  redis.call('XADD', K.events(agent), 'MAXLEN', '~', backlog, s .. '-0', 'e', json)
  local node = agent_node(agent)
  if node and node ~= '' then
    redis.call('PUBLISH', K.node(node), 'a:' .. agent .. '\n' .. json)
  end
  return seq
end

-- emit_agent_parts for a whole JSON object text `body` WITHOUT seq, e.g. '{"type":"offer",…}'.
local function emit_agent(agent, body)
  return emit_agent_parts(agent, string.sub(body, 2))
end

local function emit_agent_table(agent, t)
  return emit_agent(agent, cjson.encode(t))
end

-- `conversation.updated` with the conversation's JSON `j` (Conv.json).
local function emit_updated_json(agent, j)
  return emit_agent(agent, '{"type":"conversation.updated"' .. conv_member(j) .. '}')
end

-- Pushes an event to the visitor socket of a web-chat conversation, if one is held by a node.
-- Visitor events carry no seq: a returning visitor is sent its history instead. `c`: the
-- conversation's record, whose vnode saves the read (nil: read it).
local function emit_visitor(conv, body, c)
  local node
  if c and c[Conv.LIVE] then node = c.vnode else node = redis.call('HGET', K.conv(conv), 'vnode') end
  if node and node ~= '' then
    redis.call('PUBLISH', K.node(node), 'v:' .. conv .. '\n' .. body)
  end
end

local function stat(field, by)
  redis.call('HINCRBY', K.stats(), field, by or '1')
end

-- A conversation that ended (closed or abandoned) expires with its log, statuses and idempotency
-- keys after the configured retention (DESIGN §1: records kept ≥ 3 months; §8 "trimmed by
-- retention"). Without a configured retention nothing expires.
local function expire_conversation(id)
  local ms = tonumber(config('retention_ms') or '')
  if ms == nil or ms <= 0 then return end
  ms = nstr(ms)
  for _, key in ipairs({ K.conv(id), K.log(id), K.declined(id), K.msg_status(id), K.clients(id) }) do
    redis.call('PEXPIRE', key, ms)
  end
end
