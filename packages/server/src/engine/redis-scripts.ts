/**
 * The Redis engine's atomic steps (engine/redis.ts), as Lua scripts: each decides, records and
 * publishes one change to a room in one step, so every relay sees the same changes in the same
 * order, and two relays asking at once get one answer each, never two winners.
 *
 * A room R keeps, under keys that share the hash tag {R} (one Redis Cluster slot per room):
 *   sh:{R}:m        hash: s (the room's sequence number), n (the last cohort number),
 *                   c:<cid> "<epoch>|<relay key>|<refused commit id>", lc:<cid> (commits logged)
 *   sh:{R}:l:<cid>  list: the cohort's log, "P"+proposal record or "C"+key+"|"+commit event
 *   sh:{R}:r:<cid>  list: commit ids accepted lately
 *   sh:{R}:p:<cid>  list: proposal records of the current epoch
 *   sh:{R}:j        hash: join id → "<relay>|<session>|" + join event
 *   sh:{R}:n        hash: relay → its subscriber counts "cid:n,..."
 * Every key expires `ttl` ms after the room was last used (relays serving it renew that).
 * Nothing of this is plaintext; Redis keeps it in memory only (run it with --save "" --appendonly no).
 *
 * Each change is published on the room's channel as [u32 seq][u32 cid] + the event (bus-codec.ts).
 */

const HEAD = `
local m = KEYS[1]
local pfx = string.sub(m, 1, -2)
local function publish(channel, cid, payload)
  local seq = redis.call('HINCRBY', m, 's', 1)
  redis.call('PUBLISH', channel, struct.pack('>I4I4', seq % 4294967296, cid) .. payload)
  return seq
end
local function state(cid)
  local st = redis.call('HGET', m, 'c:' .. cid)
  if not st then return nil end
  local e, k, ref = string.match(st, '^(%d+)|([^|]*)|(.*)$')
  return e, k, ref
end
local function forget(cid)
  redis.call('HDEL', m, 'c:' .. cid, 'lc:' .. cid, 'lb:' .. cid)
  redis.call('DEL', pfx .. 'l:' .. cid, pfx .. 'r:' .. cid, pfx .. 'p:' .. cid)
end
local function touch(ttl, cid)
  redis.call('PEXPIRE', m, ttl)
  if cid then
    for _, s in ipairs({'l:', 'r:', 'p:'}) do redis.call('PEXPIRE', pfx .. s .. cid, ttl) end
  end
end
`;

/**
 * KEYS m. ARGV channel, ttl, epoch, key, refused, max, event, dropEvent, prunable cid...
 * Returns {cid, seq}: the cohort already open at (epoch, key, refused), or a new one; {-1} at the limit.
 */
export const OPEN = `${HEAD}
local want = ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5]
local all = redis.call('HGETALL', m)
local count = 0
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'c:' then
    count = count + 1
    if all[i + 1] == want then return {tonumber(string.sub(all[i], 3)), tonumber(redis.call('HGET', m, 's') or '0')} end
  end
end
local max = tonumber(ARGV[6])
if count >= max then
  for i = 9, #ARGV do
    if count < max then break end
    if redis.call('HEXISTS', m, 'c:' .. ARGV[i]) == 1 then
      forget(ARGV[i])
      publish(ARGV[1], tonumber(ARGV[i]), ARGV[8])
      count = count - 1
    end
  end
  if count >= max then return {-1} end
end
local cid = redis.call('HINCRBY', m, 'n', 1)
redis.call('HSET', m, 'c:' .. cid, want)
local seq = publish(ARGV[1], cid, ARGV[7])
touch(ARGV[2], nil)
return {cid, seq}
`;

/**
 * KEYS m. ARGV channel, ttl, cid, epoch, id, next, recentMax, logMax, event, logBytesMax. The
 * log is bounded as a relay bounds it: by commits and by bytes (its proposals counted).
 * ARGV (continued): the first commit for the cohort's current epoch wins.
 * RFC 9420 §14: the first commit for the cohort's current epoch wins. Returns {'ok', seq},
 * {'dup'} (accepted before: a resend), {'stale', epoch} or {'gone'} (no such cohort).
 */
export const COMMIT = `${HEAD}
local cid = ARGV[3]
local e, k, ref = state(cid)
if not e then return {'gone'} end
local rk = pfx .. 'r:' .. cid
for _, r in ipairs(redis.call('LRANGE', rk, 0, -1)) do
  if r == ARGV[5] then return {'dup'} end
end
if e ~= ARGV[4] then return {'stale', tonumber(e)} end
local lk = pfx .. 'l:' .. cid
local pk = pfx .. 'p:' .. cid
local added = 0
for _, p in ipairs(redis.call('LRANGE', pk, 0, -1)) do
  redis.call('RPUSH', lk, 'P' .. p)
  added = added + #p + 1
end
redis.call('DEL', pk)
local entry = 'C' .. k .. '|' .. ARGV[9]
redis.call('RPUSH', lk, entry)
local logged = redis.call('HINCRBY', m, 'lc:' .. cid, 1)
local bytes = redis.call('HINCRBY', m, 'lb:' .. cid, added + #entry)
while logged > tonumber(ARGV[8]) or (bytes > tonumber(ARGV[10]) and logged > 1) do
  local old = redis.call('LPOP', lk)
  if not old then break end
  bytes = redis.call('HINCRBY', m, 'lb:' .. cid, -#old)
  if string.sub(old, 1, 1) == 'C' then logged = redis.call('HINCRBY', m, 'lc:' .. cid, -1) end
end
redis.call('RPUSH', rk, ARGV[5])
if redis.call('LLEN', rk) > tonumber(ARGV[7]) then redis.call('LPOP', rk) end
redis.call('HSET', m, 'c:' .. cid, string.format('%d', tonumber(e) + 1) .. '|' .. ARGV[6] .. '|' .. ref)
local seq = publish(ARGV[1], tonumber(cid), ARGV[9])
touch(ARGV[2], cid)
return {'ok', seq}
`;

/**
 * KEYS m, n. ARGV channel, ttl, relay, counts ('-': unchanged), maxProposals, event,
 * then per proposal: cid, epoch, record. A proposal is kept only for its cohort's current epoch.
 */
export const BATCH = `${HEAD}
if ARGV[4] ~= '-' then
  if ARGV[4] == '' then redis.call('HDEL', KEYS[2], ARGV[3]) else redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
for i = 7, #ARGV, 3 do
  local e = state(ARGV[i])
  if e and e == ARGV[i + 1] then
    local pk = pfx .. 'p:' .. ARGV[i]
    if redis.call('LLEN', pk) < tonumber(ARGV[5]) then
      redis.call('RPUSH', pk, ARGV[i + 2])
      redis.call('PEXPIRE', pk, ARGV[2])
    end
  end
end
local seq = publish(ARGV[1], 0, ARGV[6])
touch(ARGV[2], nil)
return seq
`;

/**
 * KEYS m, n, relays. ARGV channel, deadMs, event, cid... Drops each cohort no live relay counts a
 * member in (a relay that sees it empty may not yet have heard of a member entering elsewhere).
 */
export const DROP = `${HEAD}
local t = redis.call('TIME')
local since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])
local counted = {}
local ns = redis.call('HGETALL', KEYS[2])
for i = 1, #ns, 2 do
  local s = redis.call('ZSCORE', KEYS[3], ns[i])
  if s and tonumber(s) >= since then
    for cid in string.gmatch(ns[i + 1], '(%d+):%d+') do counted[cid] = true end
  end
end
local n = 0
for i = 4, #ARGV do
  if not counted[ARGV[i]] and redis.call('HEXISTS', m, 'c:' .. ARGV[i]) == 1 then
    forget(ARGV[i])
    publish(ARGV[1], tonumber(ARGV[i]), ARGV[3])
    n = n + 1
  end
end
return n
`;

/**
 * KEYS m, j. ARGV channel, ttl, join id, relay, session, event. A request is its joiner's: one
 * under the id of another session's pending request is refused (-1).
 */
export const JOIN = `${HEAD}
local v = redis.call('HGET', KEYS[2], ARGV[3])
if v then
  local a = string.find(v, '|', 1, true)
  local b = a and string.find(v, '|', a + 1, true)
  if not b or string.sub(v, a + 1, b - 1) ~= ARGV[5] then return -1 end
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local seq = publish(ARGV[1], 0, ARGV[6])
touch(ARGV[2], nil)
return seq
`;

/** KEYS m, j. ARGV channel, ttl, join id, relay, event. Only the joiner's relay removes its request. */
export const UNJOIN = `${HEAD}
local v = redis.call('HGET', KEYS[2], ARGV[3])
if v and string.sub(v, 1, #ARGV[4] + 1) == ARGV[4] .. '|' then redis.call('HDEL', KEYS[2], ARGV[3]) end
return publish(ARGV[1], 0, ARGV[5])
`;

/**
 * KEYS m, j, n, relays. ARGV deadMs. The room's shared state for a relay that starts to serve
 * it: {seq, {cid, state, log, recent, proposals}..., join events, {relay, counts}...}, with the
 * join requests and counts of live relays only (a heartbeat within deadMs).
 */
export const SNAPSHOT = `${HEAD}
local seq = tonumber(redis.call('HGET', m, 's') or '0')
local cohorts = {}
local all = redis.call('HGETALL', m)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'c:' then
    local cid = string.sub(all[i], 3)
    table.insert(cohorts, {tonumber(cid), all[i + 1], redis.call('LRANGE', pfx .. 'l:' .. cid, 0, -1),
      redis.call('LRANGE', pfx .. 'r:' .. cid, 0, -1), redis.call('LRANGE', pfx .. 'p:' .. cid, 0, -1)})
  end
end
local t = redis.call('TIME')
local since = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
local function live(relay)
  local s = redis.call('ZSCORE', KEYS[4], relay)
  return s and tonumber(s) >= since
end
local joins = {}
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  local a = string.find(v, '|', 1, true)
  local b = a and string.find(v, '|', a + 1, true)
  if b and live(string.sub(v, 1, a - 1)) then table.insert(joins, string.sub(v, b + 1)) end
end
local counts = {}
local ns = redis.call('HGETALL', KEYS[3])
for i = 1, #ns, 2 do
  if live(ns[i]) then table.insert(counts, ns[i]); table.insert(counts, ns[i + 1]) end
end
return {seq, cohorts, joins, counts}
`;

/** KEYS relays. ARGV relay, heartbeat channel. A relay is alive: its score is Redis's clock (ms). */
export const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 3600000)
redis.call('PUBLISH', ARGV[2], ARGV[1])
return redis.call('ZCOUNT', KEYS[1], now - 10000, '+inf')
`;

/** KEYS m, j, n. ARGV ttl. A relay still serves the room: its state stays. */
export const TOUCH = `${HEAD}
for _, k in ipairs({KEYS[2], KEYS[3]}) do redis.call('PEXPIRE', k, ARGV[1]) end
local all = redis.call('HGETALL', m)
for i = 1, #all, 2 do
  if string.sub(all[i], 1, 2) == 'c:' then touch(ARGV[1], string.sub(all[i], 3)) end
end
redis.call('PEXPIRE', m, ARGV[1])
return 1
`;

export const SCRIPTS = { OPEN, COMMIT, BATCH, DROP, JOIN, UNJOIN, SNAPSHOT, HEARTBEAT, TOUCH } as const;
export type ScriptName = keyof typeof SCRIPTS;
