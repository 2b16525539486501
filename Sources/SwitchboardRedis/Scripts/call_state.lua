-- call_state: what the broker knows of one phone call, read before the call state machine
-- (CallLifecycle, pure Swift) decides what a platform's report does (DESIGN §10.5; issue 10).
--
-- ARGV[9] = channel id, ARGV[10] = call id (Twilio CallSid), ARGV[11] = the skill whose agents
-- matter ('' = do not look: only an incoming call or a menu answer may go to voicemail because
-- nobody is logged in).
-- Returns {"version":n,"record":"<CallRecord JSON>"|absent,"conversationId","status","assignee",
--          "position" (1 = next; while queued),"agents":true|false}.
-- `version` is what voice_call checks before it writes: two reports of one call decided at once
-- (a status callback racing a wait request) are applied one after the other, never both on the
-- same state.

local channel, call, skill = R.arg(1), R.arg(2), R.arg(3) or ''
if channel == nil or channel == '' or call == nil or call == '' then fail('bad_request', 'channel and call id are required') end
local f = redis.call('HMGET', K.call(channel, call), 'v', 'r', 'conv')
local out = { version = tonumber(f[1]) or 0, record = f[2] or nil }
local conv = f[3]
if conv and conv ~= '' then
  local c = redis.call('HMGET', K.conv(conv), 'status', 'assignee', 'skill')
  out.conversationId = conv
  out.status = c[1] or nil
  out.assignee = c[2] or nil
  if c[1] == 'queued' and c[3] then
    local rank = redis.call('ZRANK', K.queue(c[3]), conv)
    if rank then out.position = rank + 1 end
  end
end
if skill ~= '' then
  -- Anyone available for the skill answers at once; else any connected agent with the skill who is
  -- not offline (busy agents take the call once free: it queues). Centres have up to a few hundred
  -- agents; this runs once per call, not per message.
  local logged = redis.call('ZCARD', K.avail(skill)) > 0
  if not logged then
    for _, aid in ipairs(redis.call('SMEMBERS', K.agents())) do
      local a = redis.call('HMGET', K.agent(aid), 'connected', 'status', 'skills')
      if a[1] == '1' and a[2] and a[2] ~= 'offline' and a[3] then
        local ok, skills = pcall(cjson.decode, a[3])
        if ok and type(skills) == 'table' and skills[skill] ~= nil then
          logged = true
          break
        end
      end
    end
  end
  out.agents = logged
end
return cjson.encode(out)
