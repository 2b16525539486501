-- Routing helpers shared by the routing scripts (DESIGN §7): eligibility, queue ranks, offers,
-- dispatch (a conversation looks for an agent) and drain (an agent looks for conversations).
-- Everything lives in one table `R`, so this file adds a single local to the library's chunk (Lua
-- allows 200 locals per function, and every `_*.lua` shares the library's top level), and the helpers may call
-- each other regardless of definition order. Release paths (rescind, wrap-up end, eviction) are in
-- _c_dispatch_release.lua.
--
-- Routing-script calling convention (on top of _a_base.lua's KEYS[1] = prefix, ARGV[1] = now):
--   ARGV[2] = offer timeout, ms          ARGV[5] = offer_missed_limit
--   ARGV[3] = strategy: longest_idle | least_busy
--   ARGV[4] = aging, ms of waiting worth one priority step
--   ARGV[6] = wrap-up, ms                ARGV[7] = reconnect grace, ms
--   ARGV[8] = re-offer cooldown (routing.reoffer_after), ms
--   ARGV[9…] = the script's own arguments (R.arg(1) is ARGV[9]).
-- Every node passes its RoutingSettings with every call, so no setting is read from Redis.
--
-- Invariant the helpers keep: after every routing script, no queued conversation has an eligible
-- agent. Whatever makes a conversation eligible dispatches it (R.dispatch); whatever makes an agent
-- eligible (going available, connecting, freed capacity) drains it (R.drain); the end of a re-offer
-- cooldown is the sweep's (K.reoffer). So a queued conversation is only ever waiting for an agent
-- or for a decline to cool, never for the next inbound message.

local R = {}

R.KINDS = { 'webchat', 'sms', 'wechat', 'email', 'voice', 'mailbox' }
-- Subtracted from the rank of a conversation requeued "at the front" (after a disconnect or a
-- transfer): larger than any normal rank (ms-epoch timestamps are ~1.7e12), so front entries are
-- served before every normal entry and, among themselves, still by priority then wait.
R.FRONT = 1e13
-- How many entries of one skill queue a drain inspects per pick. Entries the agent cannot take
-- (another kind with no room, a higher level, declined) are skipped; past this bound they wait for
-- the next drain. It keeps one script's worst case to a few ms of Redis time.
R.DRAIN_SCAN = 500

function R.arg(i) return ARGV[8 + i] end

-- Runs another script's body (`script_<name>`, a local of the library defined before the caller)
-- with `...` as its own arguments after the same routing settings, and gives back what it answered:
-- a script that moves a conversation the way another one owns (a call abandoned, a call-back
-- queued again) does it through that script, so the transition is written once.
function R.with_args(script, ...)
  local saved = ARGV
  ARGV = { saved[1], saved[2], saved[3], saved[4], saved[5], saved[6], saved[7], saved[8], ... }
  local done, r = pcall(script)
  ARGV = saved
  if not done then error(r) end
  return r
end

-- Reads and checks the settings block; every routing script calls it first, before any write.
function R.setup()
  local s = {
    offer_ms = tonumber(ARGV[2]), strategy = ARGV[3], aging_ms = tonumber(ARGV[4]),
    missed_limit = tonumber(ARGV[5]), wrapup_ms = tonumber(ARGV[6]), grace_ms = tonumber(ARGV[7]),
    reoffer_ms = tonumber(ARGV[8]),
  }
  if NOW == nil or s.offer_ms == nil or s.aging_ms == nil or s.missed_limit == nil
      or s.wrapup_ms == nil or s.grace_ms == nil or s.reoffer_ms == nil
      or (s.strategy ~= 'longest_idle' and s.strategy ~= 'least_busy') then
    fail('bad_request', 'routing settings missing or invalid')
  end
  R.S = s
end

function R.sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

-- The agent's skills (skill -> level) from the JSON sync stored.
function R.skills(a)
  if a.skills == nil or a.skills == '' then return {} end
  local ok, t = pcall(cjson.decode, a.skills)
  if not ok or type(t) ~= 'table' then return {} end
  return t
end

-- Only a connected, available agent gets offers: an agent inside its reconnect grace keeps its
-- conversations but is not rung (an offer it cannot see would only time out and count as missed).
function R.ready(a)
  return a.status == 'available' and a.connected == '1'
end

-- Free capacity on `kind`, with voice exclusive (DESIGN §6 "voice exclusive by default", as an
-- Amazon Connect routing profile without cross-channel concurrency): an agent on a call takes
-- nothing else; a call only needs free voice capacity. An agent configured with
-- `voice_exclusive: false` (voiceShared '1') keeps taking chats during a call.
function R.has_room(a, kind)
  if kind == nil or kind == '' then return false end
  if kind ~= 'voice' and num(a['load:voice'], 0) > 0 and a.voiceShared ~= '1' then return false end
  return num(a['cap:' .. kind], 0) - num(a['load:' .. kind], 0) > 0
end

function R.total_load(a)
  local n = 0
  for _, k in ipairs(R.KINDS) do n = n + num(a['load:' .. k], 0) end
  return n
end

-- DESIGN §7 "Re-offer": an agent who rejected or missed a conversation (or transferred it away)
-- is in `declined` (zset agent -> when). Answers nil when `aid` never declined conversation `id`,
-- false while the decline is cooling (routing.reoffer_after), true once it has cooled: the
-- conversation may then return to the agent, but only when no other eligible agent exists.
function R.declined(id, aid)
  local at = redis.call('ZSCORE', K.declined(id), aid)
  if not at then return nil end
  return tonumber(at) + R.S.reoffer_ms <= NOW
end

-- Records that `aid` rejected or missed conversation `id` now (a later decline restarts its cooldown).
function R.decline(id, aid)
  redis.call('ZADD', K.declined(id), now_s(), aid)
end

-- For a conversation left queued after a decline: the sweep re-dispatches it when the earliest
-- cooling decline ends (ZADD LT keeps an earlier entry), so it never waits for its only agent
-- longer than the cooldown and the sweep never scans queues. No cooling decline, no entry.
function R.cooldown(id)
  local first = redis.call('ZRANGEBYSCORE', K.declined(id), '(' .. nstr(NOW - R.S.reoffer_ms), '+inf',
    'WITHSCORES', 'LIMIT', 0, 1)
  if first[2] then
    redis.call('ZADD', K.reoffer(), 'LT', nstr(tonumber(first[2]) + R.S.reoffer_ms), id)
  end
end

-- DESIGN §7 "Picking an agent": available, skill at the required level, free capacity on the kind,
-- not blocked by voice. Declines are the caller's (R.find_agent, R.pick): see R.declined.
function R.can_take(a, c)
  return R.ready(a) and R.has_room(a, c.kind) and num(R.skills(a)[c.skill], 0) >= num(c.minLevel, 1)
end

-- Queue rank, lower is served first: priority first, then waiting time. FreeSWITCH mod_callcenter
-- style aging: one priority step is worth `aging_ms` of waiting, so a long-waiting low-priority
-- conversation eventually overtakes fresh high-priority ones instead of starving.
function R.rank(c, front)
  local r = num(c.queuedAt, NOW) - num(c.priority, 0) * R.S.aging_ms
  if front then r = r - R.FRONT end
  return r
end

-- Puts a conversation in its skill queue at `score` (remembered as `qscore`, so a rejected or
-- expired offer goes back to the very same place). `c`: the conversation's record, if the caller
-- holds one (Conv.load), kept in step.
function R.queue(id, skill, score, c)
  score = nstr(score)
  redis.call('ZADD', K.queue(skill), score, id)
  redis.call('SADD', K.skills(), skill)
  Conv.set(id, c, 'status', 'queued', 'qscore', score)
  Conv.del(id, c, 'offer', 'assignee')
end

-- Makes an offer (DESIGN §7 "Offers"): the agent's capacity is reserved at once, so concurrent
-- dispatches on other nodes never over-offer. The visitor is told nothing until an accept.
-- `c`: the conversation's fields (a record from Conv.load saves reading them again for the event).
-- `qscore`: only for a conversation offered without ever entering its queue (enqueue found an agent
-- at once): its rank, remembered with the offer, and there is no queue entry to remove.
function R.offer(id, c, aid, qscore)
  local oid = new_id('offer', 'o')
  -- A call rings for its channel's `voice_offer_timeout` (the caller waits on the line), kept on
  -- the conversation when it was opened; everything else for the broker's offer timeout.
  local deadline = NOW + (tonumber(c.offerMs or '') or R.S.offer_ms)
  local d = nstr(deadline)
  redis.call('HSET', K.offer(oid), 'id', oid, 'conv', id, 'agent', aid, 'deadline', d,
    'kind', c.kind, 'createdAt', now_s())
  redis.call('ZADD', K.offers(), d, oid)
  redis.call('SADD', K.agent_offers(aid), oid)
  redis.call('HINCRBY', K.agent(aid), 'load:' .. c.kind, '1')
  if qscore then
    Conv.set(id, c, 'status', 'offered', 'offer', oid, 'qscore', qscore)
  else
    Conv.set(id, c, 'status', 'offered', 'offer', oid)
    redis.call('ZREM', K.queue(c.skill), id)
  end
  -- Offer ids are new_id's [0-9a-z]: no JSON escaping needed.
  emit_agent(aid, '{"type":"offer","offerId":"' .. oid .. '"' .. conv_member(Conv.json(id, c))
    .. ',"expiresAt":' .. jnum(deadline) .. '}')
  stat('offers_made')
  return oid
end

-- The agent fields eligibility for a conversation of `kind` reads (R.ready, R.has_room, R.skills;
-- least_busy also every load, for R.total_load). R.dispatch reads only these of each agent it
-- passes over, with HMGET, instead of the whole hash.
function R.eligibility_fields(kind)
  local fields = { 'status', 'connected', 'skills', 'load:voice', 'voiceShared', 'cap:' .. kind, 'load:' .. kind }
  if R.S.strategy == 'least_busy' then
    for _, k in ipairs(R.KINDS) do fields[#fields + 1] = 'load:' .. k end
  end
  return fields
end

-- HMGET `fields` of agent `aid` into a table shaped like hgetall's (missing fields absent).
function R.agent_read(aid, fields, into)
  local a = into or {}
  local v = redis.call('HMGET', K.agent(aid), unpack(fields))
  for i, f in ipairs(fields) do
    if v[i] then a[f] = v[i] end
  end
  return a
end

-- The first page of an avail set R.dispatch reads under longest_idle, which stops at the first
-- eligible agent (usually among the first few); each further page is four times larger. Reading
-- the whole set (50 agents a skill in the S3 benchmark) cost more than the agents it inspected.
R.AVAIL_PAGE = 8

-- The eligible agent R.dispatch picks for conversation `c`, scanning the avail set in idleSince
-- order, or nil. An agent whose decline of `c` has cooled is only the fallback, taken when no agent
-- who never declined it can (DESIGN §7 "Re-offer"); one still cooling is passed over.
function R.find_agent(id, c)
  if c.kind == nil or c.kind == '' then return nil end   -- R.has_room: nobody has room
  local key, fields = K.avail(c.skill), R.eligibility_fields(c.kind)
  local least_busy = R.S.strategy ~= 'longest_idle'
  local best, best_load, fallback, fallback_load = nil, nil, nil, nil
  local first, size = 0, R.AVAIL_PAGE
  while true do
    local ids
    if least_busy then ids = redis.call('ZRANGE', key, 0, -1) else ids = redis.call('ZRANGE', key, first, first + size - 1) end
    for _, aid in ipairs(ids) do
      local a = R.agent_read(aid, fields)
      if R.can_take(a, c) then
        local declined = R.declined(id, aid)
        local load = least_busy and R.total_load(a) or 0
        if declined == nil then
          if not least_busy then return aid end
          if best == nil or load < best_load then best, best_load = aid, load end
        elseif declined and (fallback == nil or load < fallback_load) then
          fallback, fallback_load = aid, load
        end
      end
    end
    if least_busy or #ids < size then return best or fallback end
    first, size = first + size, size * 4
  end
end

-- A queued conversation looks for an agent among those available for its skill, ordered by
-- idleSince. longest_idle takes the first eligible one (mod_callcenter `longest-idle-agent`);
-- least_busy the one with the lowest total load, ties going to the longest idle.
-- `c`: the conversation's record when the caller holds one (enqueue), else it is read.
-- Returns agent id and offer id, or nil when nobody is eligible (it stays queued).
function R.dispatch(id, c)
  c = c or Conv.load(id)
  if c.status ~= 'queued' then return nil end
  local best = R.find_agent(id, c)
  if best == nil then return nil end
  return best, R.offer(id, c, best)
end

-- The best waiting conversation in any of the agent's skill queues that this agent may take, or nil.
-- Queue entries that are no longer queued (or moved to another skill) are dropped on the way.
function R.pick(aid, a)
  local skills = R.skills(a)
  local best, best_score = nil, nil
  for _, skill in ipairs(R.sorted_keys(skills)) do
    local level = num(skills[skill], 0)
    local entries = redis.call('ZRANGE', K.queue(skill), 0, R.DRAIN_SCAN - 1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      local id, score = entries[i], tonumber(entries[i + 1])
      if best_score ~= nil and score >= best_score then break end
      local f = redis.call('HMGET', K.conv(id), 'status', 'kind', 'minLevel', 'skill')
      if f[1] ~= 'queued' or f[4] ~= skill then
        redis.call('ZREM', K.queue(skill), id)
      -- A cooled decline may be taken: were another agent eligible, it would hold the offer by
      -- now (the invariant above), so this agent is the only one left.
      elseif level >= num(f[3], 1) and R.has_room(R.read_room(aid, a), f[2]) and R.declined(id, aid) ~= false then
        best, best_score = id, score
        break
      end
    end
  end
  return best
end

-- Capacity and load of every kind, read into the drain's agent table `a` the first time a queued
-- conversation might fit it: a drain that finds the queues empty (the common case after a close)
-- reads three fields of the agent, not its whole hash. Returns `a`.
-- (Built with a numeric for: FUNCTION LOAD runs the library's top level without ipairs.)
R.ROOM_FIELDS = {}
for i = 1, #R.KINDS do
  R.ROOM_FIELDS[2 * i - 1] = 'cap:' .. R.KINDS[i]
  R.ROOM_FIELDS[2 * i] = 'load:' .. R.KINDS[i]
end
R.ROOM_FIELDS[2 * #R.KINDS + 1] = 'voiceShared'
R.ROOM_READ = {}   -- private key: a table key never collides with a field
function R.read_room(aid, a)
  if not a[R.ROOM_READ] then
    R.agent_read(aid, R.ROOM_FIELDS, a)
    a[R.ROOM_READ] = true
  end
  return a
end

-- DESIGN §7 "Draining": an agent that frees capacity pulls the best waiting conversations it is
-- eligible for at once, until it is full or nothing fits. Returns the number of offers made.
-- The agent is read again after each offer (its load changed).
R.DRAIN_FIELDS = { 'status', 'connected', 'skills' }
function R.drain(aid)
  local made = 0
  while true do
    local a = R.agent_read(aid, R.DRAIN_FIELDS)
    if not R.ready(a) then return made end
    local id = R.pick(aid, a)
    if id == nil then return made end
    R.offer(id, Conv.load(id), aid)
    made = made + 1
  end
end

-- Gives back one unit of reserved or used capacity (never below zero).
function R.release_load(aid, kind)
  if aid == nil or aid == '' or kind == nil or kind == '' then return end
  local n = redis.call('HINCRBY', K.agent(aid), 'load:' .. kind, '-1')
  if n < 0 then redis.call('HSET', K.agent(aid), 'load:' .. kind, '0') end
end

-- Puts an agent in every avail set of its skills, scored by idleSince (longest idle first).
function R.avail_add(aid, a)
  local idle = nstr(num(a.idleSince, NOW))
  for skill in pairs(R.skills(a)) do
    redis.call('ZADD', K.avail(skill), idle, aid)
    redis.call('SADD', K.skills(), skill)
  end
end

function R.avail_remove(aid, a)
  for skill in pairs(R.skills(a)) do redis.call('ZREM', K.avail(skill), aid) end
end

function R.emit_presence(aid, status, reason)
  local t = { type = 'presence', status = status }
  if reason ~= nil and reason ~= '' then t.reason = reason end
  emit_agent_table(aid, t)
end

-- conversation.updated to the agent, if the conversation exists. `c`: its record, if held.
function R.emit_updated(aid, id, c)
  local j = Conv.json(id, c)
  if j then emit_updated_json(aid, j) end
end

-- Where a conversation is now, as enqueue and transfer report it.
function R.outcome(id)
  local f = redis.call('HMGET', K.conv(id), 'status', 'skill', 'offer', 'assignee')
  local status = f[1]
  if status == 'queued' then
    local pos = redis.call('ZRANK', K.queue(f[2]), id)
    return { status = 'queued', position = pos or 0 }
  elseif status == 'offered' then
    local agent = redis.call('HGET', K.offer(f[3] or ''), 'agent') or ''
    return { status = 'offered', agent = agent, offerId = f[3] or '' }
  elseif status == 'assigned' then
    return { status = 'assigned', agent = f[4] or '' }
  end
  return { status = status or 'unknown' }
end

-- Drops the contact's open-conversation pointer (a string key the Store's ingest writes) when it
-- still names this conversation, so the contact's next message opens a new one (DESIGN §6).
-- `closed`: the pointer becomes the contact's most recently closed one (K.closed, what a rating
-- without a conversation id rates: csat.lua), by a RENAME that costs what the DEL did.
function R.drop_open(id, c, closed)
  if c.contact == nil or c.contact == '' or c.channel == nil or c.channel == '' then return end
  local key = K.open(c.contact, c.channel)
  if redis.call('TYPE', key).ok == 'string' and redis.call('GET', key) == id then
    if closed then redis.call('RENAME', key, K.closed(c.contact, c.channel)) else redis.call('DEL', key) end
  end
end
