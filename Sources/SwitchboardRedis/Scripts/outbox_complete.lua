-- outbox_complete: the fate of one delivery attempt of an outbox entry (DESIGN §11: consumer group
-- "delivery" on K.outbox(), exponential backoff, dead-letter stream).
--
-- ARGV: now, entry id, outcome (sent|retry|failed), provider message id ('' if none),
--       error text ('' if none), max attempts, backoff ms (for a retry; computed by the caller),
--       agent hint ('' if none: what the agent should do instead, in Chinese, for a failure)
-- Outcomes:
--   sent   -> XACK + XDEL; status `sent` (forward only); provider id -> "<conv> <msg>" for status
--             callbacks, kept 7 days; delivery event to the assignee.
--   retry  -> while attempt < max: XACK + XDEL and park the fields (attempt + 1) in the delayed zset
--             until now + backoff; outbox_promote puts them back. Otherwise as failed.
--   failed -> XADD K.deadletter() (fields + error), XACK + XDEL, status `failed` + error,
--             delivery event {status:"failed", error}.
--   gone   -> as failed (what it was for no longer exists: the caller of a call's bridge hung up);
--             the delivery worker then ends the conversation (voice_gone).
-- Returns (RESP array): { result: sent|retry|failed|missing, message status after, retry at ms (0) }
-- `missing`: the entry is no longer in the stream (completed already, e.g. by a node that claimed it),
-- so nothing changed: completing twice is harmless.

local id, outcome, provider_id, err = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local max_attempts, backoff, hint = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8] or ''
if outcome ~= 'sent' and outcome ~= 'retry' and outcome ~= 'failed' and outcome ~= 'gone' then
  fail('bad_request', 'outcome must be sent, retry, failed or gone')
end
if max_attempts == nil or max_attempts < 1 then fail('bad_request', 'max attempts must be positive') end
if backoff == nil or backoff < 0 then fail('bad_request', 'backoff must not be negative') end

local r = redis.call('XRANGE', K.outbox(), id, id)
if #r == 0 then
  redis.call('XACK', K.outbox(), Store.GROUP, id)
  return { 'missing', '', 0 }
end
local f = flat_table(r[1][2])
local conv, msg = f.conv, f.msg

local function finish()
  redis.call('XACK', K.outbox(), Store.GROUP, id)
  redis.call('XDEL', K.outbox(), id)
end

local function current()
  return redis.call('HGET', K.msg_status(conv), msg) or 'pending'
end

if outcome == 'sent' then
  finish()
  if provider_id ~= '' then
    redis.call('SET', K.pmid(f.channel, provider_id), conv .. ' ' .. msg, 'EX', Store.PMID_TTL)
  end
  if Store.advance(conv, msg, 'sent') then Store.emit_delivery(conv, msg, 'sent') end
  stat('deliveries:sent')
  return { 'sent', current(), 0 }
end

local attempt = num(f.attempt, 1)
if outcome == 'retry' and attempt < max_attempts then
  finish()
  local at = NOW + math.floor(backoff)
  f.attempt = tostring(attempt + 1)
  f.lastError = err
  redis.call('ZADD', K.outbox_delayed(), at, cjson.encode(f))
  stat('deliveries:retry')
  return { 'retry', current(), at }
end

-- Failed for good, or out of attempts.
if err == '' then err = 'delivery failed' end
f.error = err
f.failedAt = tostring(NOW)
if hint ~= '' then f.hint = hint end
redis.call('XADD', K.deadletter(), '*', unpack(Store.fields_flat(f)))
finish()
if Store.advance(conv, msg, 'failed', err) then
  if hint ~= '' then redis.call('HSET', K.msg_status(conv), msg .. ':hint', hint) end
  Store.emit_delivery(conv, msg, 'failed', err, hint)
end
stat('deliveries:failed')
return { 'failed', current(), 0 }
