-- enqueue: a conversation needs a human (new from ingest, or a bot handoff): into its skill queue,
-- then offered to the best eligible agent if there is one (DESIGN §7 "Queues", "Offers").
--
-- ARGV[8] = conversation id, ARGV[9] = '1' to queue at the front (requeue), else '0'
-- Idempotent: a conversation already queued, offered or assigned is left as it is (the Store retries
-- enqueue after answering 503 to a duplicate webhook). A `bot` conversation is handed off: queued
-- now. Wrap-up, closed and abandoned conversations are a conflict.
-- Rank: queuedAt − priority × aging (see R.rank); front entries before all normal ones.
-- Returns {"status":"queued","position":n} | {"status":"offered","agent","offerId"} |
--         {"status":"assigned","agent"}. Errors: not_found, conflict, bad_request.

R.setup()
local id, front = R.arg(1), R.arg(2) == '1'
if id == nil or id == '' then fail('bad_request', 'conversation id is required') end
local c = hgetall(K.conv(id))
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
  c.queuedAt = tostring(NOW)
  redis.call('HSET', K.conv(id), 'queuedAt', NOW)
end
R.queue(id, c.skill, R.rank(c, front))
stat('enqueued')
R.dispatch(id)
return cjson.encode(R.outcome(id))
