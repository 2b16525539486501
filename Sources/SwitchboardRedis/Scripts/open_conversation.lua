-- open_conversation: a returning contact's open conversation on a channel, e.g. a web visitor whose
-- token names a known visitor id (DESIGN §9 ready{conversationId?,history}).
--
-- ARGV: now, identity kind, identity address, channel id
-- Returns nil when the identity is unknown or has no open conversation on that channel, else a
-- RESP array { contactId, conversationId, conversation JSON }.

local kind, addr, channel = ARGV[2], ARGV[3], ARGV[4]
local contact = redis.call('GET', K.ident(kind, addr))
if not contact then return false end
local conv = redis.call('GET', K.open(contact, channel))
if not conv then return false end
local t = conv_table(conv)
if not t or not Store.OPEN[t.status] then return false end
return { contact, conv, cjson.encode(t) }
