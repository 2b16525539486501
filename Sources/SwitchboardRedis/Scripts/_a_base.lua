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
-- function entry sets before each script runs, as are KEYS and ARGV themselves.

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
  local n = redis.call('HINCRBY', K.seq(), kind, 1)
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
