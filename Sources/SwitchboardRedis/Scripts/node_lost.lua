-- node_lost: a node's heartbeat key expired (DESIGN §7: "treated as the drop of every agent it
-- held"). Any surviving node may call it; calling it twice is harmless.
--
-- ARGV[9] = node id, ARGV[10] = '1': only if the node is silent, i.e. its heartbeat key
-- `sb:node:<id>` does not exist (what a watching node passes; a node releasing its own previous
-- run passes '0'). Checked here, atomically: a node that came back between the watcher's EXISTS
-- and this call has already heartbeaten, and re-registered its consoles after that, so they stay.
-- Every agent still bound to that node is disconnected as agent_disconnect does (grace starts now).
-- Returns the number of agents disconnected, or -1 when the node was not silent after all.

R.setup()
local node = R.arg(1)
if node == nil or node == '' then fail('bad_request', 'node is required') end
if R.arg(2) == '1' and redis.call('EXISTS', K.node(node)) == 1 then return -1 end
local n = 0
for _, aid in ipairs(redis.call('SMEMBERS', K.agents())) do
  local key = K.agent(aid)
  if redis.call('HGET', key, 'node') == node then
    redis.call('HSET', key, 'node', '', 'connected', 0, 'disconnectedAt', NOW)
    forget_node(aid)   -- emit_agent's per-call memo of the node (_b_events.lua)
    redis.call('ZADD', K.grace(), NOW + R.S.grace_ms, aid)
    n = n + 1
  end
end
return n
