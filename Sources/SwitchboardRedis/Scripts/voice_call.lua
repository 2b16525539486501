-- voice_call: applies what the call state machine decided for one platform report, and stores the
-- call's new record, in one step (DESIGN §10.5; issue 10). The decision was taken in Swift
-- (CallLifecycle, pure) on what call_state read; `version` makes the write conditional on that
-- read still being true, so two reports of one call decided at once are applied in turn.
--
-- ARGV[9] = channel id, ARGV[10] = call id, ARGV[11] = the version call_state read,
-- ARGV[12] = the new CallRecord JSON, ARGV[13] = the effects (JSON array, see below),
-- ARGV[14] = caller address (voice identity), ARGV[15] = the number called ('' = unknown),
-- ARGV[16] = priority, ARGV[17] = the offer timeout for this call in ms ('' = the broker's),
-- ARGV[18], ARGV[19] = callback_retry_after in ms and callback_attempts (kept on a call-back task)
--
-- Effects, in order (`body`: a message body as the Swift Store encodes it, see _d_store.lua):
--   open {skill, enqueue, body}  the call's conversation: kind voice, status bot until enqueued,
--                                a new conversation per call (never the contact's open one)
--   enqueue {skill}              queue it (the IVR's choice)
--   divert {}                    out of the queue (an offer rescinded, reason voicemail): status bot
--   requeue {body}               the accepting agent never answered the bridge: back to the queue's front
--   abandon {wait, short}        abandon.lua, with the wait and the short-abandon flag kept
--   close_unqueued {reason, body} closed, never offered (hang-up in the menu or at the voicemail prompt)
--   wrapup {talk, connected, body} close.lua for the assignee, with the talk time kept
--   voicemail {id, body}         the recording as a message; a call-back task: queued (reopened
--                                if the call's end had closed it)
--   transcript {id, body}        the transcription as a message
-- Each reuses the script that owns that transition (enqueue, abandon, close), called as a function
-- with its own arguments, so a call moves through routing exactly as a chat does.
-- Counted per channel in K.stats (`calls:<figure>:<channel>`, /metrics switchboard_calls_total):
-- offered (queued for a human), abandoned, abandoned_short, connected, talk_seconds, voicemail;
-- offer_accept counts answered, answered_15s and answer_ms.
-- Returns {"version":n,"conversationId","status","position"} or {"conflict":true} (read again).

R.setup()
local channel, call, expected = R.arg(1), R.arg(2), tonumber(R.arg(3))
local record, effects_json = R.arg(4), R.arg(5)
local addr, called, priority, offer_ms = R.arg(6) or '', R.arg(7) or '', R.arg(8) or '0', R.arg(9) or ''
local callback_retry_ms, callback_attempts = R.arg(10) or '', R.arg(11) or ''
if channel == nil or channel == '' or call == nil or call == '' or expected == nil then
  fail('bad_request', 'channel, call id and version are required')
end
if record == nil or string.sub(record, 1, 1) ~= '{' then fail('bad_request', 'call record must be a JSON object') end
local ok, effects = pcall(cjson.decode, effects_json or '')
if not ok or type(effects) ~= 'table' then fail('bad_request', 'effects must be a JSON array') end

local key = K.call(channel, call)
local cur = redis.call('HMGET', key, 'v', 'conv')
if (tonumber(cur[1]) or 0) ~= expected then return '{"conflict":true}' end
local conv = cur[2] or nil

local sub = R.with_args

-- Appends a message to the conversation's log, tells its assignee. Returns the message id.
local function append(id, body)
  if body == nil or body == '' then return nil end
  Store.check_body(body)
  local m = Store.compose(id, 'delivered', body)
  local msg = redis.call('XADD', K.log(id), '*', 'm', m)
  local assignee = redis.call('HGET', K.conv(id), 'assignee')
  if assignee and assignee ~= '' then
    emit_agent_parts(assignee, '"type":"message","conversationId":"' .. id .. '","message":', Store.render(msg, m), '}')
  end
  return msg
end

-- A conversation the call's end closed comes back for its call-back task: nothing may expire.
local function reopen(id)
  for _, k in ipairs({ K.conv(id), K.log(id), K.declined(id), K.msg_status(id), K.clients(id) }) do
    redis.call('PERSIST', k)
  end
  redis.call('HSET', K.conv(id), 'status', 'bot')
  redis.call('HDEL', K.conv(id), 'closedAt', 'closeReason', 'queuedAt')
end

for _, e in ipairs(effects) do
  local t = e.t
  if t == 'open' then
    if conv == nil then
      if addr == '' then fail('bad_request', 'the caller is required to open a call') end
      local ikey = K.ident('voice', addr)
      local contact = redis.call('GET', ikey)
      local contact_name = ''
      if contact then
        contact_name = redis.call('HGET', K.contact(contact), 'name') or ''
      else
        contact = new_id('contact', 'k')
        redis.call('HSET', K.contact(contact), 'id', contact, 'name', '', 'created', now_s())
        redis.call('SET', ikey, contact)
      end
      conv = new_id('conv', 'c')
      local fields = { 'id', conv, 'channel', channel, 'kind', 'voice', 'skill', e.skill, 'priority', priority,
                       'status', 'bot', 'contact', contact, 'contactName', contact_name, 'address', addr,
                       'createdAt', now_s(), 'callId', call }
      if called ~= '' then fields[#fields + 1] = 'replyFrom'; fields[#fields + 1] = called end
      if offer_ms ~= '' then fields[#fields + 1] = 'offerMs'; fields[#fields + 1] = offer_ms end
      redis.call('HSET', K.conv(conv), unpack(fields))
      redis.call('HSET', key, 'conv', conv)
      redis.call('ZADD', K.contact_convs(contact), now_s(), conv)
      append(conv, e.body)
      stat('inbound:' .. channel)
      if e.enqueue then
        stat('calls:offered:' .. channel)
        sub(script_enqueue, conv, '0')
      end
    end
  elseif conv == nil then
    fail('bad_request', 'effect ' .. tostring(t) .. ' before the call has a conversation')
  elseif t == 'enqueue' then
    redis.call('HSET', K.conv(conv), 'skill', e.skill)
    stat('calls:offered:' .. channel)
    sub(script_enqueue, conv, '0')
  elseif t == 'divert' then
    local c = hgetall(K.conv(conv))
    if c.status == 'queued' or c.status == 'offered' then
      local freed = R.unqueue(conv, c, 'voicemail')
      redis.call('HSET', K.conv(conv), 'status', 'bot', 'voicemail', '1')
      stat('voicemail_diverted')
      if freed then R.drain(freed) end
    end
  elseif t == 'requeue' then
    -- The agent who accepted did not answer the bridge: the call leaves them (declined, so someone
    -- else is offered it first), and waits again at the front of its queue.
    local c = Conv.load(conv)
    if c.status == 'assigned' and c.assignee then
      local aid = c.assignee
      append(conv, e.body)
      R.unassign(conv, aid, c.kind)
      R.decline(conv, aid)
      R.queue(conv, c.skill, R.rank(c, true), c)
      R.emit_updated(aid, conv, c)
      stat('calls:agent_missed:' .. channel)
      R.redispatch(conv)
      R.drain(aid)
    end
  elseif t == 'abandon' then
    if sub(script_abandon, conv) == 1 then
      redis.call('HSET', K.conv(conv), 'abandonWait', tostring(e.wait or 0))
      stat('calls:abandoned:' .. channel)
      if e.short then
        redis.call('HSET', K.conv(conv), 'shortAbandon', '1')
        stat('abandoned_short')
        stat('calls:abandoned_short:' .. channel)
      end
    end
  elseif t == 'close_unqueued' then
    local c = hgetall(K.conv(conv))
    if c.status == 'bot' then
      append(conv, e.body)
      redis.call('HSET', K.conv(conv), 'status', 'closed', 'closedAt', now_s(), 'closeReason', e.reason or '')
      R.drop_open(conv, c, true)
      stat('calls_unqueued')
      expire_conversation(conv)
    end
  elseif t == 'wrapup' then
    local c = redis.call('HMGET', K.conv(conv), 'status', 'assignee')
    if c[1] == 'assigned' and c[2] then
      append(conv, e.body)
      redis.call('HSET', K.conv(conv), 'talkSeconds', tostring(e.talk or 0), 'callConnected', e.connected and '1' or '0')
      if e.connected then stat('calls:connected:' .. channel) end
      stat('calls:talk_seconds:' .. channel, tostring(e.talk or 0))
      sub(script_close, c[2], conv, '', '')
    end
  elseif t == 'voicemail' then
    local msg = append(conv, e.body)
    -- The recording stays at the platform; the proxy route finds it here (as long as the
    -- conversation is kept: the configured retention).
    local rkey = K.recording(channel, e.id)
    redis.call('HSET', rkey, 'url', e.url or '', 'conv', conv, 'duration', tostring(e.duration or ''), 'createdAt', now_s())
    local keep = tonumber(config('retention_ms') or '')
    if keep and keep > 0 then redis.call('PEXPIRE', rkey, nstr(keep)) end
    redis.call('HSET', K.conv(conv), 'callback', '1', 'voicemail', '1', 'cbRetryMs', callback_retry_ms, 'cbMax', callback_attempts)
    local status = redis.call('HGET', K.conv(conv), 'status')
    if status == 'closed' or status == 'abandoned' then reopen(conv); status = 'bot' end
    if status == 'bot' then
      stat('callback_tasks')
      stat('calls:voicemail:' .. channel)
      sub(script_enqueue, conv, '0')
    end
  elseif t == 'transcript' then
    append(conv, e.body)
  else
    fail('bad_request', 'unknown call effect ' .. tostring(t))
  end
end

local v = expected + 1
redis.call('HSET', key, 'v', v, 'r', record)
-- A call's reports stop within minutes of its end (the recording's and transcription's callbacks
-- last); two days keeps late retries deduplicated.
redis.call('EXPIRE', key, 172800)
local out = { version = v }
if conv then
  local c = redis.call('HMGET', K.conv(conv), 'status', 'skill')
  out.conversationId, out.status = conv, c[1] or nil
  if c[1] == 'queued' and c[2] then
    local rank = redis.call('ZRANK', K.queue(c[2]), conv)
    if rank then out.position = rank + 1 end
  end
end
return cjson.encode(out)
