-- replay: the agent events after a sequence number, for `auth{resume}` (DESIGN §9). Events are
-- stored by emit_agent in K.events(agent) with entry ids "<seq>-0".
--
-- ARGV: now, agent id, after seq (0 = from the start), limit (1…10000)
-- Returns a RESP array of event JSON strings (each with its seq), in order.

local agent = ARGV[2]
local after = tonumber(ARGV[3])
if agent == '' then fail('bad_request', 'agent is required') end
if after == nil or after < 0 or after % 1 ~= 0 then fail('bad_request', 'after must be a sequence number') end
local limit = Store.limit(ARGV[4], 1000, 10000)

local r = redis.call('XRANGE', K.events(agent), '(' .. string.format('%d', after) .. '-0', '+', 'COUNT', limit)
local out = {}
for i = 1, #r do out[i] = Store.field(r[i][2], 'e') end
return out
