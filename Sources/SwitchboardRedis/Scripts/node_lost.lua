-- node_lost: a node's heartbeat key expired (DESIGN §7: "treated as the drop of every agent it
-- held"). Any surviving node may call it; calling it twice is harmless.
--
-- ARGV[8] = node id
-- Every agent still bound to that node is disconnected as agent_disconnect does (grace starts now).
-- Returns the number of agents disconnected.

R.setup()
local node = R.arg(1)
if node == nil or node == '' then fail('bad_request', 'node is required') end
local n = 0
for _, aid in ipairs(redis.call('SMEMBERS', K.agents())) do
  local key = K.agent(aid)
  if redis.call('HGET', key, 'node') == node then
    redis.call('HSET', key, 'node', '', 'connected', 0, 'disconnectedAt', NOW)
    redis.call('ZADD', K.grace(), NOW + R.S.grace_ms, aid)
    n = n + 1
  end
end
return n
