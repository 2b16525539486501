-- history: a page of a conversation's messages, oldest first, each with its id and its current
-- delivery status (and a failure's reason and hint for the agent) merged in (DESIGN §9 history{conversationId,before?,limit?}).
--
-- ARGV: now, conversation id, before (message id, exclusive; '' = from the newest), limit (1…500)
-- Returns a RESP array of message JSON strings: the `limit` newest messages older than `before`, in
-- log order. Errors: not_found (no such conversation).

local conv, before = ARGV[2], ARGV[3]
local limit = Store.limit(ARGV[4], 50, 500)
if redis.call('EXISTS', K.conv(conv)) == 0 then fail('not_found', 'no conversation ' .. conv) end

local top = '+'
if before ~= '' then
  if not string.find(before, '^%d+%-%d+$') then fail('bad_request', 'before must be a message id') end
  -- Nothing is older than the first possible id; Redis refuses `(0-0` as a range end.
  if string.find(before, '^0+%-0+$') then return {} end
  top = '(' .. before
end
local page = redis.call('XREVRANGE', K.log(conv), top, '-', 'COUNT', limit)
if #page == 0 then return {} end

local lookups = {}
for i = 1, #page do
  lookups[#lookups + 1] = page[i][1]
  lookups[#lookups + 1] = page[i][1] .. ':error'
  lookups[#lookups + 1] = page[i][1] .. ':hint'
end
local st = redis.call('HMGET', K.msg_status(conv), unpack(lookups))

local out = {}
for i = #page, 1, -1 do
  local id = page[i][1]
  out[#out + 1] = Store.render(id, Store.field(page[i][2], 'm') or '{}', st[3 * i - 2], st[3 * i - 1], st[3 * i])
end
return out
