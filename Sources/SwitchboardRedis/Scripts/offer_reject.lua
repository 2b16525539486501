-- offer_reject: the agent declines an offer (DESIGN §7; agent frame offer.reject{offerId,reason?}).
--
-- ARGV[9] = agent id, ARGV[10] = offer id, ARGV[11] = reason ('' = none)
-- The reservation is released, the agent joins the conversation's declined set (not offered it
-- again while another agent can take it, nor within routing.reoffer_after: DESIGN §7 "Re-offer"),
-- the conversation goes back to its place in the queue and on to the next eligible agent; then the
-- agent drains (its freed capacity may fit another conversation). The reason is kept on the conversation (declineReason) for supervisors.
-- Returns 1. Errors: not_found, forbidden.

R.setup()
local aid, oid, reason = R.arg(1), R.arg(2), R.arg(3) or ''
if aid == nil or aid == '' or oid == nil or oid == '' then fail('bad_request', 'agent and offer are required') end
if string.len(reason) > 200 then fail('bad_request', 'reason is too long') end
local o = hgetall(K.offer(oid))
if o.id == nil then fail('not_found', 'no offer ' .. oid) end
if o.agent ~= aid then fail('forbidden', 'offer ' .. oid .. ' is not yours') end

local r = R.requeue_offer(oid, nil, true)
redis.call('HSET', K.conv(o.conv), 'declinedBy', aid, 'declineReason', reason)
stat('offers_rejected')
if r and r.live then R.redispatch(o.conv) end
R.drain(aid)
return 1
