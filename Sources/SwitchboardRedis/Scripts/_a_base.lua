-- Shared helpers for every Switchboard script (DESIGN §7, §8). ScriptLibrary loads every `_*.lua`
-- once, at the top of one Redis Functions library, ahead of the scripts.
--
-- Calling convention, for every script:
--   KEYS[1] = the key prefix, e.g. "sb:" (scripts build their other keys from it; a single Redis
--             or one Cluster slot per hash tag is assumed: see DESIGN §8)
--   ARGV[1] = now, milliseconds since the epoch, supplied by the calling node (tests pass a fake
--             clock; nodes are NTP-synchronised, and every deadline is compared against the
--             same caller-supplied clock)
--   ARGV[2…] = the script's own arguments
-- Scripts answer with a JSON string (cjson) unless documented otherwise, and raise errors with
-- redis.error_reply("CODE message") where CODE is one of: not_found, forbidden, conflict,
-- bad_request.

-- P (= KEYS[1]) and NOW (= tonumber(ARGV[1])) are upvalues the library header declares and the
-- function entry sets before each script runs, as are KEYS and ARGV themselves, and CALL: a fresh
-- table per call, the memo of what this call already read (config, an agent's node, NOW as a
-- string). Nothing in it outlives the call: another node may write Redis between two calls.

local K = {}
function K.agent(id) return P .. '{r}:agent:' .. id end
function K.agents() return P .. '{r}:agents' end                 -- set of agent ids
function K.avail(skill) return P .. '{r}:avail:' .. skill end     -- zset agent id -> idleSince
function K.queue(skill) return P .. '{r}:queue:' .. skill end     -- zset conv id -> rank
function K.offers() return P .. '{r}:offers' end                  -- zset offer id -> deadline
function K.offer(id) return P .. '{r}:offer:' .. id end           -- hash
function K.agent_offers(id) return P .. '{r}:agent:' .. id .. ':offers' end  -- set of offer ids
function K.agent_convs(id) return P .. '{r}:agent:' .. id .. ':convs' end    -- set of assigned conv ids
function K.wrapups() return P .. '{r}:wrapups' end                -- zset conv id -> wrap-up end
function K.grace() return P .. '{r}:grace' end                    -- zset agent id -> grace end
function K.stats() return P .. '{r}:stats' end                    -- hash of cluster-wide counters
function K.seq() return P .. '{r}:seq' end                        -- hash of id counters
function K.config() return P .. '{r}:config' end                  -- hash of broker settings scripts read (retention_ms, agent_event_backlog)
function K.conv(id) return P .. 'conv:{' .. id .. '}' end
function K.log(id) return P .. 'conv:{' .. id .. '}:log' end
function K.declined(id) return P .. 'conv:{' .. id .. '}:declined' end
function K.msgstatus(id) return P .. 'conv:{' .. id .. '}:status' end  -- hash msg id -> delivery JSON
function K.contact(id) return P .. 'contact:' .. id end
function K.ident(kind, addr) return P .. 'ident:' .. kind .. ':' .. addr end
function K.open(contact, channel) return P .. 'contact:' .. contact .. ':open:' .. channel end
-- string: the contact's most recently closed conversation on a channel (what an untargeted csat rates)
function K.closed(contact, channel) return P .. 'contact:' .. contact .. ':closed:' .. channel end
function K.dedup(channel, ext) return P .. 'dedup:' .. channel .. ':' .. ext end
function K.events(agent) return P .. 'agent:' .. agent .. ':events' end
function K.outbox() return P .. 'outbox' end
function K.deadletter() return P .. 'deadletter' end
function K.node(id) return P .. 'node:' .. id end

-- Fails the script with a coded error the Swift side maps to a client error.
local function fail(code, message)
  return error({err = code .. ' ' .. message})
end

-- A new id of the form <prefix><base36 counter>, unique across nodes (counter lives in Redis).
local function new_id(kind, prefix)
  local n = redis.call('HINCRBY', K.seq(), kind, '1')
  return prefix .. string.format('%x', NOW) .. string.format('%x', n)
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function num(v, default)
  local n = tonumber(v)
  if n == nil then return default end
  return n
end

-- A number as Redis 7.0 writes a Lua number argument of redis.call ("%.17g"), but through the
-- integer path when it is integral: "%.17g" is glibc's float printing, which with cjson's "%.14g"
-- was ~7% of Redis's instructions per routed conversation (callgrind, Bench/README.md S3). Below
-- 1e15 both print the same digits; zero, fractions and the rest take "%.17g" itself.
local function nstr(n)
  if n == math.floor(n) and n ~= 0 and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  return string.format('%.17g', n)
end

-- The same for a number spliced into JSON, as cjson.encode would print it ("%.14g").
local function jnum(n)
  if n == math.floor(n) and n ~= 0 and n > -1e14 and n < 1e14 then return string.format('%d', n) end
  return cjson.encode(n)
end

-- NOW as nstr prints it: ARGV[1] itself when it is already that text (the nodes send integers).
local function now_s()
  local s = CALL.now
  if s == nil then
    s = ARGV[1]
    if #s > 15 or not string.find(s, '^[1-9]%d*$') then s = nstr(NOW) end
    CALL.now = s
  end
  return s
end

-- A broker setting from sb:{r}:config (DESIGN §8 additions: written by the nodes when they
-- connect, never by a script), read once per call however many events or expiries need it.
-- Missing fields are false, as HGET answers them.
local function config(field)
  local cfg = CALL.config
  if cfg == nil then
    local v = redis.call('HMGET', K.config(), 'agent_event_backlog', 'retention_ms')
    cfg = { agent_event_backlog = v[1], retention_ms = v[2] }
    CALL.config = cfg
  end
  return cfg[field]
end
