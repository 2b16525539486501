-- presence: an agent sets its presence (DESIGN §6, §7; agent frame presence.set{status,reason?}).
--
-- ARGV[9] = agent id, ARGV[10] = available | away | offline, ARGV[11] = reason ('' = none)
-- available: into the avail set of each skill by idleSince, then drains at once.
-- away/offline: out of the avail sets; pending offers are rescinded (reason "presence") and go to
-- other agents. Assigned conversations stay with the agent either way.
-- The agent gets a presence{status,reason?} event. Returns the number of offers made to the agent.
-- Errors: not_found, bad_request.

R.setup()
local aid, status, reason = R.arg(1), R.arg(2), R.arg(3) or ''
if status ~= 'available' and status ~= 'away' and status ~= 'offline' then
  fail('bad_request', 'status must be available, away or offline')
end
if string.len(reason) > 200 then fail('bad_request', 'reason is too long') end
if aid == nil or redis.call('SISMEMBER', K.agents(), aid) == 0 then fail('not_found', 'no agent ' .. tostring(aid)) end

local a = hgetall(K.agent(aid))
if status == 'available' then
  return R.make_available(aid, a, reason)
end
R.dispatch_all(R.withdraw(aid, a, status, reason, 'presence'))
return 0
