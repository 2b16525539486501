-- visitor_detach: the visitor's socket on `node` closed. Clears the conversation's visitor node only
-- if it still names this node: the visitor may already have reconnected through another node, and a
-- late detach from the old one must not cut the new socket off.
--
-- ARGV: now, conversation id, node id
-- Returns 1 if cleared, 0 otherwise (unknown conversation included: nothing to undo).

local conv, node = ARGV[2], ARGV[3]
if node ~= '' and redis.call('HGET', K.conv(conv), 'vnode') == node then
  redis.call('HDEL', K.conv(conv), 'vnode')
  return 1
end
return 0
