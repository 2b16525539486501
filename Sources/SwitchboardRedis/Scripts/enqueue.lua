-- enqueue: a conversation needs a human (new from ingest, or a bot handoff): into its skill queue,
-- then offered to the best eligible agent if there is one (DESIGN §7 "Queues", "Offers").
--
-- ARGV[9] = conversation id, ARGV[10] = '1' to queue at the front (requeue), else '0'
-- Idempotent: a conversation already queued, offered or assigned is left as it is (the Store retries
-- enqueue after answering 503 to a duplicate webhook). A `bot` conversation is handed off: queued
-- now. Wrap-up, closed and abandoned conversations are a conflict.
-- Rank: queuedAt − priority × aging (see R.rank); front entries before all normal ones.
-- Returns {"status":"queued","position":n} | {"status":"offered","agent","offerId"} |
--         {"status":"assigned","agent"}. Errors: not_found, conflict, bad_request.

R.setup()
local id, front = R.arg(1), R.arg(2) == '1'
if id == nil or id == '' then fail('bad_request', 'conversation id is required') end
local c = Conv.load(id)
if c.id == nil then fail('not_found', 'no conversation ' .. id) end
if c.skill == nil or c.skill == '' or c.kind == nil or c.kind == '' then
  fail('bad_request', 'conversation ' .. id .. ' has no skill or kind')
end

local status = c.status
if status == 'offered' or status == 'assigned' then return cjson.encode(R.outcome(id)) end
if status == 'queued' and redis.call('ZSCORE', K.queue(c.skill), id) then
  return cjson.encode(R.outcome(id))
end
if status ~= 'queued' and status ~= 'bot' then
  fail('conflict', 'conversation ' .. id .. ' is ' .. tostring(status))
end

if c.queuedAt == nil or c.queuedAt == '' or status == 'bot' then
  Conv.set(id, c, 'queuedAt', now_s())
end
local score = R.rank(c, front)
-- Who R.dispatch would pick once it is queued: eligibility does not depend on the queue entry.
-- The record `c` goes on to the offer and its event, so the conversation is read once.
local agent = R.find_agent(id, c)
if agent == nil then
  R.queue(id, c.skill, score, c)
  stat('enqueued')
  return cjson.encode(R.outcome(id))
end
-- Offered at once. Redis ends as R.queue + R.dispatch would leave it (skill registered, qscore
-- remembered for a reject or timeout, no queue entry), without the ZADD and ZREM of an entry that
-- lives for no time and a separate HSET of status queued.
redis.call('SADD', K.skills(), c.skill)
Conv.del(id, c, 'assignee')
stat('enqueued')
local oid = R.offer(id, c, agent, nstr(score))
return cjson.encode({ status = 'offered', agent = agent, offerId = oid })
