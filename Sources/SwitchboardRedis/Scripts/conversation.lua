-- conversation: the wire form of one conversation (DESIGN §6, §9), as conv_table builds it.
--
-- ARGV: now, conversation id
-- Returns the conversation JSON. Errors: not_found.

local t = conv_table(ARGV[2])
if not t then fail('not_found', 'no conversation ' .. ARGV[2]) end
return cjson.encode(t)
