-- contact_history: the contact's other conversations, on every channel, newest first (issue 10: a
-- call card shows the caller's history; DESIGN §17's contact panel builds on it).
--
-- ARGV: now, conversation id, limit (1…50)
-- The index K.contact_convs(contact) is written when a conversation is created (ingest, voice_call);
-- entries whose conversation has expired (retention) are dropped here as they are met.
-- Returns a RESP array of conversation JSON strings (the wire form), the given one left out.
-- Errors: not_found (no such conversation).

local conv = ARGV[2]
local limit = Store.limit(ARGV[3], 10, 50)
local contact = redis.call('HGET', K.conv(conv), 'contact')
if not contact then fail('not_found', 'no conversation ' .. conv) end
local key = K.contact_convs(contact)
local out = {}
for _, id in ipairs(redis.call('ZREVRANGE', key, 0, limit)) do
  if id ~= conv and #out < limit then
    local t = conv_table(id)
    if t then out[#out + 1] = cjson.encode(t) else redis.call('ZREM', key, id) end
  end
end
return out
