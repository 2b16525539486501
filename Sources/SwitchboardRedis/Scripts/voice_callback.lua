-- voice_callback: the outcome of a call-back task (a voicemail's), recorded by its agent (issue 10;
-- agent frame callback.outcome{conversationId, outcome, note?}).
--
-- ARGV[9] = agent id, ARGV[10] = conversation id, ARGV[11] = outcome (reached | unreached |
-- wrong_number), ARGV[12] = the agent's note ('' = none)
-- Every outcome is a line in the thread and counts one attempt (cbAttempts). reached and
-- wrong_number close the task into wrap-up (close.lua, the note as its disposition). unreached,
-- while fewer than the channel's callback_attempts were made: the task leaves the agent (capacity
-- back, the agent drains) and waits, status bot, in K.callbacks until callback_retry_after has
-- passed; the sweep queues it again (any agent may take the next try). The last unreached attempt
-- closes it.
-- Returns the conversation JSON. Errors: not_found, forbidden (not the assignee), conflict (not an
-- assigned call-back task), bad_request.

R.setup()
local aid, id, outcome, note = R.arg(1), R.arg(2), R.arg(3), R.arg(4) or ''
if aid == nil or aid == '' or id == nil or id == '' then fail('bad_request', 'agent and conversation are required') end
if outcome ~= 'reached' and outcome ~= 'unreached' and outcome ~= 'wrong_number' then
  fail('bad_request', 'outcome must be reached, unreached or wrong_number')
end
-- The note becomes close.lua's disposition, which takes 500 bytes: refused here, before any write.
if string.len(note) > 500 then fail('bad_request', 'note is too long (at most 500 bytes)') end
local c = Conv.load(id)
if c.id == nil then fail('not_found', 'no conversation ' .. id) end
if c.assignee ~= aid then fail('forbidden', 'conversation ' .. id .. ' is not assigned to you') end
if c.callback ~= '1' or c.status ~= 'assigned' then fail('conflict', 'conversation ' .. id .. ' is not a call-back task in hand') end

local attempts = redis.call('HINCRBY', K.conv(id), 'cbAttempts', '1')
local max = tonumber(c.cbMax or '') or 3
local retry_ms = tonumber(c.cbRetryMs or '') or 1800000
redis.call('HSET', K.conv(id), 'cbOutcome', outcome)
local line = { type = 'call', event = 'callback-' .. outcome }
local body = cjson.encode({ direction = 'out', author = 'system', authorId = aid, parts = { line }, createdAt = NOW })
local m = Store.compose(id, 'delivered', body)
local msg = redis.call('XADD', K.log(id), '*', 'm', m)
emit_agent(aid, '{"type":"message","conversationId":"' .. id .. '","message":' .. Store.render(msg, m) .. '}')
stat('callbacks:' .. outcome)

if outcome == 'unreached' and attempts < max then
  R.unassign(id, aid, c.kind)
  Conv.del(id, c, 'assignee')
  Conv.set(id, c, 'status', 'bot', 'callbackDue', nstr(NOW + retry_ms))
  redis.call('ZADD', K.callbacks(), nstr(NOW + retry_ms), id)
  R.emit_updated(aid, id, c)
  local answer = Conv.json(id, c)
  R.drain(aid)
  return answer
end
return R.with_args(script_close, aid, id, '', note)
