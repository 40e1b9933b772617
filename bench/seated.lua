-- "Best available" under a rush, run by Debian's wrk 4 (LuaJIT) from bench/seated.py:
--
--   wrk -t <threads> -c <buyers> -d <upper bound> -s bench/seated.lua <best seats URL> \
--       -- <buyers file> <threads> <zone names, comma-separated>
--
-- The buyers file has one line per logged-in buyer: its Cookie header, then one form body per
-- price zone (each with the buyer's CSRF token, the quantity and that zone's tier_id), all
-- separated by tabs, the zones in the order of the names. Buyer n prefers zone n mod <zones>
-- (so the buyers split evenly over the zones) and asks for the next zone still open when its
-- own is closed. The requests carry `HX-Request: true`, as the page's htmx sends them.
--
-- A zone closes at its first refusal that says it has no seats together left ("... is sold
-- out", "... fewer than the ...", "... seats together are left"); the refusal names its zone
-- ("Front is sold out.", "Front: no 2 seats together are left. ..."). When every zone is closed the run ends. done() prints
--   seated-wrk: p50_us=<n> p99_us=<n> statuses=<status>:<n>,... errors=... refusals=<zone>/<kind>:<n>,...
-- and then one line per zone refusal, with the wall clock (Unix time, microseconds) when wrk
-- read it:
--   seated-refusal: <zone> <sold_out|not_together> <unix time>

local ffi = require("ffi")
ffi.cdef([[
int getpid(void);
int kill(int pid, int sig);
typedef struct { long tv_sec; long tv_usec; } bench_timeval;
int gettimeofday(bench_timeval *tv, void *tz);
]])

local SIGINT = 2
local timeval = ffi.new("bench_timeval")

local function now()
   ffi.C.gettimeofday(timeval, nil)
   return tonumber(timeval.tv_sec) + tonumber(timeval.tv_usec) / 1e6
end

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   threads[#threads + 1] = thread
end

local zones = {} -- zone names, in the buyers file's order
local open = {} -- zone index -> still asked for
local buyers = {} -- { preferred zone index, { zone index -> request } }
local next_buyer = 0
statuses = {} -- read by done() through thread:get()
refusals = {} -- "<zone>/<kind>" -> count
refusal_log = {} -- "<zone> <kind> <time>"

function init(args)
   local buyers_file, thread_count = args[1], tonumber(args[2])
   for name in args[3]:gmatch("[^,]+") do
      zones[#zones + 1] = name
      open[#zones] = true
   end
   local line_number = 0
   for line in io.lines(buyers_file) do
      if line_number % thread_count == thread_index then
         local fields = {}
         for field in line:gmatch("[^\t]+") do
            fields[#fields + 1] = field
         end
         local requests = {}
         for zone = 1, #zones do
            requests[zone] = wrk.format("POST", nil, {
               ["Cookie"] = fields[1],
               ["Content-Type"] = "application/x-www-form-urlencoded",
               ["HX-Request"] = "true",
            }, fields[zone + 1])
         end
         buyers[#buyers + 1] = { line_number % #zones + 1, requests }
      end
      line_number = line_number + 1
   end
end

function request()
   next_buyer = next_buyer % #buyers + 1
   local buyer = buyers[next_buyer]
   for step = 0, #zones - 1 do
      local zone = (buyer[1] - 1 + step) % #zones + 1
      if open[zone] then
         return buyer[2][zone]
      end
   end
   return buyer[2][buyer[1]] -- every zone is closed: the run is ending
end

local function refusal_kind(message)
   if message:find("is sold out", 1, true) or message:find("fewer than the", 1, true) then
      return "sold_out"
   elseif message:find("seats together are left", 1, true) then
      return "not_together"
   end
   return "other"
end

local function zone_of(message)
   for index, name in ipairs(zones) do
      if message:find(name .. " is", 1, true) or message:find(name .. ":", 1, true) then
         return index
      end
   end
   return nil
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status ~= 409 then
      return
   end
   -- The refusal's message is the answer's alert (the whole body when there is none), as text.
   local message = (body:match('role="alert"(.-)</p>') or body):gsub("<[^>]*>", " ")
   local kind, zone = refusal_kind(message), zone_of(message)
   local key = (zone and zones[zone] or "?") .. "/" .. kind
   refusals[key] = (refusals[key] or 0) + 1
   if kind == "other" or zone == nil then
      return
   end
   refusal_log[#refusal_log + 1] = string.format("%s %s %.6f", zones[zone], kind, now())
   open[zone] = false
   for index = 1, #zones do
      if open[index] then
         return
      end
   end
   wrk.thread:stop()
   -- wrk's main thread sleeps for the whole -d, whatever its threads do: SIGINT is its only
   -- early exit (it then stops the other threads and calls done()).
   ffi.C.kill(ffi.C.getpid(), SIGINT)
end

local function joined(counts)
   local parts = {}
   for key, count in pairs(counts) do
      parts[#parts + 1] = key .. ":" .. count
   end
   table.sort(parts)
   return table.concat(parts, ",")
end

local function summed(name)
   local counts = {}
   for _, thread in ipairs(threads) do
      for key, count in pairs(thread:get(name)) do
         counts[key] = (counts[key] or 0) + count
      end
   end
   return counts
end

function done(summary, latency, _)
   io.write(string.format(
      "seated-wrk: p50_us=%d p99_us=%d statuses=%s errors=%s refusals=%s\n",
      latency:percentile(50),
      latency:percentile(99),
      joined(summed("statuses")),
      joined(summary.errors),
      joined(summed("refusals"))
   ))
   for _, thread in ipairs(threads) do
      for _, line in ipairs(thread:get("refusal_log")) do
         io.write("seated-refusal: " .. line .. "\n")
      end
   end
end
