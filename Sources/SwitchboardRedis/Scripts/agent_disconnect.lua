-- agent_disconnect: the agent's socket on `node` dropped (DESIGN §7 "Disconnects and dead nodes").
--
-- ARGV[9] = agent id, ARGV[10] = node id
-- Only when the agent is still bound to that node (a console that already reconnected elsewhere
-- is left alone). The agent keeps its conversations and presence for reconnect_grace (ARGV[7]);
-- sweep evicts it after that. It receives no new offers meanwhile (R.ready needs connected).
-- Returns 1 when the agent was disconnected, 0 when the node did not match.

R.setup()
local aid, node = R.arg(1), R.arg(2)
if aid == nil or aid == '' or node == nil or node == '' then fail('bad_request', 'agent and node are required') end
local key = K.agent(aid)
if redis.call('HGET', key, 'node') ~= node then return 0 end
redis.call('HSET', key, 'node', '', 'connected', 0, 'disconnectedAt', NOW)
forget_node(aid)   -- emit_agent's per-call memo of the node (_b_events.lua)
redis.call('ZADD', K.grace(), NOW + R.S.grace_ms, aid)
return 1
