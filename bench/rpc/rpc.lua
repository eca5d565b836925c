-- Shared by ping.lua and rooms.lua: each wrk request POSTs one JSON-RPC request (the
-- globals rpc_method and rpc_params) over keep-alive; Authorization comes from
-- $ATRIUM_TOKEN. done() prints the line atrium-wsbench prints, prefixed "http".
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("ATRIUM_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
wrk.body = string.format('{"jsonrpc":"2.0","id":1,"method":"%s"%s}', rpc_method,
                         rpc_params and (',"params":' .. rpc_params) or "")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  rpc_errors = 0  -- per thread: JSON-RPC error replies (they come with HTTP 200)
end

function response(status, headers, body)
  if status == 200 and body:find('"error":', 1, true) then rpc_errors = rpc_errors + 1 end
end

function done(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  for _, thread in ipairs(threads) do errors = errors + (thread:get("rpc_errors") or 0) end
  local seconds = summary.duration / 1e6
  io.write(string.format("http %s: %d requests in %.1f s = %.0f req/s, p50 %.3f ms, p99 %.3f ms, errors %d\n",
                         rpc_method, summary.requests, seconds, summary.requests / seconds,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
end
