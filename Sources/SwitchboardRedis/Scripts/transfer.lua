-- transfer: the assignee hands a conversation on (DESIGN §7 "Transfer"; agent frame
-- conversation.transfer{conversationId,toAgent|toSkill,note?}).
--
-- ARGV[9] = agent id, ARGV[10] = conversation id, ARGV[11] = 'agent' | 'skill',
-- ARGV[12] = target agent id or skill, ARGV[13] = note ('' = none)
-- to a skill: released from the agent, skill changed, requeued at the front, dispatched; then the
--   releasing agent drains.
-- to an agent: offered to that agent, not forced (TaskRouter-style reservation), if it is
--   connected, available and has room on the kind (its skills are not checked: a named colleague
--   was chosen on purpose); else conflict "agent unavailable" and nothing changes. A reject or a
--   timeout then follows the normal flow from the front of the conversation's queue.
-- Either way the releasing agent is added to the declined set, as a decline made now (it gets its
-- own transfer back only when nobody else can take it after routing.reoffer_after), is told
-- conversation.updated, and a system message records the transfer and the note in
-- the conversation log, in the Store's log layout (see _d_store.lua: no id; the stream id is it);
-- a web visitor gets conversation.transferring{conversationId}.
-- Returns like enqueue. Errors: not_found, forbidden (not the assignee), conflict, bad_request.

R.setup()
local aid, id, mode, target = R.arg(1), R.arg(2), R.arg(3), R.arg(4)
local note = R.arg(5) or ''
if aid == nil or aid == '' or id == nil or id == '' then fail('bad_request', 'agent and conversation are required') end
if (mode ~= 'agent' and mode ~= 'skill') or target == nil or target == '' then
  fail('bad_request', 'transfer needs toAgent or toSkill')
end
if string.len(note) > 2000 then fail('bad_request', 'note is too long') end
local c = hgetall(K.conv(id))
if c.id == nil then fail('not_found', 'no conversation ' .. id) end
if c.assignee ~= aid then fail('forbidden', 'conversation ' .. id .. ' is not assigned to you') end
if c.status ~= 'assigned' then fail('conflict', 'conversation ' .. id .. ' is ' .. tostring(c.status)) end

local label
local t = nil
if mode == 'agent' then
  if target == aid then fail('bad_request', 'cannot transfer to yourself') end
  if redis.call('SISMEMBER', K.agents(), target) == 0 then fail('not_found', 'no agent ' .. target) end
  t = hgetall(K.agent(target))
  if not (R.ready(t) and R.has_room(t, c.kind)) then fail('conflict', 'agent unavailable') end
  label = t.name or target
else
  if string.find(target, '[%s{}:]') then fail('bad_request', 'invalid skill') end
  label = target
end

R.unassign(id, aid, c.kind)
redis.call('DEL', K.declined(id))
R.decline(id, aid)
if mode == 'skill' then
  c.skill = target
  redis.call('HSET', K.conv(id), 'skill', target)
end
-- Remembered front rank: where a rejected or expired transfer offer goes back to.
local score = R.rank(c, true)
if mode == 'agent' then
  redis.call('HSET', K.conv(id), 'qscore', score)
  R.offer(id, c, target)
else
  R.queue(id, target, score)
end
stat('transfers')

local text = 'Transferred to ' .. label
if note ~= '' then text = text .. ': ' .. note end
redis.call('XADD', K.log(id), '*', 'm',
  '{"conversationId":"' .. id .. '","status":"delivered","direction":"out","author":"system",'
  .. '"parts":[{"type":"text","text":' .. cjson.encode(text) .. '}],"createdAt":' .. NOW .. '}')

R.emit_updated(aid, id)
-- The web visitor learns that the agent it saw has handed it on (the widget shows "transferring"
-- until the next agent.joined), never the target: skills and colleagues are internal.
emit_visitor(id, '{"type":"conversation.transferring","conversationId":"' .. id .. '"}')
if mode == 'skill' then R.redispatch(id) end
R.drain(aid)
return cjson.encode(R.outcome(id))
