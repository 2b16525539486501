-- visitor_attach: records which node holds the web visitor's socket, so replies and typing reach
-- it through that node's pub/sub channel (DESIGN §8, sb:node:<id>).
--
-- ARGV: now, conversation id, node id
-- Returns 1. Errors: not_found (no such conversation), bad_request (empty node).

local conv, node = ARGV[2], ARGV[3]
if node == '' then fail('bad_request', 'node is required') end
if redis.call('EXISTS', K.conv(conv)) == 0 then fail('not_found', 'no conversation ' .. conv) end
redis.call('HSET', K.conv(conv), 'vnode', node)
return 1
