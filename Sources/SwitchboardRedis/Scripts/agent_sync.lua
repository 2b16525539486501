-- agent_sync: upserts the configured agents (DESIGN §6 Agent; the config file is the source of
-- truth for names, roles, skills and capacity; Redis keeps the live state).
--
-- ARGV[9] = JSON array of {"id","name","role","skills":{skill:level},"capacity":{kind:n},
--           "voiceExclusive":true|false,"endpoint":"+86…"|"sip:…" (where an accepted call is bridged)}
-- New agents start offline with zero load. Existing agents keep status, load, idleSince and seq;
-- an available agent's avail sets follow a skill change and it drains (new skills or capacity may
-- fit waiting conversations). Agents no longer configured are evicted like a grace end (offers
-- rescinded, assigned conversations requeued at the front) and leave the agent set.
-- Returns {"created":n,"updated":n,"removed":n}.

R.setup()
local ok, list = pcall(cjson.decode, R.arg(1) or '')
if not ok or type(list) ~= 'table' then fail('bad_request', 'agents must be a JSON array') end
for _, cfg in ipairs(list) do
  if type(cfg) ~= 'table' or type(cfg.id) ~= 'string' or cfg.id == '' or string.find(cfg.id, '[%s{}:]') then
    fail('bad_request', 'every agent needs an id without spaces, braces or colons')
  end
  if cfg.skills ~= nil and type(cfg.skills) ~= 'table' then fail('bad_request', 'skills of ' .. cfg.id .. ' must be an object') end
  if cfg.capacity ~= nil and type(cfg.capacity) ~= 'table' then fail('bad_request', 'capacity of ' .. cfg.id .. ' must be an object') end
end

local created, updated, removed = 0, 0, 0
local seen = {}
for _, cfg in ipairs(list) do
  local aid = cfg.id
  seen[aid] = true
  local key = K.agent(aid)
  local old = hgetall(key)
  local skills = cfg.skills or {}
  local capacity = cfg.capacity or {}
  -- voiceShared '1': agents[].voice_exclusive false, chats go on during a call (R.has_room).
  local fields = { 'id', aid, 'name', cfg.name or aid, 'role', cfg.role or 'agent',
                   'voiceShared', cfg.voiceExclusive == false and '1' or '0', 'endpoint', cfg.endpoint or '' }
  -- An empty Lua table encodes as {}: the right JSON for an empty skill map.
  fields[#fields + 1] = 'skills'
  fields[#fields + 1] = cjson.encode(skills)
  for _, kind in ipairs(R.KINDS) do
    fields[#fields + 1] = 'cap:' .. kind
    fields[#fields + 1] = math.max(0, math.floor(num(capacity[kind], 0)))
  end
  if old.status == nil then
    for _, v in ipairs({ 'status', 'offline', 'reason', '', 'node', '', 'connected', 0,
                         'idleSince', NOW, 'missed', 0 }) do
      fields[#fields + 1] = v
    end
    for _, kind in ipairs(R.KINDS) do
      fields[#fields + 1] = 'load:' .. kind
      fields[#fields + 1] = 0
    end
    created = created + 1
  else
    updated = updated + 1
  end
  redis.call('HSET', key, unpack(fields))
  forget_node(aid)   -- emit_agent's per-call memo of the node (_b_events.lua)
  redis.call('SADD', K.agents(), aid)
  for skill in pairs(skills) do redis.call('SADD', K.skills(), skill) end
  if old.status == 'available' then
    R.avail_remove(aid, old)
    local a = hgetall(key)
    R.avail_add(aid, a)
    R.drain(aid)
  end
end

for _, aid in ipairs(redis.call('SMEMBERS', K.agents())) do
  if not seen[aid] then
    R.evict(aid, 'removed')
    redis.call('SREM', K.agents(), aid)
    removed = removed + 1
  end
end

return cjson.encode({ created = created, updated = updated, removed = removed })
