-- close: the assignee closes a conversation (DESIGN §7 "Wrap-up"; agent frame
-- conversation.close{conversationId,category?,disposition?}).
--
-- ARGV[9] = agent id, ARGV[10] = conversation id, ARGV[11] = category, ARGV[12] = disposition
-- ('' = none). The conversation enters wrapup until now + wrapup_seconds (ARGV[6]) and keeps the
-- agent's capacity until then (sweep finishes it); with wrap-up 0 it is closed at once and the agent
-- drains. The contact's open-conversation pointer becomes its last-closed one, so the next message
-- opens a new conversation. The agent gets conversation.updated, a web visitor conversation.closed.
-- Closing again (a retried frame) answers the conversation unchanged; closing an ended one (a call
-- that a hang-up closed) records the category and disposition given.
-- Returns the conversation JSON. Errors: not_found, forbidden (not the assignee), conflict.

R.setup()
local aid, id = R.arg(1), R.arg(2)
local category, disposition = R.arg(3) or '', R.arg(4) or ''
if aid == nil or aid == '' or id == nil or id == '' then fail('bad_request', 'agent and conversation are required') end
if string.len(category) > 100 or string.len(disposition) > 500 then fail('bad_request', 'category or disposition is too long') end
local c = Conv.load(id)
if c.id == nil then fail('not_found', 'no conversation ' .. id) end
if c.assignee ~= aid then fail('forbidden', 'conversation ' .. id .. ' is not assigned to you') end
if c.status == 'wrapup' or c.status == 'closed' then
  -- A call ends by itself (a hang-up closes it into wrap-up, voice_call), so its agent gives the
  -- category and notes afterwards: on a conversation already ended they are still recorded.
  -- A retried frame writes the same values again.
  local later = {}
  if category ~= '' and category ~= c.category then later[#later + 1] = 'category'; later[#later + 1] = category end
  if disposition ~= '' and disposition ~= c.disposition then later[#later + 1] = 'disposition'; later[#later + 1] = disposition end
  if #later > 0 then
    Conv.set(id, c, unpack(later))
    R.emit_updated(aid, id, c)
  end
  return Conv.json(id, c)
end
if c.status ~= 'assigned' then fail('conflict', 'conversation ' .. id .. ' is ' .. tostring(c.status)) end

local fields = { 'status', 'wrapup', 'closedAt', now_s() }
if category ~= '' then fields[#fields + 1] = 'category'; fields[#fields + 1] = category end
if disposition ~= '' then fields[#fields + 1] = 'disposition'; fields[#fields + 1] = disposition end
local finish = R.S.wrapup_ms <= 0
if not finish then
  fields[#fields + 1] = 'wrapupUntil'
  fields[#fields + 1] = nstr(NOW + R.S.wrapup_ms)
  redis.call('ZADD', K.wrapups(), fields[#fields], id)
end
-- The record `c` follows every write below, so the conversation JSON of the agent's events and of
-- the answer is encoded once, and the visitor's node comes from it.
Conv.set(id, c, unpack(fields))
R.drop_open(id, c, true)
-- The agent is told once: with wrap-up 0, R.finalize's conversation.updated (status closed) is
-- that event (it used to be followed by a second, identical one).
if finish then R.finalize(id, c) else R.emit_updated(aid, id, c) end
-- Both name the conversation, so the widget's rating card rates this one even after the visitor
-- started another (conversation ids are new_id's [0-9a-z]: no JSON escaping needed).
emit_visitor(id, '{"type":"conversation.closed","conversationId":"' .. id .. '"}', c)
-- Ask the web visitor for a rating (DESIGN §1: satisfaction ≥ 80%; §9 csat.request; §16 once per
-- conversation, csat.lua).
emit_visitor(id, '{"type":"csat.request","conversationId":"' .. id .. '"}', c)
-- The answer is taken before the drain, which offers other (queued) conversations only.
local answer = Conv.json(id, c)
if finish then R.drain(aid) end
return answer
