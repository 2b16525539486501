-- provider_status: a provider's delivery callback (Twilio StatusCallback MessageStatus, WeChat
-- template/send events, …) for a message we sent, found by the provider's message id that
-- outbox_complete recorded. Statuses only move forward (DESIGN §10; DeliveryStatus.canAdvance):
-- pending < sent < delivered < read, and failed only from pending or sent.
--
-- ARGV: now, channel id, provider message id, status (pending|sent|delivered|read|failed),
--       error text ('' if none)
-- Returns (RESP array): { found 0|1, changed 0|1, status after, conversationId, messageId }.
-- Unknown ids are found = 0: the caller still answers 200, so the provider stops retrying.

local channel, provider_id, status, err = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if Store.RANK[status] == nil then fail('bad_request', 'unknown delivery status ' .. tostring(status)) end
if provider_id == '' then fail('bad_request', 'provider id is required') end

local ref = redis.call('GET', K.pmid(channel, provider_id))
if not ref then return { 0, 0, '', '', '' } end
local conv, msg = string.match(ref, '^(%S+) (%S+)$')

local changed = 0
if Store.advance(conv, msg, status, err) then
  changed = 1
  Store.emit_delivery(conv, msg, status, status == 'failed' and err or nil)
end
local now_status = redis.call('HGET', K.msg_status(conv), msg) or 'pending'
return { 1, changed, now_status, conv, msg }
