-- Shared helpers for every Switchboard script (DESIGN §7, §8). ScriptLibrary loads every `_*.lua`
-- once, at the top of one Redis Functions library, ahead of the scripts.
--
-- Calling convention, for every script:
--   KEYS[1] = the key prefix, e.g. "sb:" (K builds every other key from it; a single Redis
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

-- K, the key builders (K.agent(id), K.log(conv), …), is generated from the key registry in
-- RedisKeys.swift and defined ahead of this file: no script spells a key (DESIGN §8).

-- Fails the script with a coded error the Swift side maps to a client error.
local function fail(code, message)
  return error({err = code .. ' ' .. message})
end

-- A new id of the form <prefix><base36 counter>, unique across nodes (counter lives in Redis).
local function new_id(kind, prefix)
  local n = redis.call('HINCRBY', K.seq(), kind, '1')
  return prefix .. string.format('%x', NOW) .. string.format('%x', n)
end

-- A flat field/value list (HGETALL, a stream entry's fields) as a table.
local function flat_table(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function hgetall(key)
  return flat_table(redis.call('HGETALL', key))
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
