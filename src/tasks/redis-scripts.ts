/**
 * The Lua scripts of the scale-out store. Each state change of a task — its status, the indexes, its
 * events and the pub/sub announcement of those events — happens in one script, so it is atomic: Redis runs
 * a script without interleaving any other command, which is also what makes idempotency keys exact under
 * concurrency and what fences a stale worker (its token no longer matches).
 *
 * Event bodies arrive as JSON text without `seq`; a script splices `{"seq":n,` in front, so events are never
 * decoded and re-encoded by Lua's cjson (which would round numbers and turn [] into {}).
 * Lease times use the Redis server's clock (TIME), like BullMQ's lock TTLs, so clock skew between worker
 * machines cannot expire a healthy lease.
 * Not Redis Cluster ready: scripts derive index keys from the prefix (they would need one hash slot).
 */
import type { Redis } from "ioredis";
import { CANCELLED_ERROR, WORKER_LOST_MESSAGE } from "./task-messages.js";

/** Embeds a constant message in Lua source inside a JSON string literal; only plain text is allowed. */
function text(message: string): string {
  if (!/^[\w .,;()'-]+$/.test(message)) throw new Error(`message unsafe to embed in Lua: ${message}`);
  return message;
}

const PRELUDE = `
local P = ARGV[1]
local function tkey(id) return P .. ':t:' .. id end
local TERMINAL = { completed = true, failed = true, cancelled = true }

local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Moves the task between status indexes; the caller sets the hash's status field.
local function move_index(id, from, to, pos)
  redis.call('ZREM', P .. ':idx:status:' .. from, id)
  redis.call('ZADD', P .. ':idx:status:' .. to, pos, id)
end

local function move_status(h, id, to)
  local f = redis.call('HMGET', h, 'status', 'pos')
  move_index(id, f[1], to, f[2])
  redis.call('HSET', h, 'status', to)
end

-- Appends ARGV[first..last] (event bodies without seq) in one RPUSH per chunk; returns the last seq.
local function append_args(id, first, last)
  local evkey = tkey(id) .. ':ev'
  local channel = P .. ':ch:ev:' .. id
  local n = redis.call('LLEN', evkey)
  local chunk = {}
  for i = first, last do
    n = n + 1
    local event = '{"seq":' .. n .. ',' .. string.sub(ARGV[i], 2)
    chunk[#chunk + 1] = event
    redis.call('PUBLISH', channel, event)
    if #chunk == 200 then
      redis.call('RPUSH', evkey, unpack(chunk))
      chunk = {}
    end
  end
  if #chunk > 0 then redis.call('RPUSH', evkey, unpack(chunk)) end
  return n
end

-- Appends one event; \`last\` (optional) is the task's last seq when the caller knows it (no LLEN).
local function append(id, body, last)
  local evkey = tkey(id) .. ':ev'
  local n = (last or redis.call('LLEN', evkey)) + 1
  local event = '{"seq":' .. n .. ',' .. string.sub(body, 2)
  redis.call('RPUSH', evkey, event)
  redis.call('PUBLISH', P .. ':ch:ev:' .. id, event)
  return n
end

-- The public record's fields, copied into each webhook message (the body's data, as of the transition).
local RECORD = { 'id', 'graph', 'version', 'status', 'created_at', 'started_at', 'completed_at', 'attempts', 'result',
  'error', 'request_id', 'owner', 'interrupt' }

-- Webhook outbox: one message per endpoint of the task that wants this event, written with the transition.
local function outbox(h, id, kind, now, seq)
  local wh = redis.call('HGET', h, 'webhooks')
  if not wh then return end
  local snapshot
  local due = server_ms()
  for i, target in ipairs(cjson.decode(wh)) do
    local wanted = false
    for _, event in ipairs(target.events) do if event == kind then wanted = true end end
    if wanted then
      if not snapshot then
        snapshot = {}
        local values = redis.call('HMGET', h, unpack(RECORD))
        for j, field in ipairs(RECORD) do
          if values[j] then
            snapshot[#snapshot + 1] = 'r.' .. field
            snapshot[#snapshot + 1] = values[j]
          end
        end
      end
      local mid = 'msg_' .. id .. '_' .. seq
      local key = mid .. ':' .. i
      redis.call('HSET', P .. ':wh:d:' .. key, 'id', mid, 'type', kind, 'url', target.url, 'ts', now, 'attempts', 0,
        'status', 'pending', unpack(snapshot))
      redis.call('ZADD', P .. ':wh:due', due, key)
    end
  end
  if snapshot then redis.call('PUBLISH', P .. ':ch:wh', '1') end
end

local function clear_lease(h, id)
  redis.call('HDEL', h, 'token', 'lease_until')
  redis.call('ZREM', P .. ':idx:leases', id)
end

-- \`from\` and \`pos\` (optional): the status and pos fields when the caller read them already. \`checkpoint\`
-- (optional): stored in the same write.
local function finish(h, id, status, now, result, err, body, last, from, pos, checkpoint)
  if not from then
    local f = redis.call('HMGET', h, 'status', 'pos')
    from, pos = f[1], f[2]
  end
  move_index(id, from, status, pos)
  if checkpoint then
    redis.call('HSET', h, 'status', status, 'completed_at', now, result and 'result' or 'error', result or err, 'checkpoint', checkpoint)
  else
    redis.call('HSET', h, 'status', status, 'completed_at', now, result and 'result' or 'error', result or err)
  end
  redis.call('HDEL', h, 'interrupt', 'interrupted_at', 'token', 'lease_until')
  if from == 'interrupted' then redis.call('ZREM', P .. ':idx:interrupted', id) end
  redis.call('ZREM', P .. ':idx:leases', id)
  redis.call('ZADD', P .. ':idx:terminal', now, string.format('%015d', tonumber(pos)) .. ':' .. id)
  outbox(h, id, 'task.' .. status, now, append(id, body, last))
end

local function finish_cancelled(h, id, now, last)
  finish(h, id, 'cancelled', now, nil, '{"error_code":"CANCELLED","message":"${text(CANCELLED_ERROR.message)}"}',
    '{"type":"error","ts":' .. now .. ',"error":"${text(CANCELLED_ERROR.message)}","error_code":"CANCELLED"}', last)
end

local function to_pending(h, id)
  move_status(h, id, 'pending')
  clear_lease(h, id)
end

local function recover_lost(h, id, now, max_lost)
  if redis.call('HGET', h, 'cancel') == '1' then finish_cancelled(h, id, now) return 'ended' end
  local lost = redis.call('HINCRBY', h, 'lost', 1)
  if lost > max_lost then
    local message = '${text(WORKER_LOST_MESSAGE)} It was lost ' .. lost .. ' times.'
    finish(h, id, 'failed', now, nil, '{"error_code":"WORKER_LOST","message":"' .. message .. '"}',
      '{"type":"error","ts":' .. now .. ',"error":"' .. message .. '","error_code":"WORKER_LOST"}')
    return 'ended'
  end
  append(id, '{"type":"retry","ts":' .. now .. ',"attempt":' .. redis.call('HGET', h, 'attempts') ..
    ',"error":"${text(WORKER_LOST_MESSAGE)}","error_code":"WORKER_LOST","delay_ms":0}')
  to_pending(h, id)
  return 'requeued'
end

-- Interrupted: no lease, no BullMQ job; the interrupt, its checkpoint and the interrupt event are stored.
local function park(h, id, now, interrupt, checkpoint, body, last)
  move_status(h, id, 'interrupted')
  redis.call('HSET', h, 'interrupt', interrupt, 'checkpoint', checkpoint, 'interrupted_at', now)
  clear_lease(h, id)
  redis.call('ZADD', P .. ':idx:interrupted', now, id)
  outbox(h, id, 'task.interrupted', now, append(id, body, last))
end

local function holds(h, token)
  local f = redis.call('HMGET', h, 'status', 'token')
  return f[1] == 'running' and f[2] == token
end
`;

/**
 * KEYS: task, idempotency key. ARGV: P id now graph version input owner|'' hasOwner requestId|'' hasRequestId
 * maxAttempts backoffMs timeoutMs|'' fingerprint ttlMs hasKey traceContext|'' webhooks|'' [interrupt checkpoint event]:
 * with the last three, the task is stored already interrupted (a sync or streaming run that interrupted).
 * Returns { 'created', id[, HGETALL when stored interrupted] }, { 'replay', id, HGETALL } or { 'mismatch', id }.
 */
const SUBMIT = `
local h, id, now = KEYS[1], ARGV[2], ARGV[3]
if ARGV[16] == '1' then
  local value = redis.call('GET', KEYS[2])
  if value then
    local space = string.find(value, ' ', 1, true)
    local existing = string.sub(value, 1, space - 1)
    if redis.call('EXISTS', tkey(existing)) == 1 then
      if string.sub(value, space + 1) ~= ARGV[14] then return { 'mismatch', existing } end
      return { 'replay', existing, redis.call('HGETALL', tkey(existing)) }
    end
  end
end
local pos = redis.call('INCR', P .. ':tasks:pos')
local fields = { 'id', id, 'graph', ARGV[4], 'version', ARGV[5], 'status', 'pending', 'input', ARGV[6], 'created_at', now,
  'attempts', 0, 'lost', 0, 'max_attempts', ARGV[11], 'backoff_ms', ARGV[12], 'cancel', 0, 'pos', pos }
local function field(name, value)
  fields[#fields + 1] = name
  fields[#fields + 1] = value
end
if ARGV[8] == '1' then
  field('owner', ARGV[7])
  redis.call('ZADD', P .. ':idx:owner:' .. ARGV[7], pos, id)
end
if ARGV[10] == '1' then field('request_id', ARGV[9]) end
if ARGV[13] ~= '' then field('timeout_ms', ARGV[13]) end
if ARGV[17] ~= '' then field('trace_context', ARGV[17]) end
if ARGV[18] ~= '' then field('webhooks', ARGV[18]) end
redis.call('HSET', h, unpack(fields))
redis.call('ZADD', P .. ':idx:all', pos, id)
redis.call('ZADD', P .. ':idx:status:pending', pos, id)
if ARGV[19] then
  redis.call('HSET', h, 'attempts', 1, 'started_at', now)
  park(h, id, now, ARGV[19], ARGV[20], ARGV[21], 0)
end
if ARGV[16] == '1' then redis.call('SET', KEYS[2], id .. ' ' .. ARGV[14], 'PX', ARGV[15]) end
-- A pending task's record is what the caller sent (it builds it): only a parked one is read back.
if not ARGV[19] then return { 'created', id } end
return { 'created', id, redis.call('HGETALL', h) }
`;

/** KEYS: task. ARGV: P id token now leaseMs maxLost. A job BullMQ handed out becomes a claim, or is discarded. */
const CLAIM = `
local h, id, now = KEYS[1], ARGV[2], ARGV[4]
local f = redis.call('HMGET', h, 'status', 'cancel', 'pos', 'attempts', 'started_at')
local status = f[1]
if not status then return { 'gone' } end
if TERMINAL[status] then return { 'terminal' } end
if f[2] == '1' then finish_cancelled(h, id, now) return { 'terminal' } end
-- A stale job of an interrupted task (its move to completed failed): discarded; resume enqueues a new one.
if status == 'interrupted' then return { 'parked' } end
-- Still running under another token: BullMQ found that worker's lock expired and handed the job on.
if status == 'running' then
  if recover_lost(h, id, now, tonumber(ARGV[6])) == 'ended' then return { 'terminal' } end
  status = 'pending'
end
local lease_until = server_ms() + tonumber(ARGV[5])
-- attempts + 1 and started_at if unset, in the one write (recover_lost above changes neither).
local attempts = (tonumber(f[4]) or 0) + 1
if f[5] then
  redis.call('HSET', h, 'token', ARGV[3], 'lease_until', lease_until, 'status', 'running', 'attempts', attempts)
else
  redis.call('HSET', h, 'token', ARGV[3], 'lease_until', lease_until, 'status', 'running', 'attempts', attempts, 'started_at', now)
end
move_index(id, status, 'running', f[3])
redis.call('ZADD', P .. ':idx:leases', lease_until, id)
return { 'claimed', redis.call('HGETALL', h) }
`;

/** KEYS: task. ARGV: P id token leaseMs. */
const RENEW = `
if not holds(KEYS[1], ARGV[3]) then
  -- Cancelled while this attempt ran: it is told so (it stops and hands its job on), not that it lost the lease.
  if redis.call('HGET', KEYS[1], 'cancelled_token') == ARGV[3] then return { 1, 1 } end
  return { 0, 0 }
end
local lease_until = server_ms() + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'lease_until', lease_until)
redis.call('ZADD', P .. ':idx:leases', lease_until, ARGV[2])
return { 1, tonumber(redis.call('HGET', KEYS[1], 'cancel')) }
`;

/**
 * KEYS: task. ARGV: P id token checkpoint|'' body… A worker's write while it runs: the events, then the
 * checkpoint if one is given (a durable run's node: both in one call). Returns the last seq (0: no events), or
 * -1 when fenced.
 */
const APPEND = `
if not holds(KEYS[1], ARGV[3]) then return -1 end
local n = 0
if #ARGV >= 5 then n = append_args(ARGV[2], 5, #ARGV) end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'checkpoint', ARGV[4]) end
return n
`;

/**
 * KEYS: task. ARGV: P id token now mode(complete|fail|retry|release|interrupt) payload body checkpoint|'' event…
 * The events a worker emitted last and the checkpoint it took last (still unsent) come along and are stored
 * first, under the same fencing (an interrupt's checkpoint is the interrupt's own). Returns { outcome, events
 * and checkpoint stored (0/1) }.
 */
const TRANSITION = `
local h, id, now, mode = KEYS[1], ARGV[2], ARGV[4], ARGV[5]
local f = redis.call('HMGET', h, 'status', 'token', 'cancel', 'cancelled_token', 'pos')
if not (f[1] == 'running' and f[2] == ARGV[3]) then
  if f[1] == 'cancelled' and f[4] == ARGV[3] then return { 'cancelled', 0 } end
  return { 'fenced', 0 }
end
-- The last seq once the held events are stored (nil without any: the ending's append reads it).
local last
if #ARGV >= 9 then last = append_args(id, 9, #ARGV) end
local ends = f[3] ~= '1' and (mode == 'complete' or mode == 'fail')
-- The held checkpoint; an ending stores it in its own write.
if ARGV[8] ~= '' and mode ~= 'interrupt' and not ends then redis.call('HSET', h, 'checkpoint', ARGV[8]) end
local checkpoint = ARGV[8] ~= '' and ARGV[8] or nil
if f[3] == '1' then finish_cancelled(h, id, now, last) return { 'cancelled', 1 } end
if mode == 'complete' then finish(h, id, 'completed', now, ARGV[6], nil, ARGV[7], last, 'running', f[5], checkpoint)
elseif mode == 'fail' then finish(h, id, 'failed', now, nil, ARGV[6], ARGV[7], last, 'running', f[5], checkpoint)
elseif mode == 'interrupt' then park(h, id, now, ARGV[6], ARGV[8], ARGV[7], last)
else
  append(id, ARGV[7], last)
  if mode == 'release' then redis.call('HINCRBY', h, 'attempts', -1) end
  to_pending(h, id)
end
return { 'ok', 1 }
`;

/** KEYS: task. ARGV: P id now scoped owner ownerIsNull. */
const CANCEL = `
local h, id, now = KEYS[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', h, 'status')
if not status then return { 'missing' } end
if ARGV[4] == '1' then
  local owner = redis.call('HGET', h, 'owner')
  if ARGV[6] == '1' then if owner then return { 'missing' } end
  elseif owner ~= ARGV[5] then return { 'missing' } end
end
if TERMINAL[status] then return { 'conflict', status } end
if status == 'pending' or status == 'interrupted' then
  finish_cancelled(h, id, now)
  return { 'cancelled', redis.call('HGETALL', h) }
end
-- Running: cancelled at once. Ending it clears the lease token, which fences the attempt still running; the
-- token is kept as cancelled_token so that attempt is told it was cancelled and still hands its BullMQ job on.
redis.call('HSET', h, 'cancel', 1, 'cancelled_token', redis.call('HGET', h, 'token') or '')
finish_cancelled(h, id, now)
redis.call('PUBLISH', P .. ':ch:cancel', id)
return { 'requested', redis.call('HGETALL', h) }
`;

/**
 * KEYS: task. ARGV: P id now maxLost mode. A lost task whose lease expired: 'requeue' (its job is waiting
 * again) or 'fail' (its job is gone: BullMQ failed it for stalling too often).
 */
const LOST = `
local h, id, now = KEYS[1], ARGV[2], ARGV[3]
local status = redis.call('HGET', h, 'status')
if not status or TERMINAL[status] or status == 'interrupted' then return 'skip' end
if status == 'running' and tonumber(redis.call('HGET', h, 'lease_until') or '0') > server_ms() then return 'skip' end
if ARGV[5] == 'requeue' then
  if status ~= 'running' then return 'skip' end
  return recover_lost(h, id, now, tonumber(ARGV[4]))
end
redis.call('HSET', h, 'lost', ARGV[4])
return recover_lost(h, id, now, tonumber(ARGV[4]))
`;

/** ARGV: P member… (members of idx:terminal). Deletes terminal tasks with their events and index entries. */
const PRUNE = `
local n = 0
for i = 2, #ARGV do
  local member = ARGV[i]
  local id = string.sub(member, 17)
  local h = tkey(id)
  local status = redis.call('HGET', h, 'status')
  if status == false or TERMINAL[status] then
    if status then
      local owner = redis.call('HGET', h, 'owner')
      if owner then redis.call('ZREM', P .. ':idx:owner:' .. owner, id) end
      redis.call('ZREM', P .. ':idx:all', id)
      redis.call('ZREM', P .. ':idx:status:' .. status, id)
      redis.call('DEL', h, h .. ':ev')
      n = n + 1
    end
    redis.call('ZREM', P .. ':idx:terminal', member)
  end
end
return n
`;

/**
 * KEYS: task, idempotency key. ARGV: P id now expectedResumes checkpoint|'' hasKey fingerprint ttlMs scoped
 * owner ownerIsNull. Interrupted → pending with the new checkpoint (the caller appended the resume value: Lua's
 * cjson would not round-trip the shared store), if no other resume came in between (`resumes` unchanged;
 * 'stale' asks the caller to read again). A used key replays (same fingerprint) or is a mismatch.
 */
const RESUME = `
local h, id, now = KEYS[1], ARGV[2], ARGV[3]
local function visible()
  if not redis.call('HGET', h, 'status') then return false end
  if ARGV[9] ~= '1' then return true end
  local owner = redis.call('HGET', h, 'owner')
  if ARGV[11] == '1' then return not owner end
  return owner == ARGV[10]
end
if ARGV[6] == '1' then
  local used = redis.call('GET', KEYS[2])
  if used then
    local space = string.find(used, ' ', 1, true)
    if string.sub(used, space + 1) ~= ARGV[7] then return { 'mismatch', string.sub(used, 1, space - 1) } end
    if visible() then return { 'replay', redis.call('HGETALL', h) } end
  end
end
if not visible() then return { 'missing' } end
local status = redis.call('HGET', h, 'status')
if status ~= 'interrupted' then return { 'conflict', status } end
if (redis.call('HGET', h, 'resumes') or '0') ~= ARGV[4] then return { 'stale' } end
move_status(h, id, 'pending')
redis.call('HDEL', h, 'interrupt', 'interrupted_at')
redis.call('ZREM', P .. ':idx:interrupted', id)
if ARGV[5] ~= '' then redis.call('HSET', h, 'checkpoint', ARGV[5]) end
redis.call('HINCRBY', h, 'resumes', 1)
if ARGV[6] == '1' then redis.call('SET', KEYS[2], id .. ' ' .. ARGV[7], 'PX', ARGV[8]) end
return { 'resumed', redis.call('HGETALL', h) }
`;

/** ARGV: P cutoff id… (members of idx:interrupted). Deletes tasks interrupted at or before `cutoff` (ms). */
const PRUNE_INTERRUPTED = `
local n = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local h = tkey(id)
  if redis.call('HGET', h, 'status') == 'interrupted' then
    if tonumber(redis.call('HGET', h, 'interrupted_at')) <= tonumber(ARGV[2]) then
      local owner = redis.call('HGET', h, 'owner')
      if owner then redis.call('ZREM', P .. ':idx:owner:' .. owner, id) end
      redis.call('ZREM', P .. ':idx:all', id)
      redis.call('ZREM', P .. ':idx:status:interrupted', id)
      redis.call('DEL', h, h .. ':ev')
      redis.call('ZREM', P .. ':idx:interrupted', id)
      n = n + 1
    end
  else
    redis.call('ZREM', P .. ':idx:interrupted', id)
  end
end
return n
`;

/**
 * ARGV: P max leaseMs token. Claims up to `max` due webhook messages: leased (due again at the lease's end,
 * Redis server time), attempts + 1. Returns [ms until the next one is due (-1: none pending), [key, HGETALL,
 * key, HGETALL, …]].
 */
const WEBHOOK_CLAIM = `
local now = server_ms()
local out = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', P .. ':wh:due', '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local mh = P .. ':wh:d:' .. key
  if redis.call('EXISTS', mh) == 1 then
    redis.call('ZADD', P .. ':wh:due', now + tonumber(ARGV[3]), key)
    redis.call('HSET', mh, 'token', ARGV[4])
    redis.call('HINCRBY', mh, 'attempts', 1)
    out[#out + 1] = key
    out[#out + 1] = redis.call('HGETALL', mh)
  else
    redis.call('ZREM', P .. ':wh:due', key)
  end
end
local first = redis.call('ZRANGE', P .. ':wh:due', 0, 0, 'WITHSCORES')
return { #first == 0 and -1 or math.max(0, tonumber(first[2]) - now), out }
`;

/** ARGV: P key token outcome(delivered|retry|failed) delayMs error. 0 when the lease was lost. */
const WEBHOOK_SETTLE = `
local key = ARGV[2]
local mh = P .. ':wh:d:' .. key
if redis.call('HGET', mh, 'token') ~= ARGV[3] then return 0 end
local now = server_ms()
if ARGV[4] == 'delivered' then
  redis.call('DEL', mh)
  redis.call('ZREM', P .. ':wh:due', key)
elseif ARGV[4] == 'retry' then
  redis.call('HDEL', mh, 'token')
  redis.call('HSET', mh, 'last_error', ARGV[6])
  redis.call('ZADD', P .. ':wh:due', now + tonumber(ARGV[5]), key)
else
  redis.call('HDEL', mh, 'token')
  redis.call('HSET', mh, 'last_error', ARGV[6], 'status', 'failed')
  redis.call('ZREM', P .. ':wh:due', key)
  redis.call('ZADD', P .. ':wh:failed', now, key)
end
return 1
`;

/**
 * ARGV: P cutoff. Deletes webhook messages that failed before `cutoff` (ms), and pending ones due since before
 * it that nobody claimed (no process delivers webhooks any more).
 */
const WEBHOOK_PRUNE = `
local n = 0
for _, set in ipairs({ 'failed', 'due' }) do
  local keys = redis.call('ZRANGEBYSCORE', P .. ':wh:' .. set, '-inf', '(' .. ARGV[2], 'LIMIT', 0, 1000)
  for _, key in ipairs(keys) do
    redis.call('DEL', P .. ':wh:d:' .. key)
    redis.call('ZREM', P .. ':wh:' .. set, key)
  end
  n = n + #keys
end
return n
`;

type Arg = string | number;
type Script = (...args: Arg[]) => Promise<unknown>;

/** The scripts, registered on a connection (EVALSHA, loaded on first use). */
export interface TaskScripts {
  submit: Script;
  claim: Script;
  renew: Script;
  append: Script;
  transition: Script;
  cancel: Script;
  lost: Script;
  prune: Script;
  resume: Script;
  pruneInterrupted: Script;
  webhookClaim: Script;
  webhookSettle: Script;
  webhookPrune: Script;
}

/**
 * Registers the scripts on `redis` (ioredis `defineCommand`).
 *
 * @example
 * const scripts = defineTaskScripts(redis);
 * await scripts.renew(keys.task(id), keys.prefix, id, token, Date.now() + leaseMs);
 */
export function defineTaskScripts(redis: Redis): TaskScripts {
  const sources: Record<keyof TaskScripts, [number, string]> = {
    submit: [2, SUBMIT],
    claim: [1, CLAIM],
    renew: [1, RENEW],
    append: [1, APPEND],
    transition: [1, TRANSITION],
    cancel: [1, CANCEL],
    lost: [1, LOST],
    prune: [0, PRUNE],
    resume: [2, RESUME],
    pruneInterrupted: [0, PRUNE_INTERRUPTED],
    webhookClaim: [0, WEBHOOK_CLAIM],
    webhookSettle: [0, WEBHOOK_SETTLE],
    webhookPrune: [0, WEBHOOK_PRUNE],
  };
  const scripts = {} as TaskScripts;
  for (const [name, [numberOfKeys, body]] of Object.entries(sources) as [keyof TaskScripts, [number, string]][]) {
    const command = `kg_task_${name}`;
    redis.defineCommand(command, { numberOfKeys, lua: PRELUDE + body });
    const call = (redis as unknown as Record<string, Script>)[command] as Script;
    scripts[name] = (...args) => call.apply(redis, args);
  }
  return scripts;
}
