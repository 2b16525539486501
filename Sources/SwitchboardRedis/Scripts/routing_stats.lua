-- routing_stats: the routing picture for /metrics, GET /v1/queues and GET /v1/agents (DESIGN §9),
-- and the supervisors' board.
--
-- ARGV[9…] = skill names to report even when never used (the configured skills)
-- Returns {"queues":{skill:depth},"presence":{"available":n,"away":n,"offline":n},
--   "agents":[{"id","name","status","reason","connected","load":{kind:n}}],
--   "counters":{name:n},"waitMs":{skill|"*":ms}}
-- counters are the K.stats counters (offers_made, offers_accepted, offers_rejected, offers_timeout,
-- enqueued, abandoned, closed, requeued, transfers, and the Store's own); waitMs the moving averages.

R.setup()
local skills = {}
for _, s in ipairs(redis.call('SMEMBERS', K.skills())) do skills[s] = true end
for i = 9, #ARGV do if ARGV[i] ~= '' then skills[ARGV[i]] = true end end
local queues = {}
for _, s in ipairs(R.sorted_keys(skills)) do queues[s] = redis.call('ZCARD', K.queue(s)) end

local presence = { available = 0, away = 0, offline = 0 }
local agents = {}
for _, aid in ipairs(redis.call('SORT', K.agents(), 'ALPHA')) do
  local a = hgetall(K.agent(aid))
  local status = a.status or 'offline'
  presence[status] = (presence[status] or 0) + 1
  local load = {}
  for _, k in ipairs(R.KINDS) do load[k] = num(a['load:' .. k], 0) end
  agents[#agents + 1] = cjson.encode({ id = aid, name = a.name or aid, status = status, reason = a.reason or '',
    connected = a.connected == '1', load = load })
end

local counters, waits = {}, {}
local flat = redis.call('HGETALL', K.stats())
for i = 1, #flat, 2 do
  local k, v = flat[i], tonumber(flat[i + 1]) or 0
  if k == 'wait_ms' then waits['*'] = v
  elseif string.sub(k, 1, 8) == 'wait_ms:' then waits[string.sub(k, 9)] = v
  else counters[k] = v end
end

-- Arrays are joined by hand: cjson encodes an empty table as {} where [] is meant.
return '{"queues":' .. cjson.encode(queues) .. ',"presence":' .. cjson.encode(presence)
  .. ',"agents":[' .. table.concat(agents, ',') .. '],"counters":' .. cjson.encode(counters)
  .. ',"waitMs":' .. cjson.encode(waits) .. '}'
