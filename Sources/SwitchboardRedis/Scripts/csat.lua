-- csat: a contact rates a conversation it had (DESIGN §16 "Satisfaction": once per conversation,
-- tied to its conversation, never to "whatever conversation is current"; §9 visitor csat).
--
-- ARGV: now, identity kind, identity address (who rates: webchat:<visitorId>), channel id,
--   conversation id ('' = the identity's most recently closed conversation on that channel),
--   rating 1–5, comment ('' = none)
-- The check and the write are one call: the conversation must be the identity's contact's and
-- closed or in wrap-up (never an open one), and not rated yet. Stores csat, csatComment, csatAt on
-- the conversation hash. Returns the rated conversation id.
-- Errors: not_found (unknown identity, no such conversation of this contact, nothing closed to
-- rate), conflict (still open, already rated), bad_request.

local kind, addr, channel, id = ARGV[2], ARGV[3], ARGV[4], ARGV[5] or ''
local rating, comment = tonumber(ARGV[6]), ARGV[7] or ''
if rating == nil or rating ~= math.floor(rating) or rating < 1 or rating > 5 then
  fail('bad_request', 'rating must be a whole number from 1 to 5')
end
if string.len(comment) > 4000 then fail('bad_request', 'comment is too long') end
local contact = redis.call('GET', K.ident(kind, addr))
if not contact then fail('not_found', 'no conversation to rate') end
if id == '' then
  id = redis.call('GET', K.closed(contact, channel))
  if not id then fail('not_found', 'no closed conversation to rate') end
end
local f = redis.call('HMGET', K.conv(id), 'contact', 'status', 'csat')
-- Someone else's conversation is answered like a missing one: its existence is not the rater's business.
if f[1] ~= contact then fail('not_found', 'no conversation ' .. id .. ' of yours') end
if f[2] ~= 'closed' and f[2] ~= 'wrapup' then
  fail('conflict', 'conversation ' .. id .. ' is still open: it can be rated once it is closed')
end
if f[3] then fail('conflict', 'conversation ' .. id .. ' was already rated') end
redis.call('HSET', K.conv(id), 'csat', tostring(rating), 'csatComment', comment, 'csatAt', now_s())
return id
