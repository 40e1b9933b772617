-- The ticket rush's load, run by Debian's wrk 4 (LuaJIT) from bench/rush.py:
--
--   wrk -t <threads> -c <buyers> -d <upper bound> -s bench/rush.lua <booking URL> -- <buyers file> <threads> [api]
--
-- The buyers file has one line per logged-in buyer: its Cookie header, a tab, and its booking
-- form body (with its own CSRF token); with `api` (bench/api_rush.py), its bearer token, a tab
-- and its JSON body. Each wrk thread takes its share of the buyers and its
-- connections post them in turn. The first sold-out answer ends the run; done() prints one
-- line for bench/rush.py: `rush-wrk: p50_us=<n> p99_us=<n> statuses=<status>:<n>,... errors=...`.

local ffi = require("ffi")
ffi.cdef([[
int getpid(void);
int kill(int pid, int sig);
]])

local SOLD_OUT = "not enough tickets left"
local SIGINT = 2

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   threads[#threads + 1] = thread
end

local requests = {}
local next_request = 0
statuses = {} -- read by done() through thread:get()

function init(args)
   local buyers_file, thread_count, api = args[1], tonumber(args[2]), args[3] == "api"
   local line_number = 0
   for line in io.lines(buyers_file) do
      if line_number % thread_count == thread_index then
         local credential, body = line:match("^([^\t]+)\t(.+)$")
         local headers = {
            ["Cookie"] = credential,
            ["Content-Type"] = "application/x-www-form-urlencoded",
         }
         if api then
            headers = {
               ["Authorization"] = "Bearer " .. credential,
               ["Content-Type"] = "application/json",
            }
         end
         requests[#requests + 1] = wrk.format("POST", nil, headers, body)
      end
      line_number = line_number + 1
   end
end

function request()
   next_request = next_request % #requests + 1
   return requests[next_request]
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if status == 409 and body:find(SOLD_OUT, 1, true) then
      wrk.thread:stop()
      -- wrk's main thread sleeps for the whole -d, whatever its threads do: SIGINT is its
      -- only early exit (it then stops the other threads and calls done()).
      ffi.C.kill(ffi.C.getpid(), SIGINT)
   end
end

local function joined(counts)
   local parts = {}
   for key, count in pairs(counts) do
      parts[#parts + 1] = key .. ":" .. count
   end
   table.sort(parts)
   return table.concat(parts, ",")
end

function done(summary, latency, _)
   local counts = {}
   for _, thread in ipairs(threads) do
      for status, count in pairs(thread:get("statuses")) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   io.write(string.format(
      "rush-wrk: p50_us=%d p99_us=%d statuses=%s errors=%s\n",
      latency:percentile(50),
      latency:percentile(99),
      joined(counts),
      joined(summary.errors)
   ))
end
