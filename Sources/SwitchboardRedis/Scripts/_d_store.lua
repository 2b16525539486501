-- Message-flow helpers shared by the store scripts (ingest, send, history, outbox, …).
-- Everything lives in one table so this file adds a single local to the library's top level (Lua
-- allows 200 locals per function, and every `_*.lua` shares it).
--
-- Stored message layout (DESIGN §6, §8, §12). A log entry of K.log(conv) has one field `m`:
--   {"conversationId":"<conv>","status":"<status at append>",<body fields…>}
-- where <body fields> is the JSON object the Swift Store encoded once (direction, author, parts,
-- createdAt, …) with its opening brace dropped. The entry id IS the message id and is injected on
-- read; the current delivery status lives in K.msg_status(conv) and replaces the stored one on read.
-- Writers that keep this layout get status merging; any other JSON object is returned with its id
-- only.

local Store = {}

Store.GROUP = 'delivery'
Store.PMID_TTL = 7 * 24 * 3600

Store.OPEN = { bot = true, queued = true, offered = true, assigned = true }

-- Delivery ranks, mirroring SwitchboardCore.DeliveryStatus.
Store.RANK = { pending = 0, sent = 1, delivered = 2, read = 3, failed = 4 }

-- DeliveryStatus.canAdvance: statuses only move forward; `failed` is terminal and may only follow
-- pending or sent (a late failure after `delivered` is ignored, DESIGN §10).
function Store.can_advance(cur, nxt)
  if cur == nil or cur == false or cur == '' then cur = 'pending' end
  if cur == 'failed' then return false end
  if nxt == 'failed' then return cur ~= 'delivered' and cur ~= 'read' end
  return Store.RANK[nxt] > Store.RANK[cur]
end

-- Checks the Swift-encoded body: a non-empty JSON object text, so it can be spliced after a prefix.
function Store.check_body(body)
  if string.sub(body, 1, 1) ~= '{' or string.sub(body, -1) ~= '}' or string.find(body, '^{%s*}$') then
    fail('bad_request', 'message body must be a non-empty JSON object')
  end
end

-- The stored form `m` of a new message.
function Store.compose(conv, status, body)
  return Store.compose_tail(conv, status, string.sub(body, 2))
end

-- Store.compose from the body's members after its `{` (`tail`), and the head it put before them:
-- the hot path builds the wire form from the same pieces instead of re-reading `m`.
function Store.compose_tail(conv, status, tail)
  local head = '{"conversationId":"' .. conv .. '","status":"' .. status .. '",'
  return head .. tail, head
end

-- The wire form: the entry id injected, and the current status (and failure reason and the
-- agent's hint, design §10.1) merged in.
function Store.render(id, m, status, err, hint)
  if status and status ~= '' then
    local head = string.match(m, '^{"conversationId":"[^"]*",')
    if head then
      local _, e = string.find(m, '^"status":"%a+"', #head + 1)
      if e then
        local extra = ''
        if err and err ~= '' then extra = ',"error":' .. cjson.encode(err) end
        if hint and hint ~= '' then extra = extra .. ',"hint":' .. cjson.encode(hint) end
        m = head .. '"status":"' .. status .. '"' .. extra .. string.sub(m, e + 1)
      end
    end
  end
  return '{"id":"' .. id .. '",' .. string.sub(m, 2)
end

-- A log entry's `m` field from XRANGE's flat field list.
function Store.field(flat, name)
  for i = 1, #flat, 2 do
    if flat[i] == name then return flat[i + 1] end
  end
  return nil
end

-- One message of a conversation, rendered with its current status, or nil if trimmed/unknown.
function Store.read_message(conv, id)
  local r = redis.call('XRANGE', K.log(conv), id, id)
  if #r == 0 then return nil end
  local st = redis.call('HMGET', K.msg_status(conv), id, id .. ':error', id .. ':hint')
  return Store.render(id, Store.field(r[1][2], 'm') or '{}', st[1], st[2], st[3])
end

-- Sets a message's delivery status if that is progress. Returns true when it changed.
function Store.advance(conv, msg, status, err)
  local cur = redis.call('HGET', K.msg_status(conv), msg)
  if not Store.can_advance(cur, status) then return false end
  redis.call('HSET', K.msg_status(conv), msg, status)
  if status == 'failed' and err and err ~= '' then
    redis.call('HSET', K.msg_status(conv), msg .. ':error', err)
  end
  return true
end

-- Tells the conversation's assignee (all its consoles) about a delivery change (DESIGN §9).
function Store.emit_delivery(conv, msg, status, err, hint)
  local assignee = redis.call('HGET', K.conv(conv), 'assignee')
  if not assignee or assignee == '' then return nil end
  local t = { type = 'delivery', conversationId = conv, messageId = msg, status = status }
  if err and err ~= '' then t.error = err end
  if hint and hint ~= '' then t.hint = hint end
  return emit_agent_table(assignee, t)
end

-- table -> flat list for XADD (string values only).
function Store.fields_flat(t)
  local flat = {}
  for k, v in pairs(t) do
    flat[#flat + 1] = k
    flat[#flat + 1] = tostring(v)
  end
  return flat
end

-- Validates and clamps a page size.
function Store.limit(v, default, max)
  local n = tonumber(v)
  if n == nil or v == '' then n = default end
  if n < 1 then fail('bad_request', 'limit must be at least 1') end
  if n > max then n = max end
  return math.floor(n)
end
